"""MastodonClient against the local Mastodon stand-in, over real HTTP."""

import json
from datetime import datetime, timedelta, timezone

from odoo.tests import BaseCase, tagged

from ..exceptions import (
    PayloadError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderUnavailable,
)
from ..services.base import get_provider_class
from ..services.mastodon_client import PAGE_SIZE, MastodonClient, html_to_text
from .mastodon_standin import MastodonStandin

ACCOUNT = "109000000000000001"
ANNA = "109100000000000011"
JEROEN = "109100000000000012"


@tagged("post_install", "-at_install", "webcare_mastodon")
class TestMastodonClient(BaseCase):
    def setUp(self):
        super().setUp()
        self.standin = MastodonStandin().start()
        self.addCleanup(self.standin.stop)
        self.standin.add_account(ANNA, "anna", "Anna de Vries", followers_count=812)
        self.standin.add_account(JEROEN, "jeroen", "", domain="mastodon.nl")
        self.domain = self.standin.domain

    # helpers ------------------------------------------------------------

    def client(self, credentials=None, timeout=5.0):
        return MastodonClient(
            self.standin.base_url,
            credentials or self.standin.credentials,
            account_id=ACCOUNT,
            timeout=timeout,
        )

    def mention(self, author, text, **options):
        return self.standin.add_status(author, f"@PolderAir {text}", **options)

    def drain(self, client, cursor):
        """Read a stream as the channel does; return the pages."""
        pages = [client.fetch("notifications", cursor)]
        while not pages[-1].drained:
            pages.append(client.fetch("notifications", cursor, pages[-1].next_token))
        return pages

    def notification_requests(self):
        return [r for r in self.standin.requests if r.path == "/api/v1/notifications"]

    def newest_notification(self):
        return max(self.standin.notifications, key=int)

    # -- set-up and identity -----------------------------------------------

    def test_registry_and_provider_facts(self):
        self.assertIs(get_provider_class("mastodon"), MastodonClient)
        self.assertEqual(MastodonClient.stream_codes(), ("notifications",))
        self.assertEqual(MastodonClient.credential_fields, ("access_token",))
        self.assertTrue(MastodonClient.supports_private)
        self.assertEqual(MastodonClient.send_interval, 36.0)  # 300 posts per 3 h

    def test_instance_url_is_required_and_any_instance_works(self):
        with self.assertRaises(ProviderError) as caught:
            MastodonClient(False, {"access_token": "t"})
        self.assertIn("address of the Mastodon instance", caught.exception.message)
        client = MastodonClient("mastodon.example/", {"access_token": "t"})
        self.assertEqual(client.base_url, "https://mastodon.example")
        self.assertEqual(client.domain, "mastodon.example")

    def test_whoami_reads_verify_credentials_with_the_bearer_token(self):
        me = self.client().whoami()
        self.assertEqual(me.external_id, ACCOUNT)
        self.assertEqual(me.handle, f"PolderAir@{self.domain}")
        self.assertEqual(me.followers_count, 5210)
        request = self.standin.requests[-1]
        self.assertEqual(request.path, "/api/v1/accounts/verify_credentials")
        self.assertEqual(
            request.header("Authorization"), f"Bearer {self.standin.access_token}"
        )
        # no instance or version lookup at start-up
        self.assertEqual(len(self.standin.requests), 1)

    def test_invalid_token_is_an_auth_error_with_mastodons_words(self):
        with self.assertRaises(ProviderAuthError) as caught:
            self.client({"access_token": "revoked"}).whoami()
        self.assertEqual(caught.exception.status_code, 401)
        self.assertIn("The access token is invalid", caught.exception.message)

    def test_no_token_asks_nothing(self):
        with self.assertRaises(ProviderAuthError):
            self.client({"access_token": None}).fetch("notifications")
        self.assertFalse(self.standin.requests)

    def test_a_token_naming_a_file_is_never_read_as_one(self):
        client = self.client({"access_token": __file__})
        with self.assertRaises(ProviderAuthError):
            client.whoami()
        self.assertEqual(
            self.standin.requests[-1].header("Authorization"), f"Bearer {__file__}"
        )

    # -- reading -----------------------------------------------------------

    def test_mentions_replies_and_private_mentions(self):
        root = self.mention(
            ANNA,
            "mijn koffer is kwijt",
            language="nl",
            created_at="2026-11-20T08:00:00Z",
        )
        reply = self.mention(ANNA, "nog nieuws?", in_reply_to_id=root["id"])
        dm = self.standin.add_dm(JEROEN, "mijn boekingscode is ABC123")
        page = self.client().fetch("notifications")
        posts = {post.external_id: post for post in page.posts}
        self.assertEqual(list(posts), [dm["id"], reply["id"], root["id"]])
        first = posts[root["id"]]
        self.assertEqual((first.kind, first.direction), ("mention", "inbound"))
        self.assertEqual(first.body, "@PolderAir mijn koffer is kwijt")
        self.assertEqual(first.lang, "nl")
        self.assertEqual(first.posted_at, datetime(2026, 11, 20, 8, 0))
        self.assertEqual((first.conversation_ref, first.parent_ref), (root["id"], None))
        self.assertEqual(first.url, f"{self.standin.base_url}/@anna/{root['id']}")
        self.assertEqual(first.author.external_id, ANNA)
        self.assertEqual(first.author.handle, f"anna@{self.domain}")
        self.assertEqual(first.author.name, "Anna de Vries")
        self.assertEqual(first.author.followers_count, 812)
        answer = posts[reply["id"]]
        self.assertEqual(answer.kind, "reply")
        self.assertEqual(
            (answer.conversation_ref, answer.parent_ref), (root["id"],) * 2
        )
        private = posts[dm["id"]]
        self.assertEqual(private.kind, "dm")
        self.assertEqual(private.author.handle, "jeroen@mastodon.nl")
        self.assertEqual(private.author.name, "jeroen")  # no display name
        # each item keeps its notification as received
        raw = json.loads(first.raw)
        self.assertEqual((raw["type"], raw["status"]["id"]), ("mention", root["id"]))
        request = self.notification_requests()[0]
        self.assertIn("types%5B%5D=mention", request.raw_query)

    def test_first_run_reads_only_the_newest_page(self):
        statuses = [self.mention(ANNA, f"vraag {n}") for n in range(PAGE_SIZE + 5)]
        page = self.client().fetch("notifications")
        self.assertTrue(page.drained)
        self.assertEqual(len(page.posts), PAGE_SIZE)
        self.assertEqual(page.posts[0].external_id, statuses[-1]["id"])
        self.assertEqual(page.posts[-1].external_id, statuses[5]["id"])
        self.assertEqual(page.cursor, self.newest_notification())
        request = self.notification_requests()[0]
        self.assertEqual(request.query["limit"], str(PAGE_SIZE))
        self.assertNotIn("min_id", request.query)
        self.assertNotIn("since_id", request.query)

    def test_reads_forward_from_the_cursor_following_the_link_header(self):
        self.standin.page_size = 2
        old = self.mention(ANNA, "al gelezen")
        cursor = self.newest_notification()
        new = [self.mention(ANNA, f"nieuw {n}") for n in range(5)]
        self.standin.clear_log()
        pages = self.drain(self.client(), cursor)
        self.assertEqual([len(p.posts) for p in pages], [2, 2, 1, 0])
        read = [post.external_id for page in pages for post in page.posts]
        self.assertCountEqual(read, [s["id"] for s in new])
        self.assertNotIn(old["id"], read)
        self.assertEqual(pages[-2].cursor, self.newest_notification())
        self.assertIsNone(pages[-1].cursor)  # an empty page keeps what came before
        requests = self.notification_requests()
        self.assertEqual(requests[0].query["min_id"], cursor)
        # each next page starts at the Link header's "prev" (min_id) of the last
        for page, request in zip(pages, requests[1:], strict=False):
            self.assertEqual(request.query["min_id"], page.cursor)
            self.assertNotIn("since_id", request.query)
            self.assertNotIn("max_id", request.query)

    def test_nothing_new_is_one_empty_page(self):
        self.mention(ANNA, "al gelezen")
        page = self.client().fetch("notifications", self.newest_notification())
        self.assertEqual((page.posts, page.errors, page.cursor), ((), (), None))
        self.assertTrue(page.drained)

    def test_handle_change_keeps_the_account_id(self):
        self.mention(ANNA, "eerste")
        before = self.client().fetch("notifications").posts[0].author
        self.standin.rename_account(ANNA, "annadevries")
        self.mention(ANNA, "tweede")
        after = self.client().fetch("notifications").posts[0].author
        self.assertEqual(before.external_id, after.external_id)
        self.assertEqual(
            (before.handle, after.handle),
            (f"anna@{self.domain}", f"annadevries@{self.domain}"),
        )

    def test_html_becomes_plain_text(self):
        text = (
            "@PolderAir @jeroen@mastodon.nl <b>boos</b> & moe\n"
            "zie https://example.com/claim?id=1&lang=nl #KL1234\n\nTweede alinea"
        )
        status = self.standin.add_status(ANNA, text, spoiler_text="klacht")
        post = self.client().fetch("notifications").posts[0]
        self.assertEqual(status["id"], post.external_id)
        self.assertEqual(
            post.body,
            "klacht\n\n@PolderAir @jeroen <b>boos</b> & moe\n"
            "zie https://example.com/claim?id=1&lang=nl #KL1234\n\nTweede alinea",
        )
        self.assertEqual(
            html_to_text('<p>see <a href="https://a.example/x">our page</a></p>'),
            "see our page (https://a.example/x)",
        )

    def test_noise_is_told_apart(self):
        own = self.standin.add_status(ACCOUNT, "@PolderAir testing", notify=True)
        original = self.mention(ANNA, "goede service")
        boost = self.standin.add_status(
            JEROEN, "", reblog_of=original["id"], notify=True
        )

        def add_favourite(body):
            favourite = json.loads(json.dumps(body[0]))
            favourite.update(id="1", type="favourite")
            body.append(favourite)

        self.standin.malform_next("/api/v1/notifications", add_favourite)
        page = self.client().fetch("notifications")
        posts = {post.external_id: post for post in page.posts}
        self.assertEqual(set(posts), {own["id"], original["id"], boost["id"]})
        self.assertEqual(posts[own["id"]].direction, "outbound")
        self.assertTrue(posts[boost["id"]].is_repost)
        self.assertFalse(posts[original["id"]].is_repost)
        self.assertFalse(page.errors)

    def test_malformed_notification_fails_alone(self):
        good = self.mention(ANNA, "een goede")
        bad = self.mention(JEROEN, "een kapotte")

        def break_one(body):
            broken = next(n for n in body if n["status"]["id"] == bad["id"])
            broken["status"].pop("created_at")

        self.standin.malform_next("/api/v1/notifications", break_one)
        page = self.client().fetch("notifications", "0")
        self.assertEqual([p.external_id for p in page.posts], [good["id"]])
        (error,) = page.errors
        self.assertEqual(error.external_id, bad["id"])
        self.assertEqual(
            error.error,
            "Mastodon left out the field 'created_at' that every message has.",
        )
        self.assertEqual(error.detail, "KeyError: 'created_at'")
        self.assertIn("een kapotte", error.raw)
        self.assertEqual(error.partial.body, "@PolderAir een kapotte")
        self.assertEqual(error.partial.author_handle, "jeroen@mastodon.nl")
        self.assertEqual(error.partial.kind, "mention")
        self.assertIsNone(error.partial.posted_at)
        # the unreadable one was read too: the cursor passes it
        self.assertEqual(page.cursor, self.newest_notification())
        with self.assertRaises(PayloadError):
            self.client().parse_item(error.raw)

    def test_parse_item_reads_a_stored_notification_again(self):
        self.mention(ANNA, "opnieuw lezen", in_reply_to_id="113")
        post = self.client().fetch("notifications").posts[0]
        self.assertEqual(self.client().parse_item(post.raw), post)
        with self.assertRaises(PayloadError):
            self.client().parse_item("<html>")

    def test_page_that_is_no_json_is_kept_whole(self):
        self.standin.fail_next("/api/v1/notifications", 200, body="<html>proxy</html>")
        with self.assertRaises(PayloadError) as caught:
            self.client().fetch("notifications")
        self.assertIn("not JSON", caught.exception.message)
        self.assertEqual(caught.exception.raw, "<html>proxy</html>")

    # -- faults ------------------------------------------------------------

    def test_rate_limit_mid_paging_says_when_to_come_back(self):
        self.standin.page_size = 2
        for n in range(5):
            self.mention(ANNA, f"vraag {n}")
        reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=4)
        self.standin.fail_next(
            "/api/v1/notifications",
            429,
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat().replace("+00:00", ".000000Z"),
            },
            after=1,
        )
        client = self.client()
        first = client.fetch("notifications", "0")
        self.assertEqual(len(first.posts), 2)
        with self.assertRaises(ProviderRateLimited) as caught:
            client.fetch("notifications", "0", first.next_token)
        self.assertEqual(caught.exception.retry_at, reset.replace(tzinfo=None))
        self.assertIn("Too many requests", caught.exception.message)
        # the stand-in's own 429 carries a reset too
        self.standin.fail_next("/api/v1/notifications", 429)
        with self.assertRaises(ProviderRateLimited) as caught:
            client.fetch("notifications", "0")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        self.assertGreater(caught.exception.retry_at, now)

    def test_server_errors_and_timeouts_are_unavailable(self):
        self.standin.fail_next("/api/v1/notifications", 503)
        with self.assertRaises(ProviderUnavailable) as caught:
            self.client().fetch("notifications")
        self.assertEqual(caught.exception.status_code, 503)
        self.standin.fail_next("/api/v1/notifications", 502, body="<html>oops</html>")
        with self.assertRaises(ProviderUnavailable):
            self.client().fetch("notifications")
        self.standin.set_delay(1.0)
        with self.assertRaises(ProviderUnavailable) as caught:
            self.client(timeout=0.2).fetch("notifications")
        self.assertIn("ReadTimeout", caught.exception.message)

    # -- sending -----------------------------------------------------------

    def test_reply_keeps_the_parents_visibility_and_mentions_the_author(self):
        for visibility in ("public", "unlisted", "private", "direct"):
            parent = self.mention(JEROEN, f"vraag {visibility}", visibility=visibility)
            sent = self.client().send_reply(parent["id"], f"Antwoord {visibility}")
            posted = self.standin.posted[-1]
            self.assertEqual(posted["in_reply_to_id"], parent["id"])
            self.assertEqual(posted["visibility"], visibility)
            self.assertEqual(
                posted["text"], f"@jeroen@mastodon.nl Antwoord {visibility}"
            )
            self.assertEqual(posted["mentions"], ["jeroen@mastodon.nl"])
            self.assertEqual(sent.external_id, posted["id"])
            self.assertEqual(
                sent.url, f"{self.standin.base_url}/@PolderAir/{posted['id']}"
            )
        post = self.standin.requests[-1]
        self.assertEqual(post.method, "POST")
        self.assertTrue(post.header("Idempotency-Key"))

    def test_reply_that_mentions_the_author_is_sent_as_written(self):
        parent = self.mention(ANNA, "hallo")
        self.client().send_reply(parent["id"], "Hoi @Anna, we kijken ernaar.")
        self.assertEqual(
            self.standin.posted[-1]["text"], "Hoi @Anna, we kijken ernaar."
        )
        ours = self.standin.add_status(ACCOUNT, "Nieuwe route!")
        self.client().send_reply(ours["id"], "Vanaf maart.")
        self.assertEqual(self.standin.posted[-1]["text"], "Vanaf maart.")

    def test_private_reply_is_a_direct_status_mentioning_the_customer(self):
        sent = self.client().send_private(ANNA, "Stuur je je boekingscode?")
        posted = self.standin.posted[-1]
        self.assertEqual(posted["visibility"], "direct")
        self.assertIsNone(posted["in_reply_to_id"])
        self.assertEqual(posted["text"], "@anna Stuur je je boekingscode?")
        self.assertEqual(posted["mentions"], ["anna"])
        self.assertEqual(sent.external_id, posted["id"])

    def test_refusals_carry_mastodons_reason(self):
        parent = self.mention(ANNA, "hallo")
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_reply(parent["id"], "x" * 501)
        self.assertEqual(caught.exception.status_code, 422)
        self.assertIn(
            "Validation failed: Text character limit of 500 exceeded",
            caught.exception.message,
        )
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_reply("404404", "Hallo")
        self.assertIn("post to reply to is no longer", caught.exception.message)
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_private("404404", "Hallo")
        self.assertIn("Record not found", caught.exception.message)
        self.assertFalse(self.standin.posted)

    def test_sending_twice_posts_once(self):
        parent = self.mention(ANNA, "hallo")
        first = self.client().send_reply(parent["id"], "Een antwoord")
        again = self.client().send_reply(parent["id"], "Een antwoord")
        self.assertEqual(first, again)
        self.assertEqual(len(self.standin.posted), 1)

    def test_lost_answer_to_a_post_is_not_retried_blindly(self):
        parent = self.mention(ANNA, "hallo")
        self.standin.slow_posts(1.0)
        with self.assertRaises(ProviderError) as caught:
            self.client(timeout=0.3).send_reply(parent["id"], "Een antwoord")
        self.assertNotIsInstance(caught.exception, ProviderUnavailable)
        self.assertIn("may have been sent", caught.exception.message)
        self.assertEqual(len(self.standin.posted), 1)
        # sending it again (the agent's Retry) returns the status already posted
        self.standin.slow_posts(0)
        sent = self.client().send_reply(parent["id"], "Een antwoord")
        self.assertEqual(len(self.standin.posted), 1)
        self.assertEqual(sent.external_id, self.standin.posted[0]["id"])
