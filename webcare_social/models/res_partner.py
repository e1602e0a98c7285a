from datetime import timedelta

from babel.dates import format_timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Command, Domain
from odoo.tools.misc import babel_locale_parse

from ..tools import handles, phones, render

BANNER_DAYS = 30


class ResPartner(models.Model):
    _inherit = "res.partner"

    webcare_identity_ids = fields.One2many(
        "webcare.identity", "partner_id", string="Social identities"
    )
    webcare_identity_count = fields.Integer(
        compute="_compute_webcare_identity_count", string="Social"
    )
    webcare_can_edit_identities = fields.Boolean(
        compute="_compute_webcare_can_edit_identities"
    )
    webcare_handle = fields.Char(
        string="Social handle",
        compute="_compute_webcare_handle",
        search="_search_webcare_handle",
        help="Search contacts by one of their social handles, e.g. @AnnaDV.",
    )
    webcare_banner = fields.Char(
        compute="_compute_webcare_banner",
        groups="base.group_user",
        string="Recent social activity",
        help="The contact's latest social message and open tickets, for anyone "
        "who talks to them.",
    )
    # the caller lookup compares E.164 numbers and normalised e-mails: index
    # them like crm.lead does, and names for "contains" searches
    phone_sanitized = fields.Char(index="btree_not_null")
    _webcare_email_idx = models.Index(
        "(email_normalized) WHERE email_normalized IS NOT NULL"
    )
    _webcare_name_trgm_idx = models.Index("USING gin (name gin_trgm_ops)")

    # ------------------------------------------------------------------
    # Computes and search
    # ------------------------------------------------------------------

    @api.depends("webcare_identity_ids")
    def _compute_webcare_identity_count(self):
        counts = dict(
            self.env["webcare.identity"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.webcare_identity_count = counts.get(partner._origin, 0)

    @api.depends_context("uid")
    def _compute_webcare_can_edit_identities(self):
        can_edit = self.env.user.has_group("webcare_social.group_webcare_agent")
        self.webcare_can_edit_identities = can_edit

    @api.depends_context("uid", "lang")
    def _compute_webcare_banner(self):
        for partner in self:
            partner.webcare_banner = partner._webcare_banner_text() or False

    def _webcare_banner_text(self):
        """ "Posted on X 2 hours ago: '…' — HT00042 open", or None."""
        if not self._origin.id:
            return None
        since = fields.Datetime.now() - timedelta(days=BANNER_DAYS)
        message = (
            self.env["webcare.message"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self._origin.id),
                    ("direction", "=", "inbound"),
                    ("state", "!=", "failed"),
                    ("is_repost", "=", False),
                    ("ignore_reason", "=", False),
                    ("posted_at", ">=", since),
                    ("company_id", "in", self.env.companies.ids),
                ],
                order="posted_at desc, id desc",
                limit=1,
            )
        )
        if not message:
            return None
        return message._banner_text() + self._webcare_open_tickets_text()

    def _webcare_open_tickets_text(self):
        tickets = (
            self.env["helpdesk.ticket"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self._origin.commercial_partner_id.id),
                    ("closed", "=", False),
                ],
                order="create_date desc",
            )
        )
        if not tickets:
            return ""
        if len(tickets) == 1:
            return " — " + self.env._("%(number)s open", number=tickets.number)
        return " — " + self.env._(
            "%(number)s and %(count)s more open",
            number=tickets[0].number,
            count=len(tickets) - 1,
        )

    @api.model
    def _webcare_age(self, moment):
        """ "2 hours ago" in the user's language."""
        locale = babel_locale_parse(self.env.lang or "en_US")
        delta = moment - fields.Datetime.now()
        return format_timedelta(delta, add_direction=True, locale=locale)

    @api.depends("webcare_identity_ids.handle")
    def _compute_webcare_handle(self):
        for partner in self:
            partner.webcare_handle = ", ".join(
                f"@{handle}" for handle in partner.webcare_identity_ids.mapped("handle")
            )

    def _search_webcare_handle(self, operator, value):
        """Contacts having an identity whose handle matches ``value``.

        The ``@``, case and surrounding spaces of ``value`` do not matter.
        """
        if operator not in ("ilike", "=", "=ilike", "in"):
            return NotImplemented
        if not self.env["webcare.identity"].has_access("read"):
            return Domain.FALSE
        values = value if operator == "in" else [value]
        keys = [k for k in (self._handle_key(v) for v in values) if k]
        if not keys:
            return Domain.FALSE
        if operator == "ilike":
            return Domain.OR(
                Domain("webcare_identity_ids.handle_normalized", "like", key)
                for key in keys
            )
        return Domain("webcare_identity_ids.handle_normalized", "in", keys)

    @api.model
    def _handle_key(self, value):
        try:
            return handles.normalize_handle(value) if isinstance(value, str) else ""
        except ValueError:
            return ""

    @api.model
    def _search_display_name(self, operator, value):
        """Let ``@handle`` typed in any contact field find its contact."""
        domain = super()._search_display_name(operator, value)
        if (
            operator in ("ilike", "=", "=ilike")
            and handles.looks_like_handle(value)
            and domain is not NotImplemented
        ):
            domain = Domain.OR([domain, [("webcare_handle", "=", value)]])
        return domain

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        """Removing an identity from a contact unlinks it; it is never deleted."""
        commands = vals.get("webcare_identity_ids")
        if commands:
            vals = dict(vals, webcare_identity_ids=self._unlink_not_delete(commands))
        return super().write(vals)

    @api.model
    def _unlink_not_delete(self, commands):
        kept, to_unlink = [], []
        for command in commands:
            if command[0] in (Command.DELETE, Command.UNLINK):
                to_unlink.append(command[1])
            else:
                kept.append(command)
        self.env["webcare.identity"].browse(to_unlink).action_unlink_partner()
        return kept

    # ------------------------------------------------------------------
    # Public API: caller lookup and timeline
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def webcare_lookup(self, query, limit=5):
        """Find the people a caller may be, strongest match first.

        ``query`` is a phone number in any notation, an e-mail address, a
        handle (``@name``, also an earlier one), a ticket number or a name.
        Each result is a dict: ``partner_id`` (``None`` when the person is
        only known by a social identity), ``name``, ``matched_by`` (``phone``,
        ``dm_phone``, ``email``, ``dm_email``, ``handle``, ``ticket``,
        ``name``), ``evidence``, ``identity_id``, ``identities``,
        ``open_tickets`` and ``last_messages`` (DM text only for Webcare
        users). Nobody found: an empty list.
        """
        Lookup = self.env["webcare.lookup"]
        return [Lookup._result(match) for match in Lookup._find(query, int(limit))]

    @api.readonly
    def webcare_timeline(
        self, limit=50, offset=0, channels=None, date_from=None, date_to=None
    ):
        """Return the contact's events, newest first, as dicts.

        Social messages in and out, tickets opened and closed, e-mails and
        notes on the contact and its tickets, and calls; for a company also
        those of its contacts. Keys: ``date``, ``kind`` (``post``, ``dm``,
        ``ticket_opened``, ``ticket_closed``, ``email``, ``note``, ``call``),
        ``channel`` (a network code, ``helpdesk``, ``email``, ``note`` or
        ``phone``), ``direction``, ``summary``, ``res_model``, ``res_id``,
        ``url``, and ``title``, ``author``, ``redacted``, ``ticket_id``,
        ``ticket_number``. ``channels`` keeps only those channels.
        """
        self.ensure_one()
        return self.env["webcare.timeline"]._events(
            self,
            limit=int(limit),
            offset=int(offset),
            channels=channels,
            date_from=date_from,
            date_to=date_to,
        )

    @api.readonly
    def webcare_timeline_page(self, limit=20, offset=0, channels=None, period=None):
        """One page for the timeline component: events, more or not, filters."""
        self.ensure_one()
        Timeline = self.env["webcare.timeline"]
        events = Timeline._events(
            self, limit=limit + 1, offset=offset, channels=channels, period=period
        )
        return {
            "events": events[:limit],
            "has_more": len(events) > limit,
            "channels": Timeline._channel_options(),
        }

    @api.model
    @api.readonly
    def webcare_lookup_screen(
        self, query=None, phone=None, email=None, handle=None, call_id=None
    ):
        """Everything the caller lookup screen shows, in one call."""
        Lookup = self.env["webcare.lookup"]
        text = query or phone or email or (handle and "@" + handle.lstrip("@")) or ""
        matches = Lookup._find(text) if text.strip() else []
        results = [self._webcare_screen_result(m) for m in matches]
        if results and results[0]["partner_id"]:
            results[0]["timeline"] = self.browse(
                results[0]["partner_id"]
            ).webcare_timeline_page()
        return {
            "query": text,
            "results": results,
            "unknown": None
            if results or not text.strip()
            else self._webcare_unknown(text),
            "call": self.env["webcare.call"]._screen_dict(call_id),
            "incidents": Lookup._open_incidents(),
            "can_link": self.env.user.has_group("webcare_social.group_webcare_agent"),
        }

    @api.model
    def _webcare_screen_result(self, match):
        result = self.env["webcare.lookup"]._result(match)
        partner = match.partner
        result.update(
            {
                "key": "-".join(map(str, match.key)),
                "photo": f"/web/image/res.partner/{partner.id}/avatar_128"
                if partner
                else None,
                "company": partner.parent_id.name or None if partner else None,
                "phone": partner.phone or None if partner else None,
                "email": partner.email or None if partner else None,
                "banner": partner.webcare_banner or None if partner else None,
                "is_company": partner.is_company if partner else False,
            }
        )
        return result

    @api.model
    def _webcare_unknown(self, text):
        """What "create contact" is prefilled with for an unknown caller."""
        Lookup = self.env["webcare.lookup"]
        e164 = Lookup._e164(text)
        typed_number = bool(e164) or phones.looks_like_phone(text)
        return {
            "phone": e164 or (text if typed_number else None),
            "email": text if "@" in text and not text.startswith("@") else None,
            "name": None if typed_number or "@" in text else render.shorten(text, 60),
        }

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_view_webcare_identities(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.webcare_identity_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Privacy: export a person's data, forget them
    # ------------------------------------------------------------------

    def webcare_export_personal_data(self):
        """Return this contact's data as a plain, JSON-ready dict.

        The contact, its social identities, its messages in and out, calls
        and tickets with the chatter the user may read (see
        ``webcare.personal.data``). For Webcare users who may read the contact.

        :raise AccessError: the user may not read the contact or is no Webcare user
        """
        self.ensure_one()
        self.check_access("read")
        if not self.env.user.has_group("webcare_social.group_webcare_agent"):
            raise AccessError(
                self.env._("Only Webcare users can export a person's data.")
            )
        return self.env["webcare.personal.data"]._export(self)

    def action_webcare_export_personal_data(self):
        """Download the contact's data as one JSON file."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/webcare/partner/{self.id}/personal-data",
            "target": "download",
        }

    def action_webcare_forget(self):
        """Open the confirmation of the erasure (Webcare managers)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.webcare_forget_action"
        )
        action["context"] = {"default_partner_id": self.id}
        return action
