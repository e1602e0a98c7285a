"""XClient against the local X API v2 stand-in, over real HTTP."""

import json
import socket
import time
from datetime import datetime
from pathlib import Path

from odoo.tests import BaseCase, tagged

from ..exceptions import (
    InvalidCursor,
    PayloadError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderUnavailable,
)
from ..services.base import get_provider_class
from ..services.x_client import XClient
from .x_standin import XApiStandin

DATASET = Path(__file__).resolve().parent.parent / "demo" / "x_demo_dataset.json"
ACCOUNT = "1500000000000000001"
ANNA = "1600000000000000011"
JEROEN = "1600000000000000012"
DAVE = "1700000000000000032"
# Tweets of the demo dataset.
OWN_POST = "2121890950149046289"
RT_NOOR = "2121902778086330385"
JEROEN_DELAY = "2122234463646658577"
AGENT_JEROEN = "2122238741836742673"
JEROEN_AGAIN = "2122243523343306769"
FEMKE_NEVER = "2123012087608307729"
DAVE_AGAIN = "2122797423129575441"
THOMAS_HTML = "2123094883169275921"
JEROEN_NEW_HANDLE = "2123317852369924113"
MALFORMED = "2123359124321292305"
MARK_THANKS = "2123660107576348689"
DEMO_TWEETS = 27


