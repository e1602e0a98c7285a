"""Client for Bluesky: AT Protocol XRPC (HTTPS + JSON) through ``requests``.

The ``atproto`` package cannot be installed next to Odoo's pinned
``cryptography``, and XRPC is plain JSON over HTTPS: every call is
``GET`` (query) or ``POST`` (procedure) on ``<PDS>/xrpc/<nsid>``, and an
error is a JSON body ``{"error": "Name", "message": "..."}``.

**Session.** Logging in (``com.atproto.server.createSession``) is limited to
30 per 5 minutes and 300 a day per account, so the client never logs in per
run: it starts from the session the channel kept (``provider_session``, JSON
with the access and refresh JWTs, DID and handle), renews an expired access
token with ``com.atproto.server.refreshSession`` (which rotates the refresh
JWT too) and logs in with the app password only when there is no usable
session (none kept, or the refresh JWT refused). ``session_state()`` hands
the new session back to the channel, which stores it after the run.

**Streams and cursors.**

* ``notifications`` (``app.bsky.notification.listNotifications`` with the
  reasons mention, reply and quote): newest first, paged backwards by the
  server's cursor, with no "since". The stored cursor is the ``indexedAt``
  of the newest notification read; a read goes back until a page reaches
  it (less a few minutes of overlap, so notifications indexed out of order
  are not missed; the channel skips URIs it already stored). The first
  read of a channel stops after ``FIRST_READ_PAGES`` pages.
* ``chat`` (``chat.bsky.convo.getLog``, proxied to the chat service with
  the ``atproto-proxy`` header): the account's chat events after a cursor,
  oldest first. The stored cursor is the log's own; a read is drained when
  the log has no more events. Without a cursor the chat service answers
  with its current position, so direct messages are read from the first
  import on (earlier ones are not imported).

Authors: the stable id is the DID, the handle a domain name
(``anna.bsky.social``) that may change. Notifications carry only a short
profile: the authors' follower counts come from ``app.bsky.actor.getProfiles``
and are kept with each item's raw JSON.
"""

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests
from dateutil import parser as dateparser

from ..exceptions import (
    InvalidCursor,
    PayloadError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderUnavailable,
)
from ..tools import counting
from .base import SocialProviderBase, Stream, register_provider
from .dto import Author, ItemError, Page, PartialPost, SentItem, SocialPost
from .http import TimeoutAdapter

_logger = logging.getLogger(__name__)

APP_URL = "https://bsky.app"
POST_TYPE = "app.bsky.feed.post"
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
LOG_CREATE_MESSAGE = "chat.bsky.convo.defs#logCreateMessage"
MESSAGE_VIEW = "chat.bsky.convo.defs#messageView"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
LINK_FEATURE = "app.bsky.richtext.facet#link"
# notification reasons that are posts to answer; likes, reposts, follows are not
REASONS = ("mention", "reply", "quote")
PAGE_SIZE = 50
PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles takes 25 actors at most
FIRST_READ_PAGES = 10
# notifications are not indexed in strict order: read a little past the cursor
OVERLAP = timedelta(minutes=5)
INVALID_HANDLE = "handle.invalid"

