# ruff: noqa: F821
"""Benchmark of the response-time reporting (``webcare.report.response``).

Run by ``scripts/bench.sh`` inside ``odoo shell`` (which provides ``env``) on
a throw-away database with webcare_social installed. The data is written
with SQL ``COPY``: ``BENCH_SCALE`` times 1,000,000 social messages (customers'
posts and DMs, our replies, reposts and other noise) over a year on three X
channels, and one helpdesk ticket per conversation with its SLA columns (first
response, minutes, status, first responder) as ``_webcare_mark_answered``
writes them. Then it times what the pivot, graph and list views of
*Webcare > Reporting > Response times* ask the server, as a Webcare manager
and as a team lead, next to baselines of the same run: a plain ``_read_group``
count on ``webcare.message`` with the same grouping, and a sequential count of
the table. See bench/README.md.
"""

import json
import math
import os
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from random import Random

import psycopg2

from odoo import release, sql_db
from odoo.fields import Command
from odoo.modules.module import get_module_path

sys.path.insert(0, os.environ.get("BENCH_DIR", "bench"))
from benchlib import (
    advance_sequence,
    copy_rows,
    first_free_id,
    fmt_ratio,
    percentile,
    ratio,
    results_path,
)

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
MESSAGES = max(10_000, round(1_000_000 * SCALE))
RUNS = int(os.environ.get("BENCH_REPORTS", "15"))  # measured runs per scenario
WARMUP = 2
SEED = 7007
DAYS = 365  # the data covers the last year
TZ = "Europe/Amsterdam"  # the users' time zone (hour of day, days)
AGENTS_PER_TEAM = 8
TARGET_MS = 2_000  # information only: a pivot should answer within 2 s

# (name, team, target minutes, median response minutes, share of conversations,
#  languages and their weights)
CHANNELS = (
    ("PolderAir NL on X", "Webcare NL", 60, 22, 0.60,
     (("nl", 75), ("en", 20), ("und", 5))),
    ("PolderAir BE on X", "Webcare BE", 60, 30, 0.25,
     (("nl", 50), ("fr", 35), ("en", 15))),
    ("PolderAir on X", "Webcare International", 30, 15, 0.15,
     (("en", 80), ("de", 10), ("fr", 10))),
)  # fmt: skip
# customers post more by day than by night (local time)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10,
                9, 9, 9, 9, 8, 8, 8, 7, 6, 4, 3, 2)  # fmt: skip
IN_SIZES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8)  # customer messages per conversation
UNANSWERED = 0.03
REPOST, EXCLUDED, FAILED = 0.12, 0.04, 0.003  # single messages that make no ticket
RISK_PERCENT = 25

TICKET_COLUMNS = (
    "id", "number", "name", "description", "company_id", "stage_id", "team_id",
    "channel_id", "priority", "kanban_state", "active", "unattended", "sequence",
    "closed_date", "last_stage_update", "create_date", "write_date", "create_uid",
    "write_uid", "partner_name", "user_id", "webcare_channel_id",
    "webcare_posted_at", "webcare_lang", "webcare_first_response_deadline",
    "webcare_first_response_at", "webcare_response_minutes", "webcare_sla_status",
    "webcare_sla_rank", "webcare_first_responder_id",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "channel_id", "company_id", "external_id", "kind", "direction",
    "author_external_id", "author_handle", "author_name", "author_followers",
    "body", "lang", "posted_at", "conversation_ref", "ticket_id", "state",
    "ignore_reason", "is_repost", "error", "payload", "author_user_id", "sent_at",
    "create_date", "write_date", "create_uid", "write_uid",
)  # fmt: skip
SLA_RANK = {
    "late": 0,
    "at_risk": 1,
    "on_time": 2,
    "answered_late": 3,
    "answered_on_time": 4,
}
MEASURES = [
    "__count",
    "message_count:sum",
    "ignored_count:sum",
    "ticket_count:sum",
    "answered_count:sum",
    "breach_count:sum",
    "within_target:avg",
    "response_median:median",
    "response_p90:ninetieth_percentile",
]


