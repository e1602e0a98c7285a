from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

NAME_SIMILARITY = 0.45
SUGGESTIONS = 5


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    # the caller lookup and the timeline search tickets by number and contact
    # (table objects, so uninstalling drops them)
    _webcare_number_idx = models.Index("(number)")
    _webcare_partner_idx = models.Index("(partner_id) WHERE partner_id IS NOT NULL")

    webcare_channel_id = fields.Many2one(
        "webcare.channel", string="Social channel", index="btree_not_null"
    )
    webcare_identity_id = fields.Many2one(
        "webcare.identity", string="Social author", index="btree_not_null"
    )
    webcare_posted_at = fields.Datetime(
        string="Posted on",
        help="When the customer posted the message that opened the ticket "
        "(not when it was imported).",
    )
    webcare_message_ids = fields.One2many(
        "webcare.message", "ticket_id", string="Social messages"
    )
    webcare_message_count = fields.Integer(compute="_compute_webcare_message_count")
    webcare_banner = fields.Char(
        related="partner_id.webcare_banner",
        string="Recent social activity",
        groups="base.group_user",
    )
    webcare_author_partner_id = fields.Many2one(
        related="webcare_identity_id.partner_id", string="Author's contact"
    )
    webcare_author_conflict = fields.Boolean(
        compute="_compute_webcare_author_conflict",
        help="The author's social identity belongs to another contact than "
        "this ticket's.",
    )

    @api.depends("webcare_message_ids")
    def _compute_webcare_message_count(self):
        counts = dict(
            self.env["webcare.message"]._read_group(
                [("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]
            )
        )
        for ticket in self:
            ticket.webcare_message_count = counts.get(ticket._origin, 0)

    @api.depends("partner_id", "webcare_identity_id.partner_id")
    def _compute_webcare_author_conflict(self):
        for ticket in self:
            owner = ticket.webcare_identity_id.partner_id
            ticket.webcare_author_conflict = bool(
                ticket.partner_id and owner and owner != ticket.partner_id
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        """Setting the contact of a social ticket links its author's identity."""
        res = super().write(vals)
        if vals.get("partner_id"):
            self.filtered("webcare_identity_id")._webcare_link_author()
        return res

    def _webcare_link_author(self):
        """Link each author's identity to the ticket's contact when it has none.

        An identity that belongs to another contact is left alone: the form
        then asks the agent to confirm the move (``action_webcare_link_author``).
        """
        for ticket in self.filtered(lambda t: not t.webcare_identity_id.partner_id):
            ticket.webcare_identity_id.sudo().write(ticket._webcare_link_vals())

    def _webcare_link_vals(self):
        return {
            "partner_id": self.partner_id.id,
            "link_method": "agent",
            "link_note": self.env._(
                "Linked from ticket %(number)s by %(user)s",
                number=self.number,
                user=self.env.user.name,
            ),
        }

    # ------------------------------------------------------------------
    # Linking the author
    # ------------------------------------------------------------------

    def action_webcare_link_author(self):
        """Move the author's identity to this ticket's contact (confirmed)."""
        self.ensure_one()
        if not (self.webcare_identity_id and self.partner_id):
            raise UserError(self.env._("Set the ticket's contact first."))
        self.webcare_identity_id.write(self._webcare_link_vals())
        return True

    def action_webcare_use_contact(self, partner_id):
        """Make ``partner_id`` the ticket's contact (a suggestion's one click)."""
        self.ensure_one()
        self.partner_id = self.env["res.partner"].browse(partner_id).exists()
        return True

    def action_webcare_create_contact(self):
        """Create the contact from the author: name, handle, number, e-mail found."""
        self.ensure_one()
        identity = self.webcare_identity_id
        if not identity:
            raise UserError(self.env._("This ticket has no social author."))
        if identity.partner_id:
            raise UserError(
                self.env._(
                    "%(identity)s is already linked to %(partner)s.",
                    identity=identity.display_name,
                    partner=identity.partner_id.display_name,
                )
            )
        found = self._webcare_author_details()
        partner = self.env["res.partner"].create(
            {
                "name": identity.name or identity.handle,
                "phone": found.get("phone") or False,
                "email": found.get("email") or False,
            }
        )
        self.partner_id = partner
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": partner.id,
            "view_mode": "form",
            "target": "current",
        }

    def _webcare_author_details(self):
        """The newest phone number and e-mail the author sent us."""
        rows = (
            self.env["webcare.evidence"]
            .sudo()
            .search(
                [
                    ("identity_id", "=", self.webcare_identity_id.id),
                    ("kind", "in", ("phone", "email")),
                ]
            )
        )
        found = {}
        for row in rows:  # newest first
            found.setdefault(row.kind, row.value)
        return found

    # ------------------------------------------------------------------
    # Contact suggestions for an unknown author
    # ------------------------------------------------------------------

    def webcare_author_suggestions(self):
        """Contacts the unknown author may be, best first, with the evidence.

        Evidence: a phone number or e-mail address the author sent us that a
        contact has, a reference they mentioned (a ticket number or a
        contact's reference), and a name like the author's.
        """
        self.ensure_one()
        identity = self.webcare_identity_id
        if not identity or self.partner_id:
            return []
        found = {}
        for partner, score, reason in self._webcare_candidates(identity):
            entry = found.setdefault(
                partner.id, {"partner": partner, "score": 0, "why": []}
            )
            entry["score"] = max(entry["score"], score)
            entry["why"].append(reason)
        best = sorted(found.values(), key=lambda e: -e["score"])[:SUGGESTIONS]
        return [self._webcare_suggestion_dict(e) for e in best]

    def _webcare_candidates(self, identity):
        """Yield ``(partner, score, reason)`` for every piece of evidence."""
        Partner = self.env["res.partner"]
        rows = (
            self.env["webcare.evidence"]
            .sudo()
            .search([("identity_id", "=", identity.id)], limit=50)
        )
        for row in rows:
            if row.kind == "phone":
                partners = Partner.search(
                    [("phone_sanitized", "=", row.value)], limit=3
                )
                reason = self.env._("has the number %s they sent us", row.value)
                yield from ((p, 100, reason) for p in partners)
            elif row.kind == "email":
                partners = Partner.search(
                    [("email_normalized", "=", row.value)], limit=3
                )
                reason = self.env._("has the e-mail address %s they sent us", row.value)
                yield from ((p, 100, reason) for p in partners)
            else:
                yield from self._webcare_reference_candidates(row.value)
        yield from self._webcare_name_candidates(identity.name)

    def _webcare_reference_candidates(self, reference):
        Partner = self.env["res.partner"]
        reason = self.env._("they mentioned %s", reference)
        for partner in Partner.search([("ref", "=", reference)], limit=3):
            yield partner, 90, reason
        tickets = self.search([("number", "=", reference), ("partner_id", "!=", False)])
        for ticket in tickets:
            yield ticket.partner_id, 90, reason

    def _webcare_name_candidates(self, name):
        """Contacts whose name is like the author's (trigram similarity)."""
        if not name or len(name) < 3:
            return
        Partner = self.env["res.partner"]
        Partner.flush_model(["name"])  # the query below is raw SQL on the names
        column = SQL.identifier(Partner._table, "name")
        query = Partner._search([])
        similarity = SQL("similarity(%s, %s)", column, name)
        # "%%" is pg_trgm's similarity operator: it can use the trigram index
        query.add_where(
            SQL("%s %% %s AND %s >= %s", column, name, similarity, NAME_SIMILARITY)
        )
        query.order = SQL("%s DESC", similarity)
        query.limit = SUGGESTIONS
        rows = self.env.execute_query(
            query.select(SQL.identifier(Partner._table, "id"), similarity)
        )
        for partner_id, score in rows:
            yield (
                Partner.browse(partner_id),
                int(score * 80),
                self.env._(
                    "name like %(name)s (%(percent)s%%)",
                    name=name,
                    percent=int(score * 100),
                ),
            )

    def _webcare_suggestion_dict(self, entry):
        partner = entry["partner"]
        return {
            "partner_id": partner.id,
            "name": partner.display_name,
            "email": partner.email or None,
            "phone": partner.phone or None,
            "score": entry["score"],
            "evidence": entry["why"],
        }

    # ------------------------------------------------------------------
    # Hooks for the response-time SLA (issue "replies and SLA")
    # ------------------------------------------------------------------

    def _webcare_sla_summary(self):
        """The ticket's response-time status for the caller lookup, or None."""
        return None

    # ------------------------------------------------------------------
    # Threading
    # ------------------------------------------------------------------

    def _webcare_reopen(self):
        """Put closed tickets back in the first open stage of their team."""
        for ticket in self.filtered("closed"):
            stage = self.env["helpdesk.ticket.stage"].search(
                [
                    ("closed", "=", False),
                    "|",
                    ("team_ids", "=", False),
                    ("team_ids", "in", ticket.team_id.ids),
                ],
                order="sequence, id",
                limit=1,
            )
            ticket.stage_id = stage
            ticket.message_post(
                body=self.env._("Reopened: the customer wrote again."),
                subtype_xmlid="mail.mt_note",
            )
