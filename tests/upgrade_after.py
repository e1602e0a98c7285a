# Run inside `odoo shell -d DB` after upgrading the database of
# upgrade_before.py to this webcare_social: the X channel keeps its
# credentials (the stand-in checks OAuth 1.0a signatures made with them) and
# its cursors (the next import asks only for what is new), and imports a new
# mention once. Prints "CHECK upgrade: ok|FAIL ...".
# ruff: noqa: F821
import importlib.util
import sys
from pathlib import Path

from odoo.modules.module import get_module_path

addon = Path(get_module_path("webcare_social"))
sys.path.insert(0, str(addon / "tests"))
spec = importlib.util.spec_from_file_location("x_standin", addon / "tests/x_standin.py")
x_standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(x_standin)

params = env["ir.config_parameter"].sudo()
channel = env["webcare.channel"].browse(
    int(params.get_param("webcare_upgrade_check.channel"))
)
before = {
    "mentions": params.get_param("webcare_upgrade_check.mentions"),
    "dms": params.get_param("webcare_upgrade_check.dms"),
}
stored_before = int(params.get_param("webcare_upgrade_check.stored"))
standin = x_standin.XApiStandin.from_file(addon / "demo/x_demo_dataset.json").start()
problems = []
credentials = {
    "bearer_token": standin.bearer_token,
    "api_key": standin.consumer_key,
    "api_key_secret": standin.consumer_secret,
    "access_token": standin.access_token,
    "access_token_secret": standin.access_token_secret,
}
lost = [name for name, value in credentials.items() if channel[name] != value]
if lost:
    problems.append(f"credentials lost: {lost}")
for code, cursor in before.items():
    if channel._cursor(code) != cursor:
        problems.append(f"{code} cursor {channel._cursor(code)!r}, was {cursor!r}")
if "x_bearer_token" in channel._fields or "x_mentions_since_id" in channel._fields:
    problems.append("the x_ fields are still there")

customer = next(u for u in standin.users.values() if u["id"] != standin.account_id)
new_tweet = standin.add_tweet(
    customer["id"], "@PolderAir na de upgrade: waar is mijn tas"
)
channel.api_base_url = standin.base_url
channel.action_fetch()
asked = [
    r.query.get("since_id") for r in standin.requests if r.path.endswith("/mentions")
]
if asked[:1] != [[before["mentions"]]] and asked[:1] != [before["mentions"]]:
    problems.append(f"the first mentions request asked since_id {asked[:1]}")
messages = env["webcare.message"].search([("channel_id", "=", channel.id)])
if len(messages) != stored_before + 1:
    problems.append(
        f"{len(messages)} messages after the import, {stored_before} before"
    )
new = messages.filtered(lambda m: m.external_id == new_tweet["id"])
if new.state != "ticketed":
    problems.append(
        f"the new mention is {new.state or 'missing'}: {channel.last_error}"
    )
if channel._cursor("mentions") != new_tweet["id"]:
    problems.append(f"mentions cursor {channel._cursor('mentions')} after the import")
standin.stop()
print("CHECK upgrade: " + ("FAIL " + "; ".join(problems) if problems else "ok"))
