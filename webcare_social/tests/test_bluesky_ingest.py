"""A Bluesky channel end to end: the import, threading, identities, faults
and replies, against the local Bluesky stand-in."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .bluesky_standin import BlueskyStandin
from .common import create_users, use_dutch_company

CHANNEL_LOGGER = "odoo.addons.webcare_social.models.webcare_channel"
ANNA = "did:plc:anna2devries3bsky4social5"
STRANGER = "did:plc:frequent2flyer3bsky4social"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"


class BlueskyChannelCase(TransactionCase):
    """A Bluesky channel connected (by its button) to the local stand-in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        use_dutch_company(cls.env)
        create_users(cls)
        cls.bsky = BlueskyStandin().start()
        cls.addClassCleanup(cls.bsky.stop)
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Webcare Bluesky"})
        cls.team.user_ids = [(4, cls.agent.id)]
        cls.channel = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir on Bluesky",
                "provider": "bluesky",
                "api_base_url": cls.bsky.base_url,
                "team_id": cls.team.id,
                "account_login": "polderair.bsky.social",
                "app_password": cls.bsky.password,
            }
        )
        cls.anna = cls.env["res.partner"].create({"name": "Anna de Vries"})
        cls.anna_identity = cls.env["webcare.identity"].create(
            {
                "network": "bluesky",
                "handle": "anna.bsky.social",
                "external_id": ANNA,
                "partner_id": cls.anna.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.bsky.reset()
        self.bsky.add_actor(ANNA, "anna.bsky.social", "Anna de Vries", followers=812)
        self.bsky.add_actor(STRANGER, "frequentflyer.bsky.social", "F. Flyer")
        self.channel.action_test_connection()

    # helpers ------------------------------------------------------------

    def fetch(self):
        self.channel.action_fetch()
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id)], order="id"
        )

    def message(self, external_id):
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", external_id)]
        )

    def mention(self, did, text, **options):
        return self.bsky.add_post(did, f"@polderair.bsky.social {text}", **options)

    def listed(self):
        return [r for r in self.bsky.requests if r.path == NOTIFICATIONS]


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyIngest(BlueskyChannelCase):
    def test_connection_fills_the_account_and_keeps_the_session(self):
        channel = self.channel
        self.assertEqual(channel.state, "connected")
        self.assertEqual(channel.account_external_id, self.bsky.did)
        self.assertEqual(channel.account_handle, "polderair.bsky.social")
        session = json.loads(channel.provider_session)
        self.assertEqual(session["did"], self.bsky.did)
        self.assertIn(session["refreshJwt"], self.bsky.refresh_tokens)
        self.assertEqual(self.bsky.logins, 1)

    def test_mention_becomes_a_ticket_of_the_known_customer(self):
        post = self.mention(ANNA, "mijn koffer is kwijt na KL1234")
        message = self.fetch()
        self.assertEqual(
            (message.state, message.kind, message.lang), ("ticketed", "mention", "nl")
        )
        self.assertEqual(message.external_id, post["uri"])
        self.assertEqual(message.identity_id, self.anna_identity)
        rkey = post["uri"].rsplit("/", 1)[1]
        self.assertEqual(
            message.url, f"https://bsky.app/profile/anna.bsky.social/post/{rkey}"
        )
        self.assertIn(post["uri"], message.payload)
        ticket = message.ticket_id
        self.assertEqual(ticket.partner_id, self.anna)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.webcare_channel_id, self.channel)
        self.assertIn("mijn koffer is kwijt", str(ticket.description))
        self.assertEqual(self.anna_identity.followers_count, 812)
        self.assertEqual(self.channel._cursor("notifications"), post["indexedAt"])

    def test_stranger_gets_an_identity_by_did(self):
        self.mention(STRANGER, "waar blijft mijn refund?")
        message = self.fetch()
        identity = message.identity_id
        self.assertEqual(
            (identity.network, identity.external_id, identity.handle),
            ("bluesky", STRANGER, "frequentflyer.bsky.social"),
        )
        self.assertFalse(identity.partner_id)

    def test_session_is_kept_between_runs_and_refreshed(self):
        for n in range(3):
            self.mention(ANNA, f"vraag {n}")
            self.fetch()
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 0))
        before = self.channel.provider_session
        self.bsky.expire_session()
        self.mention(ANNA, "nog een vraag")
        self.assertEqual(len(self.fetch()), 4)
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 1))
        self.assertNotEqual(self.channel.provider_session, before)
        # the kept session is the renewed one: the next run uses it as is
        self.bsky.clear_log()
        self.fetch()
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 1))

    def test_handle_change_keeps_the_identity(self):
        self.fetch_one(ANNA, "oude naam")
        self.bsky.rename_actor(ANNA, "annadevries.nl")
        message = self.fetch_one(ANNA, "nieuwe naam, zelfde ik")
        self.assertEqual(message.identity_id, self.anna_identity)
        self.assertEqual(self.anna_identity.handle, "annadevries.nl")
        self.assertEqual(message.ticket_id.partner_id, self.anna)
        self.assertEqual(
            self.env["webcare.identity"].search_count(
                [("network", "=", "bluesky"), ("external_id", "=", ANNA)]
            ),
            1,
        )

    def test_hand_typed_handle_gets_the_did(self):
        jeroen = self.env["res.partner"].create({"name": "Jeroen Bakker"})
        typed = self.env["webcare.identity"].create(
            {
                "network": "bluesky",
                "handle": "@jeroen.bakker.nl",
                "partner_id": jeroen.id,
            }
        )
        did = "did:plc:jeroen2bakker3bsky4socia5"
        self.bsky.add_actor(did, "jeroen.bakker.nl", "Jeroen")
        message = self.fetch_one(did, "vertraging alweer")
        self.assertEqual(message.identity_id, typed)
        self.assertEqual(typed.external_id, did)
        self.assertEqual(message.ticket_id.partner_id, jeroen)

    def fetch_one(self, did, text, **options):
        self.mention(did, text, **options)
        return self.fetch()[-1]


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyThreadingAndNoise(BlueskyChannelCase):
    def test_thread_is_one_ticket_by_its_root(self):
        root = self.mention(ANNA, "bagage kwijt")
        ticket = self.fetch().ticket_id
        # we answered on Bluesky itself: no notification of our own post
        ours = self.bsky.add_post(self.bsky.did, "Vervelend!", reply_to=root)
        answer = self.bsky.add_post(ANNA, "nog steeds niets", reply_to=ours)
        messages = self.fetch()
        self.assertEqual(len(messages), 2)
        reply = self.message(answer["uri"])
        self.assertEqual(
            (reply.kind, reply.parent_ref, reply.conversation_ref),
            ("reply", ours["uri"], root["uri"]),
        )
        self.assertEqual(reply.ticket_id, ticket)
        self.assertEqual(ticket.webcare_message_count, 2)

    def test_thread_read_at_once_opens_one_ticket_with_its_first_post(self):
        root = self.mention(STRANGER, "my flight is delayed")
        later = self.bsky.add_post(
            STRANGER, "@polderair.bsky.social any news??", reply_to=root
        )
        self.fetch()
        ticket = self.message(root["uri"]).ticket_id
        self.assertEqual(self.message(later["uri"]).ticket_id, ticket)
        self.assertIn("my flight is delayed", ticket.name)

    def test_likes_reposts_follows_and_own_posts_are_no_tickets(self):
        ours = self.bsky.add_post(self.bsky.did, "Nieuwe route naar Porto!")
        self.bsky.add_like(STRANGER, ours["uri"])
        self.bsky.add_repost(STRANGER, ours["uri"])
        self.bsky.add_follow(STRANGER)
        question = self.mention(ANNA, "vlucht op tijd?")
        self.bsky.ignore_reasons = True  # even when the server sends them all
        messages = self.fetch()
        self.assertEqual(messages.mapped("external_id"), [question["uri"]])
        # a notification about our own post (if Bluesky ever sent one)
        self.bsky.add_actor(self.bsky.did, "polderair.bsky.social", "PolderAir")
        own = self.mention(STRANGER, "doorgestuurd")
        self.bsky.notifications[-1]["author"] = self.bsky.did
        self.fetch()
        kept = self.message(own["uri"])
        self.assertEqual((kept.state, kept.ignore_reason), ("ignored", "own_post"))
        self.assertFalse(kept.identity_id)

    def test_keyword_rules(self):
        self.channel.write(
            {"exclude_keywords": "giveaway", "include_keywords": "vlucht"}
        )
        self.mention(STRANGER, "Join our GIVEAWAY vlucht")
        self.mention(STRANGER, "nice weather today")
        self.mention(STRANGER, "mijn vlucht is geannuleerd")
        reasons = sorted(m.ignore_reason or m.state for m in self.fetch())
        self.assertEqual(
            reasons, ["excluded_keyword", "no_included_keyword", "ticketed"]
        )

    def test_direct_messages_become_a_ticket(self):
        self.fetch()  # the first import takes the chat's position
        self.channel.storyline_dm = False
        first = self.bsky.add_dm(ANNA, "Mijn boekingscode is ABC123")
        self.bsky.add_dm(ANNA, "Nog nieuws?")
        dms = self.fetch().filtered(lambda m: m.kind == "dm")
        self.assertEqual(len(dms), 2)
        self.assertEqual(len(dms.ticket_id), 1)
        self.assertEqual(dms.ticket_id.partner_id, self.anna)
        self.assertEqual(
            self.message(first["id"]).conversation_ref,
            self.bsky.conversation_with(ANNA),
        )
        self.assertEqual(self.channel._cursor("chat"), self.bsky.chat_log[-1]["rev"])


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyFaults(BlueskyChannelCase):
    def setUp(self):
        super().setUp()
        self.bsky.page_size = 2
        self.posts = [self.mention(STRANGER, f"vraag {n}") for n in range(5)]

    def assert_all_once(self):
        messages = self.fetch()
        self.assertEqual(
            sorted(messages.mapped("external_id")), sorted(p["uri"] for p in self.posts)
        )
        self.assertEqual(len(messages.ticket_id), 5)
        self.assertEqual(
            self.channel._cursor("notifications"), self.posts[-1]["indexedAt"]
        )

    def test_server_error_mid_paging_loses_nothing(self):
        self.bsky.fail_next(NOTIFICATIONS, 502, after=1)
        with mute_logger(CHANNEL_LOGGER):
            self.assertEqual(len(self.fetch()), 2)
        self.assertIn("unavailable", self.channel.last_error)
        self.assertFalse(self.channel._cursor("notifications"))
        self.assertEqual(self.channel.state, "connected")
        self.assert_all_once()
        self.assertFalse(self.channel.last_error)

    def test_rate_limit_mid_paging_waits_for_the_reset(self):
        reset = (fields.Datetime.now() + timedelta(minutes=5)).replace(microsecond=0)
        self.bsky.rate_limit_next(
            "app.bsky.notification.listNotifications", reset, after=1
        )
        self.assertEqual(len(self.fetch()), 2)
        self.assertEqual(self.channel.rate_limited_until, reset)
        self.assertFalse(self.channel._cursor("notifications"))
        self.bsky.clear_log()
        self.fetch()  # still limited: Bluesky is not asked
        self.assertFalse(self.bsky.requests)
        self.channel.rate_limited_until = fields.Datetime.now() - timedelta(seconds=1)
        self.assert_all_once()

    def test_401_mid_paging_is_mended_in_the_same_run(self):
        self.bsky.fail_next(NOTIFICATIONS, 401, after=1)
        self.assert_all_once()
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 1))
        self.assertEqual(self.channel.state, "connected")

    def test_refused_credentials_set_the_channel_in_error(self):
        self.bsky.revoke_sessions()
        self.bsky.password = "changed-by-the-owner"
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertEqual(self.channel.state, "error")
        self.assertIn("app password", self.channel.last_error)
        self.assertTrue(self.channel.activity_ids)
        # a new app password and a reconnect: everything arrives once
        self.channel.app_password = self.bsky.password
        self.channel.action_test_connection()
        self.assert_all_once()

    def test_malformed_item_is_kept_and_the_rest_goes_on(self):
        def drop_time(body):
            body["notifications"][1]["record"].pop("createdAt")

        self.bsky.malform_next(NOTIFICATIONS, drop_time, times=1)
        messages = self.fetch()
        failed = messages.filtered(lambda m: m.state == "failed")
        self.assertEqual(failed.external_id, self.posts[-2]["uri"])
        self.assertIn("createdAt", failed.error)
        self.assertEqual(failed.author_external_id, STRANGER)
        self.assertIn("vraag 3", failed.body)
        self.assertIn(self.posts[-2]["uri"], failed.payload)
        self.assertEqual(len(messages.filtered(lambda m: m.state == "ticketed")), 4)
        # read again: the failed one is not stored twice
        self.assertEqual(self.fetch(), messages)

    def test_run_that_died_before_its_cursor_stores_nothing_twice(self):
        first = self.fetch()
        self.channel._set_cursor("notifications", False)
        self.assertEqual(self.fetch(), first)
        self.assertEqual(len(first.ticket_id), 5)


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyReplies(BlueskyChannelCase):
    def setUp(self):
        super().setUp()
        self.root = self.mention(ANNA, "mijn koffer is kwijt 😢", langs=["nl"])
        self.ticket = self.fetch().ticket_id
        self.assertEqual(len(self.ticket), 1)

    def reply(self, body, **options):
        return self.ticket.with_user(self.agent).webcare_reply(body, **options).sudo()

    def send(self):
        self.env["webcare.message"]._cron_send()

    def test_public_reply_with_strong_refs_and_mention(self):
        later = self.bsky.add_post(
            ANNA, "@polderair.bsky.social nog niets gehoord", reply_to=self.root
        )
        self.fetch()
        reply = self.reply("Wat vervelend, Anna! We zoeken het uit. ^LK")
        self.assertEqual(reply.parent_ref, later["uri"])
        self.assertFalse(self.bsky.posted, "sent by the queue, after the commit")
        self.send()
        self.assertEqual(reply.state, "sent")
        record = self.bsky.posted[-1]
        self.assertEqual(
            record["text"],
            "@anna.bsky.social Wat vervelend, Anna! We zoeken het uit. ^LK",
        )
        self.assertEqual(
            record["reply"],
            {
                "root": {"uri": self.root["uri"], "cid": self.root["cid"]},
                "parent": {"uri": later["uri"], "cid": later["cid"]},
            },
        )
        self.assertEqual(record["facets"][0]["features"][0]["did"], ANNA)
        self.assertEqual(reply.external_id, record["uri"])
        self.assertIn("https://bsky.app/profile/polderair.bsky.social/post/", reply.url)
        # the customer's answer to our reply joins the ticket
        answer = self.bsky.add_post(ANNA, "dank je!", reply_to=record["uri"])
        before = self.env["helpdesk.ticket"].search_count([])
        self.fetch()
        self.assertEqual(self.message(answer["uri"]).ticket_id, self.ticket)
        self.assertEqual(self.env["helpdesk.ticket"].search_count([]), before)

    def test_reply_to_a_deleted_post_fails_with_the_reason(self):
        self.bsky.delete_post(self.root["uri"])
        reply = self.reply("Hallo Anna")
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("no longer on Bluesky", reply.error)
        self.assertFalse(self.bsky.posted)

    def test_rate_limited_reply_waits_for_the_reset(self):
        reset = (fields.Datetime.now() + timedelta(minutes=20)).replace(microsecond=0)
        self.bsky.rate_limit_next("com.atproto.repo.createRecord", reset)
        reply = self.reply("Hallo Anna")
        self.send()
        self.assertEqual((reply.state, reply.send_after), ("outgoing", reset))
        self.assertFalse(self.bsky.posted)

    def test_private_reply_by_chat(self):
        self.fetch()  # the chat's position
        reply = self.reply("Stuur je ons je boekingscode?", private=True)
        self.assertEqual((reply.kind, reply.recipient_ref), ("dm", ANNA))
        self.send()
        self.assertEqual(reply.state, "sent")
        posted = self.bsky.posted[-1]
        self.assertEqual((posted["kind"], posted["text"]), ("dm", reply.body))
        self.assertEqual(reply.external_id, posted["id"])
        convo = self.bsky.conversation_with(ANNA)
        self.assertEqual(reply.conversation_ref, convo)
        before = self.env["webcare.message"].search_count(
            [("channel_id", "=", self.channel.id)]
        )
        self.fetch()  # our own message is in the chat log: known, not stored again
        self.assertEqual(
            self.env["webcare.message"].search_count(
                [("channel_id", "=", self.channel.id)]
            ),
            before,
        )
        answer = self.bsky.add_dm(ANNA, "KZ4RT7")
        self.fetch()
        self.assertEqual(self.message(answer["id"]).ticket_id, self.ticket)

    def test_private_reply_refused_by_the_customer(self):
        self.bsky.actors[ANNA]["accepts_chat"] = False
        reply = self.reply("Stuur je ons je boekingscode?", private=True)
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("disabled incoming messages", reply.error)
