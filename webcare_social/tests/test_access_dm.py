"""Who sees what: DMs and payloads for Webcare users of the channel's
company, the timeline for sales."""

import base64
import json
import time

from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged

from ..services.webhook import sign
from .common import create_users
from .common_x import ANNA_ID, STRANGER_ID, WebcareTeamCase

DM_TEXT = "Mijn nummer is 06-87654321, boekingscode KZ4RT7"
STRANGER_DM = "Mijn IBAN is NL91ABNA0417164300, graag terugstorten"
REPLY_TEXT = "Wij bellen u terug op 06-87654321 over KZ4RT7"
REDACTED = "Direct message (only Webcare users can read it)"
DM_SUBTYPE = "webcare_social.mt_webcare_dm"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def dm_chatter(ticket):
    """The DM copies in a ticket's chatter (read as superuser)."""
    subtype = ticket.env.ref(DM_SUBTYPE)
    return ticket.sudo().message_ids.filtered(lambda m: m.subtype_id == subtype)


@tagged("post_install", "-at_install")
class TestDirectMessageAccess(WebcareTeamCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a second company with its own Webcare team and channel
        cls.company_be = cls.env["res.company"].create({"name": "PolderAir België"})
        cls.agent_be = new_test_user(
            cls.env,
            login="wc_agent_be",
            groups="webcare_social.group_webcare_agent",
            company_id=cls.company_be.id,
            company_ids=[Command.set(cls.company_be.ids)],
        )
        cls.manager_be = new_test_user(
            cls.env,
            login="wc_manager_be",
            groups="webcare_social.group_webcare_manager",
            company_id=cls.company_be.id,
            company_ids=[Command.set(cls.company_be.ids)],
        )
        cls.team_be = cls.env["helpdesk.ticket.team"].create(
            {
                "name": "Webcare BE",
                "company_id": cls.company_be.id,
                "user_ids": [Command.link(cls.agent_be.id)],
            }
        )
        cls.channel_be = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir België on X",
                "company_id": cls.company_be.id,
                "team_id": cls.team_be.id,
                "account_external_id": "1500000000000000777",
                "account_handle": "PolderAirBE",
            }
        )

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

    # ------------------------------------------------------------------
    # a DM in a ticket's chatter
    # ------------------------------------------------------------------

    def stranger_dm_ticket(self):
        """A ticket opened by a DM (the author has no ticket yet)."""
        self.standin.add_dm(STRANGER_ID, STRANGER_DM)
        message = self.fetch().filtered(lambda m: m.author_external_id == STRANGER_ID)
        self.assertEqual(message.kind, "dm")
        return message.ticket_id

    def follow(self, ticket, user):
        ticket.message_subscribe(partner_ids=user.partner_id.ids)
        self.assertTrue(ticket.with_user(user).has_access("read"))

    def fetch_chatter(self, ticket, user):
        """The chatter messages the web client gets for ``user``."""
        Mail = self.env["mail.message"].with_user(user)
        return Mail._message_fetch(None, thread=ticket.with_user(user))["messages"]

    def test_dm_ticket_title_and_description_hold_no_dm_text(self):
        ticket = self.stranger_dm_ticket()
        self.assertEqual(ticket.name, "DM from @frequentflyer")
        for text in (ticket.name, str(ticket.description)):
            self.assertNotIn("NL91ABNA", text)
            self.assertNotIn("terugstorten", text)
        self.assertIn("for Webcare users only", str(ticket.description))
        # the words are in the chatter, as a Webcare-only message
        chatter = dm_chatter(ticket)
        self.assertEqual(len(chatter), 1)
        self.assertIn("NL91ABNA0417164300", str(chatter.body))
        # nor does the customer's DM that joined a post's ticket change it
        ticket = self.dm.ticket_id
        self.assertEqual(ticket, self.post.ticket_id)
        self.assertNotIn("KZ4RT7", ticket.name + str(ticket.description))

    def test_sales_follower_cannot_read_the_dm_in_the_chatter(self):
        for ticket in (self.dm.ticket_id, self.stranger_dm_ticket()):
            with self.subTest(ticket=ticket.name):
                self.follow(ticket, self.sales)
                note = ticket.message_post(
                    body="Koffer is onderweg", subtype_xmlid="mail.mt_note"
                )
                chatter = dm_chatter(ticket)
                self.assertTrue(chatter)
                self.assertSalesCannotRead(ticket, chatter, note)
                self.assertAgentReads(ticket, chatter)

    def assertSalesCannotRead(self, ticket, chatter, note):
        Mail = self.env["mail.message"].with_user(self.sales)
        with self.assertRaises(AccessError):
            chatter.with_user(self.sales).read(["body"])
        on_ticket = Mail.search(
            [("model", "=", "helpdesk.ticket"), ("res_id", "=", ticket.id)]
        )
        self.assertIn(note, on_ticket, "the sales user reads the rest")
        self.assertFalse(on_ticket & chatter)
        for word in ("KZ4RT7", "NL91ABNA"):
            self.assertFalse(Mail.search([("body", "ilike", word)]))
        fetched = self.fetch_chatter(ticket, self.sales)
        self.assertIn(note, fetched)
        self.assertFalse(fetched & chatter)
        self.assertFalse(ticket.with_user(self.sales).message_ids & chatter)

    def assertAgentReads(self, ticket, chatter):
        self.assertEqual(self.fetch_chatter(ticket, self.agent) & chatter, chatter)
        body = " ".join(str(b) for b in chatter.with_user(self.agent).mapped("body"))
        self.assertTrue("KZ4RT7" in body or "NL91ABNA" in body)

    def test_our_private_reply_is_treated_the_same(self):
        ticket = self.post.ticket_id
        self.follow(ticket, self.sales)
        reply = ticket.with_user(self.agent).webcare_reply(REPLY_TEXT, private=True)
        self.assertEqual(reply.kind, "dm")
        chatter = reply.chatter_message_id
        self.assertEqual(chatter.subtype_id, self.env.ref(DM_SUBTYPE))
        self.assertIn(REPLY_TEXT, str(chatter.body))
        with self.assertRaises(AccessError):
            chatter.with_user(self.sales).read(["body"])
        self.assertFalse(self.fetch_chatter(ticket, self.sales) & chatter)
        self.assertFalse(
            self.Message.with_user(self.sales).search([("id", "=", reply.id)])
        )
        self.assertIn(chatter, self.fetch_chatter(ticket, self.agent))
        self.assertEqual(reply.with_user(self.agent).body, REPLY_TEXT)
        # a public reply stays readable for the follower
        public = ticket.with_user(self.agent).webcare_reply("We zoeken het uit")
        self.assertIn(public.chatter_message_id, self.fetch_chatter(ticket, self.sales))

    def test_dm_is_not_mailed_to_followers(self):
        ticket = self.post.ticket_id
        self.anna.email = "anna@example.nl"
        for user in (self.sales, self.agent):
            user.notification_type = "email"
        ticket.message_subscribe(
            partner_ids=(self.sales.partner_id | self.agent.partner_id | self.anna).ids
        )
        # someone who follows every subtype, the hidden DM one included
        subtypes = self.env["mail.message.subtype"].search(
            [("res_model", "in", (False, "helpdesk.ticket"))]
        )
        self.assertIn(self.env.ref(DM_SUBTYPE), subtypes)
        self.manager.notification_type = "email"
        ticket.message_subscribe(
            partner_ids=self.manager.partner_id.ids, subtype_ids=subtypes.ids
        )
        mailing = {
            "tracking_disable": False,
            "mail_create_nosubscribe": False,
            "mail_notify_force_send": False,
        }
        # a plain message does reach the followers by e-mail (the control)
        control = ticket.with_context(**mailing).message_post(
            body="Update over uw koffer",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertTrue(control.notification_ids)
        self.assertTrue(
            self.env["mail.mail"].search([("mail_message_id", "=", control.id)])
        )
        # a new DM and our private answer
        self.standin.add_dm(ANNA_ID, STRANGER_DM)
        self.channel.with_context(**mailing).action_fetch()
        ticket.with_user(self.agent).with_context(**mailing).webcare_reply(
            REPLY_TEXT, private=True
        )
        chatter = dm_chatter(ticket)
        self.assertEqual(len(chatter), 3)  # the first DM, the new one, the reply
        self.assertFalse(chatter.notification_ids)
        self.assertFalse(chatter.partner_ids)
        Mail = self.env["mail.mail"]
        self.assertFalse(Mail.search([("mail_message_id", "in", chatter.ids)]))
        for word in ("NL91ABNA", "KZ4RT7", "06-87654321"):
            self.assertFalse(Mail.search([("body_html", "ilike", word)]), word)

    # ------------------------------------------------------------------
    # another company
    # ------------------------------------------------------------------

    def dm_of_company_be(self):
        """A DM Anna sent to the Belgian channel, processed into its ticket."""
        message = self.Message.create(
            {
                "channel_id": self.channel_be.id,
                "external_id": "be-dm-1",
                "kind": "dm",
                "author_external_id": ANNA_ID,
                "author_handle": "AnnaWC",
                "author_name": "Anna de Vries",
                "body": "Belgische DM: rekening BE71096123456769",
                "posted_at": self.dm.posted_at,
                "conversation_ref": f"dm:{ANNA_ID}",
                "payload": json.dumps({"text": "BE71096123456769"}),
            }
        )
        message._process()
        self.assertEqual(message.state, "ticketed", message.error)
        return message

    def test_agent_of_another_company_reads_none_of_it(self):
        ticket = self.dm.ticket_id
        chatter = dm_chatter(ticket)
        agent_be = self.agent_be
        self.assertFalse(
            self.Message.with_user(agent_be).search(
                [("id", "in", (self.dm | self.post).ids)]
            )
        )
        records = (self.dm, self.post, chatter, ticket, self.dm.evidence_ids[:1])
        for record in records:
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_user(agent_be).read(["display_name"])
        with self.assertRaises(AccessError):
            self.dm.with_user(agent_be).read(["payload"])
        Mail = self.env["mail.message"].with_user(agent_be)
        self.assertFalse(Mail.search([("body", "ilike", "KZ4RT7")]))
        events = self.anna.with_user(agent_be).webcare_timeline()
        self.assertNotIn("KZ4RT7", json.dumps(events))
        (result,) = (
            self.env["res.partner"].with_user(agent_be).webcare_lookup("@AnnaWC")
        )
        self.assertNotIn("KZ4RT7", json.dumps(result))
        self.assertFalse(result["open_tickets"])

    def test_each_company_reads_its_own_dms(self):
        own = self.dm_of_company_be()
        own_chatter = dm_chatter(own.ticket_id)
        self.assertEqual(own.ticket_id.company_id, self.company_be)
        # the Belgian agent reads their company's DM, payload and chatter
        mine = own.with_user(self.agent_be)
        self.assertEqual(mine.body, "Belgische DM: rekening BE71096123456769")
        self.assertIn("BE71096123456769", mine.payload)
        self.assertIn(own_chatter, self.fetch_chatter(own.ticket_id, self.agent_be))
        self.assertIn(
            "BE71096123456769",
            json.dumps(self.anna.with_user(self.agent_be).webcare_timeline()),
        )
        # and the Dutch agent none of it
        with self.assertRaises(AccessError):
            own.with_user(self.agent).read(["body"])
        with self.assertRaises(AccessError):
            own_chatter.with_user(self.agent).read(["body"])
        self.assertFalse(
            self.env["mail.message"]
            .with_user(self.agent)
            .search([("body", "ilike", "BE71096")])
        )
        self.assertNotIn(
            "BE71096", json.dumps(self.anna.with_user(self.agent).webcare_timeline())
        )

    # ------------------------------------------------------------------
    # raw bodies: webhook deliveries and file imports
    # ------------------------------------------------------------------

    def webhook_delivery(self):
        hook = self.env["webcare.channel"].create(
            {
                "name": "Listening tool",
                "provider": "webhook",
                "webhook_secret": WEBHOOK_SECRET,
                "team_id": self.team.id,
                "state": "connected",
            }
        )
        body = json.dumps(
            {
                "items": [
                    {
                        "id": "w-dm-1",
                        "kind": "dm",
                        "text": DM_TEXT,
                        "time": "2025-11-18T08:55:00+01:00",
                        "author": {"id": "u-anna", "handle": "@AnnaWH", "network": "x"},
                    }
                ]
            }
        ).encode()
        stamp = str(int(time.time()))
        headers = {
            "webhook-id": "msg_dm_1",
            "webhook-timestamp": stamp,
            "webhook-signature": sign(WEBHOOK_SECRET, "msg_dm_1", stamp, body),
        }
        Delivery = self.env["webcare.webhook.delivery"]
        status, _answer = Delivery._receive(hook, headers, body)
        self.assertEqual(status, 202)
        return Delivery.search([("channel_id", "=", hook.id)])

    def file_import(self):
        csv = (
            "Message ID;Sender Screen Name;Message;Created Time;Message Type\n"
            f"f1;anna_dv;{DM_TEXT};18/11/2026 09:15;Twitter Direct Message\n"
        )
        record = self.env["webcare.file.import"].create(
            {
                "channel_id": self.channel.id,
                "file": base64.b64encode(csv.encode()),
                "file_name": "export.csv",
                "tz": "Europe/Amsterdam",
            }
        )
        record.action_read_file()
        record.action_import()
        record._cron_run()
        self.assertEqual(record.state, "done", record.error)
        return record

    def test_raw_bodies_are_for_webcare_managers_of_the_company(self):
        delivery = self.webhook_delivery()
        imported = self.file_import()
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "webcare.file.import"),
                ("res_id", "=", imported.id),
                ("res_field", "=", "file"),
            ]
        )
        column = imported.column_ids.filtered(lambda c: c.name == "Message")
        self.assertIn(DM_TEXT, delivery.body)
        self.assertIn(DM_TEXT, base64.b64decode(attachment.datas).decode())
        self.assertIn("KZ4RT7", column.sample)  # the mapping shows an example
        for user in (self.sales, self.pbx, self.portal, self.agent, self.manager_be):
            for record, field in (
                (delivery, "body"),
                (imported, "file"),
                (attachment, "datas"),
                (column, "sample"),
            ):
                with (
                    self.subTest(user=user.login, model=record._name),
                    self.assertRaises(AccessError),
                ):
                    record.with_user(user).read([field])
        # nor the DMs they brought in
        messages = delivery.message_ids | imported.message_ids
        self.assertEqual(set(messages.mapped("kind")), {"dm"})
        self.assertFalse(
            self.Message.with_user(self.sales).search([("id", "in", messages.ids)])
        )
        # the company's Webcare manager does read them
        self.assertIn(DM_TEXT, delivery.with_user(self.manager).body)
        self.assertTrue(imported.with_user(self.manager).file)