# --------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------


def setup(env):
    """What the ORM makes: teams with agents and a lead, channels, a manager."""
    ref = env.ref
    agent_group = ref("webcare_social.group_webcare_agent").id
    manager = env["res.users"].create(
        {
            "name": "Bench Manager",
            "login": "bench_manager",
            "tz": TZ,
            "group_ids": [
                Command.set([ref("webcare_social.group_webcare_manager").id])
            ],
        }
    )
    channels = []
    for index, (name, team_name, target, median, share, langs) in enumerate(CHANNELS):
        agents = env["res.users"].create(
            [
                {
                    "name": f"{team_name} agent {n + 1}",
                    "login": f"bench_agent_{index}_{n}",
                    "tz": TZ,
                    "group_ids": [Command.set([agent_group])],
                }
                for n in range(AGENTS_PER_TEAM)
            ]
        )
        team = env["helpdesk.ticket.team"].create(
            {
                "name": team_name,
                "user_ids": [Command.set(agents.ids)],
                "user_id": agents[0].id,
            }
        )
        channel = env["webcare.channel"].create(
            {"name": name, "team_id": team.id, "sla_target_minutes": target}
        )
        channels.append(
            {
                "id": channel.id,
                "team": team.id,
                "target": target,
                "median": median,
                "share": share,
                "langs": langs,
                "agents": agents.ids,
                "lead": agents[0],
            }
        )
    stages = env["helpdesk.ticket.stage"].search([])
    env.flush_all()
    env.cr.commit()
    return {
        "company": env.company.id,
        "manager": manager,
        "channels": channels,
        "ticket_channel": ref("webcare_social.helpdesk_ticket_channel_social").id,
        "open_stages": stages.filtered(lambda s: not s.closed).ids,
        "closed_stages": stages.filtered("closed").ids,
    }


class Conversation:
    """One planned conversation, or a lone repost, excluded or failed message."""

    __slots__ = (
        "answered_at", "channel", "kind", "lang", "minutes", "n_in", "n_out",
        "opener", "responder", "start", "status", "step", "ticket", "user",
    )  # fmt: skip


