from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _webcare_text_lang(self):
        """The language of the texts Webcare writes on this company's records.

        Ticket descriptions, chatter lines and notices written by the imports,
        the outgoing queue and the other crons are read by the company's
        team, not by the user the cron runs as: they are written in the
        company's language (its contact's language), else in English.
        """
        self.ensure_one()
        lang = self.partner_id.lang
        installed = dict(self.env["res.lang"].get_installed())
        return lang if lang in installed else "en_US"
