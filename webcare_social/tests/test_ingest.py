from datetime import timedelta, timezone

from psycopg2 import IntegrityError

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_x import ACCOUNT_ID, ANNA_ID, STRANGER_ID, WebcareTeamCase, XChannelCase

CHANNEL_LOGGER = "odoo.addons.webcare_social.models.webcare_channel"


@tagged("post_install", "-at_install")
class TestIngestMentions(XChannelCase):
    def test_connection_fills_account(self):
        self.channel.write({"account_external_id": False, "state": "draft"})
        self.channel.action_test_connection()
        self.assertEqual(self.channel.state, "connected")
        self.assertEqual(self.channel.account_external_id, ACCOUNT_ID)
        self.assertEqual(self.channel.account_handle, "PolderAir")

    def test_mention_of_known_customer_becomes_ticket(self):
        tweet = self.mention(ANNA_ID, "mijn koffer is kwijt na KL1234", lang="nl")
        message = self.fetch()
        self.assertEqual(message.state, "ticketed")
        self.assertEqual(message.kind, "mention")
        self.assertEqual(message.lang, "nl")
        self.assertEqual(message.identity_id, self.anna_identity)
        self.assertEqual(message.url, f"https://x.com/AnnaWC/status/{tweet['id']}")
        self.assertIn(tweet["id"], message.payload)
        ticket = message.ticket_id
        self.assertEqual(ticket.partner_id, self.anna)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(
            ticket.channel_id,
            self.env.ref("webcare_social.helpdesk_ticket_channel_social"),
        )
        self.assertEqual(ticket.webcare_channel_id, self.channel)
        self.assertEqual(ticket.webcare_identity_id, self.anna_identity)
        self.assertIn("mijn koffer is kwijt", str(ticket.description))
        self.assertEqual(self.anna_identity.followers_count, 812)

    def test_ticket_text_is_escaped_and_links_clickable(self):
        self.mention(STRANGER_ID, "<b>bold</b> & see https://example.com/claim?id=1")
        ticket = self.fetch().ticket_id
        html = str(ticket.description)
        self.assertNotIn("<b>bold</b>", html)
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", html)
        self.assertIn('href="https://example.com/claim?id=1"', html)
        self.assertIn("View the original post", html)

    def test_stranger_gets_identity_but_no_contact(self):
        partners_before = self.env["res.partner"].search_count([])
        message = self.fetch_one(STRANGER_ID, "where is my refund?")
        identity = message.identity_id
        self.assertEqual(identity.external_id, STRANGER_ID)
        self.assertEqual(identity.handle, "frequentflyer")
        self.assertFalse(identity.partner_id)
        self.assertFalse(message.ticket_id.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_changed_handle_updates_same_identity(self):
        self.standin.rename_user(ANNA_ID, "AnnaDeVries")
        message = self.fetch_one(ANNA_ID, "new handle, same me")
        self.assertEqual(message.identity_id, self.anna_identity)
        self.assertEqual(self.anna_identity.handle, "AnnaDeVries")
        self.assertEqual(message.ticket_id.partner_id, self.anna)

    def test_hand_entered_handle_gets_external_id(self):
        jeroen = self.env["res.partner"].create({"name": "Jeroen Bakker"})
        typed = self.env["webcare.identity"].create(
            {"network": "x", "handle": "@JBakkerWC", "partner_id": jeroen.id}
        )
        self.standin.add_user("1690000000000000012", "jbakkerwc", "Jeroen", 230)
        message = self.fetch_one("1690000000000000012", "vertraging alweer")
        self.assertEqual(message.identity_id, typed)
        self.assertEqual(typed.external_id, "1690000000000000012")
        self.assertEqual(message.ticket_id.partner_id, jeroen)

    def test_ticket_title_is_the_posts_words_cut_at_a_word(self):
        message = self.fetch_one(
            STRANGER_ID,
            "@KLM mijn koffer is kwijt na de vlucht van Amsterdam naar Barcelona "
            "gisteravond https://t.co/abc",
        )
        title = message.ticket_id.name
        self.assertEqual(title, "mijn koffer is kwijt na de vlucht van Amsterdam naar…")

    def test_ticket_title_of_only_mentions_names_the_author(self):
        self.assertEqual(
            self.fetch_one(STRANGER_ID, "@KLM").ticket_id.name,
            "Post by @frequentflyer",
        )
        self.channel.storyline_dm = False  # a DM of its own, not joining that ticket
        self.standin.add_dm(STRANGER_ID, "https://t.co/abc")
        self.assertEqual(self.fetch()[-1].ticket_id.name, "DM from @frequentflyer")

    def test_ticket_remembers_when_it_was_posted(self):
        message = self.fetch_one(
            STRANGER_ID, "oude vraag", created_at="2026-11-20T08:00:00Z"
        )
        self.assertEqual(
            message.ticket_id.webcare_posted_at,
            fields.Datetime.to_datetime("2026-11-20 08:00:00"),
        )

    def fetch_one(self, author_id, text, **options):
        self.mention(author_id, text, **options)
        return self.fetch()[-1]


@tagged("post_install", "-at_install")
class TestNoiseAndPriority(XChannelCase):
    def test_retweet_own_post_and_own_reply_never_become_tickets(self):
        original = self.standin.add_tweet(ACCOUNT_ID, "@PolderAir news: new route!")
        self.standin.add_tweet(
            STRANGER_ID, "RT @PolderAir: new route!", retweet_of=original["id"]
        )
        question = self.mention(ANNA_ID, "is mijn vlucht op tijd?")
        self.standin.add_tweet(
            ACCOUNT_ID,
            "@AnnaWC @PolderAir ja, op tijd!",
            in_reply_to=question["id"],
            in_mentions=True,
        )
        messages = self.fetch()
        by_reason = {m.external_id: m.ignore_reason for m in messages}
        self.assertEqual(len(messages), 4)
        self.assertEqual(sorted(filter(None, by_reason.values())), [
            "own_post", "own_post", "repost",
        ])  # fmt: skip
        ticketed = messages.filtered(lambda m: m.state == "ticketed")
        self.assertEqual(ticketed.external_id, question["id"])
        # our answer is kept with the customer's ticket, and is no customer
        answer = messages.filtered(lambda m: m.parent_ref == question["id"])
        self.assertEqual(answer.ticket_id, ticketed.ticket_id)
        self.assertEqual(answer.state, "ignored")
        self.assertFalse(answer.identity_id)
        self.assertFalse(
            self.env["webcare.identity"].search([("external_id", "=", ACCOUNT_ID)])
        )

    def test_keyword_rules(self):
        self.channel.write(
            {"exclude_keywords": "giveaway, vacature", "include_keywords": "vlucht"}
        )
        self.mention(STRANGER_ID, "Join our GIVEAWAY vlucht")
        self.mention(STRANGER_ID, "nice weather today")
        self.mention(STRANGER_ID, "mijn vlucht is geannuleerd")
        self.standin.add_dm(STRANGER_ID, "hallo, een vraag")
        messages = self.fetch()
        reasons = sorted(m.ignore_reason or m.state for m in messages)
        self.assertEqual(
            reasons, ["excluded_keyword", "no_included_keyword", "ticketed", "ticketed"]
        )

    def test_priority_from_reach_and_tone(self):
        self.standin.add_user("1700000000000000001", "bigvoice", "Big Voice", 250_000)
        self.standin.add_user("1700000000000000002", "midvoice", "Mid Voice", 20_000)
        cases = {
            STRANGER_ID: ("quick question about baggage", "1"),
            ANNA_ID: ("Schandalig, nooit meer PolderAir", "2"),
            "1700000000000000002": ("question about my seat", "2"),
            "1700000000000000001": ("worst airline ever", "3"),
        }
        for author, (text, _priority) in cases.items():
            self.mention(author, text)
        for message in self.fetch():
            expected = cases[message.author_external_id][1]
            self.assertEqual(message.ticket_id.priority, expected, message.body)


@tagged("post_install", "-at_install")
class TestThreading(XChannelCase):
    def setUp(self):
        super().setUp()
        self.first = self.mention(ANNA_ID, "bagage kwijt")
        self.ticket = self.fetch().ticket_id

    def reply(self, text):
        reply = self.standin.add_tweet(
            ANNA_ID, f"@PolderAir {text}", in_reply_to=self.first["id"]
        )
        self.fetch()
        return self.message(reply["id"])

    def close(self, days_ago):
        self.ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        self.ticket.closed_date = fields.Datetime.now() - timedelta(days=days_ago)

    def test_conversation_read_at_once_opens_ticket_with_first_post(self):
        root = self.mention(
            STRANGER_ID, "my flight is delayed", created_at="2026-11-20T08:00:00Z"
        )
        later = self.standin.add_tweet(
            STRANGER_ID, "@PolderAir any news??", in_reply_to=root["id"]
        )
        self.fetch()
        ticket = self.message(root["id"]).ticket_id
        self.assertEqual(self.message(later["id"]).ticket_id, ticket)
        self.assertIn("my flight is delayed", ticket.name)

    def test_reply_appends_to_open_ticket(self):
        message = self.reply("nog steeds niets gehoord")
        self.assertEqual(message.kind, "reply")
        self.assertEqual(message.ticket_id, self.ticket)
        self.assertEqual(self.ticket.webcare_message_count, 2)
        self.assertIn(
            "nog steeds niets gehoord", str(self.ticket.message_ids.mapped("body"))
        )

    def test_appended_post_is_readable_at_a_glance(self):
        self.reply("nog steeds niets gehoord")
        subtype = self.env.ref("webcare_social.mt_webcare_post")
        appended = self.ticket.message_ids.filtered(lambda m: m.subtype_id == subtype)
        self.assertEqual(len(appended), 1)
        body = str(appended.body)
        self.assertNotIn("blockquote", body)
        self.assertTrue(
            body.startswith("<p>@PolderAir nog steeds niets gehoord</p>"), body
        )
        self.assertEqual(appended.message_type, "comment")
        self.assertEqual(appended.author_id, self.anna)
        self.assertNotIn("blockquote", str(self.ticket.description))
        # the customer's words are not mailed to the ticket's followers again
        self.assertFalse(subtype.default)
        self.assertTrue(subtype.internal)

    def test_posts_read_at_once_are_appended_oldest_first(self):
        for text, minutes in (("later", 2), ("eerder", 1)):
            self.standin.add_tweet(
                ANNA_ID,
                f"@PolderAir {text}",
                in_reply_to=self.first["id"],
                created_at=fields.Datetime.now() + timedelta(minutes=minutes),
            )
        self.fetch()
        subtype = self.env.ref("webcare_social.mt_webcare_post")
        appended = self.ticket.message_ids.filtered(
            lambda m: m.subtype_id == subtype
        ).sorted("id")
        self.assertEqual(
            [str(m.body).split("</p>")[0] for m in appended],
            ["<p>@PolderAir eerder", "<p>@PolderAir later"],
        )

    def test_reply_reopens_recently_closed_ticket(self):
        self.close(days_ago=2)
        message = self.reply("het is niet opgelost")
        self.assertEqual(message.ticket_id, self.ticket)
        self.assertFalse(self.ticket.closed)

    def test_reply_after_reopen_window_starts_new_ticket(self):
        self.close(days_ago=10)
        message = self.reply("weer een probleem")
        self.assertNotEqual(message.ticket_id, self.ticket)
        self.assertTrue(self.ticket.closed)

    def test_reopen_window_is_a_setting(self):
        self.env["res.config.settings"].create({"webcare_reopen_days": 30}).execute()
        self.close(days_ago=10)
        self.assertEqual(self.reply("toch nog iets").ticket_id, self.ticket)

    def test_dm_conversation_threads(self):
        self.standin.add_dm(ANNA_ID, "Mijn boekingscode is ABC123")
        self.standin.add_dm(ACCOUNT_ID, "Dank, we kijken ernaar", recipient_id=ANNA_ID)
        self.standin.add_dm(ANNA_ID, "Nog nieuws?")
        dms = self.fetch().filtered(lambda m: m.kind == "dm")
        self.assertEqual(len(dms), 3)
        inbound = dms.filtered(lambda m: m.direction == "inbound")
        self.assertEqual(len(inbound.ticket_id), 1)
        self.assertEqual(inbound.ticket_id.partner_id, self.anna)
        outbound = dms - inbound
        self.assertEqual(outbound.ignore_reason, "own_post")


@tagged("post_install", "-at_install")
class TestFaults(XChannelCase):
    def test_pages_and_cursor(self):
        self.standin.page_size = 2
        tweets = [self.mention(STRANGER_ID, f"vraag {n}") for n in range(5)]
        self.assertEqual(len(self.fetch()), 5)
        self.assertEqual(self.channel._cursor("mentions"), tweets[-1]["id"])
        newer = self.mention(STRANGER_ID, "nog een vraag")
        self.standin.clear_log()
        messages = self.fetch()
        self.assertEqual(len(messages), 6)
        self.assertEqual(self.message(newer["id"]).state, "ticketed")
        mention_calls = [r for r in self.standin.requests if "mentions" in r.path]
        self.assertIn(tweets[-1]["id"], mention_calls[0].query.get("since_id"))

    def test_rate_limit_stops_run_and_resumes_without_gaps(self):
        self.standin.page_size = 2
        tweets = [self.mention(STRANGER_ID, f"vraag {n}") for n in range(5)]
        reset = (fields.Datetime.now() + timedelta(minutes=15)).replace(microsecond=0)
        epoch = int(reset.replace(tzinfo=timezone.utc).timestamp())
        self.standin.fail_next(
            f"/2/users/{ACCOUNT_ID}/mentions",
            429,
            headers={"x-rate-limit-reset": str(epoch)},
            after=1,  # the first page answers, the second is refused
        )
        self.assertEqual(len(self.fetch()), 2)
        self.assertEqual(self.channel.rate_limited_until, reset)
        self.assertIn("Rate limit", self.channel.last_error)
        self.assertFalse(self.channel._cursor("mentions"))
        # still limited: the next run does not call the API at all
        self.standin.clear_log()
        self.fetch()
        self.assertFalse(self.standin.requests)
        # once the window has passed, the run resumes and nothing is skipped
        self.channel.rate_limited_until = fields.Datetime.now() - timedelta(seconds=1)
        messages = self.fetch()
        self.assertEqual(
            sorted(messages.mapped("external_id")), sorted(t["id"] for t in tweets)
        )
        self.assertEqual(len(messages.ticket_id), 5)
        self.assertEqual(self.channel._cursor("mentions"), tweets[-1]["id"])

    def test_server_error_is_retried_next_run(self):
        self.mention(STRANGER_ID, "hallo?")
        self.standin.fail_next("/2/users", 503)
        with mute_logger(CHANNEL_LOGGER):
            self.assertFalse(self.fetch())
        self.assertEqual(self.channel.state, "connected")
        self.assertTrue(self.channel.last_error)
        self.assertFalse(self.channel._cursor("mentions"))
        self.assertEqual(len(self.fetch()), 1)
        self.assertFalse(self.channel.last_error)

    def test_auth_error_marks_channel_and_warns_admin(self):
        self.channel.bearer_token = "wrong"
        self.channel.api_key = "wrong"
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertEqual(self.channel.state, "error")
        self.assertIn("Unauthorized", self.channel.last_error)
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()  # failing again does not pile up to-dos
        activity = self.channel.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))

    def test_malformed_item_fails_alone(self):
        good = self.mention(STRANGER_ID, "a good one")
        bad = self.mention(STRANGER_ID, "a broken one")
        self.standin.malform_next(
            "/2/users",
            lambda body: next(t for t in body["data"] if t["id"] == bad["id"]).pop(
                "created_at"
            ),
        )
        self.fetch()
        self.assertEqual(self.message(good["id"]).state, "ticketed")
        failed = self.message(bad["id"])
        self.assertEqual(failed.state, "failed")
        self.assertEqual(
            failed.error, "X left out the field 'created_at' that every message has."
        )
        self.assertEqual(failed.error_detail, "KeyError: 'created_at'")
        self.assertIn("a broken one", failed.payload)
        self.assertEqual(failed.body, "@PolderAir a broken one")
        self.assertEqual(failed.kind, "mention")
        self.assertEqual(failed.author_handle, "frequentflyer")
        self.assertFalse(failed.posted_at)

    def test_failed_message_keeps_text_date_and_kind(self):
        # X leaves out authors that are suspended, deleted or protected
        ghost = "1799999999999999999"
        tweet = self.standin.add_tweet(
            ghost,
            "@PolderAir waar blijft mijn terugbetaling?",
            created_at="2026-11-19T10:14:00Z",
        )
        self.fetch()
        failed = self.message(tweet["id"])
        self.assertEqual(failed.state, "failed")
        self.assertEqual(failed.body, "@PolderAir waar blijft mijn terugbetaling?")
        self.assertEqual(
            failed.posted_at, fields.Datetime.to_datetime("2026-11-19 10:14:00")
        )
        self.assertEqual(failed.kind, "mention")
        self.assertEqual(failed.author_external_id, ghost)
        self.assertEqual(
            failed.error,
            f"X did not send the account that wrote this (user ID {ghost}); "
            "it may be suspended, deleted or protected.",
        )
        self.assertNotIn("includes", failed.error)
        self.assertTrue(failed.error_detail.startswith("PayloadError: "))
        self.assertEqual(
            failed.display_name, "@PolderAir waar blijft mijn terugbetaling?"
        )
        self.assertFalse(failed.ticket_id)
        # a retry reads the item as received again: still no author, same sentence
        self.channel.action_retry_failed()
        self.assertEqual(failed.state, "failed")
        self.assertTrue(failed.error.startswith("X did not send the account"))

    def test_unreadable_page_is_kept_and_reported(self):
        tweet = self.mention(STRANGER_ID, "still here next time")
        self.standin.fail_next("/2/users", 200, body="<html>proxy error page</html>")
        with mute_logger(CHANNEL_LOGGER):
            kept = self.fetch()
        self.assertIn("not JSON", self.channel.last_error)
        self.assertEqual(kept.state, "failed")
        self.assertIn("<html>proxy error page</html>", kept.payload)
        self.assertFalse(self.channel._cursor("mentions"))
        self.fetch()  # the next run reads the page again
        self.assertEqual(self.message(tweet["id"]).state, "ticketed")
        self.assertFalse(self.channel.last_error)

    def test_processing_failure_kept_and_retried(self):
        # the handle "frequentflyer" now belongs to someone else's identity
        other = self.env["res.partner"].create({"name": "Old Owner"})
        squatter = self.env["webcare.identity"].create(
            {
                "network": "x",
                "handle": "frequentflyer",
                "external_id": "1",
                "partner_id": other.id,
            }
        )
        tweet = self.mention(STRANGER_ID, "my bag is lost")
        self.fetch()
        failed = self.message(tweet["id"])
        self.assertEqual(failed.state, "failed")
        self.assertTrue(
            failed.error.startswith("This message could not be processed: "),
            failed.error,
        )
        self.assertIn("known as another account (user ID 1)", failed.error)
        self.assertTrue(failed.error_detail.startswith("ValidationError: "))
        self.assertIn("my bag is lost", failed.payload)
        squatter.handle = "old_owner_new_name"
        self.channel.action_retry_failed()
        self.assertEqual(failed.state, "ticketed")
        self.assertTrue(failed.ticket_id)

    def test_refetch_never_duplicates(self):
        self.mention(STRANGER_ID, "once")
        self.mention(ANNA_ID, "twice")
        first = self.fetch()
        # as if a run died before it moved its cursor
        self.channel._set_cursor("mentions", False)
        self.assertEqual(self.fetch(), first)
        self.assertEqual(len(first.ticket_id), 2)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            first[0].copy({"external_id": first[0].external_id})


