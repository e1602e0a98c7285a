from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class WebcareForget(models.TransientModel):
    """Confirm the erasure of a person (GDPR "right to be forgotten").

    Says what will be erased, asks to type a word, then lets
    ``webcare.erasure._forget`` do it in one transaction. Webcare managers only.
    """

    _name = "webcare.forget"
    _description = "Forget a person"

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    summary = fields.Html(compute="_compute_summary", sanitize=False)
    confirm_word = fields.Char(compute="_compute_confirm_word")
    confirmation = fields.Char(help="Type the word shown above to confirm.")

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        context = self.env.context
        if not result.get("partner_id") and context.get("active_model") == (
            "res.partner"
        ):
            result["partner_id"] = context.get("active_id")
        return result

    @api.depends_context("lang")
    def _compute_confirm_word(self):
        self.confirm_word = self.env._("FORGET")

    @api.depends("partner_id")
    def _compute_summary(self):
        for wizard in self:
            wizard.summary = wizard.partner_id and wizard._summary_html()

    def _summary_html(self):
        scope = self.env["webcare.erasure"].sudo()._scope(self.partner_id.sudo())
        items = [
            self.env._(
                "Social identities (%(count)s) and their earlier handles are deleted.",
                count=len(scope.identities),
            ),
            self.env._(
                "Social messages (%(count)s) lose their text, author, links and raw "
                "data, and the details found in them are deleted; the messages "
                "stay, with nothing readable, for the response-time statistics. "
                "Raw webhook bodies and imported files that carried them are "
                "removed.",
                count=len(scope.messages),
            ),
            self.env._(
                "Calls (%(count)s) lose their number and note.",
                count=len(scope.calls),
            ),
            self.env._(
                "Tickets (%(count)s) get a neutral title and description without "
                "customer details; their social posts and direct messages are "
                "deleted from the chatter, notes and e-mails about the person are "
                "emptied, and their tracked changes are deleted.",
                count=len(scope.tickets),
            ),
            self.env._(
                "The contact is renamed “Forgotten person”; its e-mail, phone, "
                "address, website, notes, picture, tax ID, chatter, tracked "
                "changes, activities and attachments are removed, and it is "
                "archived."
            ),
        ]
        return (
            Markup("<p>%s</p>")
            % self.env._(
                "Everything that identifies %(name)s will be erased:",
                name=self.partner_id.display_name,
            )
            + Markup("<ul>%s</ul>")
            % Markup("").join(Markup("<li>%s</li>") % item for item in items)
            + Markup("<p><strong>%s</strong></p>")
            % self.env._(
                "This cannot be undone. Only a record of the erasure is kept: when, "
                "by whom and how many of each, none of the data."
            )
        )

    def action_forget(self):
        """Erase the contact's data; open the record of the erasure."""
        self.ensure_one()
        typed = (self.confirmation or "").strip().upper()
        if typed != self.confirm_word.upper():
            raise UserError(
                self.env._("Type %(word)s to confirm.", word=self.confirm_word)
            )
        erasure = self.env["webcare.erasure"]._forget(self.partner_id)
        return {
            "type": "ir.actions.act_window",
            "res_model": "webcare.erasure",
            "res_id": erasure.id,
            "view_mode": "form",
            "target": "current",
        }
