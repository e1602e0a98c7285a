from dataclasses import dataclass, field

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, email_normalize
from odoo.tools.misc import format_date

from ..tools import lookup_query, phones, render, tone

# how a result was found, strongest first
MATCH_STRENGTH = ("phone", "handle", "email", "ticket", "dm_phone", "dm_email", "name")
NAME_SIMILARITY = 0.45
LAST_MESSAGES = 3
OPEN_TICKETS = 10


@dataclass
class Match:
    """One person found by the lookup: a contact, or only a social identity.

    ``evidence`` is the ``webcare.evidence`` row behind a ``dm_*`` match.
    """

    how: str
    partner: models.BaseModel
    identity: models.BaseModel
    evidence: models.BaseModel = None
    extra: dict = field(default_factory=dict)

    @property
    def key(self):
        if self.partner:
            return ("partner", self.partner.id)
        return ("identity", self.identity.id)

    @property
    def rank(self):
        return MATCH_STRENGTH.index(self.how)


class WebcareLookup(models.AbstractModel):
    """Find the person behind a phone number, e-mail, handle, ticket or name.

    The engine of the caller lookup screen, of ``res.partner.webcare_lookup``
    and of incoming calls. Phone numbers are compared in E.164 (the indexed
    ``phone_sanitized``), never with ``ilike`` on the raw text; numbers that
    customers sent us in posts and DMs (``webcare.evidence``) recognise their
    author's identity even without a contact.
    """

    _name = "webcare.lookup"
    _description = "Caller lookup"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _find(self, text, limit=5):
        """Return the best ``Match`` objects for a search term, strongest first."""
        self._check_internal()
        query = lookup_query.parse_query(text, self._ticket_prefixes())
        matches = []
        if query.phone:
            matches += self._by_phone(self._e164(query.phone))
        if query.handle:
            matches += self._by_handle(query.handle)
        if query.email:
            matches += self._by_email(query.email)
        if query.ticket:
            matches += self._by_ticket(query.ticket)
        if query.name:
            matches += self._by_name(query.name, limit)
        return self._rank(matches)[:limit]

    @api.model
    def _match_phone(self, e164):
        """Return the best ``Match`` for an E.164 number, or ``None``."""
        matches = self._rank(self._by_phone(e164))
        return matches[0] if matches else None

    @api.model
    def _check_internal(self):
        if not self.env.user._is_internal():
            raise AccessError(self.env._("The caller lookup is for internal users."))

    @api.model
    def _e164(self, raw):
        """E.164 of a number typed in any notation, read in the company's country."""
        region = self.env.company.country_id.code or self.env.user.country_id.code
        return phones.to_e164(raw, region)

    @api.model
    def _ticket_prefixes(self):
        sequence = self.env.ref(
            "helpdesk_mgmt.helpdesk_ticket_sequence", raise_if_not_found=False
        )
        return tuple(filter(None, [sequence.sudo().prefix if sequence else "HT"]))

    @api.model
    def _open_incidents(self):
        """Open surge incidents phone agents should know of, as dicts:
        ``{id, name, channel, started, volume, tickets, top_words}``."""
        return self.env["webcare.incident"]._lookup_open()

    @api.model
    def _rank(self, matches):
        """Keep each person once, with the strongest way they were found."""
        best = {}
        for match in sorted(matches, key=lambda m: m.rank):
            best.setdefault(match.key, match)
        return list(best.values())

    # ------------------------------------------------------------------
    # Ways to find someone
    # ------------------------------------------------------------------

    @api.model
    def _by_phone(self, e164):
        if not e164:
            return []
        partners = self.env["res.partner"].search(
            [("phone_sanitized", "=", e164)], limit=10
        )
        return [Match("phone", p, p.webcare_identity_ids[:1]) for p in partners] + (
            self._by_evidence("phone", e164, "dm_phone")
        )

    @api.model
    def _by_email(self, email):
        normalized = email_normalize(email, strict=False) or email
        partners = self.env["res.partner"].search(
            [("email_normalized", "=", normalized)], limit=10
        )
        return [Match("email", p, p.webcare_identity_ids[:1]) for p in partners] + (
            self._by_evidence("email", normalized, "dm_email")
        )

    @api.model
    def _by_evidence(self, kind, value, how):
        """Authors who wrote ``value`` in a post or DM, newest evidence first."""
        rows = (
            self.env["webcare.evidence"]
            .sudo()
            .search(
                [
                    ("kind", "=", kind),
                    ("value", "=", value),
                    ("identity_id", "!=", False),
                    ("company_id", "in", self.env.companies.ids),
                ],
                limit=20,
            )
        )
        return [
            Match(how, row.identity_id.partner_id.sudo(False), row.identity_id, row)
            for row in rows
        ]

    @api.model
    def _by_handle(self, key):
        Identity = self.env["webcare.identity"]
        current = Identity.search([("handle_normalized", "=", key)], limit=10)
        earlier = (
            self.env["webcare.identity.handle"]
            .search([("handle_normalized", "=", key)], limit=10)
            .identity_id
        )
        return [
            Match(
                "handle", i.partner_id, i, extra={"old_handle": i in earlier - current}
            )
            for i in current | earlier
        ]

    @api.model
    def _by_ticket(self, number):
        tickets = self.env["helpdesk.ticket"].search([("number", "=", number)], limit=1)
        return [
            Match("ticket", t.partner_id, t.webcare_identity_id, extra={"ticket": t})
            for t in tickets
            if t.partner_id or t.webcare_identity_id
        ]

    @api.model
    def _by_name(self, name, limit):
        """Contacts, then contact-less identities, whose name contains ``name``."""
        Partner = self.env["res.partner"]
        query = Partner._search([("name", "ilike", name)])
        query.order = SQL(
            "lower(%s) = lower(%s) DESC, %s ILIKE %s DESC, length(%s), %s",
            *(SQL.identifier(Partner._table, "name"), name),
            *(SQL.identifier(Partner._table, "name"), f"{name}%"),
            SQL.identifier(Partner._table, "name"),
            SQL.identifier(Partner._table, "id"),
        )
        query.limit = limit
        partners = Partner.browse(query)
        identities = self.env["webcare.identity"].search(
            [("name", "ilike", name), ("partner_id", "=", False)], limit=limit
        )
        return [Match("name", p, p.webcare_identity_ids[:1]) for p in partners] + [
            Match("name", Partner, i) for i in identities
        ]

    # ------------------------------------------------------------------
    # Results as data
    # ------------------------------------------------------------------

    @api.model
    def _result(self, match):
        """Return the public dict of one ``Match`` (``res.partner.webcare_lookup``)."""
        partner, identity = match.partner, match.identity
        identities = partner.webcare_identity_ids if partner else identity
        return {
            "partner_id": partner.id or None,
            "name": partner.name or identity.name or identity.display_name,
            "matched_by": match.how,
            "evidence": self._evidence_sentence(match),
            "identity_id": identity.id or None,
            "identities": [self._identity_dict(i) for i in identities],
            "open_tickets": self._open_tickets(partner, identity),
            "last_messages": self._last_messages(partner, identity),
        }

    @api.model
    def _evidence_sentence(self, match):
        """Why this result: "Probably @bram_nl: sent this number by DM on 20 Nov"."""
        row, handle = match.evidence, match.identity.handle
        if row:
            where = self.env._("by DM") if row.private else self.env._("in a post")
            what = (
                self.env._("this number")
                if row.kind == "phone"
                else self.env._("this e-mail address")
            )
            return self.env._(
                "Probably @%(handle)s: sent %(what)s %(where)s on %(date)s",
                handle=handle,
                what=what,
                where=where,
                date=format_date(self.env, row.found_at, date_format="d MMM"),
            )
        if match.extra.get("old_handle"):
            return self.env._("Used this handle before; now @%(handle)s", handle=handle)
        if match.extra.get("ticket"):
            return self.env._(
                "Customer of ticket %(number)s", number=match.extra["ticket"].number
            )
        return None

    @api.model
    def _identity_dict(self, identity):
        return {
            "id": identity.id,
            "network": identity.network,
            "handle": identity.handle,
            "name": identity.name or "",
            "followers": identity.followers_count,
            "profile_url": identity.profile_url or None,
        }

    @api.model
    def _open_tickets(self, partner, identity):
        """Open tickets of the person; titles only where the user may read them."""
        Ticket = self.env["helpdesk.ticket"].sudo()
        who = (
            [("partner_id", "child_of", partner.commercial_partner_id.id)]
            if partner
            else [("webcare_identity_id", "=", identity.id)]
        )
        tickets = Ticket.search(
            [
                *who,
                ("closed", "=", False),
                ("company_id", "in", self.env.companies.ids),
            ],
            order="priority desc, create_date desc",
            limit=OPEN_TICKETS,
        )
        readable = tickets.sudo(False)._filtered_access("read")
        return [self._ticket_dict(t, t in readable) for t in tickets]

    @api.model
    def _ticket_dict(self, ticket, readable):
        return {
            "id": ticket.id,
            "number": ticket.number,
            "name": ticket.name if readable else None,
            "stage": ticket.stage_id.name,
            "priority": ticket.priority,
            "opened": fields.Datetime.to_string(
                ticket.webcare_posted_at or ticket.create_date
            ),
            "social": bool(ticket.webcare_channel_id),
            "sla": ticket._webcare_sla_summary(),
            "readable": readable,
        }

    @api.model
    def _last_messages(self, partner, identity):
        """The person's latest social messages; DM text only for Webcare users."""
        who = (
            [("partner_id", "=", partner.id)]
            if partner
            else [("identity_id", "=", identity.id)]
        )
        messages = (
            self.env["webcare.message"]
            .sudo()
            .search(
                [
                    *who,
                    ("state", "!=", "failed"),
                    ("is_repost", "=", False),
                    ("ignore_reason", "in", [False, "own_post"]),
                    ("company_id", "in", self.env.companies.ids),
                ],
                order="posted_at desc, id desc",
                limit=LAST_MESSAGES,
            )
        )
        can_read_dm = self.env["webcare.message"]._can_read_dm()
        return [self._message_dict(m, can_read_dm) for m in messages]

    @api.model
    def _message_dict(self, message, can_read_dm):
        hidden = message.kind == "dm" and not can_read_dm
        text = message._readable_body()
        return {
            "id": message.id,
            "date": fields.Datetime.to_string(message.posted_at),
            "network": message.channel_id.provider,
            "kind": message.kind,
            "direction": message.direction,
            "text": None if hidden else text,
            "excerpt": None if hidden else render.shorten(text, 140),
            "tone": "negative"
            if not hidden and tone.is_negative(message.body)
            else "neutral",
            "url": message.url or None,
            "ticket_id": message.ticket_id.id or None,
            "ticket_number": message.ticket_id.number or None,
        }
