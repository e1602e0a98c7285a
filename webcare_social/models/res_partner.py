from odoo import api, fields, models
from odoo.fields import Command, Domain

from ..tools import handles


class ResPartner(models.Model):
    _inherit = "res.partner"

    webcare_identity_ids = fields.One2many(
        "webcare.identity", "partner_id", string="Social identities"
    )
    webcare_identity_count = fields.Integer(
        compute="_compute_webcare_identity_count", string="Social"
    )
    webcare_can_edit_identities = fields.Boolean(
        compute="_compute_webcare_can_edit_identities"
    )
    webcare_handle = fields.Char(
        string="Social handle",
        compute="_compute_webcare_handle",
        search="_search_webcare_handle",
        help="Search contacts by one of their social handles, e.g. @AnnaDV.",
    )
    # caller lookup matches on the E.164 form: index it like crm.lead does
    phone_sanitized = fields.Char(index="btree_not_null")

    # ------------------------------------------------------------------
    # Computes and search
    # ------------------------------------------------------------------

    @api.depends("webcare_identity_ids")
    def _compute_webcare_identity_count(self):
        counts = dict(
            self.env["webcare.identity"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.webcare_identity_count = counts.get(partner._origin, 0)

    @api.depends_context("uid")
    def _compute_webcare_can_edit_identities(self):
        can_edit = self.env.user.has_group("webcare_social.group_webcare_agent")
        self.webcare_can_edit_identities = can_edit

    @api.depends("webcare_identity_ids.handle")
    def _compute_webcare_handle(self):
        for partner in self:
            partner.webcare_handle = ", ".join(
                f"@{handle}" for handle in partner.webcare_identity_ids.mapped("handle")
            )

    def _search_webcare_handle(self, operator, value):
        """Contacts having an identity whose handle matches ``value``.

        The ``@``, case and surrounding spaces of ``value`` do not matter.
        """
        if operator not in ("ilike", "=", "=ilike", "in"):
            return NotImplemented
        if not self.env["webcare.identity"].has_access("read"):
            return Domain.FALSE
        values = value if operator == "in" else [value]
        keys = [k for k in (self._handle_key(v) for v in values) if k]
        if not keys:
            return Domain.FALSE
        if operator == "ilike":
            return Domain.OR(
                Domain("webcare_identity_ids.handle_normalized", "like", key)
                for key in keys
            )
        return Domain("webcare_identity_ids.handle_normalized", "in", keys)

    @api.model
    def _handle_key(self, value):
        try:
            return handles.normalize_handle(value) if isinstance(value, str) else ""
        except ValueError:
            return ""

    @api.model
    def _search_display_name(self, operator, value):
        """Let ``@handle`` typed in any contact field find its contact."""
        domain = super()._search_display_name(operator, value)
        if (
            operator in ("ilike", "=", "=ilike")
            and handles.looks_like_handle(value)
            and domain is not NotImplemented
        ):
            domain = Domain.OR([domain, [("webcare_handle", "=", value)]])
        return domain

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        """Removing an identity from a contact unlinks it; it is never deleted."""
        commands = vals.get("webcare_identity_ids")
        if commands:
            vals = dict(vals, webcare_identity_ids=self._unlink_not_delete(commands))
        return super().write(vals)

    @api.model
    def _unlink_not_delete(self, commands):
        kept, to_unlink = [], []
        for command in commands:
            if command[0] in (Command.DELETE, Command.UNLINK):
                to_unlink.append(command[1])
            else:
                kept.append(command)
        self.env["webcare.identity"].browse(to_unlink).action_unlink_partner()
        return kept

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_view_webcare_identities(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.webcare_identity_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
