"""The webhook channel: social-listening tools push items to Odoo.

Plain Python (no Odoo import): checking that a request comes from the tool
(``verify``) and reading its JSON body into a ``Page`` (``WebhookProvider``).
The controller (``controllers/webhook.py``) and ``webcare.webhook.delivery``
do the HTTP and the storing.

Authentication
--------------
The channel's secret (``webcare.channel.webhook_secret``) is used one of two
ways; a request that has neither is refused (401) and nothing is written.

* **Signed** (Standard Webhooks 1.0): headers ``webhook-id`` (the delivery's
  unique id, kept the same when the tool retries), ``webhook-timestamp``
  (Unix seconds) and ``webhook-signature``, a space-separated list of
  ``v1,<base64 HMAC-SHA256>`` computed with the secret over
  ``<webhook-id>.<webhook-timestamp>.<raw body>``. A secret written
  ``whsec_<base64>`` (what Odoo generates, and what Standard Webhooks tools
  show) signs with the decoded bytes; any other secret with its UTF-8 text.
  The timestamp must be within 5 minutes of Odoo's clock.
* **Token**, for tools that cannot sign: the secret itself in
  ``Authorization: Bearer <secret>`` or ``X-Webcare-Token: <secret>``,
  compared in constant time. A ``webhook-id`` header, when sent, names the
  delivery; otherwise the SHA-256 of the body does, so an identical body is
  stored once.

The body is at most ``MAX_BODY_BYTES`` (1 MiB), sent with a Content-Length
and ``Content-Type: application/json``. A delivery id already received for
the channel is not stored again (replay or retry).

Body
----
One item, or ``{"items": [item, ...]}``. An item::

    {
      "id": "1861234567890",            # the post's id; unique per channel
      "kind": "mention",                # mention | reply | dm (default mention)
      "text": "@PolderAir waar is mijn koffer?",          # required
      "time": "2026-11-18T09:15:00Z",   # ISO 8601 (no zone: UTC)
      "url": "https://x.com/annadv/status/1861234567890",  # http(s)
      "conversation": "1861234567000",  # thread id
      "in_reply_to": "1861234567000",   # the post this one answers
      "lang": "nl",
      "repost": false,                  # a share / retweet (ignored)
      "author": {
        "handle": "annadv",             # required; a leading @ is dropped
        "id": "123456",                 # the account's id on the network
        "name": "Anna de Vries",
        "network": "x",                 # x mastodon bluesky facebook
                                        # instagram linkedin other (default)
        "followers": 1200,
        "verified": false
      }
    }

Only ``text`` and ``author.handle`` are required. An item without ``id`` is
stored as ``<delivery id>:<position>`` (0-based) and one without ``time`` at
the time it was received; both values are written into the item's stored
JSON so it reads the same when processed again. Without ``conversation`` a
reply joins the thread of ``in_reply_to``, a DM the author's DM
conversation, and any other post starts its own. An item that breaks these
rules is kept as a failed message with the reason; the other items of the
delivery are stored as usual.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timezone

from dateutil.parser import isoparse

from ..exceptions import PayloadError, ProviderAuthError, ProviderError, ProviderRefused
from .base import SocialProviderBase, register_provider
from .dto import KINDS, Author, ItemError, Page, PartialPost, SocialPost

MAX_BODY_BYTES = 1024 * 1024
TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 24
NETWORKS = ("x", "mastodon", "bluesky", "facebook", "instagram", "linkedin", "other")
# the id is part of the signed text: no dot (it separates the parts), no space
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_:+/=-]{1,200}")
_TIMESTAMP = re.compile(r"\d{1,12}")
_MAX_REF = 255


class WebhookRejected(Exception):
    """A request that is not accepted; ``status`` is the HTTP answer.

    ``reason`` is a sentence for the tool's operator; it never contains the
    secret or what the signature should have been.
    """

    def __init__(self, status, reason):
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    """Who may store a delivery: its id, and how the request proved itself."""

    delivery_id: str
    auth: str  # "signature" or "token"


def new_secret():
    """A fresh channel secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret, delivery_id, timestamp, body):
    """The ``webhook-signature`` value a tool sends for ``body`` (tests, docs)."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(_signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_length(content_length, max_bytes=MAX_BODY_BYTES):
    """Refuse a body by its announced size, before reading it.

    Without a Content-Length the size is unknown until everything is read,
    so such a request is refused too (411); proxies and HTTP libraries send
    the header for a JSON body anyway.
    """
    if content_length is None:
        raise WebhookRejected(411, "Send the body with a Content-Length header.")
    if content_length > max_bytes:
        raise WebhookRejected(
            413, f"The body is larger than {max_bytes} bytes; send fewer items."
        )


def verify(secret, headers, body, now, max_bytes=MAX_BODY_BYTES):
    """Check that ``body`` comes from the channel's tool; return who it is.

    ``headers`` is any mapping of the request headers, ``now`` the current
    Unix time. Returns a ``VerifiedDelivery``; raises ``WebhookRejected``
    (401, or 413 for a body over ``max_bytes``) otherwise.
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise WebhookRejected(401, "This channel has no usable webhook secret yet.")
    if len(body) > max_bytes:
        raise WebhookRejected(413, f"The body is larger than {max_bytes} bytes.")
    headers = {str(key).lower(): value for key, value in headers.items()}
    if headers.get("webhook-signature"):
        return _verify_signature(secret, headers, body, now)
    token = _token(headers)
    if token:
        return _verify_token(secret, headers, body, token)
    raise WebhookRejected(
        401,
        "Missing authentication: sign the request (webhook-id, "
        "webhook-timestamp, webhook-signature) or send the channel's token.",
    )


