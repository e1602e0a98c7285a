from odoo import api, fields, models

from ..tools import handles


class WebcareIdentityHandle(models.Model):
    """A handle an identity used before; it still finds the person."""

    _name = "webcare.identity.handle"
    _description = "Earlier handle of a social identity"
    _order = "until desc, id desc"
    _rec_name = "handle"

    identity_id = fields.Many2one(
        "webcare.identity", required=True, index=True, ondelete="cascade"
    )
    network = fields.Selection(related="identity_id.network", store=True)
    handle = fields.Char(required=True, help="As it was, without the leading @.")
    handle_normalized = fields.Char(
        compute="_compute_handle_normalized", store=True, string="Handle key"
    )
    until = fields.Datetime(string="Used until", default=fields.Datetime.now)

    _handle_normalized_idx = models.Index("(handle_normalized, network)")

    @api.depends("handle")
    def _compute_handle_normalized(self):
        for old in self:
            old.handle_normalized = handles.normalize_handle(old.handle) or False