class DataSet:
    """Plans the conversations, then COPYs the tickets and the messages."""

    def __init__(self, env, refs, now):
        self.env, self.cr, self.refs, self.now = env, env.cr, refs, now
        self.rng = Random(SEED)
        self.timings = {}
        # agent speed: some answer twice as fast as others
        self.speed = {
            agent: self.rng.uniform(0.6, 1.6)
            for channel in refs["channels"]
            for agent in channel["agents"]
        }

    def _timed_copy(self, table, columns, rows):
        start = time.perf_counter()
        count = copy_rows(self.cr, table, columns, rows)
        self.cr.execute(f"ANALYZE {table}")
        seconds = time.perf_counter() - start
        self.timings[table] = round(seconds, 1)
        print(f"  {table:<18}{count:>10,} rows {seconds:>7.1f} s", flush=True)
        return count

    def _moment(self):
        """A moment of the last year, more often in the day (local time)."""
        rng = self.rng
        day = self.now.date() - timedelta(days=rng.randrange(DAYS))
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = datetime(day.year, day.month, day.day, hour) + timedelta(
            seconds=rng.randrange(3600)
        )
        return local - timedelta(hours=1), hour  # Amsterdam, winter time

    def plan(self):
        rng, channels = self.rng, self.refs["channels"]
        shares = [c["share"] for c in channels]
        plan, rows = [], 0
        while rows < MESSAGES:
            conv = Conversation()
            conv.channel = rng.choices(channels, shares)[0]
            conv.start, hour = self._moment()
            conv.lang = rng.choices(*zip(*conv.channel["langs"], strict=True))[0]
            conv.ticket = None
            roll = rng.random()
            if roll < REPOST + EXCLUDED + FAILED:
                conv.kind = (
                    "repost"
                    if roll < REPOST
                    else "excluded"
                    if roll < REPOST + EXCLUDED
                    else "failed"
                )
                conv.n_in, conv.n_out = 1, 0
            else:
                self._plan_conversation(conv, hour)
            if conv.start >= self.now:
                continue
            plan.append(conv)
            rows += conv.n_in + conv.n_out
        return plan

    def _plan_conversation(self, conv, hour):
        rng, channel = self.rng, conv.channel
        conv.kind = "conv"
        conv.opener = rng.choices(("mention", "reply", "dm"), (50, 25, 25))[0]
        conv.n_in = rng.choice(IN_SIZES)
        conv.step = rng.randint(2, 90)
        conv.responder = rng.choice(channel["agents"])
        conv.user = conv.responder
        conv.minutes = conv.answered_at = None
        deadline = conv.start + timedelta(minutes=channel["target"])
        if rng.random() >= UNANSWERED:
            slow = (4.0 if hour < 7 else 1.0) * self.speed[conv.responder]
            median = channel["median"] * slow
            minutes = max(
                1, round(min(4320, rng.lognormvariate(math.log(median), 0.9)))
            )
            if conv.start + timedelta(minutes=minutes) <= self.now:
                conv.minutes = minutes
                conv.answered_at = conv.start + timedelta(minutes=minutes)
        if conv.answered_at:
            conv.status = (
                "answered_on_time" if conv.answered_at <= deadline else "answered_late"
            )
            conv.n_out = 1 + (conv.n_in - 1) // 2
        else:
            conv.responder = None
            conv.user = conv.user if rng.random() < 0.6 else None
            risk = timedelta(minutes=channel["target"] * RISK_PERCENT / 100)
            conv.status = (
                "late"
                if self.now > deadline
                else "at_risk"
                if self.now >= deadline - risk
                else "on_time"
            )
            conv.n_out = 0

    def write_tickets(self, plan):
        rng, refs = self.rng, self.refs
        tid = first_free_id(self.cr, "helpdesk_ticket")
        for conv in plan:
            if conv.kind == "conv":
                conv.ticket = tid
                tid += 1
        week_ago = self.now - timedelta(days=7)

        def rows():
            for conv in plan:
                if not conv.ticket:
                    continue
                closed = conv.start < week_ago and rng.random() < 0.9
                stage = rng.choice(
                    refs["closed_stages"] if closed else refs["open_stages"]
                )
                closed_date = conv.start + timedelta(days=1) if closed else None
                created = conv.start + timedelta(seconds=rng.randint(20, 300))
                changed = closed_date or created
                channel = conv.channel
                yield (
                    conv.ticket,
                    f"HT{conv.ticket:07d}",
                    f"Post by a customer on {conv.start:%d %b}",
                    "<p>Where is my suitcase?</p>",
                    refs["company"],
                    stage,
                    channel["team"],
                    refs["ticket_channel"],
                    rng.choice("0001123"),
                    "normal",
                    True,
                    False,
                    10,
                    closed_date,
                    changed,
                    created,
                    changed,
                    1,
                    1,
                    "A customer",
                    conv.user,
                    channel["id"],
                    conv.start,
                    conv.lang,
                    conv.start + timedelta(minutes=channel["target"]),
                    conv.answered_at,
                    conv.minutes,
                    conv.status,
                    SLA_RANK[conv.status],
                    conv.responder,
                )

        self._timed_copy("helpdesk_ticket", TICKET_COLUMNS, rows())
        advance_sequence(self.cr, "helpdesk_ticket")

    def write_messages(self, plan):
        start_id = first_free_id(self.cr, "webcare_message")

        def rows():
            mid = start_id
            for index, conv in enumerate(plan):
                for row in self._conversation_rows(conv, index):
                    yield (mid, *row)
                    mid += 1

        self._timed_copy("webcare_message", MESSAGE_COLUMNS, rows())
        advance_sequence(self.cr, "webcare_message")

    def _conversation_rows(self, conv, index):
        company, channel = self.refs["company"], conv.channel["id"]
        author = f"{2_000_000 + index % 90_000}"
        ref = f"conv{index}"
        if conv.kind != "conv":
            state = "failed" if conv.kind == "failed" else "ignored"
            reason = {"repost": "repost", "excluded": "excluded_keyword"}.get(conv.kind)
            yield self._inbound(
                company, channel, f"in{index}", "mention", author, conv.lang,
                conv.start, ref, None, state, reason, conv.kind == "repost",
            )  # fmt: skip
            return
        follow = "dm" if conv.opener == "dm" else "reply"
        for n in range(conv.n_in):
            posted = min(self.now, conv.start + timedelta(minutes=n * conv.step))
            yield self._inbound(
                company, channel, f"in{index}-{n}", conv.opener if n == 0 else follow,
                author, conv.lang, posted, ref, conv.ticket, "ticketed", None, False,
            )  # fmt: skip
        for n in range(conv.n_out):
            sent = conv.answered_at + timedelta(minutes=n * conv.step * 1.3)
            if sent > self.now:
                break
            yield (
                channel, company, f"out{index}-{n}", follow, "outbound", "1500",
                "PolderAir", "PolderAir", 120_000,
                "Sorry to hear that! Can you send us your booking reference by DM?",
                conv.lang, sent, ref, conv.ticket, "sent", None, False, None, None,
                conv.responder, sent, sent, sent, 1, 1,
            )  # fmt: skip

    @staticmethod
    def _inbound(*values):
        """An inbound message row from ``company, channel, external id, kind,
        author, lang, posted, conversation ref, ticket, state, reason, repost``."""
        (company, channel, ext, kind, author, lang, posted, ref, ticket, state,
         reason, repost) = values  # fmt: skip
        body = f"@PolderAir where is my suitcase? flight PA{len(ext) * 37 % 900 + 100}"
        payload = (
            f'{{"id":"{ext}","author_id":"{author}","lang":"{lang}",'
            f'"created_at":"{posted:%Y-%m-%dT%H:%M:%S}.000Z",'
            f'"conversation_id":"{ref}","text":"{body}"}}'
        )
        return (
            channel, company, ext, kind, "inbound", author, f"customer{author}",
            f"Customer {author}", int(author) % 5000, body, lang, posted, ref, ticket,
            state, reason, repost,
            "The item could not be read." if state == "failed" else None,
            payload, None, None, posted, posted, 1, 1,
        )  # fmt: skip

    def write(self):
        plan = self.plan()
        print(f"  planned {len(plan):,} conversations", flush=True)
        self.write_tickets(plan)
        self.write_messages(plan)
        return plan


