"""Screenshots of the real screens, for the Apps page and the README.

Run by ``make screenshots`` (scripts/screenshots.sh) on a fresh database with
demo data; never by ``make test``: the tag ``-standard`` keeps it out of
``--test-tags /webcare_social``. Select it with ``--test-tags webcare_screenshots``
(or ``*/webcare_social:TestScreenshots``).

The class imports the demo conversations from the X API stand-in, as
``make demo`` does; each test replays a short tour of
``static/tests/tours/screenshot_tours.js`` as the user who works on that screen,
and photographs the browser at the tour's ``screenshot()`` step.

Environment: ``WEBCARE_SHOT_LANG`` (default ``en_US``; e.g. ``nl_NL``: the
users work in that language, which is loaded when missing) and
``WEBCARE_SHOT_DIR`` (default ``static/description/screenshots``). Files are
named ``<screen>.<language>.png``, e.g. ``ticket_reply.en.png``.
"""

import base64
import io
import os
from pathlib import Path
from unittest.mock import patch

from PIL import Image

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .x_standin import XApiStandin

MODULE_DIR = Path(__file__).resolve().parents[1]
DATASET = MODULE_DIR / "demo" / "x_demo_dataset.json"
SHOTS_DIR = MODULE_DIR / "static" / "description" / "screenshots"
ANNA_PHONE = "0031612345678"  # Anna's number, written otherwise than on her contact

SIGNAL = "webcare_screenshot:"  # logged by the tours' screenshot() step


@tagged("-standard", "webcare_screenshots", "post_install", "-at_install")
class TestScreenshots(HttpCase):
    browser_size = "1440x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lang = os.environ.get("WEBCARE_SHOT_LANG") or "en_US"
        cls.out_dir = Path(os.environ.get("WEBCARE_SHOT_DIR") or SHOTS_DIR)
        cls.channel = cls.env.ref("webcare_social.webcare_channel_demo_x")
        cls.agent = cls.env.ref("webcare_social.user_demo_agent")
        cls.lead = cls.env.ref("webcare_social.user_demo_lead")
        cls.admin = cls.env.ref("base.user_admin")
        cls.anna = cls.env.ref("webcare_social.partner_demo_anna")
        cls._use_language()
        cls._import_demo_conversations()
        cls.influencer_ticket = cls._influencer_ticket()

    @classmethod
    def _use_language(cls):
        lang = (
            cls.env["res.lang"]
            .with_context(active_test=False)
            .search([("code", "=", cls.lang)])
        )
        if not lang:
            raise ValueError(f"Unknown language {cls.lang!r} (WEBCARE_SHOT_LANG)")
        if not lang.active:
            cls.env["base.language.install"].create(
                {"lang_ids": [(6, 0, lang.ids)]}
            ).lang_install()
        (cls.agent | cls.lead | cls.admin).write({"lang": cls.lang})

    @classmethod
    def _import_demo_conversations(cls):
        """What ``make demo`` does: import the demo conversations for real."""
        demo_url = cls.channel.api_base_url
        standin = XApiStandin.from_file(str(DATASET)).start()
        try:
            cls.channel.api_base_url = standin.base_url
            cls.channel.action_test_connection()
            cls.channel.action_fetch()
        finally:
            standin.stop()
            # show the URL make demo uses, not the stand-in's random port
            cls.channel.api_base_url = demo_url
        assert cls.channel.state == "connected", cls.channel.last_error

    @classmethod
    def _influencer_ticket(cls):
        """The ticket of the author with the most followers."""
        message = cls.env["webcare.message"].search(
            [
                ("channel_id", "=", cls.channel.id),
                ("direction", "=", "inbound"),
                ("ticket_id", "!=", False),
            ],
            order="author_followers desc, id",
            limit=1,
        )
        assert message.author_followers >= 100000, message.author_followers
        return message.ticket_id

    # ------------------------------------------------------------------
    # taking the picture
    # ------------------------------------------------------------------
    def _shoot(self, name, url, tour, login):
        """Run ``tour`` from ``url`` as ``login``; save the screen named ``name``.

        The tour's ``screenshot(name)`` step logs the signal when the screen is
        ready and waits; the picture is taken here through the browser's
        DevTools protocol, then the step is released.
        """
        captured = {}
        handle_console = ChromeBrowser._handle_console

        def on_console(browser, **event):  # Runtime.consoleAPICalled
            handle_console(browser, **event)
            args = event.get("args") or [{}]
            text = args[0].get("value")
            if event.get("type") != "log" or not str(text).startswith(SIGNAL):
                return
            shot = text[len(SIGNAL) :]

            def taken(future):  # on the browser's receiving thread: do not block
                captured[shot] = future.result()["data"]
                browser._websocket_send(
                    "Runtime.evaluate",
                    params={
                        "expression": f"document.body.dataset.webcareShot = {shot!r}"
                    },
                )

            browser._websocket_send(
                "Page.captureScreenshot", params={"format": "png"}, with_future=True
            ).add_done_callback(taken)

        with patch.object(ChromeBrowser, "_handle_console", on_console):
            self.start_tour(url, tour, login=login, timeout=120)
        self.assertEqual(list(captured), [name], f"{tour} took no screenshot {name}")
        path = self._save(name, base64.b64decode(captured[name]))
        self.assertGreater(path.stat().st_size, 10000, f"{path} looks empty")

    def _save(self, name, png):
        """Write ``<name>.<lang>.png``, reduced to 256 colours (a third of the size)."""
        image = Image.open(io.BytesIO(png)).convert("RGB")
        self.assertEqual(image.size, (1440, 900))
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{name}.{self.lang.split('_')[0]}.png"
        image.save(path, optimize=True)
        self._logger.info("Screenshot %s", path)
        return path

    # ------------------------------------------------------------------
    # the screens
    # ------------------------------------------------------------------
    def test_agent_tickets(self):
        self._shoot(
            "tickets", "/odoo/social-tickets", "webcare_social_shot_tickets", "agent"
        )

    def test_agent_ticket_reply(self):
        self._shoot(
            "ticket_reply",
            f"/odoo/social-tickets/{self.influencer_ticket.id}",
            "webcare_social_shot_ticket_reply",
            "agent",
        )

    def test_agent_caller_lookup(self):
        self._shoot(
            "caller_lookup",
            f"/odoo/webcare-lookup?phone={ANNA_PHONE}",
            "webcare_social_shot_lookup",
            "agent",
        )

    def test_agent_contact_timeline(self):
        self._shoot(
            "contact_timeline",
            f"/odoo/contacts/{self.anna.id}",
            "webcare_social_shot_timeline",
            "agent",
        )

    def test_lead_approvals(self):
        """Paula's answer to the influencer waits for Mark, her team lead."""
        sorry = self.env.ref("webcare_social.canned_reply_nl_sorry")
        reply = self.influencer_ticket.with_user(self.agent).webcare_reply(
            sorry._render(self.influencer_ticket, self.agent)
        )
        self.assertEqual(reply.state, "to_approve")
        self._shoot(
            "approvals",
            "/odoo/webcare-approvals",
            "webcare_social_shot_approvals",
            "lead",
        )

    def test_lead_report(self):
        self._shoot(
            "report",
            "/odoo/webcare-response-times",
            "webcare_social_shot_report",
            "lead",
        )

    def test_admin_channel_form(self):
        self._shoot(
            "channel_form",
            f"/odoo/webcare-channels/{self.channel.id}",
            "webcare_social_shot_channel",
            "admin",
        )
