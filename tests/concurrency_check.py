# Run inside `odoo shell -d DB` on a database with webcare_social and its demo data.
# Two imports of the same channel start at the same moment, in two real
# transactions; afterwards every received item must be stored exactly once.
# Then the real cron job imports a new post with its per-page commits.
# Prints "CHECK <name>: ok" or "CHECK <name>: FAIL <why>" for both.
# ruff: noqa: F821
import importlib.util
import threading
from collections import Counter
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.modules.module import get_module_path

addon = Path(get_module_path("webcare_social"))
spec = importlib.util.spec_from_file_location("x_standin", addon / "tests/x_standin.py")
x_standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(x_standin)

standin = x_standin.XApiStandin.from_file(addon / "demo/x_demo_dataset.json").start()
standin.set_delay(0.2)  # keep the first run busy while the second one starts
channel = env.ref("webcare_social.webcare_channel_demo_x")
channel.write({"api_base_url": standin.base_url, "state": "connected"})
channel.action_test_connection()
env.cr.commit()

barrier = threading.Barrier(2)
errors, outcomes = [], []


def run_import():
    try:
        with env.registry.cursor() as cr:
            other = api.Environment(cr, SUPERUSER_ID, {})
            barrier.wait(10)
            outcomes.append(other["webcare.channel"].browse(channel.id)._fetch())
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(repr(exc))


threads = [threading.Thread(target=run_import) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
standin.set_delay(0)

# a third run with the cursor reset must find everything already stored
channel.invalidate_recordset()
channel._set_cursor("mentions", False)
channel._set_cursor("dms", False)
channel._fetch()
env.cr.commit()

messages = env["webcare.message"].search([("channel_id", "=", channel.id)])
counts = Counter(messages.mapped("external_id"))
doubles = [ext for ext, n in counts.items() if n > 1]
expected = len(standin.tweets) + len(standin.dm_events)
problems = errors + [f"stored twice: {doubles}"] * bool(doubles)
if sorted(outcomes) != [False, True]:
    problems.append(f"expected one run to import and one to skip, got {outcomes}")
if len(messages) != expected:
    problems.append(f"{len(messages)} messages stored, {expected} items served")
# no conversation may be split over two tickets (one ticket may hold several:
# a DM joins the author's ticket)
tickets_of = {}
for message in messages.filtered("ticket_id"):
    tickets_of.setdefault(message.conversation_ref, set()).add(message.ticket_id.id)
split = [ref for ref, tickets in tickets_of.items() if len(tickets) > 1]
if split:
    problems.append(f"conversations on more than one ticket: {split}")
print("CHECK concurrent_runs: " + ("FAIL " + "; ".join(problems) if problems else "ok"))

# The real cron job (per-page commits, lock taken again after each commit)
# imports what is new and moves the cursor.
customer = next(u for u in standin.users.values() if u["id"] != standin.account_id)
new_tweet = standin.add_tweet(customer["id"], "@PolderAir cron check: waar is mijn tas")
env.ref("webcare_social.ir_cron_webcare_fetch").method_direct_trigger()
env.cr.commit()  # end this snapshot: the job committed in its own transaction
env.invalidate_all()
stored = env["webcare.message"].search(
    [("channel_id", "=", channel.id), ("external_id", "=", new_tweet["id"])]
)
cron_problems = []
if len(stored) != 1 or stored.state != "ticketed":
    cron_problems.append(f"new tweet stored {len(stored)} times ({stored.state})")
if channel._cursor("mentions") != new_tweet["id"]:
    cron_problems.append(f"cursor {channel._cursor('mentions')}, not {new_tweet['id']}")
if channel.last_error:
    cron_problems.append(f"channel error: {channel.last_error}")
standin.stop()
verdict = "FAIL " + "; ".join(cron_problems) if cron_problems else "ok"
print("CHECK cron_run: " + verdict)
