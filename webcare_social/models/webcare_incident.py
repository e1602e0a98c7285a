import math
from dataclasses import dataclass
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, html2plaintext
from odoo.tools.misc import format_datetime

from ..tools import words

MANAGER_GROUP = "webcare_social.group_webcare_manager"
# the volume that is compared: the inbound messages of the last 15 minutes
WINDOW = timedelta(minutes=15)
# a channel younger than this has no baseline yet: it never raises an alarm
MIN_HISTORY = timedelta(hours=24)
# an incident closes by itself after this long back under its threshold
CALM = timedelta(minutes=30)
# no new incident on a channel this soon after its last one closed
COOLDOWN = timedelta(minutes=60)
# posts read for the top words
WINDOW_SAMPLE = 2000
BASELINE_SAMPLE = 1000
PUBLIC_KINDS = ("mention", "reply")
LOOKUP_LIMIT = 5


@dataclass(frozen=True)
class Volume:
    """A channel's inbound volume of the last 15 minutes against its baseline.

    ``baseline`` is the average number of messages per 15 minutes in the
    trailing baseline period; ``threshold`` the volume from which it is a
    surge. Both are None while the channel has too little history.
    """

    recent: int
    baseline: float | None
    threshold: int | None

    @property
    def surging(self):
        return self.threshold is not None and self.recent >= self.threshold


