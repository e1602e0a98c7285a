from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..models.webcare_sla import NO_SLA_RANK


def same_person(ticket, other):
    """Tell whether two social tickets are about the same person.

    The same author on the network (identity), or the same contact.
    """
    identity = ticket.webcare_identity_id
    if identity and identity == other.webcare_identity_id:
        return True
    partner = ticket.partner_id or identity.partner_id
    other_partner = other.partner_id or other.webcare_identity_id.partner_id
    return bool(partner) and partner == other_partner


def person_tickets(ticket, open_only=False):
    """The other social tickets of the person of ``ticket``, on its channel."""
    identity = ticket.webcare_identity_id
    partner = ticket.partner_id or identity.partner_id
    person = []
    if identity:
        person.append(Domain("webcare_identity_id", "=", identity.id))
    if partner:
        person.append(Domain("partner_id", "=", partner.id))
        person.append(Domain("webcare_identity_id.partner_id", "=", partner.id))
    if not person:
        return ticket.browse()
    domain = Domain.OR(person) & Domain(
        [
            ("webcare_channel_id", "=", ticket.webcare_channel_id.id),
            ("id", "!=", ticket.id),
        ]
    )
    if open_only:
        domain &= Domain("closed", "=", False)
    tickets = ticket.search(domain, order="create_date desc, id desc")
    return tickets.filtered(lambda other: same_person(ticket, other))


class WebcareTicketMerge(models.TransientModel):
    """Merge social tickets of one person into one ticket.

    The messages of the merged tickets move to the target, whose response
    clock keeps the earliest post and the earliest first response; each
    merged ticket is closed with a note pointing to the target, and the
    target's chatter says what was merged, by whom.
    """

    _name = "webcare.ticket.merge"
    _description = "Merge social tickets"

    ticket_ids = fields.Many2many(
        "helpdesk.ticket",
        string="Tickets",
        required=True,
        domain="[('webcare_channel_id', '!=', False)]",
        help="Social tickets of one person, on one channel.",
    )
    target_id = fields.Many2one(
        "helpdesk.ticket",
        string="Merge into",
        required=True,
        domain="[('id', 'in', ticket_ids)]",
        help="The ticket that stays open; the others are closed.",
    )

    @api.model
    def default_get(self, fields_list):
        """The selected tickets; from one ticket, also its person's other open ones."""
        result = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") != "helpdesk.ticket":
            return result
        tickets = self.env["helpdesk.ticket"].browse(context.get("active_ids") or [])
        if len(tickets) == 1 and tickets.webcare_channel_id:
            tickets |= person_tickets(tickets, open_only=True)
        if "ticket_ids" in fields_list:
            result["ticket_ids"] = [fields.Command.set(tickets.ids)]
        if "target_id" in fields_list and tickets:
            result["target_id"] = _oldest(tickets).id
        return result

    def action_merge(self):
        """Merge the other tickets into the target; open the target."""
        self.ensure_one()
        target = self.target_id
        sources = self.ticket_ids - target
        self._check(target, sources)
        for source in sources.sorted("id"):
            self._merge_one(source, target)
        self._merge_sla(target, sources)
        return {
            "type": "ir.actions.act_window",
            "res_model": "helpdesk.ticket",
            "res_id": target.id,
            "view_mode": "form",
            "target": "current",
        }

    def _check(self, target, sources):
        if not sources or target not in self.ticket_ids:
            raise UserError(
                self.env._("Choose at least two tickets and one of them to keep.")
            )
        tickets = sources | target
        if not all(ticket.webcare_channel_id for ticket in tickets):
            raise UserError(self.env._("Only social tickets can be merged here."))
        if len(tickets.webcare_channel_id) > 1:
            raise UserError(
                self.env._(
                    "These tickets come from different social accounts: replies "
                    "could not go out from one ticket. Merge tickets of one channel."
                )
            )
        strangers = sources.filtered(lambda t: not same_person(t, target))
        if strangers:
            raise UserError(
                self.env._(
                    "Only tickets of the same person can be merged: %(tickets)s "
                    "is not about %(person)s.",
                    tickets=", ".join(strangers.mapped("display_name")),
                    person=_person_name(target),
                )
            )

    def _merge_one(self, source, target):
        messages = source.webcare_message_ids
        messages.write({"ticket_id": target.id})
        # the customer's words and our replies stay readable on the target
        subtypes = self.env.ref("webcare_social.mt_webcare_post") | self.env.ref(
            "webcare_social.mt_webcare_dm"
        )
        chatter = source.sudo().message_ids.filtered(lambda m: m.subtype_id in subtypes)
        chatter.write({"res_id": target.id})
        user = self.env.user.name
        target.message_post(
            body=Markup("<p>%s</p>%s")
            % (
                Markup(
                    self.env._(
                        "%(user)s merged %(ticket)s into this ticket: %(count)s "
                        "social messages moved here. Its opening post:"
                    )
                )
                % {
                    "user": user,
                    "ticket": source._get_html_link(),
                    "count": len(messages),
                },
                source.description or "",
            ),
            subtype_xmlid="mail.mt_note",
        )
        source.message_post(
            body=Markup("<p>%s</p>")
            % (
                Markup(
                    self.env._(
                        "%(user)s merged this ticket into %(ticket)s; continue there."
                    )
                )
                % {"user": user, "ticket": target._get_html_link()}
            ),
            subtype_xmlid="mail.mt_note",
        )
        _close(source)

    def _merge_sla(self, target, sources):
        """The target's clock: the earliest post, the earliest first response."""
        tickets = target | sources
        posted = [t.webcare_posted_at or t.create_date for t in tickets]
        answered = tickets.filtered("webcare_first_response_at").sorted(
            "webcare_first_response_at"
        )[:1]
        first_at = answered.webcare_first_response_at
        responder = answered.webcare_first_responder_id
        earliest = min(posted)
        target.sudo().write(
            {
                "webcare_posted_at": earliest,
                "webcare_first_response_deadline": self.env["webcare.sla"]._deadline(
                    target.webcare_channel_id, earliest
                ),
                "webcare_first_response_at": False,
                "webcare_first_responder_id": responder.id,
                "webcare_sla_status": False,
            }
        )
        if first_at:
            target._webcare_record_answer(first_at, responder)
        else:
            target._webcare_update_sla(fields.Datetime.now())
        # the merged tickets' clocks are carried by the target now
        sources.sudo().write(
            {"webcare_sla_status": False, "webcare_sla_rank": NO_SLA_RANK}
        )


def _oldest(tickets):
    return tickets.sorted(lambda t: (t.webcare_posted_at or t.create_date, t.id))[0]


def _person_name(ticket):
    identity = ticket.webcare_identity_id
    partner = ticket.partner_id or identity.partner_id
    return partner.name or (identity and f"@{identity.handle}") or ticket.display_name


def _close(ticket):
    """Put a merged ticket in the first closed stage of its team, quietly.

    Without tracking: a closing stage may e-mail the customer, who wrote on
    a social network and gets nothing from a merge.
    """
    stage = ticket.env["helpdesk.ticket.stage"].search(
        [
            ("closed", "=", True),
            "|",
            ("team_ids", "=", False),
            ("team_ids", "in", ticket.team_id.ids),
        ],
        order="sequence, id",
        limit=1,
    )
    if stage:
        ticket.with_context(mail_notrack=True).stage_id = stage