def table_sizes(cr):
    sizes = {}
    for table in ("webcare_message", "helpdesk_ticket"):
        cr.execute(
            f"SELECT COUNT(*), pg_total_relation_size(%s) FROM {table}", (table,)
        )
        rows, size = cr.fetchone()
        sizes[table] = {"rows": rows, "mib": round(size / 2**20, 1)}
    return sizes


def data_figures(env):
    """What the report should show in total: counted straight from the tables."""
    cr = env.cr
    cr.execute(
        """SELECT COUNT(*) FILTER (WHERE direction = 'inbound'),
                  COUNT(*) FILTER (WHERE state = 'ignored'),
                  COUNT(*) FILTER (WHERE direction = 'outbound')
             FROM webcare_message"""
    )
    inbound, ignored, outbound = cr.fetchone()
    cr.execute(
        """SELECT COUNT(*), COUNT(webcare_first_response_at),
                  COUNT(*) FILTER (
                      WHERE webcare_sla_status IN ('late', 'answered_late'))
             FROM helpdesk_ticket WHERE webcare_channel_id IS NOT NULL"""
    )
    tickets, answered, breaches = cr.fetchone()
    return {
        "messages_in": inbound,
        "ignored": ignored,
        "our_replies": outbound,
        "tickets": tickets,
        "answered": answered,
        "breaches": breaches,
    }


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def vacuum(env, tables):
    """VACUUM ANALYZE as autovacuum would after a bulk load: it sets the
    visibility map that index-only scans rely on. Right after the load a first
    pass may only set the rows' hint bits, so it runs until the pages are
    all-visible (at most three passes). VACUUM needs a connection of its own."""
    _name, params = sql_db.connection_info_for(env.cr.dbname)
    connection = psycopg2.connect(**params)
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            for _attempt in range(3):
                for table in tables:
                    cr.execute(f"VACUUM ANALYZE {table}")
                cr.execute(
                    "SELECT bool_and(relallvisible >= relpages) FROM pg_class"
                    " WHERE relname IN %s",
                    (tuple(tables),),
                )
                if cr.fetchone()[0]:
                    break
    finally:
        connection.close()