@tagged("post_install", "-at_install")
class TestAutoAssign(WebcareTeamCase):
    """helpdesk_mgmt's "auto assign" (to the creating user) on social tickets."""

    def setUp(self):
        super().setUp()
        self.team.user_ids = [(4, self.manager.id)]
        self.env.company.helpdesk_mgmt_ticket_auto_assign = True

    def test_the_cron_never_assigns_odoobot(self):
        ticket = self.fetch_one(STRANGER_ID, "waar blijft mijn koffer").ticket_id
        self.assertTrue(ticket)
        self.assertFalse(ticket.user_id)

    def test_an_import_by_a_team_member_is_theirs(self):
        self.mention(STRANGER_ID, "vlucht geannuleerd")
        self.channel.with_user(self.manager).action_fetch()
        self.assertEqual(self.fetch()[-1].ticket_id.user_id, self.manager)

    def test_without_auto_assign_nobody_is_assigned(self):
        self.env.company.helpdesk_mgmt_ticket_auto_assign = False
        self.mention(STRANGER_ID, "vlucht geannuleerd")
        self.channel.with_user(self.manager).action_fetch()
        self.assertFalse(self.fetch()[-1].ticket_id.user_id)

    def fetch_one(self, author_id, text):
        self.mention(author_id, text)
        return self.fetch()[-1]
