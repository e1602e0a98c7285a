"""The public API over Odoo's JSON-2 endpoints, with real HTTP and API keys."""

from http import HTTPStatus

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import create_users, use_dutch_company
from .test_calls import incoming_notifications

INCOMING = "/json/2/webcare.call/webcare_incoming"
LOOKUP = "/json/2/res.partner/webcare_lookup"


@tagged("post_install", "-at_install")
class TestJson2(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        use_dutch_company(cls.env)
        create_users(cls)
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Wilma Tester",
                "phone": "06-24681357",
                "email": "wilma@example.nl",
            }
        )
        cls.env["webcare.identity"].create(
            {"network": "x", "handle": "WilmaT", "partner_id": cls.customer.id}
        )
        cls.pbx_key = cls.api_key(cls.pbx)
        cls.sales_key = cls.api_key(cls.sales)

    @classmethod
    def api_key(cls, user):
        return (
            cls.env["res.users.apikeys"]
            .with_user(user)
            .sudo()
            ._generate(None, "test", None)
        )

    def post(self, url, body, key=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"bearer {key}"
        return self.url_open(url, json=body, headers=headers)

    def calls(self, external_ref):
        return self.env["webcare.call"].search([("external_ref", "=", external_ref)])

    # ------------------------------------------------------------------
    # webcare.call/webcare_incoming
    # ------------------------------------------------------------------

    def test_incoming_call_with_a_valid_key(self):
        body = {
            "phone": "+31 6 2468 1357",
            "agent_login": "wc_agent",
            "external_ref": "pbx-j1",
        }
        response = self.post(INCOMING, body, self.pbx_key)
        self.assertEqual(response.status_code, HTTPStatus.OK, response.text)
        result = response.json()
        call = self.calls("pbx-j1")
        self.assertEqual(result["call_id"], call.id)
        self.assertEqual(
            {
                k: result[k]
                for k in ("recognized", "matched_by", "partner_id", "partner_name")
            },
            {
                "recognized": True,
                "matched_by": "phone",
                "partner_id": self.customer.id,
                "partner_name": "Wilma Tester",
            },
        )
        self.assertEqual(call.user_id, self.agent)
        self.assertEqual(call.phone_e164, "+31624681357")
        (payload,) = incoming_notifications(self.env, self.agent)
        self.assertEqual(payload["call_id"], call.id)
        # the phone system reports the same call again: one call, updated
        again = self.post(INCOMING, dict(body, agent_login="wc_manager"), self.pbx_key)
        self.assertEqual(again.json()["call_id"], call.id)
        self.assertEqual(len(self.calls("pbx-j1")), 1)
        self.assertEqual(call.user_id, self.manager)

    def test_only_the_phone_number_is_needed(self):
        response = self.post(INCOMING, {"phone": "0031 6 11223344"}, self.pbx_key)
        self.assertEqual(response.status_code, HTTPStatus.OK, response.text)
        result = response.json()
        self.assertFalse(result["recognized"])
        self.assertIsNone(result["partner_id"])
        self.assertEqual(
            result["lookup_url"], "/odoo/webcare-lookup?phone=%2B31611223344"
        )
        self.assertFalse(
            self.env["res.partner"].search([("phone_sanitized", "=", "+31611223344")])
        )

    def test_incoming_call_with_a_wrong_key(self):
        response = self.post(INCOMING, {"phone": "06-24681357"}, "not-a-real-key")
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertFalse(
            self.env["webcare.call"].search([("phone", "=", "06-24681357")])
        )

    def test_incoming_call_without_a_key(self):
        response = self.post(INCOMING, {"phone": "06-24681357"})
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertFalse(
            self.env["webcare.call"].search([("phone", "=", "06-24681357")])
        )

    def test_incoming_call_by_a_user_without_telephony(self):
        with mute_logger("odoo.http"):
            response = self.post(INCOMING, {"phone": "06-24681357"}, self.sales_key)
        self.assertEqual(response.status_code, HTTPStatus.FORBIDDEN, response.text)
        self.assertEqual(response.json()["name"], "odoo.exceptions.AccessError")
        self.assertFalse(
            self.env["webcare.call"].search([("phone", "=", "06-24681357")])
        )

    def test_incoming_call_for_an_unknown_agent(self):
        with mute_logger("odoo.http"):
            response = self.post(
                INCOMING, {"phone": "06-24681357", "agent_login": "ghost"}, self.pbx_key
            )
        self.assertEqual(
            response.status_code, HTTPStatus.UNPROCESSABLE_ENTITY, response.text
        )
        self.assertIn("ghost", response.json()["message"])

    # ------------------------------------------------------------------
    # res.partner/webcare_lookup
    # ------------------------------------------------------------------

    def test_lookup_with_a_valid_key(self):
        response = self.post(LOOKUP, {"query": "(06) 2468 1357"}, self.sales_key)
        self.assertEqual(response.status_code, HTTPStatus.OK, response.text)
        (result,) = response.json()
        self.assertEqual(result["partner_id"], self.customer.id)
        self.assertEqual(result["name"], "Wilma Tester")
        self.assertEqual(result["matched_by"], "phone")
        self.assertEqual([i["handle"] for i in result["identities"]], ["WilmaT"])
        self.assertEqual(result["open_tickets"], [])
        self.assertEqual(result["last_messages"], [])

    def test_lookup_by_handle_email_and_limit(self):
        for query, how in (("@wilmat", "handle"), ("WILMA@example.nl", "email")):
            with self.subTest(query=query):
                response = self.post(
                    LOOKUP, {"query": query, "limit": 1}, self.sales_key
                )
                (result,) = response.json()
                self.assertEqual(
                    (result["partner_id"], result["matched_by"]),
                    (self.customer.id, how),
                )

    def test_lookup_of_nobody_is_an_empty_list(self):
        response = self.post(LOOKUP, {"query": "+31 6 1122 3344"}, self.sales_key)
        self.assertEqual(response.status_code, HTTPStatus.OK, response.text)
        self.assertEqual(response.json(), [])

    def test_lookup_with_a_wrong_key(self):
        wrong = self.sales_key[:-1] + ("1" if self.sales_key.endswith("0") else "0")
        response = self.post(LOOKUP, {"query": "06-24681357"}, wrong)
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertNotIn("Wilma", response.text)

    def test_lookup_without_a_key(self):
        response = self.post(LOOKUP, {"query": "06-24681357"})
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertNotIn("Wilma", response.text)
