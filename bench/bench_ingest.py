# ruff: noqa: F821
"""Benchmark of the X mention ingestion, run by ``scripts/bench.sh``.

Runs inside ``odoo shell`` (which provides ``env``) on a throw-away database
with webcare_social installed. A local X API stand-in serves ``BENCH_N``
synthetic mentions; every scenario is measured in this one process and
printed next to baselines of the same run, as ratios. See bench/README.md.
"""

import contextlib
import importlib.util
import json
import os
import re
import sys
import threading
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random

from odoo import release
from odoo.modules.module import get_module_path

N = int(os.environ.get("BENCH_N", "1000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
PAGE_SIZE = 100
SEED = 1919
KNOWN_BY_ID = 0.20  # share of authors with an identity (external id) on a contact
KNOWN_BY_HANDLE = 0.05  # share with a hand-typed handle (no id yet) on a contact
START = datetime(2026, 1, 5, 7, 0, 0)
TEXTS = (
    "where is my suitcase? flight {flight} landed hours ago",
    "mijn koffer is kwijt na {flight}, wie helpt me?",
    "{flight} cancelled again. Unacceptable!!!",
    "can I change my booking for {flight} to tomorrow?",
    "vlucht {flight} geannuleerd, hoe krijg ik mijn geld terug?",
    "thanks for the upgrade on {flight}, great crew",
    "still no answer about my refund for {flight}",
)
REPLIES = (
    "any news?",
    "nog steeds niets gehoord",
    "booking ref {flight}X9, please check",
    "this is ridiculous, 3 days now",
    "ok thanks, I sent a DM",
)
OWN_REPLIES = ("we're on it, can you DM us your booking ref?", "sorry to hear that!")


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


def load_standin_module():
    """Import tests/x_standin.py by path (no import of the test package)."""
    path = Path(get_module_path("webcare_social")) / "tests" / "x_standin.py"
    spec = importlib.util.spec_from_file_location("webcare_bench_x_standin", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_users(count, rng):
    """X user objects of ``count`` customers; a few have a large reach."""
    users = []
    for i in range(count):
        followers = rng.choice((12, 40, 150, 800, 2_500, 15_000, 250_000))
        users.append(
            {
                "id": str(1_600_000_000_000_000_000 + i),
                "username": f"flyer{i:05d}",
                "name": f"Flyer {i}",
                "verified": followers > 100_000,
                "public_metrics": {"followers_count": followers},
            }
        )
    return users


def make_tweets(standin, account, users, n, rng):
    """``n`` tweets of the mentions timeline, oldest first.

    About 55% start a conversation, 30% reply in an earlier one (mostly by
    the same author), 7% are our own replies and 8% retweets.
    """
    tweets, threads = [], []
    for i in range(n):
        moment = START + timedelta(seconds=37 * i)
        tweet = {
            "id": standin.snowflake(moment),
            "created_at": standin.iso(moment),
            "lang": "en",
        }
        roll = rng.random()
        if threads and roll < 0.07:
            _own_reply(tweet, rng.choice(threads[-50:]), account, rng)
        elif threads and roll < 0.15:
            _retweet(tweet, rng.choice(tweets), users, rng)
        elif threads and roll < 0.45:
            _customer_reply(tweet, rng.choice(threads[-50:]), users, rng)
        else:
            _new_conversation(tweet, users, rng)
            threads.append(tweet)
        tweets.append(tweet)
    return tweets


def _new_conversation(tweet, users, rng):
    text = rng.choice(TEXTS).format(flight=f"PA{rng.randint(100, 999)}")
    author = rng.choice(users)
    tweet.update(text=f"@PolderAir {text}", author_id=author["id"])
    tweet["conversation_id"] = tweet["id"]
    tweet["_handle"] = author["username"]


def _customer_reply(tweet, thread, users, rng):
    same_author = rng.random() < 0.8
    author_id = thread["author_id"] if same_author else rng.choice(users)["id"]
    text = rng.choice(REPLIES).format(flight=f"PA{rng.randint(100, 999)}")
    tweet.update(
        text=f"@PolderAir {text}",
        author_id=author_id,
        conversation_id=thread["conversation_id"],
        in_reply_to_user_id=thread["author_id"],
        referenced_tweets=[{"type": "replied_to", "id": thread["id"]}],
    )


def _own_reply(tweet, thread, account, rng):
    tweet.update(
        text=f"@{thread['_handle']} {rng.choice(OWN_REPLIES)}",
        author_id=account["id"],
        conversation_id=thread["conversation_id"],
        in_reply_to_user_id=thread["author_id"],
        referenced_tweets=[{"type": "replied_to", "id": thread["id"]}],
        in_mentions=True,
    )


def _retweet(tweet, original, users, rng):
    tweet.update(
        text=f"RT @{original.get('_handle', 'PolderAir')}: {original['text']}"[:280],
        author_id=rng.choice(users)["id"],
        conversation_id=tweet["id"],
        referenced_tweets=[{"type": "retweeted", "id": original["id"]}],
        in_mentions=True,
    )


def build_dataset(standin, n, rng):
    """The stand-in dataset: account, ~n/5 authors and n mentions."""
    account = dict(standin.DEFAULT_ACCOUNT)
    users = make_users(max(n // 5, 10), rng)
    tweets = make_tweets(standin, account, users, n, rng)
    for tweet in tweets:
        tweet.pop("_handle", None)
    return {
        "account": account,
        "users": users,
        "tweets": tweets,
        "settings": {"page_size": PAGE_SIZE},
    }


def create_known_identities(env, users):
    """Link the first authors to contacts, by external id or by handle only."""
    by_id = int(len(users) * KNOWN_BY_ID)
    by_handle = int(len(users) * KNOWN_BY_HANDLE)
    known = users[: by_id + by_handle]
    partners = env["res.partner"].create([{"name": u["name"]} for u in known])
    env["webcare.identity"].create(
        [
            {
                "network": "x",
                "handle": user["username"],
                "external_id": user["id"] if i < by_id else False,
                "partner_id": partner.id,
            }
            for i, (user, partner) in enumerate(zip(known, partners, strict=True))
        ]
    )
    return partners


def create_channel(env, standin):
    """A connected X channel pointing at the stand-in."""
    team = env["helpdesk.ticket.team"].create({"name": "Webcare bench"})
    channel = env["webcare.channel"].create(
        {
            "name": "PolderAir on X (bench)",
            "api_base_url": standin.base_url,
            "team_id": team.id,
            "bearer_token": standin.bearer_token,
            "api_key": standin.consumer_key,
            "api_key_secret": standin.consumer_secret,
            "access_token": standin.access_token,
            "access_token_secret": standin.access_token_secret,
        }
    )
    channel.write(
        {
            "account_external_id": standin.account_id,
            "account_handle": standin.account["username"],
            "state": "connected",
        }
    )
    return channel


def plain_ticket_vals(dataset, partners_by_author):
    """Bare ticket values, one per tweet: the cheapest the ORM can do."""
    return [
        {
            "name": tweet["text"][:80],
            "description": tweet["text"],
            "partner_id": partners_by_author.get(tweet["author_id"], False),
        }
        for tweet in dataset["tweets"]
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


ADDON_DIR = str(Path(get_module_path("webcare_social"))) + os.sep
STANDIN_FILE = "x_standin.py"


def webcare_caller():
    """The innermost webcare_social frame on the stack, as file:line function."""
    frame = sys._getframe(2)
    while frame:
        filename = frame.f_code.co_filename
        if filename.startswith(ADDON_DIR) and not filename.endswith(STANDIN_FILE):
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


def fetch_and_parse(channel):
    """Page through every mention with the API client only; count the posts."""
    service = channel._get_service()
    posts, token = 0, None
    while True:
        page = service.fetch("mentions", None, token)
        posts += len(page.posts) + len(page.errors)
        token = page.next_token
        if not token:
            return posts


def plain_create(env, vals_list):
    return len(env["helpdesk.ticket"].create(vals_list))


def ingest(channel):
    """The real thing: ``action_fetch`` of every new mention."""
    channel.action_fetch()
    if channel.last_error:
        raise RuntimeError(f"ingest failed: {channel.last_error}")


def outcome(env, channel):
    """What the ingest produced (counted outside the measurement)."""
    messages = env["webcare.message"].search([("channel_id", "=", channel.id)])
    ticketed = messages.filtered(lambda m: m.state == "ticketed")
    return {
        "messages": len(messages),
        "states": dict(Counter(messages.mapped("state"))),
        "tickets": len(ticketed.ticket_id),
        "appended": len(ticketed) - len(ticketed.ticket_id),
        "identities": len(messages.identity_id),
    }


def run_scenarios(env, channel, ticket_vals, profile):
    """Run every scenario once; roll back so each starts from the same state."""
    n = len(ticket_vals)
    runs = {"fetch": measure(env, lambda: fetch_and_parse(channel), n, profile)}
    runs["plain"] = measure(env, lambda: plain_create(env, ticket_vals), n, profile)
    env.cr.rollback()
    runs["ingest"] = measure(env, lambda: ingest(channel), n, profile)
    runs["ingest"]["result"] = outcome(env, channel)
    channel._set_cursor("mentions", False)  # fetch everything again: all is stored
    runs["rerun"] = measure(env, lambda: ingest(channel), n, profile)
    runs["rerun"]["result"] = outcome(env, channel)
    env.cr.rollback()
    return runs


def check(runs, n):
    fetched, created = runs["fetch"]["result"], runs["ingest"]["result"]
    again = runs["rerun"]["result"]
    if fetched != n or created["messages"] != n:
        raise RuntimeError(f"expected {n} items, fetched {fetched}, got {created}")
    if again != created:
        raise RuntimeError(f"the re-run changed the data: {created} -> {again}")


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

LABELS = {
    "fetch": "fetch+parse only",
    "plain": "plain ticket create",
    "ingest": "ingest (action_fetch)",
    "rerun": "re-run, all stored",
}


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


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


def query_breakdown(traced):
    """The repeated queries of the profiled pass, if there was one."""
    if not traced:
        return {"top_ingest_queries": [], "ingest_queries_by_caller": []}
    ingest_run, rerun_run = traced["ingest"]["profiler"], traced["rerun"]["profiler"]
    return {
        "top_ingest_queries": ingest_run.top_queries(30, N),
        "ingest_queries_by_caller": ingest_run.top_callers(30, N),
        "top_rerun_queries": rerun_run.top_queries(10, N),
    }


def print_report(report):
    lines = [
        "",
        f"webcare_social ingestion benchmark: N={report['n']} mentions, "
        f"{report['authors']} authors ({report['known_contacts']} known contacts), "
        f"page size {PAGE_SIZE}",
        "",
        *table_lines(report["scenarios"]),
        "",
        f"ingest outcome: {report['outcome']}",
        "",
        "ratios (same run, same process):",
        *(
            f"  {label}: {_x(report['ratios'][key])}"
            for key, _num, _den, _column, label in RATIOS
        ),
        "",
        *query_lines(report),
        "",
    ]
    print("\n".join(lines), flush=True)


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
    for q in report["top_ingest_queries"][:12]:
        yield f"  {q['count']:>6} {q['per_item']:>6.2f}  {q['caller']}"
        yield f"         {q['query'][:150]}"
    yield "ingest queries by innermost webcare_social call site:"
    for c in report["ingest_queries_by_caller"][:12]:
        yield f"  {c['count']:>6} {c['per_item']:>6.2f}  {c['caller']}"


def _x(value):
    return "n/a" if value is None else f"{value:.2f}x"


def results_path():
    default = Path(get_module_path("webcare_social")).parent / "bench" / "results"
    folder = Path(os.environ.get("BENCH_RESULTS_DIR") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "latest.json"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(env):
    standin_module = load_standin_module()
    dataset = build_dataset(standin_module, N, Random(SEED))
    standin = standin_module.XApiStandin(dataset, page_size=PAGE_SIZE).start()
    try:
        partners = create_known_identities(env, dataset["users"])
        channel = create_channel(env, standin)
        env.cr.commit()  # the shared starting state of every scenario
        known = {
            ident.external_id: ident.partner_id.id
            for ident in env["webcare.identity"].search([("external_id", "!=", False)])
        }
        ticket_vals = plain_ticket_vals(dataset, known)
        runs = run_scenarios(env, channel, ticket_vals, profile=False)
        check(runs, N)
        traced = {}
        if PROFILE:  # a second, instrumented pass for memory and query origins
            traced = run_scenarios(env, channel, ticket_vals, profile=True)
            check(traced, N)
    finally:
        standin.stop()
    peaks = {key: run["profiler"].peak_bytes for key, run in traced.items()}
    rows = summary(runs, peaks)
    report = {
        "n": N,
        "authors": len(dataset["users"]),
        "known_contacts": len(partners),
        "page_size": PAGE_SIZE,
        "odoo": release.version,
        "python": sys.version.split()[0],
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenarios": rows,
        "ratios": ratios(rows),
        "outcome": runs["ingest"]["result"],
        **query_breakdown(traced),
    }
    print_report(report)
    path = results_path()
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {path}")


if __name__ == "__main__":
    main(env)
