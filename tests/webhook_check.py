# Run inside `odoo shell -d DB` on a database with webcare_social installed.
# A real threaded HTTP server (Odoo's WSGI application) receives webhook posts
# from several threads at the same moment, each request in its own database
# transaction, as in production:
#   1. the same signed delivery six times at once: stored once, one 202, the
#      others 200 "already received";
#   2. two different deliveries sharing an item, at once, several rounds: both
#      answered 202 (the one that lost the race is run again by Odoo once the
#      other committed) and every item stored once;
#   3. the real processing cron job makes one ticket per conversation.
# Prints "CHECK webhook_concurrent: ok" or "CHECK webhook_concurrent: FAIL <why>".
# ruff: noqa: F821
import json
import logging
import threading
import time
from collections import Counter

import requests
from werkzeug.serving import make_server

import odoo.http

from odoo.addons.webcare_social.services.webhook import new_secret, sign

problems = []


class RetryCounter(logging.Handler):
    """Counts the requests Odoo ran again after losing a race (its INFO line)."""

    count = 0

    def emit(self, record):
        if "tries left" in record.getMessage():
            RetryCounter.count += 1


retry_log = logging.getLogger("odoo.service.model")
retry_log.setLevel(logging.INFO)
retry_log.addHandler(RetryCounter())
secret = new_secret()
team = env["helpdesk.ticket.team"].create({"name": "Webhook check"})
channel = env["webcare.channel"].create(
    {
        "name": "Webhook check",
        "provider": "webhook",
        "webhook_secret": secret,
        "team_id": team.id,
        "state": "connected",
    }
)
env.cr.commit()

server = make_server("127.0.0.1", 0, odoo.http.root, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_port}/webcare/webhook/{channel.id}"


def item(external_id, handle="racer"):
    return {
        "id": external_id,
        "text": f"@PolderAir race {external_id}",
        "conversation": external_id,
        "author": {"id": f"u-{handle}", "handle": handle, "network": "x"},
    }


def signed(delivery_id, items):
    body = json.dumps({"items": items}).encode()
    timestamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-Odoo-Database": env.cr.dbname,
        "webhook-id": delivery_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(secret, delivery_id, timestamp, body),
    }


def post_at_once(requests_to_send):
    """POST every (body, headers) from its own thread at the same moment."""
    barrier = threading.Barrier(len(requests_to_send))
    answers = [None] * len(requests_to_send)

    def send(index, body, headers):
        try:
            barrier.wait(10)
            answers[index] = requests.post(url, data=body, headers=headers, timeout=60)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(f"request failed: {exc!r}")

    threads = [
        threading.Thread(target=send, args=(i, *request))
        for i, request in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return [a for a in answers if a is not None]


def stored(external_ids):
    env.invalidate_all()
    env.cr.commit()  # a fresh snapshot sees what the requests committed
    messages = env["webcare.message"].search(
        [("channel_id", "=", channel.id), ("external_id", "in", external_ids)]
    )
    return Counter(messages.mapped("external_id"))


# 1. the same delivery six times at once
body, headers = signed("msg_same", [item("s1"), item("s2")])
answers = post_at_once([(body, headers)] * 6)
statuses = sorted(a.status_code for a in answers)
if statuses != [200] * 5 + [202]:
    problems.append(f"identical posts answered {statuses}: {[a.text for a in answers]}")
counts = stored(["s1", "s2"])
if counts != Counter({"s1": 1, "s2": 1}):
    problems.append(f"identical posts stored {dict(counts)}")
deliveries = env["webcare.webhook.delivery"].search_count(
    [("channel_id", "=", channel.id), ("delivery_id", "=", "msg_same")]
)
if deliveries != 1:
    problems.append(f"{deliveries} deliveries msg_same stored")

# 2. different deliveries sharing an item, at once, a few rounds
for round_ in range(5):
    shared = f"r{round_}-shared"
    pair = [
        signed(f"msg_r{round_}_a", [item(f"r{round_}-a"), item(shared)]),
        signed(f"msg_r{round_}_b", [item(shared), item(f"r{round_}-b")]),
    ]
    answers = post_at_once(pair)
    duplicates = sum(a.json().get("duplicates", 0) for a in answers if a.ok)
    if [a.status_code for a in answers] != [202, 202] or duplicates != 1:
        problems.append(f"round {round_}: {[(a.status_code, a.text) for a in answers]}")
    ids = [f"r{round_}-a", shared, f"r{round_}-b"]
    counts = stored(ids)
    if counts != Counter(dict.fromkeys(ids, 1)):
        problems.append(f"round {round_}: items stored {dict(counts)}")

server.shutdown()

# 3. the real processing cron job makes the tickets
env.ref("webcare_social.ir_cron_webcare_webhook_process").method_direct_trigger()
env.cr.commit()
env.invalidate_all()
messages = env["webcare.message"].search([("channel_id", "=", channel.id)])
not_ticketed = messages.filtered(lambda m: m.state != "ticketed")
if not_ticketed:
    problems.append(
        "not ticketed: "
        + ", ".join(f"{m.external_id} ({m.state}: {m.error})" for m in not_ticketed)
    )
tickets_of = {}
for message in messages:
    tickets_of.setdefault(message.conversation_ref, set()).add(message.ticket_id.id)
split = [ref for ref, tickets in tickets_of.items() if len(tickets) > 1]
if split:
    problems.append(f"conversations on more than one ticket: {split}")
raced = f"{RetryCounter.count} requests run again after a race"
verdict = "FAIL " + "; ".join(problems) if problems else f"ok ({raced})"
print("CHECK webhook_concurrent: " + verdict)