def _verify_signature(secret, headers, body, now):
    delivery_id = _delivery_id(headers)
    if not delivery_id:
        raise WebhookRejected(401, "A signed request needs a webhook-id header.")
    timestamp = (headers.get("webhook-timestamp") or "").strip()
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected(
            401, "webhook-timestamp must be the Unix time in seconds."
        )
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise WebhookRejected(
            401,
            "webhook-timestamp is more than 5 minutes away from the server's "
            "clock (an old or replayed request, or a clock that is off).",
        )
    expected = sign(secret, delivery_id, timestamp, body).encode()
    candidates = headers["webhook-signature"].split()
    # compare with every v1 signature (several during a key rotation)
    matches = [
        hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
        for candidate in candidates
        if candidate.startswith("v1,")
    ]
    if not any(matches):
        raise WebhookRejected(401, "The signature does not match.")
    return VerifiedDelivery(delivery_id, "signature")


def _verify_token(secret, headers, body, token):
    if not hmac.compare_digest(
        token.encode("utf-8", "replace"), secret.encode("utf-8", "replace")
    ):
        raise WebhookRejected(401, "The token does not match.")
    if "webhook-id" in headers:
        delivery_id = _delivery_id(headers)
        if not delivery_id:
            raise WebhookRejected(401, "webhook-id is not a valid delivery id.")
    else:
        delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()
    return VerifiedDelivery(delivery_id, "token")


def _delivery_id(headers):
    value = (headers.get("webhook-id") or "").strip()
    if not _DELIVERY_ID.fullmatch(value):
        return None
    return value


def _token(headers):
    authorization = headers.get("authorization") or ""
    scheme, _sep, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (headers.get("x-webcare-token") or "").strip() or None


