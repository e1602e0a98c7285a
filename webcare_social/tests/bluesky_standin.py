"""A local stand-in for a Bluesky PDS (with its AppView and chat service).

It answers AT Protocol XRPC over real HTTP on 127.0.0.1 (see
``standin_base``): ``GET`` for queries and ``POST`` for procedures on
``/xrpc/<nsid>``, JSON bodies, errors as ``{"error": "Name", "message":
"..."}``. ``BlueskyClient`` runs unchanged against it. Standard library only.

Routes (``/xrpc/…``):

* ``com.atproto.server.createSession`` (``identifier``: handle, DID or
  e-mail; ``password``: the app password) and ``refreshSession`` (the
  refresh JWT as bearer; it is rotated: the old one is then revoked, as on
  Bluesky). Wrong password: 401 ``AuthenticationRequired``; with
  ``require_auth_factor`` set: 401 ``AuthFactorTokenRequired``. More than 30
  logins in 5 minutes: 429, as Bluesky limits them.
* ``app.bsky.actor.getProfile`` / ``getProfiles``, ``app.bsky.feed.getPosts``,
  ``com.atproto.identity.resolveHandle``.
* ``app.bsky.notification.listNotifications`` (``limit`` 50 by default,
  100 at most; ``cursor``; ``reasons`` filter unless ``ignore_reasons``):
  newest first; the cursor is opaque and a tampered one is a 400.
* ``com.atproto.repo.createRecord`` of ``app.bsky.feed.post``. The
  stand-in is stricter than a PDS where it helps tests: a reply must carry
  ``root`` and ``parent`` strong refs whose CIDs match the stored posts (and
  the parent's root), every facet must lie inside the text's UTF-8 bytes and
  a mention facet must cover ``@<handle of that DID>``. A text over 300
  graphemes or 3000 bytes is a 400 ``InvalidRequest``, as on Bluesky.
* Chat (only with the header ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``,
  else 501 ``MethodNotImplemented``): ``chat.bsky.convo.getLog`` (events
  after ``cursor``, oldest first, ``page_size`` at a time; without a cursor
  only the current position, like the chat service),
  ``getConvoForMembers`` (400 ``MessagesDisabled`` for an actor with
  ``accepts_chat`` false) and ``sendMessage``. An app password without
  ``chat_allowed`` gets 401 ``InvalidToken`` "Bad token scope" on chat.

Sessions: access and refresh tokens are opaque JWT-like strings the
stand-in remembers; ``expire_session()`` makes every access token answer 400
``ExpiredToken`` (so clients must refresh), ``revoke_sessions()`` revokes the
refresh tokens too (clients must log in). ``logins`` and ``refreshes`` count
what clients did. Every answer of a route carries ``ratelimit-limit``,
``-remaining``, ``-reset`` (epoch seconds) and ``-policy``;
``rate_limit_next`` scripts a 429 with them.

Posts: ``add_post`` stores a post like the AppView would see it and makes
the notifications Bluesky makes for the connected account: ``mention``
(a mention facet on its DID; facets are built from ``@handle`` in the text),
``reply`` (a reply below one of its posts), ``quote`` (a quote of one of its
posts); ``add_like``/``add_repost``/``add_follow`` make the other reasons.
Nobody is notified of their own posts. Profiles are rendered with the
current handle (``rename_actor`` changes it, the DID stays). Times come
from a clock that starts an hour ago and moves 10 seconds per item, unless
``at`` is given. ``posted`` lists what clients created (posts and chat
messages).
"""

import base64
import copy
import hashlib
import json
import re
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

if __package__:
    from .standin_base import StandinError, StandinServer, route
else:  # run as a script
    from standin_base import StandinError, StandinServer, route

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
POST_TYPE = "app.bsky.feed.post"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ACCOUNT = {
    "did": "did:plc:polderair7webcare2bsky3nl",
    "handle": "polderair.bsky.social",
    "name": "PolderAir",
    "followers": 5210,
    "email": "webcare@polderair.example",
}
ACCESS_LIFETIME = timedelta(hours=2)
LOGIN_LIMIT = 30
LOGIN_WINDOW = 300  # seconds
RATE_LIMIT = 3000
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
CLOCK_STEP = timedelta(seconds=10)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_MENTION = re.compile(r"(?<![\w@./])@([a-z0-9][a-z0-9.-]*[a-z0-9])", re.IGNORECASE)


