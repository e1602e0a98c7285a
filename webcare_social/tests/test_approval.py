"""Replies to sensitive tickets wait for a Webcare manager."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common_x import ANNA_ID
from .test_reply_queue import ReplyCase


@tagged("post_install", "-at_install")
class TestApprovalGate(ReplyCase):
    def setUp(self):
        super().setUp()
        self.press = self.env["helpdesk.ticket.tag"].create({"name": "Press"})
        self.channel.approval_tag_ids = self.press

    def test_reply_on_a_tagged_ticket_waits_for_a_manager(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("@AnnaWC We bellen je vandaag nog.")
        self.assertEqual(reply.state, "to_approve")
        self.assertEqual(self.ticket.webcare_replies_waiting, 1)
        self.assertIn("Waiting for a manager", self.chatter_of(reply))
        self.send()
        self.assertEqual(reply.state, "to_approve")
        self.assertFalse(self.standin.posted)
        self.assertFalse(self.ticket.webcare_first_response_at)

    def test_other_tags_need_no_approval(self):
        self.ticket.tag_ids = self.env["helpdesk.ticket.tag"].create({"name": "Bag"})
        self.assertEqual(self.reply("@AnnaWC Komt goed.").state, "outgoing")

    def test_reply_to_an_author_with_a_large_reach_waits(self):
        self.channel.approval_followers = 800  # Anna has 812 followers
        self.assertEqual(self.reply("@AnnaWC Komt goed.").state, "to_approve")
        self.channel.approval_followers = 813
        self.assertEqual(self.reply("@AnnaWC Komt echt goed.").state, "outgoing")
        self.channel.approval_followers = 0  # never
        self.assertEqual(self.reply("@AnnaWC Beloofd.").state, "outgoing")

    def test_a_managers_reply_needs_no_approval(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("@AnnaWC Onze excuses.", user=self.manager)
        self.assertEqual(reply.state, "outgoing")
        self.send()
        self.assertEqual(reply.state, "sent")

    def test_an_agent_cannot_approve(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("@AnnaWC We bellen je.")
        with self.assertRaises(AccessError):
            reply.with_user(self.agent).action_approve()
        with self.assertRaises(AccessError):
            reply.with_user(self.agent).write({"state": "outgoing"})
        # editing the waiting text is fine
        reply.with_user(self.agent).write({"body": "@AnnaWC We bellen je straks."})
        self.send()
        self.assertEqual(reply.state, "to_approve")
        self.assertFalse(self.standin.posted)

    def test_manager_edits_and_approves_then_it_is_sent(self):
        self.ticket.tag_ids = self.press
        self.ticket.user_id = False
        reply = self.reply("@AnnaWC We bellen je.")
        as_manager = reply.with_user(self.manager)
        as_manager.write({"body": "@AnnaWC Onze excuses, we bellen je vandaag."})
        as_manager.action_approve()
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(reply.approved_by_id, self.manager)
        self.assertTrue(reply.approved_at)
        self.assertEqual(self.ticket.webcare_replies_waiting, 0)
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertEqual(
            self.standin.posted[0]["text"],
            "@AnnaWC Onze excuses, we bellen je vandaag.",
        )
        self.assertIn("Onze excuses", self.chatter_of(reply))
        self.assertIn("Sent", self.chatter_of(reply))
        # the agent who wrote it answered the customer
        self.assertEqual(self.ticket.webcare_first_responder_id, self.agent)
        self.assertEqual(self.ticket.user_id, self.agent)

    def test_approving_twice_sends_once(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("@AnnaWC Komt goed.")
        reply.with_user(self.manager).action_approve()
        self.send()
        reply.with_user(self.manager).action_approve()
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertEqual(
            self.standin.posted[0]["in_reply_to_tweet_id"], self.first["id"]
        )

    def test_waiting_dm_goes_to_the_customer_once_approved(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("Mag ik je telefoonnummer?", private=True)
        self.assertEqual(reply.state, "to_approve")
        reply.with_user(self.manager).action_approve()
        self.send()
        self.assertEqual(self.standin.posted[-1]["recipient_id"], ANNA_ID)

    def test_an_agent_cannot_change_an_approved_or_sent_reply(self):
        self.ticket.tag_ids = self.press
        reply = self.reply("@AnnaWC We bellen je.")
        reply.with_user(self.manager).action_approve()
        with self.assertRaises(AccessError):
            reply.with_user(self.agent).write({"body": "@AnnaWC Iets anders."})
        self.send()
        with self.assertRaises(AccessError):
            reply.with_user(self.agent).write({"body": "@AnnaWC Iets anders."})
        self.assertEqual(self.standin.posted[0]["text"], "@AnnaWC We bellen je.")
        # a manager may correct the record
        reply.with_user(self.manager).write({"body": "@AnnaWC We bellen je!"})
