import logging
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..exceptions import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from ..tools import render

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "webcare_social.group_webcare_manager"
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 15, 60)
INTERRUPTED_MINUTES = 10
SEND_BATCH = 50
# an agent may still change the text of their reply in these states
UNSENT_STATES = ("to_approve", "failed")


class WebcareMessage(models.Model):
    """The send queue of ``webcare.message``: our replies and private messages.

    Like Odoo's ``sms.sms``: a reply is created ``outgoing`` (or
    ``to_approve`` on a sensitive ticket) and shown in the ticket's chatter
    at once; the send cron, triggered when the creating transaction commits,
    marks it ``sending`` (committed before the network call) and then
    ``sent`` with the network's id, back to ``outgoing`` to try later (rate
    limit, network down), or ``failed`` with the network's reason. A send
    that was interrupted halfway is never repeated by itself, and the
    network's id makes the next import recognise our own post, so nothing
    is sent twice nor imported again as a new ticket.
    """

    _inherit = "webcare.message"

    author_user_id = fields.Many2one("res.users", string="Written by", readonly=True)
    idempotency_key = fields.Char(
        copy=False,
        readonly=True,
        help="Set by the composer: sending the same reply twice queues it once.",
    )
    recipient_ref = fields.Char(
        string="Recipient ID", readonly=True, help="The customer's id, for a DM."
    )
    send_after = fields.Datetime(readonly=True, help="Not sent before this time.")
    send_attempts = fields.Integer(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    approved_by_id = fields.Many2one("res.users", readonly=True)
    approved_at = fields.Datetime(readonly=True)
    chatter_message_id = fields.Many2one(
        "mail.message",
        readonly=True,
        ondelete="set null",
        copy=False,
        help="Its copy in the ticket's chatter (a customer's message or our reply).",
    )

    _idempotency_key_uniq = models.UniqueIndex(
        "(idempotency_key) WHERE idempotency_key IS NOT NULL",
        "This reply was already queued.",
    )
    _outgoing_idx = models.Index("(send_after, id) WHERE state = 'outgoing'")

    def write(self, vals):
        """Only Webcare managers release a waiting reply or change an approved one.

        An agent may change the text of a reply that waits for approval or
        failed before any approval, not the text a manager approved or the
        network got.
        """
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            releasing = "state" in vals and any(
                message.state == "to_approve" for message in self
            )
            rewriting = "body" in vals and any(
                message.direction == "outbound"
                and (message.approved_by_id or message.state not in UNSENT_STATES)
                for message in self
            )
            if releasing or rewriting:
                raise AccessError(
                    self.env._(
                        "Only Webcare managers approve replies or change approved "
                        "and sent ones."
                    )
                )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------

    @api.model
    def _queue_reply(self, ticket, body, target, approval, key=None):
        """Create our reply on ``ticket`` to the ``target`` the ticket chose.

        ``target`` holds ``kind``, ``parent_ref``, ``recipient_ref`` and
        ``conversation_ref``. Returns the message, shown in the chatter.
        """
        message = self.sudo().create(
            {
                **target,
                "channel_id": ticket.webcare_channel_id.id,
                "direction": "outbound",
                "state": "to_approve" if approval else "outgoing",
                "body": body,
                "ticket_id": ticket.id,
                "partner_id": ticket.partner_id.id,
                "lang": ticket.webcare_lang,
                "posted_at": fields.Datetime.now(),
                "author_user_id": self.env.uid,
                "author_handle": ticket.webcare_channel_id.account_handle,
                "idempotency_key": key or uuid.uuid4().hex,
            }
        )
        message._post_in_chatter(ticket)
        if message.state == "outgoing":
            message._trigger_send()
        return message.sudo(False)

    def _post_in_chatter(self, ticket):
        """Show the reply in the ticket's chatter, written by the agent."""
        chatter = ticket.message_post(
            body=self._chatter_body_in_company_lang(),
            message_type="comment",
            subtype_xmlid=self._chatter_subtype_xmlid(),
            author_id=self.author_user_id.partner_id.id,
        )
        self.chatter_message_id = chatter

    def _chatter_body_in_company_lang(self):
        """The reply's chatter text, in the company's language: it is
        rewritten by the sending cron as the reply goes out or fails."""
        lang = self.channel_id.company_id._webcare_text_lang()
        return self.with_context(lang=lang)._chatter_body()

    def _chatter_body(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        status = labels.get(self.state, "")
        if self.state == "to_approve":
            status = self.env._("Waiting for a manager's approval")
        elif self.state == "failed":
            status = self.env._("Not sent: %(reason)s", reason=self.error or "")
        elif self.state == "outgoing" and self.send_after:
            status = self.env._(
                "Will be sent after %(when)s (UTC)", when=self.send_after
            )
        return render.render_reply(
            self.body,
            where=self._where_label(),
            status=status,
            url=self.url,
            link_label=self.env._("View on the network"),
        )

    def _where_label(self):
        network = dict(
            self.channel_id._fields["provider"]._description_selection(self.env)
        ).get(self.channel_id.provider, "")
        if self.kind == "dm":
            return self.env._("Private message on %(network)s", network=network)
        return self.env._("Public reply on %(network)s", network=network)

    def _refresh_chatter(self):
        for message in self.filtered("chatter_message_id"):
            body = message._chatter_body_in_company_lang()
            message.chatter_message_id.sudo().body = body

    def _trigger_send(self):
        """Run the send queue after this transaction commits."""
        self.env.ref("webcare_social.ir_cron_webcare_send").sudo()._trigger()

    # ------------------------------------------------------------------
    # Approval and retry
    # ------------------------------------------------------------------

    def action_approve(self):
        """Let replies that wait for approval go out (Webcare managers only)."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Webcare managers approve replies."))
        waiting = self.filtered(lambda m: m.state == "to_approve")
        waiting.write(
            {
                "state": "outgoing",
                "approved_by_id": self.env.uid,
                "approved_at": fields.Datetime.now(),
            }
        )
        waiting._refresh_chatter()
        waiting._trigger_send()
        return True

    def _retry_send(self):
        """Queue failed replies again (not those whose text the retention
        period removed: there is nothing left to send)."""
        failed = self.filtered(
            lambda m: m.direction == "outbound"
            and m.state == "failed"
            and not m._text_purged()
        )
        failed.write(
            {
                "state": "outgoing",
                "send_after": False,
                "error": False,
                "send_attempts": 0,
            }
        )
        failed._refresh_chatter()
        failed._trigger_send()

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _cron_send(self):
        """Cron: send what is due, one message per transaction, oldest first."""
        self._recover_interrupted()
        due = self.search(self._due_domain(), order="send_after, id", limit=SEND_BATCH)
        for message in due:
            message._send_one()
            if self._in_cron() and self.env["ir.cron"]._commit_progress(1) <= 0:
                return
        if len(due) == SEND_BATCH:
            self._trigger_send()

    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        return [
            ("state", "=", "outgoing"),
            ("direction", "=", "outbound"),
            # a paused channel keeps its replies queued until it is resumed
            ("channel_id.state", "!=", "paused"),
            "|",
            ("send_after", "=", False),
            ("send_after", "<=", now),
        ]

    def _send_one(self):
        """Send one reply; record the outcome on it (and the ticket)."""
        self.ensure_one()
        if not self.try_lock_for_update() or self.state != "outgoing":
            return  # another run has it, or it changed meanwhile
        if self.send_after and self.send_after > fields.Datetime.now():
            return  # postponed meanwhile: a rate limit met by an earlier send
        channel = self.channel_id
        self.write({"state": "sending", "send_attempts": self.send_attempts + 1})
        self._commit()  # "sending" is on record before the network sees anything
        service = channel._get_service()
        try:
            sent = self._deliver(service)
        except ProviderRateLimited as exc:
            self._postpone_rate_limited(exc)
        except (ProviderUnavailable, ProviderAuthError) as exc:
            self._postpone_or_fail(exc.message)
        except ProviderError as exc:  # refused, or an answer we cannot read
            self._mark_failed(exc.message)
        else:
            self._mark_sent(sent)
        self._keep_session(channel, service)
        self._commit()

    def _keep_session(self, channel, service):
        """Keep a login session the send refreshed, unless an import holds the
        channel (it then keeps its own; a wait here would hold up the queue)."""
        if service.session_state() is not None and channel.try_lock_for_update(
            allow_referencing=True
        ):
            channel._keep_session(service)

    def _deliver(self, service):
        if self.kind == "dm":
            return service.send_private(self.recipient_ref, self.body)
        return service.send_reply(self.parent_ref, self.body)

    def _mark_sent(self, sent):
        now = fields.Datetime.now()
        # an import that already stored this id saw our own post: ours wins
        self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("external_id", "=", sent.external_id),
                ("id", "!=", self.id),
            ]
        ).sudo().unlink()
        self.write(
            {
                "state": "sent",
                "external_id": sent.external_id,
                "url": sent.url or self.url,
                "conversation_ref": sent.conversation_ref or self.conversation_ref,
                "sent_at": now,
                "posted_at": now,
                "error": False,
            }
        )
        self._refresh_chatter()
        self.ticket_id._webcare_mark_answered(now, self.author_user_id)

    def _postpone(self, when, reason):
        self.write(
            {
                "state": "outgoing",
                "send_after": when or fields.Datetime.now() + timedelta(minutes=15),
                "error": reason,
            }
        )
        self._refresh_chatter()

    def _postpone_rate_limited(self, exc):
        """Wait for the limit's reset, with the channel's other sends of this kind.

        X counts its limits per endpoint (posts, DMs, reading mentions): the
        channel's imports go on, only sends of the same kind wait.
        """
        until = exc.retry_at or fields.Datetime.now() + timedelta(minutes=15)
        self._postpone(until, exc.message)
        kind = [("kind", "=", "dm")] if self.kind == "dm" else [("kind", "!=", "dm")]
        waiting = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("state", "=", "outgoing"),
                ("direction", "=", "outbound"),
                ("id", "!=", self.id),
                "|",
                ("send_after", "=", False),
                ("send_after", "<", until),
                *kind,
            ],
            order="send_after, id",
        )
        # after the reset they keep the provider's pace instead of a burst
        step = timedelta(seconds=self.channel_id._get_provider_class().send_interval)
        for position, message in enumerate(waiting, start=1):
            message.send_after = until + step * position
        waiting._refresh_chatter()

    def _postpone_or_fail(self, reason):
        if self.send_attempts >= MAX_ATTEMPTS:
            self._mark_failed(reason)
            return
        minutes = BACKOFF_MINUTES[min(self.send_attempts, len(BACKOFF_MINUTES)) - 1]
        self._postpone(fields.Datetime.now() + timedelta(minutes=minutes), reason)

    def _mark_failed(self, reason):
        _logger.info("Reply %s not sent: %s", self.id, reason)
        self.write({"state": "failed", "error": reason})
        self._refresh_chatter()

    @api.model
    def _recover_interrupted(self):
        """Replies left ``sending`` by a run that died: fail them, never resend.

        Whether the network got them is unknown; the agent checks and retries.
        """
        since = fields.Datetime.now() - timedelta(minutes=INTERRUPTED_MINUTES)
        stuck = self.search([("state", "=", "sending"), ("write_date", "<", since)])
        for message in stuck:
            message._mark_failed(
                self.env._(
                    "Sending was interrupted and may or may not have reached the "
                    "network. Check the conversation there, then retry if it is "
                    "missing."
                )
            )

    def _commit(self):
        if self._in_cron():
            self.env["ir.cron"]._commit_progress()

    @api.model
    def _in_cron(self):
        return bool(self.env.context.get("ir_cron_progress_id"))
