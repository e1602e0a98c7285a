import logging
from datetime import datetime

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import ProviderError
from ..tools import languages, render, tone
from .webcare_identity import NETWORKS

AGENT_GROUP = "webcare_social.group_webcare_agent"

_logger = logging.getLogger(__name__)
# the author's latest tickets a DM may join (open, or closed recently)
STORYLINE_CANDIDATES = 10

IGNORE_REASONS = [
    ("repost", "Repost / retweet"),
    ("own_post", "Posted by our own account"),
    ("excluded_keyword", "Contains an excluded keyword"),
    ("no_included_keyword", "Contains none of the required keywords"),
]
# messages the retention leaves alone: not processed yet, or replies not sent yet
# (their words are still needed)
RETENTION_SKIPPED_STATES = ("new", "to_approve", "outgoing", "sending")


class WebcareMessage(models.Model):
    """One post or direct message, inbound or outbound, as received.

    Every item a provider returns is stored here (``payload`` keeps its raw
    JSON) before it is processed, so nothing is lost: processing then
    matches the author to an identity, filters noise and threads the
    message into a helpdesk ticket, or marks it ``failed`` with the error.
    """

    _name = "webcare.message"
    _description = "Social message"
    _order = "posted_at desc, id desc"

    channel_id = fields.Many2one(
        "webcare.channel", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    # looked up with channel_id, served by the unique index below
    external_id = fields.Char(string="ID on the network")
    kind = fields.Selection(
        [("mention", "Mention"), ("reply", "Reply"), ("dm", "Direct message")]
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], default="inbound"
    )
    identity_id = fields.Many2one("webcare.identity", string="Author", index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        index=True,
        help="The customer: the author of an inbound message, the person we "
        "answered for an outbound one.",
    )
    author_external_id = fields.Char()
    author_handle = fields.Char()
    author_network = fields.Selection(
        NETWORKS,
        help="The author's network when it is not the channel's (webhook, file).",
    )
    author_name = fields.Char()
    author_followers = fields.Integer()
    author_verified = fields.Boolean()
    body = fields.Text()
    lang = fields.Selection(
        "_lang_selection",
        string="Language",
        help="The language the network detected in the text.",
    )
    posted_at = fields.Datetime()
    conversation_ref = fields.Char(index=True)
    parent_ref = fields.Char()
    url = fields.Char(string="URL")
    is_repost = fields.Boolean()
    ticket_id = fields.Many2one("helpdesk.ticket", index=True, ondelete="set null")
    state = fields.Selection(
        [
            ("new", "New"),
            ("ticketed", "Ticketed"),
            ("ignored", "Ignored"),
            ("to_approve", "To approve"),
            ("outgoing", "Outgoing"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        default="new",
        required=True,
        index=True,
    )
    ignore_reason = fields.Selection(IGNORE_REASONS)
    error = fields.Text(help="Why it failed, for people.")
    error_detail = fields.Text(
        string="Technical detail", help="The error as the code saw it."
    )
    payload = fields.Text(
        help="The item exactly as received (JSON).", groups=AGENT_GROUP
    )
    evidence_ids = fields.One2many(
        "webcare.evidence", "message_id", string="Details found", groups=AGENT_GROUP
    )
    purged_at = fields.Datetime(
        string="Raw data removed on",
        readonly=True,
        copy=False,
        help="When the retention period removed the raw payload (and the text "
        "of a direct message). The message itself stays, for the statistics.",
    )

    _channel_external_id_uniq = models.Constraint(
        "UNIQUE(channel_id, external_id)",
        "This message was already imported for this channel.",
    )
    _partner_posted_idx = models.Index(
        "(partner_id, posted_at DESC) WHERE partner_id IS NOT NULL"
    )
    # surge detection counts a channel's inbound volume by post time
    _inbound_posted_idx = models.Index(
        "(channel_id, posted_at) WHERE direction = 'inbound'"
    )
    # the response-time report (webcare.report.response) selects inbound
    # messages by COALESCE(posted_at, create_date) and reads only these
    # columns: an index-only scan instead of the wide rows with their payload
    _report_posted_idx = models.Index(
        "((COALESCE(posted_at, create_date))) INCLUDE (posted_at, create_date, "
        "channel_id, ticket_id, company_id, state, lang, kind, ignore_reason) "
        "WHERE direction = 'inbound'"
    )
    # the retention cron's candidates: only the messages not purged yet
    _retention_idx = models.Index(
        "((COALESCE(posted_at, create_date))) WHERE purged_at IS NULL"
    )

    def _lang_selection(self):
        return languages.selection(self.env.lang)

    @api.depends("author_handle", "body", "external_id", "kind", "purged_at")
    @api.depends_context("uid")
    def _compute_display_name(self):
        can_read_dm = self._can_read_dm()
        for message in self:
            if message.kind == "dm" and not can_read_dm:
                text = self.env._("Direct message")
            else:
                text = render.shorten(message._readable_body() or "", 50)
            if not message.author_handle:
                text = text or message.external_id or self.env._("Unreadable item")
                message.display_name = text
                continue
            message.display_name = f"@{message.author_handle}: {text}"

    @api.model
    def _can_read_dm(self):
        """Tell whether the user may read DM texts (Webcare users only)."""
        return self.env.su or self.env.user.has_group(AGENT_GROUP)

    def _banner_text(self):
        """ "Posted on X 2 hours ago: '…'" for the recognition banner."""
        self.ensure_one()
        network = dict(
            self.channel_id._fields["provider"]._description_selection(self.env)
        ).get(self.channel_id.provider, "")
        age = self.env["res.partner"]._webcare_age(self.posted_at)
        if self.kind == "dm":
            text = self.env._(
                "Sent a DM on %(network)s %(age)s", network=network, age=age
            )
            if not self.sudo(False)._can_read_dm():
                return text
        else:
            text = self.env._("Posted on %(network)s %(age)s", network=network, age=age)
        if self._text_purged():
            return f"{text}: {self._purged_notice()}"
        quote = render.shorten(render.strip_mentions(self.body) or self.body, 80)
        return f"{text}: “{quote}”"

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    def _text_purged(self):
        """Whether the retention period removed this message's text (a DM's)."""
        self.ensure_one()
        return bool(self.purged_at and self.kind == "dm" and not self.body)

    @api.model
    def _purged_notice(self):
        return self.env._("Removed after the retention period")

    def _readable_body(self):
        """The text, or a line saying the retention period removed it."""
        self.ensure_one()
        return self._purged_notice() if self._text_purged() else self.body

    @api.model
    def _retention_candidates(self, cutoff):
        """SQL condition: the messages posted before ``cutoff`` not purged yet."""
        return SQL(
            "purged_at IS NULL AND COALESCE(posted_at, create_date) < %s"
            " AND state NOT IN %s",
            cutoff,
            RETENTION_SKIPPED_STATES,
        )

    @api.model
    def _retention_purge(self, cutoff, days, limit):
        """Remove the payload of up to ``limit`` messages posted before
        ``cutoff``, and the text of the DMs among them (with its chatter copy).

        Plain SQL: nothing else of the message changes (states, times, links
        stay for the statistics), and the outbound reply's write guard, which
        is about people editing replies, is not involved. Rows another
        transaction holds are skipped (the next run gets them). Returns how
        many messages were purged.
        """
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM webcare_message WHERE %s LIMIT %s"
                " FOR NO KEY UPDATE SKIP LOCKED",
                self._retention_candidates(cutoff),
                limit,
            )
        )
        ids = [row[0] for row in rows]
        if not ids:
            return 0
        copies = self.env.execute_query(
            SQL(
                """UPDATE webcare_message
                      SET payload = NULL,
                          body = CASE WHEN kind = 'dm' THEN NULL ELSE body END,
                          purged_at = %s
                    WHERE id = ANY(%s)
                RETURNING CASE WHEN kind = 'dm' THEN chatter_message_id END""",
                fields.Datetime.now(),
                ids,
            )
        )
        self.browse(ids).invalidate_recordset()
        self.env["mail.message"]._webcare_purge_dm_copies(
            [copy_id for (copy_id,) in copies if copy_id], days
        )
        return len(ids)

    # ------------------------------------------------------------------
    # Storing what a provider sent
    # ------------------------------------------------------------------

    @api.model
    def _store_page(self, channel, page):
        """Store the new items of a provider ``Page``; processing comes later.

        Pages arrive newest first; the channel processes what is stored in
        chronological order once its streams are read, so a conversation's
        first post opens the ticket and later ones follow it.
        """
        return self._store_posts(channel, page.posts) | self._store_errors(
            channel, page.errors
        )

    @api.model
    def _store_posts(self, channel, posts):
        """Create one message per post not stored yet; return the created ones."""
        known = self._known_ids(channel, [p.external_id for p in posts])
        fresh = {p.external_id: p for p in posts if p.external_id not in known}
        return self.create([self._prepare_vals(channel, p) for p in fresh.values()])

    @api.model
    def _store_errors(self, channel, item_errors):
        """Keep each unreadable item as a ``failed`` message with its payload."""
        known = self._known_ids(channel, [e.external_id for e in item_errors])
        return self.create(
            [
                self._failed_vals(
                    channel, e.error, e.raw, e.external_id, e.partial, e.detail
                )
                for e in item_errors
                if not e.external_id or e.external_id not in known
            ]
        )

    @api.model
    def _store_unreadable(self, channel, error, raw):
        """Keep a response that could not be read at all, as a failed message."""
        return self.create(self._failed_vals(channel, error, raw))

    @api.model
    def _failed_vals(
        self, channel, error, raw, external_id=False, partial=None, detail=False
    ):
        """Values of a message that could not be read; keep what could."""
        vals = {
            "channel_id": channel.id,
            "external_id": external_id,
            "state": "failed",
            "error": error,
            "error_detail": detail,
            "payload": raw,
        }
        if partial:
            vals.update(
                {
                    "kind": partial.kind,
                    "body": partial.body,
                    "posted_at": partial.posted_at,
                    "author_external_id": partial.author_external_id,
                    "author_handle": partial.author_handle,
                    "url": partial.url,
                }
            )
        return vals

    @api.model
    def _known_ids(self, channel, external_ids):
        """The ``external_ids`` already stored for ``channel``."""
        external_ids = [i for i in external_ids if i]
        if not external_ids:
            return set()
        stored = self.search_fetch(
            [("channel_id", "=", channel.id), ("external_id", "in", external_ids)],
            ["external_id"],
        )
        return set(stored.mapped("external_id"))

    @api.model
    def _prepare_vals(self, channel, post):
        """Map a ``SocialPost`` to message values (no lookups, no side effects)."""
        author = post.author
        return {
            "channel_id": channel.id,
            "external_id": post.external_id,
            "kind": post.kind,
            "direction": post.direction,
            "author_external_id": author.external_id,
            "author_handle": author.handle,
            "author_network": author.network,
            "author_name": author.name,
            "author_followers": author.followers_count,
            "author_verified": author.verified,
            "body": post.body,
            "lang": languages.normalize(post.lang),
            "posted_at": post.posted_at,
            "conversation_ref": post.conversation_ref,
            "parent_ref": post.parent_ref,
            "url": post.url,
            "is_repost": post.is_repost,
            "payload": post.raw,
        }

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    def _process(self):
        """Process each message on its own; one failure does not stop the rest.

        The authors' identities and the conversations' tickets are read once
        for the batch and updated as messages succeed.
        """
        memo = self._batch_memo()
        langs = {}
        for message in self:
            company = message.channel_id.company_id
            if company not in langs:
                langs[company] = company._webcare_text_lang()
            try:
                with self.env.cr.savepoint():
                    # tickets and chatter lines in the team's language
                    message.with_context(lang=langs[company])._process_one(memo)
            except Exception as exc:  # noqa: BLE001 - kept on the message instead
                _logger.info("Message %s failed: %s", message.id, exc)
                message.write(
                    {
                        "state": "failed",
                        "error": _readable_error(message.env, exc),
                        "error_detail": f"{type(exc).__name__}: {exc}",
                    }
                )
            else:
                memo.learn(message)

    def _batch_memo(self):
        """Read the identities and conversation tickets this batch needs."""
        identities = {}
        for network in {m._author_network() for m in self}:
            mine = self.filtered(lambda m, n=network: m._author_network() == n)
            author_ids = [i for i in mine.mapped("author_external_id") if i]
            found = self.env["webcare.identity"].search(
                [("network", "=", network), ("external_id", "in", author_ids)]
            )
            identities.update({(network, i.external_id): i for i in found})
        earlier = self.search(
            [
                ("channel_id", "in", self.channel_id.ids),
                (
                    "conversation_ref",
                    "in",
                    [r for r in self.mapped("conversation_ref") if r],
                ),
                ("ticket_id", "!=", False),
                ("id", "not in", self.ids),
            ]
        )  # newest first: the first one met is a conversation's current ticket
        tickets = {}
        for message in earlier:
            key = (message.channel_id.id, message.conversation_ref)
            tickets.setdefault(key, message.ticket_id)
        return _BatchMemo(identities, tickets)

    def _process_one(self, memo):
        self.ensure_one()
        reason = self._ignore_reason()
        if reason == "own_post":  # our account is no customer: keep it with its thread
            ticket = memo.ticket_of(self)
            self.write(
                {
                    "state": "ignored",
                    "ignore_reason": reason,
                    "ticket_id": ticket.id,
                    "partner_id": ticket.partner_id.id,
                }
            )
            # answered straight on the network: the response clock stops too
            ticket._webcare_mark_answered(self.posted_at)
            return
        identity = self.env["webcare.identity"]._match_author(
            self._author_network(), self._author_values(), known=memo.identities
        )
        self.write({"identity_id": identity.id, "partner_id": identity.partner_id.id})
        if reason:
            self.write(
                {
                    "state": "ignored",
                    "ignore_reason": reason,
                    "error": False,
                    "error_detail": False,
                }
            )
            return
        ticket = (
            memo.ticket_of(self) or self._parent_ticket() or self._storyline_ticket()
        ).with_env(self.env)  # the batch's tickets, in this message's language
        if ticket and ticket._webcare_continues():
            ticket._webcare_message_update(self)
        else:
            ticket = self.env["helpdesk.ticket"]._webcare_message_new(self)
        self.write(
            {
                "state": "ticketed",
                "ticket_id": ticket.id,
                "error": False,
                "error_detail": False,
            }
        )
        self.env["webcare.evidence"].sudo()._record(self)

    def _author_network(self):
        """The identity network of the author: their own, else the channel's."""
        return self.author_network or self.channel_id._network()

    def _author_values(self):
        return {
            "external_id": self.author_external_id,
            "handle": self.author_handle,
            "name": self.author_name,
            "followers_count": self.author_followers,
            "verified": self.author_verified,
        }

    def _ignore_reason(self):
        """Return why this message must not become a ticket, or False."""
        channel = self.channel_id
        if self.is_repost:
            return "repost"
        if self.direction == "outbound" or (
            self.author_external_id
            and self.author_external_id == channel.account_external_id
        ):
            return "own_post"
        text = (self.body or "").lower()
        if any(word in text for word in _keywords(channel.exclude_keywords)):
            return "excluded_keyword"
        included = _keywords(channel.include_keywords)
        if included and self.kind != "dm" and not any(w in text for w in included):
            return "no_included_keyword"
        return False

    # ------------------------------------------------------------------
    # Threading
    # ------------------------------------------------------------------

    def _parent_ticket(self):
        """The ticket of the stored message this one answers, if any.

        Networks that do not say which conversation a reply belongs to
        (Mastodon gives only ``in_reply_to_id``) are threaded through the
        parent: the message joins the parent's conversation and ticket.
        """
        if not self.parent_ref:
            return self.env["helpdesk.ticket"]
        parent = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("external_id", "=", self.parent_ref),
                ("ticket_id", "!=", False),
            ],
            limit=1,
        )
        if parent.conversation_ref and parent.conversation_ref != self.conversation_ref:
            self.conversation_ref = parent.conversation_ref
        return parent.ticket_id

    def _storyline_ticket(self):
        """The author's current ticket this message continues, if any.

        One storyline from public post to DM: with the channel's storyline
        on, a DM from an author who has an open social ticket (or one closed
        within the reopen window) joins it, and so does a new public post
        that says they sent a DM.
        """
        channel = self.channel_id
        if not (channel.storyline_dm and self.identity_id):
            return self.env["helpdesk.ticket"]
        if self.kind != "dm" and not tone.mentions_dm(self.body):
            return self.env["helpdesk.ticket"]
        tickets = self.env["helpdesk.ticket"].search(
            [
                ("webcare_channel_id", "=", channel.id),
                ("webcare_identity_id", "=", self.identity_id.id),
            ],
            order="create_date desc, id desc",
            limit=STORYLINE_CANDIDATES,
        )
        # the latest that is open or closed recently: an open ticket wins
        # over a newer one closed long ago
        current = tickets.filtered(lambda t: t._webcare_continues())
        return current[:1]

    # ------------------------------------------------------------------
    # Display
    # ------------------------------------------------------------------

    def _chatter_subtype_xmlid(self):
        """The chatter subtype of this message: DMs are for Webcare users only."""
        if self.kind == "dm":
            return "webcare_social.mt_webcare_dm"
        return "webcare_social.mt_webcare_post"

    def _render(self, private_notice=False):
        """The HTML of this message on a ticket; with ``private_notice`` the
        words are replaced by a line saying where a DM's text can be read."""
        body = self.body
        if private_notice:
            body = self.env._(
                "Direct message: its text is in the chatter, for Webcare users only."
            )
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        providers = dict(
            self.channel_id._fields["provider"]._description_selection(self.env)
        )
        return render.render_post(
            body,
            handle=self.author_handle,
            name=self.author_name,
            network=providers.get(self.channel_id.provider, ""),
            url=self.url,
            followers=self.author_followers,
            kind=kinds.get(self.kind),
            link_label=self.env._("View the original post"),
            followers_label=self.env._("%s followers"),
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_retry(self):
        """Process failed messages again, oldest first, re-reading payloads.

        Failed replies of ours (outbound) are queued to be sent again. What
        the retention period purged is not retried: its payload is gone.
        """
        self.filtered(lambda m: m.direction == "outbound")._retry_send()
        failed = self.filtered(
            lambda m: m.state == "failed"
            and m.direction == "inbound"
            and not m.purged_at
        )
        # read every payload again: an item kept with only part of its fields
        # must not be processed from those parts
        readable = failed.filtered(
            lambda m: m._reparse() if m.payload else m.author_handle
        )
        readable.state = "new"
        readable.sorted(lambda m: (m.posted_at or datetime.min, m.id))._process()
        return True

    def _payload_parser(self):
        """What reads this message's payload: the file import that stored it
        (its column mapping), else the channel's provider client."""
        file_import = (
            self.env["webcare.file.import"]
            .sudo()
            .search([("message_ids", "=", self.id)], limit=1)
        )
        if file_import:
            return file_import._parse_payload
        return self.channel_id._get_service().parse_item

    def _reparse(self):
        """Fill the fields of an unreadable item from its payload; tell if it worked."""
        try:
            post = self._payload_parser()(self.payload)
        except ProviderError as exc:  # the item stays failed, with why
            self.error = exc.message
            return False
        vals = self._prepare_vals(self.channel_id, post)
        del vals["payload"]  # keep the item exactly as it was received
        self.write(vals)
        return True


class _BatchMemo:
    """What a batch of messages knows so far: identities and tickets.

    ``identities`` maps ``(network, author external id)`` to an identity;
    ``tickets`` maps ``(channel id, conversation ref)`` to its latest ticket.
    Only messages that were processed successfully teach it anything.
    """

    def __init__(self, identities, tickets):
        self.identities = identities
        self.tickets = tickets

    def ticket_of(self, message):
        key = (message.channel_id.id, message.conversation_ref)
        return self.tickets.get(key, message.env["helpdesk.ticket"])

    def learn(self, message):
        if message.identity_id and message.author_external_id:
            key = (message.identity_id.network, message.author_external_id)
            self.identities[key] = message.identity_id
        if message.ticket_id:
            key = (message.channel_id.id, message.conversation_ref)
            self.tickets[key] = message.ticket_id


def _readable_error(env, exc):
    """A sentence for people about a processing failure."""
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "")
    if isinstance(message, str) and message:
        return env._("This message could not be processed: %(reason)s", reason=message)
    return env._("This message could not be processed because of an unexpected error.")


def _keywords(text):
    return [w.strip().lower() for w in (text or "").split(",") if w.strip()]
