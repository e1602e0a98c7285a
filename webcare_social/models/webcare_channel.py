import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import split_every

from ..exceptions import (
    InvalidCursor,
    PayloadError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from ..services.base import get_provider_class
from ..services.webhook import new_secret

_logger = logging.getLogger(__name__)

SECRET = {"groups": "base.group_system", "copy": False}
# a channel failing this long tells the Webcare managers (once)
FAILING_NOTICE_AFTER = timedelta(hours=24)


class ChannelTaken(Exception):
    """Another run locked the channel between two commits of this one."""


class WebcareChannel(models.Model):
    """One connected social account, read for mentions and DMs.

    The channel holds the credentials, the sync state (one cursor per stream
    in ``webcare.channel.stream``, rate limit, last error) and the rules
    that decide what becomes a ticket. What differs between networks lives
    in the provider client (``services/``): its streams, their paging rule
    and cursors, the credential fields it reads. ``action_fetch`` and the
    cron run ``_fetch``, which commits per page (in the cron) and moves a
    stream's cursor only after everything up to it is stored.
    """

    _name = "webcare.channel"
    _description = "Webcare channel"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    provider = fields.Selection(
        [
            ("x", "X"),
            ("mastodon", "Mastodon"),
            ("bluesky", "Bluesky"),
            ("webhook", "Webhook"),
        ],
        required=True,
        default="x",
    )
    api_base_url = fields.Char(
        string="API base URL",
        help="Root of the provider's API (a Mastodon instance, a Bluesky PDS); "
        "empty: the provider's usual one. A proxy or a local stand-in works too.",
    )
    # credentials: each provider client names the ones it reads
    # (``credential_fields``); the form shows those of the channel's provider
    bearer_token = fields.Char(**SECRET)
    api_key = fields.Char(string="API key", **SECRET)
    api_key_secret = fields.Char(string="API key secret", **SECRET)
    access_token = fields.Char(**SECRET)
    access_token_secret = fields.Char(**SECRET)
    account_login = fields.Char(
        string="Login",
        groups="base.group_system",
        copy=False,
        help="The account's handle or e-mail to log in with (Bluesky).",
    )
    app_password = fields.Char(**SECRET)
    provider_session = fields.Text(
        **SECRET, help="The provider's login session, kept between runs."
    )
    webhook_secret = fields.Char(**SECRET)
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        help="Where the listening tool posts its items (POST, JSON, signed with "
        "the webhook secret).",
    )
    account_external_id = fields.Char(
        string="Account id", readonly=True, copy=False, help="Its id on the network."
    )
    account_handle = fields.Char(string="Account", readonly=True, copy=False)
    team_id = fields.Many2one(
        "helpdesk.ticket.team", string="Helpdesk team", help="Team of new tickets."
    )
    state = fields.Selection(
        [
            ("draft", "Not connected"),
            ("connected", "Connected"),
            ("paused", "Paused"),
            ("error", "Error"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    last_fetch_at = fields.Datetime(string="Last import", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_at = fields.Datetime(string="Last error on", readonly=True, copy=False)
    rate_limited_until = fields.Datetime(readonly=True, copy=False)
    failing_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="Since when every import failed (empty once one succeeds).",
    )
    failing_notified = fields.Boolean(readonly=True, copy=False)
    stream_ids = fields.One2many(
        "webcare.channel.stream", "channel_id", string="Streams", readonly=True
    )
    next_fetch_at = fields.Datetime(
        compute="_compute_next_fetch_at",
        string="Next import",
        help="When the import cron reads this channel next.",
    )
    include_keywords = fields.Char(
        help="Comma-separated; when set, only posts containing one of them "
        "become tickets (DMs always do)."
    )
    exclude_keywords = fields.Char(
        help="Comma-separated; posts containing one of them are ignored."
    )
    followers_high = fields.Integer(
        string="High reach from", default=10_000, help="Followers for high priority."
    )
    followers_very_high = fields.Integer(
        string="Very high reach from",
        default=100_000,
        help="Followers for very high priority.",
    )
    sla_target_minutes = fields.Integer(
        string="First response target (minutes)",
        default=60,
        help="Time from the customer's post to our first reply.",
    )
    sla_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Business hours",
        help="The response clock only runs in these hours; empty: around the clock.",
    )
    sla_risk_percent = fields.Integer(
        string="At risk in the last (%)",
        default=25,
        help="A waiting ticket is at risk in this last part of the target.",
    )
    storyline_dm = fields.Boolean(
        string="DMs join the author's ticket",
        default=True,
        help="A DM (or a post saying one was sent) from an author with an open "
        "ticket, or one closed within the reopen window, joins that ticket.",
    )
    approval_tag_ids = fields.Many2many(
        "helpdesk.ticket.tag",
        string="Approval for tags",
        help="Replies on tickets with one of these tags wait for a Webcare manager.",
    )
    approval_followers = fields.Integer(
        string="Approval from followers",
        default=100_000,
        help="Replies to authors with at least this many followers wait for a "
        "Webcare manager; 0: never.",
    )
    surge_factor = fields.Float(
        default=5.0,
        digits=(16, 1),
        help="A surge incident opens when the last 15 minutes bring this many "
        "times the usual volume; 0: no surge detection.",
    )
    surge_min_volume = fields.Integer(
        string="Surge minimum volume",
        default=10,
        help="Fewer inbound messages than this in 15 minutes are never a surge.",
    )
    surge_baseline_days = fields.Integer(
        string="Surge baseline (days)",
        default=7,
        help="The usual volume is the average per 15 minutes over these days "
        "(only since the channel has messages; without a day of history, no "
        "surge is detected).",
    )
    webcare_message_ids = fields.One2many(
        "webcare.message", "channel_id", string="Social messages"
    )
    received_24h = fields.Integer(
        compute="_compute_counts_24h",
        string="Received 24h",
        help="Messages from customers stored in the last 24 hours.",
    )
    ticketed_24h = fields.Integer(
        compute="_compute_counts_24h",
        string="Ticketed 24h",
        help="Of those, made into a ticket or added to one.",
    )
    ignored_24h = fields.Integer(compute="_compute_counts_24h", string="Ignored 24h")
    failed_24h = fields.Integer(compute="_compute_counts_24h", string="Failed 24h")

    _sla_target_positive = models.Constraint(
        "CHECK(sla_target_minutes > 0)", "The response target must be positive."
    )
    _sla_risk_percent_range = models.Constraint(
        "CHECK(sla_risk_percent BETWEEN 0 AND 100)",
        "The at-risk share is a percentage.",
    )
    _surge_factor_positive = models.Constraint(
        "CHECK(surge_factor >= 0)", "The surge factor cannot be negative."
    )
    _surge_min_volume_positive = models.Constraint(
        "CHECK(surge_min_volume > 0)", "The surge minimum volume must be positive."
    )
    _surge_baseline_days_range = models.Constraint(
        "CHECK(surge_baseline_days BETWEEN 1 AND 90)",
        "The surge baseline is 1 to 90 days.",
    )
    _provider_account_uniq = models.Constraint(
        "UNIQUE(provider, account_external_id)",
        "This account is already connected by another channel: "
        "two channels would import every message twice.",
    )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        # a session belongs to the login it was opened with
        if {"account_login", "app_password", "api_base_url"} & set(vals):
            vals = {**vals, "provider_session": False}
        return super().write(vals)

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    def _compute_counts_24h(self):
        groups = self.env["webcare.message"]._read_group(
            self._recent_domain(),
            ["channel_id", "state"],
            ["__count"],
        )
        counts = {(channel.id, state): count for channel, state, count in groups}
        for channel in self:
            per_state = {
                state: counts.get((channel.id, state), 0)
                for state in ("new", "ticketed", "ignored", "failed")
            }
            channel.received_24h = sum(per_state.values())
            channel.ticketed_24h = per_state["ticketed"]
            channel.ignored_24h = per_state["ignored"]
            channel.failed_24h = per_state["failed"]

    def _recent_domain(self):
        """The inbound messages of these channels stored in the last 24 hours."""
        return [
            ("channel_id", "in", self.ids),
            ("direction", "=", "inbound"),
            ("create_date", ">=", fields.Datetime.now() - timedelta(hours=24)),
        ]

    @api.depends("provider")
    def _compute_webhook_url(self):
        for channel in self:
            channel_id = channel._origin.id
            channel.webhook_url = (
                f"{channel.get_base_url()}/webcare/webhook/{channel_id}"
                if channel.provider == "webhook" and channel_id
                else False
            )

    @api.depends("state", "rate_limited_until", "provider")
    def _compute_next_fetch_at(self):
        cron = self.env.ref("webcare_social.ir_cron_webcare_fetch", False)
        cron = cron and cron.sudo()
        nextcall = cron.nextcall if cron and cron.active else False
        for channel in self:
            provider = channel._get_provider_class_or_none()
            polled = channel.state == "connected" and provider and provider.polled
            if not (polled and nextcall):
                channel.next_fetch_at = False
                continue
            limit = channel.rate_limited_until or nextcall
            channel.next_fetch_at = max(nextcall, limit)

    # ------------------------------------------------------------------
    # Provider access
    # ------------------------------------------------------------------

    def _get_provider_class(self):
        """The API client class of this channel (override to pick another).

        Raises ``ProviderError`` when no client handles the provider.
        """
        self.ensure_one()
        return get_provider_class(self.provider)

    def _get_provider_class_or_none(self):
        try:
            return self._get_provider_class()
        except ProviderError:
            return None

    def _get_service(self):
        """Return the API client of this channel's provider."""
        self.ensure_one()
        return self._get_provider_class()(
            self.api_base_url or False,
            self.sudo()._credentials(),
            account_id=self.account_external_id,
        )

    def _credentials(self):
        """The credential fields the provider client names, by name."""
        names = self._get_provider_class().credential_fields
        return {name: self[name] or None for name in names}

    def _cursor(self, code):
        """The stored cursor of stream ``code`` (False when there is none)."""
        self.ensure_one()
        return self.stream_ids.filtered(lambda s: s.code == code)[:1].cursor or False

    def _set_cursor(self, code, value):
        """Set (or clear, with False) the cursor of stream ``code``."""
        self.ensure_one()
        self.env["webcare.channel.stream"]._of(self, code).cursor = value

    def _keep_session(self, service):
        """Store the login session the client refreshed, if it did."""
        session = service.session_state()
        if session is not None and session != self.sudo().provider_session:
            self.sudo().provider_session = session

    def _network(self):
        """The ``webcare.identity`` network of this channel's authors."""
        return self.provider

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_test_connection(self):
        """Ask the provider who we are; fill the account and mark connected."""
        for channel in self:
            try:
                service = channel._get_service()
                me = service.whoami()
            except ProviderError as exc:
                channel._record_error(exc, state="error")
                return channel._notify(exc.message, "danger")
            channel._keep_session(service)
            if channel.account_external_id not in (False, me.external_id):
                # another account (or instance): its streams start afresh
                channel.stream_ids.unlink()
            channel.write(
                {
                    "account_external_id": me.external_id,
                    "account_handle": me.handle,
                    "state": "connected",
                    "last_error": False,
                    "failing_since": False,
                    "failing_notified": False,
                }
            )
        # the form shows the new state (and the Import button) at once
        return self._notify(self.env._("Connected."), "success", reload=True)

    def action_webhook_new_secret(self):
        """Give the channel a new random secret; the old one stops working."""
        self.ensure_one()
        self.sudo().webhook_secret = new_secret()
        return self._notify(
            self.env._(
                "New webhook secret set: copy it into the listening tool now; "
                "the old one no longer works."
            ),
            "warning",
            reload=True,
        )

    def action_pause(self):
        """Stop importing (and sending) until resumed; nothing is lost meanwhile."""
        self.filtered(lambda c: c.state == "connected").state = "paused"

    def action_resume(self):
        self.filtered(lambda c: c.state == "paused").state = "connected"

    def action_fetch(self):
        """Run one import for these channels now."""
        busy = self.browse([channel.id for channel in self if not channel._fetch()])
        if busy:
            return self._notify(
                self.env._(
                    "Already being imported right now: %(channels)s",
                    channels=", ".join(busy.mapped("name")),
                ),
                "warning",
            )
        errors = self.filtered("last_error")
        if errors:
            return self._notify("\n".join(errors.mapped("last_error")), "warning")
        return self._notify(self.env._("Import done."), "success")

    def action_retry_failed(self):
        """Process the failed messages of these channels again."""
        failed = self.env["webcare.message"].search(
            [("channel_id", "in", self.ids), ("state", "=", "failed")]
        )
        failed.action_retry()
        return True

    def action_view_messages(self):
        """The channel's messages; from a health count, only what it counts."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.webcare_message_action"
        )
        action["domain"] = [("channel_id", "=", self.id)]
        state = self.env.context.get("webcare_health_state")
        if state:
            action["domain"] = self._recent_domain()
            if state != "all":
                action["domain"].append(("state", "=", state))
        return action

    def _notify(self, message, kind, reload=False):
        params = {"message": message, "type": kind, "sticky": kind != "success"}
        if reload:
            params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": params,
        }

    # ------------------------------------------------------------------
    # Import run
    # ------------------------------------------------------------------

    @api.model
    def _cron_fetch(self):
        """Cron: import every connected channel, each in its own transactions.

        A channel whose run breaks unexpectedly is rolled back and keeps the
        error; the other channels are still imported.
        """
        for channel in self.search([("state", "=", "connected")]):
            provider = channel._get_provider_class_or_none()
            if not (provider and provider.polled):
                continue  # pushed to us (webhook), or no client installed
            try:
                channel._fetch()
            except Exception as exc:
                if not self._in_cron():
                    raise
                self.env.cr.rollback()
                _logger.exception("Channel %s: import failed", channel.id)
                channel._record_error(ProviderError(str(exc) or repr(exc)))
            if self._in_cron() and self.env["ir.cron"]._commit_progress() <= 0:
                break  # out of time: the cron runs again soon

    def _fetch(self):
        """Import new mentions and DMs of this channel; record how it went.

        The channel row stays locked for the whole run (taken again after
        each commit), so a second run skips the channel instead of working
        on it at the same time. Returns False when it was skipped so.
        """
        self.ensure_one()
        if not self.try_lock_for_update(allow_referencing=True):
            return False
        try:
            if not self._rate_limited():
                self._fetch_streams()
            self._process_pending()
        except ChannelTaken:
            _logger.info("Channel %s: another run took over the import", self.id)
        return True

    def _fetch_streams(self):
        """Read every stream of the provider; keep the outcome on the channel."""
        try:
            service = self._get_service()
            for stream in service.streams:
                self._fetch_stream(service, stream.code)
        except ProviderRateLimited as exc:
            self._record_rate_limit(exc)
        except ProviderAuthError as exc:
            self._record_error(exc, state="error")
            self._warn_admin(exc)
        except PayloadError as exc:  # keep what could not be read
            self._record_error(exc)
            if exc.raw:
                self.env["webcare.message"]._store_unreadable(
                    self, exc.message, exc.raw
                )
        except ProviderError as exc:
            self._record_error(exc)
        else:
            self._record_success()
        if "service" in locals():
            self._keep_session(service)
        self._commit()

    def _process_pending(self, batch_size=50):
        """Process the stored, unprocessed messages, oldest first, per batch."""
        pending = self.env["webcare.message"].search(
            [("channel_id", "=", self.id), ("state", "=", "new")],
            order="posted_at, external_id, id",
        )
        for batch in split_every(batch_size, pending.ids, pending.browse):
            batch._process()
            if self._commit(processed=len(batch)) <= 0:
                return

    def _rate_limited(self):
        return bool(self.rate_limited_until) and (
            self.rate_limited_until > fields.Datetime.now()
        )

    def _fetch_stream(self, service, code):
        """Page through one stream and move its cursor once all is stored."""
        stream = self.env["webcare.channel.stream"]._of(self, code)
        try:
            cursor = self._fetch_pages(service, code, stream.cursor or None)
        except InvalidCursor:
            _logger.info("Channel %s: %s cursor refused, full resync", self.id, code)
            cursor = self._fetch_pages(service, code, None)
        stream._drained(cursor)
        self._commit()

    def _fetch_pages(self, service, code, cursor):
        """Store every page of a read from ``cursor``; return the new cursor.

        The provider decides when the stream is drained and what the cursor
        becomes (``Page.cursor``; None keeps what an earlier page said).
        """
        Message = self.env["webcare.message"]
        new_cursor, token = None, None
        while True:
            page = service.fetch(code, cursor, token)
            new_cursor = page.cursor or new_cursor
            Message._store_page(self, page)
            self._commit()
            if page.drained:
                return new_cursor
            token = page.next_token

    def _commit(self, processed=0):
        """Commit progress when running as the cron; tests and buttons don't.

        After a commit the channel is locked again; if another run took it
        meanwhile, ``ChannelTaken`` ends this one. Returns the seconds left
        for this cron run (infinite outside a cron).
        """
        if not self._in_cron():
            return float("inf")
        remaining = self.env["ir.cron"]._commit_progress(processed)
        if not self.try_lock_for_update(allow_referencing=True):
            raise ChannelTaken()
        return remaining

    def _in_cron(self):
        return bool(self.env.context.get("ir_cron_progress_id"))

    # ------------------------------------------------------------------
    # Sync state
    # ------------------------------------------------------------------

    def _record_rate_limit(self, exc):
        until = exc.retry_at or fields.Datetime.now() + timedelta(minutes=15)
        self.write(
            {
                "rate_limited_until": until,
                "last_error": self.env._(
                    "Rate limit reached; next import after %(when)s (UTC).", when=until
                ),
                "last_error_at": fields.Datetime.now(),
            }
        )

    def _record_success(self):
        self.write(
            {
                "last_fetch_at": fields.Datetime.now(),
                "last_error": False,
                "failing_since": False,
                "failing_notified": False,
            }
        )

    def _record_error(self, exc, state=None):
        _logger.warning("Channel %s (%s): %s", self.id, self.name, exc.message)
        now = fields.Datetime.now()
        vals = {"last_error": exc.message, "last_error_at": now}
        if not self.failing_since:
            vals["failing_since"] = now
        if state:
            vals["state"] = state
        self.write(vals)
        self._notify_managers_if_failing()

    def _notify_managers_if_failing(self):
        """Tell the Webcare managers, once, about a channel failing for a day."""
        if self.failing_notified or not self.failing_since:
            return
        if self.failing_since > fields.Datetime.now() - FAILING_NOTICE_AFTER:
            return
        managers = self.env.ref("webcare_social.group_webcare_manager").sudo()
        partners = managers.all_user_ids.filtered("active").partner_id
        env = self.with_context(lang=self.company_id._webcare_text_lang()).env
        self.message_post(
            body=env._(
                "No import of %(channel)s has succeeded since %(since)s (UTC). "
                "Last error: %(error)s",
                channel=self.name,
                since=self.failing_since,
                error=self.last_error or "",
            ),
            partner_ids=partners.ids,
            message_type="notification",
            subtype_xmlid="mail.mt_comment",
        )
        self.failing_notified = True

    def _warn_admin(self, exc):
        """Leave the administrator a to-do on the channel to reconnect it."""
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        todo = self.env.ref("mail.mail_activity_data_todo")
        if self.activity_ids.filtered(lambda a: a.activity_type_id == todo):
            return  # one open to-do is enough, however often the import fails
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Reconnect %(channel)s", channel=self.name),
            note=exc.message,
            user_id=(admin or self.env.user).id,
        )
