"""The webhook channel: verification, the item schema, and real HTTP posts."""

import json
import threading
import time
from datetime import datetime, timedelta
from http import HTTPStatus
from uuid import uuid4

import requests

from odoo.exceptions import AccessError
from odoo.tests import BaseCase, HttpCase, TransactionCase, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from ..exceptions import PayloadError, ProviderAuthError, ProviderRefused
from ..services.base import get_provider_class
from ..services.webhook import (
    MAX_BODY_BYTES,
    WebhookProvider,
    WebhookRejected,
    check_length,
    new_secret,
    sign,
    verify,
)
from .common import create_users

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_763_456_400  # 2025-11-18 09:00:00 UTC
RECEIVED = datetime(2025, 11, 18, 9, 0, 0)


def item(external_id="p1", text="@PolderAir waar is mijn koffer?", **values):
    author = values.pop(
        "author",
        {"id": "u-anna", "handle": "@AnnaWH", "name": "Anna Webhook", "network": "x"},
    )
    return {
        "id": external_id,
        "kind": "mention",
        "text": text,
        "time": "2025-11-18T08:55:00+01:00",
        "url": f"https://x.com/AnnaWH/status/{external_id}",
        "author": author,
        **values,
    }


def signed_headers(body, delivery_id="msg_1", timestamp=NOW, secret=SECRET):
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, delivery_id, str(timestamp), body),
    }