def stats(times):
    return {
        "n": len(times),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(sum(times) / len(times), 1),
        "max_ms": round(max(times), 1),
    }


def timed(env, action):
    """Run ``action()`` with a cold ORM cache; return its result and ms."""
    env.invalidate_all()
    start = time.perf_counter()
    result = action()
    return result, 1000 * (time.perf_counter() - start)


def since(now, days):
    return [("posted_at", ">=", now - timedelta(days=days))]


def pivot(report, domain, rows, cols):
    """What the pivot view asks: every prefix of rows x cols, in one call."""
    sets = [
        [*rows[:r], *cols[:c]]
        for r in range(len(rows) + 1)
        for c in range(len(cols) + 1)
    ]
    return lambda: report.formatted_read_grouping_sets(domain, sets, MEASURES)


def count(model, domain, groupby):
    """Baseline: a plain count with the same grouping, on a real table."""
    return lambda: model.formatted_read_group(domain, groupby, ["__count"])


LIST_SPEC = {
    "posted_at": {},
    "line_type": {},
    "channel_id": {"fields": {"display_name": {}}},
    "agent_id": {"fields": {"display_name": {}}},
    "sla_status": {},
    "response_minutes": {},
}
STOCK_LIST_SPEC = {
    "posted_at": {},
    "kind": {},
    "channel_id": {"fields": {"display_name": {}}},
    "ticket_id": {"fields": {"display_name": {}}},
    "state": {},
}


