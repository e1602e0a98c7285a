"""Client for the X (Twitter) API v2, built on ``tweepy.Client``.

tweepy hard-codes the host ``https://api.twitter.com`` and sends requests
without a timeout. This client gives tweepy a session that rebases every URL
onto ``base_url`` (the real API, or a local stand-in in tests) and an adapter
that always applies ``timeout``. The URL is rewritten while the request is
being prepared, before OAuth 1.0a signs it (the signature covers the host)
and before ``Session.send`` runs (Odoo's test guard inspects the URL there).

Responses are read as text so each ``Page`` keeps the body exactly as
received; items are parsed one by one so a bad item only becomes an
``ItemError``. X sends tweet text with ``&``, ``<`` and ``>`` as HTML
entities; ``SocialPost.body`` holds the plain text (escape it to display).
"""

import html
import json
import logging
import re
from datetime import datetime, timezone

import requests
import tweepy

from ..exceptions import (
    InvalidCursor,
    PayloadError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderUnavailable,
)
from .base import SocialProviderBase, Stream, register_provider
from .dto import Author, ItemError, Page, PartialPost, SentItem, SocialPost
from .http import TimeoutAdapter

_logger = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
USER_KEYS = ("api_key", "api_key_secret", "access_token", "access_token_secret")
# our credential names -> tweepy's
TWEEPY_KEYS = {
    "bearer_token": "bearer_token",
    "api_key": "consumer_key",
    "api_key_secret": "consumer_secret",
    "access_token": "access_token",
    "access_token_secret": "access_token_secret",
}
USER_FIELDS = ["username", "name", "public_metrics", "verified"]
TWEET_FIELDS = [
    "created_at",
    "lang",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "author_id",
    "public_metrics",
    "entities",
]
MENTION_EXPANSIONS = [
    "author_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
]
DM_EVENT_FIELDS = [
    "id",
    "text",
    "event_type",
    "dm_conversation_id",
    "created_at",
    "sender_id",
    "participant_ids",
    "referenced_tweets",
]
DM_EXPANSIONS = ["sender_id", "participant_ids"]
PAGE_SIZE = 100