@tagged("post_install", "-at_install", "webcare_x")
class TestXClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dataset = json.loads(DATASET.read_text(encoding="utf-8"))

    def setUp(self):
        super().setUp()
        self.standin = XApiStandin(self.dataset).start()
        self.addCleanup(self.standin.stop)

    def _client(self, credentials=None, timeout=5.0):
        return XClient(
            self.standin.base_url,
            credentials or self.standin.credentials,
            account_id=ACCOUNT,
            timeout=timeout,
        )

    def _all_mentions(self, client):
        """Follow next_token to the end; return the list of pages."""
        pages = [client.fetch_mentions()]
        while pages[-1].next_token:
            token = pages[-1].next_token
            pages.append(client.fetch_mentions(pagination_token=token))
        return pages

    def _one_page(self):
        """Return every demo mention in a single page, by id."""
        self.standin.page_size = None
        page = self._client().fetch_mentions()
        self.assertIsNone(page.next_token)
        return page, {post.external_id: post for post in page.posts}

    # -- identity and auth -------------------------------------------------

    def test_registry_picks_the_x_client(self):
        self.assertIs(get_provider_class("x"), XClient)
        with self.assertRaises(ProviderError):
            get_provider_class("myspace")

    def test_whoami_with_oauth1_user_context(self):
        client = self._client()
        self.assertEqual(client.auth_mode, "oauth1")
        me = client.whoami()
        self.assertEqual((me.external_id, me.handle), (ACCOUNT, "PolderAir"))
        self.assertEqual(me.followers_count, 48213)
        self.assertTrue(me.verified)
        request = self.standin.requests[-1]
        self.assertEqual(request.path, "/2/users/me")
        self.assertIn("public_metrics", request.query["user.fields"])
        self.assertTrue(request.headers["Authorization"].startswith("OAuth "))
        self.assertIn(
            'oauth_consumer_key="standin-consumer-key"',
            request.headers["Authorization"],
        )

    def test_whoami_with_bearer_token(self):
        client = self._client(self.standin.bearer_credentials)
        self.assertEqual(client.auth_mode, "bearer")
        self.assertEqual(client.whoami().handle, "PolderAir")
        auth = self.standin.requests[-1].headers["Authorization"]
        self.assertEqual(auth, "Bearer standin-bearer")

    def test_wrong_bearer_token_is_an_auth_error(self):
        client = self._client({"bearer_token": "expired"})
        with self.assertRaises(ProviderAuthError) as caught:
            client.whoami()
        self.assertEqual(caught.exception.status_code, 401)
        self.assertIn("Unauthorized", caught.exception.message)

    def test_bad_oauth1_signature_is_an_auth_error(self):
        credentials = dict(self.standin.credentials, access_token_secret="wrong")
        with self.assertRaises(ProviderAuthError):
            self._client(credentials).whoami()

    def test_forbidden_shows_x_detail(self):
        detail = (
            "Your client app is not configured with the appropriate oauth1 app "
            "permissions for this endpoint."
        )
        self.standin.fail_next(
            "/2/users/me",
            403,
            body={"title": "Forbidden", "status": 403, "detail": detail},
        )
        with self.assertRaises(ProviderAuthError) as caught:
            self._client().whoami()
        self.assertIn("Forbidden", caught.exception.message)
        self.assertIn("oauth1 app permissions", caught.exception.message)

    def test_secrets_stay_out_of_repr_and_logs(self):
        client = self._client(self.standin.bearer_credentials)
        self.assertNotIn("standin-bearer", repr(client))
        with self.assertLogs("tweepy.client", "DEBUG") as logs:
            client.whoami()
        output = "\n".join(logs.output)
        self.assertNotIn("standin-bearer", output)
        self.assertIn("Bearer ***", output)

    # -- mentions ------------------------------------------------------------

    def test_mentions_request_asks_for_the_documented_fields(self):
        self._client().fetch_mentions(since_id=OWN_POST)
        request = self.standin.requests[-1]
        self.assertEqual(request.path, f"/2/users/{ACCOUNT}/mentions")
        self.assertEqual(request.query["max_results"], "100")
        self.assertEqual(request.query["since_id"], OWN_POST)
        self.assertIn("referenced_tweets.id.author_id", request.query["expansions"])
        self.assertIn("conversation_id", request.query["tweet.fields"])

    def test_mentions_kinds_directions_and_reposts(self):
        page, posts = self._one_page()
        self.assertEqual(len(posts) + len(page.errors), DEMO_TWEETS)
        self.assertEqual(page.cursor, MARK_THANKS)
        self.assertEqual(posts[OWN_POST].direction, "outbound")
        self.assertEqual(posts[OWN_POST].kind, "mention")
        self.assertTrue(posts[RT_NOOR].is_repost)
        self.assertEqual(posts[RT_NOOR].author.handle, "noor_travels")
        self.assertFalse(posts[JEROEN_DELAY].is_repost)
        agent = posts[AGENT_JEROEN]
        self.assertEqual((agent.kind, agent.direction), ("reply", "outbound"))
        outbound = [p for p in posts.values() if p.direction == "outbound"]
        self.assertEqual(len(outbound), 6)
        self.assertEqual(sum(p.is_repost for p in posts.values()), 2)

    def test_mentions_thread_references(self):
        _page, posts = self._one_page()
        again = posts[JEROEN_AGAIN]
        self.assertEqual(again.kind, "reply")
        self.assertEqual(again.direction, "inbound")
        self.assertEqual(again.parent_ref, AGENT_JEROEN)
        self.assertEqual(again.conversation_ref, JEROEN_DELAY)
        root = posts[JEROEN_DELAY]
        self.assertIsNone(root.parent_ref)
        self.assertEqual(root.conversation_ref, JEROEN_DELAY)
        self.assertIn(f'"id": "{AGENT_JEROEN}"', again.raw)  # parent included

    def test_mentions_author_language_time_and_url(self):
        _page, posts = self._one_page()
        femke = posts[FEMKE_NEVER]
        self.assertEqual(femke.author.followers_count, 251300)
        self.assertTrue(femke.author.verified)
        self.assertEqual(femke.lang, "nl")
        self.assertIn("Schandalig", femke.body)
        self.assertEqual(femke.posted_at, datetime(2026, 11, 18, 11, 15))
        self.assertIsNone(femke.posted_at.tzinfo)
        self.assertEqual(femke.url, f"https://x.com/femkereist/status/{FEMKE_NEVER}")
        self.assertEqual(posts[THOMAS_HTML].lang, "en")

    def test_mentions_body_is_plain_text(self):
        page, posts = self._one_page()
        self.assertIn("&lt;b&gt;Flight cancelled&lt;/b&gt;", page.raw)
        self.assertIn("<b>Flight cancelled</b>", posts[THOMAS_HTML].body)
        self.assertIn("<script>", posts[THOMAS_HTML].body)
        self.assertTrue(posts[DAVE_AGAIN].body.endswith("a joke & you know it."))

    def test_author_missing_from_includes_is_an_item_error(self):
        page, posts = self._one_page()
        self.assertEqual(len(page.errors), 1)
        error = page.errors[0]
        self.assertEqual(error.external_id, MALFORMED)
        self.assertEqual(
            error.error,
            "X did not send the account that wrote this (user ID 1700000000000000099); "
            "it may be suspended, deleted or protected.",
        )
        self.assertTrue(error.detail.startswith("PayloadError: "), error.detail)
        self.assertIn("terugbetaling", error.raw)
        self.assertNotIn(MALFORMED, posts)

    def test_what_could_be_read_of_a_broken_item_is_kept(self):
        page, _posts = self._one_page()
        partial = page.errors[0].partial
        self.assertEqual(partial.body, "@PolderAir waar blijft mijn terugbetaling???")
        self.assertEqual(partial.kind, "mention")
        self.assertEqual(partial.posted_at, datetime(2026, 11, 19, 10, 14))
        self.assertEqual(partial.author_external_id, "1700000000000000099")
        self.assertIsNone(partial.author_handle)  # that is what X left out
        self.assertIsNone(partial.url)

    def test_broken_reply_keeps_its_author_and_link(self):
        self.standin.malform_next(
            "/2/users/", lambda body: body["data"][0].pop("created_at")
        )
        page = self._client().fetch_mentions()
        (broken,) = [e for e in page.errors if e.external_id == MARK_THANKS]
        self.assertEqual(
            broken.error, "X left out the field 'created_at' that every message has."
        )
        self.assertEqual(broken.detail, "KeyError: 'created_at'")
        partial = broken.partial
        self.assertIsNone(partial.posted_at)
        self.assertEqual(partial.kind, "reply")
        self.assertEqual(partial.author_handle, "markvisser_nl")
        self.assertEqual(
            partial.url, f"https://x.com/markvisser_nl/status/{MARK_THANKS}"
        )
        self.assertEqual(partial.body, "@PolderAir Gelukt, dank jullie wel! 👍")

    def test_missing_created_at_only_spoils_that_item(self):
        self.standin.malform_next(
            "/2/users/", lambda body: body["data"][0].pop("created_at")
        )
        page = self._client().fetch_mentions()
        self.assertEqual(len(page.posts), 8)
        broken = [e for e in page.errors if e.external_id == MARK_THANKS]
        self.assertEqual(len(broken), 1)
        self.assertIn("created_at", broken[0].error)

    def test_pagination_walks_every_page_once(self):
        pages = self._all_mentions(self._client())
        self.assertEqual(len(pages), 3)
        ids = [p.external_id for page in pages for p in page.posts]
        self.assertEqual(ids, sorted(ids, key=int, reverse=True))  # newest first
        ids += [e.external_id for page in pages for e in page.errors]
        self.assertEqual(len(ids), DEMO_TWEETS)
        self.assertEqual(len(set(ids)), DEMO_TWEETS)
        tokens = [r.query.get("pagination_token") for r in self.standin.requests]
        self.assertEqual(tokens[1:], [pages[0].next_token, pages[1].next_token])

    def test_handle_change_keeps_the_author_id(self):
        pages = self._all_mentions(self._client())
        posts = {p.external_id: p for page in pages for p in page.posts}
        old, new = posts[JEROEN_DELAY].author, posts[JEROEN_NEW_HANDLE].author
        self.assertEqual((old.external_id, old.handle), (JEROEN, "jbakker"))
        self.assertEqual((new.external_id, new.handle), (JEROEN, "jeroenbakker"))

    def test_since_id_returns_only_newer_mentions(self):
        client = self._client()
        self.assertEqual(client.fetch_mentions(since_id=MARK_THANKS).posts, ())
        tweet = self.standin.add_tweet(ANNA, "@PolderAir Koffer is binnen, dank!")
        page = client.fetch_mentions(since_id=MARK_THANKS)
        self.assertEqual([p.external_id for p in page.posts], [tweet["id"]])
        self.assertEqual(page.cursor, tweet["id"])
        self.assertEqual(page.posts[0].author.handle, "AnnaDV")

    def test_rejected_cursor_is_invalid_cursor(self):
        client = self._client()
        with self.assertRaises(InvalidCursor):
            client.fetch_mentions(since_id="yesterday")
        with self.assertRaises(InvalidCursor):
            client.fetch_mentions(pagination_token="7140dibdnow9c7btw3w29")
        body = {
            "errors": [
                {
                    "message": "Invalid 'since_id': it must be a tweet id "
                    "created after 2010-11-04."
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
        }
        self.standin.fail_next("/2/users/", 400, body=body)
        with self.assertRaises(InvalidCursor):
            client.fetch_mentions(since_id="1")

    def test_other_bad_request_is_a_provider_error(self):
        self.standin.fail_next(
            "/2/users/", 400, body={"title": "Invalid Request", "detail": "max_results"}
        )
        with self.assertRaises(ProviderError) as caught:
            self._client().fetch_mentions()
        self.assertNotIsInstance(caught.exception, InvalidCursor)
        self.assertEqual(caught.exception.status_code, 400)

    # -- direct messages -----------------------------------------------------

    def test_dms_in_both_directions(self):
        page = self._client().fetch_dms()
        self.assertEqual(len(page.posts), 6)
        self.assertEqual(page.errors, ())
        anna = [p for p in page.posts if p.conversation_ref == f"{ACCOUNT}-{ANNA}"]
        self.assertEqual(
            [p.direction for p in anna], ["inbound", "outbound", "inbound"]
        )
        self.assertEqual(anna[1].author.handle, "PolderAir")
        self.assertEqual(anna[0].author.external_id, ANNA)
        self.assertTrue(all(p.kind == "dm" and p.url is None for p in page.posts))
        self.assertEqual(page.cursor, anna[0].external_id)
        query = self.standin.requests[-1].query
        self.assertEqual(query["event_types"], "MessageCreate")
        self.assertIn("dm_conversation_id", query["dm_event.fields"])

    def test_dm_pagination(self):
        self.standin.page_size = 2
        client = self._client()
        first = client.fetch_dms()
        second = client.fetch_dms(pagination_token=first.next_token)
        self.assertEqual(len(first.posts), 2)
        self.assertEqual(len(second.posts), 2)
        self.assertLess(
            int(second.posts[0].external_id), int(first.posts[-1].external_id)
        )

    # -- writing -------------------------------------------------------------

    def test_post_reply_is_recorded_and_threaded(self):
        new_id = (
            self._client()
            .send_reply(MARK_THANKS, "@markvisser_nl Fijn dat het gelukt is! ^LK")
            .external_id
        )
        self.assertEqual(self.standin.posted[-1]["id"], new_id)
        self.assertEqual(self.standin.posted[-1]["in_reply_to_tweet_id"], MARK_THANKS)
        sent = json.loads(self.standin.requests[-1].body)
        self.assertEqual(sent["reply"], {"in_reply_to_tweet_id": MARK_THANKS})
        stored = self.standin.tweets[new_id]
        self.assertEqual(stored["author_id"], ACCOUNT)
        self.assertEqual(
            stored["conversation_id"],
            self.standin.tweets[MARK_THANKS]["conversation_id"],
        )
        page = self._client().fetch_mentions(since_id=MARK_THANKS)
        self.assertEqual(page.posts, ())  # our reply does not mention @PolderAir

    def test_duplicate_reply_is_not_an_auth_error(self):
        client = self._client()
        client.send_reply(MARK_THANKS, "@markvisser_nl Graag gedaan!")
        with self.assertRaises(ProviderRefused) as caught:
            client.send_reply(MARK_THANKS, "@markvisser_nl Graag gedaan!")
        self.assertNotIsInstance(caught.exception, ProviderAuthError)
        self.assertIn("duplicate", caught.exception.message)

    def test_reply_to_a_post_that_did_not_mention_us_is_refused(self):
        stranger = self.standin.add_tweet(DAVE, "flying to London tomorrow")
        with self.assertRaises(ProviderRefused) as caught:
            self._client().send_reply(stranger["id"], "@dave_collins_uk Safe trip!")
        self.assertIn("not allowed", caught.exception.message)
        self.assertIn("mentioned", caught.exception.message)
        self.assertFalse(self.standin.posted)

    def test_dm_refused_when_the_customer_does_not_accept_dms(self):
        self.standin.users[DAVE]["accepts_dms"] = False
        with self.assertRaises(ProviderRefused) as caught:
            self._client().send_private(DAVE, "Can you send us your booking ref?")
        self.assertIn("not allowed to send Direct Messages", caught.exception.message)
        self.assertFalse(self.standin.posted)

    def test_send_dm_is_recorded(self):
        client = self._client()
        sent = client.send_private(DAVE, "Your bag is on PA1413. ^SV")
        event_id = sent.external_id
        self.assertEqual(sent.conversation_ref, self.standin.conversation_with(DAVE))
        posted = self.standin.posted[-1]
        self.assertEqual((posted["kind"], posted["id"]), ("dm", event_id))
        self.assertEqual(posted["recipient_id"], DAVE)
        self.assertEqual(
            self.standin.requests[-1].path, f"/2/dm_conversations/with/{DAVE}/messages"
        )
        newest = client.fetch_dms().posts[0]
        self.assertEqual((newest.external_id, newest.direction), (event_id, "outbound"))

    # -- faults --------------------------------------------------------------

    def test_rate_limit_gives_retry_time(self):
        self.standin.fail_next(
            "/2/users/", 429, headers={"x-rate-limit-reset": "1795000000"}
        )
        with self.assertRaises(ProviderRateLimited) as caught:
            self._client().fetch_mentions()
        self.assertEqual(caught.exception.retry_at, datetime(2026, 11, 18, 11, 6, 40))
        self.assertEqual(caught.exception.status_code, 429)

    def test_rate_limit_without_reset_header(self):
        self.standin.fail_next("/2/dm_events", 429, headers={"x-other": "1"})
        with self.assertRaises(ProviderRateLimited) as caught:
            self._client().fetch_dms()
        self.assertIsNone(caught.exception.retry_at)

    def test_server_errors_are_unavailable(self):
        client = self._client()
        self.standin.fail_next("/2/users/", 503)
        with self.assertRaises(ProviderUnavailable):
            client.fetch_mentions()
        self.standin.fail_next(
            "/2/users/", 502, body="<html><h1>Bad gateway</h1></html>"
        )
        with self.assertRaises(ProviderUnavailable) as caught:
            client.fetch_mentions()
        self.assertEqual(caught.exception.status_code, 502)
        self.assertEqual(len(client.fetch_mentions().posts), 9)  # recovered

    def test_timeout_is_unavailable(self):
        self.standin.set_delay(2.0)
        client = self._client(timeout=0.3)
        started = time.monotonic()
        with self.assertRaises(ProviderUnavailable):
            client.whoami()
        self.assertLess(time.monotonic() - started, 1.5)

    def test_connection_refused_is_unavailable(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = XClient(
            f"http://127.0.0.1:{port}", self.standin.credentials, ACCOUNT, 2.0
        )
        with self.assertRaises(ProviderUnavailable):
            client.whoami()

    def test_non_json_body_is_a_payload_error(self):
        self.standin.fail_next(
            "/2/users/", 200, body="<html>Something went wrong</html>"
        )
        with self.assertRaises(PayloadError):
            self._client().fetch_mentions()
