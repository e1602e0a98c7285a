from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .webcare_retention import DAYS_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    webcare_reopen_days = fields.Integer(
        string="Reopen closed social tickets within (days)",
        config_parameter="webcare_social.reopen_days",
        default=7,
        help="A customer writing again in a conversation whose ticket closed less "
        "than this many days ago reopens it; later, a new ticket starts.",
    )
    # kept in the ir.config_parameter webcare_social.retention_days by
    # get_values/set_values: a config_parameter field would store 0 as "no
    # value" and read it back as the default
    webcare_retention_days = fields.Integer(
        string="Keep raw data and direct messages for (days)",
        default=365,
        help="After this many days the raw data received from the networks and "
        "the text of direct messages (also their copies in the chatter) are "
        "removed; the messages themselves stay, so the statistics and the "
        "history do not change. Public posts keep their text. 0 keeps "
        "everything forever.",
    )
    webcare_retention_last_run = fields.Datetime(
        string="Last retention run", compute="_compute_webcare_retention_last_run"
    )
    webcare_retention_last_count = fields.Integer(
        string="Items removed", compute="_compute_webcare_retention_last_run"
    )

    @api.constrains("webcare_retention_days")
    def _check_webcare_retention_days(self):
        if any(settings.webcare_retention_days < 0 for settings in self):
            raise ValidationError(
                self.env._("The retention period cannot be a negative number of days.")
            )

    def _compute_webcare_retention_last_run(self):
        when, count = self.env["webcare.retention"]._last_run()
        for settings in self:
            settings.webcare_retention_last_run = when
            settings.webcare_retention_last_count = count

    @api.model
    def get_values(self):
        res = super().get_values()
        res["webcare_retention_days"] = self.env["webcare.retention"]._retention_days()
        return res

    def set_values(self):
        """Store the retention period; a shorter one is applied right away."""
        super().set_values()
        Retention = self.env["webcare.retention"]
        before, after = Retention._retention_days(), self.webcare_retention_days
        if after == before:
            return
        self.env["ir.config_parameter"].sudo().set_param(DAYS_PARAM, str(after))
        if after and (not before or after < before):
            self.env.ref("webcare_social.ir_cron_webcare_retention").sudo()._trigger()
