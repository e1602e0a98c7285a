# ruff: noqa: F821
"""Benchmark of the file import (``webcare.file.import``): 100,000 rows, flat memory.

Run inside ``odoo shell`` (which provides ``env``) on a throw-away database
with webcare_social installed, like the other benchmarks (see
bench/README.md). It writes a CSV export of ``BENCH_FILE_ROWS`` rows
(default 100,000) the way a listening tool does (semicolons, a BOM, Dutch
dates, a column nobody maps), with a fixed seed: new conversations, replies in
earlier ones, DMs, retweets, our own replies and one bad date per thousand
rows. Then, in this one process:

- ``csv.reader only``: the baseline, Python's csv module reading the file;
- ``read + convert``: ``tools/file_import`` reading and converting every row
  (no ORM);
- ``upload, read file``: creating the import with the file (what the upload
  request does: the attachment) and ``action_read_file``;
- ``dry run``: ``action_dry_run`` (reads, converts, dedupes against the
  database and applies the noise rules to every row; writes nothing);
- ``import: store`` and ``import: process``: ``action_import``, then the
  real cron job (``ir.cron.method_direct_trigger``: its own cursor, a commit
  per batch, a stop when its time is up) run until the import is done; a
  thread reads the import's state with a cursor of its own to tell where
  storing ends and processing starts;
- ``re-import: store``: the same file again (every row is a duplicate).

Each phase records its wall time and the process's resident memory (RSS,
sampled every 0.2 s by a thread): at the start, the highest, and how much it
grew over the second half of the phase, which stays near zero when memory
is flat. The dry run and the re-import's cron run are then run once more
with ``tracemalloc`` for the peak of Python allocations (their times are not
used). The script fails when the import did not store every row once or the
re-import stored anything. Results: ``bench/results/file_import.json``.
"""

import base64
import csv
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

from odoo import release
from odoo.modules.module import get_module_path

sys.path.insert(0, os.environ.get("BENCH_DIR", "bench"))
from benchlib import fmt_ratio, ratio, results_path

