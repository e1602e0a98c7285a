from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.webcare_identity import CONSENT_METHODS


class WebcareIdentityLink(models.TransientModel):
    """The consent step: link a social identity once the customer agreed.

    Opened from a social ticket whose author could not be linked (no
    consent recorded for the network), from the caller lookup and from the
    identity form. Nothing is linked unless "the customer agreed" is ticked
    and how they agreed is said; the link records who gave consent, how,
    when and which user recorded it.
    """

    _name = "webcare.identity.link"
    _description = "Link a social identity with the customer's consent"

    identity_id = fields.Many2one(
        "webcare.identity", string="Social identity", required=True, readonly=True
    )
    current_partner_id = fields.Many2one(
        related="identity_id.partner_id", string="Now linked to"
    )
    new_contact = fields.Boolean(
        string="Create a new contact",
        help="Create the contact from the identity (name, handle, phone).",
    )
    partner_id = fields.Many2one("res.partner", string="Contact")
    phone = fields.Char(help="The caller's number, saved on a contact without one.")
    ticket_id = fields.Many2one("helpdesk.ticket", readonly=True)
    consent = fields.Boolean(
        string="The customer agreed",
        help="The customer agreed that this account is kept on their record.",
    )
    consent_method = fields.Selection(
        CONSENT_METHODS, string="How they agreed", default="phone"
    )
    note = fields.Char(help="Kept with the link, e.g. when and where they agreed.")

    @api.onchange("new_contact")
    def _onchange_new_contact(self):
        if self.new_contact:
            self.partner_id = False

    def action_link(self):
        """Link the identity as the customer agreed; close the step."""
        self.ensure_one()
        if not self.consent or not self.consent_method:
            raise UserError(
                self.env._(
                    "Link only with the customer's consent: ask them, tick \"The "
                    'customer agreed" and say how they agreed.'
                )
            )
        if not (self.partner_id or self.new_contact):
            raise UserError(self.env._("Choose the contact, or create a new one."))
        identity = self.identity_id
        if self.ticket_id:
            # the ticket's contact: also moves an author linked to another one
            identity._link_with_consent(
                self.partner_id, self.consent_method, self._ticket_note()
            )
        else:
            identity.webcare_link_caller(
                phone=self.phone or None,
                partner_id=self.partner_id.id or None,
                consent_method=self.consent_method,
                note=self.note or None,
            )
        return {"type": "ir.actions.act_window_close"}

    def _ticket_note(self):
        origin = self.env._(
            "Linked from ticket %(number)s by %(user)s.",
            number=self.ticket_id.number,
            user=self.env.user.name,
        )
        return f"{origin} {self.note}" if self.note else origin
