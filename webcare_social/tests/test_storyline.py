"""One storyline: from a public post to a DM, in one ticket."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common_x import ANNA_ID, STRANGER_ID, XChannelCase


@tagged("post_install", "-at_install")
class TestStoryline(XChannelCase):
    def setUp(self):
        super().setUp()
        self.first = self.mention(ANNA_ID, "mijn koffer is kwijt na KL1234")
        self.ticket = self.fetch().ticket_id

    def dm(self, author_id, text):
        event = self.standin.add_dm(author_id, text)
        self.fetch()
        return self.message(event["id"])

    def close(self, days_ago):
        self.ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.ticket.closed_date = fields.Datetime.now() - timedelta(days=days_ago)

    def test_dm_joins_the_authors_public_ticket(self):
        dm = self.dm(ANNA_ID, "Mijn boekingscode is KZ4RT7")
        self.assertEqual(dm.state, "ticketed")
        self.assertEqual(dm.ticket_id, self.ticket)
        self.assertEqual(
            self.env["helpdesk.ticket"].search_count(
                [("webcare_identity_id", "=", self.anna_identity.id)]
            ),
            1,
        )
        self.assertIn(
            "Mijn boekingscode is KZ4RT7", str(self.ticket.message_ids.mapped("body"))
        )
        # and the next DM of that conversation follows
        self.assertEqual(self.dm(ANNA_ID, "Nog nieuws?").ticket_id, self.ticket)

    def test_post_and_dm_read_at_once_make_one_ticket(self):
        self.standin.add_tweet(STRANGER_ID, "@PolderAir vlucht geannuleerd?!")
        event = self.standin.add_dm(STRANGER_ID, "Hier mijn boekingscode: QW12ER")
        messages = self.fetch()
        post = messages.filtered(lambda m: m.author_external_id == STRANGER_ID)
        self.assertEqual(len(post), 2)
        self.assertEqual(len(post.ticket_id), 1)
        self.assertEqual(self.message(event["id"]).ticket_id, post.ticket_id)

    def test_public_post_saying_a_dm_was_sent_stays_in_the_story(self):
        post = self.mention(ANNA_ID, "ik heb jullie een DM gestuurd")
        english = self.mention(ANNA_ID, "check your DMs please")
        self.fetch()
        self.assertEqual(self.message(post["id"]).ticket_id, self.ticket)
        self.assertEqual(self.message(english["id"]).ticket_id, self.ticket)

    def test_new_public_post_about_something_else_opens_a_ticket(self):
        other = self.mention(ANNA_ID, "stoelreservering werkt niet")
        self.fetch()
        self.assertNotEqual(self.message(other["id"]).ticket_id, self.ticket)

    def test_dm_of_another_author_does_not_join(self):
        dm = self.dm(STRANGER_ID, "Hallo, ik heb een vraag")
        self.assertTrue(dm.ticket_id)
        self.assertNotEqual(dm.ticket_id, self.ticket)

    def test_storyline_off_keeps_separate_tickets(self):
        self.channel.storyline_dm = False
        dm = self.dm(ANNA_ID, "Mijn boekingscode is KZ4RT7")
        post = self.mention(ANNA_ID, "ik heb jullie een DM gestuurd")
        self.fetch()
        self.assertTrue(dm.ticket_id)
        self.assertNotEqual(dm.ticket_id, self.ticket)
        self.assertNotIn(self.message(post["id"]).ticket_id, self.ticket | dm.ticket_id)

    def test_dm_reopens_a_ticket_closed_within_the_reopen_window(self):
        self.close(days_ago=2)
        dm = self.dm(ANNA_ID, "Het is toch niet opgelost")
        self.assertEqual(dm.ticket_id, self.ticket)
        self.assertFalse(self.ticket.closed)
        self.assertIn("Reopened", str(self.ticket.message_ids.mapped("body")))

    def test_dm_after_the_reopen_window_opens_a_new_ticket(self):
        self.close(days_ago=10)
        dm = self.dm(ANNA_ID, "Weer een probleem")
        self.assertTrue(dm.ticket_id)
        self.assertNotEqual(dm.ticket_id, self.ticket)
        self.assertTrue(self.ticket.closed)
        self.assertFalse(dm.ticket_id.closed)

    def test_dm_joins_the_authors_latest_ticket(self):
        self.close(days_ago=10)
        newer = self.mention(ANNA_ID, "andere vlucht, zelfde probleem")
        self.fetch()
        current = self.message(newer["id"]).ticket_id
        self.assertNotEqual(current, self.ticket)
        self.assertEqual(self.dm(ANNA_ID, "Boekingscode ZZ99YY").ticket_id, current)

    def test_dm_joins_an_open_ticket_over_a_newer_one_closed_long_ago(self):
        newer = self.mention(ANNA_ID, "andere vraag over mijn stoel")
        self.fetch()
        closed = self.message(newer["id"]).ticket_id
        self.assertNotEqual(closed, self.ticket)
        closed.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        closed.closed_date = fields.Datetime.now() - timedelta(days=10)
        self.assertEqual(self.dm(ANNA_ID, "Boekingscode ZZ99YY").ticket_id, self.ticket)
