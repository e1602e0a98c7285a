"""Replies from a social ticket: the send queue against the X stand-in."""

import time
from datetime import timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from ..exceptions import ProviderError, ProviderUnavailable
from ..services.x_client import XClient
from .common_x import ANNA_ID, STRANGER_ID, WebcareTeamCase
from .x_standin import DM_NOT_ALLOWED, REPLY_NOT_ALLOWED


class ReplyCase(WebcareTeamCase):
    """A social ticket of Anna's, opened by a mention on the X stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.user_ids = [(4, cls.manager.id)]

    def setUp(self):
        super().setUp()
        self.first = self.mention(ANNA_ID, "mijn koffer is kwijt na KL1234", lang="nl")
        self.ticket = self.fetch().ticket_id
        self.assertEqual(len(self.ticket), 1)
        self.standin.clear_log()

    # helpers ------------------------------------------------------------

    def reply(self, body, user=None, **options):
        """Answer the ticket as ``user`` (the agent by default)."""
        ticket = self.ticket.with_user(user or self.agent)
        return ticket.webcare_reply(body, **options).sudo()

    def send(self):
        """Run the send queue as its cron does (without committing)."""
        self.env["webcare.message"]._cron_send()

    def posts_to(self, path):
        return [
            r for r in self.standin.requests if r.method == "POST" and path in r.path
        ]

    def chatter_of(self, reply):
        return str(reply.chatter_message_id.body)

    def tickets_and_messages(self):
        Message = self.env["webcare.message"]
        return (
            self.env["helpdesk.ticket"].search_count([]),
            Message.search_count([("channel_id", "=", self.channel.id)]),
        )

    @staticmethod
    def epoch(moment):
        return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))


@tagged("post_install", "-at_install")
class TestReplySending(ReplyCase):
    def test_public_reply_answers_the_customers_latest_post(self):
        later = self.standin.add_tweet(
            ANNA_ID, "@PolderAir nog steeds niets", in_reply_to=self.first["id"]
        )
        # someone else in the same conversation is not the customer
        self.standin.add_tweet(
            STRANGER_ID, "@PolderAir @AnnaWC same here", in_reply_to=later["id"]
        )
        self.fetch()
        reply = self.reply("@AnnaWC Wat vervelend! We zoeken het uit. ^LK")
        self.assertEqual(
            (reply.direction, reply.state, reply.kind),
            ("outbound", "outgoing", "reply"),
        )
        self.assertEqual(reply.parent_ref, later["id"])
        self.assertEqual(reply.ticket_id, self.ticket)
        self.assertEqual(reply.author_user_id, self.agent)
        self.assertFalse(
            self.standin.posted, "sent only after the commit, by the queue"
        )
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        posted = self.standin.posted[0]
        self.assertEqual(posted["in_reply_to_tweet_id"], later["id"])
        self.assertEqual(
            posted["text"], "@AnnaWC Wat vervelend! We zoeken het uit. ^LK"
        )
        self.assertEqual(reply.external_id, posted["id"])
        self.assertEqual(reply.url, f"https://x.com/i/web/status/{posted['id']}")
        self.assertTrue(reply.sent_at)
        self.assertEqual(reply.send_attempts, 1)

    def test_sent_reply_is_not_imported_again(self):
        reply = self.reply("@AnnaWC We kijken ernaar.")
        self.send()
        # X lists our reply in the account's mentions timeline (thread reply)
        self.standin.tweets[reply.external_id]["in_mentions"] = True
        before = self.tickets_and_messages()
        self.standin.clear_log()
        self.fetch()
        self.assertTrue(
            [r for r in self.standin.requests if "mentions" in r.path],
            "the import did read the mentions again",
        )
        self.assertEqual(self.tickets_and_messages(), before)
        self.assertEqual(reply.state, "sent")
        self.assertEqual(reply.ticket_id, self.ticket)
        # the customer's answer to our reply continues the same ticket
        answer = self.standin.add_tweet(
            ANNA_ID, "@PolderAir dank je!", in_reply_to=reply.external_id
        )
        self.fetch()
        self.assertEqual(self.message(answer["id"]).ticket_id, self.ticket)

    def test_private_message_goes_to_the_author_and_is_not_imported_again(self):
        reply = self.reply("Stuur je ons je boekingscode?", private=True)
        self.assertEqual((reply.kind, reply.recipient_ref), ("dm", ANNA_ID))
        self.assertFalse(reply.parent_ref)
        self.send()
        self.assertEqual(reply.state, "sent")
        posted = self.standin.posted[-1]
        self.assertEqual((posted["kind"], posted["recipient_id"]), ("dm", ANNA_ID))
        self.assertEqual(reply.external_id, posted["id"])
        self.assertEqual(
            reply.conversation_ref, self.standin.conversation_with(ANNA_ID)
        )
        before = self.tickets_and_messages()
        self.fetch()  # the DM events list our own DM: known, not stored again
        self.assertEqual(self.tickets_and_messages(), before)
        answer = self.standin.add_dm(ANNA_ID, "KZ4RT7")
        self.fetch()
        self.assertEqual(self.message(answer["id"]).ticket_id, self.ticket)

    def test_reply_shows_in_the_chatter_at_once_and_when_sent(self):
        reply = self.reply("@AnnaWC Bedankt voor je geduld!")
        chatter = reply.chatter_message_id
        self.assertIn(chatter, self.ticket.message_ids)
        self.assertEqual(chatter.author_id, self.agent.partner_id)
        self.assertEqual(chatter.message_type, "comment")
        self.assertIn("Bedankt voor je geduld!", str(chatter.body))
        self.assertIn("Public reply on X", str(chatter.body))
        self.assertIn("Outgoing", str(chatter.body))
        self.assertEqual(self.ticket.webcare_replies_queued, 1)
        self.send()
        self.assertEqual(reply.chatter_message_id, chatter, "updated, not a new one")
        self.assertIn("Sent", str(chatter.body))
        self.assertIn(reply.url, str(chatter.body))
        self.assertEqual(self.ticket.webcare_replies_queued, 0)

    def test_first_replier_becomes_the_assignee(self):
        self.ticket.user_id = False
        self.reply("@AnnaWC We zijn ermee bezig.")
        self.assertFalse(self.ticket.user_id, "only once the customer got it")
        self.send()
        self.assertEqual(self.ticket.user_id, self.agent)
        self.assertEqual(self.ticket.webcare_first_responder_id, self.agent)

    def test_replier_does_not_take_an_assigned_ticket(self):
        colleague = self.env["res.users"].create(
            {"name": "Colleague", "login": "wc_colleague"}
        )
        self.ticket.user_id = colleague
        self.reply("@AnnaWC We zijn ermee bezig.")
        self.send()
        self.assertEqual(self.ticket.user_id, colleague)
        self.assertEqual(self.ticket.webcare_first_responder_id, self.agent)

    def test_same_idempotency_key_queues_one_reply(self):
        first = self.reply("@AnnaWC Eén antwoord.", idempotency_key="composer-1")
        again = self.reply("@AnnaWC Eén antwoord.", idempotency_key="composer-1")
        self.assertEqual(again, first)
        self.assertEqual(
            len(self.ticket.webcare_message_ids.filtered("author_user_id")), 1
        )
        self.send()
        self.send()
        self.assertEqual(len(self.standin.posted), 1)
        other = self.reply("@AnnaWC Nog een antwoord.")
        self.assertNotEqual(other.idempotency_key, first.idempotency_key)

    def test_sent_reply_is_never_sent_again(self):
        reply = self.reply("@AnnaWC Opgelost!")
        self.send()
        reply.with_user(self.agent).action_retry()  # nothing to retry
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.posts_to("/2/tweets")), 1)

    def test_only_webcare_users_answer_and_only_with_words(self):
        with self.assertRaises(AccessError):
            self.reply("hoi", user=self.sales)
        with self.assertRaises(UserError):
            self.reply("   ")
        plain = self.env["helpdesk.ticket"].create(
            {"name": "E-mail question", "description": "Where is my bag?"}
        )
        with self.assertRaises(UserError):
            plain.webcare_reply("hoi")

    def test_dm_only_ticket_has_no_public_post_to_answer(self):
        self.standin.add_dm(STRANGER_ID, "Hallo, een vraag over mijn boeking")
        dm_ticket = self.fetch()[-1].ticket_id
        self.assertNotEqual(dm_ticket, self.ticket)
        with self.assertRaises(UserError):
            dm_ticket.with_user(self.agent).webcare_reply("@frequentflyer hoi")
        reply = dm_ticket.with_user(self.agent).webcare_reply("Hoi!", private=True)
        self.assertEqual(reply.sudo().recipient_ref, STRANGER_ID)


@tagged("post_install", "-at_install")
class TestSendFailures(ReplyCase):
    def test_rate_limit_postpones_until_the_reset_then_sends_once(self):
        reset = (fields.Datetime.now() + timedelta(minutes=15)).replace(microsecond=0)
        self.standin.fail_next(
            "/2/tweets", 429, headers={"x-rate-limit-reset": self.epoch(reset)}
        )
        reply = self.reply("@AnnaWC We zoeken het uit.")
        waiting = self.reply("Stuur ons een DM?", private=False)
        self.send()
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(reply.send_after, reset)
        self.assertIn("rate limit", reply.error)
        self.assertIn("Will be sent after", self.chatter_of(reply))
        # the other public reply waits for the reset too (then the network's pace)
        self.assertGreaterEqual(waiting.send_after, reset)
        self.assertLess(waiting.send_after, reset + timedelta(minutes=1))
        self.assertEqual(len(self.posts_to("/2/tweets")), 1)
        self.assertFalse(self.standin.posted)
        # reading mentions has its own limit at X: imports go on
        self.assertFalse(self.channel.rate_limited_until)
        self.send()
        self.assertEqual(len(self.posts_to("/2/tweets")), 1, "not before the reset")
        with freeze_time(reset + timedelta(seconds=1), tick=True):
            self.send()
        self.assertEqual(reply.state, "sent")
        with freeze_time(waiting.send_after + timedelta(seconds=1), tick=True):
            self.send()
        self.assertEqual(waiting.state, "sent")
        self.assertFalse(reply.error)
        self.assertEqual(len(self.standin.posted), 2)

    def test_rate_limit_on_posts_does_not_hold_dms(self):
        self.standin.fail_next("/2/tweets", 429)
        public = self.reply("@AnnaWC We zoeken het uit.")
        private = self.reply("Je boekingscode graag?", private=True)
        self.send()
        self.assertEqual((public.state, private.state), ("outgoing", "sent"))

    def test_server_error_is_retried_with_backoff_then_fails(self):
        self.standin.fail_next("/2/tweets", 503, times=5)
        reply = self.reply("@AnnaWC Sorry voor het wachten.")
        now = fields.Datetime.now()
        waits = []
        for attempt in range(1, 6):
            with freeze_time(now, tick=True):
                self.send()
            self.assertEqual(reply.send_attempts, attempt)
            if attempt < 5:
                self.assertEqual(reply.state, "outgoing")
                waits.append(round((reply.send_after - now).total_seconds() / 60))
                with freeze_time(now, tick=True):
                    self.send()  # not due yet: nothing happens
                self.assertEqual(reply.send_attempts, attempt)
                now = reply.send_after + timedelta(seconds=1)
        self.assertEqual(waits, [1, 5, 15, 60])
        self.assertEqual(reply.state, "failed")
        self.assertIn("503", reply.error)
        self.assertIn("Not sent", self.chatter_of(reply))
        self.assertEqual(self.ticket.webcare_replies_failed, 1)
        self.assertFalse(self.standin.posted)
        # the agent retries: it goes out, once
        self.ticket.with_user(self.agent).action_webcare_retry_replies()
        self.assertEqual((reply.state, reply.send_attempts), ("outgoing", 0))
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertEqual(self.ticket.webcare_replies_failed, 0)

    def test_reply_refused_by_x_shows_why_and_can_be_retried(self):
        # X no longer counts the post as engaging us: it refuses a reply
        self.standin.tweets[self.first["id"]]["in_mentions"] = False
        reply = self.reply("@AnnaWC Kunnen we helpen?")
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertEqual(reply.send_attempts, 1, "a refusal is not retried by itself")
        self.assertIn(REPLY_NOT_ALLOWED, reply.error)
        self.assertIn(REPLY_NOT_ALLOWED, self.chatter_of(reply))
        self.assertIn(reply.chatter_message_id, self.ticket.message_ids)
        self.assertFalse(self.standin.posted)
        self.send()
        self.assertEqual(len(self.posts_to("/2/tweets")), 1)
        self.standin.tweets[self.first["id"]]["in_mentions"] = True
        reply.with_user(self.agent).action_retry()
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertNotIn(REPLY_NOT_ALLOWED, self.chatter_of(reply))

    def test_dm_refused_when_the_customer_does_not_accept_dms(self):
        self.standin.users[ANNA_ID]["accepts_dms"] = False
        reply = self.reply("Stuur je ons je boekingscode?", private=True)
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertIn(DM_NOT_ALLOWED, reply.error)
        self.assertIn(DM_NOT_ALLOWED, self.chatter_of(reply))
        self.assertIn("Private message on X", self.chatter_of(reply))
        self.assertFalse(self.standin.posted)
        self.standin.users[ANNA_ID]["accepts_dms"] = True
        reply.with_user(self.agent).action_retry()
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.standin.posted), 1)

    def test_interrupted_send_is_failed_never_resent(self):
        reply = self.reply("@AnnaWC Komt goed.")
        # a run marked it "sending", committed, and died before X answered
        reply.write({"state": "sending", "send_attempts": 1})
        self.send()
        self.assertEqual(reply.state, "sending", "a run may still be at it")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE webcare_message SET write_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(minutes=11), reply.id),
        )
        reply.invalidate_recordset()
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("interrupted", reply.error)
        self.assertIn("interrupted", self.chatter_of(reply))
        self.assertFalse(self.posts_to("/2/tweets"), "never sent again by itself")
        reply.with_user(self.agent).action_retry()
        self.send()
        self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(len(self.posts_to("/2/tweets")), 1)

    def test_write_without_an_answer_is_not_retried_by_itself(self):
        """A send that timed out may have been published: no automatic retry."""
        client = XClient(
            self.standin.base_url,
            {
                "api_key": self.standin.consumer_key,
                "api_key_secret": self.standin.consumer_secret,
                "access_token": self.standin.access_token,
                "access_token_secret": self.standin.access_token_secret,
            },
            timeout=0.3,
        )
        self.standin.set_delay(0.6)
        self.addCleanup(self.standin.set_delay, 0)
        with self.assertRaises(ProviderError) as caught:
            client.send_private(ANNA_ID, "Je koffer is gevonden.")
        self.assertNotIsInstance(caught.exception, ProviderUnavailable)
        self.assertIn("may have been sent", caught.exception.message)
        # and so it was: X published it after we stopped waiting
        for _tick in range(40):
            if self.standin.posted:
                break
            time.sleep(0.05)
        self.assertEqual([p["kind"] for p in self.standin.posted], ["dm"])
        # a request that never got out is safe to retry
        dead = XClient("http://127.0.0.1:9", client._credentials, timeout=0.3)
        with self.assertRaises(ProviderUnavailable):
            dead.send_private(ANNA_ID, "Je koffer is gevonden.")