class WebcareIncident(models.Model):
    """A surge of inbound messages on a channel: an outage, a viral complaint.

    The detection cron (every 5 minutes) counts each channel's inbound
    messages of the last 15 minutes (by the customers' post time) and
    compares them with the channel's trailing baseline: the average volume
    per 15 minutes over the previous ``surge_baseline_days`` days (default
    7), counted only since the channel has messages, so a brand-new channel
    without a day of history never raises an alarm. From ``surge_factor``
    times that baseline (default 5), and at least ``surge_min_volume``
    messages (default 10), an incident opens: its window, volume, top words
    and the tickets of the window; the Webcare managers are notified once.

    While it is open, new tickets of the channel join it when they share one
    of its top words (immediately when created, and at each run). It closes
    by hand (a manager) or by itself once the 15-minute volume has stayed
    under its threshold for 30 minutes. Messages the import ignored (reposts,
    our own posts, excluded keywords) do not count.
    """

    _name = "webcare.incident"
    _description = "Webcare surge incident"
    _inherit = ["mail.thread"]
    _order = "state desc, window_start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True, readonly=False)
    channel_id = fields.Many2one(
        "webcare.channel", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    window_start = fields.Datetime(
        string="Started",
        required=True,
        readonly=True,
        help="Start of the 15 minutes that opened the incident.",
    )
    window_end = fields.Datetime(string="Detected", required=True, readonly=True)
    volume = fields.Integer(
        readonly=True, help="Inbound messages in the 15 minutes that opened it."
    )
    baseline = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="Usual inbound messages per 15 minutes on this channel.",
    )
    factor = fields.Float(
        string="Surge factor",
        digits=(16, 1),
        readonly=True,
        help="The channel's surge factor when it opened.",
    )
    threshold = fields.Integer(
        readonly=True, help="From this many messages in 15 minutes, it is a surge."
    )
    ratio = fields.Float(
        string="Times the baseline",
        digits=(16, 1),
        compute="_compute_ratio",
        help="Volume divided by the baseline (0 when the channel was silent).",
    )
    peak_volume = fields.Integer(string="Peak", readonly=True)
    last_volume = fields.Integer(string="Last 15 minutes", readonly=True)
    calm_since = fields.Datetime(
        readonly=True, help="Since when the volume has been back under the threshold."
    )
    top_words = fields.Char(
        readonly=True, help="What the messages are about: the words most of them share."
    )
    ticket_ids = fields.One2many(
        "helpdesk.ticket", "webcare_incident_id", string="Tickets", readonly=True
    )
    ticket_count = fields.Integer(compute="_compute_ticket_count", string="Tickets #")
    closed_at = fields.Datetime(readonly=True)
    closed_by_id = fields.Many2one("res.users", string="Closed by", readonly=True)
    close_reason = fields.Selection(
        [("manual", "Closed by hand"), ("normal", "Volume back to normal")],
        readonly=True,
    )

    _channel_open_idx = models.UniqueIndex(
        "(channel_id) WHERE state = 'open'",
        "A channel has at most one open incident.",
    )

    @api.depends("channel_id.name", "top_words")
    def _compute_name(self):
        for incident in self:
            about = f": {incident.top_words}" if incident.top_words else ""
            incident.name = self.env._(
                "Surge on %(channel)s%(about)s",
                channel=incident.channel_id.name or "",
                about=about,
            )

    @api.depends("volume", "baseline")
    def _compute_ratio(self):
        for incident in self:
            incident.ratio = (
                incident.volume / incident.baseline if incident.baseline else 0.0
            )

    def _compute_ticket_count(self):
        counts = dict(
            self.env["helpdesk.ticket"]._read_group(
                [("webcare_incident_id", "in", self.ids)],
                ["webcare_incident_id"],
                ["__count"],
            )
        )
        for incident in self:
            incident.ticket_count = counts.get(incident, 0)

    def _top_word_list(self):
        return [w.strip() for w in (self.top_words or "").split(",") if w.strip()]

    # ------------------------------------------------------------------
    # Detection
    # ------------------------------------------------------------------

    @api.model
    def _cron_detect(self):
        """Cron: open, follow and close incidents from each channel's volume."""
        now = fields.Datetime.now()
        volumes = self._volumes(now)
        Channel = self.env["webcare.channel"]
        open_incidents = {
            incident.channel_id.id: incident
            for incident in self.search(
                [("state", "=", "open"), ("channel_id", "in", list(volumes))]
            )
        }
        for channel_id, volume in volumes.items():
            channel = Channel.browse(channel_id)
            # names and notices in the language of the channel's company
            lang = channel.company_id._webcare_text_lang()
            incident = open_incidents.get(channel_id)
            if incident:
                incident.with_context(lang=lang)._follow(volume, now)
            elif volume.surging and not self._cooling_down(channel_id, now):
                self.with_context(lang=lang)._open(channel, volume, now)

    @api.model
    def _volumes(self, now):
        """``{channel id: Volume}`` of every watched channel, in one query.

        Counts inbound messages by their post time (index on
        ``channel_id, posted_at`` of inbound messages); the history of a
        channel starts at its first inbound message or its creation,
        whichever is earlier.
        """
        self.env["webcare.message"].flush_model(
            ["channel_id", "direction", "state", "posted_at"]
        )
        self.env["webcare.channel"].flush_model(
            ["active", "surge_factor", "surge_baseline_days"]
        )
        start = now - WINDOW
        rows = self.env.execute_query(
            SQL(
                """
                SELECT c.id, COALESCE(s.recent, 0), COALESCE(s.past, 0),
                       LEAST(c.create_date, f.posted_at)
                  FROM webcare_channel c
             LEFT JOIN LATERAL (
                    SELECT count(*) FILTER (WHERE m.posted_at >= %(start)s) AS recent,
                           count(*) FILTER (WHERE m.posted_at < %(start)s) AS past
                      FROM webcare_message m
                     WHERE m.channel_id = c.id
                       AND m.direction = 'inbound'
                       AND m.state != 'ignored'
                       AND m.posted_at >= %(start)s
                           - make_interval(days => GREATEST(c.surge_baseline_days, 1))
                       AND m.posted_at <= %(now)s
                   ) s ON TRUE
             LEFT JOIN LATERAL (
                    SELECT m.posted_at
                      FROM webcare_message m
                     WHERE m.channel_id = c.id
                       AND m.direction = 'inbound'
                       AND m.posted_at IS NOT NULL
                  ORDER BY m.posted_at
                     LIMIT 1
                   ) f ON TRUE
                 WHERE c.active AND c.surge_factor > 0
                """,
                start=start,
                now=now,
            )
        )
        channels = self.env["webcare.channel"].browse([row[0] for row in rows])
        by_id = {channel.id: channel for channel in channels}
        return {
            channel_id: _volume(by_id[channel_id], recent, past, first, start)
            for channel_id, recent, past, first in rows
        }

    @api.model
    def _cooling_down(self, channel_id, now):
        return bool(
            self.search_count(
                [
                    ("channel_id", "=", channel_id),
                    ("state", "=", "closed"),
                    ("closed_at", ">", now - COOLDOWN),
                ],
                limit=1,
            )
        )

    @api.model
    def _open(self, channel, volume, now):
        """Open an incident for ``channel``: its window, tickets and managers."""
        start = now - WINDOW
        incident = self.create(
            {
                "channel_id": channel.id,
                "window_start": start,
                "window_end": now,
                "volume": volume.recent,
                "baseline": volume.baseline,
                "factor": channel.surge_factor,
                "threshold": volume.threshold,
                "peak_volume": volume.recent,
                "last_volume": volume.recent,
            }
        )
        incident.top_words = ", ".join(incident._compute_top_words(now))
        window_tickets = self.env["helpdesk.ticket"].search(
            [
                ("webcare_channel_id", "=", channel.id),
                ("webcare_incident_id", "=", False),
                ("webcare_posted_at", ">=", start),
                ("webcare_posted_at", "<=", now),
            ]
        )
        window_tickets.write({"webcare_incident_id": incident.id})
        incident._notify_managers()
        return incident

    def _follow(self, volume, now):
        """One run on an open incident: volume, words, new tickets, calm."""
        self.ensure_one()
        vals = {
            "last_volume": volume.recent,
            "peak_volume": max(self.peak_volume, volume.recent),
            "top_words": ", ".join(self._compute_top_words(now)) or self.top_words,
        }
        if volume.recent >= self.threshold:
            vals["calm_since"] = False
        elif not self.calm_since:
            vals["calm_since"] = now
        self.write(vals)
        self._attach(self._candidate_tickets())
        if self.calm_since and now - self.calm_since >= CALM:
            self._close("normal")

    def _compute_top_words(self, now):
        """The top words of the public posts since the incident started."""
        Message = self.env["webcare.message"].sudo()
        base = [
            ("channel_id", "=", self.channel_id.id),
            ("direction", "=", "inbound"),
            ("kind", "in", PUBLIC_KINDS),
            ("state", "!=", "ignored"),
        ]
        during = Message.search_fetch(
            [*base, ("posted_at", ">=", self.window_start), ("posted_at", "<=", now)],
            ["body"],
            limit=WINDOW_SAMPLE,
        )
        days = max(self.channel_id.surge_baseline_days, 1)
        before = Message.search_fetch(
            [
                *base,
                ("posted_at", "<", self.window_start),
                ("posted_at", ">=", self.window_start - timedelta(days=days)),
            ],
            ["body"],
            limit=BASELINE_SAMPLE,
        )
        return words.top_words(
            during.mapped("body"), before.mapped("body"), ignore=self._ignored_words()
        )

    def _ignored_words(self):
        handle = (self.channel_id.account_handle or "").lower()
        return {handle} if handle else set()

    # ------------------------------------------------------------------
    # Tickets
    # ------------------------------------------------------------------

    @api.model
    def _attach_new_tickets(self, tickets):
        """New social tickets join their channel's open incident if they match."""
        social = tickets.filtered(
            lambda t: t.webcare_channel_id and not t.webcare_incident_id
        )
        if not social:
            return
        channels = social.webcare_channel_id
        incidents = self.sudo().search(
            [("state", "=", "open"), ("channel_id", "in", channels.ids)]
        )
        for incident in incidents:
            channel = incident.channel_id
            incident._attach(
                social.filtered(lambda t, c=channel: t.webcare_channel_id == c)
            )

    def _candidate_tickets(self):
        """Tickets of the channel since the incident started, not in one yet."""
        return self.env["helpdesk.ticket"].search(
            [
                ("webcare_channel_id", "=", self.channel_id.id),
                ("webcare_incident_id", "=", False),
                ("webcare_posted_at", ">=", self.window_start),
            ]
        )

    def _attach(self, tickets):
        """Group ``tickets`` under this incident when they match it.

        A ticket matches when the customer posted in the incident's window,
        or later with one of its top words.
        """
        self.ensure_one()
        wanted = self._top_word_list()
        ignore = self._ignored_words()
        matching = tickets.filtered(
            lambda t: t.webcare_posted_at
            and t.webcare_posted_at >= self.window_start
            and (
                t.webcare_posted_at <= self.window_end
                or words.shares_words(_ticket_text(t), wanted, ignore)
            )
        )
        matching.sudo().write({"webcare_incident_id": self.id})
        return matching

    # ------------------------------------------------------------------
    # Notification and closing
    # ------------------------------------------------------------------

    def _notify_managers(self):
        """Tell every Webcare manager, once, when the incident opens."""
        managers = self.env.ref(MANAGER_GROUP).all_user_ids.filtered(
            lambda u: u.active and not u.share
        )
        self.message_post(
            body=self._opening_text(),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=managers.partner_id.ids,
        )

    def _opening_text(self):
        usual = (
            self.env._("usually %(baseline)s", baseline=f"{self.baseline:.1f}")
            if self.baseline
            else self.env._("usually none")
        )
        return self.env._(
            "Surge on %(channel)s: %(volume)s messages in 15 minutes (%(usual)s). "
            "Top words: %(words)s. %(tickets)s tickets so far.",
            channel=self.channel_id.name,
            volume=self.volume,
            usual=usual,
            words=self.top_words or "-",
            tickets=len(self.ticket_ids),
        )

    def action_close(self):
        """Close the incident by hand (Webcare managers)."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Webcare managers close incidents."))
        self.filtered(lambda i: i.state == "open")._close("manual")
        return True

    def _close(self, reason):
        manual = reason == "manual"
        self.write(
            {
                "state": "closed",
                "closed_at": fields.Datetime.now(),
                "closed_by_id": self.env.uid if manual else False,
                "close_reason": reason,
            }
        )
        for incident in self:
            incident.message_post(
                body=self.env._("Closed by hand.")
                if manual
                else self.env._(
                    "Closed: the volume has been back to normal for %(minutes)s "
                    "minutes.",
                    minutes=int(CALM.total_seconds() // 60),
                ),
                subtype_xmlid="mail.mt_note",
            )

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.helpdesk_ticket_action_social"
        )
        action["domain"] = [("webcare_incident_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Caller lookup
    # ------------------------------------------------------------------

    @api.model
    def _lookup_open(self):
        """The open incidents, as the caller lookup shows them to phone agents."""
        incidents = self.sudo().search(
            [("state", "=", "open"), ("company_id", "in", self.env.companies.ids)],
            limit=LOOKUP_LIMIT,
        )
        return [incident._lookup_dict() for incident in incidents]

    def _lookup_dict(self):
        return {
            "id": self.id,
            "name": self.name,
            "channel": self.channel_id.name,
            "started": format_datetime(self.env, self.window_start, dt_format="short"),
            "volume": self.peak_volume,
            "tickets": self.ticket_count,
            "top_words": self._top_word_list(),
        }


def _volume(channel, recent, past, first, start):
    """The ``Volume`` of a channel from its counts (see ``_volumes``)."""
    baseline_start = start - timedelta(days=max(channel.surge_baseline_days, 1))
    since = max(baseline_start, first or start)
    history = start - since
    if history < MIN_HISTORY:
        return Volume(recent, None, None)
    baseline = past * (WINDOW / history)
    threshold = max(
        channel.surge_min_volume, math.floor(channel.surge_factor * baseline) + 1
    )
    return Volume(recent, baseline, threshold)


def _ticket_text(ticket):
    """The customer's words of a ticket: its title and opening post."""
    return f"{ticket.name or ''} {html2plaintext(ticket.description or '')}"