def _signing_key(secret):
    """The HMAC key: a ``whsec_`` secret's bytes, else the secret's text."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return secret.encode()  # not base64 after all: the text as it is
    return secret.encode()


@register_provider
class WebhookProvider(SocialProviderBase):
    """A channel a listening tool pushes to; nothing is read or sent from here.

    ``credentials`` holds ``webhook_secret``. The channel never polls it
    (``polled`` is False, no streams); ``parse_delivery`` turns a received
    body into a ``Page`` the channel stores like any other.
    """

    provider = "webhook"
    streams = ()
    credential_fields = ("webhook_secret",)
    supports_private = False
    polled = False

    def whoami(self):
        """Check the secret; the "account" is this channel's own random id.

        Nothing is called: a webhook has no account to ask about. The id is
        random (not derived from the secret) and kept once the channel has
        one.
        """
        if len(self._secret()) < MIN_SECRET_LENGTH:
            raise ProviderAuthError(
                "Generate a webhook secret (at least "
                f"{MIN_SECRET_LENGTH} characters) and give it to the tool."
            )
        return Author(
            external_id=self.account_id or "webhook-" + secrets.token_hex(8),
            handle="",
            name="Webhook",
        )

    def verify(self, headers, body, now):
        """``verify`` with this channel's secret."""
        return verify(self._secret(), headers, body, now)

    def fetch(self, stream, cursor=None, token=None):
        raise ProviderError(
            "A webhook channel is not read: its listening tool sends the items."
        )

    def send_reply(self, parent_ref, text):
        raise ProviderRefused(self._receive_only())

    def send_private(self, recipient_ref, text):
        raise ProviderRefused(self._receive_only())

    def _receive_only(self):
        return (
            "This channel only receives posts from a listening tool: answer in "
            "that tool or on the network itself."
        )

    def _secret(self):
        return self._credentials.get("webhook_secret") or ""

    # ------------------------------------------------------------------
    # Reading a delivery
    # ------------------------------------------------------------------

    def parse_delivery(self, body, delivery_id, received_at):
        """Read a delivery's body (bytes) into a ``Page`` of its items.

        ``received_at`` (naive UTC) stands in for a missing ``time``. A body
        that is not a JSON object of the documented shape raises
        ``PayloadError`` (with the text in ``raw``); a bad item becomes an
        ``ItemError`` and the others are read as usual.
        """
        text = body.decode("utf-8", "replace")
        try:
            data = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise PayloadError(
                f"The body is not UTF-8 text (byte {exc.start}).", raw=text
            ) from None
        except json.JSONDecodeError as exc:
            raise PayloadError(
                f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}.",
                raw=text,
            ) from None
        posts, errors = [], []
        for index, received in enumerate(_items(data, text)):
            item = _completed(received, f"{delivery_id}:{index}", received_at)
            raw = json.dumps(item, ensure_ascii=False)
            try:
                posts.append(_post(item, raw))
            except PayloadError as exc:
                errors.append(_item_error(item, raw, index, exc))
        return Page(tuple(posts), tuple(errors), cursor=None, next_token=None, raw=text)

    def parse_item(self, raw):
        """Read one item as stored in ``SocialPost.raw``."""
        try:
            item = json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            raise PayloadError("The stored item is not JSON.", raw=raw) from None
        return _post(item, raw)


# ----------------------------------------------------------------------
# Items
# ----------------------------------------------------------------------


def _items(data, text):
    if not isinstance(data, dict):
        raise PayloadError(
            'The body must be a JSON object: one item, or {"items": [...]}.',
            raw=text,
        )
    if "items" not in data:
        return [data]
    items = data["items"]
    if not isinstance(items, list) or not items:
        raise PayloadError('"items" must be a non-empty list of items.', raw=text)
    return items


def _completed(item, fallback_id, received_at):
    """The item with the id and time it is stored with, when it lacks them."""
    if not isinstance(item, dict):
        return item
    item = dict(item)
    if item.get("id") in (None, ""):
        item["id"] = fallback_id
    if item.get("time") in (None, ""):
        item["time"] = received_at.replace(microsecond=0).isoformat() + "Z"
    return item


