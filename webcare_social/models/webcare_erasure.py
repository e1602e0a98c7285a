import logging
import re
from dataclasses import dataclass

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command, Domain
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, email_normalize, email_normalize_all, is_html_empty

from ..tools.personal_terms import PersonalTerms

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "webcare_social.group_webcare_manager"
# a customer's posts and DMs (and our replies) in a ticket's chatter
SOCIAL_SUBTYPES = ("webcare_social.mt_webcare_post", "webcare_social.mt_webcare_dm")
# chatter that people wrote (notes, e-mails): on the person's ticket it is
# about them, so it is always emptied; system messages only when they name them
WRITTEN_TYPES = ("comment", "email", "email_outgoing", "auto_comment")
# idempotency keys made by our own code carry no data: a uuid, or record ids
SAFE_KEY = re.compile(r"^(?:[0-9a-f]{32}|webcare-incident-\d+-ticket-\d+)$")
ACTIVE_IMPORT_STATES = ("queued", "storing", "processing")
# no tracking, no log, no follower: nothing of the erasure may write the old
# values somewhere else
QUIET = {
    "tracking_disable": True,
    "mail_notrack": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "active_test": False,
}
# what a social message keeps: channel, kind, direction, state, times,
# language, ticket and contact (anonymised), so the statistics stay
ERASED_MESSAGE_VALS = {
    "body": False,
    "payload": False,
    "author_external_id": False,
    "author_handle": False,
    "author_name": False,
    "author_followers": 0,
    "author_verified": False,
    "url": False,
    "conversation_ref": False,
    "parent_ref": False,
    "recipient_ref": False,
    "error": False,
    "error_detail": False,
}
# a chatter message about the person: its text and its addresses
EMPTIED_CHATTER_VALS = {
    "body": "",
    "subject": False,
    "email_from": False,
    "reply_to": False,
    "incoming_email_to": False,
    "incoming_email_cc": False,
    "outgoing_email_to": False,
}
ERASED_CALL_VALS = {
    "phone": False,
    "phone_e164": False,
    "note": False,
    "external_ref": False,
}
# contact fields that are emptied (those this database has)
PARTNER_CLEARED = (
    "email",
    "phone",
    "mobile",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "country_id",
    "website",
    "comment",
    "image_1920",
    "vat",
    "ref",
    "function",
    "company_registry",
    "company_name",
    "parent_id",
    "barcode",
    "title",
)


@dataclass
class ErasureScope:
    """What belongs to one person, found before anything is changed."""

    partner: models.BaseModel
    identities: models.BaseModel
    messages: models.BaseModel
    tickets: models.BaseModel
    calls: models.BaseModel
    email: str
    numbers: set


