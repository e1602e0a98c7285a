# Run inside `odoo shell -d DB` on a database with the webcare_social of the
# release before provider-neutral channels (X credentials and cursors in
# x_* fields). Makes an X channel against the stand-in and imports the demo
# conversations, so the upgrade has credentials and cursors to carry over.
# Prints "CHECK upgrade_before: ok|FAIL ..." (upgrade_after.py does the rest).
# ruff: noqa: F821
import importlib.util
import sys
from pathlib import Path

from odoo.modules.module import get_module_path

addon = Path(get_module_path("webcare_social"))
sys.path.insert(0, str(addon / "tests"))  # a stand-in may import its base
spec = importlib.util.spec_from_file_location("x_standin", addon / "tests/x_standin.py")
x_standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(x_standin)

standin = x_standin.XApiStandin.from_file(addon / "demo/x_demo_dataset.json").start()
channel = env["webcare.channel"].create(
    {
        "name": "Upgrade check",
        "api_base_url": standin.base_url,
        "x_bearer_token": standin.bearer_token,
        "x_consumer_key": standin.consumer_key,
        "x_consumer_secret": standin.consumer_secret,
        "x_access_token": standin.access_token,
        "x_access_token_secret": standin.access_token_secret,
    }
)
channel.action_test_connection()
channel.action_fetch()
problems = []
if not (channel.x_mentions_since_id and channel.x_dm_last_id):
    problems.append(f"no cursors after the import: {channel.last_error}")
stored = env["webcare.message"].search_count([("channel_id", "=", channel.id)])
if stored != len(standin.tweets) + len(standin.dm_events):
    problems.append(f"{stored} messages stored")
params = env["ir.config_parameter"].sudo()
params.set_param("webcare_upgrade_check.channel", channel.id)
params.set_param("webcare_upgrade_check.mentions", channel.x_mentions_since_id)
params.set_param("webcare_upgrade_check.dms", channel.x_dm_last_id)
params.set_param("webcare_upgrade_check.stored", stored)
env.cr.commit()
standin.stop()
print("CHECK upgrade_before: " + ("FAIL " + "; ".join(problems) if problems else "ok"))