def _post(item, raw):
    if not isinstance(item, dict):
        raise PayloadError("An item must be a JSON object.")
    external_id = _ref(item, "id", required=True)
    kind = item.get("kind") or "mention"
    if kind not in KINDS:
        raise PayloadError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    text = item.get("text")
    if not isinstance(text, str):
        raise PayloadError("text is required and must be a string.")
    author = _author(item.get("author"))
    parent_ref = _ref(item, "in_reply_to")
    conversation = _ref(item, "conversation") or _default_conversation(
        kind, external_id, parent_ref, author
    )
    repost = item.get("repost", False)
    if not isinstance(repost, bool):
        raise PayloadError("repost must be true or false.")
    return SocialPost(
        external_id=external_id,
        kind=kind,
        direction="inbound",
        author=author,
        body=text,
        lang=_lang(item.get("lang")),
        posted_at=_time(item.get("time")),
        conversation_ref=conversation,
        parent_ref=parent_ref,
        url=_url(item.get("url")),
        is_repost=repost,
        raw=raw,
    )


def _default_conversation(kind, external_id, parent_ref, author):
    if kind == "dm":
        return f"dm:{author.network}:{author.external_id or author.handle.lower()}"
    return parent_ref or external_id


def _author(value):
    if not isinstance(value, dict):
        raise PayloadError("author is required and must be an object.")
    handle = value.get("handle")
    if not isinstance(handle, str) or not handle.strip().lstrip("@"):
        raise PayloadError("author.handle is required (a string).")
    handle = handle.strip().lstrip("@")
    network = value.get("network") or "other"
    if network not in NETWORKS:
        raise PayloadError(
            f"author.network must be one of {', '.join(NETWORKS)}, not {network!r}."
        )
    followers = value.get("followers", 0) or 0
    if isinstance(followers, bool) or not isinstance(followers, int) or followers < 0:
        raise PayloadError("author.followers must be a whole number, 0 or more.")
    verified = value.get("verified", False)
    if not isinstance(verified, bool):
        raise PayloadError("author.verified must be true or false.")
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise PayloadError("author.name must be a string.")
    return Author(
        external_id=_ref(value, "id", prefix="author.") or "",
        handle=handle,
        name=(name or "").strip() or handle,
        followers_count=followers,
        verified=verified,
        network=network,
        raw=json.dumps(value, ensure_ascii=False),
    )


def _ref(item, key, required=False, prefix=""):
    """An id-like field: a string or a whole number, as a string."""
    value = item.get(key)
    if value in (None, "") and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError(f"{prefix}{key} must be a string or a number.")
    value = str(value).strip()
    if not value or len(value) > _MAX_REF:
        raise PayloadError(f"{prefix}{key} must have 1 to {_MAX_REF} characters.")
    return value


def _time(value):
    if not isinstance(value, str):
        raise PayloadError("time must be an ISO 8601 date and time (a string).")
    try:
        moment = isoparse(value.strip())
    except (ValueError, OverflowError):
        raise PayloadError(
            f"time is not an ISO 8601 date and time: {value[:40]!r}."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _url(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.match(r"https?://\S+$", value.strip()):
        raise PayloadError("url must be an http:// or https:// address.")
    return value.strip()


def _lang(value):
    """The two-letter language (``nl`` of ``nl-BE``); None when it names none."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError("lang must be a language code such as 'nl'.")
    primary = re.split(r"[-_]", value.strip())[0].lower()
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None


def _item_error(item, raw, index, exc):
    """An unreadable item, with what can still be read of it."""
    external_id = None
    if isinstance(item, dict):
        try:
            external_id = _ref(item, "id")
        except PayloadError:
            external_id = None
    return ItemError(
        external_id=external_id,
        error=f"Item {index} of the delivery could not be read: {exc.message}",
        raw=raw,
        partial=_partial(item),
        detail=exc.message,
    )


def _partial(item):
    if not isinstance(item, dict):
        return None
    author = item.get("author") if isinstance(item.get("author"), dict) else {}

    def text_of(value):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        return str(value)

    try:
        posted_at = _time(item.get("time"))
    except PayloadError:
        posted_at = None
    return PartialPost(
        kind=item.get("kind") if item.get("kind") in KINDS else None,
        body=text_of(item.get("text")),
        posted_at=posted_at,
        author_external_id=text_of(author.get("id")),
        author_handle=(text_of(author.get("handle")) or "").lstrip("@") or None,
        url=text_of(item.get("url")),
    )
