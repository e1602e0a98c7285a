from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .x_standin import XApiStandin

ACCOUNT_ID = "1500000000000000001"
TESS_ID = "1690000000000000078"
# what the tour types, then the emoji it picks (the counter shows 57, then 59)
TYPED = (
    "Hoi Tess, status: "
    "https://polderair.example/bagage/status/PA872-koffer-vertraagd en we bellen je"
)
SUITCASE = "\U0001f9f3"


class ReplyTourCase(HttpCase):
    """Tess's Dutch tweet became a ticket of Paula's team."""

    def setUp(self):
        super().setUp()
        self.agent = new_test_user(
            self.env,
            login="tour_reply_agent",
            name="Paula Phone",
            groups="webcare_social.group_webcare_agent",
        )
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Webcare tour", "user_ids": [(4, self.agent.id)]}
        )
        tess = self.env["res.partner"].create({"name": "Tess Tour"})
        self.env["webcare.identity"].create(
            {
                "network": "x",
                "handle": "TessTour",
                "external_id": TESS_ID,
                "partner_id": tess.id,
            }
        )
        self.standin = XApiStandin().start()
        self.addCleanup(self.standin.stop)
        self.standin.add_user(TESS_ID, "TessTour", "Tess Tour", 321)
        self.tweet = self.standin.add_tweet(
            TESS_ID,
            "@PolderAir mijn koffer is niet aangekomen",
            lang="nl",
            created_at=fields.Datetime.now() - timedelta(minutes=20),
        )
        self.channel = self.env["webcare.channel"].create(
            {
                "name": "Tour X",
                "api_base_url": self.standin.base_url,
                "bearer_token": self.standin.bearer_token,
                "account_external_id": ACCOUNT_ID,
                "account_handle": "PolderAir",
                "state": "connected",
                "team_id": team.id,
            }
        )
        self.channel.action_fetch()
        self.ticket = self.channel.webcare_message_ids.ticket_id
        self.assertEqual(self.ticket.webcare_lang, "nl")


@tagged("post_install", "-at_install")
class TestReplyTours(ReplyTourCase):
    """An agent answers a customer's tweet from the ticket, in a real browser."""

    def test_agent_replies_with_canned_reply_link_and_emoji(self):
        self.start_tour(
            "/odoo/social-tickets", "webcare_social_reply", login=self.agent.login
        )
        reply = self.ticket.webcare_message_ids.filtered(
            lambda m: m.direction == "outbound"
        )
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.body, TYPED + SUITCASE)
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(reply.kind, "reply")
        self.assertEqual(reply.parent_ref, self.tweet["id"])
        self.assertEqual(reply.author_user_id, self.agent)
        self.assertTrue(reply.idempotency_key)
        # the browser counted what the server counts
        composer = self.env["webcare.reply.composer"].create(
            {"ticket_id": self.ticket.id, "body": TYPED + SUITCASE}
        )
        self.assertEqual(composer.char_count, 59)
        canned = self.env.ref("webcare_social.canned_reply_nl_dm")
        rendered = canned._render(self.ticket, self.agent)
        composer.body = rendered
        self.assertEqual(composer.char_count, 146)


@tagged("post_install", "-at_install")
class TestApprovalTours(ReplyTourCase):
    """A reply to a press ticket waits; a manager edits and approves it."""

    def test_agent_sees_the_wait_then_a_manager_approves(self):
        press = self.env["helpdesk.ticket.tag"].create({"name": "Pers"})
        self.channel.approval_tag_ids = press
        self.ticket.tag_ids = press
        manager = new_test_user(
            self.env,
            login="tour_reply_manager",
            name="Mira Manager",
            groups="webcare_social.group_webcare_manager",
        )
        self.ticket.team_id.user_ids = [(4, manager.id)]

        self.start_tour(
            "/odoo/social-tickets", "webcare_social_reply_waits", login=self.agent.login
        )
        reply = self.ticket.webcare_message_ids.filtered(
            lambda m: m.direction == "outbound"
        )
        self.assertEqual(reply.state, "to_approve")
        self.assertEqual(reply.body, "Hoi Tess, we zoeken je koffer op.")

        self.start_tour(
            "/odoo/webcare-approvals", "webcare_social_approve", login=manager.login
        )
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(
            reply.body, "Hoi Tess, je koffer komt vanavond met de koerier."
        )
        self.assertEqual(reply.approved_by_id, manager)
        self.assertTrue(reply.approved_at)
        self.assertFalse(self.standin.posted)  # the queue sends it, after commit
        reply._cron_send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertIn("met de koerier", self.standin.posted[0]["text"])
        self.assertEqual(
            self.standin.posted[0]["in_reply_to_tweet_id"], self.tweet["id"]
        )
