from collections import Counter
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..exceptions import ProviderError
from ..models.webcare_canned_reply import PLACEHOLDER
from ..tools import counting

MANAGER_GROUP = "webcare_social.group_webcare_manager"
PUBLIC_KINDS = ("mention", "reply")
# placeholders that make each reply's text different (X refuses duplicates)
UNIQUE_PLACEHOLDERS = {"handle", "ticket"}


class WebcareIncidentReply(models.TransientModel):
    """One approved answer to every ticket of a surge incident.

    A Webcare manager writes the text (optionally one per language; the
    placeholders of canned replies work) and sends it: that is the approval.
    Each open ticket of the incident gets one outbound ``webcare.message``
    through ``helpdesk.ticket.webcare_reply``: a public reply to the
    customer's latest post, or a private message where the conversation has
    no public post (or the ticket is skipped, with the reason). A public
    reply starts with the customer's @handle unless the text has
    ``{handle}`` or ``{ticket}``, as X refuses the same text twice.

    The replies are paced at the network's pace: their ``send_after`` is
    staggered by the provider client's ``send_interval`` after whatever
    the channel already has queued, so the send queue spreads them; a rate
    limit postpones them, never drops them. The idempotency key of each
    reply is made of the incident and the ticket: sending again only
    reaches the tickets that joined the incident since.
    """

    _name = "webcare.incident.reply"
    _description = "Bulk reply to a surge incident"

    incident_id = fields.Many2one(
        "webcare.incident", required=True, readonly=True, ondelete="cascade"
    )
    channel_id = fields.Many2one(related="incident_id.channel_id")
    network = fields.Selection(related="channel_id.provider", string="Network")
    body = fields.Text(
        string="Message",
        required=True,
        help="For every ticket without a text in its own language. "
        "Placeholders: {first_name}, {ticket}, {agent} and {handle}.",
    )
    text_ids = fields.One2many(
        "webcare.incident.reply.text", "wizard_id", string="Per language"
    )
    private_fallback = fields.Boolean(
        string="Private message when there is no public post",
        default=True,
        help="Otherwise tickets whose conversation has no public post are skipped.",
    )
    lang_summary = fields.Char(string="Languages", compute="_compute_preview")
    to_send_count = fields.Integer(string="Replies to send", compute="_compute_preview")
    skipped_summary = fields.Text(string="Skipped", compute="_compute_preview")
    pace = fields.Char(compute="_compute_preview")

    @api.model
    def default_get(self, fields_list):
        result = super().default_get(fields_list)
        context = self.env.context
        if not result.get("incident_id") and context.get("active_model") == (
            "webcare.incident"
        ):
            result["incident_id"] = context.get("active_id")
        return result

    @api.depends("incident_id", "private_fallback")
    def _compute_preview(self):
        for wizard in self:
            plan = wizard._plan() if wizard.incident_id else []
            sending = [ticket for ticket, kind, _reason in plan if kind]
            wizard.to_send_count = len(sending)
            wizard.skipped_summary = (
                "\n".join(
                    f"{ticket.number}: {reason}"
                    for ticket, kind, reason in plan
                    if not kind
                )
                or False
            )
            langs = Counter(t.webcare_lang or "?" for t, _kind, _reason in plan)
            wizard.lang_summary = ", ".join(
                f"{lang} ({count})" for lang, count in sorted(langs.items())
            )
            wizard.pace = wizard._pace_text(len(sending))

    # ------------------------------------------------------------------
    # Plan
    # ------------------------------------------------------------------

    def _key(self, ticket):
        """The idempotency key of this incident's reply to ``ticket``."""
        return f"webcare-incident-{self.incident_id.id}-ticket-{ticket.id}"

    def _plan(self):
        """``[(ticket, kind, reason)]``: "reply", "dm", or None and why not."""
        self.ensure_one()
        tickets = self.incident_id.sudo().ticket_ids.sorted(
            lambda t: (t.webcare_posted_at or t.create_date, t.id)
        )
        Message = self.env["webcare.message"].sudo()
        done = set(
            Message.search(
                [("idempotency_key", "in", [self._key(t) for t in tickets])]
            ).mapped("idempotency_key")
        )
        public = set(
            Message.search(
                [
                    ("ticket_id", "in", tickets.ids),
                    ("direction", "=", "inbound"),
                    ("kind", "in", PUBLIC_KINDS),
                    ("external_id", "!=", False),
                    ("posted_at", "!=", False),
                ]
            ).ticket_id.ids
        )
        return [(ticket, *self._kind(ticket, done, public)) for ticket in tickets]

    def _kind(self, ticket, done, public):
        """How ``ticket`` is answered: ``(kind, reason)``."""
        if self._key(ticket) in done:
            return None, self.env._("already has this incident's reply")
        if ticket.closed:
            return None, self.env._("closed")
        if ticket.id in public:
            return "reply", ""
        if not self.private_fallback:
            return None, self.env._("no public post to reply to")
        if not self._private_supported():
            return None, self.env._(
                "no public post, and the network has no private messages"
            )
        if not ticket.webcare_identity_id.sudo().external_id:
            return None, self.env._(
                "no public post, and the author's account is not known"
            )
        return "dm", ""

    def _private_supported(self):
        try:
            return bool(self.channel_id._get_provider_class().supports_private)
        except ProviderError:
            return False

    def _interval(self):
        """Seconds between two sends on this channel's network."""
        try:
            seconds = self.channel_id._get_provider_class().send_interval
        except ProviderError:
            seconds = 1.0
        return timedelta(seconds=seconds)

    def _pace_text(self, count):
        if not count:
            return False
        seconds = self._interval().total_seconds()
        return self.env._(
            "One reply every %(seconds)s seconds: about %(minutes)s minutes for "
            "%(count)s replies.",
            seconds=f"{seconds:g}",
            minutes=max(1, round(seconds * (count - 1) / 60)),
            count=count,
        )

    # ------------------------------------------------------------------
    # Text
    # ------------------------------------------------------------------

    def _texts(self):
        """``{language code: text}`` of the per-language texts."""
        texts = {}
        for line in self.text_ids:
            if line.lang in texts:
                raise UserError(
                    self.env._("Two texts for the language %(lang)s.", lang=line.lang)
                )
            texts[line.lang] = line.body
        return texts

    def _text_for(self, ticket, kind, texts):
        """The text ``ticket`` gets: its language's, placeholders filled in."""
        lang = (ticket.webcare_lang or "").split("_")[0].lower()
        template = (texts.get(lang) or self.body or "").strip()
        values = self.env["webcare.canned.reply"]._placeholder_values(
            ticket, self.env.user
        )
        text = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
        handle = ticket.webcare_identity_id.sudo().handle
        unique = UNIQUE_PLACEHOLDERS & set(PLACEHOLDER.findall(template))
        if kind == "reply" and handle and not unique:
            text = f"@{handle} {text}"
        return text.strip()

    def _length_problem(self, text):
        network = self.channel_id.provider
        most = counting.limit(network)
        size = counting.count(text, network)
        if most and size > most:
            return self.env._(
                "too long (%(count)s / %(limit)s characters)", count=size, limit=most
            )
        return None

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def action_send(self):
        """Approve the text and queue one paced reply per ticket."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Webcare managers send bulk replies."))
        if not (self.body or "").strip():
            raise UserError(self.env._("Write the message first."))
        texts = self._texts()
        queued = self.env["webcare.message"]
        skipped = []
        for ticket, kind, reason in self._plan():
            if not kind:
                skipped.append((ticket, reason))
                continue
            message, problem = self._queue(ticket, kind, texts)
            if message:
                queued |= message
            else:
                skipped.append((ticket, problem))
        self._pace(queued)
        summary = self._summary(queued, skipped)
        self.incident_id.sudo().message_post(
            body=Markup("<br/>").join(summary), subtype_xmlid="mail.mt_note"
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": "\n".join(summary),
                "type": "success" if queued else "warning",
                "sticky": bool(skipped),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _queue(self, ticket, kind, texts):
        """Queue the reply on ``ticket``: ``(message, None)`` or ``(None, why)``."""
        text = self._text_for(ticket, kind, texts)
        problem = self._length_problem(text)
        if problem:
            return None, problem
        try:
            with self.env.cr.savepoint():
                message = ticket.webcare_reply(
                    text, private=kind == "dm", idempotency_key=self._key(ticket)
                )
        except UserError as exc:
            return None, exc.args[0]
        return message, None

    def _pace(self, messages):
        """Stagger ``messages`` at the network's pace after the channel's queue."""
        if not messages:
            return
        interval = self._interval()
        now = fields.Datetime.now()
        queued = (
            self.env["webcare.message"]
            .sudo()
            .search(
                [
                    ("channel_id", "=", self.channel_id.id),
                    ("direction", "=", "outbound"),
                    ("state", "=", "outgoing"),
                    ("send_after", "!=", False),
                    ("id", "not in", messages.ids),
                ],
                order="send_after desc",
                limit=1,
            )
        )
        start = max(now, queued.send_after + interval) if queued else now
        for index, message in enumerate(messages):
            message.sudo().write(
                {
                    "send_after": start + index * interval,
                    "approved_by_id": self.env.uid,
                    "approved_at": now,
                }
            )
        messages.sudo()._refresh_chatter()

    def _summary(self, queued, skipped):
        lines = []
        if queued:
            lines.append(
                self.env._(
                    "%(user)s approved the bulk reply: %(count)s replies queued, "
                    "one every %(seconds)s seconds, the last after %(last)s (UTC).",
                    user=self.env.user.name,
                    count=len(queued),
                    seconds=f"{self._interval().total_seconds():g}",
                    last=max(queued.mapped("send_after")),
                )
            )
        else:
            lines.append(self.env._("No reply queued."))
        if skipped:
            lines.append(
                self.env._(
                    "Skipped: %(tickets)s",
                    tickets="; ".join(
                        f"{t.number} ({reason})" for t, reason in skipped
                    ),
                )
            )
        return lines