def iso(moment):
    """``moment`` (naive UTC) the way AT Protocol writes datetimes."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _error(status, name, message):
    return StandinError(status, {"error": name, "message": message})


def _invalid(message):
    return _error(400, "InvalidRequest", message)


def _byte_index(text, index):
    return len(text[:index].encode("utf-8"))


class BlueskyStandin(StandinServer):
    """A local Bluesky PDS + AppView + chat service for one connected account.

    ``with BlueskyStandin() as bsky:``, then ``bsky.base_url`` and
    ``bsky.credentials`` configure a client.
    """

    server_name = "BlueskyStandin/1.0"

    def __init__(self, page_size=None):
        super().__init__()
        self.reset(page_size=page_size)

    # -- state -------------------------------------------------------------

    def reset(self, page_size=None):
        """Forget everything but the connected account (and its password)."""
        with self._lock:
            self.page_size = page_size
            self.password = APP_PASSWORD
            self.chat_allowed = True
            self.require_auth_factor = False
            self.ignore_reasons = False
            self.actors = {}
            self.posts = {}
            self.notifications = []
            self.convos = {}
            self.chat_log = []
            self.posted = []
            self.access_tokens = {}
            self.refresh_tokens = {}
            self.logins = 0
            self.refreshes = 0
            self._login_times = []
            self._serial = 0
            self._rev_serial = 0
            self._delays = []
            self._clock = datetime.now(timezone.utc).replace(
                tzinfo=None, microsecond=0
            ) - timedelta(hours=1)
            self.account = self.add_actor(**ACCOUNT)

    @property
    def did(self):
        """The connected account's DID."""
        return self.account["did"]

    @property
    def credentials(self):
        """What ``BlueskyClient`` reads: login and app password, no session."""
        return {
            "account_login": self.account["handle"],
            "app_password": self.password,
            "provider_session": None,
        }

    def add_actor(self, did, handle, name=None, followers=0, **extra):
        """Add (or replace) an account; return its stored profile.

        ``extra``: ``accepts_chat`` (False: chat refuses our messages),
        ``email``, ``followsCount``, ``postsCount`` and any profile field.
        """
        actor = {
            "did": did,
            "handle": handle,
            "displayName": name if name is not None else handle,
            "followersCount": followers,
            "followsCount": extra.pop("followsCount", 10),
            "postsCount": extra.pop("postsCount", 1),
            "accepts_chat": extra.pop("accepts_chat", True),
            "createdAt": "2024-02-06T10:00:00.000Z",
            **extra,
        }
        with self._lock:
            self.actors[did] = actor
        return actor

    def rename_actor(self, did, new_handle):
        """Give an account a new handle; its DID (and posts) stay."""
        with self._lock:
            self.actors[did]["handle"] = new_handle

    def add_post(self, author_did, text, reply_to=None, quote_of=None, **options):
        """Store a post and the notifications it makes; return its post view.

        ``reply_to`` and ``quote_of`` take a post URI (or a post view);
        options: ``langs`` (default ``["nl"]``), ``at`` (indexing time,
        datetime), ``created_at`` (datetime or text; default ``at``), ``rkey``.
        """
        with self._lock:
            post = self._store_post(author_did, text, reply_to, quote_of, options)
            self._notify_post(post)
            return self._post_view(post)

    def add_like(self, author_did, subject_uri, at=None):
        """A like of one of our posts: a ``like`` notification (noise)."""
        return self._add_other("like", author_did, subject_uri, at)

    def add_repost(self, author_did, subject_uri, at=None):
        """A repost of one of our posts: a ``repost`` notification (noise)."""
        return self._add_other("repost", author_did, subject_uri, at)

    def add_follow(self, author_did, at=None):
        """A new follower: a ``follow`` notification (noise)."""
        return self._add_other("follow", author_did, None, at)

    def delete_post(self, uri):
        """Delete a post: it is no longer served (nor notified)."""
        with self._lock:
            self.posts.pop(uri, None)
            self.notifications = [n for n in self.notifications if n["uri"] != uri]

    def add_dm(self, sender_did, text, at=None):
        """A chat message from ``sender_did`` to the account; return its view."""
        with self._lock:
            convo = self._convo_with(sender_did)
            return self._add_message(convo, sender_did, text, at)

    def conversation_with(self, did):
        """The chat conversation id between the account and ``did``."""
        with self._lock:
            return self._convo_with(did)["id"]

    def expire_session(self):
        """Let every access token expire: the next call gets ``ExpiredToken``."""
        with self._lock:
            for token in self.access_tokens.values():
                token["expires"] = 0.0

    def revoke_sessions(self):
        """Revoke every refresh token too: a client must log in again."""
        with self._lock:
            self.expire_session()
            for token in self.refresh_tokens.values():
                token["revoked"] = True

    def rate_limit_next(self, nsid, reset_at, times=1, after=0):
        """Answer the next ``nsid`` calls with 429 until ``reset_at`` (datetime)."""
        reset = int(reset_at.replace(tzinfo=timezone.utc).timestamp())
        self.fail_next(
            f"/xrpc/{nsid}",
            429,
            times=times,
            after=after,
            headers={
                "ratelimit-limit": str(RATE_LIMIT),
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "ratelimit-policy": f"{RATE_LIMIT};w=300",
            },
            body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        )

    def delay_next(self, nsid, seconds, times=1):
        """Answer the next ``nsid`` calls only after ``seconds`` (to time out).

        The call is still carried out: a write the client gave up on exists.
        """
        with self._lock:
            self._delays.extend([(f"/xrpc/{nsid}", float(seconds))] * times)

    def _answer(self, request):
        """Wait first when ``delay_next`` asked for it, then answer."""
        with self._lock:
            found = next((d for d in self._delays if d[0] == request.path), None)
            if found:
                self._delays.remove(found)
        if found and self._stopping.wait(found[1]):
            return 503, None, {}
        return super()._answer(request)

    def calls(self, nsid):
        """The logged requests of one XRPC method."""
        return [r for r in self.requests if r.path == f"/xrpc/{nsid}"]

    # -- hooks -------------------------------------------------------------

    def error_body(self, status):
        names = {
            400: "InvalidRequest",
            401: "AuthenticationRequired",
            429: "RateLimitExceeded",
            500: "InternalServerError",
            502: "UpstreamFailure",
            503: "NotEnoughResources",
        }
        name = names.get(status, "InternalServerError")
        return {"error": name, "message": f"{name} (stand-in fault)"}

    def not_found_body(self, request):
        return {"error": "MethodNotImplemented", "message": "Method Not Implemented"}

    def common_headers(self, request):
        reset = int(time.time()) + 300
        remaining = max(RATE_LIMIT - len(self.requests), 0)
        return {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
            "ratelimit-policy": f"{RATE_LIMIT};w=300",
        }

    # -- sessions ----------------------------------------------------------

    @route("POST", "/xrpc/com.atproto.server.createSession")
    def create_session(self, request):
        body = request.json or {}
        self._check_login_rate()
        identifier = str(body.get("identifier") or "").lower()
        ours = (self.did, self.account["handle"], self.account["email"])
        if identifier not in ours or body.get("password") != self.password:
            raise _error(
                401, "AuthenticationRequired", "Invalid identifier or password"
            )
        if self.require_auth_factor and not body.get("authFactorToken"):
            raise _error(
                401, "AuthFactorTokenRequired", "A sign in code has been sent to you"
            )
        self.logins += 1
        self._login_times.append(time.time())
        return 200, self._new_session()

    @route("POST", "/xrpc/com.atproto.server.refreshSession")
    def refresh_session(self, request):
        token = self.refresh_tokens.get(self._bearer(request))
        if token is None:
            raise _error(400, "InvalidToken", "Token could not be verified")
        if token["revoked"]:
            raise _error(400, "ExpiredToken", "Token has been revoked")
        token["revoked"] = True  # rotated: the new pair replaces it
        self.refreshes += 1
        return 200, self._new_session()

    def _check_login_rate(self):
        now = time.time()
        self._login_times = [t for t in self._login_times if t > now - LOGIN_WINDOW]
        if len(self._login_times) >= LOGIN_LIMIT:
            reset = int(self._login_times[0] + LOGIN_WINDOW)
            raise StandinError(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {"ratelimit-limit": str(LOGIN_LIMIT), "ratelimit-remaining": "0",
                 "ratelimit-reset": str(reset),
                 "ratelimit-policy": f"{LOGIN_LIMIT};w={LOGIN_WINDOW}"},
            )  # fmt: skip

    def _new_session(self):
        self._serial += 1
        access = self._jwt("access", self._serial)
        refresh = self._jwt("refresh", self._serial)
        expires = time.time() + ACCESS_LIFETIME.total_seconds()
        self.access_tokens[access] = {"expires": expires}
        self.refresh_tokens[refresh] = {"revoked": False}
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.account["handle"],
            "did": self.did,
            "email": self.account["email"],
            "emailConfirmed": True,
            "active": True,
        }

    def _jwt(self, scope, serial):
        """An opaque token shaped like a JWT (three base64url parts)."""

        def part(value):
            data = json.dumps(value).encode()
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = part({"typ": f"{scope}+jwt", "alg": "ES256K"})
        claims = part({"scope": f"com.atproto.{scope}", "sub": self.did, "n": serial})
        return f"{header}.{claims}.standin{serial}"

    @staticmethod
    def _bearer(request):
        auth = request.header("Authorization")
        return auth[7:] if auth.lower().startswith("bearer ") else ""

    def _viewer(self, request, chat=False):
        """Check the access token of ``request`` (and the chat scope)."""
        raw = self._bearer(request)
        if not raw:
            raise _error(401, "AuthMissing", "Authentication Required")
        token = self.access_tokens.get(raw)
        if token is None:
            raise _error(400, "InvalidToken", "Token could not be verified")
        if token["expires"] <= time.time():
            raise _error(400, "ExpiredToken", "Token has expired")
        if chat and request.header("atproto-proxy") != CHAT_PROXY:
            raise _error(501, "MethodNotImplemented", "Method Not Implemented")
        if chat and not self.chat_allowed:
            raise _error(401, "InvalidToken", "Bad token scope")
        return self.did

    # -- actors and posts --------------------------------------------------

    @route("GET", "/xrpc/app.bsky.actor.getProfile")
    def get_profile(self, request):
        self._viewer(request)
        actor = self._actor(request.query.get("actor"))
        if actor is None:
            raise _invalid("Profile not found")
        return 200, self._profile(actor, detailed=True)

    @route("GET", "/xrpc/app.bsky.actor.getProfiles")
    def get_profiles(self, request):
        self._viewer(request)
        wanted = self._list_param(request, "actors")
        if len(wanted) > 25:
            raise _invalid("actors must not have more than 25 elements")
        found = [self._actor(a) for a in wanted]
        return 200, {"profiles": [self._profile(a, True) for a in found if a]}

    @route("GET", "/xrpc/com.atproto.identity.resolveHandle")
    def resolve_handle(self, request):
        actor = self._actor(request.query.get("handle"))
        if actor is None or actor["did"] == request.query.get("handle"):
            raise _invalid("Unable to resolve handle")
        return 200, {"did": actor["did"]}

    @route("GET", "/xrpc/app.bsky.feed.getPosts")
    def get_posts(self, request):
        self._viewer(request)
        uris = self._list_param(request, "uris")
        posts = [self.posts[u] for u in uris if u in self.posts]
        return 200, {"posts": [self._post_view(p) for p in posts]}

    @route("POST", "/xrpc/com.atproto.repo.createRecord")
    def create_record(self, request):
        did = self._viewer(request)
        body = request.json or {}
        if body.get("repo") not in (did, self.account["handle"]):
            raise _invalid("Input/repo must be the authenticated account")
        if body.get("collection") != POST_TYPE:
            raise _invalid("Only app.bsky.feed.post records are kept here")
        record = body.get("record")
        if not isinstance(record, dict) or record.get("$type") != POST_TYPE:
            raise _invalid("Input/record must have $type app.bsky.feed.post")
        self._check_record(record)
        post = self._save_post(did, record, self._tick(None))
        self._notify_post(post)
        self.posted.append({"kind": "post", "uri": post["uri"], **record})
        return 200, {
            "uri": post["uri"],
            "cid": post["cid"],
            "validationStatus": "valid",
        }

    def _check_record(self, record):
        text = record.get("text")
        if not isinstance(text, str):
            raise _invalid("Record/text must be a string")
        if _graphemes(text) > MAX_GRAPHEMES:
            raise _invalid(
                f"Invalid app.bsky.feed.post record: Record/text must not be "
                f"longer than {MAX_GRAPHEMES} graphemes"
            )
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise _invalid(
                f"Invalid app.bsky.feed.post record: Record/text must not be "
                f"longer than {MAX_BYTES} characters"
            )
        if not isinstance(record.get("createdAt"), str):
            raise _invalid("Record/createdAt must be a datetime")
        if record.get("reply") is not None:
            self._check_reply(record["reply"])
        for facet in record.get("facets") or []:
            self._check_facet(text, facet)

    def _check_reply(self, reply):
        refs = {}
        for key in ("root", "parent"):
            ref = reply.get(key) if isinstance(reply, dict) else None
            if not (isinstance(ref, dict) and ref.get("uri") and ref.get("cid")):
                raise _invalid(f"Record/reply/{key} must be a strong ref (uri, cid)")
            stored = self.posts.get(ref["uri"])
            if stored is None or stored["cid"] != ref["cid"]:
                raise _invalid(f"Record/reply/{key} does not match a stored post")
            refs[key] = stored
        parent_root = (refs["parent"]["record"].get("reply") or {}).get("root")
        expected = parent_root["uri"] if parent_root else refs["parent"]["uri"]
        if refs["root"]["uri"] != expected:
            raise _invalid("Record/reply/root is not the root of the parent's thread")

    def _check_facet(self, text, facet):
        data = text.encode("utf-8")
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int)):
            raise _invalid("Record/facets/index must have byteStart and byteEnd")
        if not 0 <= start < end <= len(data):
            raise _invalid("Record/facets/index is outside the text")
        covered = data[start:end].decode("utf-8", "strict")
        for feature in facet.get("features") or []:
            if feature.get("$type") == "app.bsky.richtext.facet#mention":
                actor = self.actors.get(feature.get("did"))
                if actor is None or covered.lower() != "@" + actor["handle"].lower():
                    raise _invalid(f"mention facet {covered!r} is not its DID's handle")
            elif feature.get("$type") == "app.bsky.richtext.facet#link":
                if covered != feature.get("uri"):
                    raise _invalid(f"link facet {covered!r} is not its URI")

    # -- notifications -----------------------------------------------------

    @route("GET", "/xrpc/app.bsky.notification.listNotifications")
    def list_notifications(self, request):
        self._viewer(request)
        limit = self._limit(request.query.get("limit"))
        reasons = set(self._list_param(request, "reasons"))
        items = sorted(self.notifications, key=lambda n: n["seq"], reverse=True)
        if reasons and not self.ignore_reasons:
            items = [n for n in items if n["reason"] in reasons]
        before = self._decode_cursor(request.query.get("cursor"))
        if before is not None:
            items = [n for n in items if n["seq"] < before]
        page = items[:limit]
        body = {"notifications": [self._notification_view(n) for n in page]}
        if len(items) > limit:
            body["cursor"] = self._encode_cursor(page[-1]["seq"])
        return 200, body

    def _limit(self, value):
        try:
            limit = int(value or 50)
        except ValueError:
            raise _invalid("limit must be an integer") from None
        if not 1 <= limit <= 100:
            raise _invalid("limit can not be greater than 100")
        return min(limit, self.page_size or limit)

    @staticmethod
    def _encode_cursor(seq):
        return base64.urlsafe_b64encode(f"notif::{seq}".encode()).decode()

    @staticmethod
    def _decode_cursor(cursor):
        if not cursor:
            return None
        try:
            text = base64.urlsafe_b64decode(cursor.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            text = ""
        prefix, _sep, seq = text.partition("::")
        if prefix != "notif" or not seq.isdigit():
            raise _invalid("Malformed cursor")
        return int(seq)

    def _notify_post(self, post):
        """The notifications the account gets for ``post`` (not its own)."""
        if post["author"] == self.did:
            return
        record = post["record"]
        reason = None
        mentioned = {
            f["did"]
            for facet in record.get("facets") or []
            for f in facet.get("features") or []
            if f.get("$type") == "app.bsky.richtext.facet#mention"
        }
        ancestors = self._ancestors(post)
        quoted = ((record.get("embed") or {}).get("record") or {}).get("uri")
        subject = None
        if self.did in mentioned:
            reason = "mention"
        elif any(a["author"] == self.did for a in ancestors):
            reason = "reply"
            subject = ancestors[0]["uri"]
        elif quoted in self.posts and self.posts[quoted]["author"] == self.did:
            reason, subject = "quote", quoted
        if reason:
            self._add_notification(reason, post["author"], post["uri"], subject, post)

    def _ancestors(self, post):
        """The posts above ``post`` in its thread, parent first."""
        found, current = [], post
        while current and current["record"].get("reply"):
            uri = current["record"]["reply"]["parent"]["uri"]
            current = self.posts.get(uri)
            if current:
                found.append(current)
        return found

    def _add_other(self, reason, author_did, subject_uri, at):
        with self._lock:
            moment = self._tick(at)
            record = {"$type": f"app.bsky.feed.{reason}", "createdAt": iso(moment)}
            if reason == "follow":
                record = {
                    "$type": "app.bsky.graph.follow",
                    "subject": self.did,
                    "createdAt": iso(moment),
                }
            elif subject_uri:
                subject = self.posts[subject_uri]
                record["subject"] = {"uri": subject_uri, "cid": subject["cid"]}
            collection = record["$type"]
            uri = f"at://{author_did}/{collection}/{self._tid(moment)}"
            fake = {"uri": uri, "cid": _cid(uri), "record": record, "indexedAt": moment}
            return self._add_notification(reason, author_did, uri, subject_uri, fake)

    def _add_notification(self, reason, author_did, uri, subject, post):
        self._serial += 1
        notification = {
            "seq": self._serial,
            "reason": reason,
            "author": author_did,
            "uri": uri,
            "cid": post["cid"],
            "reasonSubject": subject,
            "record": post["record"],
            "indexedAt": post["indexedAt"],
        }
        self.notifications.append(notification)
        return notification

    def _notification_view(self, notification):
        view = {
            "uri": notification["uri"],
            "cid": notification["cid"],
            "author": self._profile(self.actors[notification["author"]]),
            "reason": notification["reason"],
            "record": copy.deepcopy(notification["record"]),
            "isRead": False,
            "indexedAt": iso(notification["indexedAt"]),
            "labels": [],
        }
        if notification["reasonSubject"]:
            view["reasonSubject"] = notification["reasonSubject"]
        return view

    # -- chat --------------------------------------------------------------

    @route("GET", "/xrpc/chat.bsky.convo.getLog")
    def get_log(self, request):
        self._viewer(request, chat=True)
        cursor = request.query.get("cursor")
        latest = self.chat_log[-1]["rev"] if self.chat_log else "2222222222222"
        if not cursor:
            return 200, {"cursor": latest, "logs": []}
        if not re.fullmatch(f"[{TID_ALPHABET}]{{13}}", cursor):
            raise _invalid("Invalid cursor")
        after = [log for log in self.chat_log if log["rev"] > cursor]
        page = after[: self.page_size or 100]
        return 200, {
            "cursor": page[-1]["rev"] if page else cursor,
            "logs": [self._log_view(log) for log in page],
        }

    @route("GET", "/xrpc/chat.bsky.convo.getConvoForMembers")
    def get_convo_for_members(self, request):
        self._viewer(request, chat=True)
        members = [m for m in self._list_param(request, "members") if m != self.did]
        if len(members) != 1 or members[0] not in self.actors:
            raise _invalid("recipient not found")
        if not self.actors[members[0]]["accepts_chat"]:
            raise _error(
                400, "MessagesDisabled", "recipient has disabled incoming messages"
            )
        convo = self._convo_with(members[0])
        return 200, {"convo": self._convo_view(convo)}

    @route("POST", "/xrpc/chat.bsky.convo.sendMessage")
    def send_message(self, request):
        did = self._viewer(request, chat=True)
        body = request.json or {}
        convo = self.convos.get(body.get("convoId"))
        if convo is None:
            raise _error(400, "InvalidConvo", "Convo not found")
        message = body.get("message") or {}
        text = message.get("text")
        if not isinstance(text, str) or not text:
            raise _invalid("Input/message/text must be a string")
        if _graphemes(text) > 1000 or len(text.encode("utf-8")) > 10000:
            raise _invalid("Input/message/text must not be longer than 1000 graphemes")
        stored = self._add_message(convo, did, text, None, message.get("facets"))
        self.posted.append({"kind": "dm", "convoId": convo["id"], **stored})
        return 200, self._message_view(stored)

    def _convo_with(self, did):
        for convo in self.convos.values():
            if did in convo["members"]:
                return convo
        self._serial += 1
        convo = {"id": f"3convo{self._serial:07d}", "members": [self.did, did]}
        self.convos[convo["id"]] = convo
        return convo

    def _add_message(self, convo, sender_did, text, at, facets=None):
        moment = self._tick(at)
        rev = self._next_rev()
        message = {
            "id": f"msg{rev}",
            "rev": rev,
            "text": text,
            "sender": sender_did,
            "sentAt": moment,
        }
        if facets:
            message["facets"] = facets
        self.chat_log.append({"rev": rev, "convoId": convo["id"], "message": message})
        return message

    def _message_view(self, message):
        view = {
            "$type": "chat.bsky.convo.defs#messageView",
            "id": message["id"],
            "rev": message["rev"],
            "text": message["text"],
            "sender": {"did": message["sender"]},
            "sentAt": iso(message["sentAt"]),
        }
        if message.get("facets"):
            view["facets"] = copy.deepcopy(message["facets"])
        return view

    def _log_view(self, log):
        sender = self.actors[log["message"]["sender"]]
        return {
            "$type": "chat.bsky.convo.defs#logCreateMessage",
            "rev": log["rev"],
            "convoId": log["convoId"],
            "message": self._message_view(log["message"]),
            "relatedProfiles": [self._chat_profile(sender)],
        }

    def _convo_view(self, convo):
        return {
            "id": convo["id"],
            "rev": self.chat_log[-1]["rev"] if self.chat_log else "2222222222222",
            "members": [self._chat_profile(self.actors[m]) for m in convo["members"]],
            "muted": False,
            "unreadCount": 0,
        }

    def _chat_profile(self, actor):
        return {
            "did": actor["did"],
            "handle": actor["handle"],
            "displayName": actor["displayName"],
        }

    # -- rendering and helpers ---------------------------------------------

    def _actor(self, ref):
        if not ref:
            return None
        if ref in self.actors:
            return self.actors[ref]
        ref = ref.lower().lstrip("@")
        return next((a for a in self.actors.values() if a["handle"] == ref), None)

    def _profile(self, actor, detailed=False):
        view = {
            "did": actor["did"],
            "handle": actor["handle"],
            "displayName": actor["displayName"],
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{actor['did']}/x@jpeg",
            "labels": [],
            "createdAt": actor["createdAt"],
        }
        if detailed:
            view.update(
                followersCount=actor["followersCount"],
                followsCount=actor["followsCount"],
                postsCount=actor["postsCount"],
            )
        return view

    def _post_view(self, post):
        return {
            "uri": post["uri"],
            "cid": post["cid"],
            "author": self._profile(self.actors[post["author"]]),
            "record": copy.deepcopy(post["record"]),
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "indexedAt": iso(post["indexedAt"]),
            "labels": [],
        }

    def _store_post(self, author_did, text, reply_to, quote_of, options):
        moment = self._tick(options.get("at"))
        created = options.get("created_at") or moment
        record = {
            "$type": POST_TYPE,
            "text": text,
            "createdAt": created if isinstance(created, str) else iso(created),
            "langs": list(options.get("langs", ["nl"])),
        }
        facets = self._facets(text)
        if facets:
            record["facets"] = facets
        if reply_to:
            parent = self.posts[self._uri(reply_to)]
            root = (parent["record"].get("reply") or {}).get("root")
            parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
            record["reply"] = {"root": root or parent_ref, "parent": parent_ref}
        if quote_of:
            quoted = self.posts[self._uri(quote_of)]
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted["uri"], "cid": quoted["cid"]},
            }
        return self._save_post(author_did, record, moment, options.get("rkey"))

    def _save_post(self, author_did, record, moment, rkey=None):
        uri = f"at://{author_did}/{POST_TYPE}/{rkey or self._tid(moment)}"
        post = {
            "uri": uri,
            "cid": _cid(uri + json.dumps(record, sort_keys=True)),
            "author": author_did,
            "record": record,
            "indexedAt": moment,
        }
        self.posts[uri] = post
        return post

    def _facets(self, text):
        """Mention facets for the ``@handle`` of known accounts in ``text``."""
        facets = []
        for match in _MENTION.finditer(text):
            actor = self._actor(match.group(1))
            if actor:
                facets.append(
                    {
                        "index": {
                            "byteStart": _byte_index(text, match.start()),
                            "byteEnd": _byte_index(text, match.end()),
                        },
                        "features": [
                            {
                                "$type": "app.bsky.richtext.facet#mention",
                                "did": actor["did"],
                            }
                        ],
                    }
                )
        return facets

    @staticmethod
    def _uri(ref):
        return ref["uri"] if isinstance(ref, dict) else ref

    @staticmethod
    def _list_param(request, name):
        """All values of a repeated query parameter (``?a=1&a=2``)."""
        return parse_qs(request.raw_query).get(name, [])

    def _tick(self, at):
        """The time of a new item: ``at``, or the stand-in's clock moved on."""
        if at is not None:
            return at.replace(tzinfo=None) if at.tzinfo else at
        self._clock += CLOCK_STEP
        return self._clock

    def _next_rev(self):
        """The next chat log revision: sortable, whatever the message's time."""
        self._rev_serial += 1
        return self._base32((1 << 60) | self._rev_serial)

    @staticmethod
    def _base32(value):
        chars = []
        for _ in range(13):
            chars.append(TID_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))

    def _tid(self, moment):
        """A record key / rev in Bluesky's sortable base32 (13 characters)."""
        self._serial += 1
        micros = int(moment.replace(tzinfo=timezone.utc).timestamp() * 1_000_000)
        return self._base32((micros << 10) | (self._serial & 0x3FF))


def _cid(seed):
    """A CID-looking content hash (base32 of a SHA-256)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _graphemes(text):
    """A close count of graphemes: marks, joiners and what they join add none."""
    count, joined = 0, False
    for char in unicodedata.normalize("NFC", text):
        if joined or unicodedata.combining(char) or char == "\ufe0f":
            joined = False
            continue
        if char == "\u200d" or 0x1F3FB <= ord(char) <= 0x1F3FF:  # ZWJ, skin tone
            joined = char == "\u200d"
            continue
        count += 1
    return count