ROWS = int(os.environ.get("BENCH_FILE_ROWS", "100000"))
SEED = 2718
START = datetime(2026, 1, 5, 7, 0, 0)
AUTHORS = max(10, ROWS // 5)
OWN = "PolderAir"
ACCOUNT = f"1500{os.getpid()}"  # our account's id (unique: a kept database works too)
HEADER = (
    "Message ID", "Sender ID", "Sender Screen Name", "Sender Name", "Message",
    "Created Time", "Message Type", "Followers", "Conversation ID", "Permalink",
    "Language", "Sentiment",
)  # fmt: skip
TEXTS = (
    "@PolderAir waar is mijn koffer? Vlucht PA{n} is uren geleden geland",
    "@PolderAir flight PA{n} cancelled again. Unacceptable!!!",
    "@PolderAir can I change my booking PA{n}X9 to tomorrow?",
    "@PolderAir vlucht PA{n} geannuleerd, hoe krijg ik mijn geld terug?",
)
OUTCOME = (
    "stored_count", "failed_count", "duplicate_count", "ticket_count",
    "ignored_count", "ticketed_count",
)  # fmt: skip
REPLIES = ("nog steeds niets gehoord", "any news?", "dit is belachelijk, 3 dagen nu")


# --------------------------------------------------------------------------
# The export
# --------------------------------------------------------------------------


def export_rows(n, rng):
    """Yield ``n`` rows of a listening tool's export, oldest first."""
    when, open_threads = START, []
    for number in range(n):
        when += timedelta(seconds=rng.randint(1, 40))
        author = rng.randrange(AUTHORS)
        roll = rng.random()
        kind, conversation = "Twitter Mention", f"c{number}"
        text = rng.choice(TEXTS).format(n=1000 + number % 9000)
        if roll < 0.30 and open_threads:
            kind, conversation = "Twitter Reply", rng.choice(open_threads)
            text = rng.choice(REPLIES)
        elif roll < 0.35:
            kind, conversation = "Twitter Direct Message", f"dm-u{author}"
        elif roll < 0.43:
            kind, text = "Retweet", "RT " + text
        elif roll < 0.45 and open_threads:
            kind, conversation = "Twitter Reply", rng.choice(open_threads)
            author, text = -1, "@klant we kijken ernaar, stuur ons een DM"
        else:
            open_threads = [*open_threads[-1999:], conversation]
        stamp = when.strftime("%d/%m/%Y %H:%M:%S")
        if rng.random() < 0.001:
            stamp = "31/02/2026 10:00:00"  # a bad date: that row fails alone
        handle = OWN if author < 0 else f"klant{author}"
        yield (
            f"m{number}", ACCOUNT if author < 0 else f"u{author}", handle,
            f"Klant {author}", text, stamp, kind, str(rng.randint(0, 20000)),
            conversation, f"https://x.com/{handle}/status/m{number}",
            rng.choice(("nl", "en", "")), rng.choice(("negative", "neutral")),
        )  # fmt: skip


def write_export(path, n):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(export_rows(n, Random(SEED)))


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def rss():
    """Resident memory of this process, in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """Samples the RSS every 0.2 s in a thread while a phase runs.

    With ``record_id``, each sample also has the import's state, read with
    a cursor of its own (the cron's commits are visible to it), which tells
    where storing ends and processing starts.
    """

    def __init__(self, record_id=None):
        self.record_id = record_id
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        self.samples.append((time.perf_counter(), rss(), self._state()))

    def _state(self):
        if not self.record_id:
            return None
        with env.registry.cursor() as cr:
            cr.execute(
                "SELECT state FROM webcare_file_import WHERE id = %s",
                (self.record_id,),
            )
            return cr.fetchone()[0]

    def _run(self):
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self._sample()

    def summary(self, states=None):
        """Time and RSS over the samples (of the import in ``states``)."""
        samples = [s for s in self.samples if states is None or s[2] in states]
        start, end = samples[0][0], samples[-1][0]
        middle = (start + end) / 2
        first = [value for moment, value, _state in samples if moment <= middle]
        second = [value for moment, value, _state in samples if moment >= middle]
        return {
            "seconds": round(end - start, 2),
            "rss_start": samples[0][1],
            "rss_max": max(value for _moment, value, _state in samples),
            "rss_growth_second_half": max(second) - max(first),
        }


def phase(name, action, results, items=ROWS):
    with Sampler() as sampler:
        outcome = action()
    results[name] = {"items": items, **sampler.summary()}
    print(f"  {name}: {results[name]['seconds']:.1f} s", flush=True)
    return outcome


def import_phases(record, results, prefix="import"):
    """Run the import by the cron; time storing and processing apart."""
    with Sampler(record.id) as sampler:
        run_cron_until(record, ACTIVE)
    for name, states in (
        ("store", ("queued", "storing")),
        ("process", ("processing",)),
    ):
        if any(sample[2] in states for sample in sampler.samples):
            key = f"{prefix}: {name}"
            results[key] = {"items": ROWS, **sampler.summary(states)}
            print(f"  {key}: {results[key]['seconds']:.1f} s", flush=True)


def traced_peak(action):
    """The peak of Python allocations while ``action`` runs (slow: not timed)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


def csv_only(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _row in csv.reader(handle, delimiter=";")) - 1


def read_and_convert(path):
    """``tools/file_import`` alone: every row read and converted, no ORM."""
    from odoo.addons.webcare_social.tools import file_import

    with open(path, "rb") as handle:
        layout = file_import.inspect(handle)
        guessed = file_import.guess_mapping(layout.columns)
        mapping = {target: column for column, target in guessed.items() if target}
        options = file_import.Options(network="x")
        return sum(
            1
            for row in file_import.read_rows(handle, layout)
            if file_import.convert(row, mapping, options)
        )


def new_import(channel, data, name):
    record = env["webcare.file.import"].create(
        {
            "channel_id": channel.id,
            "file": data,
            "file_name": name,
            "tz": "Europe/Amsterdam",
        }
    )
    record.action_read_file()
    env.cr.commit()
    return record


ACTIVE = ("queued", "storing", "processing")


def run_cron_until(record, states):
    """Run the real cron job (own cursor, commits) until the import leaves states."""
    cron = env.ref("webcare_social.ir_cron_webcare_file_import")
    while True:
        env.cr.commit()  # a new snapshot: see what the cron's cursor committed
        record.invalidate_recordset()
        if record.state not in states:
            return record.state
        cron.method_direct_trigger()


def setup():
    team = env["helpdesk.ticket.team"].create({"name": "Webcare bench"})
    channel = env["webcare.channel"].create(
        {
            "name": "PolderAir export",
            "team_id": team.id,
            "account_handle": OWN,
            "account_external_id": ACCOUNT,
        }
    )
    env.cr.commit()
    return channel


def scenarios(path, channel):
    results = {}
    data = base64.b64encode(Path(path).read_bytes())
    phase("csv.reader only", lambda: csv_only(path), results)
    phase("read + convert", lambda: read_and_convert(path), results)
    record = phase(
        "upload, read file", lambda: new_import(channel, data, "export.csv"), results
    )
    phase("dry run", record.action_dry_run, results)
    start_import(record)
    import_phases(record, results)
    again = start_import(new_import(channel, data, "export (again).csv"))
    import_phases(again, results, prefix="re-import")
    traced = start_import(new_import(channel, data, "export (traced).csv"))
    peaks = {
        "dry run": traced_peak(record.action_dry_run),
        "re-import: store": traced_peak(lambda: run_cron_until(traced, ACTIVE)),
    }
    return results, peaks, record, again


def start_import(record):
    record.action_import()
    env.cr.commit()
    return record


def check(record, again):
    counted = record.stored_count + record.failed_count + record.duplicate_count
    if record.state != "done" or counted != ROWS or record.rows_done != ROWS:
        raise RuntimeError(f"import incomplete: {outcome(record)}")
    stored = env["webcare.message"].search_count(
        [("channel_id", "=", record.channel_id.id)]
    )
    if stored != record.stored_count + record.failed_count:
        raise RuntimeError(f"{stored} messages for {record.stored_count} stored rows")
    if again.state != "done" or again.stored_count or again.failed_count:
        raise RuntimeError(f"the re-import stored rows: {outcome(again)}")


def outcome(record):
    names = ("state", "error", "rows_total", "rows_done", *OUTCOME)
    return {name: record[name] for name in names}


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def mib(value):
    return "-" if value is None else f"{value / 2**20:.1f}"


def print_report(results, peaks, record, file_size):
    print()
    print(
        f"webcare_social file import: {ROWS} rows, {AUTHORS} authors, "
        f"{file_size / 2**20:.1f} MiB CSV"
    )
    print(
        f"{'phase':<18}{'time s':>9}{'rows/s':>9}{'RSS start':>11}{'RSS max':>9}"
        f"{'+2nd half':>10}{'py peak':>9}   (MiB)"
    )
    for name, row in results.items():
        print(
            f"{name:<18}{row['seconds']:>9.1f}{row['items'] / row['seconds']:>9.0f}"
            f"{mib(row['rss_start']):>11}{mib(row['rss_max']):>9}"
            f"{mib(row['rss_growth_second_half']):>10}{mib(peaks.get(name)):>9}"
        )
    print()
    print(
        f"import outcome: {record.stored_count} stored, {record.failed_count} failed, "
        f"{record.duplicate_count} duplicates, {record.ticket_count} tickets, "
        f"{record.ignored_count} ignored"
    )
    store = results["import: store"]["seconds"]
    print("ratios (same run, same process):")
    print(
        "  store / read + convert time: "
        + fmt_ratio(ratio(store, results["read + convert"]["seconds"]))
    )
    print(
        "  dry run / read + convert time: "
        + fmt_ratio(
            ratio(results["dry run"]["seconds"], results["read + convert"]["seconds"])
        )
    )
    print(
        "  read + convert / csv.reader time: "
        + fmt_ratio(
            ratio(
                results["read + convert"]["seconds"],
                results["csv.reader only"]["seconds"],
            )
        )
    )
    print(
        "  re-import / store time: "
        + fmt_ratio(ratio(results["re-import: store"]["seconds"], store))
    )
    print()


def main():
    print(f"Odoo {release.version}; writing an export of {ROWS} rows", flush=True)
    channel = setup()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "export.csv")
        write_export(path, ROWS)
        size = os.path.getsize(path)
        results, peaks, record, again = scenarios(path, channel)
    check(record, again)
    print_report(results, peaks, record, size)
    report = {
        "rows": ROWS,
        "file_bytes": size,
        "phases": results,
        "python_peaks": peaks,
        "outcome": {key: record[key] for key in OUTCOME},
    }
    path = results_path("file_import.json", get_module_path("webcare_social"))
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