# 400 errors of an access token that a refresh (or a new login) mends
_RENEWABLE = ("ExpiredToken", "InvalidToken")
# a refresh JWT refused for good: log in again
_REFRESH_REFUSED = ("ExpiredToken", "InvalidToken", "AuthRequired", "InvalidDID")
# transport failures after a write went out: it may have been published
_MAYBE_DELIVERED = (
    requests.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_MENTION = re.compile(
    r"(?<![\w@./])@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?<![\w@$#/])https?://[^\s<>\"']+", re.IGNORECASE)
_LINK_TRAILING = ".,;:!?)]}'\"\u2026"


@dataclass(frozen=True)
class _Session:
    """A login session: the JWTs and whose they are."""

    access: str
    refresh: str
    did: str
    handle: str

    # the names of createSession's answer, also used to store the session
    KEYS = ("accessJwt", "refreshJwt", "did", "handle")

    @classmethod
    def from_json(cls, text):
        """The session stored as JSON text, or None when there is none usable."""
        try:
            return cls.from_body(json.loads(text or ""))
        except (ValueError, PayloadError):
            return None

    @classmethod
    def from_body(cls, body):
        """The session of a createSession/refreshSession answer."""
        try:
            values = [body[key] for key in cls.KEYS]
        except (TypeError, KeyError):
            values = None
        if not values or not all(isinstance(v, str) and v for v in values):
            raise PayloadError("Bluesky answered without a usable session.")
        return cls(*values)

    def to_json(self):
        values = (self.access, self.refresh, self.did, self.handle)
        return json.dumps(dict(zip(self.KEYS, values, strict=True)))


@register_provider
class BlueskyClient(SocialProviderBase):
    """Bluesky client on the account's PDS (``https://bsky.social`` by default).

    Credentials: ``account_login`` (handle, DID or e-mail of the account),
    ``app_password`` (an app password; for direct messages one created with
    access to them) and ``provider_session`` (the session kept by the
    channel, may be empty). See the module docstring for the streams.
    """

    provider = "bluesky"
    default_base_url = "https://bsky.social"
    streams = (
        Stream("notifications", "Mentions and replies"),
        Stream("chat", "Direct messages"),
    )
    credential_fields = ("account_login", "app_password", "provider_session")
    # Bluesky's PDS allows 5,000 write points an hour and a post costs 3
    # (1,666 posts an hour, one per 2.2 s): 3 s leaves room for the agents
    send_interval = 3.0

    def __init__(self, base_url=None, credentials=None, account_id=None, timeout=15.0):
        super().__init__(base_url, credentials, account_id, timeout)
        self._session = self._kept_session()
        self._changed = False
        self._http = requests.Session()
        adapter = TimeoutAdapter(self.timeout)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    # ------------------------------------------------------------------
    # Session
    # ------------------------------------------------------------------

    def session_state(self):
        """The session JSON to keep when it changed during this client's life."""
        if not (self._changed and self._session):
            return None
        return self._session.to_json()

    def _kept_session(self):
        """The channel's session, unless it belongs to another account."""
        session = _Session.from_json(self._credentials.get("provider_session"))
        login = (self._credentials.get("account_login") or "").strip().lstrip("@")
        ours = (session.did.lower(), session.handle.lower()) if session else ()
        if ours and login and "@" not in login and login.lower() not in ours:
            return None  # the channel was pointed at another account
        return session

    def _login(self):
        """Log in with the app password (``createSession``); keep the session."""
        login = (self._credentials.get("account_login") or "").strip().lstrip("@")
        password = self._credentials.get("app_password")
        if not (login and password):
            raise ProviderAuthError(
                "Enter the Bluesky handle and an app password of the account."
            )
        _logger.info("Bluesky: new login for %s", login)
        response = self._send(
            "POST",
            "com.atproto.server.createSession",
            body={"identifier": login, "password": password},
        )
        if response.status_code in (400, 401):
            raise _login_error(response)
        if response.status_code != 200:
            raise _http_error(response, "com.atproto.server.createSession")
        self._set_session(_Session.from_body(self._load(response)))

    def _renew(self):
        """Renew the session: refresh it, or log in when that is refused."""
        session = self._session
        if session is None:
            self._login()
            return
        response = self._send(
            "POST", "com.atproto.server.refreshSession", token=session.refresh
        )
        name, _message = _xrpc_error(response)
        if response.status_code == 401 or name in _REFRESH_REFUSED:
            _logger.info("Bluesky: refresh refused (%s), logging in", name)
            self._session = None
            self._login()
            return
        if response.status_code == 200:
            self._set_session(_Session.from_body(self._load(response)))
            return
        raise _http_error(response, "refreshSession")

    def _set_session(self, session):
        self._session = session
        self._changed = True

    @property
    def did(self):
        """The connected account's DID (logs in when there is no session)."""
        if self._session is None:
            self._login()
        return self._session.did

    # ------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------

    def _call(self, method, nsid, params=None, body=None, chat=False, writing=False):
        """One authenticated XRPC call; return ``(body dict, body text)``.

        An expired access token is renewed once and the call repeated.
        """
        if self._session is None:
            self._login()
        headers = {"atproto-proxy": CHAT_PROXY} if chat else {}
        for attempt in (1, 2):
            response = self._send(
                method,
                nsid,
                params=params,
                body=body,
                token=self._session.access,
                headers=headers,
                writing=writing,
            )
            if attempt == 1 and _needs_renewal(response):
                self._renew()
                continue
            break
        if response.status_code != 200:
            raise _http_error(response, nsid, writing=writing)
        return self._load(response), _text(response)

    def _send(self, method, nsid, params=None, body=None, token=None, **options):
        """Send one request; transport failures become ``ProviderError``."""
        headers = dict(options.get("headers") or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._http.request(
                method,
                f"{self.base_url}/xrpc/{nsid}",
                params=params,
                json=body,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, options.get("writing")) from exc

    @staticmethod
    def _load(response):
        """The JSON object of a 200 answer; ``PayloadError`` keeps anything else."""
        text = _text(response)
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PayloadError(
                f"Bluesky sent a response that is not a JSON object "
                f"(HTTP {response.status_code}).",
                status_code=response.status_code,
                raw=text,
            )
        return body

    # ------------------------------------------------------------------
    # Account
    # ------------------------------------------------------------------

    def whoami(self):
        """The connected account, from the session and its profile."""
        did = self.did
        body, _text = self._call("GET", "app.bsky.actor.getProfile", {"actor": did})
        try:
            return parse_author(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"Unreadable Bluesky profile: {exc}") from exc

    def _profiles(self, dids):
        """``{did: detailed profile}`` of ``dids`` (``getProfiles``, 25 a call)."""
        dids = sorted({d for d in dids if isinstance(d, str) and d})
        profiles = {}
        for start in range(0, len(dids), PROFILES_PER_CALL):
            chunk = dids[start : start + PROFILES_PER_CALL]
            body, _text = self._call(
                "GET", "app.bsky.actor.getProfiles", {"actors": chunk}
            )
            for profile in body.get("profiles") or []:
                if isinstance(profile, dict) and profile.get("did"):
                    profiles[profile["did"]] = profile
        return profiles

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------

    def fetch(self, stream, cursor=None, token=None):
        """One page of ``notifications`` or ``chat`` (see the module docstring)."""
        if stream == "notifications":
            return self._fetch_notifications(cursor, token)
        if stream == "chat":
            return self._fetch_chat(cursor, token)
        raise ProviderError(f"Bluesky has no stream {stream!r}.")

    def _fetch_notifications(self, cursor, token):
        since = _cursor_time(cursor)
        pages_read, server_cursor = _untoken(token)
        params = {"limit": PAGE_SIZE, "reasons": list(REASONS)}
        if server_cursor:
            params["cursor"] = server_cursor
        body, text = self._call(
            "GET", "app.bsky.notification.listNotifications", params
        )
        items = body.get("notifications")
        if not isinstance(items, list):
            raise PayloadError("Bluesky sent notifications that are no list.", raw=text)
        wanted = [i for i in items if not _is_other_reason(i)]
        profiles = self._profiles(_author_did(i) for i in wanted)
        posts, errors = _parse_all(
            wanted, lambda i: _notification_raw(i, profiles), self._account()
        )
        times = [_indexed_at(i) for i in items]
        times = [t for t in times if t]
        newest = _newest_cursor(cursor, since, times) if token is None else None
        more = body.get("cursor") and items
        if since and times and min(times) <= since - OVERLAP:
            more = False  # reached what was read before
        if since is None and pages_read + 1 >= FIRST_READ_PAGES:
            more = False
        next_token = _token(pages_read + 1, body["cursor"]) if more else None
        return Page(tuple(posts), tuple(errors), newest, next_token, text)

    def _fetch_chat(self, cursor, token):
        position = token or cursor
        params = {"cursor": position} if position else None
        body, text = self._call("GET", "chat.bsky.convo.getLog", params, chat=True)
        logs = body.get("logs")
        if not isinstance(logs, list):
            raise PayloadError("Bluesky sent a chat log that is no list.", raw=text)
        created = [log for log in logs if _is_new_message(log)]
        known = {
            p.get("did"): p
            for log in created
            for p in log.get("relatedProfiles") or []
            if isinstance(p, dict)
        }
        senders = {_sender_did(log) for log in created}
        missing = [d for d in senders if d and d not in known]
        profiles = {**known, **(self._profiles(missing) if missing else {})}
        posts, errors = _parse_all(
            created, lambda log: _chat_raw(log, profiles), self._account()
        )
        new_position = body.get("cursor") or _highest_rev(logs) or position
        more = bool(logs) and new_position != position
        return Page(
            tuple(posts),
            tuple(errors),
            new_position,
            new_position if more else None,
            text,
        )

    def parse_item(self, raw):
        """The ``SocialPost`` of one stored item (``SocialPost.raw``)."""
        return parse_item(raw, self._account())

    def _account(self):
        """Our DID: the channel's, else the session's (no login for it)."""
        return self.account_id or (self._session.did if self._session else "")

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------

    def send_reply(self, parent_ref, text):
        """Reply to post ``parent_ref`` with ``text`` (``createRecord``).

        The parent's CID and its thread root come from ``getPosts``; the
        customer is mentioned (``@handle`` put in front when the text does
        not name them and it fits) with a mention facet on their DID, links
        get link facets, both at UTF-8 byte offsets. The post takes the
        parent's language.
        """
        parent = self._post_view(parent_ref)
        customer = parent.get("author") or {}
        text = _with_mention(text, customer.get("handle"))
        _check_length(text, private=False)
        record = {
            "$type": POST_TYPE,
            "text": text,
            "createdAt": _now_iso(),
            "reply": _reply_refs(parent),
            "facets": self._facets(text, customer),
        }
        langs = (parent.get("record") or {}).get("langs")
        if isinstance(langs, list) and langs:
            record["langs"] = langs[:1]
        body, _text = self._call(
            "POST",
            "com.atproto.repo.createRecord",
            body={"repo": self.did, "collection": POST_TYPE, "record": record},
            writing=True,
        )
        uri = _created(body, "uri")
        handle = self._session.handle
        return SentItem(
            uri,
            url=post_url(handle, self.did, uri),
            conversation_ref=record["reply"]["root"]["uri"],
        )

    def send_private(self, recipient_ref, text):
        """Send ``text`` to the user with DID ``recipient_ref`` by chat.

        Bluesky refuses it (``ProviderRefused`` with its reason) when the
        customer does not accept messages from the account.
        """
        _check_length(text, private=True)
        body, _text = self._call(
            "GET",
            "chat.bsky.convo.getConvoForMembers",
            {"members": [str(recipient_ref)]},
            chat=True,
            writing=True,
        )
        convo_id = _created(body.get("convo") or {}, "id")
        message = {"text": text}
        facets = _link_facets(text)
        if facets:
            message["facets"] = facets
        body, _text = self._call(
            "POST",
            "chat.bsky.convo.sendMessage",
            body={"convoId": convo_id, "message": message},
            chat=True,
            writing=True,
        )
        return SentItem(_created(body, "id"), conversation_ref=convo_id)

    def _post_view(self, uri):
        """The post view of ``uri``; ``ProviderRefused`` when it is gone."""
        body, _text = self._call("GET", "app.bsky.feed.getPosts", {"uris": [uri]})
        for post in body.get("posts") or []:
            if isinstance(post, dict) and post.get("uri") == uri and post.get("cid"):
                return post
        raise ProviderRefused(
            "The post to answer is no longer on Bluesky (deleted, or hidden "
            "from the account)."
        )

    def _facets(self, text, customer):
        """Mention and link facets of ``text``; mentions need a DID."""
        known = {}
        if customer.get("handle") and customer.get("did"):
            known[customer["handle"].lower()] = customer["did"]
        facets = []
        for start, end, handle in _mention_spans(text):
            did = known.get(handle.lower()) or self._resolve(handle)
            if did:
                facets.append(_facet(start, end, MENTION_FEATURE, did=did))
        return facets + _link_facets(text)

    def _resolve(self, handle):
        """The DID of ``handle``, or None when Bluesky does not know it."""
        try:
            body, _text = self._call(
                "GET", "com.atproto.identity.resolveHandle", {"handle": handle}
            )
        except ProviderError as exc:
            if isinstance(exc, (ProviderRateLimited, ProviderUnavailable)):
                raise
            return None  # not a handle after all: the text stays as it is
        return body.get("did") if isinstance(body.get("did"), str) else None


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def _text(response):
    """The body as text (XRPC JSON is UTF-8, whatever the headers say)."""
    return (response.content or b"").decode("utf-8", errors="replace")


def _xrpc_error(response):
    """``(error name, message)`` of an XRPC error body, when readable."""
    try:
        body = json.loads(_text(response))
    except ValueError:
        return "", _text(response)[:200].strip()
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def _needs_renewal(response):
    """Whether the access token was refused in a way a new one mends.

    An expired or unverifiable token is a 400 (``ExpiredToken``,
    ``InvalidToken``); a 401 asks for authentication again.
    """
    if response.status_code not in (400, 401):
        return False
    name, message = _xrpc_error(response)
    if "scope" in message.lower():
        return False  # the app password lacks a permission: no token helps
    return response.status_code == 401 or name in _RENEWABLE


def _http_error(response, nsid, writing=False):
    """The ``ProviderError`` for an XRPC error answer to ``nsid``."""
    status = response.status_code
    name, message = _xrpc_error(response)
    summary = f"{status} {name}: {message}" if message else f"{status} {name}"
    if status == 429:
        return ProviderRateLimited(
            f"Bluesky rate limit ({summary})", retry_at=_reset_time(response)
        )
    if status >= 500:
        return ProviderUnavailable(
            f"Bluesky is unavailable ({summary})", status_code=status
        )
    if "scope" in message.lower():
        return ProviderError(
            "The app password has no access to direct messages: create one "
            "with \u201cAllow access to your direct messages\u201d.",
            status_code=status,
        )
    if status in (401, 403) or name in ("AccountTakedown", "AccountDeactivated"):
        return ProviderAuthError(
            f"Bluesky refused the session ({summary})", status_code=status
        )
    if writing and status == 400:
        reason = message or name or "no reason given"
        return ProviderRefused(f"Bluesky refused it: {reason}", status_code=status)
    if status == 400 and "cursor" in message.lower():
        return InvalidCursor(
            f"Bluesky rejected the sync position ({summary})", status_code=status
        )
    return ProviderError(f"Bluesky error on {nsid} ({summary})", status_code=status)


def _login_error(response):
    """The ``ProviderAuthError`` (or rate limit) of a refused login."""
    name, message = _xrpc_error(response)
    if name == "AuthFactorTokenRequired":
        return ProviderAuthError(
            "Bluesky asks for a sign-in code sent by e-mail: use an app "
            "password (Settings \u203a Privacy and security \u203a App "
            "passwords), which never needs one.",
            status_code=response.status_code,
        )
    if name == "AccountTakedown":
        return ProviderAuthError(
            f"The Bluesky account is taken down ({message}).",
            status_code=response.status_code,
        )
    return ProviderAuthError(
        f"Bluesky refused the handle or app password ({message or name}).",
        status_code=response.status_code,
    )


def _reset_time(response):
    """Naive UTC time of ``ratelimit-reset`` (epoch seconds) or ``Retry-After``."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    reset = _header_number(response, "ratelimit-reset")
    if reset is not None:
        try:
            moment = datetime.fromtimestamp(reset, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        return moment.replace(tzinfo=None)
    wait = _header_number(response, "retry-after")
    return now + timedelta(seconds=wait) if wait is not None else None


def _header_number(response, name):
    """A header holding whole seconds, as an int (None when absent or not one)."""
    value = (response.headers.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def _transport_error(exc, writing=False):
    """The ``ProviderError`` of a transport failure.

    A write whose answer never came may have been published: that is no
    ``ProviderUnavailable`` retried by itself, which could post twice.
    """
    name = type(exc).__name__
    if writing and isinstance(exc, _MAYBE_DELIVERED):
        return ProviderError(
            f"Bluesky did not answer in time ({name}): the message may have "
            "been sent. Check the conversation on Bluesky before sending it again."
        )
    if isinstance(exc, (requests.Timeout, requests.ConnectionError, *_MAYBE_DELIVERED)):
        return ProviderUnavailable(f"Bluesky could not be reached ({name}).")
    return ProviderError(f"Bluesky request failed ({name}).")


# --------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------


def _token(pages_read, server_cursor):
    """The ``next_token`` of a notifications read: pages so far and the cursor."""
    return f"{pages_read}:{server_cursor}"


def _untoken(token):
    """``(pages read, server cursor)`` of a ``next_token`` (``(0, None)`` first)."""
    if not token:
        return 0, None
    count, _sep, server_cursor = str(token).partition(":")
    if not count.isdigit():
        raise InvalidCursor("The Bluesky page token is not one of ours.")
    return int(count), server_cursor or None


def _cursor_time(cursor):
    """The stored notifications cursor as a naive UTC time; None when empty."""
    if not cursor:
        return None
    try:
        return parse_time(cursor)
    except ValueError:
        message = f"The stored Bluesky position {cursor!r} is no time."
        raise InvalidCursor(message) from None


def _indexed_at(item):
    """A notification's ``indexedAt`` as naive UTC, or None when unreadable."""
    try:
        return parse_time(item.get("indexedAt"))
    except (AttributeError, ValueError):
        return None


def _newest_cursor(cursor, since, times):
    """The cursor to keep after this read: the newest time seen, never older."""
    if not times:
        return None
    newest = max(times)
    if since and since >= newest:
        return cursor
    return _iso(newest)


def _highest_rev(logs):
    revs = [log.get("rev") for log in logs if isinstance(log, dict)]
    revs = [rev for rev in revs if isinstance(rev, str) and rev]
    return max(revs) if revs else None


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def parse_time(value):
    """A naive UTC datetime for an AT Protocol datetime (ISO 8601)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    try:
        moment = dateparser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a timestamp: {value!r}") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _iso(moment):
    """``moment`` (naive UTC) the way AT Protocol writes datetimes."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _now_iso():
    return _iso(datetime.now(timezone.utc).replace(tzinfo=None))


def parse_author(profile, detailed=None):
    """The ``Author`` of a Bluesky profile view (``detailed`` adds followers)."""
    full = detailed or profile
    did = _required(profile, "did")
    handle = _required(profile, "handle")
    return Author(
        external_id=did,
        handle=handle,
        name=(full.get("displayName") or "").strip() or handle,
        followers_count=int(full.get("followersCount") or 0),
        verified=_verified(full),
        raw=_dumps(full),
    )


def _verified(profile):
    status = (profile.get("verification") or {}).get("verifiedStatus")
    return status == "valid"


def post_url(handle, did, uri):
    """The bsky.app address of post ``uri`` (by handle, else by DID)."""
    rkey = str(uri).rstrip("/").rsplit("/", 1)[-1]
    who = handle if handle and handle != INVALID_HANDLE else did
    return f"{APP_URL}/profile/{who}/post/{rkey}"


def parse_item(raw, account_id):
    """The ``SocialPost`` of a stored item; ``PayloadError`` when unreadable."""
    try:
        stored = json.loads(raw or "")
    except ValueError:
        raise PayloadError("The stored item is not JSON.", raw=raw) from None
    if not isinstance(stored, dict):
        raise PayloadError("The stored item is not a JSON object.", raw=raw)
    try:
        if "notification" in stored:
            return _notification_post(stored, str(account_id or ""))
        if "log" in stored:
            return _chat_post(stored, str(account_id or ""))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(_describe(exc), raw=raw) from exc
    raise PayloadError("The stored item is no Bluesky post or message.", raw=raw)


def _parse_all(items, wrap, account_id):
    """Parse every item (wrapped with its profile); bad ones become errors."""
    posts, errors = [], []
    for item in items:
        stored = wrap(item)
        try:
            if "log" in stored:
                posts.append(_chat_post(stored, account_id))
            else:
                posts.append(_notification_post(stored, account_id))
        except (KeyError, TypeError, ValueError, AttributeError, PayloadError) as exc:
            errors.append(
                ItemError(
                    _item_id(item),
                    exc.message if isinstance(exc, PayloadError) else _describe(exc),
                    _dumps(stored),
                    partial=_salvage(item),
                    detail=f"{type(exc).__name__}: {exc}",
                )
            )
    return posts, errors


def _notification_raw(item, profiles):
    """What is kept of a notification: as received, plus its author's profile."""
    return {"notification": item, "profile": profiles.get(_author_did(item))}


def _chat_raw(log, profiles):
    """What is kept of a chat message: the log event, plus its sender's profile."""
    return {"log": log, "profile": profiles.get(_sender_did(log))}


def _notification_post(stored, account_id):
    """The ``SocialPost`` of a stored notification (mention, reply, quote)."""
    item = stored["notification"]
    uri = _required(item, "uri")
    record = item["record"]
    if not isinstance(record, dict) or record.get("$type", POST_TYPE) != POST_TYPE:
        raise ValueError("the notification is not about a post")
    author = parse_author(item["author"], stored.get("profile"))
    reply = record.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri") if reply else None
    root = (reply.get("root") or {}).get("uri") if reply else None
    text = record["text"]
    if not isinstance(text, str):
        raise ValueError("field 'text' is not text")
    return SocialPost(
        external_id=uri,
        kind="reply" if parent else "mention",
        direction=_direction(author, account_id),
        author=author,
        body=text,
        lang=_language(record.get("langs")),
        posted_at=parse_time(record["createdAt"]),
        conversation_ref=root or uri,
        parent_ref=parent or None,
        url=post_url(author.handle, author.external_id, uri),
        is_repost=False,
        raw=_dumps(stored),
    )


def _chat_post(stored, account_id):
    """The ``SocialPost`` of a stored chat message (``logCreateMessage``)."""
    log = stored["log"]
    message = log["message"]
    sender = _required(message["sender"], "did")
    profile = stored.get("profile") or {"did": sender, "handle": INVALID_HANDLE}
    if profile.get("did") != sender:
        raise ValueError("the sender's profile is not the sender's")
    author = parse_author(profile)
    text = message["text"]
    if not isinstance(text, str):
        raise ValueError("field 'text' is not text")
    return SocialPost(
        external_id=_required(message, "id"),
        kind="dm",
        direction=_direction(author, account_id),
        author=author,
        body=text,
        lang=None,
        posted_at=parse_time(message["sentAt"]),
        conversation_ref=_required(log, "convoId"),
        parent_ref=None,
        url=None,
        is_repost=False,
        raw=_dumps(stored),
    )


def _is_other_reason(item):
    """A like, repost, follow…: nothing to answer (skipped, not an error)."""
    return isinstance(item, dict) and item.get("reason") not in (*REASONS, None)


def _is_new_message(log):
    """A chat event that creates a message; a deleted one has no text to read.

    An event whose message is no object at all is kept: it becomes an
    ``ItemError`` with its raw JSON.
    """
    if not isinstance(log, dict) or log.get("$type") != LOG_CREATE_MESSAGE:
        return False
    message = log.get("message")
    if not isinstance(message, dict):
        return True
    return message.get("$type", MESSAGE_VIEW) == MESSAGE_VIEW


def _author_did(item):
    author = item.get("author") if isinstance(item, dict) else None
    return author.get("did") if isinstance(author, dict) else None


def _sender_did(log):
    message = log.get("message") if isinstance(log, dict) else None
    sender = message.get("sender") if isinstance(message, dict) else None
    return sender.get("did") if isinstance(sender, dict) else None


def _direction(author, account_id):
    return "outbound" if account_id and author.external_id == account_id else "inbound"


def _language(langs):
    """The primary language subtag of a post's first ``langs`` entry."""
    if not isinstance(langs, list) or not langs or not isinstance(langs[0], str):
        return None
    return langs[0].split("-")[0].lower() or None


def _required(obj, key):
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"field {key!r} is not usable: {value!r}")
    return value


def _item_id(item):
    """The id of a raw item, if it has one (a post URI, a message id)."""
    if not isinstance(item, dict):
        return None
    if "uri" in item:
        value = item.get("uri")
    else:
        message = item.get("message")
        value = message.get("id") if isinstance(message, dict) else None
    return value if isinstance(value, str) and value else None


def _describe(exc):
    """A sentence for people about an item that could not be read."""
    if isinstance(exc, KeyError):
        return f"Bluesky left out the field '{exc.args[0]}' that every post has."
    if isinstance(exc, ValueError) and "timestamp" in str(exc):
        return "The time of this post ('createdAt') could not be read."
    if isinstance(exc, ValueError):
        return f"Bluesky sent a field this connector cannot read ({exc})."
    return "Bluesky sent this item in a form this connector cannot read."


def _salvage(item):
    """What can still be read of an item that failed to parse."""
    if not isinstance(item, dict):
        return None
    chat = "message" in item
    source = item.get("message") if chat else item.get("record")
    source = source if isinstance(source, dict) else {}
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    did = _sender_did(item) if chat else _author_did(item)
    try:
        posted_at = parse_time(source.get("sentAt" if chat else "createdAt"))
    except ValueError:
        posted_at = None
    text = source.get("text")
    uri = item.get("uri")
    return PartialPost(
        kind="dm" if chat else ("reply" if source.get("reply") else "mention"),
        body=text if isinstance(text, str) else None,
        posted_at=posted_at,
        author_external_id=did if isinstance(did, str) else None,
        author_handle=handle,
        url=post_url(handle, did, uri) if handle and isinstance(uri, str) else None,
    )


def _created(body, key):
    """``body[key]`` of a write's answer; ``PayloadError`` when missing."""
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise PayloadError(f"Bluesky did not return the new {key}.")
    return value


def _dumps(value):
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------


def _with_mention(text, handle):
    """``text`` with ``@handle`` in front, unless it already names them.

    Bluesky tells the customer of a reply anyway: the mention is left out
    when it would make the text too long.
    """
    text = (text or "").strip()
    if not handle or handle == INVALID_HANDLE:
        return text
    if any(h.lower() == handle.lower() for _s, _e, h in _mention_spans(text)):
        return text
    mentioned = f"@{handle} {text}"
    return mentioned if counting.fits(mentioned, "bluesky") else text


def _check_length(text, private):
    """Refuse a text over Bluesky's limits before sending anything."""
    if counting.fits(text, "bluesky", private=private):
        return
    most = counting.limit("bluesky", private)
    most_bytes = counting.byte_limit("bluesky", private)
    kind = "message" if private else "post"
    raise ProviderRefused(
        f"Too long for Bluesky: a {kind} may have {most} characters "
        f"({most_bytes:,} bytes); this one has "
        f"{counting.count(text, 'bluesky')} characters "
        f"({len(text.encode('utf-8')):,} bytes)."
    )


def _mention_spans(text):
    """``(byte start, byte end, handle)`` of each ``@handle`` in ``text``."""
    return [
        (_byte_offset(text, m.start()), _byte_offset(text, m.end()), m.group(1))
        for m in _MENTION.finditer(text)
    ]


def _link_facets(text):
    """A link facet for each http(s) URL of ``text``."""
    facets = []
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(_LINK_TRAILING)
        start = _byte_offset(text, match.start())
        end = start + len(url.encode("utf-8"))
        facets.append(_facet(start, end, LINK_FEATURE, uri=url))
    return facets


def _facet(start, end, feature, **value):
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": feature, **value}],
    }


def _byte_offset(text, index):
    """The UTF-8 byte offset of character ``index`` of ``text``."""
    return len(text[:index].encode("utf-8"))


def _reply_refs(parent):
    """The ``reply`` of a post answering ``parent`` (a post view): root, parent."""
    ref = {"uri": parent["uri"], "cid": parent["cid"]}
    root = ((parent.get("record") or {}).get("reply") or {}).get("root")
    if not (isinstance(root, dict) and root.get("uri") and root.get("cid")):
        root = ref
    return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": ref}
