from dataclasses import dataclass
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, html2plaintext

from ..tools import render

EXCERPT = 160
PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
# channels of the events that are not social networks
OTHER_CHANNELS = ("helpdesk", "email", "note", "phone")
ICONS = {
    "helpdesk": "fa-life-ring",
    "email": "fa-envelope",
    "note": "fa-sticky-note",
    "phone": "fa-phone",
}
COLUMNS = (
    "date, kind, channel, direction, summary, res_model, res_id, url, source, "
    "source_id, ticket_id, ticket_number, author, redacted, is_html, duration"
)


@dataclass(frozen=True)
class _Scope:
    """What one timeline request covers (built once, read by every branch)."""

    partner_ids: tuple
    channels: frozenset | None
    date_from: object
    date_to: object
    top: int
    company_ids: tuple
    can_read_dm: bool

    def wants(self, *channels):
        return self.channels is None or bool(self.channels.intersection(channels))

    def period(self, column):
        conditions = [SQL("TRUE")]
        if self.date_from:
            conditions.append(SQL("%s >= %s", column, self.date_from))
        if self.date_to:
            conditions.append(SQL("%s < %s", column, self.date_to))
        return SQL(" AND ").join(conditions)


class WebcareTimeline(models.AbstractModel):
    """The unified timeline of a contact: social, tickets, mail and calls.

    One ``UNION ALL`` query over ``webcare_message``, ``helpdesk_ticket``,
    ``mail_message`` and ``webcare_call``, each branch limited to the rows
    the page needs and served by an index on (contact, date), so the first
    page of a contact with 10,000 events costs one round trip. What the user
    may not read is redacted, not hidden: sales see that a DM exists, not
    its text.
    """

    _name = "webcare.timeline"
    _description = "Customer timeline"

    @api.model
    def _events(
        self,
        partners,
        limit=50,
        offset=0,
        channels=None,
        period=None,
        date_from=None,
        date_to=None,
    ):
        """Return a page of events of ``partners`` and their contacts, newest first."""
        self.env["webcare.lookup"]._check_internal()
        partners.check_access("read")
        scope = self._scope(
            partners, limit + offset, channels, period, date_from, date_to
        )
        branches = [b for b in self._branches(scope) if b is not None]
        if not branches:
            return []
        # the branches are raw SQL: write pending changes (a stage, a call) first
        self.env.flush_all()
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT * FROM (%s) AS event "
                "ORDER BY date DESC, source, source_id DESC "
                "LIMIT %s OFFSET %s",
                SQL(" UNION ALL ").join(SQL("(%s)", b) for b in branches),
                limit,
                offset,
            )
        )
        return [self._event(row) for row in rows]

    @api.model
    def _scope(self, partners, top, channels, period, date_from, date_to):
        companies = partners.filtered("is_company")
        members = (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("id", "child_of", companies.ids)])
            if companies
            else self.env["res.partner"]
        )
        if period in PERIODS:
            date_from = fields.Datetime.now() - timedelta(days=PERIODS[period])
        return _Scope(
            partner_ids=tuple((partners | members).ids) or (0,),
            channels=frozenset(channels) if channels else None,
            date_from=fields.Datetime.to_datetime(date_from) if date_from else None,
            date_to=fields.Datetime.to_datetime(date_to) if date_to else None,
            top=top,
            company_ids=tuple(self.env.companies.ids),
            can_read_dm=self.env["webcare.message"]._can_read_dm(),
        )

    @api.model
    def _branches(self, scope):
        readable = self._readable_tickets(scope)
        return (
            self._social_branch(scope),
            self._ticket_branch(scope, readable, "opened"),
            self._ticket_branch(scope, readable, "closed"),
            self._mail_branch(scope, readable, "res.partner"),
            self._mail_branch(scope, readable, "helpdesk.ticket"),
            self._call_branch(scope),
        )

    # ------------------------------------------------------------------
    # Branches: each one SELECT of COLUMNS, newest first, at most scope.top
    # ------------------------------------------------------------------

    @api.model
    def _social_branch(self, scope):
        providers = self.env["webcare.channel"]._fields["provider"].get_values(self.env)
        wanted = [p for p in providers if scope.wants(p)]
        if not wanted:
            return None
        hide = SQL("(m.kind = 'dm' AND NOT %s)", scope.can_read_dm)
        return SQL(
            """SELECT m.posted_at AS date,
                      CASE WHEN m.kind = 'dm' THEN 'dm' ELSE 'post' END AS kind,
                      ch.provider AS channel, m.direction,
                      CASE WHEN %(hide)s THEN NULL
                           WHEN m.kind = 'dm' AND m.purged_at IS NOT NULL
                            AND m.body IS NULL THEN %(purged)s
                           ELSE m.body END AS summary,
                      'webcare.message' AS res_model, m.id AS res_id, m.url,
                      'm' AS source, m.id AS source_id,
                      m.ticket_id, t.number AS ticket_number,
                      m.author_handle AS author, %(hide)s AS redacted,
                      FALSE AS is_html, NULL::int AS duration
                 FROM webcare_message m
                 JOIN webcare_channel ch ON ch.id = m.channel_id
            LEFT JOIN helpdesk_ticket t ON t.id = m.ticket_id
                WHERE m.partner_id IN %(partners)s
                  AND m.posted_at IS NOT NULL AND m.state != 'failed'
                  AND m.is_repost IS NOT TRUE
                  AND (m.ignore_reason IS NULL OR m.ignore_reason = 'own_post')
                  AND m.company_id IN %(companies)s AND ch.provider IN %(providers)s
                  AND %(period)s
             ORDER BY m.posted_at DESC, m.id DESC LIMIT %(top)s""",
            hide=hide,
            purged=self.env["webcare.message"]._purged_notice(),
            partners=scope.partner_ids,
            companies=scope.company_ids,
            providers=tuple(wanted),
            period=scope.period(SQL("m.posted_at")),
            top=scope.top,
        )

    @api.model
    def _readable_tickets(self, scope):
        """SQL tuple of the contacts' tickets the user may read (one query).

        Record rules included; computed once and inlined, rather than a
        sub-query every branch would evaluate again.
        """
        Ticket = self.env["helpdesk.ticket"]
        ids = ()
        if Ticket.has_access("read"):
            ids = tuple(Ticket.search([("partner_id", "in", scope.partner_ids)]).ids)
        return SQL("%s", ids or (0,))

    @api.model
    def _ticket_branch(self, scope, readable, event):
        if not scope.wants("helpdesk"):
            return None
        opened = event == "opened"
        date = (
            SQL("COALESCE(t.webcare_posted_at, t.create_date)")
            if opened
            else SQL("t.closed_date")
        )
        return SQL(
            """SELECT %(date)s AS date, %(kind)s AS kind, 'helpdesk' AS channel,
                      NULL AS direction,
                      CASE WHEN t.id IN %(readable)s THEN t.name END AS summary,
                      'helpdesk.ticket' AS res_model, t.id AS res_id, NULL AS url,
                      %(kind)s AS source, t.id AS source_id,
                      t.id AS ticket_id, t.number AS ticket_number, NULL AS author,
                      t.id NOT IN %(readable)s AS redacted, FALSE AS is_html,
                      NULL::int AS duration
                 FROM helpdesk_ticket t
                 JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                WHERE t.partner_id IN %(partners)s AND %(date)s IS NOT NULL
                  AND (t.company_id IS NULL OR t.company_id IN %(companies)s)
                  AND %(closed)s AND %(period)s
             ORDER BY %(date)s DESC, t.id DESC LIMIT %(top)s""",
            date=date,
            kind=f"ticket_{event}",
            readable=readable,
            partners=scope.partner_ids,
            companies=scope.company_ids,
            closed=SQL("TRUE") if opened else SQL("s.closed IS TRUE"),
            period=scope.period(date),
            top=scope.top,
        )

    @api.model
    def _mail_branch(self, scope, readable, model):
        """E-mails and notes on the contacts (or on their tickets)."""
        if not scope.wants("email", "note"):
            return None
        imd = self.env["ir.model.data"]
        note = imd._xmlid_to_res_id("mail.mt_note")
        social = tuple(
            imd._xmlid_to_res_id(f"webcare_social.{xmlid}")
            for xmlid in ("mt_webcare_post", "mt_webcare_dm")
        )
        kind = SQL(
            "CASE WHEN mm.message_type = 'comment' AND mm.subtype_id = %s "
            "THEN 'note' ELSE 'email' END",
            note,
        )
        if model == "res.partner":
            records, visible = SQL("%s", scope.partner_ids), SQL("TRUE")
        else:
            records = SQL(
                "(SELECT id FROM helpdesk_ticket WHERE partner_id IN %s)",
                scope.partner_ids,
            )
            visible = SQL("mm.res_id IN %s", readable)
        return SQL(
            """SELECT mm.date, %(kind)s AS kind, %(kind)s AS channel,
                      CASE WHEN mm.author_id IN %(partners)s THEN 'inbound'
                           ELSE 'outbound' END AS direction,
                      CASE WHEN %(visible)s THEN mm.body::text END AS summary,
                      mm.model AS res_model, mm.res_id, NULL AS url,
                      'mail' AS source, mm.id AS source_id,
                      t.id AS ticket_id, t.number AS ticket_number,
                      COALESCE(p.name, mm.email_from) AS author,
                      NOT (%(visible)s) AS redacted, TRUE AS is_html,
                      NULL::int AS duration
                 FROM mail_message mm
            LEFT JOIN res_partner p ON p.id = mm.author_id
            LEFT JOIN helpdesk_ticket t
                   ON mm.model = 'helpdesk.ticket' AND t.id = mm.res_id
                WHERE mm.model = %(model)s AND mm.res_id IN %(records)s
                  AND mm.message_type IN ('email', 'email_outgoing', 'comment')
                  AND (mm.subtype_id IS NULL OR mm.subtype_id NOT IN %(social)s)
                  AND %(channels)s AND %(period)s
             ORDER BY mm.date DESC, mm.id DESC LIMIT %(top)s""",
            kind=kind,
            partners=scope.partner_ids,
            visible=visible,
            model=model,
            records=records,
            social=social,
            channels=SQL(
                "%s IN %s", kind, tuple(c for c in ("email", "note") if scope.wants(c))
            ),
            period=scope.period(SQL("mm.date")),
            top=scope.top,
        )

    @api.model
    def _call_branch(self, scope):
        if not scope.wants("phone"):
            return None
        return SQL(
            """SELECT c.started_at AS date, 'call' AS kind, 'phone' AS channel,
                      c.direction, c.note AS summary, 'webcare.call' AS res_model,
                      c.id AS res_id, NULL AS url, 'call' AS source, c.id AS source_id,
                      c.ticket_id,
                      t.number AS ticket_number, up.name AS author,
                      FALSE AS redacted, FALSE AS is_html, c.duration
                 FROM webcare_call c
            LEFT JOIN helpdesk_ticket t ON t.id = c.ticket_id
            LEFT JOIN res_users u ON u.id = c.user_id
            LEFT JOIN res_partner up ON up.id = u.partner_id
                WHERE c.partner_id IN %(partners)s
                  AND c.company_id IN %(companies)s AND %(period)s
             ORDER BY c.started_at DESC, c.id DESC LIMIT %(top)s""",
            partners=scope.partner_ids,
            companies=scope.company_ids,
            period=scope.period(SQL("c.started_at")),
            top=scope.top,
        )

    # ------------------------------------------------------------------
    # Rows to events
    # ------------------------------------------------------------------

    @api.model
    def _event(self, row):
        """Turn one SQL row into the public event dict."""
        text = row["summary"] or ""
        if row["is_html"]:
            text = html2plaintext(text)
        model, res_id = row["res_model"], row["res_id"]
        return {
            "id": f"{row['source']}-{row['source_id']}",
            "date": fields.Datetime.to_string(row["date"]),
            "kind": row["kind"],
            "channel": row["channel"],
            "direction": row["direction"],
            "summary": self._summary(row, render.shorten(text, EXCERPT)),
            "title": self._title(row),
            "author": row["author"] or None,
            "redacted": bool(row["redacted"]),
            "res_model": model,
            "res_id": res_id,
            "url": row["url"] or f"/odoo/{model}/{res_id}",
            "ticket_id": row["ticket_id"],
            "ticket_number": row["ticket_number"],
            "icon": ICONS.get(row["channel"], "fa-comments"),
        }

    @api.model
    def _summary(self, row, text):
        if row["redacted"]:
            return self._redacted_text(row)
        if row["kind"] == "call" and not text:
            return self.env._("No note")
        return text

    @api.model
    def _redacted_text(self, row):
        if row["kind"] == "dm":
            return self.env._("Direct message (only Webcare users can read it)")
        if row["kind"].startswith("ticket_"):
            return ""  # the title says which ticket; its subject is not for this user
        return self.env._("On ticket %(number)s", number=row["ticket_number"] or "")

    @api.model
    def _title(self, row):
        """Label: "Post on X", "Ticket HT00042 opened", "Inbound call · 3:05"."""
        kind, channel = row["kind"], row["channel"]
        network = self._network_label(channel)
        if kind == "post":
            if row["direction"] == "outbound":
                return self.env._("Our reply on %(network)s", network=network)
            return self.env._("Post on %(network)s", network=network)
        if kind == "dm":
            if row["direction"] == "outbound":
                return self.env._("Our DM on %(network)s", network=network)
            return self.env._("DM on %(network)s", network=network)
        if kind == "ticket_opened":
            return self.env._("Ticket %(number)s opened", number=row["ticket_number"])
        if kind == "ticket_closed":
            return self.env._("Ticket %(number)s closed", number=row["ticket_number"])
        if kind == "call":
            return self._call_title(row)
        if kind == "note":
            return self.env._("Note")
        if row["direction"] == "inbound":
            return self.env._("E-mail received")
        return self.env._("E-mail sent")

    @api.model
    def _call_title(self, row):
        title = (
            self.env._("Inbound call")
            if row["direction"] == "inbound"
            else self.env._("Outbound call")
        )
        if row["duration"]:
            minutes, seconds = divmod(row["duration"], 60)
            title += f" · {minutes}:{seconds:02d}"
        return title

    @api.model
    def _network_label(self, code):
        labels = dict(
            self.env["webcare.channel"]
            ._fields["provider"]
            ._description_selection(self.env)
        )
        return labels.get(code) or dict(
            self.env["webcare.identity"]
            ._fields["network"]
            ._description_selection(self.env)
        ).get(code, code)

    @api.model
    def _channel_options(self):
        """The channels a timeline can be filtered on, with labels and icons.

        The networks offered are those the company has channels for.
        """
        Channel = self.env["webcare.channel"].with_context(active_test=False)
        used = {provider for [provider] in Channel._read_group([], ["provider"])}
        providers = [
            p for p in Channel._fields["provider"].get_values(self.env) if p in used
        ]
        labels = {
            "helpdesk": self.env._("Tickets"),
            "email": self.env._("E-mail"),
            "note": self.env._("Notes"),
            "phone": self.env._("Calls"),
        }
        return [
            {"code": p, "label": self._network_label(p), "icon": None}
            for p in providers
        ] + [{"code": c, "label": labels[c], "icon": ICONS[c]} for c in OTHER_CHANNELS]
