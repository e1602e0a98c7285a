import threading
from datetime import timedelta

import requests

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from .x_standin import XApiStandin

ACCOUNT_ID = "1500000000000000001"
TESS_ID = "1690000000000000077"
TWEET = "mijn koffer is weg na PA872, wie helpt me?"


@tagged("post_install", "-at_install")
class TestRecognitionTours(HttpCase):
    """A phone agent recognises a customer who tweeted, in a real browser."""

    def setUp(self):
        super().setUp()
        # numbers without a country code are read in the company's country
        self.env.company.country_id = self.env.ref("base.nl")
        self.agent = new_test_user(
            self.env,
            login="tour_phone_agent",
            name="Paula Phone",
            groups="webcare_social.group_webcare_agent",
        )
        self.tess = self.env["res.partner"].create(
            {
                "name": "Tess Tour",
                "phone": "+31 6 13572468",
                "country_id": self.env.ref("base.nl").id,
            }
        )
        self.env["webcare.identity"].create(
            {
                "network": "x",
                "handle": "TessTour",
                "external_id": TESS_ID,
                "partner_id": self.tess.id,
            }
        )
        self._import_tweet()

    def _import_tweet(self):
        """Import Tess's tweet for real, from the local X API stand-in."""
        standin = XApiStandin().start()
        self.addCleanup(standin.stop)
        standin.add_user(TESS_ID, "TessTour", "Tess Tour", 321)
        standin.add_tweet(
            TESS_ID,
            f"@PolderAir {TWEET}",
            lang="nl",
            created_at=fields.Datetime.now() - timedelta(hours=2),
        )
        channel = self.env["webcare.channel"].create(
            {
                "name": "Tour X",
                "api_base_url": standin.base_url,
                "bearer_token": standin.bearer_token,
                "account_external_id": ACCOUNT_ID,
                "account_handle": "PolderAir",
                "state": "connected",
            }
        )
        channel.action_fetch()
        message = channel.webcare_message_ids
        self.assertEqual(message.partner_id, self.tess)

    def test_lookup_url_shows_the_customers_tweet(self):
        self.start_tour(
            "/odoo/webcare-lookup?phone=06-13572468",
            "webcare_social_lookup_url",
            login=self.agent.login,
        )

    def test_incoming_call_pops_lookup_in_agents_tab(self):
        agent_login = self.agent.login  # read before the key's cache reset
        phone_system = new_test_user(
            self.env,
            login="tour_pbx",
            groups="webcare_social.group_webcare_telephony",
        )
        key = (
            self.env["res.users.apikeys"]
            .with_user(phone_system)
            .sudo()
            ._generate("rpc", "PBX", None)
        )
        stop = threading.Event()
        rings = []
        ringer = threading.Thread(
            target=self._ring, args=(key, agent_login, stop, rings)
        )
        ringer.start()
        try:
            self.start_tour("/odoo", "webcare_social_incoming_call", login=agent_login)
        finally:
            stop.set()
            ringer.join(30)
        self.assertTrue(rings and all(status == 200 for status in rings), rings)
        call = self.env["webcare.call"].search([("external_ref", "=", "tour-ring-1")])
        self.assertEqual(len(call), 1, "ringing again must update the call")
        self.assertEqual(call.partner_id, self.tess)
        self.assertEqual(call.user_id.id, self.agent.id)
        self.assertTrue(call.recognized and call.social_context)

    def _ring(self, key, agent_login, stop, rings):
        """The phone system: report the same call every second until stopped.

        The agent's browser may not listen on the bus yet at the first ring;
        the same ``external_ref`` makes every ring update one call.
        """
        session = requests.Session()
        url = f"{self.base_url()}/json/2/webcare.call/webcare_incoming"
        body = {
            "phone": "0031613572468",
            "agent_login": agent_login,
            "external_ref": "tour-ring-1",
        }
        while not stop.wait(1.0):
            request_key = self.http_request_key
            if not request_key:
                continue
            session.cookies.set(TEST_CURSOR_COOKIE_NAME, request_key)
            response = session.post(
                url, json=body, headers={"Authorization": f"bearer {key}"}, timeout=20
            )
            if self.http_request_key == request_key:  # not cut off by the tour's end
                rings.append(response.status_code)

    def test_logged_call_shows_in_timeline(self):
        self.start_tour(
            "/odoo/webcare-lookup?phone=%2B31613572468",
            "webcare_social_log_call",
            login=self.agent.login,
        )
        call = self.env["webcare.call"].search([("partner_id", "=", self.tess.id)])
        self.assertEqual(len(call), 1)
        self.assertEqual(call.duration, 210)
        self.assertEqual(call.user_id, self.agent)
        self.assertIn("Belde over de koffer", call.note)
        self.assertIn(
            "Belde over de koffer", " ".join(self.tess.message_ids.mapped("body"))
        )
