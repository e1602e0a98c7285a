"""BlueskyClient against the local Bluesky stand-in, over real HTTP."""

import json
import socket
from datetime import datetime, timedelta, timezone

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
from ..services import bluesky_client
from ..services.base import get_provider_class
from ..services.bluesky_client import BlueskyClient
from .bluesky_standin import CHAT_PROXY, BlueskyStandin

ANNA = "did:plc:anna2devries3bsky4social5"
JEROEN = "did:plc:jeroen2bakker3bsky4socia5"
FAN = "did:plc:fan2of3polderair4bsky5soc"
NOTIFICATIONS = "app.bsky.notification.listNotifications"
CREATE_RECORD = "com.atproto.repo.createRecord"


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


class BlueskyCase(BaseCase):
    """A started stand-in with a few customers; clients made on demand."""

    def setUp(self):
        super().setUp()
        self.bsky = BlueskyStandin().start()
        self.addCleanup(self.bsky.stop)
        self.bsky.add_actor(ANNA, "anna.bsky.social", "Anna de Vries", followers=812)
        self.bsky.add_actor(JEROEN, "jeroen.bakker.nl", "", followers=120_000)
        self.bsky.add_actor(FAN, "fan.bsky.social", "Fan")
        self.our = "@polderair.bsky.social"

    def client(self, session=None, timeout=5.0, **credentials):
        values = {**self.bsky.credentials, "provider_session": session, **credentials}
        return BlueskyClient(
            self.bsky.base_url, values, account_id=self.bsky.did, timeout=timeout
        )

    def read_all(self, client, stream="notifications", cursor=None):
        """Follow ``next_token`` to the end; return the pages."""
        pages = [client.fetch(stream, cursor)]
        while pages[-1].next_token:
            pages.append(client.fetch(stream, cursor, pages[-1].next_token))
        return pages

    def mention(self, did, text, **options):
        return self.bsky.add_post(did, f"{self.our} {text}", **options)


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskySession(BlueskyCase):
    def test_registry_and_credentials(self):
        self.assertIs(get_provider_class("bluesky"), BlueskyClient)
        self.assertEqual(
            BlueskyClient.credential_fields,
            ("account_login", "app_password", "provider_session"),
        )
        self.assertEqual(BlueskyClient.stream_codes(), ("notifications", "chat"))
        self.assertNotIn(self.bsky.password, repr(self.client()))

    def test_whoami_logs_in_once_and_reads_the_profile(self):
        client = self.client()
        me = client.whoami()
        self.assertEqual(
            (me.external_id, me.handle, me.name, me.followers_count),
            (self.bsky.did, "polderair.bsky.social", "PolderAir", 5210),
        )
        self.assertEqual(self.bsky.logins, 1)
        login = self.bsky.calls("com.atproto.server.createSession")[0].json
        self.assertEqual(
            login,
            {"identifier": "polderair.bsky.social", "password": self.bsky.password},
        )
        state = json.loads(client.session_state())
        self.assertEqual(state["did"], self.bsky.did)
        self.assertEqual(state["handle"], "polderair.bsky.social")
        self.assertIn(state["accessJwt"], self.bsky.access_tokens)
        self.assertIn(state["refreshJwt"], self.bsky.refresh_tokens)

    def test_session_is_kept_across_clients_and_runs(self):
        first = self.client()
        first.whoami()
        kept = first.session_state()
        for _run in range(3):
            client = self.client(session=kept)
            client.whoami()
            self.read_all(client)
            self.assertIsNone(client.session_state(), "nothing new to keep")
        self.assertEqual(self.bsky.logins, 1)
        self.assertEqual(self.bsky.refreshes, 0)

    def test_expired_access_token_is_refreshed_without_login(self):
        first = self.client()
        first.whoami()
        kept = first.session_state()
        self.bsky.expire_session()
        client = self.client(session=kept)
        self.mention(ANNA, "hallo")
        page = client.fetch("notifications")
        self.assertEqual(len(page.posts), 1)
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 1))
        renewed = json.loads(client.session_state())
        self.assertNotEqual(renewed["refreshJwt"], json.loads(kept)["refreshJwt"])
        refresh = self.bsky.calls("com.atproto.server.refreshSession")[0]
        self.assertEqual(
            refresh.header("Authorization"), f"Bearer {json.loads(kept)['refreshJwt']}"
        )
        # the rotated session works for the next run, still without a login
        self.bsky.expire_session()
        self.client(session=client.session_state()).fetch("notifications")
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 2))

    def test_refused_refresh_logs_in_again_once(self):
        first = self.client()
        first.whoami()
        self.bsky.revoke_sessions()
        client = self.client(session=first.session_state())
        client.fetch("notifications")
        self.assertEqual(self.bsky.logins, 2)
        self.assertIsNotNone(client.session_state())

    def test_refused_refresh_and_revoked_password_is_an_auth_error(self):
        first = self.client()
        first.whoami()
        self.bsky.revoke_sessions()
        old_password, self.bsky.password = self.bsky.password, "new1-pass-word-here"
        client = self.client(session=first.session_state(), app_password=old_password)
        with self.assertRaises(ProviderAuthError) as caught:
            client.fetch("notifications")
        self.assertIn("Invalid identifier or password", caught.exception.message)

    def test_wrong_or_missing_password(self):
        with self.assertRaises(ProviderAuthError):
            self.client(app_password="wrong").whoami()
        with self.assertRaises(ProviderAuthError) as caught:
            self.client(app_password=None).whoami()
        self.assertIn("app password", caught.exception.message)
        self.assertEqual(len(self.bsky.calls("com.atproto.server.createSession")), 1)

    def test_sign_in_code_asks_for_an_app_password(self):
        self.bsky.require_auth_factor = True
        with self.assertRaises(ProviderAuthError) as caught:
            self.client().whoami()
        self.assertIn("app password", caught.exception.message)

    def test_session_of_another_account_is_not_used(self):
        first = self.client()
        first.whoami()
        other = json.loads(first.session_state())
        other.update(did="did:plc:someone2else", handle="someone.bsky.social")
        self.client(session=json.dumps(other)).whoami()
        self.assertEqual(self.bsky.logins, 2)

    def test_unreadable_kept_session_means_a_login(self):
        client = self.client(session="{not json")
        client.whoami()
        self.assertEqual(self.bsky.logins, 1)

    def test_persistent_401_is_an_auth_error(self):
        client = self.client()
        client.whoami()
        self.bsky.fail_next(f"/xrpc/{NOTIFICATIONS}", 401, times=2)
        with self.assertRaises(ProviderAuthError):
            client.fetch("notifications")
        self.assertEqual(self.bsky.refreshes, 1, "one refresh tried, no loop")


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyNotifications(BlueskyCase):
    def test_mention_reply_and_quote(self):
        root = self.mention(ANNA, "mijn koffer is kwijt", langs=["nl-NL"])
        ours = self.bsky.add_post(
            self.bsky.did, "@anna.bsky.social Vervelend!", reply_to=root
        )
        answer = self.bsky.add_post(ANNA, "Dank je, nog niets", reply_to=ours)
        quote = self.bsky.add_post(FAN, "kijk dit", quote_of=ours, langs=["en"])
        pages = self.read_all(self.client())
        posts = {p.external_id: p for page in pages for p in page.posts}
        self.assertEqual(set(posts), {root["uri"], answer["uri"], quote["uri"]})
        first = posts[root["uri"]]
        self.assertEqual(
            (first.kind, first.direction, first.lang, first.conversation_ref),
            ("mention", "inbound", "nl", root["uri"]),
        )
        self.assertIsNone(first.parent_ref)
        self.assertEqual(first.body, f"{self.our} mijn koffer is kwijt")
        rkey = root["uri"].rsplit("/", 1)[1]
        self.assertEqual(
            first.url, f"https://bsky.app/profile/anna.bsky.social/post/{rkey}"
        )
        self.assertEqual(
            first.posted_at,
            bluesky_client.parse_time(root["record"]["createdAt"]),
        )
        self.assertIsNone(first.posted_at.tzinfo)
        author = first.author
        self.assertEqual(
            (author.external_id, author.handle, author.name, author.followers_count),
            (ANNA, "anna.bsky.social", "Anna de Vries", 812),
        )
        reply = posts[answer["uri"]]
        self.assertEqual(reply.kind, "reply")
        self.assertEqual(reply.parent_ref, ours["uri"])
        self.assertEqual(reply.conversation_ref, root["uri"], "threaded by the root")
        self.assertEqual(posts[quote["uri"]].kind, "mention")
        self.assertEqual(posts[quote["uri"]].conversation_ref, quote["uri"])
        self.assertEqual(posts[quote["uri"]].lang, "en")
        # our own reply made no notification
        self.assertNotIn(ours["uri"], posts)

    def test_author_without_display_name_is_named_by_handle(self):
        self.mention(JEROEN, "vertraging")
        post = self.client().fetch("notifications").posts[0]
        self.assertEqual(post.author.name, "jeroen.bakker.nl")
        self.assertEqual(post.author.followers_count, 120_000)

    def test_request_asks_for_posts_only_with_the_session(self):
        client = self.client()
        client.fetch("notifications")
        call = self.bsky.calls(NOTIFICATIONS)[0]
        self.assertIn("reasons=mention&reasons=reply&reasons=quote", call.raw_query)
        token = json.loads(client.session_state())["accessJwt"]
        self.assertEqual(call.header("Authorization"), f"Bearer {token}")
        self.assertFalse(call.header("atproto-proxy"))

    def test_likes_reposts_and_follows_are_not_posts(self):
        ours = self.bsky.add_post(self.bsky.did, "Nieuwe route naar Porto!")
        self.bsky.add_like(FAN, ours["uri"])
        self.bsky.add_repost(FAN, ours["uri"])
        self.bsky.add_follow(FAN)
        question = self.mention(ANNA, "vlucht op tijd?")
        self.bsky.ignore_reasons = True  # a server that sends every reason
        page = self.client().fetch("notifications")
        self.assertEqual(len(json.loads(page.raw)["notifications"]), 4)
        self.assertEqual([p.external_id for p in page.posts], [question["uri"]])
        self.assertFalse(page.errors)

    def test_own_post_in_notifications_is_outbound(self):
        self.bsky.add_actor(self.bsky.did, "polderair.bsky.social", "PolderAir")
        post = self.bsky.add_post(FAN, f"{self.our} hoi")
        self.bsky.notifications[-1]["author"] = self.bsky.did  # a self-notification
        page = self.client().fetch("notifications")
        self.assertEqual(page.posts[0].external_id, post["uri"])
        self.assertEqual(page.posts[0].direction, "outbound")

    def test_first_read_walks_every_page_and_keeps_the_newest_time(self):
        self.bsky.page_size = 2
        made = [self.mention(ANNA, f"vraag {n}") for n in range(5)]
        pages = self.read_all(self.client())
        self.assertEqual(len(pages), 3)
        uris = [p.external_id for page in pages for p in page.posts]
        self.assertEqual(uris, [m["uri"] for m in reversed(made)], "newest first, once")
        self.assertEqual(pages[0].cursor, made[-1]["indexedAt"])
        self.assertEqual([p.cursor for p in pages[1:]], [None, None])
        self.assertTrue(pages[-1].drained)

    def test_first_read_stops_after_its_page_budget(self):
        self.bsky.page_size = 1
        for n in range(bluesky_client.FIRST_READ_PAGES + 3):
            self.mention(ANNA, f"oud {n}")
        pages = self.read_all(self.client())
        self.assertEqual(len(pages), bluesky_client.FIRST_READ_PAGES)

    def test_paging_back_stops_at_what_was_read_before(self):
        self.bsky.page_size = 2
        hours_ago = _now() - timedelta(hours=3)
        for n in range(6):
            self.mention(ANNA, f"oud {n}", at=hours_ago + timedelta(minutes=10 * n))
        client = self.client()
        cursor = self.read_all(client)[0].cursor
        self.bsky.clear_log()
        fresh = [self.mention(JEROEN, f"nieuw {n}") for n in range(3)]
        pages = self.read_all(client, cursor=cursor)
        # two new, then the third new and the newest old one (the cursor), then
        # two old ones 10 and 20 minutes before it: past the overlap, reached
        self.assertEqual(len(self.bsky.calls(NOTIFICATIONS)), 3)
        self.assertEqual(len(pages), 3)
        read = [p.external_id for page in pages for p in page.posts]
        self.assertEqual(read[:3], [f["uri"] for f in reversed(fresh)])
        self.assertEqual(pages[0].cursor, fresh[-1]["indexedAt"])
        # nothing new: back through the overlap (the three new ones were 10
        # seconds apart) to the old ones, the cursor stays
        self.bsky.clear_log()
        again = self.read_all(client, cursor=pages[0].cursor)
        self.assertEqual(len(self.bsky.calls(NOTIFICATIONS)), 2)
        self.assertEqual(again[0].cursor, pages[0].cursor)

    def test_handle_change_keeps_the_did(self):
        self.mention(ANNA, "oude naam")
        client = self.client()
        cursor = client.fetch("notifications").cursor
        self.bsky.rename_actor(ANNA, "annadevries.nl")
        post = client.fetch("notifications", cursor).posts[0]
        self.assertEqual(post.author.external_id, ANNA)
        self.assertEqual(post.author.handle, "annadevries.nl")
        self.assertIn("/profile/annadevries.nl/post/", post.url)

    def test_cursor_that_is_no_time_is_invalid(self):
        with self.assertRaises(InvalidCursor):
            self.client().fetch("notifications", "not-a-time")

    def test_server_refusing_its_cursor_is_invalid_cursor(self):
        self.bsky.page_size = 1
        self.mention(ANNA, "een")
        self.mention(ANNA, "twee")
        client = self.client()
        with self.assertRaises(InvalidCursor):
            client.fetch("notifications", None, "1:bm90LWEtY3Vyc29y")

    def test_malformed_item_spoils_only_itself(self):
        good = self.mention(ANNA, "goed")
        broken = self.mention(JEROEN, "kapot")

        def drop_time(body):
            body["notifications"][0]["record"].pop("createdAt")

        self.bsky.malform_next(f"/xrpc/{NOTIFICATIONS}", drop_time)
        client = self.client()
        page = client.fetch("notifications")
        self.assertEqual([p.external_id for p in page.posts], [good["uri"]])
        (error,) = page.errors
        self.assertEqual(error.external_id, broken["uri"])
        self.assertIn("createdAt", error.error)
        self.assertEqual(error.partial.author_external_id, JEROEN)
        self.assertEqual(error.partial.author_handle, "jeroen.bakker.nl")
        self.assertEqual(error.partial.body, f"{self.our} kapot")
        self.assertIn("/profile/jeroen.bakker.nl/post/", error.partial.url)
        self.assertIn(broken["uri"], error.raw)
        with self.assertRaises(PayloadError):
            client.parse_item(error.raw)
        # the stored raw of a good item reads back to the same post
        self.assertEqual(client.parse_item(page.posts[0].raw), page.posts[0])

    def test_rate_limit_gives_the_reset_time(self):
        reset = _now() + timedelta(minutes=4)
        self.bsky.rate_limit_next(NOTIFICATIONS, reset)
        with self.assertRaises(ProviderRateLimited) as caught:
            self.client().fetch("notifications")
        self.assertEqual(caught.exception.retry_at, reset)

    def test_rate_limit_with_only_retry_after(self):
        self.bsky.fail_next(
            f"/xrpc/{NOTIFICATIONS}", 429, headers={"Retry-After": "90"}
        )
        before = _now()
        with self.assertRaises(ProviderRateLimited) as caught:
            self.client().fetch("notifications")
        wait = caught.exception.retry_at - before
        self.assertTrue(timedelta(seconds=89) <= wait <= timedelta(seconds=95), wait)

    def test_connection_refused_is_unavailable(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = BlueskyClient(f"http://127.0.0.1:{port}", self.bsky.credentials)
        with self.assertRaises(ProviderUnavailable):
            client.whoami()

    def test_server_errors_and_timeouts_are_unavailable(self):
        client = self.client()
        for status in (500, 502, 503):
            self.bsky.fail_next(f"/xrpc/{NOTIFICATIONS}", status)
            with self.assertRaises(ProviderUnavailable):
                client.fetch("notifications")
        self.bsky.set_delay(1.0)
        with self.assertRaises(ProviderUnavailable):
            self.client(timeout=0.2).whoami()

    def test_answer_that_is_not_json_is_a_payload_error(self):
        client = self.client()
        client.whoami()
        self.bsky.fail_next(f"/xrpc/{NOTIFICATIONS}", 200, raw=b"<html>oops</html>")
        with self.assertRaises(PayloadError) as caught:
            client.fetch("notifications")
        self.assertEqual(caught.exception.raw, "<html>oops</html>")

    def test_401_mid_paging_is_mended_by_a_refresh(self):
        self.bsky.page_size = 1
        for n in range(3):
            self.mention(ANNA, f"vraag {n}")
        client = self.client()
        client.whoami()
        self.bsky.fail_next(f"/xrpc/{NOTIFICATIONS}", 401, after=1)
        pages = self.read_all(client)
        self.assertEqual(sum(len(p.posts) for p in pages), 3)
        self.assertEqual((self.bsky.logins, self.bsky.refreshes), (1, 1))


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyReply(BlueskyCase):
    def setUp(self):
        super().setUp()
        self.root = self.mention(ANNA, "mijn koffer is kwijt")
        self.ours = self.bsky.add_post(self.bsky.did, "Vervelend!", reply_to=self.root)
        self.parent = self.bsky.add_post(ANNA, "nog steeds niets", reply_to=self.ours)

    def test_reply_has_root_and_parent_strong_refs(self):
        sent = self.client().send_reply(
            self.parent["uri"], "@anna.bsky.social We zoeken het uit."
        )
        record = self.bsky.posted[-1]
        self.assertEqual(
            record["reply"],
            {
                "root": {"uri": self.root["uri"], "cid": self.root["cid"]},
                "parent": {"uri": self.parent["uri"], "cid": self.parent["cid"]},
            },
        )
        self.assertEqual(record["langs"], ["nl"])
        self.assertEqual(sent.external_id, record["uri"])
        self.assertEqual(sent.conversation_ref, self.root["uri"])
        rkey = record["uri"].rsplit("/", 1)[1]
        self.assertEqual(
            sent.url, f"https://bsky.app/profile/polderair.bsky.social/post/{rkey}"
        )
        create = self.bsky.calls(CREATE_RECORD)[0].json
        self.assertEqual(
            (create["repo"], create["collection"]),
            (self.bsky.did, "app.bsky.feed.post"),
        )

    def test_reply_to_a_root_post_uses_it_as_root_and_parent(self):
        self.client().send_reply(self.root["uri"], "Bedankt!")
        ref = {"uri": self.root["uri"], "cid": self.root["cid"]}
        self.assertEqual(self.bsky.posted[-1]["reply"], {"root": ref, "parent": ref})

    def test_mention_facet_counts_utf8_bytes(self):
        prefix = "Sorry 😢 voor de café-ellende, "
        text = f"{prefix}@anna.bsky.social! Zie https://polderair.example/claim?id=1."
        self.client().send_reply(self.parent["uri"], text)
        record = self.bsky.posted[-1]
        self.assertEqual(record["text"], text, "already names her: nothing added")
        mention, link = record["facets"]
        start = len(prefix.encode("utf-8"))
        self.assertNotEqual(start, len(prefix))
        self.assertEqual(mention["index"], {"byteStart": start, "byteEnd": start + 17})
        self.assertEqual(
            mention["features"],
            [{"$type": "app.bsky.richtext.facet#mention", "did": ANNA}],
        )
        url = "https://polderair.example/claim?id=1"
        url_start = len(text[: text.index(url)].encode("utf-8"))
        self.assertEqual(
            link["index"], {"byteStart": url_start, "byteEnd": url_start + len(url)}
        )
        self.assertEqual(link["features"][0]["uri"], url)

    def test_customer_is_mentioned_in_front_when_missing(self):
        self.client().send_reply(self.parent["uri"], "Wij zoeken het uit ✈️")
        record = self.bsky.posted[-1]
        self.assertEqual(record["text"], "@anna.bsky.social Wij zoeken het uit ✈️")
        self.assertEqual(record["facets"][0]["index"], {"byteStart": 0, "byteEnd": 17})

    def test_mention_is_left_out_when_it_would_not_fit(self):
        text = "x" * 290
        self.client().send_reply(self.parent["uri"], text)
        self.assertEqual(self.bsky.posted[-1]["text"], text)
        self.assertEqual(self.bsky.posted[-1]["facets"], [])

    def test_other_handles_are_resolved_to_dids(self):
        self.client().send_reply(
            self.parent["uri"], "@anna.bsky.social vraag het @jeroen.bakker.nl"
        )
        dids = [f["features"][0]["did"] for f in self.bsky.posted[-1]["facets"]]
        self.assertEqual(dids, [ANNA, JEROEN])

    def test_too_long_is_refused_before_sending(self):
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_reply(self.parent["uri"], "é" * 301)
        self.assertIn("300", caught.exception.message)
        self.assertFalse(self.bsky.calls(CREATE_RECORD))
        # 300 graphemes of which some emoji: still fits
        self.client().send_reply(self.parent["uri"], "👍🏽" * 282)
        self.assertEqual(len(self.bsky.posted), 1)

    def test_deleted_post_is_refused(self):
        self.bsky.delete_post(self.parent["uri"])
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_reply(self.parent["uri"], "Hallo")
        self.assertIn("no longer on Bluesky", caught.exception.message)

    def test_invalid_record_is_refused_with_bluesky_reason(self):
        self.bsky.fail_next(
            f"/xrpc/{CREATE_RECORD}",
            400,
            body={
                "error": "InvalidRequest",
                "message": "Invalid app.bsky.feed.post record",
            },
        )
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_reply(self.parent["uri"], "Hallo")
        self.assertIn("Invalid app.bsky.feed.post record", caught.exception.message)

    def test_write_without_answer_may_have_been_sent(self):
        self.bsky.delay_next(CREATE_RECORD, 1.0)
        with self.assertRaises(ProviderError) as caught:
            self.client(timeout=0.5).send_reply(self.parent["uri"], "Hallo")
        self.assertNotIsInstance(caught.exception, ProviderUnavailable)
        self.assertIn("may have been sent", caught.exception.message)

    def test_reply_rate_limited(self):
        reset = _now() + timedelta(minutes=30)
        self.bsky.rate_limit_next("com.atproto.repo.createRecord", reset)
        with self.assertRaises(ProviderRateLimited) as caught:
            self.client().send_reply(self.parent["uri"], "Hallo")
        self.assertEqual(caught.exception.retry_at, reset)


@tagged("post_install", "-at_install", "webcare_bluesky")
class TestBlueskyChat(BlueskyCase):
    def test_first_read_takes_the_position_then_messages_follow(self):
        self.bsky.add_dm(ANNA, "van voor de koppeling")
        client = self.client()
        first = client.fetch("chat")
        self.assertFalse(first.posts)
        self.assertTrue(first.drained)
        self.bsky.page_size = 2
        made = [self.bsky.add_dm(ANNA, f"bericht {n}") for n in range(3)]
        pages = self.read_all(client, "chat", first.cursor)
        posts = [p for page in pages for p in page.posts]
        self.assertEqual([p.external_id for p in posts], [m["id"] for m in made])
        dm = posts[0]
        self.assertEqual(
            (dm.kind, dm.direction, dm.body), ("dm", "inbound", "bericht 0")
        )
        self.assertEqual(dm.conversation_ref, self.bsky.conversation_with(ANNA))
        self.assertEqual(
            (dm.author.external_id, dm.author.handle), (ANNA, "anna.bsky.social")
        )
        self.assertIsNone(dm.url)
        self.assertEqual(pages[-1].cursor, made[-1]["rev"])
        for call in self.bsky.calls("chat.bsky.convo.getLog"):
            self.assertEqual(call.header("atproto-proxy"), CHAT_PROXY)
        self.assertEqual(client.parse_item(dm.raw), dm)

    def test_private_message_and_our_own_in_the_log(self):
        client = self.client()
        cursor = client.fetch("chat").cursor
        sent = client.send_private(
            ANNA, "Stuur je ons je boekingscode? https://polderair.example/dm"
        )
        posted = self.bsky.posted[-1]
        self.assertEqual(posted["kind"], "dm")
        self.assertEqual(sent.external_id, posted["id"])
        self.assertEqual(sent.conversation_ref, self.bsky.conversation_with(ANNA))
        self.assertEqual(
            posted["facets"][0]["features"][0]["$type"], "app.bsky.richtext.facet#link"
        )
        convo = self.bsky.calls("chat.bsky.convo.getConvoForMembers")[0]
        self.assertEqual(convo.raw_query, f"members={ANNA.replace(':', '%3A')}")
        self.assertEqual(convo.header("atproto-proxy"), CHAT_PROXY)
        page = client.fetch("chat", cursor)
        self.assertEqual(page.posts[0].external_id, sent.external_id)
        self.assertEqual(page.posts[0].direction, "outbound")

    def test_customer_who_does_not_accept_messages(self):
        self.bsky.add_actor(FAN, "fan.bsky.social", "Fan", accepts_chat=False)
        with self.assertRaises(ProviderRefused) as caught:
            self.client().send_private(FAN, "Hallo")
        self.assertIn("disabled incoming messages", caught.exception.message)

    def test_app_password_without_chat_access(self):
        self.bsky.chat_allowed = False
        with self.assertRaises(ProviderError) as caught:
            self.client().fetch("chat")
        self.assertNotIsInstance(caught.exception, ProviderAuthError)
        self.assertIn("direct messages", caught.exception.message)
        self.assertEqual(self.bsky.refreshes, 0)

    def test_malformed_message_spoils_only_itself(self):
        client = self.client()
        cursor = client.fetch("chat").cursor
        self.bsky.add_dm(ANNA, "een")
        self.bsky.add_dm(ANNA, "twee")
        self.bsky.malform_next(
            "/xrpc/chat.bsky.convo.getLog",
            lambda body: body["logs"][1]["message"].pop("sentAt"),
        )
        page = client.fetch("chat", cursor)
        self.assertEqual([p.body for p in page.posts], ["een"])
        self.assertEqual(page.errors[0].partial.body, "twee")
        self.assertEqual(page.errors[0].partial.kind, "dm")
        self.assertEqual(page.errors[0].partial.author_external_id, ANNA)
