from odoo import api, fields, models


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    webcare_channel_id = fields.Many2one(
        "webcare.channel", string="Social channel", index="btree_not_null"
    )
    webcare_identity_id = fields.Many2one(
        "webcare.identity", string="Social author", index="btree_not_null"
    )
    webcare_message_ids = fields.One2many(
        "webcare.message", "ticket_id", string="Social messages"
    )
    webcare_message_count = fields.Integer(compute="_compute_webcare_message_count")

    @api.depends("webcare_message_ids")
    def _compute_webcare_message_count(self):
        counts = dict(
            self.env["webcare.message"]._read_group(
                [("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]
            )
        )
        for ticket in self:
            ticket.webcare_message_count = counts.get(ticket._origin, 0)

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
