from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .webcare_ticket_merge import person_tickets, same_person


class WebcareMessageMove(models.TransientModel):
    """Move a social message to another ticket of the same person.

    For wrong threading: a new question asked in an old conversation, a DM
    that joined the wrong story. Optionally the rest of the conversation
    (the later messages of the same thread on the ticket) moves along, so
    the customer's next replies follow too. Both chatters record who moved
    what, where.
    """

    _name = "webcare.message.move"
    _description = "Move a social message to another ticket"

    message_id = fields.Many2one(
        "webcare.message", required=True, readonly=True, ondelete="cascade"
    )
    source_ticket_id = fields.Many2one(
        related="message_id.ticket_id", string="From ticket"
    )
    candidate_ticket_ids = fields.Many2many(
        "helpdesk.ticket", compute="_compute_candidate_ticket_ids"
    )
    ticket_id = fields.Many2one(
        "helpdesk.ticket",
        string="To ticket",
        required=True,
        domain="[('id', 'in', candidate_ticket_ids)]",
        help="Another social ticket of the same person.",
    )
    with_conversation = fields.Boolean(
        string="With the rest of its conversation",
        help="Also move the later messages of this conversation on the ticket.",
    )
    moved_count = fields.Integer(
        compute="_compute_moved_count", string="Messages to move"
    )

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        context = self.env.context
        if not result.get("message_id") and context.get("active_model") == (
            "webcare.message"
        ):
            result["message_id"] = context.get("active_id")
        return result

    @api.depends("message_id")
    def _compute_candidate_ticket_ids(self):
        for wizard in self:
            source = wizard.message_id.ticket_id
            wizard.candidate_ticket_ids = source and person_tickets(source)

    @api.depends("message_id", "with_conversation")
    def _compute_moved_count(self):
        for wizard in self:
            wizard.moved_count = len(wizard._messages())

    def _messages(self):
        """The message, and with the conversation its later ones on the ticket."""
        message = self.message_id
        if not (self.with_conversation and message.conversation_ref):
            return message
        later = message.ticket_id.webcare_message_ids.filtered(
            lambda m: m.conversation_ref == message.conversation_ref
            and m.channel_id == message.channel_id
            and (m.posted_at or m.create_date, m.id)
            >= (message.posted_at or message.create_date, message.id)
        )
        return message | later

    def action_move(self):
        """Move the message(s); note it on both tickets; open the target."""
        self.ensure_one()
        source, target = self.message_id.ticket_id, self.ticket_id
        self._check(source, target)
        messages = self._messages()
        messages.write({"ticket_id": target.id})
        self._note(source, target, messages)
        return {
            "type": "ir.actions.act_window",
            "res_model": "helpdesk.ticket",
            "res_id": target.id,
            "view_mode": "form",
            "target": "current",
        }

    def _check(self, source, target):
        if not source:
            raise UserError(self.env._("This message is on no ticket."))
        if target == source:
            raise UserError(self.env._("The message is already on this ticket."))
        if target.webcare_channel_id != self.message_id.channel_id:
            raise UserError(
                self.env._(
                    "Move the message to a social ticket of the same channel: "
                    "replies go out from the ticket's account."
                )
            )
        if not same_person(source, target):
            raise UserError(
                self.env._(
                    "%(ticket)s is about someone else: a message moves only to "
                    "another ticket of the same person.",
                    ticket=target.display_name,
                )
            )

    def _note(self, source, target, messages):
        words = Markup("").join(
            # a note is read by more people than a DM: its words stay in the DM
            m._render(private_notice=m.kind == "dm")
            for m in messages.sorted("posted_at")
        )
        params = {"user": self.env.user.name, "count": len(messages)}
        here = Markup(
            self.env._(
                "%(user)s moved %(count)s social message(s) here from %(ticket)s:"
            )
        ) % {**params, "ticket": source._get_html_link()}
        there = Markup(
            self.env._("%(user)s moved %(count)s social message(s) to %(ticket)s:")
        ) % {**params, "ticket": target._get_html_link()}
        for ticket, text in ((target, here), (source, there)):
            ticket.message_post(
                body=Markup("<p>%s</p>%s") % (text, words),
                subtype_xmlid="mail.mt_note",
            )