@tagged("post_install", "-at_install")
class TestDirectMessageChatterRoute(HttpCase):
    """The chatter route of the web client leaves a DM out for sales."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_users(cls)
        team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Webcare", "user_ids": [Command.link(cls.agent.id)]}
        )
        channel = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir on X",
                "team_id": team.id,
                "account_handle": "PolderAir",
            }
        )
        cls.dm = cls.env["webcare.message"].create(
            {
                "channel_id": channel.id,
                "external_id": "dm-route-1",
                "kind": "dm",
                "author_external_id": "42",
                "author_handle": "routetester",
                "body": DM_TEXT,
                "conversation_ref": "dm:42",
            }
        )
        cls.dm._process()
        cls.ticket = cls.dm.ticket_id
        cls.ticket.message_subscribe(partner_ids=cls.sales.partner_id.ids)
        cls.chatter = dm_chatter(cls.ticket)

    def fetch_as(self, login):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            "/mail/thread/messages",
            {"thread_model": "helpdesk.ticket", "thread_id": self.ticket.id},
        )

    def test_route_leaves_the_dm_out_for_sales(self):
        self.assertEqual(len(self.chatter), 1)
        answer = self.fetch_as("wc_sales")
        self.assertNotIn(self.chatter.id, answer["messages"])
        self.assertNotIn("KZ4RT7", json.dumps(answer))
        answer = self.fetch_as("wc_agent")
        self.assertIn(self.chatter.id, answer["messages"])
        self.assertIn("KZ4RT7", json.dumps(answer))
