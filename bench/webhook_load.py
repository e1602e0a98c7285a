"""Load run of the webhook endpoint against a real Odoo server.

Run by ``scripts/bench.sh`` (``BENCH=webhook``) with the virtualenv's Python,
outside Odoo::

    python bench/webhook_load.py --db DB --odoo-bin ODOO_SRC/odoo-bin -- ODOO_OPTIONS

``ODOO_OPTIONS`` are the database and addons options (no ``--no-http``); the
database has webcare_social installed. The run:

1. ``odoo shell``: one webhook channel with a fresh secret per server mode,
   and a warm-up channel (``shell_setup``);
2. per mode, first multi-worker (``--workers BENCH_WORKERS``), then the
   threaded server (``--workers 0``) as the baseline: start ``odoo-bin`` on a
   free port with ``--max-cron-threads 0``, warm every worker up, send
   ``BENCH_WEBHOOK_N`` requests over ``BENCH_WEBHOOK_C`` concurrent
   connections (a new connection per request, as Odoo's workers close them),
   stop the server with SIGINT;
3. ``odoo shell``: what each channel stored (``shell_verify``).

The requests are signed as the Standard Webhooks scheme says (implemented
here again, as a tool would, not imported from the addon). Besides new
deliveries they include replays of a delivery already answered, identical
deliveries sent twice at the same moment, items re-sent under a new
delivery id, a stale timestamp and a forged signature. Nothing may be lost
or stored twice, replays store nothing, stale and forged requests are
refused (401). Prints a table and writes ``bench/results/webhook.json``.
"""

import argparse
import base64
import bisect
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from queue import Queue
from random import Random

import psycopg2

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from benchlib import fmt_ratio, percentile, ratio, results_path  # noqa: E402

