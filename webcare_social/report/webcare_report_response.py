import pytz

from odoo import api, fields, models
from odoo.tools import SQL

from ..models.webcare_message import IGNORE_REASONS
from ..models.webcare_sla import SLA_STATUSES
from ..tools import languages

# aggregators of our own besides Odoo's (sum, avg, ...): ordered-set
# aggregates of PostgreSQL, which read_group does not offer
PERCENTILES = {"median": 0.5, "ninetieth_percentile": 0.9}
HOURS = [(f"{hour:02d}", f"{hour:02d}:00") for hour in range(24)]
BREACHES = ("late", "answered_late")
# a message line has its message's id, a ticket line this plus its ticket's:
# reading lines by id (access checks, opening a line) then uses the messages'
# primary key (this holds while message ids stay below a billion)
TICKET_LINE_OFFSET = 2**30


class WebcareReportResponse(models.Model):
    """Response-time reporting: volume in, answered, ignored, breaches, SLA.

    A read-only SQL view (``_table_query``, no table) with two kinds of
    lines, so that every measure is a plain aggregate of its own lines:

    - one **message line** per message a customer sent us (every inbound
      message stored, ticketed, ignored or failed; never our own posts nor
      our replies): *Messages in* and *Ignored* count them, at the time of
      the post;
    - one **ticket line** per social ticket: *Tickets*, *Answered*,
      *Breaches*, *Within target* and the response times, at the time of the
      customer's opening post.

    A ticket with five messages thus counts five messages in but one ticket,
    one breach and one response time, whatever the grouping. Both kinds of
    lines carry the same dimensions: channel, network, team, agent (the first
    responder, else the assignee; a message line takes its ticket's), language,
    kind, SLA status, day and hour of the post. The hour is in the user's time
    zone (the ``tz`` of the context, as Odoo's own grouping by day uses).

    *Within target (%)* is ``avg`` of 100 (answered in time) or 0 (late or
    answered late) over the ticket lines whose outcome is known; waiting
    tickets and message lines are NULL and left out by ``AVG``. The average of
    such an indicator is exactly ``100 * in time / (in time + breaches)`` of
    the group, computed by PostgreSQL per group. Median and p90 are the
    ``percentile_cont`` of the response minutes of the answered tickets: the
    ``median`` and ``ninetieth_percentile`` aggregators added to
    ``_read_group_select`` below, which the pivot, graph and list views ask
    for through the fields' ``aggregator`` (letters only: read_group's
    ``order`` takes no digits in an aggregator's name).
    """

    _name = "webcare.report.response"
    _description = "Webcare response times"
    _auto = False
    _order = "posted_at desc, id desc"
    _rec_name = "posted_at"
    # flushed before the view is read
    _depends = {
        "webcare.message": [
            "channel_id",
            "company_id",
            "direction",
            "ignore_reason",
            "kind",
            "lang",
            "posted_at",
            "state",
            "ticket_id",
        ],
        "helpdesk.ticket": [
            "active",
            "company_id",
            "team_id",
            "user_id",
            "webcare_channel_id",
            "webcare_first_responder_id",
            "webcare_first_response_at",
            "webcare_lang",
            "webcare_posted_at",
            "webcare_response_minutes",
            "webcare_sla_status",
        ],
        "webcare.channel": ["provider", "team_id"],
    }

    line_type = fields.Selection(
        [("message", "Message in"), ("ticket", "Ticket")], string="Line", readonly=True
    )
    message_id = fields.Many2one("webcare.message", string="Message", readonly=True)
    ticket_id = fields.Many2one("helpdesk.ticket", string="Ticket", readonly=True)
    channel_id = fields.Many2one("webcare.channel", string="Channel", readonly=True)
    network = fields.Selection(selection="_selection_network", readonly=True)
    team_id = fields.Many2one("helpdesk.ticket.team", string="Team", readonly=True)
    agent_id = fields.Many2one(
        "res.users",
        string="Agent",
        readonly=True,
        help="Who answered first, else the ticket's assignee.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    lang = fields.Selection("_lang_selection", string="Language", readonly=True)
    kind = fields.Selection(
        selection="_selection_kind",
        readonly=True,
        help="Of a ticket: the kind of the customer's opening message.",
    )
    sla_status = fields.Selection(SLA_STATUSES, string="Response SLA", readonly=True)
    ignore_reason = fields.Selection(IGNORE_REASONS, readonly=True)
    posted_at = fields.Datetime(
        string="Posted on",
        readonly=True,
        help="When the customer posted (a ticket: its opening post).",
    )
    hour = fields.Selection(
        HOURS, string="Hour of day", readonly=True, help="In your time zone."
    )
    message_count = fields.Integer(string="Messages in", readonly=True)
    ignored_count = fields.Integer(string="Ignored", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    answered_count = fields.Integer(string="Answered", readonly=True)
    breach_count = fields.Integer(
        string="Breaches", readonly=True, help="Tickets late or answered late."
    )
    within_target = fields.Float(
        string="Within target (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Tickets answered in time, out of those answered or late.",
    )
    response_minutes = fields.Float(
        string="Response time, average (min)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
    )
    response_median = fields.Float(
        string="Response time, median (min)",
        readonly=True,
        aggregator="median",
        digits=(16, 1),
    )
    response_p90 = fields.Float(
        string="Response time, p90 (min)",
        readonly=True,
        aggregator="ninetieth_percentile",
        digits=(16, 1),
        help="90% of the answered tickets had their first reply within this time.",
    )

    def _lang_selection(self):
        return languages.selection(self.env.lang)

    @api.model
    def _selection_network(self):
        return (
            self.env["webcare.channel"]
            ._fields["provider"]
            ._description_selection(self.env)
        )

    @api.model
    def _selection_kind(self):
        return (
            self.env["webcare.message"]._fields["kind"]._description_selection(self.env)
        )

    # ------------------------------------------------------------------
    # The view
    # ------------------------------------------------------------------

    @property
    def _table_query(self):
        # PostgreSQL's JIT compiles a query this big for longer than it runs
        # (up to seconds on a million messages: bench/reporting.py): off for the
        # rest of this transaction, in which the view is about to be read
        self.env.cr.execute("SET LOCAL jit = off")
        return SQL("%s UNION ALL %s", self._message_lines(), self._ticket_lines())

    def _message_lines(self):
        posted = SQL("COALESCE(m.posted_at, m.create_date)")
        return SQL(
            """
            SELECT m.id AS id,
                   'message' AS line_type,
                   m.id AS message_id,
                   m.ticket_id AS ticket_id,
                   m.channel_id AS channel_id,
                   c.provider AS network,
                   COALESCE(t.team_id, c.team_id) AS team_id,
                   COALESCE(t.webcare_first_responder_id, t.user_id) AS agent_id,
                   m.company_id AS company_id,
                   m.lang AS lang,
                   m.kind AS kind,
                   t.webcare_sla_status AS sla_status,
                   m.ignore_reason AS ignore_reason,
                   %(posted)s AS posted_at,
                   %(hour)s AS hour,
                   1 AS message_count,
                   CASE WHEN m.state = 'ignored' THEN 1 ELSE 0 END AS ignored_count,
                   0 AS ticket_count,
                   0 AS answered_count,
                   0 AS breach_count,
                   NULL::float8 AS within_target,
                   NULL::float8 AS response_minutes,
                   NULL::float8 AS response_median,
                   NULL::float8 AS response_p90
              FROM webcare_message m
              JOIN webcare_channel c ON c.id = m.channel_id
         LEFT JOIN helpdesk_ticket t ON t.id = m.ticket_id
             WHERE m.direction = 'inbound'
               AND m.ignore_reason IS DISTINCT FROM 'own_post'
            """,
            posted=posted,
            hour=self._hour_sql(posted),
        )

    def _ticket_lines(self):
        posted = SQL("COALESCE(t.webcare_posted_at, t.create_date)")
        minutes = SQL(
            "CASE WHEN t.webcare_first_response_at IS NOT NULL "
            "THEN t.webcare_response_minutes::float8 END"
        )
        # the kind of the opening message: a subquery PostgreSQL only runs
        # when the kind is asked for (grouped, filtered or read)
        return SQL(
            """
            SELECT t.id + %(offset)s AS id,
                   'ticket' AS line_type,
                   NULL::int4 AS message_id,
                   t.id AS ticket_id,
                   t.webcare_channel_id AS channel_id,
                   c.provider AS network,
                   COALESCE(t.team_id, c.team_id) AS team_id,
                   COALESCE(t.webcare_first_responder_id, t.user_id) AS agent_id,
                   t.company_id AS company_id,
                   t.webcare_lang AS lang,
                   (SELECT o.kind FROM webcare_message o
                     WHERE o.ticket_id = t.id AND o.direction = 'inbound'
                     ORDER BY o.posted_at, o.id LIMIT 1) AS kind,
                   t.webcare_sla_status AS sla_status,
                   NULL::varchar AS ignore_reason,
                   %(posted)s AS posted_at,
                   %(hour)s AS hour,
                   0 AS message_count,
                   0 AS ignored_count,
                   1 AS ticket_count,
                   CASE WHEN t.webcare_first_response_at IS NOT NULL
                        THEN 1 ELSE 0 END AS answered_count,
                   CASE WHEN t.webcare_sla_status IN %(breaches)s
                        THEN 1 ELSE 0 END AS breach_count,
                   CASE WHEN t.webcare_sla_status = 'answered_on_time' THEN 100.0
                        WHEN t.webcare_sla_status IN %(breaches)s THEN 0.0
                   END::float8 AS within_target,
                   %(minutes)s AS response_minutes,
                   %(minutes)s AS response_median,
                   %(minutes)s AS response_p90
              FROM helpdesk_ticket t
              JOIN webcare_channel c ON c.id = t.webcare_channel_id
             WHERE t.active
            """,
            posted=posted,
            hour=self._hour_sql(posted),
            offset=TICKET_LINE_OFFSET,
            breaches=BREACHES,
            minutes=minutes,
        )

    def _hour_sql(self, utc_column):
        """``'00'``…``'23'``: the hour of ``utc_column`` in the user's time zone."""
        tz = self.env.context.get("tz")
        if tz not in pytz.all_timezones_set:
            tz = "UTC"
        return SQL("to_char(timezone(%s, timezone('UTC', %s)), 'HH24')", tz, utc_column)

    # ------------------------------------------------------------------
    # Median and p90 for read_group (pivot, graph, list groups)
    # ------------------------------------------------------------------

    def _read_group_select(self, aggregate_spec, query):
        """Add the ``median`` and ``ninetieth_percentile`` aggregators."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func not in PERCENTILES:
            return super()._read_group_select(aggregate_spec, query)
        field = self._fields.get(fname)
        if not field or field.type not in ("integer", "float"):
            raise ValueError(
                f"Invalid field {fname!r} on model {self._name!r} for "
                f"{aggregate_spec!r}: {func} needs a number."
            )
        return SQL(
            "percentile_cont(%s) WITHIN GROUP (ORDER BY %s)",
            PERCENTILES[func],
            self._field_to_sql(self._table, fname, query),
        )
