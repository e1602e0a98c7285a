from datetime import timezone

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import html2plaintext

EXPORT_FORMAT = "webcare_social.personal_data.v1"


class WebcarePersonalData(models.AbstractModel):
    """A person's data as one plain dict, for data portability (GDPR art. 20).

    Everything is read as the current user: record rules decide which
    messages, calls, tickets and chatter messages they may hand over, and
    DM texts are only there for Webcare users (who alone may export).
    """

    _name = "webcare.personal.data"
    _description = "Export of a person's data"

    @api.model
    def _export(self, partner):
        """Return the data of ``partner`` (one contact) as a JSON-ready dict."""
        partner.ensure_one()
        identities = partner.webcare_identity_ids
        messages = self.env["webcare.message"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("identity_id", "in", identities.ids),
            order="posted_at, id",
        )
        tickets = self.env["helpdesk.ticket"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("id", "in", messages.ticket_id.ids),
            order="create_date, id",
        )
        calls = self.env["webcare.call"].search(
            Domain("partner_id", "=", partner.id)
            | Domain("identity_id", "in", identities.ids),
            order="started_at, id",
        )
        return {
            "format": EXPORT_FORMAT,
            "exported_at": _iso(fields.Datetime.now()),
            "exported_by": self.env.user.name,
            "contact": self._contact(partner),
            "identities": [self._identity(i) for i in identities],
            "messages": [self._message(m) for m in messages],
            "calls": [self._call(c) for c in calls],
            "tickets": [self._ticket(t) for t in tickets],
        }

    # ------------------------------------------------------------------
    # One dict per record
    # ------------------------------------------------------------------

    @api.model
    def _contact(self, partner):
        return {
            "id": partner.id,
            "name": partner.name or None,
            "company": partner.parent_id.name or None,
            "function": partner.function or None,
            "email": partner.email or None,
            "phone": partner.phone or None,
            "street": partner.street or None,
            "street2": partner.street2 or None,
            "zip": partner.zip or None,
            "city": partner.city or None,
            "state": partner.state_id.name or None,
            "country": partner.country_id.name or None,
            "website": partner.website or None,
            "vat": partner.vat or None,
            "language": partner.lang or None,
            "notes": _text(partner.comment),
            "created_at": _iso(partner.create_date),
        }

    @api.model
    def _identity(self, identity):
        return {
            "network": identity.network,
            "handle": identity.handle,
            "external_id": identity.external_id or None,
            "name": identity.name or None,
            "profile_url": identity.profile_url or None,
            "linked_how": _label(identity, "link_method"),
            "linked_at": _iso(identity.linked_at),
            "linked_by": identity.linked_by_id.sudo().name or None,
            "link_note": identity.link_note or None,
            "consent": identity.consent,
            "consent_date": _iso(identity.consent_date),
            "earlier_handles": [
                {"handle": old.handle, "until": _iso(old.until)}
                for old in identity.previous_handle_ids
            ],
        }

    @api.model
    def _message(self, message):
        return {
            "network": message._author_network(),
            "channel": message.channel_id.name,
            "kind": message.kind or None,
            "direction": message.direction,
            "text": message.body or None,
            "posted_at": _iso(message.posted_at),
            "url": message.url or None,
            "ticket": message.ticket_id.sudo().number or None,
        }

    @api.model
    def _call(self, call):
        return {
            "direction": call.direction,
            "started_at": _iso(call.started_at),
            "duration_seconds": call.duration or 0,
            "phone": call.phone or None,
            "agent": call.user_id.sudo().name or None,
            "note": call.note or None,
            "ticket": call.ticket_id.sudo().number or None,
        }

    @api.model
    def _ticket(self, ticket):
        chatter = self.env["mail.message"].search(
            [
                ("model", "=", "helpdesk.ticket"),
                ("res_id", "=", ticket.id),
                ("message_type", "!=", "user_notification"),
            ],
            order="date, id",
        )
        return {
            "number": ticket.number,
            "title": ticket.name,
            "stage": ticket.stage_id.name or None,
            "created_at": _iso(ticket.create_date),
            "last_stage_update": _iso(ticket.last_stage_update),
            "closed_at": _iso(ticket.closed_date),
            "description": _text(ticket.description),
            "messages": [self._chatter_message(m) for m in chatter if _text(m.body)],
        }

    @api.model
    def _chatter_message(self, message):
        return {
            "date": _iso(message.date),
            "author": message.author_id.sudo().name or message.email_from or None,
            "type": message.message_type,
            "subtype": message.subtype_id.name or None,
            "text": _text(message.body),
        }


def _iso(moment):
    """An Odoo datetime (naive UTC) in ISO 8601 with its offset, or None."""
    if not moment:
        return None
    return moment.replace(tzinfo=timezone.utc, microsecond=0).isoformat()


def _text(html):
    text = html2plaintext(html or "").strip()
    return text or None


def _label(record, field_name):
    value = record[field_name]
    selection = dict(record._fields[field_name]._description_selection(record.env))
    return selection.get(value) if value else None