def scenarios(env, refs, now):
    """``(key, what, ours, baseline label, baseline)``, as the web client calls.

    Ours run as the Webcare manager (the team lead for one), in the users'
    time zone; baselines run as the same user, on ``webcare.message`` (or
    ``helpdesk.ticket``), with the same grouping and period.
    """
    context = {"tz": TZ, "lang": "en_US"}
    manager = env(user=refs["manager"], context=context)
    lead = env(user=refs["channels"][0]["lead"], context=context)
    report, lead_report = (manager["webcare.report.response"],
                           lead["webcare.report.response"])  # fmt: skip
    messages, lead_messages = manager["webcare.message"], lead["webcare.message"]
    inbound = [("direction", "=", "inbound")]
    month, quarter = since(now, 30), since(now, 90)
    return [
        ("pivot_30d", "pivot, 30 days: channel x week (the default)",
         pivot(report, month, ["channel_id"], ["posted_at:week"]),
         "messages: count per channel x week",
         count(messages, month + inbound, ["channel_id", "posted_at:week"])),
        ("pivot_year_day", "pivot, a year: channel x day",
         pivot(report, [], ["channel_id"], ["posted_at:day"]),
         "messages: count per channel x day",
         count(messages, inbound, ["channel_id", "posted_at:day"])),
        ("pivot_year_agent", "pivot, a year: per agent",
         pivot(report, [], ["agent_id"], []),
         "messages: count per ticket's assignee",
         count(messages, inbound, ["ticket_id.user_id"])),
        ("pivot_year_hour", "pivot, a year: per hour of day",
         pivot(report, [], ["hour"], []),
         "messages: count per hour of day",
         count(messages, inbound, ["posted_at:hour_number"])),
        ("pivot_year_lang_sla", "pivot, a year: language x SLA status",
         pivot(report, [], ["lang"], ["sla_status"]),
         "messages: count per language x ticket's SLA",
         count(messages, inbound, ["lang", "ticket_id.webcare_sla_status"])),
        ("pivot_lead_30d", "pivot as a team lead, 30 days: agent x day",
         pivot(lead_report, month, ["agent_id"], ["posted_at:day"]),
         "messages: count per channel x day",
         count(lead_messages, month + inbound, ["channel_id", "posted_at:day"])),
        ("graph_90d", "graph, 90 days: median response per day",
         lambda: report.formatted_read_group(
             quarter, ["posted_at:day"], ["__count", "response_median:median"]),
         "messages: count per day",
         count(messages, quarter + inbound, ["posted_at:day"])),
        ("list_30d", "list, 30 days: first page of 80 lines",
         lambda: report.web_search_read(month, LIST_SPEC, limit=80),
         "messages: first page of 80",
         lambda: messages.web_search_read(month + inbound, STOCK_LIST_SPEC, limit=80)),
    ]  # fmt: skip


class SlowestQuery:
    """Keeps the slowest query run while it is active, to EXPLAIN it."""

    def __init__(self):
        self.slowest = (0.0, None, None)

    def hook(self, cr, query, params, start, delay):
        if delay > self.slowest[0]:
            self.slowest = (delay, query, params)

    def __enter__(self):
        thread = threading.current_thread()
        thread.query_hooks = [*getattr(thread, "query_hooks", ()), self.hook]
        return self

    def __exit__(self, *exc_info):
        thread = threading.current_thread()
        thread.query_hooks = [h for h in thread.query_hooks if h != self.hook]


def slowest_query(env, action):
    """The slowest SQL query of ``action()``, as ``(text, params)``."""
    with SlowestQuery() as slow:
        timed(env, action)
    _delay, query, params = slow.slowest
    if query is None:
        return None
    return (query.decode() if isinstance(query, bytes) else str(query)), params


def explain(env, query):
    """``EXPLAIN (ANALYZE, BUFFERS)`` of ``query``, ``(text, params)``."""
    if not query:
        return None
    text, params = query
    env.cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
    plan = [row[0] for row in env.cr.fetchall()]
    return {"query": env.cr.mogrify(text, params).decode()[:8000], "plan": plan}


JIT_KEYS = ("pivot_30d", "pivot_year_day", "list_30d")


