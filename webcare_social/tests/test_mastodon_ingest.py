"""A Mastodon channel end to end against the local Mastodon stand-in.

The same guarantees as the X channel: every item stored before it is
processed, the stream's cursor moved only once everything up to it is
stored, nothing lost and nothing stored twice when a run breaks off, the
noise kept out of the queue, threads on one ticket, identities that survive
a handle change, and replies sent by the queue with the visibility of the
customer's post.
"""

from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import create_users, use_dutch_company
from .mastodon_standin import INVALID_TOKEN, MastodonStandin

CHANNEL_LOGGER = "odoo.addons.webcare_social.models.webcare_channel"
NOTIFICATIONS = "/api/v1/notifications"
ACCOUNT = "109000000000000001"
ANNA = "109100000000000011"
JEROEN = "109100000000000012"


class MastodonChannelCase(TransactionCase):
    """A Mastodon channel connected to the stand-in, and Anna, a known customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        use_dutch_company(cls.env)
        create_users(cls)
        cls.standin = MastodonStandin().start()
        cls.addClassCleanup(cls.standin.stop)
        cls.domain = cls.standin.domain
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Webcare Mastodon", "user_ids": [(4, cls.agent.id)]}
        )
        cls.channel = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir on Mastodon",
                "provider": "mastodon",
                "api_base_url": cls.standin.base_url,
                "access_token": cls.standin.access_token,
                "team_id": cls.team.id,
            }
        )
        cls.anna = cls.env["res.partner"].create({"name": "Anna de Vries"})
        cls.anna_identity = cls.env["webcare.identity"].create(
            {
                "network": "mastodon",
                "handle": f"anna@{cls.domain}",
                "external_id": ANNA,
                "partner_id": cls.anna.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.standin.load({})
        self.standin.add_account(ANNA, "anna", "Anna de Vries", followers_count=812)
        self.standin.add_account(JEROEN, "jeroen", "Jeroen", domain="mastodon.nl")
        self.channel.action_test_connection()
        self.assertEqual(self.channel.state, "connected")

    # helpers ------------------------------------------------------------

    def fetch(self):
        self.channel.action_fetch()
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id)], order="id"
        )

    def message(self, status):
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", status["id"])]
        )

    def mention(self, author, text, **options):
        return self.standin.add_status(author, f"@PolderAir {text}", **options)

    def cursor(self):
        return self.channel._cursor("notifications")

    def newest_notification(self):
        """The id of the newest mention notification (what the cursor follows)."""
        mentions = [
            n for n in self.standin.notifications.values() if n["type"] == "mention"
        ]
        return max((n["id"] for n in mentions), key=int)

    def start_reading(self):
        """Import one mention, so later runs read forward from a cursor."""
        self.mention(JEROEN, "eerste bericht")
        self.assertEqual(len(self.fetch()), 1)
        self.assertEqual(self.cursor(), self.newest_notification())


@tagged("post_install", "-at_install")
class TestMastodonIngest(MastodonChannelCase):
    def test_connection_fills_the_account(self):
        self.assertEqual(self.channel.account_external_id, ACCOUNT)
        self.assertEqual(self.channel.account_handle, f"PolderAir@{self.domain}")
        request = self.standin.requests[-1]
        self.assertEqual(request.path, "/api/v1/accounts/verify_credentials")

    def test_mention_of_a_known_customer_becomes_a_ticket(self):
        status = self.mention(ANNA, "mijn koffer is kwijt na KL1234", language="nl")
        message = self.fetch()
        self.assertEqual(message.state, "ticketed")
        self.assertEqual((message.kind, message.direction), ("mention", "inbound"))
        self.assertEqual(message.lang, "nl")
        self.assertEqual(message.body, "@PolderAir mijn koffer is kwijt na KL1234")
        self.assertEqual(message.identity_id, self.anna_identity)
        self.assertEqual(message.url, f"{self.standin.base_url}/@anna/{status['id']}")
        self.assertIn('"type": "mention"', message.payload)
        ticket = message.ticket_id
        self.assertEqual(ticket.partner_id, self.anna)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.webcare_channel_id, self.channel)
        self.assertIn("mijn koffer is kwijt", str(ticket.description))
        self.assertEqual(self.anna_identity.followers_count, 812)
        self.assertEqual(self.cursor(), self.newest_notification())

    def test_private_mention_is_a_private_ticket(self):
        dm = self.standin.add_dm(JEROEN, "mijn boekingscode is KZ4RT7")
        message = self.fetch()
        self.assertEqual(message, self.message(dm))
        self.assertEqual((message.kind, message.state), ("dm", "ticketed"))
        self.assertTrue(message.ticket_id)
        identity = message.identity_id
        self.assertEqual(identity.network, "mastodon")
        self.assertEqual(identity.handle, "jeroen@mastodon.nl")
        self.assertEqual(identity.external_id, JEROEN)
        self.assertFalse(identity.partner_id)
        with self.assertRaises(AccessError):
            message.with_user(self.sales).read(["body"])

    def test_handle_change_keeps_the_identity(self):
        self.mention(ANNA, "eerste vraag")
        self.fetch()
        self.standin.rename_account(ANNA, "annadevries")
        status = self.mention(ANNA, "zelfde ik, nieuwe naam")
        self.fetch()
        message = self.message(status)
        self.assertEqual(message.identity_id, self.anna_identity)
        self.assertEqual(self.anna_identity.handle, f"annadevries@{self.domain}")
        self.assertIn(
            f"anna@{self.domain}",
            self.anna_identity.previous_handle_ids.mapped("handle"),
        )
        self.assertEqual(message.ticket_id.partner_id, self.anna)

    def test_first_run_reads_only_the_newest_page(self):
        self.standin.page_size = 2
        old = self.mention(JEROEN, "oud")
        newer = [self.mention(JEROEN, f"nieuw {n}") for n in range(2)]
        messages = self.fetch()
        self.assertEqual(
            sorted(messages.mapped("external_id")), sorted(s["id"] for s in newer)
        )
        self.assertFalse(self.message(old))
        self.assertEqual(self.cursor(), self.newest_notification())


@tagged("post_install", "-at_install")
class TestMastodonThreadsAndNoise(MastodonChannelCase):
    def test_reply_to_a_stored_status_joins_its_ticket(self):
        root = self.mention(ANNA, "bagage kwijt")
        ticket = self.fetch().ticket_id
        reply = self.mention(ANNA, "nog niets gehoord", in_reply_to_id=root["id"])
        again = self.mention(ANNA, "hallo??", in_reply_to_id=reply["id"])
        self.fetch()
        self.assertEqual(self.message(reply).kind, "reply")
        self.assertEqual(self.message(reply).ticket_id, ticket)
        self.assertEqual(self.message(again).ticket_id, ticket)
        self.assertEqual(ticket.webcare_message_count, 3)

    def test_noise_never_becomes_a_ticket(self):
        original = self.mention(ANNA, "goede service vandaag")
        # Mastodon notifies neither our own posts nor boosts as mentions; a
        # server that does still gets them ignored
        own = self.standin.add_status(ACCOUNT, "@PolderAir test", notify=True)
        boost = self.standin.add_status(
            JEROEN, "", reblog_of=original["id"], notify=True
        )
        self.standin.add_notification("favourite", JEROEN, original["id"])
        self.standin.add_notification("follow", JEROEN)
        messages = self.fetch()
        self.assertEqual(len(messages), 3)
        self.assertEqual(self.message(original).state, "ticketed")
        self.assertEqual(
            (self.message(own).state, self.message(own).ignore_reason),
            ("ignored", "own_post"),
        )
        self.assertEqual(self.message(boost).ignore_reason, "repost")
        self.assertFalse(
            self.env["webcare.identity"].search([("external_id", "=", ACCOUNT)])
        )
        self.assertEqual(self.cursor(), self.newest_notification())

    def test_refetch_never_duplicates(self):
        self.mention(ANNA, "een")
        self.mention(JEROEN, "twee")
        first = self.fetch()
        self.channel._set_cursor("notifications", "0")  # a run that died early
        self.assertEqual(self.fetch(), first)
        self.assertEqual(len(first.ticket_id), 2)


@tagged("post_install", "-at_install")
class TestMastodonFaults(MastodonChannelCase):
    def setUp(self):
        super().setUp()
        self.start_reading()
        self.standin.page_size = 2
        self.before = self.cursor()
        self.statuses = [self.mention(ANNA, f"vraag {n}") for n in range(5)]
        self.standin.clear_log()

    def assert_all_once(self):
        """Every status stored exactly once, each on a ticket, the cursor at the end."""
        messages = self.fetch()
        wanted = {s["id"] for s in self.statuses}
        mine = messages.filtered(lambda m: m.external_id in wanted)
        self.assertCountEqual(mine.mapped("external_id"), wanted)
        self.assertEqual(set(mine.mapped("state")), {"ticketed"}, mine.mapped("error"))
        self.assertEqual(self.cursor(), self.newest_notification())
        self.assertFalse(self.channel.last_error)

    def stored(self):
        return self.env["webcare.message"].search_count(
            [("channel_id", "=", self.channel.id)]
        )

    def test_pages_follow_the_cursor(self):
        self.assert_all_once()
        requests = [r for r in self.standin.requests if r.path == NOTIFICATIONS]
        self.assertEqual(requests[0].query["min_id"], self.before)
        self.assertEqual(len(requests), 4)  # 2 + 2 + 1, then an empty page

    def test_rate_limit_mid_paging_loses_nothing(self):
        reset = (fields.Datetime.now() + timedelta(minutes=5)).replace(microsecond=0)
        stamp = reset.replace(tzinfo=timezone.utc).isoformat()
        self.standin.fail_next(
            NOTIFICATIONS,
            429,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": stamp},
            after=1,
        )
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertEqual(self.stored(), 3)  # the first page is kept
        self.assertEqual(self.cursor(), self.before)
        self.assertEqual(self.channel.rate_limited_until, reset)
        self.assertIn("Rate limit", self.channel.last_error)
        self.standin.clear_log()
        self.fetch()  # still limited: Mastodon is not asked
        self.assertFalse(self.standin.requests)
        self.channel.rate_limited_until = fields.Datetime.now() - timedelta(seconds=1)
        self.assert_all_once()

    def test_server_error_mid_paging_loses_nothing(self):
        self.standin.fail_next(
            NOTIFICATIONS, 502, body="<html>Bad gateway</html>", after=1
        )
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertEqual(self.stored(), 3)
        self.assertEqual(self.cursor(), self.before)
        self.assertEqual(self.channel.state, "connected")
        self.assertIn("unavailable", self.channel.last_error)
        self.assert_all_once()

    def test_revoked_token_mid_paging_loses_nothing(self):
        self.standin.fail_next(NOTIFICATIONS, 401, body=dict(INVALID_TOKEN), after=1)
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertEqual(self.stored(), 3)
        self.assertEqual(self.cursor(), self.before)
        self.assertEqual(self.channel.state, "error")
        self.assertIn("The access token is invalid", self.channel.last_error)
        self.channel.action_test_connection()  # the token works again
        self.assert_all_once()

    def test_malformed_item_mid_paging_fails_alone(self):
        bad = self.statuses[3]

        def break_it(body):
            for notification in body:
                if notification["status"]["id"] == bad["id"]:
                    notification["status"]["created_at"] = "yesterday"

        self.standin.malform_next(NOTIFICATIONS, break_it, times=10)
        self.fetch()
        failed = self.message(bad)
        self.assertEqual(failed.state, "failed")
        self.assertIn("could not be read", failed.error)
        self.assertIn("yesterday", failed.payload)
        self.assertEqual(failed.body, "@PolderAir vraag 3")
        self.assertEqual(failed.author_handle, f"anna@{self.domain}")
        good = self.env["webcare.message"].browse(
            [self.message(s).id for s in self.statuses if s is not bad]
        )
        self.assertEqual(set(good.mapped("state")), {"ticketed"})
        self.assertEqual(self.cursor(), self.newest_notification())
        self.assertEqual(self.stored(), 6)
        self.fetch()  # nothing new, nothing twice
        self.assertEqual(self.stored(), 6)

    def test_unreadable_page_is_kept_and_read_again(self):
        self.standin.fail_next(NOTIFICATIONS, 200, body="<html>proxy</html>", after=1)
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertIn("not JSON", self.channel.last_error)
        self.assertEqual(self.cursor(), self.before)
        kept = self.env["webcare.message"].search(
            [
                ("channel_id", "=", self.channel.id),
                ("payload", "=", "<html>proxy</html>"),
            ]
        )
        self.assertEqual(kept.state, "failed")
        self.assert_all_once()


@tagged("post_install", "-at_install")
class TestMastodonReplies(MastodonChannelCase):
    def setUp(self):
        super().setUp()
        self.first = self.mention(ANNA, "koffer kwijt", visibility="unlisted")
        self.ticket = self.fetch().ticket_id
        self.assertEqual(len(self.ticket), 1)
        self.standin.clear_log()

    def reply(self, body, **options):
        return self.ticket.with_user(self.agent).webcare_reply(body, **options).sudo()

    def send(self):
        self.env["webcare.message"]._cron_send()

    def test_reply_answers_with_the_posts_visibility_and_mention(self):
        reply = self.reply("Wat vervelend! We zoeken het uit.")
        self.assertFalse(self.standin.posted, "sent by the queue, after the commit")
        self.send()
        self.assertEqual(reply.state, "sent")
        (posted,) = self.standin.posted
        self.assertEqual(posted["in_reply_to_id"], self.first["id"])
        self.assertEqual(posted["visibility"], "unlisted")
        self.assertEqual(posted["text"], "@anna Wat vervelend! We zoeken het uit.")
        self.assertEqual(reply.external_id, posted["id"])
        self.assertEqual(
            reply.url, f"{self.standin.base_url}/@PolderAir/{posted['id']}"
        )
        # our reply is no mention of us; even when a server lists it, it is known
        self.standin.add_notification("mention", ACCOUNT, posted["id"])
        before = self.env["webcare.message"].search_count([])
        self.fetch()
        self.assertEqual(self.env["webcare.message"].search_count([]), before)
        # the customer's answer to our reply continues the ticket
        answer = self.mention(ANNA, "dank je!", in_reply_to_id=posted["id"])
        self.fetch()
        self.assertEqual(self.message(answer).ticket_id, self.ticket)

    def test_private_reply_is_a_direct_status_to_the_customer(self):
        reply = self.reply("Stuur je ons je boekingscode?", private=True)
        self.assertEqual((reply.kind, reply.recipient_ref), ("dm", ANNA))
        self.send()
        self.assertEqual(reply.state, "sent")
        (posted,) = self.standin.posted
        self.assertEqual(posted["visibility"], "direct")
        self.assertIsNone(posted["in_reply_to_id"])
        self.assertEqual(posted["mentions"], ["anna"])
        self.assertEqual(posted["text"], "@anna Stuur je ons je boekingscode?")
        answer = self.standin.add_dm(ANNA, "KZ4RT7", in_reply_to_id=posted["id"])
        self.fetch()
        self.assertEqual(self.message(answer).kind, "dm")
        self.assertEqual(self.message(answer).ticket_id, self.ticket)

    def test_reply_to_a_deleted_post_fails_with_the_reason(self):
        reply = self.reply("Wat vervelend!")
        del self.standin.statuses[self.first["id"]]
        self.send()
        self.assertEqual(reply.state, "failed")
        self.assertIn("no longer on Mastodon", reply.error)
        self.assertFalse(self.standin.posted)

    def test_rate_limited_send_waits_for_the_reset(self):
        reset = (fields.Datetime.now() + timedelta(minutes=3)).replace(microsecond=0)
        self.standin.fail_next(
            "/api/v1/statuses",
            429,
            headers={"X-RateLimit-Reset": reset.isoformat() + "Z"},
            after=1,  # the parent is read, the post is refused
        )
        reply = self.reply("Even geduld.")
        self.send()
        self.assertEqual(reply.state, "outgoing")
        self.assertEqual(reply.send_after, reset)
        self.assertFalse(self.standin.posted)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        self.assertGreater(reply.send_after, now)


@tagged("post_install", "-at_install")
class TestMastodonChannelTour(HttpCase):
    """A manager sets up a Mastodon channel in the form and imports from it."""

    def setUp(self):
        super().setUp()
        self.standin = MastodonStandin().start()
        self.addCleanup(self.standin.stop)
        self.standin.add_account(ANNA, "anna", "Anna de Vries", followers_count=812)
        self.standin.add_status(
            ANNA, "@PolderAir mijn koffer is niet aangekomen", language="nl"
        )
        # the browser cannot know the stand-in's port: new channels get it
        self.env["ir.default"].set(
            "webcare.channel", "api_base_url", self.standin.base_url
        )

    def test_set_up_and_import(self):
        self.start_tour(
            "/odoo/webcare-channels", "webcare_social_mastodon_channel", login="admin"
        )
        channel = self.env["webcare.channel"].search(
            [("name", "=", "PolderAir Mastodon tour")]
        )
        self.assertEqual((channel.provider, channel.state), ("mastodon", "connected"))
        self.assertEqual(channel.account_external_id, ACCOUNT)
        message = channel.webcare_message_ids
        self.assertEqual((message.kind, message.state), ("mention", "ticketed"))
        self.assertEqual(message.ticket_id.webcare_channel_id, channel)
