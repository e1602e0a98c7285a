"""A local stand-in for the X API v2, for tests and offline demos.

It speaks the documented v2 wire format over real HTTP on 127.0.0.1, so the
client code under test runs unchanged (no patching). Standard library only;
the serving, request log and scripted faults come from ``standin_base.py``.

Run it as a script to serve the bundled demo data::

    python webcare_social/tests/x_standin.py --port 18111 \\
        --dataset webcare_social/demo/x_demo_dataset.json

Endpoints: ``GET /2/users/me``, ``GET /2/users/:id``,
``GET /2/users/:id/mentions``, ``GET /2/dm_events``, ``POST /2/tweets``,
``POST /2/dm_conversations/with/:id/messages``.

Authentication: ``Authorization: Bearer <bearer_token>``, or an OAuth 1.0a
header whose consumer key and token match and whose HMAC-SHA1 signature is
valid for the URL actually requested. Anything else gets X's 401 problem.

Dataset format: one JSON object, which is the stand-in's whole state::

    {
      "account": {X user object of the connected account},
      "users": [X user objects: id, username, name, verified,
                public_metrics, ...; optional "previous_usernames":
                [{"username": "old", "until": "2026-11-18T00:00:00Z"}]
                replays a handle change (see below); optional
                "accepts_dms": false makes X refuse our DMs to them],
      "tweets": [X tweet objects as stored: id, text, author_id, created_at,
                 lang, conversation_id, in_reply_to_user_id,
                 referenced_tweets, public_metrics, entities (computed from
                 the text when absent); optional "in_mentions": true/false
                 overrides whether the tweet is in the account's mentions
                 timeline (default: its text mentions @username)],
      "dm_events": [X DM events: id, event_type, text, sender_id,
                    dm_conversation_id, created_at],
      "settings": {"page_size": 10}
    }

Keys starting with ``_`` are comments. Only requested fields are served
(``id``, ``text`` and ``edit_history_tweet_ids`` always). Tweet text is
stored plain and served with ``&``, ``<`` and ``>`` as HTML entities, like
X. Ids are snowflakes: newest first means highest id first.
``settings.page_size`` caps items per page below ``max_results`` (X may
return fewer items than asked).

Replays that real X only shows over time:

* handle change: a user is shown with the username valid at the time of
  their newest tweet in the page, so an older page can still show the old
  handle while a newer page shows the new one;
* missing author: a tweet whose ``author_id`` is no known user is served
  without its author in ``includes.users`` plus a "Not Found Error" in
  ``errors`` (what X does for a suspended account).
"""

import argparse
import base64
import copy
import hashlib
import hmac
import html
import importlib.util
import json
import re
import sys
import threading
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote


def _load_base():
    """Import ``standin_base.py`` from this folder when there is no package.

    ``make demo`` runs this file as a script and the bench loads it by file
    path; both need the shared base without importing the test package.
    """
    name = "webcare_social_standin_base"
    if name not in sys.modules:
        path = Path(__file__).resolve().with_name("standin_base.py")
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


if __package__:
    from .standin_base import StandinError, StandinRequest, StandinServer, route
else:
    _base = _load_base()
    StandinError, StandinRequest = _base.StandinError, _base.StandinRequest
    StandinServer, route = _base.StandinServer, _base.route

STANDIN_BEARER = "standin-bearer"
STANDIN_CONSUMER_KEY = "standin-consumer-key"
STANDIN_CONSUMER_SECRET = "standin-consumer-secret"
STANDIN_ACCESS_TOKEN = "standin-access-token"
STANDIN_ACCESS_TOKEN_SECRET = "standin-access-token-secret"

# The stand-in's wording of X's refusals (X sends its reason in "detail").
REPLY_NOT_ALLOWED = (
    "Reply to this conversation is not allowed because you have not been "
    "mentioned or otherwise engaged by the author of the post you are replying to."
)
DM_NOT_ALLOWED = "You are not allowed to send Direct Messages to this user."

DEFAULT_ACCOUNT = {
    "id": "1500000000000000001",
    "username": "PolderAir",
    "name": "PolderAir",
    "verified": True,
    "public_metrics": {"followers_count": 48213, "following_count": 312},
}

