from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    webcare_reopen_days = fields.Integer(
        string="Reopen closed social tickets within (days)",
        config_parameter="webcare_social.reopen_days",
        default=7,
        help="A customer writing again in a conversation whose ticket closed less "
        "than this many days ago reopens it; later, a new ticket starts.",
    )