class WebcareErasure(models.Model):
    """The record that a person was forgotten: when, by whom, how much.

    ``_forget`` erases a contact's social data (GDPR erasure) in one
    transaction and creates this record. It keeps counts only, never what
    was erased; ``partner_id`` is the contact as it is now, anonymised and
    archived, so documents that point to it keep working.
    """

    _name = "webcare.erasure"
    _description = "Erasure of a person's data"
    _order = "erased_at desc, id desc"

    name = fields.Char(string="Contact now called", readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        readonly=True,
        ondelete="set null",
        context={"active_test": False},
    )
    erased_at = fields.Datetime(
        string="Erased on", required=True, readonly=True, default=fields.Datetime.now
    )
    user_id = fields.Many2one(
        "res.users", string="Erased by", readonly=True, ondelete="set null"
    )
    identity_count = fields.Integer(string="Social identities", readonly=True)
    handle_count = fields.Integer(string="Earlier handles", readonly=True)
    message_count = fields.Integer(string="Social messages", readonly=True)
    evidence_count = fields.Integer(string="Details found in messages", readonly=True)
    delivery_count = fields.Integer(string="Webhook bodies", readonly=True)
    file_count = fields.Integer(string="Imported files", readonly=True)
    call_count = fields.Integer(string="Calls", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    chatter_deleted_count = fields.Integer(
        string="Chatter messages deleted", readonly=True
    )
    chatter_emptied_count = fields.Integer(
        string="Chatter messages emptied", readonly=True
    )
    tracking_count = fields.Integer(string="Tracked changes", readonly=True)
    attachment_count = fields.Integer(string="Attachments", readonly=True)
    activity_count = fields.Integer(string="Activities", readonly=True)
    mail_count = fields.Integer(string="E-mails and SMS", readonly=True)

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------

    @api.model
    def _forget(self, partner):
        """Erase everything that identifies ``partner``; return the erasure.

        Runs in a savepoint of the current transaction and never commits:
        any failure puts everything back as it was and is reported as a
        ``UserError``.

        :raise AccessError: the user is no Webcare manager
        :raise UserError: the contact cannot be forgotten, or the erasure failed
        """
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Webcare managers can forget a person."))
        partner.ensure_one()
        quiet = self.sudo().with_context(**QUIET)
        partner = partner.with_env(quiet.env)
        quiet._check_forgettable(partner)
        # tracking of earlier changes in this transaction is only written at
        # commit: write it now, so that it is erased too
        self.env.flush_all()
        self.env.cr.precommit.run()
        try:
            with self.env.cr.savepoint():
                erasure = quiet._erase(partner)
        except (UserError, AccessError, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
            raise
        except Exception as exc:
            _logger.error(
                "Forgetting contact %s failed; nothing was erased.",
                partner.id,
                exc_info=True,
            )
            raise UserError(
                self.env._(
                    "Nothing was erased: the erasure stopped on an error and "
                    "everything was put back as it was. Try again; if it fails "
                    "again, give your administrator this error: %(error)s",
                    error=(str(exc).strip().splitlines() or [type(exc).__name__])[0],
                )
            ) from exc
        return self.browse(erasure.id)

    def _check_forgettable(self, partner):
        """Refuse contacts that are a user or a company of this database."""
        if partner.user_ids:
            raise UserError(
                self.env._(
                    "This contact belongs to a user of this database. Delete or "
                    "archive the user (and its contact) in Settings instead."
                )
            )
        if self.env["res.company"].search_count([("partner_id", "=", partner.id)]):
            raise UserError(
                self.env._("A company of this database cannot be forgotten.")
            )

    def _erase(self, partner):
        scope = self._scope(partner)
        self._check_imports(scope.messages)
        terms = self._terms(scope)
        erasure = self.create({"user_id": self.env.uid})
        name = self.env._("Forgotten person %(number)s", number=erasure.id)
        counts = {
            **self._erase_sources(scope.messages),
            **self._erase_messages(scope),
            **self._erase_identities(scope.identities),
            "call_count": self._erase_calls(scope.calls),
        }
        _add(counts, self._erase_tickets(scope, terms))
        _add(counts, self._erase_partner(partner, name))
        _add(counts, self._erase_elsewhere(scope, name))
        partner.action_archive()
        erasure.write({**counts, "name": name, "partner_id": partner.id})
        self.env.flush_all()
        return erasure

    # ------------------------------------------------------------------
    # What belongs to the person
    # ------------------------------------------------------------------

    @api.model
    def _scope(self, partner):
        """The identities, messages, tickets and calls of ``partner``.

        Messages they wrote (through their identities or the contact) and our
        replies to them; tickets of the contact, of their identities or of
        their messages; calls of the contact, recognised through an identity,
        or from one of their numbers.
        """
        identities = self.env["webcare.identity"].search(
            [("partner_id", "=", partner.id)]
        )
        Message = self.env["webcare.message"]
        messages = Message.search(
            Domain("partner_id", "=", partner.id)
            | Domain("identity_id", "in", identities.ids)
        )
        tickets = self.env["helpdesk.ticket"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("webcare_identity_id", "in", identities.ids)
            | Domain("id", "in", messages.ticket_id.ids)
        )
        messages |= Message.search(
            [
                ("direction", "=", "outbound"),
                ("ticket_id", "in", tickets.ids),
                ("partner_id", "in", [False, partner.id]),
            ]
        )
        numbers = {partner.phone_sanitized} | set(
            messages.evidence_ids.filtered(lambda e: e.kind == "phone").mapped("value")
        )
        numbers = {n for n in numbers if n}
        calls = self.env["webcare.call"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("identity_id", "in", identities.ids)
            | Domain("phone_e164", "in", list(numbers))
        )
        return ErasureScope(
            partner, identities, messages, tickets, calls, partner.email, numbers
        )

    def _check_imports(self, messages):
        running = self.env["webcare.file.import"].search_count(
            [("message_ids", "in", messages.ids), ("state", "in", ACTIVE_IMPORT_STATES)]
        )
        if running:
            raise UserError(
                self.env._(
                    "A file import with messages of this person is still running. "
                    "Forget them once it is done."
                )
            )

    @api.model
    def _terms(self, scope):
        """What identifies the person in free text (notes, e-mails)."""
        partner, identities = scope.partner, scope.identities
        messages, calls = scope.messages, scope.calls
        evidence = messages.evidence_ids
        words = [
            partner.name,
            partner.email,
            partner.street,
            partner.vat,
            partner.website,
            *identities.mapped("handle"),
            *identities.mapped("name"),
            *identities.previous_handle_ids.mapped("handle"),
            *messages.mapped("author_handle"),
            *messages.mapped("author_name"),
            *messages.mapped("body"),
            *scope.tickets.mapped("name"),
            *scope.tickets.mapped("partner_name"),
            *scope.tickets.mapped("partner_email"),
            *calls.mapped("note"),
            *evidence.filtered(lambda e: e.kind != "phone").mapped("value"),
        ]
        phones = [partner.phone, *scope.numbers, *calls.mapped("phone")]
        return PersonalTerms([w for w in words if w], [p for p in phones if p])

    # ------------------------------------------------------------------
    # Social data
    # ------------------------------------------------------------------

    def _erase_sources(self, messages):
        """Remove the raw webhook bodies and imported files of ``messages``.

        Their other items live on as messages with their own payload.
        """
        deliveries = self.env["webcare.webhook.delivery"].search(
            [("message_ids", "in", messages.ids)]
        )
        deliveries.write({"body": False, "error": False})
        imports = self.env["webcare.file.import"].search(
            [("message_ids", "in", messages.ids)]
        )
        self._attachments("webcare.file.import", imports.ids).unlink()
        imports.write({"dry_run_html": False, "error": False})
        imports.column_ids.write({"sample": False})
        return {"delivery_count": len(deliveries), "file_count": len(imports)}

    def _erase_messages(self, scope):
        messages = scope.messages
        evidence = self.env["webcare.evidence"].search(
            Domain("message_id", "in", messages.ids)
            | Domain("identity_id", "in", scope.identities.ids)
        )
        evidence_count = len(evidence)
        evidence.unlink()
        messages.write(ERASED_MESSAGE_VALS)
        messages.filtered(
            lambda m: m.idempotency_key and not SAFE_KEY.match(m.idempotency_key)
        ).write({"idempotency_key": False})
        # drafts of replies to them
        self.env["webcare.reply.composer"].search(
            [("ticket_id", "in", scope.tickets.ids)]
        ).unlink()
        return {"message_count": len(messages), "evidence_count": evidence_count}

    def _erase_identities(self, identities):
        counts = {
            "identity_count": len(identities),
            "handle_count": len(identities.previous_handle_ids),
        }
        identities.unlink()
        return counts

    def _erase_calls(self, calls):
        calls.write(ERASED_CALL_VALS)
        return len(calls)

    # ------------------------------------------------------------------
    # Tickets and chatter
    # ------------------------------------------------------------------

    def _erase_tickets(self, scope, terms):
        """Neutral tickets: no title, description, customer details or posts."""
        tickets = scope.tickets
        chatter = self._chatter("helpdesk.ticket", tickets.ids)
        subtypes = [self.env.ref(xmlid).id for xmlid in SOCIAL_SUBTYPES]
        social = chatter.filtered(lambda m: m.subtype_id.id in subtypes)
        kept = chatter - social
        about = kept.filtered(
            lambda m: m.message_type in WRITTEN_TYPES
            or m.author_id == scope.partner
            or terms.found_in(m.body)
            or terms.found_in(m.subject)
            or terms.found_in(m.email_from)
        )
        # a tracked change without text says nothing once its values are gone
        changes = (kept - about).filtered(
            lambda m: m.tracking_value_ids and is_html_empty(m.body)
        )
        counts = self._erase_chatter(chatter, deleted=social | changes, emptied=about)
        kept.exists().write({"subject": False})
        tickets.write(
            {
                "name": self.env._("Personal data erased"),
                "description": Markup("<p>%s</p>")
                % self.env._("The personal data of this ticket was erased."),
                "partner_name": False,
                "partner_email": False,
                "email_cc": False,
            }
        )
        activities = self._activities("helpdesk.ticket", tickets.ids)
        activities.filtered(
            lambda a: terms.found_in(a.note) or terms.found_in(a.summary)
        ).write({"note": False, "summary": False})
        # the document name was stored when the activity was planned
        self.env.add_to_compute(activities._fields["res_name"], activities)
        counts["ticket_count"] = len(tickets)
        return counts

    def _erase_chatter(self, chatter, deleted, emptied):
        """Delete ``deleted``, empty ``emptied``; drop the tracking of ``chatter``.

        Their attachments and the e-mails made of them go too.
        """
        tracking = chatter.sudo().tracking_value_ids
        attachments = (deleted | emptied).attachment_ids
        mails = self.env["mail.mail"].search([("mail_message_id", "in", chatter.ids)])
        counts = {
            "tracking_count": len(tracking),
            "attachment_count": len(attachments),
            "mail_count": len(mails),
            "chatter_deleted_count": len(deleted),
            "chatter_emptied_count": len(emptied),
        }
        mails.unlink()  # a mail that is no notification takes its message along
        tracking.unlink()
        attachments.unlink()
        self.env["mail.message.link.preview"].search(
            [("message_id", "in", emptied.ids)]
        ).unlink()
        deleted.exists().unlink()
        emptied.exists().write(EMPTIED_CHATTER_VALS)
        return counts

    # ------------------------------------------------------------------
    # The contact
    # ------------------------------------------------------------------

    def _erase_partner(self, partner, name):
        """A neutral contact: no details, picture, chatter, files or activities."""
        chatter = self._chatter("res.partner", partner.ids)
        counts = self._erase_chatter(chatter, deleted=chatter, emptied=chatter.browse())
        activities = self._activities("res.partner", partner.ids)
        counts["activity_count"] = len(activities)
        activities.unlink()
        vals = {f: False for f in PARTNER_CLEARED if f in partner._fields}
        partner.write({**vals, "name": name, "category_id": [Command.clear()]})
        files = self._attachments("res.partner", partner.ids)
        counts["attachment_count"] += len(files)
        files.unlink()
        return counts

    def _erase_elsewhere(self, scope, name):
        """What names the person outside their records.

        Tracked changes of other documents that show the contact's name, the
        sender address of what they wrote elsewhere, e-mails and SMS to them
        that wait to be sent.
        """
        partner = scope.partner
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE mail_tracking_value v
                      SET old_value_char = CASE WHEN v.old_value_integer = %(id)s
                                           THEN %(name)s ELSE v.old_value_char END,
                          new_value_char = CASE WHEN v.new_value_integer = %(id)s
                                           THEN %(name)s ELSE v.new_value_char END
                     FROM ir_model_fields f
                    WHERE f.id = v.field_id AND f.relation = 'res.partner'
                      AND %(id)s IN (v.old_value_integer, v.new_value_integer)""",
                id=partner.id,
                name=name,
            )
        )
        self.env.invalidate_all()
        self.env["mail.message"].search([("author_id", "=", partner.id)]).write(
            {"email_from": False}
        )
        mails = self._mails_to(partner, scope.email)
        sms = self._sms_to(partner, scope.numbers)
        count = len(mails) + len(sms)
        mails.unlink()
        sms.unlink()
        return {"mail_count": count}

    def _mails_to(self, partner, email):
        to_them = Domain("recipient_ids", "in", partner.ids)
        address = email_normalize(email or "")
        if not address:
            return self.env["mail.mail"].search(to_them)
        mails = self.env["mail.mail"].search(
            to_them | Domain("email_to", "ilike", address)
        )
        return mails.filtered(
            lambda mail: partner in mail.recipient_ids
            or address in email_normalize_all(mail.email_to or "")
        )

    def _sms_to(self, partner, numbers):
        if "sms.sms" not in self.env:
            return self.browse()
        return self.env["sms.sms"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("number", "in", list(numbers))
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _chatter(self, model, ids):
        return self.env["mail.message"].search(
            [("model", "=", model), ("res_id", "in", ids)]
        )

    def _activities(self, model, ids):
        return self.env["mail.activity"].search(
            [("res_model", "=", model), ("res_id", "in", ids)]
        )

    def _attachments(self, model, ids):
        """All attachments of the records, those of binary fields included."""
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", model),
                ("res_id", "in", ids),
                "|",
                ("res_field", "=", False),
                ("res_field", "!=", False),
            ]
        )


def _add(counts, more):
    """Add the counts of ``more`` to ``counts``."""
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value
