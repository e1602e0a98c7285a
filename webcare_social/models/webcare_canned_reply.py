import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import languages

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("first_name", "ticket", "agent", "handle")


class WebcareCannedReply(models.Model):
    """A ready answer an agent picks in the reply composer.

    The body may hold placeholders, filled in for the ticket at hand:
    ``{first_name}`` (the customer's first name), ``{ticket}`` (the ticket
    number), ``{agent}`` (the agent's first name) and ``{handle}`` (the
    customer's @handle). ``lang`` is a language code as the networks report
    a post's language ("nl", "en"): the composer offers the replies in the
    ticket's language first.
    """

    _name = "webcare.canned.reply"
    _description = "Canned reply"
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    lang = fields.Selection(
        "_lang_selection",
        string="Language",
        default=lambda self: self._default_lang(),
        help="The language of the reply, as the networks report a post's "
        "language; empty: any language.",
    )
    kind = fields.Selection(
        [("answer", "Answer"), ("offline", "Take it offline")],
        required=True,
        default="answer",
        help="Take it offline: continue by private message or by phone.",
    )
    body = fields.Text(
        required=True,
        help="Placeholders: {first_name}, {ticket}, {agent} and {handle}.",
    )
    channel_ids = fields.Many2many(
        "webcare.channel",
        string="Channels",
        help="Offered on these channels only; empty: on every channel.",
    )
    company_id = fields.Many2one(
        "res.company", string="Company", default=lambda self: self.env.company
    )

    @api.model
    def _lang_selection(self):
        """Every language by its two-letter code, named in the user's language."""
        return languages.selection(self.env.lang)

    @api.model
    def _default_lang(self):
        return (self.env.lang or "en_US").split("_")[0]

    @api.constrains("body")
    def _check_placeholders(self):
        for reply in self:
            unknown = reply._unknown_placeholders()
            if unknown:
                raise ValidationError(
                    self.env._(
                        "Unknown placeholder %(unknown)s in “%(name)s”. Use %(known)s.",
                        unknown=", ".join(f"{{{name}}}" for name in unknown),
                        name=reply.name,
                        known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                    )
                )

    def _unknown_placeholders(self):
        self.ensure_one()
        found = PLACEHOLDER.findall(self.body or "")
        return sorted({name for name in found if name not in PLACEHOLDERS})

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

    def _render(self, ticket, agent=None):
        """The body for ``ticket`` answered by ``agent`` (default: the user).

        Unknown placeholders are left as typed.
        """
        self.ensure_one()
        values = self._placeholder_values(ticket, agent or self.env.user)
        return PLACEHOLDER.sub(
            lambda m: values.get(m.group(1), m.group(0)), self.body or ""
        )

    @api.model
    def _placeholder_values(self, ticket, agent):
        identity = ticket.webcare_identity_id.sudo()
        customer = ticket.partner_id.name or identity.name or identity.handle
        return {
            "first_name": _first_name(customer),
            "ticket": ticket.number or "",
            "agent": _first_name(agent.name),
            "handle": f"@{identity.handle}" if identity.handle else "",
        }


def _first_name(name):
    """The first word of a name ("Anna de Vries" -> "Anna")."""
    words = (name or "").split()
    return words[0] if words else ""