def jit_effect(env, queries):
    """The slowest query of a few scenarios with PostgreSQL's JIT on and off.

    The report turns JIT off in its transaction (``SET LOCAL jit = off``);
    this shows what that saves. The bench runs in one transaction: every
    query after the report's first one (baselines too) runs without JIT.
    """
    result = {}
    for key in JIT_KEYS:
        if not queries.get(key):
            continue
        text, params = queries[key]
        times = {}
        for setting in ("on", "off"):
            samples = []
            for _n in range(max(3, RUNS // 3)):
                env.cr.execute(f"SET LOCAL jit = {setting}")
                start = time.perf_counter()
                env.cr.execute(text, params)
                env.cr.fetchall()
                samples.append(1000 * (time.perf_counter() - start))
            times[setting] = stats(samples)
        result[key] = times
    env.cr.execute("SET LOCAL jit = off")
    return result


def group_count(result):
    if isinstance(result, dict):  # web_search_read
        return len(result.get("records", []))
    if result and isinstance(result[0], list):  # grouping sets
        return sum(len(groups) for groups in result)
    return len(result)


def measure(env, refs, now):
    """Each scenario and, right after, its baseline; then the plain scan."""
    results, queries = {}, {}
    print(
        f"{'':<46}{'p50 ms':>9}{'p95 ms':>9}{'groups':>8}   baseline p50, p95 ms",
        flush=True,
    )
    for key, what, ours, base_label, base in scenarios(env, refs, now):
        for _n in range(WARMUP):
            timed(env, ours)
            timed(env, base)
        mine, theirs = [], []
        for _n in range(RUNS):
            mine.append(timed(env, ours)[1])
            theirs.append(timed(env, base)[1])
        row = results[key] = {
            "what": what,
            "ours": stats(mine),
            "groups": group_count(ours()),
            "baseline": base_label,
            "base": stats(theirs),
        }
        queries[key] = slowest_query(env, ours)
        row["explain"] = explain(env, queries[key])
        ours_ms, base_ms = row["ours"], row["base"]
        print(
            f"  {what:<44}{ours_ms['p50_ms']:>9.1f}{ours_ms['p95_ms']:>9.1f}"
            f"{row['groups']:>8}   {base_ms['p50_ms']:.1f}, {base_ms['p95_ms']:.1f}",
            flush=True,
        )
    scan = []
    for _n in range(RUNS):
        _count, ms = timed(env, lambda: env.cr.execute(SEQ_COUNT))
        scan.append(ms)
    results["seq_count"] = {"what": SEQ_COUNT, "ours": stats(scan)}
    return results, queries


SEQ_COUNT = "SELECT COUNT(*) FROM webcare_message"


def check_totals(env, refs, expected):
    """The report's totals must be what the tables say, or the run stops."""
    report = env(user=refs["manager"], context={"tz": TZ})["webcare.report.response"]
    names = ("messages_in", "ignored", "tickets", "answered", "breaches")
    specs = ["message_count:sum", "ignored_count:sum", "ticket_count:sum",
             "answered_count:sum", "breach_count:sum"]  # fmt: skip
    (total,) = report._read_group([], [], specs)
    got = dict(zip(names, total, strict=True))
    wrong = {k: (v, expected[k]) for k, v in got.items() if v != expected[k]}
    if wrong:
        raise SystemExit(f"The report's totals differ from the tables: {wrong}")
    return got


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def ratios(report):
    """Ours / baseline and ours / sequential count, p50 and p95."""
    rows = report["scenarios"]
    scan = rows["seq_count"]["ours"]
    return {
        key: {
            "baseline_p50": ratio(row["ours"]["p50_ms"], row["base"]["p50_ms"]),
            "baseline_p95": ratio(row["ours"]["p95_ms"], row["base"]["p95_ms"]),
            "seq_count_p50": ratio(row["ours"]["p50_ms"], scan["p50_ms"]),
        }
        for key, row in rows.items()
        if "base" in row
    }


def size_lines(report):
    sizes = report["sizes"]
    data = report["data"]
    return [
        f"data: {sizes['webcare_message']['rows']:,} messages "
        f"({sizes['webcare_message']['mib']:,} MiB with indexes): "
        f"{data['messages_in']:,} from customers ({data['ignored']:,} ignored), "
        f"{data['our_replies']:,} our replies; {sizes['helpdesk_ticket']['rows']:,} "
        f"tickets ({sizes['helpdesk_ticket']['mib']:,} MiB), {data['answered']:,} "
        f"answered, {data['breaches']:,} breaches; report: "
        f"{report['view_lines']:,} lines; database {report['database_mib']:,} MiB",
    ]


def report_lines(report):
    rows, scan = report["scenarios"], report["scenarios"]["seq_count"]["ours"]
    lines = [
        "",
        f"response-time report (webcare.report.response), scale {report['scale']}",
        *size_lines(report),
        "",
        f"{'scenario; indented: its baseline, same run':<50}{'p50 ms':>9}"
        f"{'p95 ms':>9}{'groups':>8}",
    ]
    for key, row in rows.items():
        if key == "seq_count":
            continue
        ours, base = row["ours"], row["base"]
        lines.append(
            f"{row['what']:<50}{ours['p50_ms']:>9.1f}{ours['p95_ms']:>9.1f}"
            f"{row['groups']:>8}"
        )
        lines.append(
            f"  {row['baseline']:<48}{base['p50_ms']:>9.1f}{base['p95_ms']:>9.1f}"
        )
    lines.append(
        f"{'sequential count(*) of webcare_message':<50}"
        f"{scan['p50_ms']:>9.1f}{scan['p95_ms']:>9.1f}"
    )
    lines += ["", f"{'ratios (same run, same process)':<50}{'p50':>9}{'p95':>9}"]
    for key, value in report["ratios"].items():
        lines.append(
            f"  {key + ' / baseline':<48}{fmt_ratio(value['baseline_p50']):>9}"
            f"{fmt_ratio(value['baseline_p95']):>9}"
        )
    lines.append(
        "  ours / sequential count, p50: "
        + ", ".join(
            f"{k} {fmt_ratio(v['seq_count_p50'])}" for k, v in report["ratios"].items()
        )
    )
    lines += [
        "",
        "PostgreSQL JIT (the report turns it off; so do all queries after it"
        " in this one-transaction run, baselines too), slowest query, p50 ms:",
    ]
    for key, times in report["jit"].items():
        lines.append(
            f"  {key:<48}jit on {times['on']['p50_ms']:>8.1f}   "
            f"off {times['off']['p50_ms']:>8.1f}"
        )
    lines += [
        "",
        f"target (information only, never fails the run): p95 < {TARGET_MS} ms",
    ]
    for row in rows.values():
        if "base" in row:
            verdict = "PASS" if row["ours"]["p95_ms"] < TARGET_MS else "MISS"
            lines.append(
                f"  {verdict}  {row['what']}: p95 {row['ours']['p95_ms']:.0f} ms"
            )
    return lines


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(env):
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    print(f"reporting benchmark: scale {SCALE}: {MESSAGES:,} messages", flush=True)
    refs = setup(env)
    print("writing the data with COPY:", flush=True)
    data = DataSet(env, refs, now)
    data.write()
    env.cr.commit()
    vacuum(env, ("webcare_message", "helpdesk_ticket"))
    env.invalidate_all()
    expected = data_figures(env)
    report = {
        "scale": SCALE,
        "odoo": release.version,
        "python": sys.version.split()[0],
        "postgres": env.cr._cnx.server_version,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sizes": table_sizes(env.cr),
        "generation_s": data.timings,
        "data": expected,
        "totals": check_totals(env, refs, expected),
        "view_lines": env["webcare.report.response"].sudo().search_count([]),
    }
    env.cr.execute("SELECT pg_database_size(current_database())")
    report["database_mib"] = round(env.cr.fetchone()[0] / 2**20, 1)
    print("\n".join(size_lines(report)), flush=True)
    print(
        f"measuring: {RUNS} runs per scenario after {WARMUP} warm-up ones", flush=True
    )
    report["scenarios"], queries = measure(env, refs, now)
    print("timing the slowest queries with PostgreSQL's JIT on and off...", flush=True)
    report["jit"] = jit_effect(env, queries)
    report["ratios"] = ratios(report)
    report["total_s"] = round(time.perf_counter() - started, 1)
    print("\n".join(report_lines(report)), flush=True)
    print(f"benchmark run in {report['total_s']:.0f} s", flush=True)
    path = results_path("reporting.json", get_module_path("webcare_social"))
    path.write_text(
        json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    )
    print(f"results written to {path}")


if __name__ == "__main__":
    main(env)