# X language codes that name no language (undetermined, hashtags only, ...).
_NO_LANGUAGE = {"und", "zxx", "qam", "qct", "qht", "qme", "qst"}
# 403 answers about the content of a write, not about the credentials.
_CONTENT_REFUSALS = ("duplicate content", "deleted or not visible")
# tweepy methods that write: their 400/403 answers refuse the content
_WRITES = ("create_tweet", "create_direct_message")
# transport failures after the request went out: a write may have happened
_MAYBE_DELIVERED = (
    requests.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_CURSOR_WORDS = ("since_id", "pagination_token", "pagination token", "next_token")


class _RedactSecrets(logging.Filter):
    """Mask bearer tokens in tweepy's debug log (it logs request headers)."""

    _secret = re.compile(r"(Bearer\s+)[^'\"\s,}]+")

    def filter(self, record):
        """Rewrite the message in place; never drop the record."""
        if isinstance(record.msg, str):
            record.msg = self._secret.sub(r"\1***", record.msg)
        return True


_REDACT = _RedactSecrets()
logging.getLogger("tweepy.client").addFilter(_REDACT)


class _RebasedSession(requests.Session):
    """A session that sends tweepy's hard-coded API host to ``base_url``."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def prepare_request(self, request):
        """Rewrite the URL before authentication signs the request."""
        if request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
        return super().prepare_request(request)


@register_provider
class XClient(SocialProviderBase):
    """X API v2 client; OAuth 1.0a user context when all user keys are set.

    Credentials: ``bearer_token``, ``api_key``, ``api_key_secret``,
    ``access_token``, ``access_token_secret``. Without the four user keys
    the bearer token is used (the real API needs user context for DMs and
    ``/2/users/me``).

    Streams and their cursors: ``mentions`` (``GET /2/users/:id/mentions``,
    newest first; the cursor is the newest tweet id, sent as ``since_id``,
    taken from the first page of a read) and ``dms`` (``GET /2/dm_events``,
    newest first with no "since": the cursor is the highest event id read,
    and a read is drained once a page reaches it).
    """

    provider = "x"
    default_base_url = "https://api.x.com"
    streams = (
        Stream("mentions", "Mentions"),
        Stream("dms", "Direct messages"),
    )
    credential_fields = tuple(TWEEPY_KEYS)
    # POST /2/tweets allows 100 requests per 15 minutes per user: one every 9 s
    send_interval = 9.0

    def __init__(self, base_url=None, credentials=None, account_id=None, timeout=15.0):
        super().__init__(base_url, credentials, account_id, timeout)
        self._user_auth = all(self._credentials.get(key) for key in USER_KEYS)
        self._client = self._build_client()

    @property
    def auth_mode(self):
        """``"oauth1"`` (user context) or ``"bearer"``."""
        return "oauth1" if self._user_auth else "bearer"

    def _build_client(self):
        """Return a ``tweepy.Client`` whose session targets ``base_url``."""
        client = tweepy.Client(
            **{ours: self._credentials.get(key) for key, ours in _tweepy_keys()},
            return_type=requests.Response,
        )
        session = _RebasedSession(self.base_url)
        adapter = TimeoutAdapter(self.timeout)
        session.mount(self.base_url + "/", adapter)
        session.mount(TWEEPY_HOST + "/", adapter)
        client.session.close()
        client.session = session
        return client

    def whoami(self):
        """Return the connected account (``GET /2/users/me``)."""
        body, _text = self._call("get_me", user_fields=USER_FIELDS)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PayloadError("X did not return the connected account.")
        try:
            return parse_author(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"Unreadable account: {_describe(exc)}") from exc

    def fetch(self, stream, cursor=None, token=None):
        """Return one page of ``mentions`` or ``dms`` (see the class docstring)."""
        if not self.account_id:
            raise ProviderError("The X account is not known yet: test the connection.")
        if stream == "mentions":
            page = self.fetch_mentions(since_id=cursor, pagination_token=token)
            # the first page holds the newest tweet: that is the next since_id
            return page if token is None else _replace_cursor(page, None)
        if stream == "dms":
            page = self.fetch_dms(pagination_token=token)
            newest = _max_id(page.cursor, cursor) if token is None else None
            return _replace_cursor(page, newest, drained=_reached(page, cursor))
        raise ProviderError(f"X has no stream {stream!r}.")

    def fetch_mentions(self, since_id=None, pagination_token=None):
        """Return one page of mentions of the account, newest first."""
        body, text = self._call(
            "get_users_mentions",
            self.account_id,
            max_results=PAGE_SIZE,
            since_id=since_id,
            pagination_token=pagination_token,
            tweet_fields=TWEET_FIELDS,
            expansions=MENTION_EXPANSIONS,
            user_fields=USER_FIELDS,
        )
        return parse_mentions_page(body, text, self.account_id)

    def fetch_dms(self, pagination_token=None):
        """Return one page of the account's DM events, newest first."""
        body, text = self._call(
            "get_direct_message_events",
            dm_event_fields=DM_EVENT_FIELDS,
            event_types="MessageCreate",
            expansions=DM_EXPANSIONS,
            user_fields=USER_FIELDS,
            max_results=PAGE_SIZE,
            pagination_token=pagination_token,
        )
        return parse_dm_page(body, text, self.account_id)

    def parse_item(self, raw):
        """Return the ``SocialPost`` of one stored item (``SocialPost.raw``)."""
        return parse_item(raw, self.account_id)

    def send_reply(self, parent_ref, text):
        """Publish ``text`` in reply to tweet ``parent_ref`` (``POST /2/tweets``).

        Since February 2026 X accepts an API reply only to a post that
        mentioned or quoted the account; otherwise it answers 403, raised as
        ``ProviderRefused`` with X's reason.
        """
        body, _text = self._call(
            "create_tweet", text=text, in_reply_to_tweet_id=str(parent_ref)
        )
        tweet_id = _created_id(body, "id")
        return SentItem(tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")

    def send_private(self, recipient_ref, text):
        """Send a DM to user ``recipient_ref`` (``POST /2/dm_conversations/with/…``).

        X refuses it (403, ``ProviderRefused``) when the customer does not
        accept DMs from the account.
        """
        body, _text = self._call(
            "create_direct_message", participant_id=str(recipient_ref), text=text
        )
        return SentItem(
            _created_id(body, "dm_event_id"),
            conversation_ref=(body.get("data") or {}).get("dm_conversation_id"),
        )

    def _call(self, method, *args, **params):
        """Run a tweepy call; return ``(body dict, body text)``.

        Every tweepy or transport failure becomes a ``ProviderError``.
        """
        if not (self._user_auth or self._credentials.get("bearer_token")):
            raise ProviderAuthError("No X credentials are configured.")
        try:
            response = getattr(self._client, method)(
                *args, user_auth=self._user_auth, **params
            )
        except tweepy.HTTPException as exc:
            raise _http_error(exc.response, writing=method in _WRITES) from exc
        except requests.RequestException as exc:
            raise _transport_error(exc, writing=method in _WRITES) from exc
        except tweepy.TweepyException as exc:
            raise ProviderError(f"X call failed: {exc}") from exc
        text = _body_text(response)
        return load_body(text, response.status_code), text


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def _http_error(response, writing=False):
    """Return the ``ProviderError`` that matches an HTTP error response.

    On a write, a 400 or 403 refuses what was sent (its text, its target),
    not the credentials: X's reason is kept for the agent.
    """
    status = response.status_code
    title, detail = _problem(response)
    summary = f"{status} {title}: {detail}" if detail else f"{status} {title}"
    if status == 429:
        retry_at = _reset_time(response.headers.get("x-rate-limit-reset"))
        return ProviderRateLimited(f"X rate limit ({summary})", retry_at=retry_at)
    if writing and status in (400, 403):
        return ProviderRefused(f"X refused it: {detail or title}", status_code=status)
    if status == 401 or (status == 403 and not _is_content_refusal(detail)):
        message = f"X rejected the credentials ({summary})"
        return ProviderAuthError(message, status_code=status)
    if status >= 500:
        return ProviderUnavailable(f"X is unavailable ({summary})", status_code=status)
    if status == 400 and any(word in detail.lower() for word in _CURSOR_WORDS):
        return InvalidCursor(
            f"X rejected the sync position ({summary})", status_code=400
        )
    return ProviderError(f"X API error ({summary})", status_code=status)


def _problem(response):
    """Return ``(title, detail)`` from an X problem document, if readable."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "Error", _body_text(response)[:200].strip()
    if not isinstance(body, dict):
        return response.reason or "Error", ""
    messages = [
        err.get("message") or err.get("detail") or ""
        for err in body.get("errors") or []
        if isinstance(err, dict)
    ]
    detail = "; ".join(m for m in [body.get("detail"), *messages] if m)
    return body.get("title") or response.reason or "Error", detail


def _is_content_refusal(detail):
    """Tell whether a 403 refuses the content of a write, not the credentials."""
    detail = detail.lower()
    return any(phrase in detail for phrase in _CONTENT_REFUSALS)


def _reset_time(value):
    """Return the naive UTC datetime of an epoch ``x-rate-limit-reset``."""
    try:
        moment = datetime.fromtimestamp(int(value), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.replace(tzinfo=None)


def _transport_error(exc, writing=False):
    """Return the ``ProviderError`` for a requests transport failure.

    A write whose answer never came (read timeout, broken answer) may have
    been published: that is no ``ProviderUnavailable`` to retry by itself,
    which could post twice; whoever sent it checks on X first.
    """
    name = type(exc).__name__
    if writing and isinstance(exc, _MAYBE_DELIVERED):
        return ProviderError(
            f"X did not answer in time ({name}): the message may have been sent. "
            "Check the conversation on X before sending it again."
        )
    unavailable = (
        requests.Timeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    if isinstance(exc, unavailable):
        return ProviderUnavailable(f"X could not be reached ({name}).")
    return ProviderError(f"X request failed ({name}).")


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _body_text(response):
    """Return the body as text (JSON is UTF-8, whatever the headers say)."""
    return (response.content or b"").decode("utf-8", errors="replace")


def load_body(text, status=200):
    """Return the JSON object in ``text``; raise ``PayloadError`` otherwise."""
    try:
        body = json.loads(text)
    except ValueError:
        raise PayloadError(
            f"X sent a response that is not JSON (HTTP {status}).",
            status_code=status,
            raw=text,
        ) from None
    if not isinstance(body, dict):
        raise PayloadError(
            "X sent JSON that is not an object.", status_code=status, raw=text
        )
    return body


def parse_author(user):
    """Return the ``Author`` for an X user object."""
    metrics = user.get("public_metrics") or {}
    return Author(
        external_id=_required_text(user, "id"),
        handle=_required_text(user, "username"),
        name=user.get("name") or user["username"],
        followers_count=int(metrics.get("followers_count") or 0),
        verified=bool(user.get("verified")),
        raw=_dumps(user),
    )


def parse_time(value):
    """Return a naive UTC datetime for an ISO 8601 ``created_at``."""
    if not isinstance(value, str):
        raise ValueError(f"created_at is not a timestamp: {value!r}")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_mentions_page(body, text, account_id):
    """Return the ``Page`` for a ``/2/users/:id/mentions`` response.

    ``body`` is the JSON already loaded from ``text`` (each page is parsed
    once); ``text`` is kept as the page's raw.
    """
    body = _page_body(body, text)
    includes = body.get("includes") or {}
    users = _index(includes.get("users"))
    tweets = _index(includes.get("tweets"))

    def build(item):
        return _mention_post(item, users, tweets, str(account_id))

    return _page(body, text, build, lambda item: _salvage(item, users, "mention"))


def parse_dm_page(body, text, account_id):
    """Return the ``Page`` for a ``/2/dm_events`` response (see above).

    Events other than ``MessageCreate`` are skipped. X gives no ``newest_id``
    for DMs, so the highest event id of the page is used.
    """
    body = _page_body(body, text)
    users = _index((body.get("includes") or {}).get("users"))

    def build(item):
        return _dm_post(item, users, str(account_id))

    return _page(body, text, build, lambda item: _salvage(item, users, "dm"))


def parse_item(raw, account_id):
    """Return the ``SocialPost`` of a stored item, as kept in ``SocialPost.raw``.

    Raises ``PayloadError`` when it still cannot be read.
    """
    stored = load_body(raw or "")
    item = stored.get("data", stored)
    if not isinstance(item, dict):
        raise PayloadError("The stored item is not a JSON object.")
    is_dm = "dm_conversation_id" in item or "event_type" in item
    parse = parse_dm_page if is_dm else parse_mentions_page
    single = {**stored, "data": [item]}
    page = parse(single, _dumps(single), account_id)
    if page.errors:
        raise PayloadError(page.errors[0].error)
    if not page.posts:
        raise PayloadError("The stored item is not a message.")
    return page.posts[0]


def _page_body(body, text):
    """Check the body of a list response; raise when it is no list at all."""
    if "data" not in body and body.get("errors") and not body.get("meta"):
        _title, detail = _problem_of(body)
        raise ProviderError(f"X API error: {detail}")
    if not isinstance(body.get("data", []), list):
        raise PayloadError("X sent a page whose data is not a list.", raw=text)
    return body


def _problem_of(body):
    """Return ``(title, detail)`` of an errors-only 200 body."""
    errors = [e for e in body["errors"] if isinstance(e, dict)]
    details = [e.get("detail") or e.get("message") or "" for e in errors]
    return body.get("title") or "Error", "; ".join(d for d in details if d)


def _page(body, text, build, salvage):
    """Build every item of ``body["data"]`` into a ``Page``.

    An item that cannot be built becomes an ``ItemError`` with a sentence
    for people, the technical reason and what ``salvage`` could still read.
    """
    posts, errors = [], []
    for item in body.get("data") or []:
        try:
            post = build(item)
        except (KeyError, TypeError, ValueError, AttributeError, PayloadError) as exc:
            raw = _dumps({"data": item, "includes": body.get("includes") or {}})
            errors.append(
                ItemError(
                    _item_id(item),
                    _describe(exc),
                    raw,
                    partial=salvage(item),
                    detail=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        if post is not None:
            posts.append(post)
    meta = body.get("meta") or {}
    newest = meta.get("newest_id") or _highest_id(body.get("data") or [])
    return Page(tuple(posts), tuple(errors), newest, meta.get("next_token"), text)


def _replace_cursor(page, cursor, drained=False):
    """``page`` with another cursor (and no next page when ``drained``)."""
    return Page(
        page.posts,
        page.errors,
        cursor,
        None if drained else page.next_token,
        page.raw,
    )


def _reached(page, cursor):
    """Tell whether a newest-first DM page reached the last event read before."""
    if not cursor or not str(cursor).isdigit():
        return False
    ids = [int(p.external_id) for p in page.posts if p.external_id.isdigit()]
    return bool(ids) and min(ids) <= int(cursor)


def _max_id(*ids):
    """The highest of numeric ids given as text (None when there is none)."""
    numbers = [int(i) for i in ids if i and str(i).isdigit()]
    return str(max(numbers)) if numbers else None


def _tweepy_keys():
    return TWEEPY_KEYS.items()


def _mention_post(item, users, tweets, account_id):
    """Return the ``SocialPost`` for one tweet of the mentions timeline."""
    tweet_id = _required_text(item, "id")
    text = _required_text(item, "text", allow_empty=True)
    author = _author(item.get("author_id"), users)
    refs = _references(item)
    parent = refs.get("replied_to")
    used = [tweets[ref] for ref in refs.values() if ref in tweets]
    return SocialPost(
        external_id=tweet_id,
        kind="reply" if parent else "mention",
        direction=_direction(author, account_id),
        author=author,
        body=html.unescape(text),
        lang=_language(item.get("lang")),
        posted_at=parse_time(item["created_at"]),
        conversation_ref=str(item.get("conversation_id") or tweet_id),
        parent_ref=parent,
        url=f"https://x.com/{author.handle}/status/{tweet_id}",
        is_repost="retweeted" in refs or text.startswith("RT @"),
        raw=_item_raw(item, author, used),
    )


def _dm_post(item, users, account_id):
    """Return the ``SocialPost`` for a DM event, or None if not a message."""
    if item.get("event_type", "MessageCreate") != "MessageCreate":
        return None
    author = _author(item.get("sender_id"), users)
    return SocialPost(
        external_id=_required_text(item, "id"),
        kind="dm",
        direction=_direction(author, account_id),
        author=author,
        body=_required_text(item, "text", allow_empty=True),
        lang=None,
        posted_at=parse_time(item["created_at"]),
        conversation_ref=_required_text(item, "dm_conversation_id"),
        parent_ref=None,
        url=None,
        is_repost=False,
        raw=_item_raw(item, author, []),
    )


def _author(user_id, users):
    """Return the expanded author ``user_id``; raise if it was not included."""
    if not user_id:
        raise PayloadError("X did not say who wrote this message.")
    user = users.get(str(user_id))
    if user is None:
        raise PayloadError(
            f"X did not send the account that wrote this (user ID {user_id}); "
            "it may be suspended, deleted or protected."
        )
    return parse_author(user)


def _direction(author, account_id):
    """Outbound when the account itself wrote the item."""
    return "outbound" if author.external_id == account_id else "inbound"


def _references(item):
    """Return ``{type: tweet id}`` of a tweet's ``referenced_tweets``."""
    return {ref["type"]: str(ref["id"]) for ref in item.get("referenced_tweets") or []}


def _language(code):
    """Return the BCP 47 language of a post, or None when X names none."""
    return None if not code or code in _NO_LANGUAGE else code


def _index(objects):
    """Return ``{id: object}`` for a list of included objects."""
    return {
        str(obj["id"]): obj
        for obj in objects or []
        if isinstance(obj, dict) and "id" in obj
    }


def _required_text(obj, key, allow_empty=False):
    """Return ``obj[key]`` as text; raise ``ValueError`` when unusable."""
    value = obj[key]
    if not isinstance(value, (str, int)) or (value == "" and not allow_empty):
        raise ValueError(f"field {key!r} is not usable: {value!r}")
    return str(value)


def _highest_id(items):
    """Return the highest numeric id of ``items`` as text, or None."""
    ids = [
        int(item["id"])
        for item in items
        if isinstance(item, dict) and str(item.get("id", "")).isdigit()
    ]
    return str(max(ids)) if ids else None


def _created_id(body, key):
    """Return ``body["data"][key]`` of a write response."""
    value = (body.get("data") or {}).get(key)
    if not value:
        raise PayloadError(f"X did not return the new {key}.")
    return str(value)


def _item_id(item):
    """Return the id of a raw item, if it has one."""
    value = item.get("id") if isinstance(item, dict) else None
    return str(value) if value not in (None, "") else None


def _describe(exc):
    """Return a sentence for people about a parsing failure."""
    if isinstance(exc, KeyError):
        return f"X left out the field '{exc.args[0]}' that every message has."
    if isinstance(exc, PayloadError):
        return exc.message
    if isinstance(exc, ValueError) and "created_at" in str(exc):
        return "The time of this message ('created_at') could not be read."
    if isinstance(exc, ValueError):
        return f"X sent a field this connector cannot read ({exc})."
    return "X sent this message in a form this connector cannot read."


def _salvage(item, users, kind):
    """Return what can still be read of an item that failed to parse."""
    if not isinstance(item, dict):
        return None
    author_id = item.get("author_id") or item.get("sender_id")
    user = users.get(str(author_id)) if author_id else None
    handle = user.get("username") if isinstance(user, dict) else None
    try:
        posted_at = parse_time(item.get("created_at"))
    except (TypeError, ValueError):
        posted_at = None
    text = item.get("text")
    if not isinstance(text, str):
        text = None
    elif kind != "dm":
        text = html.unescape(text)
    tweet_id = _item_id(item)
    return PartialPost(
        kind=kind if kind == "dm" or not item.get("referenced_tweets") else "reply",
        body=text,
        posted_at=posted_at,
        author_external_id=str(author_id) if author_id else None,
        author_handle=handle if isinstance(handle, str) else None,
        url=f"https://x.com/{handle}/status/{tweet_id}"
        if kind != "dm" and isinstance(handle, str) and tweet_id
        else None,
    )


def _item_raw(item, author, referenced):
    """Return the JSON text of an item with the expanded objects it used."""
    includes = {"users": [json.loads(author.raw)]}
    if referenced:
        includes["tweets"] = referenced
    return _dumps({"data": item, "includes": includes})


def _dumps(value):
    """Return compact, non-ASCII-preserving JSON text."""
    return json.dumps(value, ensure_ascii=False)
