from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common_x import ANNA_ID, STRANGER_ID, WebcareTeamCase


@tagged("post_install", "-at_install")
class TestReplyComposer(WebcareTeamCase):
    """The agent's reply composer on a social ticket imported from X."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent.name = "Paula van Dijk"

    def setUp(self):
        super().setUp()
        self.tweet = self.mention(ANNA_ID, "mijn koffer is kwijt na PA872", lang="nl")
        self.ticket = self.fetch().ticket_id
        self.ticket.user_id = self.agent

    def composer(self, ticket=None, **values):
        """Open the composer as the agent does (Reply button), fill ``values``."""
        ticket = ticket or self.ticket
        form = Form(
            self.env["webcare.reply.composer"]
            .with_user(self.agent)
            .with_context(active_model="helpdesk.ticket", active_id=ticket.id)
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def replies(self, ticket=None):
        return (ticket or self.ticket).webcare_message_ids.filtered(
            lambda m: m.direction == "outbound"
        )

    def test_opens_on_the_ticket_in_its_language(self):
        composer = self.composer(body="Hoi Anna")
        self.assertEqual(composer.ticket_id, self.ticket)
        self.assertEqual(composer.network, "x")
        self.assertEqual(composer.mode, "public")
        self.assertEqual(composer.lang, "nl")
        self.assertEqual(composer.customer, "Anna de Vries (@AnnaWC)")
        self.assertEqual(len(composer.idempotency_key), 32)
        self.assertFalse(composer.warning)

    def test_each_opening_makes_its_own_key(self):
        Composer = self.env["webcare.reply.composer"].with_user(self.agent)
        keys = {
            Composer.default_get(["idempotency_key"])["idempotency_key"] for _ in "ab"
        }
        self.assertEqual(len(keys), 2)
        composer = Composer.create(
            {"ticket_id": self.ticket.id, "body": "Hoi", "idempotency_key": "k-1"}
        )
        self.assertEqual(composer.idempotency_key, "k-1")

    def test_canned_replies_offered_in_language_and_channel(self):
        Canned = self.env["webcare.canned.reply"]
        other_channel = self.env["webcare.channel"].create({"name": "Other"})
        elsewhere = Canned.create(
            {
                "name": "Elders",
                "body": "x",
                "lang": "nl",
                "channel_ids": other_channel.ids,
            }
        )
        here = Canned.create(
            {"name": "Hier", "body": "y", "lang": "nl", "channel_ids": self.channel.ids}
        )
        composer = self.composer(body="Hoi Anna")
        domain_text = composer._fields["canned_reply_id"].domain

        def offered(lang):
            domain = safe_eval(
                domain_text, {"lang": lang, "channel_id": composer.channel_id.id}
            )
            return Canned.with_user(self.agent).search(domain)

        dutch = offered("nl")
        self.assertIn(self.env.ref("webcare_social.canned_reply_nl_dm"), dutch)
        self.assertIn(here, dutch)
        self.assertNotIn(elsewhere, dutch)
        self.assertNotIn(self.env.ref("webcare_social.canned_reply_en_dm"), dutch)
        self.assertIn(self.env.ref("webcare_social.canned_reply_en_dm"), offered(False))

    def test_canned_reply_fills_the_body_for_this_ticket(self):
        canned = self.env.ref("webcare_social.canned_reply_nl_dm")
        composer = self.composer(canned_reply_id=canned)
        self.assertTrue(composer.body.startswith("Hoi Anna, wat vervelend!"))
        self.assertTrue(composer.body.endswith("Groet, Paula"))
        self.assertEqual(composer.char_count, len(composer.body))
        self.assertEqual(composer.char_limit, 280)

    def test_send_queues_public_reply_with_the_key(self):
        composer = self.composer(body="Hoi Anna, we zoeken het uit \U0001f9f3")
        action = composer.action_send()
        reply = self.replies()
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(reply.kind, "reply")
        self.assertEqual(reply.body, "Hoi Anna, we zoeken het uit \U0001f9f3")
        self.assertEqual(reply.parent_ref, self.tweet["id"])
        self.assertEqual(reply.idempotency_key, composer.idempotency_key)
        self.assertEqual(reply.author_user_id, self.agent)
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(
            action["params"]["next"]["type"], "ir.actions.act_window_close"
        )
        chatter = self.ticket.message_ids.filtered(
            lambda m: "we zoeken het uit" in str(m.body)
        )
        self.assertEqual(len(chatter), 1)

    def test_second_send_with_the_same_key_queues_nothing_more(self):
        composer = self.composer(body="Hoi Anna, even geduld")
        composer.action_send()
        composer.action_send()
        again = self.composer(body="Hoi Anna, even geduld")
        again.idempotency_key = composer.idempotency_key
        again.action_send()
        self.assertEqual(len(self.replies()), 1)
        self.assertEqual(
            self.env["webcare.message"].search_count(
                [("idempotency_key", "=", composer.idempotency_key)]
            ),
            1,
        )

    def test_two_composers_are_two_replies(self):
        self.composer(body="Eerste antwoord").action_send()
        self.composer(body="Tweede antwoord").action_send()
        self.assertEqual(len(self.replies()), 2)

    def test_over_the_limit_is_refused(self):
        composer = self.composer(body="a" * 281)
        self.assertEqual(composer.char_count, 281)
        self.assertIn("Too long for X: 281 / 280", composer.warning)
        with self.assertRaisesRegex(UserError, "281 / 280"):
            composer.action_send()
        self.assertFalse(self.replies())

    def test_a_private_message_may_be_longer(self):
        composer = self.composer(mode="private", body="a" * 600)
        self.assertEqual((composer.char_count, composer.char_limit), (600, 10000))
        self.assertFalse(composer.warning)
        composer.action_send()
        self.assertEqual(self.replies().kind, "dm")

    def test_exactly_the_limit_with_a_long_link_is_sent(self):
        body = "a" * 256 + " https://polderair.example/" + "p" * 200
        composer = self.composer(body=body)
        self.assertEqual(composer.char_count, 280)
        self.assertFalse(composer.warning)
        composer.action_send()
        self.assertEqual(self.replies().body, body)

    def test_empty_reply_is_refused(self):
        composer = self.composer(body="   ")
        with self.assertRaisesRegex(UserError, "Write a message first"):
            composer.action_send()

    def test_dm_ticket_is_answered_privately(self):
        self.standin.add_dm(STRANGER_ID, "Hier mijn boekingscode: PQ7XZ2")
        dm_ticket = self.fetch().filtered(lambda m: m.kind == "dm").ticket_id
        self.assertNotEqual(dm_ticket, self.ticket)
        composer = self.composer(ticket=dm_ticket, body="Dank je, we kijken het na")
        self.assertEqual(composer.mode, "private")
        self.assertFalse(composer.warning)
        composer.mode = "public"
        self.assertIn("no public post", composer.warning)
        with self.assertRaisesRegex(UserError, "no public post"):
            composer.action_send()
        self.assertFalse(self.replies(dm_ticket))
        composer.mode = "private"
        composer.action_send()
        reply = self.replies(dm_ticket)
        self.assertEqual((reply.kind, reply.recipient_ref), ("dm", STRANGER_ID))

    def test_private_message_on_a_public_ticket(self):
        composer = self.composer(mode="private", body="Stuur ons je nummer?")
        self.assertFalse(composer.warning)
        composer.action_send()
        reply = self.replies()
        self.assertEqual((reply.kind, reply.recipient_ref), ("dm", ANNA_ID))

    def test_sensitive_ticket_waits_for_approval(self):
        self.channel.approval_followers = 500  # Anna has 812 followers
        composer = self.composer(body="Hoi Anna, sorry!")
        self.assertTrue(composer.needs_approval)
        action = composer.action_send()
        self.assertEqual(self.replies().state, "to_approve")
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("approval", action["params"]["message"])

    def test_reply_reaches_the_x_standin_as_an_answer(self):
        self.composer(body="Hoi Anna, je koffer is gevonden!").action_send()
        self.env["webcare.message"]._cron_send()
        self.assertEqual(self.replies().state, "sent")
        posted = self.standin.posted[-1]
        self.assertEqual(posted["text"], "Hoi Anna, je koffer is gevonden!")
        self.assertEqual(posted["in_reply_to_tweet_id"], self.tweet["id"])
