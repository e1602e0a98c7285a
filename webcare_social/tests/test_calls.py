"""Calls: the phone system's incoming-call API, logged calls, recognition."""

import json
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.webcare_call import BUS_INCOMING_CALL
from .common import WebcareCase, create_users, use_dutch_company
from .common_x import ANNA_ID, STRANGER_ID, XChannelCase


def incoming_notifications(env, user):
    """The incoming-call notifications the bus holds for ``user``'s tabs."""
    env.cr.precommit.run()  # bus.bus rows are written just before commit
    rows = env["bus.bus"].sudo().search([], order="id")
    found = []
    for row in rows:
        channel, message = json.loads(row.channel), json.loads(row.message)
        if message["type"] != BUS_INCOMING_CALL:
            continue
        if channel[1:] == ["res.partner", user.partner_id.id]:
            found.append(message["payload"])
    return found


@tagged("post_install", "-at_install")
class TestIncomingCall(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        cls.Call = cls.env["webcare.call"]
        cls.PbxCall = cls.Call.with_user(cls.pbx)

    def incoming(self, phone, agent_login="wc_agent", external_ref=None):
        return self.PbxCall.webcare_incoming(
            phone, agent_login=agent_login, external_ref=external_ref
        )

    def test_known_number_is_recognised(self):
        result = self.incoming("+31 6 2468 1357", external_ref="pbx-1")
        call = self.Call.browse(result["call_id"])
        self.assertEqual(
            {k: result[k] for k in ("recognized", "matched_by", "partner_id")},
            {"recognized": True, "matched_by": "phone", "partner_id": self.customer.id},
        )
        self.assertEqual(result["partner_name"], "Wilma Tester")
        self.assertFalse(result["social_context"])
        self.assertEqual(
            result["lookup_url"], "/odoo/webcare-lookup?phone=%2B31624681357"
        )
        self.assertEqual(call.phone, "+31 6 2468 1357")
        self.assertEqual(call.phone_e164, "+31624681357")
        self.assertEqual(call.direction, "inbound")
        self.assertEqual(call.user_id, self.agent)
        self.assertEqual(call.partner_id, self.customer)
        self.assertEqual(call.external_ref, "pbx-1")
        self.assertEqual(call.company_id, self.env.company)

    def test_any_number_format_from_the_phone_system(self):
        for phone in ("0624681357", "0031624681357", "+31624681357"):
            with self.subTest(phone=phone):
                self.assertEqual(self.incoming(phone)["partner_id"], self.customer.id)

    def test_same_external_ref_twice_updates_the_call(self):
        first = self.incoming("06-24681357", external_ref="pbx-42")
        second = self.incoming(
            "06-24681357", agent_login="wc_manager", external_ref="pbx-42"
        )
        self.assertEqual(second["call_id"], first["call_id"])
        calls = self.Call.search([("external_ref", "=", "pbx-42")])
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls.user_id, self.manager)  # answered by another agent
        # a third report that names no agent keeps the one known
        self.incoming("06-24681357", agent_login=None, external_ref="pbx-42")
        self.assertEqual(calls.user_id, self.manager)
        self.assertEqual(self.Call.search_count([("external_ref", "=", "pbx-42")]), 1)

    def test_without_external_ref_every_report_is_a_call(self):
        first = self.incoming("06-24681357")
        second = self.incoming("06-24681357")
        self.assertNotEqual(first["call_id"], second["call_id"])

    def test_an_update_can_recognise_the_caller(self):
        first = self.incoming("anonymous", external_ref="pbx-7")
        self.assertFalse(first["recognized"])
        second = self.incoming("06-24681357", external_ref="pbx-7")
        self.assertEqual(second["call_id"], first["call_id"])
        self.assertTrue(second["recognized"])
        self.assertEqual(second["partner_id"], self.customer.id)

    def test_unknown_number_is_recorded_without_a_contact(self):
        partners_before = self.env["res.partner"].search_count([])
        result = self.incoming("+31 6 1122 3344", external_ref="pbx-unknown")
        self.assertFalse(result["recognized"])
        self.assertIsNone(result["matched_by"])
        self.assertIsNone(result["partner_id"])
        self.assertIsNone(result["identity"])
        call = self.Call.browse(result["call_id"])
        self.assertTrue(call.exists())
        self.assertEqual(call.phone_e164, "+31611223344")
        self.assertFalse(call.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        self.assertEqual(
            result["lookup_url"], "/odoo/webcare-lookup?phone=%2B31611223344"
        )

    def test_unreadable_number_is_recorded_as_received(self):
        result = self.incoming("anonymous")
        call = self.Call.browse(result["call_id"])
        self.assertEqual(call.phone, "anonymous")
        self.assertFalse(call.phone_e164)
        self.assertFalse(call.recognized)
        self.assertEqual(result["lookup_url"], "/odoo/webcare-lookup?phone=anonymous")
        odd = self.incoming("06 12 & 34")
        self.assertEqual(
            odd["lookup_url"], "/odoo/webcare-lookup?phone=06%2012%20%26%2034"
        )

    def test_missing_number_is_refused(self):
        with self.assertRaises(ValidationError):
            self.incoming("")
        with self.assertRaises(ValidationError):
            self.incoming(None)

    def test_unknown_agent_login_is_refused(self):
        with self.assertRaisesRegex(UserError, "nobody_here"):
            self.incoming("06-24681357", agent_login="nobody_here")
        with self.assertRaises(UserError):  # no internal user
            self.incoming("06-24681357", agent_login="wc_portal")

    def test_only_the_telephony_group_may_report_calls(self):
        for user in (self.agent, self.sales, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Call.with_user(user).webcare_incoming("06-24681357")
        self.assertFalse(self.Call.search([("phone", "=", "06-24681357")]))

    def test_lookup_pops_in_the_agents_tab(self):
        result = self.incoming("06-24681357", external_ref="pbx-bus")
        (payload,) = incoming_notifications(self.env, self.agent)
        self.assertEqual(
            payload,
            {
                "call_id": result["call_id"],
                "phone": "06-24681357",
                "phone_e164": "+31624681357",
                "recognized": True,
                "name": "Wilma Tester",
            },
        )
        self.assertEqual(incoming_notifications(self.env, self.manager), [])

    def test_no_agent_no_notification(self):
        result = self.incoming("06-24681357", agent_login=None)
        self.assertFalse(self.Call.browse(result["call_id"]).user_id)
        self.assertEqual(incoming_notifications(self.env, self.agent), [])

    def test_recognised_call_is_in_the_contacts_chatter(self):
        self.incoming("06-24681357")
        log = " ".join(self.chatter_texts(self.customer))
        self.assertIn("Inbound call · +31 6 24681357 · agent", log)

    def test_external_ref_is_unique_per_company(self):
        self.Call.create({"phone": "06-24681357", "external_ref": "dup"})
        other_company = self.env["res.company"].create({"name": "PolderAir BE"})
        self.Call.create(
            {
                "phone": "06-24681357",
                "external_ref": "dup",
                "company_id": other_company.id,
            }
        )
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.Call.create({"phone": "06-24681357", "external_ref": "dup"})
            self.env.flush_all()


@tagged("post_install", "-at_install")
class TestLoggedCall(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        cls.ticket = cls.env["helpdesk.ticket"].create(
            {
                "name": "Koffer kwijt",
                "description": "<p>Koffer kwijt</p>",
                "partner_id": cls.customer.id,
            }
        )
        cls.AgentCall = cls.env["webcare.call"].with_user(cls.agent)

    def test_logged_call_in_chatter_of_contact_and_ticket(self):
        call_id = self.AgentCall.webcare_log(
            partner_id=self.customer.id,
            phone="06-24681357",
            direction="outbound",
            duration=185,
            note="Teruggebeld: koffer <morgen> geleverd",
            ticket_id=self.ticket.id,
        )
        call = self.env["webcare.call"].browse(call_id)
        self.assertEqual(call.user_id, self.agent)
        self.assertEqual(call.ticket_id, self.ticket)
        self.assertTrue(call.recognized)
        self.assertEqual(call.matched_by, "agent")
        for record in (self.customer, self.ticket):
            with self.subTest(record=record._name):
                log = " ".join(self.chatter_texts(record))
                self.assertIn("Outbound call · +31 6 24681357 · 3:05 min", log)
                self.assertIn("koffer &lt;morgen&gt; geleverd", log)

    def test_logged_call_in_the_timeline(self):
        call_id = self.AgentCall.webcare_log(
            partner_id=self.customer.id,
            direction="inbound",
            duration=65,
            note="Vraagt naar compensatie",
        )
        # once, though the call is also noted in the contact's chatter
        everything = self.customer.with_user(self.sales).webcare_timeline()
        self.assertEqual(
            sorted(e["kind"] for e in everything), ["call", "ticket_opened"]
        )
        events = self.customer.with_user(self.sales).webcare_timeline(
            channels=["phone"]
        )
        self.assertEqual(len(events), 1)
        event = events[0]
        self.assertEqual(
            {k: event[k] for k in ("kind", "channel", "direction", "summary")},
            {
                "kind": "call",
                "channel": "phone",
                "direction": "inbound",
                "summary": "Vraagt naar compensatie",
            },
        )
        self.assertEqual(
            (event["res_model"], event["res_id"]), ("webcare.call", call_id)
        )
        self.assertEqual(event["url"], f"/odoo/webcare.call/{call_id}")
        self.assertEqual(event["title"], "Inbound call · 1:05")

    def test_completing_the_incoming_call(self):
        result = (
            self.env["webcare.call"]
            .with_user(self.pbx)
            .webcare_incoming("+31 6 1122 3344", agent_login="wc_agent")
        )
        self.assertFalse(result["recognized"])
        call_id = self.AgentCall.webcare_log(
            call_id=result["call_id"],
            partner_id=self.other_customer.id,
            duration=30,
            note="Nieuw nummer van Otto",
        )
        self.assertEqual(call_id, result["call_id"])
        call = self.env["webcare.call"].browse(call_id)
        self.assertEqual(call.partner_id, self.other_customer)
        self.assertEqual((call.recognized, call.matched_by), (True, "agent"))
        self.assertEqual((call.duration, call.note), (30, "Nieuw nummer van Otto"))
        self.assertIn(
            "Nieuw nummer van Otto", " ".join(self.chatter_texts(self.other_customer))
        )
        self.assertEqual(
            self.env["webcare.call"].search_count([("id", "=", call_id)]), 1
        )

    def test_lookup_screen_of_an_incoming_call(self):
        result = (
            self.env["webcare.call"]
            .with_user(self.pbx)
            .webcare_incoming("+31 6 1122 3344", agent_login="wc_agent")
        )
        screen = (
            self.env["res.partner"]
            .with_user(self.agent)
            .webcare_lookup_screen(phone="+31611223344", call_id=result["call_id"])
        )
        self.assertEqual(screen["results"], [])
        self.assertEqual(screen["unknown"]["phone"], "+31611223344")
        call = screen["call"]
        self.assertEqual(call["id"], result["call_id"])
        self.assertEqual(call["phone_display"], "+31 6 11223344")
        self.assertFalse(call["recognized"])
        self.assertTrue(screen["can_link"])
        sales_screen = (
            self.env["res.partner"]
            .with_user(self.sales)
            .webcare_lookup_screen(phone="+31611223344", call_id=result["call_id"])
        )
        self.assertFalse(sales_screen["can_link"])

    def test_unknown_number_logged_without_contact(self):
        partners_before = self.env["res.partner"].search_count([])
        call = self.env["webcare.call"].browse(
            self.AgentCall.webcare_log(phone="06-11223344", note="Verkeerd verbonden")
        )
        self.assertFalse(call.partner_id)
        self.assertFalse(call.recognized)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_logged_number_of_a_contact_is_recognised(self):
        call = self.env["webcare.call"].browse(
            self.AgentCall.webcare_log(phone="0624681357")
        )
        self.assertEqual(call.partner_id, self.customer)
        self.assertEqual(call.matched_by, "phone")

    def test_sales_cannot_log_calls_but_read_them(self):
        call_id = self.AgentCall.webcare_log(partner_id=self.customer.id, note="x")
        self.assertEqual(
            self.env["webcare.call"].with_user(self.sales).browse(call_id).note, "x"
        )
        with self.assertRaises(AccessError):
            self.env["webcare.call"].with_user(self.portal).browse(call_id).read(
                ["note"]
            )

    def test_negative_duration_is_refused(self):
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.AgentCall.create({"phone": "06-24681357", "duration": -5})
            self.env.flush_all()


@tagged("post_install", "-at_install")
class TestCallSocialContext(XChannelCase):
    """Calls of people who wrote to us on social media shortly before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        create_users(cls)
        cls.anna.phone = "06-13572468"

    def incoming(self, phone, external_ref=None):
        result = (
            self.env["webcare.call"]
            .with_user(self.pbx)
            .webcare_incoming(phone, agent_login="wc_agent", external_ref=external_ref)
        )
        return result, self.env["webcare.call"].browse(result["call_id"])

    def test_posted_this_week(self):
        self.mention(ANNA_ID, "waar is mijn koffer", created_at=self.days_ago(3))
        self.fetch()
        result, _call = self.incoming("06-13572468")
        self.assertTrue(result["social_context"])

    def test_posted_longer_ago(self):
        self.mention(ANNA_ID, "waar is mijn koffer", created_at=self.days_ago(8))
        self.fetch()
        result, _call = self.incoming("06-13572468")
        self.assertTrue(result["recognized"])
        self.assertFalse(result["social_context"])

    def test_only_what_came_before_the_call(self):
        self.mention(ANNA_ID, "waar is mijn koffer", created_at=self.days_ago(0))
        self.fetch()
        call = self.env["webcare.call"].create(
            {
                "phone": "06-13572468",
                "started_at": fields.Datetime.now() - timedelta(days=1),
            }
        )
        self.assertTrue(call.recognized)
        self.assertFalse(call.social_context)

    def test_caller_recognised_by_a_number_sent_by_dm(self):
        self.standin.add_dm(STRANGER_ID, "bel me: 06 87654321")
        self.fetch()
        stranger = self.env["webcare.identity"].search(
            [("external_id", "=", STRANGER_ID)]
        )
        result, call = self.incoming("+31 6 8765 4321", external_ref="pbx-dm")
        self.assertEqual(
            {k: result[k] for k in ("recognized", "matched_by", "partner_id")},
            {"recognized": True, "matched_by": "dm_phone", "partner_id": None},
        )
        self.assertEqual(result["identity"], "@frequentflyer (X)")
        self.assertTrue(result["social_context"])
        self.assertEqual(call.identity_id, stranger)
        self.assertFalse(call.partner_id)
        # once the agent links the caller, the call is on the new contact
        partner_id = stranger.with_user(self.agent).webcare_link_caller(
            phone="+31 6 8765 4321", consent_method="phone"
        )
        self.assertEqual(call.partner_id.id, partner_id)
        self.assertEqual((call.recognized, call.matched_by), (True, "dm_phone"))

    def days_ago(self, days):
        return fields.Datetime.now() - timedelta(days=days, minutes=5)
