from odoo import api, fields, models

from ..tools import evidence


class WebcareEvidence(models.Model):
    """A phone number, e-mail address or reference a customer wrote us.

    Found in inbound posts and DMs when they are processed, kept normalised
    (E.164, lower-case e-mail, upper-case reference) and indexed, so that a
    caller whose number appears in a DM of a known identity is recognised
    through that identity, and an unknown author can be matched to a contact.
    """

    _name = "webcare.evidence"
    _description = "Contact detail found in a social message"
    _order = "found_at desc, id desc"
    _rec_name = "value"

    message_id = fields.Many2one(
        "webcare.message", required=True, index=True, ondelete="cascade"
    )
    identity_id = fields.Many2one(
        "webcare.identity", string="Author", index=True, ondelete="cascade"
    )
    kind = fields.Selection(
        [
            ("phone", "Phone number"),
            ("email", "E-mail address"),
            ("reference", "Reference"),
        ],
        required=True,
    )
    value = fields.Char(required=True)
    found_at = fields.Datetime(string="Sent on")
    private = fields.Boolean(string="In a direct message")
    company_id = fields.Many2one(related="message_id.company_id", store=True)

    _kind_value_idx = models.Index("(kind, value)")
    _message_kind_value_uniq = models.Constraint(
        "UNIQUE(message_id, kind, value)",
        "A detail is recorded once per message.",
    )

    @api.model
    def _record(self, messages):
        """Record the details written in ``messages``; return the new rows."""
        vals_list = []
        for message in messages:
            region = message.company_id.country_id.code
            vals_list += [
                {
                    "message_id": message.id,
                    "identity_id": message.identity_id.id,
                    "kind": found.kind,
                    "value": found.value,
                    "found_at": message.posted_at,
                    "private": message.kind == "dm",
                }
                for found in evidence.extract(message.body, region)
            ]
        return self.create(vals_list)
