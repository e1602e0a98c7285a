"""The unified timeline of a contact, and the recognition banner."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import create_users
from .common_x import ACCOUNT_ID, ANNA_ID, WebcareTeamCase, XChannelCase

EVENT_KEYS = {
    "date",
    "kind",
    "channel",
    "direction",
    "summary",
    "res_model",
    "res_id",
    "url",
}


def ago(days=0, hours=0):
    return fields.Datetime.now().replace(microsecond=0) - timedelta(
        days=days, hours=hours
    )


@tagged("post_install", "-at_install")
class TestTimeline(WebcareTeamCase):
    """Anna's story: a post, our reply, her reply, a DM, a note, an e-mail, calls.

    The DM keeps a ticket of its own (storyline off) so every kind of event
    shows, two tickets included.
    """

    def setUp(self):
        super().setUp()
        self.channel.storyline_dm = False
        post = self.mention(ANNA_ID, "waar is mijn koffer", created_at=ago(days=3))
        self.standin.add_tweet(
            ACCOUNT_ID,
            "@AnnaWC we zoeken het uit",
            in_reply_to=post["id"],
            in_mentions=True,
            created_at=ago(days=3, hours=-1),
        )
        self.standin.add_tweet(
            ANNA_ID,
            "@PolderAir nog steeds niks",
            in_reply_to=post["id"],
            created_at=ago(days=2),
        )
        self.standin.add_dm(
            ANNA_ID, "Mijn boekingscode is KZ4RT7", created_at=ago(days=1)
        )
        self.messages = self.fetch()
        self.post_ticket = self.message(post["id"]).ticket_id
        self.dm_ticket = self.messages.filtered(lambda m: m.kind == "dm").ticket_id
        self.anna.message_post(
            body="Belde over haar stoel",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        self.post_ticket.message_post(
            body="Ik heb nog steeds niks gehoord",
            message_type="email",
            author_id=self.anna.id,
            subtype_xmlid="mail.mt_comment",
        )
        self.post_ticket.stage_id = self.env.ref(
            "helpdesk_mgmt.helpdesk_ticket_stage_done"
        )
        self.call = self.env["webcare.call"].create(
            {"partner_id": self.anna.id, "note": "Teruggebeld", "duration": 125}
        )

    def timeline(self, partner=None, user=None, **kwargs):
        partner = partner or self.anna
        return partner.with_user(user or self.agent).webcare_timeline(**kwargs)

    def test_every_kind_of_event(self):
        events = self.timeline()
        kinds = sorted(e["kind"] for e in events)
        self.assertEqual(
            kinds,
            ["call", "dm", "email", "note", "post", "post", "post",
             "ticket_closed", "ticket_opened", "ticket_opened"],
        )  # fmt: skip
        for event in events:
            self.assertLessEqual(EVENT_KEYS, set(event), event)
        dates = [e["date"] for e in events]
        self.assertEqual(dates, sorted(dates, reverse=True))

    def test_events_say_what_happened(self):
        events = {(e["kind"], e["summary"]): e for e in self.timeline()}
        post = events["post", "@PolderAir waar is mijn koffer"]
        self.assertEqual((post["channel"], post["direction"]), ("x", "inbound"))
        self.assertEqual(post["res_model"], "webcare.message")
        self.assertTrue(post["url"].startswith("https://x.com/AnnaWC/status/"))
        self.assertEqual(post["ticket_number"], self.post_ticket.number)
        self.assertEqual(post["title"], "Post on X")
        reply = events["post", "@AnnaWC we zoeken het uit"]
        self.assertEqual(
            (reply["direction"], reply["title"]), ("outbound", "Our reply on X")
        )
        dm = events["dm", "Mijn boekingscode is KZ4RT7"]
        self.assertEqual(
            (dm["channel"], dm["redacted"], dm["title"]), ("x", False, "DM on X")
        )
        self.assertEqual(dm["ticket_id"], self.dm_ticket.id)
        note = events["note", "Belde over haar stoel"]
        self.assertEqual(
            (note["channel"], note["res_model"], note["res_id"]),
            ("note", "res.partner", self.anna.id),
        )
        email = events["email", "Ik heb nog steeds niks gehoord"]
        self.assertEqual(
            (email["direction"], email["res_model"], email["ticket_id"]),
            ("inbound", "helpdesk.ticket", self.post_ticket.id),
        )
        self.assertEqual(email["title"], "E-mail received")
        call = events["call", "Teruggebeld"]
        self.assertEqual((call["channel"], call["res_id"]), ("phone", self.call.id))
        self.assertEqual(call["title"], "Inbound call · 2:05")

    def test_tickets_opened_when_posted_and_closed(self):
        events = [e for e in self.timeline() if e["channel"] == "helpdesk"]
        opened = {e["res_id"]: e for e in events if e["kind"] == "ticket_opened"}
        self.assertEqual(set(opened), {self.post_ticket.id, self.dm_ticket.id})
        self.assertEqual(
            opened[self.post_ticket.id]["date"],
            fields.Datetime.to_string(self.post_ticket.webcare_posted_at),
        )
        self.assertEqual(opened[self.post_ticket.id]["summary"], self.post_ticket.name)
        self.assertEqual(
            opened[self.post_ticket.id]["title"],
            f"Ticket {self.post_ticket.number} opened",
        )
        (closed,) = [e for e in events if e["kind"] == "ticket_closed"]
        self.assertEqual(closed["res_id"], self.post_ticket.id)
        self.assertEqual(closed["url"], f"/odoo/helpdesk.ticket/{self.post_ticket.id}")

    def test_posts_appended_to_a_ticket_are_shown_once(self):
        events = self.timeline()
        texts = [e["summary"] for e in events]
        self.assertEqual(texts.count("@PolderAir nog steeds niks"), 1)
        appended = next(
            e for e in events if e["summary"] == "@PolderAir nog steeds niks"
        )
        self.assertEqual(appended["kind"], "post")

    def test_filter_per_channel(self):
        cases = {
            ("x",): ["dm", "post", "post", "post"],
            ("helpdesk",): ["ticket_closed", "ticket_opened", "ticket_opened"],
            ("note",): ["note"],
            ("email", "phone"): ["call", "email"],
        }
        for channels, kinds in cases.items():
            with self.subTest(channels=channels):
                events = self.timeline(channels=list(channels))
                self.assertEqual(sorted(e["kind"] for e in events), kinds)

    def test_filter_per_period(self):
        self.env["webcare.call"].create(
            {
                "partner_id": self.anna.id,
                "note": "Lang geleden",
                "started_at": ago(days=40),
            }
        )
        summaries = [e["summary"] for e in self.timeline()]
        self.assertIn("Lang geleden", summaries)
        page = self.anna.with_user(self.agent).webcare_timeline_page(period="30d")
        summaries = [e["summary"] for e in page["events"]]
        self.assertNotIn("Lang geleden", summaries)
        self.assertIn("Teruggebeld", summaries)
        recent = self.timeline(date_from=ago(days=1, hours=1))
        self.assertEqual(
            sorted(e["kind"] for e in recent),
            ["call", "dm", "email", "note", "ticket_closed", "ticket_opened"],
        )
        older = self.timeline(date_to=ago(days=1, hours=1))
        self.assertEqual(len(older) + len(recent), len(self.timeline()))

    def test_page_by_page(self):
        everything = self.timeline()
        pages = []
        for offset in range(0, len(everything) + 3, 3):
            pages += self.timeline(limit=3, offset=offset)
        self.assertEqual([e["id"] for e in pages], [e["id"] for e in everything])
        first = self.anna.with_user(self.agent).webcare_timeline_page(limit=4)
        self.assertEqual(len(first["events"]), 4)
        self.assertTrue(first["has_more"])
        last = self.anna.with_user(self.agent).webcare_timeline_page(
            limit=4, offset=len(everything) - 2
        )
        self.assertEqual(len(last["events"]), 2)
        self.assertFalse(last["has_more"])
        codes = [c["code"] for c in first["channels"]]
        self.assertEqual(codes, ["x", "helpdesk", "email", "note", "phone"])

    def test_company_timeline_includes_its_contacts(self):
        company = self.env["res.partner"].create(
            {"name": "Reisbureau Zon", "is_company": True}
        )
        colleague = self.env["res.partner"].create(
            {"name": "Kees Zon", "parent_id": company.id}
        )
        self.anna.parent_id = company
        self.env["webcare.call"].create(
            {"partner_id": colleague.id, "note": "Kees belde"}
        )
        company_summaries = [e["summary"] for e in self.timeline(company)]
        self.assertIn("Kees belde", company_summaries)
        self.assertIn("@PolderAir waar is mijn koffer", company_summaries)
        anna_summaries = [e["summary"] for e in self.timeline()]
        self.assertNotIn("Kees belde", anna_summaries)
        kees = [e["summary"] for e in self.timeline(colleague)]
        self.assertEqual(kees, ["Kees belde"])

    def test_failed_and_ignored_messages_stay_out(self):
        self.channel.exclude_keywords = "giveaway"
        self.mention(ANNA_ID, "win a giveaway")
        self.fetch()
        summaries = [e["summary"] for e in self.timeline()]
        self.assertNotIn("@PolderAir win a giveaway", summaries)

    def test_other_contacts_events_stay_out(self):
        self.assertEqual(
            self.timeline(self.env["res.partner"].create({"name": "Leeg"})), []
        )


@tagged("post_install", "-at_install")
class TestBanner(XChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_users(cls)

    def test_latest_post_and_open_ticket(self):
        self.mention(ANNA_ID, "waar is mijn koffer", created_at=ago(hours=2))
        ticket = self.fetch().ticket_id
        expected = (
            f"Posted on X 2 hours ago: “waar is mijn koffer” — {ticket.number} open"
        )
        self.assertEqual(self.anna.webcare_banner, expected)
        self.assertEqual(ticket.webcare_banner, expected)

    def test_banner_on_every_ticket_of_the_contact(self):
        self.mention(ANNA_ID, "waar is mijn koffer", created_at=ago(days=1))
        social = self.fetch().ticket_id
        phone_ticket = self.env["helpdesk.ticket"].create(
            {"name": "Belde", "description": "<p>belde</p>", "partner_id": self.anna.id}
        )
        self.assertTrue(
            phone_ticket.webcare_banner.startswith("Posted on X 1 day ago:")
        )
        self.assertIn(" — ", phone_ticket.webcare_banner)
        self.assertIn(" and 1 more open", phone_ticket.webcare_banner)
        social.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.env.invalidate_all()
        self.assertTrue(
            phone_ticket.webcare_banner.endswith(f"— {phone_ticket.number} open")
        )

    def test_dm_text_only_for_webcare_users(self):
        self.standin.add_dm(
            ANNA_ID, "mijn nummer is 06 87654321", created_at=ago(hours=3)
        )
        self.fetch()
        banner_agent = self.anna.with_user(self.agent).webcare_banner
        self.assertTrue(
            banner_agent.startswith("Sent a DM on X 3 hours ago: “mijn nummer")
        )
        banner_sales = self.anna.with_user(self.sales).webcare_banner
        self.assertTrue(
            banner_sales.startswith("Sent a DM on X 3 hours ago —"), banner_sales
        )
        self.assertNotIn("06 87654321", banner_sales)

    def test_nothing_recent_no_banner(self):
        self.mention(ANNA_ID, "oud nieuws", created_at=ago(days=45))
        self.fetch()
        self.assertFalse(self.anna.webcare_banner)
        self.assertFalse(
            self.env["res.partner"].create({"name": "Stil"}).webcare_banner
        )
