import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError
from odoo.tools import SQL

from ..exceptions import PayloadError
from ..services.webhook import WebhookRejected

_logger = logging.getLogger(__name__)

# stored deliveries are kept this long: their items live on as messages with
# their own payload; failed ones hold the only copy of their body and stay
KEEP_STORED_DAYS = 30


class _ExpectedCollision(logging.Filter):
    """Keeps a collision this thread expects and handles out of the log.

    ``odoo.sql_db`` logs every failed query as an error. ``mute_logger``
    swaps the logger's handlers for all threads, so two requests muting at
    once can restore them under each other; this filter only drops the
    records of the thread inside ``expected()``.
    """

    _local = threading.local()

    def filter(self, record):
        return not getattr(self._local, "active", False)

    @classmethod
    @contextmanager
    def expected(cls):
        cls._local.active = True
        try:
            yield
        finally:
            cls._local.active = False


logging.getLogger("odoo.sql_db").addFilter(_ExpectedCollision())


class WebcareWebhookDelivery(models.Model):
    """One request a listening tool pushed to a webhook channel, as received.

    A delivery is written only once its request proved to come from the
    tool (``services/webhook.verify``): a bad signature writes nothing, so
    nobody can fill the database. The database allows one delivery per
    ``(channel, delivery id)``: that refuses replays and makes two identical
    requests arriving together store once (the second waits for the first
    and then finds its row, see ``_claim``). The raw body is kept, also when
    it is not readable JSON, so nothing the tool sent is lost.
    """

    _name = "webcare.webhook.delivery"
    _description = "Webcare webhook delivery"
    _order = "received_at desc, id desc"
    _rec_name = "delivery_id"

    channel_id = fields.Many2one(
        "webcare.channel", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    delivery_id = fields.Char(
        string="Delivery ID",
        required=True,
        readonly=True,
        help="The tool's webhook-id, or the SHA-256 of the body when it sent none.",
    )
    received_at = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now
    )
    auth = fields.Selection(
        [("signature", "Signed (HMAC-SHA256)"), ("token", "Token")],
        string="Authenticated by",
        readonly=True,
    )
    state = fields.Selection(
        [("stored", "Stored"), ("failed", "Failed")],
        required=True,
        readonly=True,
        help="Failed: the body could not be read; it is kept as received.",
    )
    error = fields.Text(readonly=True)
    body = fields.Text(readonly=True, help="The request body exactly as received.")
    purged_at = fields.Datetime(
        string="Body removed on",
        readonly=True,
        copy=False,
        help="When the retention period removed the request body.",
    )
    item_count = fields.Integer(string="Items", readonly=True)
    accepted_count = fields.Integer(string="Stored", readonly=True)
    failed_count = fields.Integer(
        string="Unreadable", readonly=True, help="Items kept as failed messages."
    )
    duplicate_count = fields.Integer(
        string="Already stored",
        readonly=True,
        help="Items an earlier delivery had brought already.",
    )
    message_ids = fields.Many2many(
        "webcare.message",
        "webcare_webhook_delivery_message_rel",
        "webhook_delivery_id",
        "message_id",
        string="Messages",
        readonly=True,
    )

    _channel_delivery_uniq = models.Constraint(
        "UNIQUE(channel_id, delivery_id)",
        "This delivery was already received for this channel.",
    )

    # ------------------------------------------------------------------
    # Receiving
    # ------------------------------------------------------------------

    @api.model
    def _webhook_channel(self, channel_id):
        """The active webhook channel with this id, or an empty recordset."""
        return (
            self.env["webcare.channel"]
            .sudo()
            .search([("id", "=", channel_id), ("provider", "=", "webhook")], limit=1)
        )

    @api.model
    def _receive(self, channel, headers, body):
        """Verify a request, then store the delivery and its items together.

        Returns ``(HTTP status, answer)``. Nothing is written before the
        request is verified. A delivery id the channel has already is
        answered like the first time and not stored again. Tickets are made
        afterwards by the processing cron, outside the request.
        """
        service = channel._get_service()
        try:
            verified = service.verify(headers, body, time.time())
        except WebhookRejected as exc:
            _logger.info("Webhook channel %s: refused (%s)", channel.id, exc.reason)
            return exc.status, {"error": exc.reason}
        received_at = fields.Datetime.now()
        try:
            page = service.parse_delivery(body, verified.delivery_id, received_at)
            error = None
        except PayloadError as exc:
            page, error = None, exc.message
        delivery = self._claim(channel, verified, received_at)
        if not delivery:
            return self._answer_replay(channel, verified.delivery_id)
        delivery.write(
            {
                "state": "failed" if error else "stored",
                "error": error,
                "body": body.decode("utf-8", "replace"),
            }
        )
        if not page:
            return 400, {"error": error, "delivery": verified.delivery_id}
        delivery._store_items(page)
        self._trigger_processing()
        return 202, delivery._answer()

    @api.model
    def _claim(self, channel, verified, received_at):
        """Insert the delivery's row; None when the channel has this id already.

        ``ON CONFLICT DO NOTHING`` waits for a concurrent request carrying
        the same id. When that one commits after this transaction started,
        PostgreSQL raises a serialization failure (not logged here) and Odoo
        runs this request again, which then finds the row: identical
        deliveries arriving together are stored once and both answered.
        """
        self.env.cr.execute(
            SQL(
                """INSERT INTO %s (channel_id, company_id, delivery_id, auth,
                       received_at, state, create_uid, create_date, write_uid,
                       write_date)
                   VALUES (%s, %s, %s, %s, %s, 'stored', %s, %s, %s, %s)
                   ON CONFLICT (channel_id, delivery_id) DO NOTHING
                   RETURNING id""",
                SQL.identifier(self._table),
                channel.id,
                channel.company_id.id,
                verified.delivery_id,
                verified.auth,
                received_at,
                self.env.uid,
                received_at,
                self.env.uid,
                received_at,
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else None

    def _store_items(self, page):
        """Store the page's items as messages; count what became of them.

        Items another delivery is storing at this very moment (a tool that
        sent them twice under different ids) collide with that delivery's
        messages: the request is then run again once the other one
        committed, and finds them stored (duplicates).
        """
        try:
            with self.env.cr.savepoint(), _ExpectedCollision.expected():
                messages = self.env["webcare.message"]._store_page(
                    self.channel_id, page
                )
        except IntegrityError as exc:
            raise ConcurrencyError(
                f"Webhook delivery {self.delivery_id}: items stored concurrently"
            ) from exc
        items = len(page.posts) + len(page.errors)
        failed = messages.filtered(lambda m: m.state == "failed")
        self.write(
            {
                "item_count": items,
                "accepted_count": len(messages) - len(failed),
                "failed_count": len(failed),
                "duplicate_count": items - len(messages),
                "message_ids": [fields.Command.set(messages.ids)],
            }
        )

    def _answer(self):
        failed = self.message_ids.filtered(lambda m: m.state == "failed")
        return {
            "delivery": self.delivery_id,
            "items": self.item_count,
            "accepted": self.accepted_count,
            "failed": self.failed_count,
            "duplicates": self.duplicate_count,
            "errors": [{"id": m.external_id or None, "error": m.error} for m in failed],
        }

    @api.model
    def _answer_replay(self, channel, delivery_id):
        """A delivery id received before: say so, with how it went then.

        200, so the tool stops retrying (Standard Webhooks treats any 2xx as
        delivered and the id as the idempotency key); a body that failed
        then fails the same way now (400).
        """
        _logger.info("Webhook channel %s: delivery %s again", channel.id, delivery_id)
        earlier = self.search(
            [("channel_id", "=", channel.id), ("delivery_id", "=", delivery_id)]
        )
        answer = {"delivery": delivery_id, "already_received": True}
        if earlier.state == "failed":
            return 400, dict(answer, error=earlier.error)
        return 200, dict(answer, accepted=0, duplicates=earlier.item_count)

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    @api.model
    def _trigger_processing(self):
        """Have the processing cron make the tickets, after this commit."""
        cron = self.env.ref(
            "webcare_social.ir_cron_webcare_webhook_process", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger()

    @api.model
    def _cron_process(self):
        """Cron: make tickets of what the webhook channels received.

        Runs each channel's import (which takes the channel's lock, so it
        never overlaps the same channel's other run, and only processes:
        a webhook channel has nothing to read).
        """
        channels = self.env["webcare.channel"].search(
            [("provider", "=", "webhook"), ("state", "!=", "paused")]
        )
        pending = self.env["webcare.message"]._read_group(
            [("channel_id", "in", channels.ids), ("state", "=", "new")],
            ["channel_id"],
        )
        for (channel,) in pending:
            channel._fetch()
            in_cron = self.env.context.get("ir_cron_progress_id")
            if in_cron and self.env["ir.cron"]._commit_progress(1) <= 0:
                break  # out of time: the cron runs again soon

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _retention_candidates(self, cutoff):
        return SQL("purged_at IS NULL AND received_at < %s", cutoff)

    @api.model
    def _retention_purge(self, cutoff, days, limit):
        """Remove the body of up to ``limit`` deliveries received before
        ``cutoff``; their counts and messages stay. Returns how many."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """UPDATE webcare_webhook_delivery SET body = NULL, purged_at = %s
                    WHERE id IN (SELECT id FROM webcare_webhook_delivery
                                  WHERE %s LIMIT %s
                                    FOR NO KEY UPDATE SKIP LOCKED)
                RETURNING id""",
                fields.Datetime.now(),
                self._retention_candidates(cutoff),
                limit,
            )
        )
        self.browse([row[0] for row in rows]).invalidate_recordset()
        return len(rows)

    @api.autovacuum
    def _gc_stored_deliveries(self):
        """Forget stored deliveries after a while; their messages remain.

        A replay that old is refused by its timestamp anyway.
        """
        limit = fields.Datetime.now() - timedelta(days=KEEP_STORED_DAYS)
        self.search([("state", "=", "stored"), ("received_at", "<", limit)]).unlink()
