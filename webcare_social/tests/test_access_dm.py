"""Who sees what: DMs and payloads for Webcare users, the timeline for sales."""

import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common_x import ANNA_ID, WebcareTeamCase

DM_TEXT = "Mijn nummer is 06-87654321, boekingscode KZ4RT7"
REDACTED = "Direct message (only Webcare users can read it)"


@tagged("post_install", "-at_install")
class TestDirectMessageAccess(WebcareTeamCase):
    def setUp(self):
        super().setUp()
        self.mention(ANNA_ID, "waar is mijn koffer")
        self.standin.add_dm(ANNA_ID, DM_TEXT)
        messages = self.fetch()
        self.post = messages.filtered(lambda m: m.kind == "mention")
        self.dm = messages.filtered(lambda m: m.kind == "dm")
        self.assertEqual(len(self.post), 1)
        self.assertEqual(len(self.dm), 1)
        self.Message = self.env["webcare.message"]

    # ------------------------------------------------------------------
    # sales: a plain internal user
    # ------------------------------------------------------------------

    def test_sales_reads_posts_not_dms(self):
        Message = self.Message.with_user(self.sales)
        found = Message.search([("partner_id", "=", self.anna.id)])
        self.assertEqual(found, self.post)
        self.assertEqual(found.body, "@PolderAir waar is mijn koffer")
        with self.assertRaises(AccessError):
            self.dm.with_user(self.sales).read(["body"])

    def test_sales_reads_no_payload(self):
        post = self.post.with_user(self.sales)
        with self.assertRaises(AccessError):
            post.read(["payload"])
        with self.assertRaises(AccessError):
            post.read(["evidence_ids"])
        self.assertNotIn("payload", post.fields_get())

    def test_sales_reads_the_timeline_without_dm_text(self):
        events = self.anna.with_user(self.sales).webcare_timeline()
        dm = next(e for e in events if e["kind"] == "dm")
        self.assertTrue(dm["redacted"])
        self.assertEqual(dm["summary"], REDACTED)
        self.assertEqual((dm["direction"], dm["channel"]), ("inbound", "x"))
        post = next(e for e in events if e["kind"] == "post")
        self.assertEqual(post["summary"], "@PolderAir waar is mijn koffer")
        self.assertFalse(post["redacted"])
        self.assertNotIn("06-87654321", json.dumps(events))
        self.assertNotIn("KZ4RT7", json.dumps(events))  # nor in the DM ticket's title

    def test_sales_sees_ticket_numbers_not_titles_of_tickets_they_cannot_read(self):
        ticket = self.post.ticket_id
        ticket.message_post(
            body="Interne notitie over de koffer",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        self.assertFalse(ticket.with_user(self.sales).has_access("read"))
        events = self.anna.with_user(self.sales).webcare_timeline()
        opened = next(
            e
            for e in events
            if e["kind"] == "ticket_opened" and e["res_id"] == ticket.id
        )
        self.assertEqual((opened["summary"], opened["redacted"]), ("", True))
        self.assertEqual(opened["title"], f"Ticket {ticket.number} opened")
        note = next(e for e in events if e["kind"] == "note")
        self.assertEqual(note["summary"], f"On ticket {ticket.number}")
        self.assertNotIn("Interne notitie", json.dumps(events))
        # the agent of the team reads it all
        events = self.anna.with_user(self.agent).webcare_timeline()
        self.assertIn("Interne notitie over de koffer", json.dumps(events))

    def test_sales_follower_reads_the_ticket_title(self):
        ticket = self.post.ticket_id
        ticket.message_subscribe(partner_ids=self.sales.partner_id.ids)
        events = self.anna.with_user(self.sales).webcare_timeline(channels=["helpdesk"])
        opened = next(e for e in events if e["res_id"] == ticket.id)
        self.assertEqual(opened["summary"], ticket.name)
        self.assertFalse(opened["redacted"])

    def test_sales_lookup_without_dm_text(self):
        (result,) = (
            self.env["res.partner"].with_user(self.sales).webcare_lookup("@AnnaWC")
        )
        by_kind = {m["kind"]: m for m in result["last_messages"]}
        self.assertIsNone(by_kind["dm"]["text"])
        self.assertIsNone(by_kind["dm"]["excerpt"])
        self.assertEqual(by_kind["mention"]["text"], "@PolderAir waar is mijn koffer")
        self.assertNotIn("06-87654321", json.dumps(result))

    def test_telephony_user_reads_no_dms_either(self):
        self.assertFalse(
            self.Message.with_user(self.pbx).search([("id", "=", self.dm.id)])
        )

    # ------------------------------------------------------------------
    # Webcare agents
    # ------------------------------------------------------------------

    def test_agent_reads_dm_text_and_payload(self):
        dm = self.dm.with_user(self.agent)
        self.assertEqual(dm.body, DM_TEXT)
        self.assertIn(DM_TEXT, dm.payload)
        self.assertEqual(set(dm.evidence_ids.mapped("kind")), {"phone", "reference"})
        events = self.anna.with_user(self.agent).webcare_timeline()
        dm_event = next(e for e in events if e["kind"] == "dm")
        self.assertEqual(dm_event["summary"], DM_TEXT)
        self.assertFalse(dm_event["redacted"])
        (result,) = (
            self.env["res.partner"].with_user(self.agent).webcare_lookup("@AnnaWC")
        )
        texts = [m["text"] for m in result["last_messages"]]
        self.assertIn(DM_TEXT, texts)

    # ------------------------------------------------------------------
    # portal
    # ------------------------------------------------------------------

    def test_portal_gets_nothing(self):
        Partner = self.env["res.partner"].with_user(self.portal)
        with self.assertRaises(AccessError):
            Partner.webcare_lookup("@AnnaWC")
        with self.assertRaises(AccessError):
            Partner.webcare_lookup_screen(query="@AnnaWC")
        anna = self.anna.with_user(self.portal)
        with self.assertRaises(AccessError):
            anna.webcare_timeline()
        with self.assertRaises(AccessError):
            anna.webcare_timeline_page()

    def test_portal_cannot_read_webcare_models(self):
        call = self.env["webcare.call"].create(
            {"partner_id": self.anna.id, "note": "x"}
        )
        self.anna_identity.write({"handle": "AnnaNieuw"})
        records = (
            self.post,
            self.dm,
            call,
            self.dm.evidence_ids[:1],
            self.anna_identity,
            self.anna_identity.previous_handle_ids,
        )
        for record in records:
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_user(self.portal).read(["display_name"])