@tagged("post_install", "-at_install")
class TestWebhookVerify(BaseCase):
    """``verify``: who may store a delivery (no database involved)."""

    body = b'{"items": []}'

    def assertRejected(self, status, headers, body=None, now=NOW):
        with self.assertRaises(WebhookRejected) as caught:
            verify(SECRET, headers, self.body if body is None else body, now)
        self.assertEqual(caught.exception.status, status)
        return caught.exception.reason

    def test_good_signature(self):
        verified = verify(SECRET, signed_headers(self.body), self.body, NOW)
        self.assertEqual((verified.delivery_id, verified.auth), ("msg_1", "signature"))

    def test_header_names_are_case_insensitive(self):
        headers = {k.title(): v for k, v in signed_headers(self.body).items()}
        self.assertEqual(verify(SECRET, headers, self.body, NOW).delivery_id, "msg_1")

    def test_known_signature_of_the_scheme(self):
        """HMAC-SHA256 over id.timestamp.body with the base64-decoded whsec_ key."""
        self.assertEqual(
            sign(
                SECRET,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                b'{"test": 2432232314}',
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        )

    def test_bad_signature(self):
        headers = signed_headers(self.body, secret=new_secret())
        self.assertIn("does not match", self.assertRejected(401, headers))

    def test_tampered_body(self):
        headers = signed_headers(self.body)
        self.assertRejected(401, headers, body=b'{"items": [1]}')

    def test_tampered_id_or_timestamp(self):
        headers = signed_headers(self.body)
        self.assertRejected(401, dict(headers, **{"webhook-id": "msg_2"}))
        self.assertRejected(401, dict(headers, **{"webhook-timestamp": str(NOW + 1)}))

    def test_one_matching_signature_of_several_is_enough(self):
        """During a key rotation the tool signs with the old and the new key."""
        headers = signed_headers(self.body)
        old = sign(new_secret(), "msg_1", str(NOW), self.body)
        headers["webhook-signature"] = (
            f"{old} v1a,c29tZQ== {headers['webhook-signature']}"
        )
        self.assertEqual(verify(SECRET, headers, self.body, NOW).delivery_id, "msg_1")

    def test_missing_headers(self):
        self.assertIn("Missing authentication", self.assertRejected(401, {}))
        headers = signed_headers(self.body)
        for name in ("webhook-id", "webhook-timestamp"):
            missing = {k: v for k, v in headers.items() if k != name}
            self.assertIn(name, self.assertRejected(401, missing))

    def test_expired_or_future_timestamp(self):
        headers = signed_headers(self.body, timestamp=NOW - 301)
        self.assertIn("5 minutes", self.assertRejected(401, headers))
        self.assertRejected(401, signed_headers(self.body, timestamp=NOW + 301))
        # within the tolerance on both sides
        verify(SECRET, signed_headers(self.body, timestamp=NOW - 299), self.body, NOW)
        verify(SECRET, signed_headers(self.body, timestamp=NOW + 299), self.body, NOW)

    def test_delivery_id_with_a_dot_is_refused(self):
        """The dot separates the signed parts: an id must not contain one."""
        headers = signed_headers(self.body, delivery_id="msg.1")
        self.assertRejected(401, headers)

    def test_oversized_body(self):
        body = b" " * (MAX_BODY_BYTES + 1)
        self.assertRejected(413, signed_headers(body), body=body)
        with self.assertRaises(WebhookRejected) as caught:
            check_length(MAX_BODY_BYTES + 1)
        self.assertEqual(caught.exception.status, 413)
        with self.assertRaises(WebhookRejected) as caught:
            check_length(None)
        self.assertEqual(caught.exception.status, 411)
        check_length(MAX_BODY_BYTES)

    def test_token(self):
        for headers in (
            {"Authorization": f"Bearer {SECRET}"},
            {"X-Webcare-Token": SECRET},
        ):
            verified = verify(SECRET, headers, self.body, NOW)
            self.assertEqual(verified.auth, "token")
            # without a delivery id, the body names the delivery
            self.assertTrue(verified.delivery_id.startswith("sha256:"))
        with_id = {"X-Webcare-Token": SECRET, "webhook-id": "evt-9"}
        self.assertEqual(verify(SECRET, with_id, self.body, NOW).delivery_id, "evt-9")
        self.assertRejected(401, {"Authorization": "Bearer " + SECRET[:-1] + "x"})

    def test_a_bad_signature_is_not_rescued_by_a_token(self):
        headers = signed_headers(self.body, secret=new_secret())
        headers["X-Webcare-Token"] = SECRET
        self.assertRejected(401, headers)

    def test_channel_without_a_usable_secret(self):
        for secret in ("", "short"):
            with self.assertRaises(WebhookRejected) as caught:
                verify(secret, {"X-Webcare-Token": secret}, self.body, NOW)
            self.assertEqual(caught.exception.status, 401)

    def test_new_secrets_are_random_standard_webhook_secrets(self):
        first, second = new_secret(), new_secret()
        self.assertNotEqual(first, second)
        self.assertTrue(first.startswith("whsec_"))
        body = b"{}"
        verify(first, signed_headers(body, secret=first), body, NOW)


@tagged("post_install", "-at_install")
class TestWebhookItems(BaseCase):
    """``WebhookProvider``: the JSON schema of a delivery."""

    def setUp(self):
        super().setUp()
        self.provider = WebhookProvider(None, {"webhook_secret": SECRET})

    def parse(self, data, delivery_id="msg_1"):
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return self.provider.parse_delivery(body, delivery_id, RECEIVED)

    def test_registered_as_a_pushed_receive_only_provider(self):
        cls = get_provider_class("webhook")
        self.assertIs(cls, WebhookProvider)
        self.assertFalse(cls.polled)
        self.assertFalse(cls.supports_private)
        self.assertEqual(cls.streams, ())
        self.assertEqual(cls.credential_fields, ("webhook_secret",))
        with self.assertRaises(ProviderRefused):
            self.provider.send_reply("p1", "Hello")
        with self.assertRaises(ProviderRefused):
            self.provider.send_private("u-anna", "Hello")

    def test_whoami_checks_the_secret(self):
        me = self.provider.whoami()
        self.assertTrue(me.external_id.startswith("webhook-"))
        self.assertNotIn(SECRET[6:12], me.external_id)
        kept = WebhookProvider(None, {"webhook_secret": SECRET}, account_id="webhook-1")
        self.assertEqual(kept.whoami().external_id, "webhook-1")
        with self.assertRaises(ProviderAuthError):
            WebhookProvider(None, {"webhook_secret": None}).whoami()

    def test_batch(self):
        page = self.parse({"items": [item("p1"), item("p2", kind="dm")]})
        self.assertEqual([p.external_id for p in page.posts], ["p1", "p2"])
        self.assertEqual(page.errors, ())
        self.assertTrue(page.drained)
        first = page.posts[0]
        self.assertEqual(first.author.handle, "AnnaWH")
        self.assertEqual(first.author.external_id, "u-anna")
        self.assertEqual(first.author.network, "x")
        self.assertEqual(first.posted_at, datetime(2025, 11, 18, 7, 55))
        self.assertEqual(first.direction, "inbound")
        self.assertEqual(first.conversation_ref, "p1")
        self.assertEqual(
            json.loads(first.raw)["text"], "@PolderAir waar is mijn koffer?"
        )
        dm = page.posts[1]
        self.assertEqual(dm.kind, "dm")
        self.assertEqual(dm.conversation_ref, "dm:x:u-anna")

    def test_single_item(self):
        page = self.parse(item("solo", lang="nl-NL", in_reply_to="p0"))
        (post,) = page.posts
        self.assertEqual((post.external_id, post.lang), ("solo", "nl"))
        self.assertEqual((post.parent_ref, post.conversation_ref), ("p0", "p0"))

    def test_defaults_are_written_into_the_stored_item(self):
        """An item without id or time reads the same when processed again."""
        bare = {"text": "hoi", "author": {"handle": "kees"}}
        page = self.parse({"items": [item("p1"), bare]}, delivery_id="msg_7")
        post = page.posts[1]
        self.assertEqual(post.external_id, "msg_7:1")
        self.assertEqual(post.posted_at, RECEIVED)
        self.assertEqual((post.author.network, post.author.name), ("other", "kees"))
        again = self.provider.parse_item(post.raw)
        self.assertEqual(again, post)

    def test_bad_item_is_kept_and_the_others_go(self):
        bad = item("p2", text=None, time="gisteren")
        page = self.parse({"items": [item("p1"), bad, item("p3")]})
        self.assertEqual([p.external_id for p in page.posts], ["p1", "p3"])
        (error,) = page.errors
        self.assertEqual(error.external_id, "p2")
        self.assertIn("Item 1", error.error)
        self.assertIn("text is required", error.error)
        self.assertEqual(json.loads(error.raw)["time"], "gisteren")
        self.assertEqual(error.partial.author_handle, "AnnaWH")
        self.assertEqual(error.partial.url, "https://x.com/AnnaWH/status/p2")

    def test_item_rules(self):
        cases = {
            "kind must be": item(kind="comment"),
            "author is required": item(author=None),
            "author.handle is required": item(author={"id": "1"}),
            "author.network must be": item(author={"handle": "a", "network": "tiktok"}),
            "author.followers": item(author={"handle": "a", "followers": "many"}),
            "ISO 8601": item(time="18-11-2025"),
            "url must be": item(url="javascript:alert(1)"),
            "repost must be": item(repost="yes"),
            "id must be": item(external_id=["x"]),
            "An item must be a JSON object": "just text",
        }
        for reason, bad in cases.items():
            with self.subTest(reason=reason):
                (error,) = self.parse({"items": [bad]}).errors
                self.assertIn(reason, error.error)

    def test_unreadable_body(self):
        cases = {
            b'{"items": [': "not valid JSON",
            b"\xff\xfe{}": "not UTF-8",
            b"[1, 2]": "must be a JSON object",
            b'{"items": []}': "non-empty list",
        }
        for body, reason in cases.items():
            with self.subTest(body=body), self.assertRaises(PayloadError) as caught:
                self.parse(body)
            self.assertIn(reason, caught.exception.message)
            self.assertTrue(caught.exception.raw)


@tagged("post_install", "-at_install")
class TestWebhookHttp(HttpCase):
    """``POST /webcare/webhook/<channel>`` over real HTTP into the database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Listening"})
        cls.channel = cls.env["webcare.channel"].create(
            {
                "name": "Listening tool",
                "provider": "webhook",
                "webhook_secret": SECRET,
                "team_id": cls.team.id,
                "state": "connected",
            }
        )
        cls.url = f"/webcare/webhook/{cls.channel.id}"

    def post(self, data, delivery_id=None, secret=SECRET, timestamp=None, **headers):
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        delivery_id = delivery_id or f"msg_{uuid4().hex}"
        timestamp = int(time.time()) if timestamp is None else timestamp
        sent = {"Content-Type": "application/json"}
        if secret:
            sent.update(signed_headers(body, delivery_id, timestamp, secret))
        sent.update(headers)
        return self.url_open(self.url, data=body, headers=sent)

    def deliveries(self):
        return self.env["webcare.webhook.delivery"].search(
            [("channel_id", "=", self.channel.id)]
        )

    def messages(self):
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id)], order="id"
        )

    def assertNothingWritten(self):
        self.assertFalse(self.deliveries())
        self.assertFalse(self.messages())

    def test_signed_batch_is_stored_then_becomes_tickets(self):
        data = {"items": [item("p1"), item("p2", text="@PolderAir en mijn tas?")]}
        response = self.post(data, delivery_id="msg_batch")
        self.assertEqual(response.status_code, HTTPStatus.ACCEPTED, response.text)
        self.assertEqual(
            response.json(),
            {
                "delivery": "msg_batch",
                "items": 2,
                "accepted": 2,
                "failed": 0,
                "duplicates": 0,
                "errors": [],
            },
        )
        delivery = self.deliveries()
        self.assertEqual((delivery.state, delivery.auth), ("stored", "signature"))
        self.assertEqual(json.loads(delivery.body), data)
        messages = self.messages()
        self.assertEqual(messages, delivery.message_ids)
        self.assertEqual(messages.mapped("external_id"), ["p1", "p2"])
        self.assertEqual(set(messages.mapped("state")), {"new"})
        self.assertEqual(json.loads(messages[0].payload), data["items"][0])
        # tickets are made outside the request, by the triggered cron
        cron = self.env.ref("webcare_social.ir_cron_webcare_webhook_process")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
            "storing a delivery triggers the processing cron",
        )
        self.env["webcare.webhook.delivery"]._cron_process()
        self.assertEqual(set(messages.mapped("state")), {"ticketed"})
        ticket = messages.ticket_id
        self.assertEqual(len(ticket), 2)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(messages.identity_id.network, "x")
        self.assertEqual(messages.identity_id.handle, "AnnaWH")

    def test_bad_signature_writes_nothing(self):
        response = self.post(item(), secret=new_secret())
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertEqual(response.json(), {"error": "The signature does not match."})
        self.assertNothingWritten()

    def test_missing_headers(self):
        response = self.post(item(), secret=None)
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertIn("Missing authentication", response.json()["error"])
        self.assertNothingWritten()

    def test_expired_timestamp(self):
        response = self.post(item(), timestamp=int(time.time()) - 600)
        self.assertEqual(response.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertIn("5 minutes", response.json()["error"])
        self.assertNothingWritten()

    def test_replayed_delivery_is_stored_once(self):
        first = self.post(item("p1"), delivery_id="msg_again")
        self.assertEqual(first.status_code, HTTPStatus.ACCEPTED, first.text)
        again = self.post(item("p1"), delivery_id="msg_again")
        self.assertEqual(again.status_code, HTTPStatus.OK, again.text)
        self.assertEqual(
            again.json(),
            {
                "delivery": "msg_again",
                "already_received": True,
                "accepted": 0,
                "duplicates": 1,
            },
        )
        self.assertEqual(len(self.deliveries()), 1)
        self.assertEqual(len(self.messages()), 1)

    def test_same_items_in_a_new_delivery_are_duplicates(self):
        self.post({"items": [item("p1")]})
        response = self.post({"items": [item("p1"), item("p2")]})
        self.assertEqual(response.status_code, HTTPStatus.ACCEPTED)
        self.assertEqual(
            (response.json()["accepted"], response.json()["duplicates"]), (1, 1)
        )
        self.assertEqual(self.messages().mapped("external_id"), ["p1", "p2"])

    def test_oversized_body_is_not_read(self):
        padding = "x" * MAX_BODY_BYTES
        response = self.post(item(text=padding))
        self.assertEqual(response.status_code, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        self.assertIn("larger than", response.json()["error"])
        self.assertNothingWritten()

    def test_body_without_a_length_is_not_read(self):
        body = json.dumps(item()).encode()
        headers = dict(signed_headers(body, "msg_chunked", int(time.time())))
        headers["Content-Type"] = "application/json"
        # a generator body is sent in chunks, without Content-Length
        response = self.url_open(self.url, data=iter([body]), headers=headers)
        self.assertEqual(response.status_code, HTTPStatus.LENGTH_REQUIRED)
        self.assertIn("Content-Length", response.json()["error"])
        self.assertNothingWritten()

    def test_malformed_json_is_kept_with_a_clear_error(self):
        body = b'{"items": [{"id": "p1", "text": "half'
        response = self.post(body, delivery_id="msg_broken")
        self.assertEqual(response.status_code, HTTPStatus.BAD_REQUEST)
        error = response.json()["error"]
        self.assertIn("not valid JSON", error)
        self.assertIn("line 1", error)
        delivery = self.deliveries()
        self.assertEqual((delivery.state, delivery.error), ("failed", error))
        self.assertEqual(delivery.body, body.decode())
        self.assertFalse(self.messages())
        # sent again: the same answer, still one delivery
        again = self.post(body, delivery_id="msg_broken")
        self.assertEqual(again.status_code, HTTPStatus.BAD_REQUEST)
        self.assertTrue(again.json()["already_received"])
        self.assertEqual(len(self.deliveries()), 1)

    def test_batch_with_one_bad_item(self):
        bad = item("p2", text=None)
        response = self.post({"items": [item("p1"), bad, item("p3")]})
        self.assertEqual(response.status_code, HTTPStatus.ACCEPTED, response.text)
        answer = response.json()
        self.assertEqual((answer["accepted"], answer["failed"]), (2, 1))
        self.assertEqual(answer["errors"][0]["id"], "p2")
        self.assertIn("text is required", answer["errors"][0]["error"])
        failed = self.messages().filtered(lambda m: m.state == "failed")
        self.assertEqual(failed.external_id, "p2")
        self.assertEqual(json.loads(failed.payload), bad)
        self.assertEqual(failed.author_handle, "AnnaWH")
        self.env["webcare.webhook.delivery"]._cron_process()
        states = dict(
            zip(
                *[self.messages().mapped(f) for f in ("external_id", "state")],
                strict=True,
            )
        )
        self.assertEqual(states, {"p1": "ticketed", "p2": "failed", "p3": "ticketed"})

    def test_token_for_tools_that_cannot_sign(self):
        body = json.dumps(item("t1")).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {SECRET}",
        }
        response = self.url_open(self.url, data=body, headers=headers)
        self.assertEqual(response.status_code, HTTPStatus.ACCEPTED, response.text)
        self.assertEqual(self.deliveries().auth, "token")
        # the identical body again is the same delivery
        again = self.url_open(self.url, data=body, headers=headers)
        self.assertEqual(again.status_code, HTTPStatus.OK)
        wrong = dict(headers, Authorization="Bearer " + new_secret())
        refused = self.url_open(self.url, data=b'{"text": "x"}', headers=wrong)
        self.assertEqual(refused.status_code, HTTPStatus.UNAUTHORIZED)
        self.assertEqual(len(self.deliveries()), 1)

    def test_where_nothing_is_accepted(self):
        x_channel = self.env["webcare.channel"].create({"name": "X", "provider": "x"})
        for url in (f"/webcare/webhook/{x_channel.id}", "/webcare/webhook/999999"):
            response = self.url_open(url, data=b"{}", headers={"webhook-id": "m"})
            self.assertEqual(response.status_code, HTTPStatus.NOT_FOUND)
        form = self.url_open(self.url, data={"text": "hello"})
        self.assertEqual(form.status_code, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        self.channel.state = "paused"
        paused = self.post(item())
        self.assertEqual(paused.status_code, HTTPStatus.SERVICE_UNAVAILABLE)
        self.assertEqual(paused.headers["Retry-After"], "300")
        self.assertNothingWritten()

    def test_concurrent_identical_posts_are_stored_once(self):
        """Five threads post the same delivery at once: one stores it.

        The test server serialises requests on the test cursor, so this
        shows the answers; two real transactions racing are checked by
        ``tests/webhook_check.py`` (make test).
        """
        body = json.dumps({"items": [item("c1"), item("c2")]}).encode()
        headers = dict(
            signed_headers(body, "msg_race", int(time.time())),
            **{"Content-Type": "application/json"},
        )
        barrier, statuses = threading.Barrier(5), []

        def post():
            barrier.wait(10)
            url = self.base_url() + self.url
            statuses.append(
                requests.post(url, data=body, headers=headers, timeout=30).status_code
            )

        threads = [threading.Thread(target=post) for _ in range(5)]
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        self.env.invalidate_all()
        self.assertEqual(sorted(statuses), [200, 200, 200, 200, 202])
        self.assertEqual(len(self.deliveries()), 1)
        self.assertEqual(self.messages().mapped("external_id"), ["c1", "c2"])


@tagged("post_install", "-at_install")
class TestWebhookDeliveryRecords(TransactionCase):
    """The delivery log: who may see it, and how long it is kept."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_users(cls)
        cls.channel = cls.env["webcare.channel"].create(
            {"name": "Listening tool", "provider": "webhook", "webhook_secret": SECRET}
        )

    def delivery(self, delivery_id, state="stored", days_ago=0):
        return self.env["webcare.webhook.delivery"].create(
            {
                "channel_id": self.channel.id,
                "delivery_id": delivery_id,
                "state": state,
                "received_at": datetime.now() - timedelta(days=days_ago),
                "body": "{}",
            }
        )

    def test_managers_read_and_nobody_writes(self):
        delivery = self.delivery("msg_1")
        self.assertEqual(delivery.with_user(self.manager).body, "{}")
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).write({"state": "failed"})
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).unlink()
        with self.assertRaises(AccessError):
            delivery.with_user(self.agent).read(["body"])

    def test_old_stored_deliveries_are_forgotten_failed_ones_kept(self):
        old = self.delivery("msg_old", days_ago=31)
        recent = self.delivery("msg_recent", days_ago=29)
        failed = self.delivery("msg_failed", state="failed", days_ago=90)
        self.env["webcare.webhook.delivery"]._gc_stored_deliveries()
        self.assertFalse(old.exists())
        self.assertEqual((recent | failed).exists(), recent | failed)