N = int(os.environ.get("BENCH_WEBHOOK_N", "2000"))
CONNECTIONS = int(os.environ.get("BENCH_WEBHOOK_C", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SEED = 4711
MARK = "WEBCARE_BENCH_JSON "
STALE_SECONDS = 600  # older than the 5 minutes a signature is accepted
PATH = "/webcare/webhook/{}"
# share of the requests of each kind; the rest are new deliveries
SHARES = {"replay": 0.05, "pair": 0.05, "overlap": 0.03, "stale": 0.02, "forged": 0.02}
BATCH_SHARE = 0.10  # new deliveries carrying 5 items instead of 1
BATCH_SIZE = 5
REPLY_SHARE = 0.30  # items answering an earlier item of the same author
MAX_RETRY_WAIT = 5.0  # seconds: honour Retry-After of a 503, up to this


# --------------------------------------------------------------------------
# Inside `odoo shell`
# --------------------------------------------------------------------------


def shell_setup(env, labels):
    """Make one connected webhook channel per label; print ids and secrets."""
    from odoo.addons.webcare_social.services.webhook import new_secret

    team = env["helpdesk.ticket.team"].create({"name": "Webhook load (bench)"})
    channels = {}
    for label in labels:
        secret = new_secret()
        channel = env["webcare.channel"].create(
            {
                "name": f"Webhook load {label} (bench)",
                "provider": "webhook",
                "webhook_secret": secret,
                "team_id": team.id,
                "state": "connected",
            }
        )
        channels[label] = {"id": channel.id, "secret": secret}
    env.cr.commit()
    print(MARK + json.dumps(channels), flush=True)


def shell_verify(env, spec_path):
    """Count what each channel stored against what was sent; print it."""
    spec = json.loads(Path(spec_path).read_text())
    found = {}
    for label, sent in spec.items():
        domain = [("channel_id", "=", sent["channel_id"])]
        ids = env["webcare.message"].search(domain).mapped("external_id")
        deliveries = env["webcare.webhook.delivery"].search(domain)
        stored_ids = Counter(deliveries.mapped("delivery_id"))
        items, expected = Counter(ids), set(sent["items"])
        refused = set(sent["refused_deliveries"])
        found[label] = {
            "messages": len(ids),
            "unique_items_sent": len(expected),
            "lost": len(expected - set(items)),
            "unexpected": len(set(items) - expected),
            "duplicates": sum(1 for n in items.values() if n > 1),
            "deliveries": len(deliveries),
            "accepted_deliveries_sent": len(sent["accepted_deliveries"]),
            "deliveries_missing": len(
                set(sent["accepted_deliveries"]) - set(stored_ids)
            ),
            "deliveries_twice": sum(1 for n in stored_ids.values() if n > 1),
            "refused_but_stored": len(refused & set(stored_ids)),
            "failed_deliveries": len(
                deliveries.filtered(lambda d: d.state == "failed")
            ),
        }
    print(MARK + json.dumps(found), flush=True)


# --------------------------------------------------------------------------
# What is sent
# --------------------------------------------------------------------------


@dataclass(eq=False)
class Delivery:
    """One request body with its delivery id, and how it is to be sent.

    ``kind``: ``new``, ``pair`` (sent twice at the same moment), ``replay``
    (the exact request of ``original`` again, once that was answered),
    ``overlap`` (an item of ``original`` again with a new one, new id),
    ``stale`` (timestamp 10 minutes old) or ``forged`` (wrong key).
    """

    kind: str
    delivery_id: str
    items: list
    original: "Delivery | None" = None
    body: bytes = b""
    sent: dict | None = None  # the headers of the first send (for a replay)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def requests(self):
        return 2 if self.kind == "pair" else 1


class Plan:
    """The requests of one run, in sending order, and what must come of them."""

    def __init__(self, tag, n, connections, rng):
        self.tag, self.rng = tag, rng
        self.deliveries, self.serial, self.authors = [], 0, []
        self.sendable = []  # (position, delivery) of the accepted new ones
        requests = 0
        while requests < n:
            delivery = self._next(connections, n - requests)
            self.deliveries.append(delivery)
            requests += delivery.requests

    def _next(self, connections, left):
        roll, threshold = self.rng.random(), 0.0
        kind = "new"
        for name, share in SHARES.items():
            threshold += share
            if roll < threshold:
                kind = name
                break
        if kind == "pair" and left < 2:
            kind = "new"
        original = None
        if kind in ("replay", "overlap"):
            original = self._recent(connections)
            kind = kind if original else "new"
        if kind == "replay":
            return Delivery("replay", original.delivery_id, original.items, original)
        count = BATCH_SIZE if kind == "new" and self.rng.random() < BATCH_SHARE else 1
        items = [self._item() for _ in range(count)]
        if kind == "overlap":
            items.insert(0, original.items[0])
        delivery = Delivery(kind, self._delivery_id(), items, original)
        if kind in ("new", "pair"):
            self.sendable.append((len(self.deliveries), delivery))
        delivery.body = json.dumps(
            items[0] if len(items) == 1 else {"items": items}, ensure_ascii=False
        ).encode()
        return delivery

    def _recent(self, connections):
        """A delivery sent a little earlier: answered by now, signed < 5 min ago.

        At least ``2 * connections`` places back, so it was sent before; at
        most 200 more, so its timestamp is still accepted.
        """
        cutoff = len(self.deliveries) - 2 * connections
        positions = [position for position, _d in self.sendable]
        end = bisect.bisect_left(positions, cutoff)
        if end == 0:
            return None
        return self.sendable[self.rng.randrange(max(0, end - 200), end)][1]

    def _delivery_id(self):
        self.serial += 1
        return f"msg_{self.tag}_{self.serial:06d}"

    def _item(self):
        """One post as a listening tool sends it (about 450 bytes of JSON)."""
        self.serial += 1
        rng = self.rng
        item_id = f"{self.tag}-{self.serial:06d}"
        if not self.authors or rng.random() < 0.3:
            number = len(self.authors)
            self.authors.append(
                {
                    "handle": f"listener{number:05d}",
                    "id": str(9_100_000 + number),
                    "name": f"Listener {number}",
                    "network": rng.choice(("x", "x", "mastodon", "bluesky", "other")),
                    "followers": rng.choice((12, 150, 2_500, 40_000)),
                    "verified": False,
                    "_last": None,
                }
            )
        author = rng.choice(self.authors)
        item = {
            "id": item_id,
            "kind": "mention",
            "text": f"@PolderAir {rng.choice(TEXTS)} (ref {item_id})",
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "url": f"https://social.example/{author['handle']}/{item_id}",
            "lang": rng.choice(("nl", "en")),
            "author": {k: v for k, v in author.items() if not k.startswith("_")},
        }
        if author["_last"] and rng.random() < REPLY_SHARE:
            item.update(kind="reply", in_reply_to=author["_last"])
        author["_last"] = item_id
        return item

    # what must come of it ------------------------------------------------

    def accepted(self):
        return [d for d in self.deliveries if d.kind in ("new", "pair", "overlap")]

    def refused(self):
        return [d for d in self.deliveries if d.kind in ("stale", "forged")]

    def expected_items(self):
        return sorted({i["id"] for d in self.accepted() for i in d.items})

    def sizes(self):
        kinds = Counter(d.kind for d in self.deliveries)
        bodies = [len(d.body) for d in self.deliveries if d.body]
        return {
            "requests": sum(d.requests for d in self.deliveries),
            "deliveries": dict(kinds),
            "unique_items": len(self.expected_items()),
            "batches": sum(1 for d in self.deliveries if len(d.items) > 1),
            "mean_body_bytes": round(sum(bodies) / len(bodies)),
            "authors": len(self.authors),
        }


TEXTS = (
    "waar is mijn koffer? vlucht PA{0} is al uren geland",
    "my flight got cancelled and nobody answers the phone",
    "kan ik mijn boeking omzetten naar morgen?",
    "still waiting for the refund you promised two weeks ago",
    "thanks for the quick help at the gate today!",
)
TEXTS = tuple(text.format(n) for n, text in enumerate(TEXTS, start=101))


# --------------------------------------------------------------------------
# Signing and sending
# --------------------------------------------------------------------------


def signing_key(secret):
    """Standard Webhooks: a ``whsec_`` secret signs with its base64-decoded bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_") :])
    return secret.encode()


def signed_headers(key, db, delivery_id, body, timestamp=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    text = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Odoo-Database": db,
        "webhook-id": delivery_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


@dataclass
class Answer:
    kind: str
    status: int | str  # HTTP status, or "error" when no answer came
    seconds: float
    body: dict
    started: float = 0.0  # time.perf_counter() when it was sent


def post(port, path, body, headers, kind):
    """One POST on a new connection; its answer and how long it took."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        status = response.status
        retry_after = response.getheader("Retry-After")
    except (OSError, http.client.HTTPException) as exc:
        seconds = time.perf_counter() - start
        return Answer(kind, "error", seconds, {"error": repr(exc)}, start)
    finally:
        connection.close()
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        answer = {"text": data[:200].decode("utf-8", "replace")}
    if retry_after:
        answer["_retry_after"] = retry_after
    return Answer(kind, status, time.perf_counter() - start, answer, start)


class Sender:
    """Sends a plan's deliveries to one channel over ``connections`` threads."""

    def __init__(self, port, db, channel, connections):
        self.port, self.db = port, db
        self.path = PATH.format(channel["id"])
        self.key = signing_key(channel["secret"])
        self.connections = connections
        self.answers, self.final = [], {}  # every answer; the last per delivery
        self.lock = threading.Lock()

    def run(self, deliveries):
        """Send everything; return the wall time in seconds."""
        queue = Queue()
        for delivery in deliveries:
            queue.put(delivery)
        threads = [
            threading.Thread(target=self._work, args=(queue,), daemon=True)
            for _ in range(self.connections)
        ]
        start = self.started = time.perf_counter()
        for thread in threads:
            queue.put(None)
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    def _work(self, queue):
        while (delivery := queue.get()) is not None:
            try:
                self._send(delivery)
            finally:
                delivery.done.set()

    def _send(self, delivery):
        if delivery.kind == "replay":
            original = delivery.original
            original.done.wait(300)
            self._record(delivery, self._post(original.body, original.sent, "replay"))
        elif delivery.kind == "pair":
            self._send_pair(delivery)
        else:
            if delivery.kind == "overlap":
                delivery.original.done.wait(300)
            self._record(delivery, self._send_signed(delivery, delivery.kind))

    def _send_pair(self, delivery):
        """The same signed request twice, released at the same moment."""
        headers = self._headers(delivery)
        delivery.sent = headers
        barrier, answers = threading.Barrier(2), [None, None]

        def send(index):
            barrier.wait(30)
            answers[index] = self._with_retry(delivery, headers, "pair")

        twin = threading.Thread(target=send, args=(1,))
        twin.start()
        send(0)
        twin.join()
        for answer in answers:
            self._record(delivery, answer, pair=True)

    def _send_signed(self, delivery, kind):
        headers = self._headers(delivery)
        delivery.sent = headers
        return self._with_retry(delivery, headers, kind)

    def _headers(self, delivery):
        if delivery.kind == "forged":
            key = hashlib.sha256(self.key).digest()  # not the channel's key
            return signed_headers(key, self.db, delivery.delivery_id, delivery.body)
        stamp = int(time.time()) - STALE_SECONDS if delivery.kind == "stale" else None
        return signed_headers(
            self.key, self.db, delivery.delivery_id, delivery.body, stamp
        )

    def _with_retry(self, delivery, headers, kind):
        """Send; after a 503 wait its Retry-After (at most 5 s) and send again."""
        answer = self._post(delivery.body, headers, kind)
        if answer.status == 503:
            with self.lock:
                self.answers.append(answer)
            wait = float(answer.body.get("_retry_after") or 1)
            time.sleep(min(wait, MAX_RETRY_WAIT))
            headers = signed_headers(
                self.key, self.db, delivery.delivery_id, delivery.body
            )
            answer = self._post(delivery.body, headers, kind + " (retried)")
        return answer

    def _post(self, body, headers, kind):
        return post(self.port, self.path, body, headers, kind)

    def _record(self, delivery, answer, pair=False):
        with self.lock:
            self.answers.append(answer)
            if pair:
                self.final.setdefault(delivery, []).append(answer)
            else:
                self.final[delivery] = [answer]


# --------------------------------------------------------------------------
# Checking the answers
# --------------------------------------------------------------------------


def answer_problems(plan, sender):
    """What the answers say went wrong (each kind has one right answer)."""
    problems = Counter()
    for delivery in plan.deliveries:
        answers = sender.final.get(delivery) or []
        statuses = sorted(a.status for a in answers)
        ok = {
            "new": statuses == [202],
            "pair": statuses == [200, 202],
            "overlap": statuses == [202] and answers[0].body.get("duplicates") == 1,
            "replay": statuses == [200] and answers[0].body.get("already_received"),
            "stale": statuses == [401],
            "forged": statuses == [401],
        }[delivery.kind]
        if not ok:
            problems[f"{delivery.kind}: {statuses}"] += 1
    return dict(problems)


def mode_result(plan, sender, wall):
    answers = sender.answers
    accepted = [a for a in answers if a.status == 202]
    items = sum(a.body.get("accepted", 0) for a in accepted)
    return {
        "requests": len(answers),
        "wall_seconds": round(wall, 3),
        "requests_per_second": round(len(answers) / wall, 1),
        "accepted": len(accepted),
        "accepted_per_second": round(len(accepted) / wall, 1),
        "items_stored_per_second": round(items / wall, 1),
        **latency_stats("", answers),
        **latency_stats("accepted_", accepted),
        "statuses": dict(Counter(str(a.status) for a in answers)),
        "retried_after_503": sum(1 for a in answers if a.kind.endswith("(retried)")),
        "answer_problems": answer_problems(plan, sender),
        "slowest": slowest(answers, sender.started),
    }


def slowest(answers, started, count=5):
    """The slowest requests: what they were and when in the run they left."""
    return [
        {
            "kind": a.kind,
            "status": a.status,
            "ms": round(a.seconds * 1000, 1),
            "sent_after_s": round(a.started - started, 2),
        }
        for a in sorted(answers, key=lambda a: a.seconds, reverse=True)[:count]
    ]


def latency_stats(prefix, answers):
    """p50, p95 and max of the answers' latencies in ms (None without any)."""
    values = [a.seconds * 1000 for a in answers]
    stats = {"p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95)}
    stats["max_ms"] = max(values) if values else None
    return {
        prefix + key: None if value is None else round(value, 1)
        for key, value in stats.items()
    }


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``odoo-bin`` in its own process group, stopped with SIGINT.

    It runs through this file (``--serve``), so that the websocket process a
    multi-worker server starts (``<argv[0]> gevent``) is an idle stand-in:
    see ``idle_websocket_process``. Everything else is Odoo as ``odoo-bin``
    runs it.
    """

    def __init__(self, args, workers, log_path):
        self.port, self.workers = free_port(), workers
        command = [
            sys.executable,
            __file__,
            "--serve",
            args.odoo_bin,
            *args.odoo_args,
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--workers={workers}",
            "--max-cron-threads=0",
            f"--db-filter=^{args.db}$",
            "--log-level=warn",
        ]
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, db, timeout=180):
        """Until a request gets Odoo's answer (404: no channel 0)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo-bin stopped; see {self.log_path}")
            answer = post(
                self.port,
                PATH.format(0),
                b"{}",
                {"Content-Type": "application/json", "X-Odoo-Database": db},
                "ping",
            )
            if answer.status == 404:
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"odoo-bin did not answer in {timeout}s; see {self.log_path}"
        )

    def stop(self):
        """SIGINT (Odoo's graceful stop), then SIGKILL of its group after 60 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------


def odoo_shell(args, code):
    """Run ``code`` in ``odoo shell``; return the JSON it printed after MARK."""
    command = [
        sys.executable,
        args.odoo_bin,
        "shell",
        *args.odoo_args,
        "--no-http",
        "--log-level=warn",
    ]
    done = subprocess.run(
        command, input=code, text=True, capture_output=True, timeout=900, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(
        f"odoo shell failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def shell_call(function, *arguments):
    """The code that runs ``function(env, *arguments)`` of this module in a shell."""
    values = ", ".join(repr(a) for a in arguments)
    return (
        f"import sys\nsys.path.insert(0, {str(BENCH_DIR)!r})\n"
        f"import webhook_load\nwebhook_load.{function}(env, {values})\n"
    )


def run_mode(args, label, workers, channels, folder):
    """Start a server, warm it up, send the plan, stop it; the answers."""
    plan = Plan(label.split()[0], N, CONNECTIONS, Random(SEED))
    server = OdooServer(args, workers, folder / f"webhook_server_{workers}.log")
    try:
        server.wait_ready(args.db)
        warm = Plan(
            f"warm{workers}", max(4 * max(workers, 1), CONNECTIONS), 1, Random(1)
        )
        warm.deliveries = [d for d in warm.deliveries if d.kind == "new"]
        Sender(server.port, args.db, channels["warm-up"], CONNECTIONS).run(
            warm.deliveries
        )
        sender = Sender(server.port, args.db, channels[label], CONNECTIONS)
        cpu = CpuMeter(server, args)
        wall = sender.run(plan.deliveries)
        cpu_seconds = cpu.used()
    finally:
        server.stop()
    result = mode_result(plan, sender, wall)
    result["machine_busy_percent"] = cpu_seconds.pop("machine_busy_percent", None)
    for key, seconds in cpu_seconds.items():
        result[f"{key}_cpu_seconds"] = round(seconds, 2)
        result[f"{key}_cpu_ms_per_request"] = round(
            1000 * seconds / result["requests"], 1
        )
        result[f"{key}_cpu_percent"] = round(100 * seconds / wall / os.cpu_count())
    return plan, result


class CpuMeter:
    """CPU time the server, the database and this client use during the load.

    Read from ``/proc`` when created and in ``used()``: the Odoo processes
    are those of the server's process group, the PostgreSQL ones the
    backends connected to the bench database (Odoo keeps its connections
    open, so they live through the run), the client is this process (all
    its threads). ``machine`` is the share of all CPUs that was busy, by
    anything. Empty where ``/proc`` or the database cannot be read.
    """

    def __init__(self, server, args):
        self.group, self.args = server.process.pid, args
        self.start = self._snapshot()

    def used(self):
        """Seconds per kind (odoo, postgres, client); machine busy in %."""
        end = self._snapshot()
        if not (self.start and end):
            return {}
        used = {
            kind: sum(
                end[kind][key] - self.start[kind].get(key, 0.0) for key in end[kind]
            )
            for kind in ("odoo", "postgres", "client")
        }
        busy = end["machine"]["busy"] - self.start["machine"]["busy"]
        total = end["machine"]["all"] - self.start["machine"]["all"]
        used["machine_busy_percent"] = round(100 * busy / total) if total else None
        return used

    def _snapshot(self):
        try:
            odoo = {pid: _cpu(pid) for pid in _group_pids(self.group)}
            backends = {pid: _cpu(pid) for pid in _backend_pids(self.args)}
            machine = _machine_cpu()
        except (OSError, ValueError, psycopg2.Error):
            return {}
        times = os.times()
        return {
            "odoo": odoo,
            "postgres": backends,
            "client": {"self": times.user + times.system},
            "machine": machine,
        }


def _machine_cpu():
    """Busy and total CPU seconds of the machine so far (``/proc/stat``)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    total = sum(ticks[:8])  # guest time is counted in user already
    hz = os.sysconf("SC_CLK_TCK")
    return {"busy": (total - idle) / hz, "all": total / hz}


def _cpu(pid):
    """User + system seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _group_pids(group):
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            pids.append(int(stat.parent.name))
    return pids


def _backend_pids(args):
    """The PostgreSQL backends connected to the bench database."""
    connection = psycopg2.connect(dbname="postgres", **_db_options(args.odoo_args))
    try:
        with connection.cursor() as cr:
            cr.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (args.db,)
            )
            return [pid for (pid,) in cr.fetchall()]
    finally:
        connection.close()


def _db_options(odoo_args):
    """host, port, user and password of Odoo's database options."""
    names = {
        "--db_host": "host",
        "--db_port": "port",
        "-r": "user",
        "--db_user": "user",
        "-w": "password",
        "--db_password": "password",
    }
    options, pending = {}, None
    for arg in odoo_args:
        if pending:
            options[pending], pending = arg, None
        elif arg in names:
            pending = names[arg]
        elif "=" in arg and arg.split("=", 1)[0] in names:
            key, value = arg.split("=", 1)
            options[names[key]] = value
    return options


def verify_spec(plans, channels):
    return {
        label: {
            "channel_id": channels[label]["id"],
            "items": plan.expected_items(),
            "accepted_deliveries": [d.delivery_id for d in plan.accepted()],
            "refused_deliveries": [d.delivery_id for d in plan.refused()],
        }
        for label, plan in plans.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("odoo_args", nargs="*")
    args = parser.parse_args(argv)
    folder = results_path("webhook.json", BENCH_DIR.parent / "webcare_social").parent
    modes = {f"workers{WORKERS}": WORKERS, "threaded": 0}
    if WORKERS == 0:
        modes = {"threaded": 0}
    channels = odoo_shell(args, shell_call("shell_setup", [*modes, "warm-up"]))
    plans, results = {}, {}
    for label, workers in modes.items():
        print(f"webhook load: {label} (--workers {workers}) ...", flush=True)
        plans[label], results[label] = run_mode(args, label, workers, channels, folder)
    spec_path = folder / "webhook_sent.json"
    spec_path.write_text(json.dumps(verify_spec(plans, channels)))
    stored = odoo_shell(args, shell_call("shell_verify", str(spec_path)))
    report = build_report(plans, results, stored, modes)
    print_report(report)
    (folder / "webhook.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {folder / 'webhook.json'}")
    return 1 if report["problems"] else 0


def build_report(plans, results, stored, modes):
    problems = []
    for label, result in results.items():
        found = stored[label]
        for key in ("lost", "unexpected", "duplicates", "deliveries_missing"):
            if found[key]:
                problems.append(f"{label}: {found[key]} {key}")
        for key in ("deliveries_twice", "refused_but_stored", "failed_deliveries"):
            if found[key]:
                problems.append(f"{label}: {found[key]} {key}")
        for what, count in result["answer_problems"].items():
            problems.append(f"{label}: {count} answered {what}")
    first = next(iter(plans.values()))
    return {
        "n": N,
        "connections": CONNECTIONS,
        "cpus": os.cpu_count(),
        "sizes": first.sizes(),
        "modes": {
            label: {"workers": modes[label], **results[label], "stored": stored[label]}
            for label in results
        },
        "ratios": _ratios(results, modes),
        "problems": problems,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _ratios(results, modes):
    if len(results) < 2:
        return {}
    multi, threaded = (results[label] for label in modes)
    return {
        "accepted/s workers/threaded": ratio(
            multi["accepted_per_second"], threaded["accepted_per_second"]
        ),
        "p95 workers/threaded": ratio(multi["p95_ms"], threaded["p95_ms"]),
        "p50 workers/threaded": ratio(multi["p50_ms"], threaded["p50_ms"]),
        "odoo cpu per request workers/threaded": ratio(
            multi.get("odoo_cpu_ms_per_request"),
            threaded.get("odoo_cpu_ms_per_request"),
        ),
    }


def print_report(report):
    lines = [
        *_size_lines(report),
        "",
        f"{'mode':<12}{'wall s':>8}{'req/s':>8}{'accepted/s':>12}{'items/s':>9}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'202 p95':>9}"
        f"{'odoo cpu':>10}{'pg cpu':>8}  statuses",
    ]
    for label, mode in report["modes"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(mode["statuses"].items()))
        lines.append(
            f"{label:<12}{mode['wall_seconds']:>8.1f}"
            f"{mode['requests_per_second']:>8.1f}{mode['accepted_per_second']:>12.1f}"
            f"{mode['items_stored_per_second']:>9.1f}{mode['p50_ms']:>8.1f}"
            f"{mode['p95_ms']:>8.1f}{mode['max_ms']:>8.1f}"
            f"{_num(mode['accepted_p95_ms']):>9}"
            f"{_num(mode.get('odoo_cpu_ms_per_request')):>10}"
            f"{_num(mode.get('postgres_cpu_ms_per_request')):>8}  {statuses}"
        )
    lines.append(
        "(latencies over all requests, 202 p95 over the accepted ones; odoo cpu / "
        "pg cpu: CPU ms per request of the Odoo processes / the database backends)"
    )
    lines.extend(_cpu_lines(report))
    lines.extend(_check_lines(report))
    print("\n".join(lines), flush=True)


def _size_lines(report):
    sizes = report["sizes"]
    kinds = sizes["deliveries"]
    yield ""
    yield (
        f"webhook load: {sizes['requests']} signed POSTs per mode over "
        f"{report['connections']} concurrent connections, {report['cpus']} CPUs"
    )
    yield (
        f"  {kinds.get('new', 0)} new deliveries ({sizes['batches']} of them with "
        f"{BATCH_SIZE} items), {kinds.get('pair', 0)} identical deliveries sent twice "
        f"at once, {kinds.get('replay', 0)} replays of an answered delivery, "
        f"{kinds.get('overlap', 0)} items re-sent under a new id, "
        f"{kinds.get('stale', 0)} stale timestamps, {kinds.get('forged', 0)} forged "
        f"signatures"
    )
    yield (
        f"  {sizes['unique_items']} unique items by {sizes['authors']} authors, "
        f"body {sizes['mean_body_bytes']} bytes on average"
    )


def _cpu_lines(report):
    """Who used the machine's CPUs during each mode's load."""
    for label, mode in report["modes"].items():
        if mode.get("machine_busy_percent") is None:
            continue
        yield (
            f"{label}: all CPUs {mode['machine_busy_percent']}% busy: Odoo "
            f"{mode['odoo_cpu_percent']}%, PostgreSQL "
            f"{mode['postgres_cpu_percent']}%, this client "
            f"{mode['client_cpu_percent']}%, the rest other processes"
        )


def _check_lines(report):
    yield ""
    for label, mode in report["modes"].items():
        found = mode["stored"]
        yield (
            f"{label}: items stored {found['messages']} == unique items sent "
            f"{found['unique_items_sent']} ({found['lost']} lost, "
            f"{found['duplicates']} stored twice); deliveries stored "
            f"{found['deliveries']} of {found['accepted_deliveries_sent']} accepted "
            f"ids; replays and refused requests stored: "
            f"{found['deliveries_twice'] + found['refused_but_stored']}; "
            f"503 retried: {mode['retried_after_503']}"
        )
    if report["ratios"]:
        yield "ratios (same run, same data):"
        for key, value in report["ratios"].items():
            yield f"  {key}: {fmt_ratio(value)}"
    problems = report["problems"]
    yield "CHECK webhook load: " + ("FAIL " + "; ".join(problems) if problems else "ok")


def _num(value):
    return "-" if value is None else f"{value:.1f}"


def serve(odoo_bin, odoo_args):
    """Run ``odoo-bin`` in this process, as this file (see ``OdooServer``)."""
    sys.path.insert(0, str(Path(odoo_bin).resolve().parent))
    sys.argv = [__file__, *odoo_args]
    import odoo.cli  # the Odoo source is on the path only now

    odoo.cli.main()


def idle_websocket_process():
    """Stand in for Odoo's websocket process until the server kills it.

    A multi-worker Odoo starts ``<its argv[0]> gevent`` for the websocket
    and long-polling server, and starts it again whenever it exits. The
    load never reaches it; in this virtualenv it also cannot start
    (gevent's plugins need ``pkg_resources`` to find ``zope.interface``,
    which setuptools 65 does not under its new dist-info name), and its
    restart every second would take a CPU from the workers being measured.
    """
    while True:
        signal.pause()


if __name__ == "__main__":
    if sys.argv[1:2] == ["gevent"]:
        idle_websocket_process()
    elif sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(main())