TWEET_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULT_FIELDS = ("id", "name", "username")
DM_DEFAULT_FIELDS = ("id", "event_type", "text")
SNOWFLAKE_EPOCH_MS = 1288834974657
PROBLEM_TYPE = "https://api.twitter.com/2/problems/"
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_URL = re.compile(r"https?://\S+")


# The request log's entries (``XApiStandin.requests``), under their old name.
RecordedRequest = StandinRequest


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def snowflake(moment, sequence=0):
    """Return an X-style id for naive-UTC or aware ``moment``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    millis = int(moment.timestamp() * 1000)
    return str(((millis - SNOWFLAKE_EPOCH_MS) << 22) | (sequence & 0x3FFFFF))


def iso(moment):
    """Return ``moment`` (naive UTC or aware) the way X writes ``created_at``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_iso(value):
    """Return an aware UTC datetime for an X timestamp."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _invalid_param(name, value):
    """Return the 400 error X sends for an invalid query parameter."""
    return StandinError(
        400,
        {
            "errors": [
                {
                    "parameters": {name: [value]},
                    "message": f"The `{name}` query parameter value [{value}] "
                    "is not valid",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEM_TYPE + "invalid-request",
        },
    )


def _problem(status, detail=None, title=None):
    """Return an X problem document (``about:blank`` style)."""
    title = title or HTTPStatus(status).phrase
    return {
        "title": title,
        "type": "about:blank",
        "status": status,
        "detail": detail or title,
    }


def _not_found(kind, parameter, value):
    """Return a partial "Not Found Error" entry for ``errors``."""
    return {
        "value": value,
        "detail": f"Could not find {kind} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEM_TYPE + "resource-not-found",
    }


def _fields(query, name, defaults):
    """Return the set of fields asked for in ``query[name]`` plus defaults."""
    asked = [f for f in query.get(name, "").split(",") if f]
    return set(defaults) | set(asked)


def _pick(obj, fields):
    """Return the public keys of ``obj`` that are in ``fields``."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if k in fields}


def _encode(value):
    """Percent-encode per RFC 3986, as OAuth 1.0a requires."""
    return quote(str(value), safe="~")


def _token(kind, before_id):
    """Return an opaque pagination token meaning "items older than id"."""
    return f"{kind}:{before_id}".encode().hex()


