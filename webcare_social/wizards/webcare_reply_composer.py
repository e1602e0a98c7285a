import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import ProviderError
from ..tools import counting

PUBLIC_KINDS = ("mention", "reply")


class WebcareReplyComposer(models.TransientModel):
    """Answer a social ticket: a public reply or a private message.

    Like Odoo's SMS composer: the agent writes (or picks a canned reply),
    sees the length as the network counts it, and sends. Sending hands the
    text to ``helpdesk.ticket.webcare_reply``, which queues it as an
    outbound ``webcare.message`` and shows it in the ticket's chatter; the
    network gets it after this transaction commits. The idempotency key,
    made when the composer opens, makes a second click queue nothing more.
    """

    _name = "webcare.reply.composer"
    _description = "Reply to a social ticket"

    ticket_id = fields.Many2one(
        "helpdesk.ticket", required=True, readonly=True, ondelete="cascade"
    )
    channel_id = fields.Many2one(related="ticket_id.webcare_channel_id")
    network = fields.Selection(related="channel_id.provider", string="Network")
    customer = fields.Char(compute="_compute_customer")
    has_public_post = fields.Boolean(compute="_compute_capabilities")
    can_private = fields.Boolean(compute="_compute_capabilities")
    needs_approval = fields.Boolean(compute="_compute_capabilities")
    mode = fields.Selection(
        [("public", "Public reply"), ("private", "Private message")],
        compute="_compute_mode",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    lang = fields.Selection(
        "_lang_selection",
        string="Language",
        compute="_compute_lang",
        store=True,
        readonly=False,
        precompute=True,
        help="Canned replies in this language are offered (empty: all).",
    )
    canned_reply_id = fields.Many2one(
        "webcare.canned.reply",
        string="Canned reply",
        domain="(lang and ['|', ('lang', '=', False), ('lang', '=', lang)] or [])"
        " + ['|', ('channel_ids', '=', False), ('channel_ids', 'in', [channel_id])]",
    )
    body = fields.Text(
        string="Message",
        compute="_compute_body",
        store=True,
        readonly=False,
        precompute=True,
    )
    char_count = fields.Integer(string="Length", compute="_compute_length")
    char_limit = fields.Integer(string="Limit", compute="_compute_length")
    warning = fields.Text(compute="_compute_warning")
    idempotency_key = fields.Char(
        default=lambda self: uuid.uuid4().hex, readonly=True, copy=False
    )

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        context = self.env.context
        if not result.get("ticket_id") and context.get("active_model") == (
            "helpdesk.ticket"
        ):
            result["ticket_id"] = context.get("active_id")
        return result

    @api.model
    def _lang_selection(self):
        return self.env["webcare.canned.reply"]._lang_selection()

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("ticket_id")
    def _compute_customer(self):
        for composer in self:
            ticket = composer.ticket_id
            identity = ticket.webcare_identity_id.sudo()
            handle = f"@{identity.handle}" if identity.handle else ""
            name = ticket.partner_id.name or identity.name or ""
            composer.customer = (
                f"{name} ({handle})" if name and handle else name or handle
            )

    @api.depends("ticket_id")
    def _compute_capabilities(self):
        for composer in self:
            ticket = composer.ticket_id
            composer.has_public_post = bool(
                ticket.webcare_message_ids.filtered(
                    lambda m: m.direction == "inbound" and m.kind in PUBLIC_KINDS
                )
            )
            composer.can_private = _supports_private(ticket.webcare_channel_id)
            composer.needs_approval = bool(ticket) and ticket._webcare_needs_approval()

    @api.depends("ticket_id")
    def _compute_mode(self):
        for composer in self:
            composer.mode = (
                "private"
                if composer.can_private and not composer.has_public_post
                else "public"
            )

    @api.depends("ticket_id")
    def _compute_lang(self):
        known = {code for code, _name in self._lang_selection()}
        for composer in self:
            lang = (composer.ticket_id.webcare_lang or "").split("_")[0].lower()
            composer.lang = lang if lang in known else False

    @api.depends("canned_reply_id")
    def _compute_body(self):
        for composer in self.filtered("canned_reply_id"):
            composer.body = composer.canned_reply_id._render(
                composer.ticket_id, self.env.user
            )

    @api.depends("body", "network", "mode")
    def _compute_length(self):
        for composer in self:
            private = composer.mode == "private"
            composer.char_count = counting.count(composer.body, composer.network)
            composer.char_limit = counting.limit(composer.network, private) or 0

    @api.depends("body", "network", "mode", "has_public_post", "can_private")
    def _compute_warning(self):
        for composer in self:
            composer.warning = "\n".join(composer._problems()) or False

    # ------------------------------------------------------------------
    # Checks and sending
    # ------------------------------------------------------------------

    def _network_label(self):
        labels = dict(self._fields["network"]._description_selection(self.env))
        return labels.get(self.network) or self.env._("the network")

    def _problems(self):
        """What stops this reply from being sent, for people."""
        self.ensure_one()
        network = self._network_label()
        problems = []
        if self.mode == "public" and not self.has_public_post:
            problems.append(
                self.env._(
                    "This ticket has no public post to reply to: send a private "
                    "message."
                )
            )
        if self.mode == "private" and not self.can_private:
            problems.append(
                self.env._(
                    "%(network)s has no private messages we can send.",
                    network=network,
                )
            )
        elif self.mode == "private" and not self._recipient_known():
            problems.append(
                self.env._(
                    "The author's account on %(network)s is not known: a private "
                    "message cannot be addressed.",
                    network=network,
                )
            )
        problems += self._length_problems(network)
        return problems

    def _recipient_known(self):
        return bool(self.ticket_id.webcare_identity_id.sudo().external_id)

    def _length_problems(self, network):
        text = self.body or ""
        private = self.mode == "private"
        most = counting.limit(self.network, private)
        size = counting.count(text, self.network)
        problems = []
        if most and size > most:
            problems.append(
                self.env._(
                    "Too long for %(network)s: %(count)s / %(limit)s characters.",
                    network=network,
                    count=size,
                    limit=most,
                )
            )
        most_bytes = counting.byte_limit(self.network, private)
        if most_bytes and len(text.encode("utf-8")) > most_bytes:
            problems.append(
                self.env._(
                    "Too long for %(network)s: at most %(limit)s bytes.",
                    network=network,
                    limit=most_bytes,
                )
            )
        return problems

    def action_send(self):
        """Queue the reply on the ticket; it reaches the network shortly."""
        self.ensure_one()
        if not (self.body or "").strip():
            raise UserError(self.env._("Write a message first."))
        problems = self._problems()
        if problems:
            raise UserError("\n".join(problems))
        message = self.ticket_id.webcare_reply(
            self.body,
            private=self.mode == "private",
            idempotency_key=self.idempotency_key,
        )
        return self._sent_notification(message)

    def _sent_notification(self, message):
        if message.state == "to_approve":
            text = self.env._(
                "Your reply waits for a Webcare manager's approval before it is sent."
            )
            kind = "warning"
        else:
            text = self.env._(
                "Your reply is queued and goes out to %(network)s in a moment.",
                network=self._network_label(),
            )
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": text,
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


def _supports_private(channel):
    """Whether the channel's network lets us send private messages."""
    if not channel:
        return False
    try:
        return bool(channel._get_provider_class().supports_private)
    except ProviderError:
        return False
