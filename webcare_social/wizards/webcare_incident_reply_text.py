from odoo import api, fields, models


class WebcareIncidentReplyText(models.TransientModel):
    """The bulk reply's text for the tickets in one language."""

    _name = "webcare.incident.reply.text"
    _description = "Bulk reply text per language"

    wizard_id = fields.Many2one(
        "webcare.incident.reply", required=True, ondelete="cascade"
    )
    lang = fields.Selection("_lang_selection", string="Language", required=True)
    body = fields.Text(string="Message", required=True)

    @api.model
    def _lang_selection(self):
        return self.env["webcare.canned.reply"]._lang_selection()