def _untoken(kind, token):
    """Return the id bound encoded in ``token``, or raise a 400."""
    try:
        text = bytes.fromhex(token).decode()
    except (ValueError, UnicodeDecodeError):
        raise _invalid_param("pagination_token", token) from None
    prefix, _sep, value = text.partition(":")
    if prefix != kind or not value.isdigit():
        raise _invalid_param("pagination_token", token)
    return int(value)


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class XApiStandin(StandinServer):
    """A local X API v2 server holding ``dataset`` as its state.

    Use ``start()``/``stop()`` or ``with XApiStandin(data) as x:``; then
    ``x.base_url`` and ``x.credentials`` configure a client. ``requests``
    lists what was received and ``posted`` what clients created.
    """

    server_name = "XApiStandin/1.0"

    def __init__(self, dataset=None, *, page_size=None, check_signatures=True):
        super().__init__()
        self.bearer_token = STANDIN_BEARER
        self.consumer_key = STANDIN_CONSUMER_KEY
        self.consumer_secret = STANDIN_CONSUMER_SECRET
        self.access_token = STANDIN_ACCESS_TOKEN
        self.access_token_secret = STANDIN_ACCESS_TOKEN_SECRET
        self.check_signatures = check_signatures
        self.posted = []
        self.load(dataset or {}, page_size=page_size)

    # -- connection ----------------------------------------------------------

    @property
    def account_id(self):
        """Id of the connected account."""
        return self.account["id"]

    @property
    def credentials(self):
        """All credentials the stand-in accepts (OAuth 1.0a and bearer)."""
        return {
            "bearer_token": self.bearer_token,
            "api_key": self.consumer_key,
            "api_key_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }

    @property
    def bearer_credentials(self):
        """Only the bearer token (app-only style)."""
        return {"bearer_token": self.bearer_token}

    # -- state -------------------------------------------------------------

    def load(self, dataset, page_size=None):
        """Replace the whole state with ``dataset`` (see the module doc)."""
        data = copy.deepcopy(dataset)
        settings = data.get("settings") or {}
        with self._lock:
            self.account = data.get("account") or copy.deepcopy(DEFAULT_ACCOUNT)
            self.page_size = page_size or settings.get("page_size")
            self.users = {self.account["id"]: self.account}
            self.users.update({u["id"]: u for u in data.get("users", [])})
            self.tweets = {t["id"]: t for t in data.get("tweets", [])}
            self.dm_events = {e["id"]: e for e in data.get("dm_events", [])}

    @classmethod
    def from_file(cls, path, **kwargs):
        """Return a stand-in loaded from a dataset JSON file."""
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle), **kwargs)

    def add_user(self, user_id, username, name=None, followers_count=0, **extra):
        """Add (or replace) a user; return the stored object."""
        user = {
            "id": str(user_id),
            "username": username,
            "name": name or username,
            "verified": bool(extra.pop("verified", False)),
            "public_metrics": {"followers_count": followers_count},
            **extra,
        }
        with self._lock:
            self.users[user["id"]] = user
        return user

    def rename_user(self, user_id, new_username):
        """Change a user's handle from now on (the id stays)."""
        with self._lock:
            user = self.users[str(user_id)]
            history = user.setdefault("previous_usernames", [])
            history.append({"username": user["username"], "until": iso(self._now())})
            user["username"] = new_username

    def add_tweet(self, author_id, text, **options):
        """Store a tweet; return it.

        Options: ``tweet_id``, ``created_at`` (datetime or ISO text; default
        now), ``in_reply_to`` (tweet id), ``conversation_id``, ``lang``
        (default "en"), ``retweet_of`` (tweet id), ``in_mentions``, and any
        raw tweet field.
        """
        with self._lock:
            tweet = self._new_tweet(str(author_id), text, options)
            self.tweets[tweet["id"]] = tweet
        return tweet

    def add_dm(
        self, sender_id, text, recipient_id=None, event_id=None, created_at=None
    ):
        """Store a DM event between the account and another user; return it."""
        sender_id = str(sender_id)
        other = str(recipient_id or sender_id)
        with self._lock:
            moment = self._moment(created_at)
            event = {
                "id": event_id or self._next_id(moment),
                "event_type": "MessageCreate",
                "text": text,
                "sender_id": sender_id,
                "dm_conversation_id": self.conversation_with(other),
                "created_at": iso(moment),
            }
            self.dm_events[event["id"]] = event
        return event

    def conversation_with(self, user_id):
        """Return the 1:1 ``dm_conversation_id`` of the account and a user."""
        ids = sorted([str(user_id), self.account_id], key=int)
        return "-".join(ids)

    # -- fault injection ---------------------------------------------------

    def fail_next(
        self, path_prefix, status, times=1, headers=None, body=None, after=0, raw=None
    ):
        """Answer the next ``times`` requests under ``path_prefix`` with an error.

        See ``StandinServer.fail_next`` (``after``, ``raw``). ``body`` None
        means X's problem document for ``status``; a 429 without headers gets
        ``x-rate-limit-reset`` 15 minutes from now, like X.
        """
        if status == 429 and not headers:
            reset = int(datetime.now(timezone.utc).timestamp()) + 900
            headers = {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
        return super().fail_next(
            path_prefix, status, times, headers, body, after=after, raw=raw
        )

    def clear_log(self):
        """Forget the recorded requests and posted items."""
        with self._lock:
            self.posted.clear()
            return super().clear_log()

    # -- answers the base asks for ---------------------------------------------

    def error_body(self, status):
        """X's problem document for a scripted fault."""
        return _problem(status)

    def not_found_body(self, request):
        """X's problem document for an unknown endpoint."""
        return _problem(404, "The requested resource could not be found.")

    def common_headers(self, request):
        """The rate-limit headers X adds to every answer."""
        reset = int(datetime.now(timezone.utc).timestamp()) + 900
        return {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(reset),
        }

    # -- authentication ----------------------------------------------------

    def authorize(self, request):
        """Let through a valid bearer token or OAuth 1.0a header; else X's 401."""
        header = request.header("Authorization")
        if header.startswith("Bearer "):
            accepted = hmac.compare_digest(header[7:].strip(), self.bearer_token)
        elif header.startswith("OAuth "):
            accepted = self._oauth_ok(request, header[6:])
        else:
            accepted = False
        return None if accepted else dict(UNAUTHORIZED)

    def _oauth_ok(self, request, header):
        """Check the keys and (unless disabled) the HMAC-SHA1 signature."""
        params = dict(
            (key.strip(), unquote(value.strip().strip('"')))
            for key, _sep, value in (p.partition("=") for p in header.split(","))
        )
        if params.get("oauth_consumer_key") != self.consumer_key:
            return False
        if params.get("oauth_token") != self.access_token:
            return False
        if not self.check_signatures:
            return True
        url = f"http://{request.header('Host')}{request.path}".lower()
        expected = self._signature(request.method, url, request.raw_query, params)
        return hmac.compare_digest(expected, params.get("oauth_signature", ""))

    def _signature(self, method, url, raw_query, oauth_params):
        """Return the OAuth 1.0a HMAC-SHA1 signature of a request."""
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        pairs += [(k, v) for k, v in oauth_params.items() if k != "oauth_signature"]
        normalized = "&".join(
            f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in pairs)
        )
        base = "&".join([method.upper(), _encode(url), _encode(normalized)])
        key = f"{_encode(self.consumer_secret)}&{_encode(self.access_token_secret)}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    # -- routes ------------------------------------------------------------

    @route("GET", "/2/users/me")
    def _me(self, request):
        """``GET /2/users/me``: the connected account."""
        return 200, {"data": self._render_user(self.account, request.query)}

    @route("GET", "/2/users/{user_id}")
    def _get_user(self, request):
        """``GET /2/users/:id``."""
        return 200, self._user_lookup(request.params["user_id"], request.query)

    @route("GET", "/2/users/{user_id}/mentions")
    def _get_mentions(self, request):
        """``GET /2/users/:id/mentions``."""
        return 200, self._mentions(request.params["user_id"], request.query)

    @route("GET", "/2/dm_events")
    def _get_dm_events(self, request):
        """``GET /2/dm_events``."""
        return 200, self._dm_events(request.query)

    @route("POST", "/2/tweets")
    def _post_tweet(self, request):
        """``POST /2/tweets``."""
        return 201, self._create_tweet(self._json_body(request))

    @route("POST", "/2/dm_conversations/with/{participant_id}/messages")
    def _post_dm(self, request):
        """``POST /2/dm_conversations/with/:id/messages``."""
        participant_id = request.params["participant_id"]
        return 201, self._create_dm(participant_id, self._json_body(request))

    @staticmethod
    def _json_body(request):
        """Return the JSON object sent with a POST, or raise a 400."""
        try:
            body = json.loads(request.raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise StandinError(
                400, _problem(400, "The request body is not valid JSON.")
            )
        return body

    def _user_lookup(self, user_id, query):
        """Body of ``GET /2/users/:id``."""
        user = self.users.get(user_id)
        if user is None:
            return {"errors": [_not_found("user", "id", user_id)]}
        return {"data": self._render_user(user, query)}

    def _mentions(self, user_id, query):
        """Body of ``GET /2/users/:id/mentions`` (newest first)."""
        user = self.users.get(user_id)
        if user is None:
            return {"errors": [_not_found("user", "id", user_id)]}
        limit = self._int_param(query, "max_results", 10, 5, 100)
        since = self._id_param(query, "since_id")
        until = self._id_param(query, "until_id")
        before = self._bound(query, "mentions")
        matches = [
            t
            for t in self._newest_first(self.tweets)
            if self._mentions_user(t, user)
            and (since is None or int(t["id"]) > since)
            and (until is None or int(t["id"]) < until)
            and (before is None or int(t["id"]) < before)
        ]
        return self._tweet_page(matches, limit, query)

    def _tweet_page(self, matches, limit, query):
        """Render one page of tweets with meta, includes and errors."""
        page = matches[: self._page_limit(limit)]
        body = {"meta": {"result_count": len(page)}}
        if page:
            fields = _fields(query, "tweet.fields", TWEET_DEFAULT_FIELDS)
            body["data"] = [self._render_tweet(t, fields) for t in page]
            body["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            self._expand_tweets(body, page, query)
        if len(matches) > len(page):
            body["meta"]["next_token"] = _token("mentions", page[-1]["id"])
        body["meta"] = body.pop("meta")  # X sends data, includes, errors, meta
        return body

    def _dm_events(self, query):
        """Body of ``GET /2/dm_events`` (newest first)."""
        limit = self._int_param(query, "max_results", 100, 1, 100)
        types = set(query.get("event_types", "").split(",")) - {""}
        before = self._bound(query, "dm")
        matches = [
            e
            for e in self._newest_first(self.dm_events)
            if (not types or e.get("event_type") in types)
            and (before is None or int(e["id"]) < before)
        ]
        page = matches[: self._page_limit(limit)]
        body = {"meta": {"result_count": len(page)}}
        if page:
            fields = _fields(query, "dm_event.fields", DM_DEFAULT_FIELDS)
            body["data"] = [_pick(e, fields) for e in page]
            self._expand_dm(body, page, query)
        if len(matches) > len(page):
            body["meta"]["next_token"] = _token("dm", page[-1]["id"])
        body["meta"] = body.pop("meta")
        return body

    def _create_tweet(self, payload):
        """Body of ``POST /2/tweets``: a tweet by the account."""
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise StandinError(400, _problem(400, "A tweet needs text."))
        parent_id = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        self._check_can_post(text, parent_id)
        tweet = self.add_tweet(self.account_id, text, in_reply_to=parent_id, lang="und")
        posted = {"kind": "tweet", "id": tweet["id"], "text": text}
        self.posted.append({**posted, "in_reply_to_tweet_id": parent_id})
        edits = {"edit_history_tweet_ids": [tweet["id"]]}
        return {"data": {"id": tweet["id"], "text": text, **edits}}

    def _check_can_post(self, text, parent_id):
        """Refuse replies X refuses (403): unknown tweets, duplicates, and since
        February 2026 replies to posts that did not mention or quote us."""
        if parent_id and str(parent_id) not in self.tweets:
            detail = (
                "You attempted to reply to a Tweet that is deleted or not visible "
                "to you."
            )
            raise StandinError(403, _problem(403, detail))
        parent = self.tweets.get(str(parent_id)) if parent_id else None
        if parent and not self._may_reply_to(parent):
            raise StandinError(403, _problem(403, REPLY_NOT_ALLOWED))
        mine = (
            t for t in self.tweets.values() if t.get("author_id") == self.account_id
        )
        if any(t.get("text") == text for t in mine):
            detail = "You are not allowed to create a Tweet with duplicate content."
            raise StandinError(403, _problem(403, detail))

    def _may_reply_to(self, parent):
        """X's reply rule: our own posts, and posts that mention or quote us."""
        if parent.get("author_id") == self.account_id:
            return True
        quoted = [
            ref.get("id")
            for ref in parent.get("referenced_tweets") or []
            if ref.get("type") == "quoted"
        ]
        ours = any(
            self.tweets.get(str(q), {}).get("author_id") == self.account_id
            for q in quoted
        )
        return ours or self._mentions_user(parent, self.account)

    def _create_dm(self, participant_id, payload):
        """Body of ``POST /2/dm_conversations/with/:id/messages``."""
        text = payload.get("text")
        if participant_id not in self.users or participant_id == self.account_id:
            raise _invalid_param("participant_id", participant_id)
        if self.users[participant_id].get("accepts_dms") is False:
            raise StandinError(403, _problem(403, DM_NOT_ALLOWED))
        if not isinstance(text, str) or not text.strip():
            raise StandinError(400, _problem(400, "A message needs text."))
        event = self.add_dm(self.account_id, text, recipient_id=participant_id)
        self.posted.append(
            {
                "kind": "dm",
                "id": event["id"],
                "text": text,
                "recipient_id": participant_id,
                "dm_conversation_id": event["dm_conversation_id"],
            }
        )
        return {
            "data": {
                "dm_conversation_id": event["dm_conversation_id"],
                "dm_event_id": event["id"],
            }
        }

    # -- rendering ---------------------------------------------------------

    def _render_tweet(self, tweet, fields):
        """Return the tweet with only the requested fields."""
        shown = _pick(tweet, fields)
        if "text" in tweet:
            shown["text"] = html.escape(tweet["text"], quote=False)  # as X does
        shown.setdefault("edit_history_tweet_ids", [tweet["id"]])
        if "entities" in fields and "entities" not in tweet:
            entities = self._entities(tweet.get("text", ""))
            if entities:
                shown["entities"] = entities
        return shown

    def _render_user(self, user, query, as_of=None):
        """Return the user with the requested fields, as they were at ``as_of``."""
        shown = _pick(user, _fields(query, "user.fields", USER_DEFAULT_FIELDS))
        shown["username"] = self._username_at(user, as_of)
        return shown

    @staticmethod
    def _username_at(user, as_of):
        """Return the username valid at ``as_of`` (now when None)."""
        if as_of is not None:
            for old in user.get("previous_usernames") or []:
                if as_of < _parse_iso(old["until"]):
                    return old["username"]
        return user["username"]

    def _entities(self, text):
        """Compute ``entities.mentions``/``urls`` from a tweet's text."""
        entities = {}
        mentions = [self._mention_entity(m) for m in _MENTION.finditer(text)]
        urls = [
            {
                "start": m.start(),
                "end": m.end(),
                "url": m.group(0),
                "expanded_url": m.group(0),
                "display_url": m.group(0).split("//", 1)[1][:26],
            }
            for m in _URL.finditer(text)
        ]
        if mentions:
            entities["mentions"] = mentions
        if urls:
            entities["urls"] = urls
        return entities

    def _mention_entity(self, match):
        """Return the entity of one ``@name`` match (with the id when known)."""
        entry = {"start": match.start(), "end": match.end(), "username": match.group(1)}
        user = self._user_by_name(match.group(1))
        if user:
            entry["id"] = user["id"]
        return entry

    def _expand_tweets(self, body, page, query):
        """Add ``includes`` (users, tweets) and partial ``errors`` to a page."""
        expansions = set(query.get("expansions", "").split(","))
        errors, tweets, authors = [], [], {}
        if "referenced_tweets.id" in expansions:
            tweets = self._referenced(page, errors)
            fields = _fields(query, "tweet.fields", TWEET_DEFAULT_FIELDS)
            if tweets:
                body.setdefault("includes", {})["tweets"] = [
                    self._render_tweet(t, fields) for t in tweets
                ]
        if "author_id" in expansions:
            self._collect_authors(page, authors, errors, "author_id")
        if "referenced_tweets.id.author_id" in expansions:
            self._collect_authors(
                tweets, authors, errors, "referenced_tweets.id.author_id"
            )
        self._include_users(body, authors, query)
        if errors:
            body["errors"] = errors

    def _referenced(self, page, errors):
        """Return the tweets referenced by ``page``; note missing ones."""
        found = {}
        for tweet in page:
            for ref in tweet.get("referenced_tweets") or []:
                target = self.tweets.get(ref["id"])
                if target is None:
                    errors.append(
                        _not_found("tweet", "referenced_tweets.id", ref["id"])
                    )
                else:
                    found[target["id"]] = target
        return list(found.values())

    def _collect_authors(self, tweets, authors, errors, parameter):
        """Map author id -> time of their newest tweet; note unknown authors."""
        for tweet in tweets:
            author_id = tweet.get("author_id")
            if author_id not in self.users:
                errors.append(_not_found("user", parameter, author_id))
                continue
            stamp = tweet.get("created_at")
            moments = [authors.get(author_id), stamp and _parse_iso(stamp)]
            authors[author_id] = max((m for m in moments if m), default=None)

    def _include_users(self, body, authors, query):
        """Add ``includes.users`` for the collected ids."""
        if authors:
            users = [
                self._render_user(self.users[uid], query, as_of)
                for uid, as_of in authors.items()
            ]
            body.setdefault("includes", {})["users"] = users

    def _expand_dm(self, body, page, query):
        """Add ``includes.users`` for DM senders and participants."""
        expansions = set(query.get("expansions", "").split(","))
        ids = []
        for event in page:
            if "sender_id" in expansions:
                ids.append(event.get("sender_id"))
            if "participant_ids" in expansions:
                ids.extend(event.get("participant_ids") or [])
        users = [self.users[i] for i in dict.fromkeys(ids) if i in self.users]
        if users:
            body["includes"] = {"users": [self._render_user(u, query) for u in users]}

    # -- query helpers -----------------------------------------------------

    @staticmethod
    def _int_param(query, name, default, low, high):
        """Return an integer parameter within ``[low, high]`` or raise a 400."""
        value = query.get(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise _invalid_param(name, value)
        return int(value)

    @staticmethod
    def _id_param(query, name):
        """Return a numeric id parameter, None, or raise a 400."""
        value = query.get(name)
        if value is None:
            return None
        if not value.isdigit():
            raise _invalid_param(name, value)
        return int(value)

    @staticmethod
    def _bound(query, kind):
        """Return the id bound of ``pagination_token``, or None."""
        token = query.get("pagination_token")
        return _untoken(kind, token) if token else None

    def _page_limit(self, limit):
        """Apply ``settings.page_size`` to a requested page size."""
        return min(limit, self.page_size) if self.page_size else limit

    @staticmethod
    def _newest_first(objects):
        """Return stored objects sorted by id, highest first."""
        return sorted(objects.values(), key=lambda o: int(o["id"]), reverse=True)

    def _mentions_user(self, tweet, user):
        """Tell whether ``tweet`` is in ``user``'s mentions timeline."""
        if user is self.account and tweet.get("in_mentions") is not None:
            return bool(tweet["in_mentions"])
        names = {m.lower() for m in _MENTION.findall(tweet.get("text", ""))}
        return user["username"].lower() in names

    def _user_by_name(self, username):
        """Return the user currently called ``username`` (any case), or None."""
        wanted = username.lower()
        return next(
            (u for u in self.users.values() if u["username"].lower() == wanted), None
        )

    # -- creation helpers --------------------------------------------------

    def _now(self):
        """Return a naive UTC "now" later than everything stored."""
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        stamps = [
            o.get("created_at")
            for o in [*self.tweets.values(), *self.dm_events.values()]
        ]
        latest = [_parse_iso(s).replace(tzinfo=None) for s in stamps if s]
        return max([now, *(t + timedelta(seconds=1) for t in latest)])

    def _moment(self, value):
        """Return a naive UTC datetime from None, a datetime or ISO text."""
        if value is None:
            return self._now()
        if isinstance(value, str):
            return _parse_iso(value).replace(tzinfo=None)
        return (
            value.astimezone(timezone.utc).replace(tzinfo=None)
            if value.tzinfo
            else value
        )

    def _next_id(self, moment):
        """Return a fresh snowflake id for ``moment``, above every stored id."""
        ids = [int(i) for i in [*self.tweets, *self.dm_events]]
        return str(max([int(snowflake(moment)), *(i + 1 for i in ids)]))

    def _new_tweet(self, author_id, text, options):
        """Build a stored tweet from ``add_tweet`` options."""
        moment = self._moment(options.pop("created_at", None))
        tweet_id = str(options.pop("tweet_id", None) or self._next_id(moment))
        parent_id = options.pop("in_reply_to", None)
        retweet_of = options.pop("retweet_of", None)
        tweet = {
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "created_at": iso(moment),
            "lang": options.pop("lang", "en"),
            "conversation_id": tweet_id,
        }
        if parent_id:
            parent = self.tweets.get(str(parent_id), {})
            tweet["conversation_id"] = parent.get("conversation_id", str(parent_id))
            tweet["in_reply_to_user_id"] = parent.get("author_id")
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(parent_id)}]
        if retweet_of:
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": str(retweet_of)}]
        tweet["conversation_id"] = options.pop(
            "conversation_id", tweet["conversation_id"]
        )
        tweet.update(options)
        return {k: v for k, v in tweet.items() if v is not None}


def main(argv=None):
    """Serve a dataset until interrupted."""
    parser = argparse.ArgumentParser(description="Local X API v2 stand-in.")
    parser.add_argument("--port", type=int, default=18111)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dataset", help="JSON dataset (see the module docstring)")
    args = parser.parse_args(argv)
    standin = XApiStandin.from_file(args.dataset) if args.dataset else XApiStandin()
    standin.start(port=args.port, host=args.host)
    sys.stdout.write(f"{standin.base_url}\n")
    sys.stdout.write(f"bearer token: {standin.bearer_token}\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.stdout.write("stopped\n")
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
