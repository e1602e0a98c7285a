# ruff: noqa: F821
"""Benchmark of the ingestion per provider, run by ``scripts/bench.sh``.

Runs inside ``odoo shell`` (which provides ``env``) on a throw-away database
with webcare_social installed. The same ``BENCH_N`` synthetic posts are
served by each provider's local stand-in (``bench/ingest_providers.py``);
every scenario is measured in this one process and printed next to
baselines of the same run, as ratios. See bench/README.md.
"""

import contextlib
import json
import os
import re
import sys
import threading
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from random import Random

from odoo import release
from odoo.modules.module import get_module_path

from odoo.addons.webcare_social.services.base import registered_providers

sys.path.insert(0, os.environ.get("BENCH_DIR", "bench"))
from benchlib import fmt_ratio, ratio, results_path
from ingest_providers import available, conversations, feed_for, mix

N = int(os.environ.get("BENCH_N", "1000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
SEED = 1919
KNOWN_BY_ID = 0.20  # share of authors with an identity (external id) on a contact
KNOWN_BY_HANDLE = 0.05  # share with a hand-typed handle (no id yet) on a contact
ADDON_DIR = str(Path(get_module_path("webcare_social"))) + os.sep


# --------------------------------------------------------------------------
# Set-up: contacts, then per provider its identities and channel
# --------------------------------------------------------------------------


def wanted_providers():
    """``BENCH_PROVIDERS`` (default: every provider with a client and stand-in)."""
    ready = [code for code in available(ADDON_DIR) if code in registered_providers()]
    asked = os.environ.get("BENCH_PROVIDERS", "").replace(" ", "")
    if not asked:
        return ready
    codes = [code for code in asked.split(",") if code]
    missing = [code for code in codes if code not in ready]
    if missing:
        raise SystemExit(
            f"BENCH_PROVIDERS: no client or stand-in for {', '.join(missing)} "
            f"(available: {', '.join(ready)})"
        )
    return codes


def known_people(people):
    """The authors that are contacts: by network id, then by typed handle only."""
    by_id = int(len(people) * KNOWN_BY_ID)
    by_handle = int(len(people) * KNOWN_BY_HANDLE)
    return people[: by_id + by_handle], by_id


def create_contacts(people):
    """One contact per known author, shared by every network's identities."""
    known, _by_id = known_people(people)
    partners = env["res.partner"].create([{"name": p.name} for p in known])
    return dict(zip(known, partners.ids, strict=True))


def create_identities(feed, people, partner_ids):
    """The known authors' identities on this network."""
    known, by_id = known_people(people)
    env["webcare.identity"].create(
        [
            feed.identity_vals(person, partner_ids[person], with_id=i < by_id)
            for i, person in enumerate(known)
        ]
    )


def create_channel(feed):
    """A connected channel of ``feed``'s provider pointing at its stand-in."""
    team = env["helpdesk.ticket.team"].create({"name": f"Webcare bench {feed.label}"})
    channel = env["webcare.channel"].create(
        {
            "name": f"PolderAir on {feed.label} (bench)",
            "team_id": team.id,
            **feed.channel_vals(),
        }
    )
    feed.connect(channel)
    set_start_cursors(channel, feed)
    return channel


def set_start_cursors(channel, feed):
    """Each stream's cursor from before the data, so a read gets all of it."""
    for code in channel._get_provider_class().stream_codes():
        channel._set_cursor(code, feed.start_cursors.get(code, False))


def plain_ticket_vals(feed):
    """Bare ticket values, one per delivered item: the cheapest the ORM can do."""
    partners = {
        ident.external_id: ident.partner_id.id
        for ident in env["webcare.identity"].search(
            [("network", "=", feed.provider), ("external_id", "!=", False)]
        )
    }
    return [
        {
            "name": item.text[:80],
            "description": item.text,
            "partner_id": partners.get(item.author_id, False),
        }
        for item in feed.delivered
    ]


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


class Profiler:
    """Peak Python memory (tracemalloc) and where the queries come from.

    Queries are counted by shape (their literals are parameters already)
    and by caller, the innermost frame in the webcare_social addon, so an
    N+1 shows up as a call site with about one query per message.
    """

    def __init__(self):
        self.shapes = Counter()
        self.callers = Counter()
        self.shape_callers = {}
        self.peak_bytes = None

    def hook(self, cr, query, params, start, delay):
        shape, caller = normalize_query(query), webcare_caller()
        self.shapes[shape] += 1
        self.callers[caller] += 1
        self.shape_callers.setdefault(shape, Counter())[caller] += 1

    def __enter__(self):
        thread = threading.current_thread()
        thread.query_hooks = [*getattr(thread, "query_hooks", ()), self.hook]
        tracemalloc.start()
        return self

    def __exit__(self, *exc_info):
        self.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        thread = threading.current_thread()
        thread.query_hooks = [h for h in thread.query_hooks if h != self.hook]

    def top_queries(self, limit, per):
        return [
            {
                "count": count,
                "per_item": round(count / per, 2),
                "caller": self.shape_callers[shape].most_common(1)[0][0],
                "query": shape[:400],
            }
            for shape, count in self.shapes.most_common(limit)
        ]

    def top_callers(self, limit, per):
        return [
            {"count": count, "per_item": round(count / per, 2), "caller": caller}
            for caller, count in self.callers.most_common(limit)
        ]


def normalize_query(query):
    text = query.decode() if isinstance(query, bytes) else str(query)
    text = " ".join(text.split())
    text = re.sub(r'SAVEPOINT "[0-9a-f-]+"', 'SAVEPOINT "…"', text)
    text = re.sub(r"%s(?:, %s)+", "%s, …", text)
    return re.sub(r"(\([^()]*\))(?:, \([^()]*\))+", r"\1, …", text)


def webcare_caller():
    """The innermost webcare_social frame on the stack, as file:line function."""
    frame = sys._getframe(2)
    while frame:
        filename = frame.f_code.co_filename
        if filename.startswith(ADDON_DIR) and "standin" not in filename:
            where = filename[len(ADDON_DIR) :]
            return f"{where}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back
    return "(outside webcare_social: ORM flush, bench)"


def measure(env, action, items, profile=False):
    """Run ``action()``; return its time and query count.

    With ``profile``, also its peak Python memory and where its queries
    come from (see ``Profiler``; it slows Python down, so compare times of
    unprofiled runs only). Pending ORM writes are flushed before the clock
    starts and before it stops, so deferred queries are counted too.
    """
    profiler = Profiler() if profile else None
    env.flush_all()
    queries = env.cr.sql_log_count
    with profiler or contextlib.nullcontext():
        start = time.perf_counter()
        result = action()
        env.flush_all()
        seconds = time.perf_counter() - start
    return {
        "items": items,
        "seconds": seconds,
        "queries": env.cr.sql_log_count - queries,
        "result": result,
        "profiler": profiler,
    }


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


def fetch_and_parse(channel, feed):
    """Page through every stream with the API client only; count the items."""
    service = channel._get_service()
    items = 0
    for code in service.stream_codes():
        cursor, token = feed.start_cursors.get(code), None
        while True:
            page = service.fetch(code, cursor, token)
            items += len(page.posts) + len(page.errors)
            if page.drained:
                break
            token = page.next_token
    return items


def plain_create(env, vals_list):
    return len(env["helpdesk.ticket"].create(vals_list))


def ingest(channel):
    """The real thing: ``action_fetch`` of every new item."""
    channel.action_fetch()
    if channel.last_error:
        raise RuntimeError(f"ingest failed: {channel.last_error}")


def outcome(env, channel, feed):
    """What the ingest produced, and what it lost or stored twice.

    Counted outside the measurement. ``lost``: delivered items not stored;
    ``duplicates``: ids stored more than once; ``pending``: items left new
    or failed (a customer's post must end on a ticket).
    """
    messages = env["webcare.message"].search([("channel_id", "=", channel.id)])
    ticketed = messages.filtered(lambda m: m.state == "ticketed")
    stored = Counter(messages.mapped("external_id"))
    sent = {item.external_id for item in feed.delivered}
    return {
        "messages": len(messages),
        "states": dict(Counter(messages.mapped("state"))),
        "tickets": len(ticketed.ticket_id),
        "appended": len(ticketed) - len(ticketed.ticket_id),
        "identities": len(messages.identity_id),
        "on_contacts": len(messages.filtered("identity_id.partner_id")),
        "lost": len(sent - set(stored)),
        "unexpected": len(set(stored) - sent),
        "duplicates": sum(1 for count in stored.values() if count > 1),
        "pending": len(messages.filtered(lambda m: m.state in ("new", "failed"))),
    }


def run_scenarios(env, channel, feed, ticket_vals, profile):
    """Run every scenario once; roll back so each starts from the same state."""
    n = len(ticket_vals)

    def timed(action):
        feed.clear_log()  # a stand-in's rate-limit headers count its requests
        return measure(env, action, n, profile)

    runs = {"fetch": timed(lambda: fetch_and_parse(channel, feed))}
    runs["plain"] = timed(lambda: plain_create(env, ticket_vals))
    env.cr.rollback()
    runs["ingest"] = timed(lambda: ingest(channel))
    runs["ingest"]["result"] = outcome(env, channel, feed)
    set_start_cursors(channel, feed)  # fetch everything again: all is stored
    runs["rerun"] = timed(lambda: ingest(channel))
    runs["rerun"]["result"] = outcome(env, channel, feed)
    env.cr.rollback()
    return runs


def check(runs, feed):
    """Stop the run when an item was lost, stored twice or left unprocessed."""
    n = len(feed.delivered)
    fetched, created = runs["fetch"]["result"], runs["ingest"]["result"]
    again = runs["rerun"]["result"]
    problems = []
    if fetched != n or created["messages"] != n:
        problems.append(f"{n} items delivered, {fetched} fetched")
    for key in ("lost", "unexpected", "duplicates", "pending"):
        if created[key]:
            problems.append(f"{created[key]} {key}")
    if again != created:
        problems.append(f"the re-run changed the data: {created} -> {again}")
    if problems:
        raise RuntimeError(f"{feed.label}: {'; '.join(problems)} ({created})")


def bench_provider(provider, people, posts, partner_ids):
    """Both passes for one provider; its report."""
    feed = feed_for(provider, ADDON_DIR, people, posts)
    try:
        create_identities(feed, people, partner_ids)
        channel = create_channel(feed)
        env.cr.commit()  # the shared starting state of every scenario
        ticket_vals = plain_ticket_vals(feed)
        runs = run_scenarios(env, channel, feed, ticket_vals, profile=False)
        check(runs, feed)
        traced = {}
        if PROFILE:  # a second, instrumented pass for memory and query origins
            traced = run_scenarios(env, channel, feed, ticket_vals, profile=True)
            check(traced, feed)
    finally:
        feed.stop()
    peaks = {key: run["profiler"].peak_bytes for key, run in traced.items()}
    rows = summary(runs, peaks)
    return {
        "provider": provider,
        "label": feed.label,
        "items": len(feed.delivered),
        "page_size": feed.page_size,
        "scenarios": rows,
        "ratios": ratios(rows),
        "outcome": runs["ingest"]["result"],
        **query_breakdown(traced, len(feed.delivered)),
    }


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

LABELS = {
    "fetch": "fetch+parse only",
    "plain": "plain ticket create",
    "ingest": "ingest (action_fetch)",
    "rerun": "re-run, all stored",
}


def summary(runs, peaks):
    rows = {}
    for key, run in runs.items():
        items = run["items"]
        rows[key] = {
            "items": items,
            "seconds": round(run["seconds"], 3),
            "ms_per_item": round(1000 * run["seconds"] / items, 3),
            "items_per_second": round(items / run["seconds"], 1),
            "queries": run["queries"],
            "queries_per_item": round(run["queries"] / items, 2),
            "peak_bytes": peaks.get(key),
        }
    return rows


# (key in the JSON, numerator row, denominator row, column, printed as)
RATIOS = (
    ("ingest/plain time", "ingest", "plain", "seconds",
     "ingest time per message / plain ticket create per ticket"),
    ("ingest/plain queries", "ingest", "plain", "queries",
     "ingest queries per message / plain create queries per ticket"),
    ("ingest/plain peak memory", "ingest", "plain", "peak_bytes",
     "ingest peak memory / plain create peak memory"),
    ("ingest/fetch time", "ingest", "fetch", "seconds",
     "ingest time / fetch+parse only time"),
    ("ingest/fetch peak memory", "ingest", "fetch", "peak_bytes",
     "ingest peak memory / fetch+parse only peak memory"),
    ("rerun/ingest time", "rerun", "ingest", "seconds",
     "re-run time / first ingest time"),
    ("rerun/ingest queries", "rerun", "ingest", "queries",
     "re-run queries / first ingest queries"),
    ("rerun/ingest peak memory", "rerun", "ingest", "peak_bytes",
     "re-run peak memory / first ingest peak memory"),
)  # fmt: skip


def ratios(rows):
    return {
        key: ratio(rows[num][column], rows[den][column])
        for key, num, den, column, _label in RATIOS
    }


def query_breakdown(traced, items):
    """The repeated queries of the profiled pass, if there was one."""
    if not traced:
        return {"top_ingest_queries": [], "ingest_queries_by_caller": []}
    ingest_run, rerun_run = traced["ingest"]["profiler"], traced["rerun"]["profiler"]
    return {
        "top_ingest_queries": ingest_run.top_queries(30, items),
        "ingest_queries_by_caller": ingest_run.top_callers(30, items),
        "top_rerun_queries": rerun_run.top_queries(10, items),
    }


def provider_lines(report):
    """One provider's scenario table, ratios and query origins."""
    yield ""
    yield (
        f"== {report['label']}: {report['items']} items delivered, "
        f"page size {report['page_size']}"
    )
    yield from table_lines(report["scenarios"])
    yield f"ingest outcome: {report['outcome']}"
    yield "ratios (same run, same process):"
    for key, _num, _den, _column, label in RATIOS:
        yield f"  {label}: {fmt_ratio(report['ratios'][key])}"
    yield from query_lines(report)


def table_lines(rows):
    yield (
        f"{'scenario':<24}{'items':>7}{'time s':>9}{'ms/item':>9}{'items/s':>9}"
        f"{'queries':>9}{'q/item':>8}{'peak MiB':>10}"
    )
    for key, row in rows.items():
        peak = row["peak_bytes"]
        yield (
            f"{LABELS[key]:<24}{row['items']:>7}{row['seconds']:>9.2f}"
            f"{row['ms_per_item']:>9.2f}{row['items_per_second']:>9.0f}"
            f"{row['queries']:>9}{row['queries_per_item']:>8.2f}"
            f"{'-' if peak is None else f'{peak / 2**20:.1f}':>10}"
        )


def query_lines(report):
    rows = report["scenarios"]
    yield (
        f"SQL queries per message: ingest {rows['ingest']['queries_per_item']:.2f}, "
        f"re-run {rows['rerun']['queries_per_item']:.2f} "
        f"(plain ticket create: {rows['plain']['queries_per_item']:.2f} per ticket)"
    )
    if not report["top_ingest_queries"]:
        return
    yield "most repeated ingest queries (count, per message, main caller):"
    for q in report["top_ingest_queries"][:8]:
        yield f"  {q['count']:>6} {q['per_item']:>6.2f}  {q['caller']}"
        yield f"         {q['query'][:150]}"
    yield "ingest queries by innermost webcare_social call site:"
    for c in report["ingest_queries_by_caller"][:8]:
        yield f"  {c['count']:>6} {c['per_item']:>6.2f}  {c['caller']}"


COMPARISON = (
    # header, width, value of a provider report
    ("provider", 10, lambda r: r["label"]),
    ("page", 6, lambda r: r["page_size"]),
    ("messages", 10, lambda r: r["outcome"]["messages"]),
    ("tickets", 9, lambda r: r["outcome"]["tickets"]),
    ("appended", 10, lambda r: r["outcome"]["appended"]),
    ("ignored", 9, lambda r: r["outcome"]["states"].get("ignored", 0)),
    ("ingest s", 10, lambda r: f"{r['scenarios']['ingest']['seconds']:.2f}"),
    ("ms/msg", 8, lambda r: f"{r['scenarios']['ingest']['ms_per_item']:.2f}"),
    ("q/msg", 7, lambda r: f"{r['scenarios']['ingest']['queries_per_item']:.2f}"),
    ("fetch s", 9, lambda r: f"{r['scenarios']['fetch']['seconds']:.2f}"),
    ("plain s", 9, lambda r: f"{r['scenarios']['plain']['seconds']:.2f}"),
    ("/plain", 8, lambda r: fmt_ratio(r["ratios"]["ingest/plain time"])),
    ("q/plain", 9, lambda r: fmt_ratio(r["ratios"]["ingest/plain queries"])),
    ("lost", 6, lambda r: r["outcome"]["lost"]),
    ("dup", 5, lambda r: r["outcome"]["duplicates"]),
)


def comparison_lines(report):
    """The table with a row per provider."""
    yield ""
    yield (
        f"ingestion per provider: the same {report['n']} posts "
        f"({_mix_text(report['mix'])}) by {report['authors']} authors "
        f"({report['known_contacts']} known contacts)"
    )
    yield "".join(
        f"{head:<{width}}" if i == 0 else f"{head:>{width}}"
        for i, (head, width, _value) in enumerate(COMPARISON)
    )
    for row in report["providers"].values():
        yield "".join(
            f"{value(row)!s:<{width}}" if i == 0 else f"{value(row)!s:>{width}}"
            for i, (_head, width, value) in enumerate(COMPARISON)
        )
    yield (
        "/plain: ingest time / one plain helpdesk.ticket.create of a bare ticket "
        "per delivered message (same run); q/plain the same for queries;"
    )
    yield (
        "fetch s: the client paging through the stand-in alone (HTTP + parsing, "
        "included in ingest s); lost/dup: delivered items not stored / stored twice."
    )


def _mix_text(counts):
    return (
        f"{counts['new']} new conversations, {counts['reply']} replies in them, "
        f"{counts['own']} own replies, {counts['repost']} reposts"
    )


def print_report(report):
    lines = [
        "",
        f"webcare_social ingestion benchmark: N={report['n']} posts, "
        f"{report['authors']} authors ({report['known_contacts']} known contacts), "
        f"providers {', '.join(report['providers'])}",
    ]
    for provider_report in report["providers"].values():
        lines.extend(provider_lines(provider_report))
    lines.extend(comparison_lines(report))
    lines.append("")
    print("\n".join(lines), flush=True)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main():
    providers = wanted_providers()
    people, posts = conversations(N, Random(SEED))
    partner_ids = create_contacts(people)
    env.cr.commit()
    report = {
        "n": N,
        "authors": len(people),
        "known_contacts": len(partner_ids),
        "mix": mix(posts),
        "odoo": release.version,
        "python": sys.version.split()[0],
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "providers": {},
    }
    for provider in providers:
        print(f"benchmarking {provider} ...", flush=True)
        report["providers"][provider] = bench_provider(
            provider, people, posts, partner_ids
        )
    print_report(report)
    path = results_path("latest.json", get_module_path("webcare_social"))
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
