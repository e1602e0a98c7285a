"""A local stand-in for a Mastodon instance, for tests and offline demos.

It answers Mastodon's documented REST API over real HTTP on 127.0.0.1 (see
``standin_base``), so Mastodon.py and ``MastodonClient`` run unchanged.
Standard library only; run it as a script to serve a small demo dataset::

    python webcare_social/tests/mastodon_standin.py --port 18112 --demo

Endpoints: ``GET /api/v1/instance``, ``GET /api/v2/instance`` (public),
``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id``,
``GET /api/v1/notifications`` (``types[]``, ``exclude_types[]``,
``max_id``, ``since_id``, ``min_id``, ``limit`` 40 by default and 80 at
most, ``account_id``; newest first, with Mastodon's ``Link`` header),
``GET /api/v1/statuses/:id`` and ``POST /api/v1/statuses`` (form or JSON:
``status``, ``in_reply_to_id``, ``visibility``, ``spoiler_text``,
``language``; the ``Idempotency-Key`` header returns the status first
posted with that key).

Authentication: ``Authorization: Bearer <access_token>``; anything else
gets Mastodon's 401 ``{"error": "The access token is invalid"}``. Every
answer of a route carries ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset`` (ISO 8601, the end of the current 5-minute window); a scripted
429 gets them too, with ``{"error": "Too many requests"}``.

State, also the dataset format of ``load`` (keys starting with ``_`` are
comments)::

    {
      "account": {Mastodon account of the connected user: id, username,
                  display_name, followers_count, ...},
      "accounts": [other accounts; "domain" makes one remote (its acct is
                   username@domain)],
      "statuses": [{"id", "account_id", "text" (plain; rendered as
                    Mastodon's HTML in "content"), "created_at",
                    "visibility", "in_reply_to_id", "language",
                    "spoiler_text", "reblog_of", "mentions" (account ids;
                    default: the @names in the text)}],
      "notifications": [{"id", "type", "account_id", "status_id",
                         "created_at"}],
      "settings": {"page_size": 10}
    }

A status by another account that mentions the connected account gets a
``mention`` notification, as on Mastodon; ``add_notification`` adds any
other (a favourite, or a mention Mastodon would not make, to test noise).
Notification ids count up; status ids are Mastodon-like (time based).
``settings.page_size`` caps a page below ``limit``. ``posted`` lists the
statuses clients created; ``slow_posts(seconds)`` publishes them but
answers late (an answer lost to a client timeout).
"""

import argparse
import copy
import html
import json
import re
import sys
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

if __package__:
    from .standin_base import StandinError, StandinServer, route
else:  # run as a script (make demo)
    from standin_base import StandinError, StandinServer, route

STANDIN_TOKEN = "standin-mastodon-token"
INVALID_TOKEN = {"error": "The access token is invalid"}
NOT_FOUND = {"error": "Record not found"}
REPLY_NOT_FOUND = {
    "error": "The post you are trying to reply to does not appear to exist."
}
TOO_MANY = {"error": "Too many requests"}
MAX_CHARS = 500
RATE_LIMIT = 300
RATE_WINDOW = timedelta(minutes=5)
VISIBILITIES = ("public", "unlisted", "private", "direct")

DEFAULT_ACCOUNT = {
    "id": "109000000000000001",
    "username": "PolderAir",
    "display_name": "PolderAir",
    "followers_count": 5210,
}

# "@name" or "@name@domain" not inside a word or an e-mail address
_MENTION = re.compile(r"(?<![\w@/])@(\w[\w.-]*\w|\w)(?:@([\w.-]+\w))?")
_URL = re.compile(r"https?://[^\s<]+[^\s<.,;:!?)]")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")


def iso(moment):
    """Return ``moment`` (naive UTC or aware) as Mastodon writes times."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_iso(value):
    """Return a naive UTC datetime for an ISO 8601 time."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _id_key(value):
    """Sort key of numeric ids kept as text."""
    return (len(str(value)), str(value))


def _length(text):
    """Mastodon's length of a status: a URL counts 23, ``@user@domain`` as ``@user``."""
    text = _URL.sub("x" * 23, text)
    return len(_MENTION.sub(lambda m: "@" + m.group(1), text))


class MastodonStandin(StandinServer):
    """A local Mastodon instance holding ``dataset`` as its state.

    ``with MastodonStandin() as m:``, then ``m.base_url`` and
    ``m.credentials`` configure a client; ``m.requests`` is what it got and
    ``m.posted`` what clients created.
    """

    server_name = "MastodonStandin/1.0"

    def __init__(self, dataset=None, *, page_size=None):
        super().__init__()
        self.access_token = STANDIN_TOKEN
        self.posted = []
        self.load(dataset or {}, page_size=page_size)

    @property
    def credentials(self):
        """The credentials ``MastodonClient`` reads (``access_token``)."""
        return {"access_token": self.access_token}

    @property
    def domain(self):
        """The instance's domain: what local accounts' handles end with."""
        return self._server.server_address[0] if self._server else "127.0.0.1"

    @property
    def account_id(self):
        """Id of the connected account."""
        return self.account["id"]

    # -- state -------------------------------------------------------------

    def load(self, dataset, page_size=None):
        """Replace the whole state with ``dataset`` (see the module doc).

        Scripted faults and delays are dropped too.
        """
        data = copy.deepcopy(dataset)
        settings = data.get("settings") or {}
        with self._lock:
            self._rules.clear()  # scripted faults are state too
            self._delay = self._post_delay = 0.0
            self.page_size = page_size or settings.get("page_size")
            self.account = self._account_vals(
                data.get("account") or copy.deepcopy(DEFAULT_ACCOUNT)
            )
            self.accounts = {self.account["id"]: self.account}
            for account in data.get("accounts", []):
                self.accounts[str(account["id"])] = self._account_vals(account)
            self.statuses, self.notifications, self._keys = {}, {}, {}
            self._next_notification = 1000
            for status in data.get("statuses", []):
                self.add_status(status.pop("account_id"), status.pop("text"), **status)
            for notification in data.get("notifications", []):
                self.add_notification(**notification)

    @classmethod
    def from_file(cls, path, **kwargs):
        """Return a stand-in loaded from a dataset JSON file."""
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle), **kwargs)

    def add_account(self, account_id, username, display_name="", **extra):
        """Add (or replace) an account; ``domain=`` makes it remote. Return it."""
        vals = {
            "id": str(account_id),
            "username": username,
            "display_name": display_name,
            **extra,
        }
        with self._lock:
            account = self.accounts[vals["id"]] = self._account_vals(vals)
        return account

    def rename_account(self, account_id, new_username):
        """Change an account's username from now on; its id stays."""
        with self._lock:
            self.accounts[str(account_id)]["username"] = new_username

    def add_status(self, account_id, text, **options):
        """Store a status; return it.

        Options: ``status_id``/``id``, ``created_at`` (datetime or ISO;
        default now), ``visibility`` (``public``), ``in_reply_to_id``,
        ``language`` (``en``), ``spoiler_text``, ``reblog_of`` (a status
        id), ``mentions`` (account ids; default from the text) and
        ``notify`` (whether the connected account gets a mention
        notification; default: when it is mentioned by someone else).
        """
        with self._lock:
            status = self._new_status(str(account_id), text, options)
            self.statuses[status["id"]] = status
            notify = options.get("notify")
            if notify is None:
                notify = (
                    status["account_id"] != self.account_id
                    and self.account_id in status["mentions"]
                    and not status.get("reblog_of")
                )
            if notify:
                self.add_notification(
                    "mention",
                    status["account_id"],
                    status["id"],
                    created_at=status["created_at"],
                )
        return status

    def add_dm(self, account_id, text, **options):
        """Store a private mention (visibility ``direct``) to the account."""
        if "@" + self.account["username"].lower() not in text.lower():
            text = f"@{self.account['username']} {text}"
        return self.add_status(account_id, text, visibility="direct", **options)

    def add_notification(self, type, account_id, status_id=None, **options):
        """Add a notification of the connected account; return it."""
        with self._lock:
            notification_id = str(options.get("id") or self._next_notification)
            self._next_notification = (
                max(self._next_notification, int(notification_id)) + 1
            )
            notification = {
                "id": notification_id,
                "type": type,
                "account_id": str(account_id),
                "status_id": str(status_id) if status_id else None,
                "created_at": options.get("created_at") or iso(self._now()),
            }
            self.notifications[notification_id] = notification
        return notification

    def slow_posts(self, seconds):
        """Publish posted statuses but answer ``seconds`` late (a lost answer)."""
        self._post_delay = float(seconds)

    def clear_log(self):
        """Forget the recorded requests and posted statuses."""
        with self._lock:
            self.posted.clear()
            return super().clear_log()

    def fail_next(self, path_prefix, status, times=1, headers=None, **kwargs):
        """Script a fault (see ``StandinServer.fail_next``).

        A 429 without headers gets Mastodon's rate-limit headers with a reset
        5 minutes from now, and ``{"error": "Too many requests"}``.
        """
        if status == 429 and not headers:
            headers = self._rate_headers(remaining=0, reset=self._now() + RATE_WINDOW)
        if status == 429 and kwargs.get("body") is None and kwargs.get("raw") is None:
            kwargs["body"] = dict(TOO_MANY)
        return super().fail_next(
            path_prefix, status, times=times, headers=headers, **kwargs
        )

    # -- hooks -------------------------------------------------------------

    def authorize(self, request):
        """Bearer token on everything but the public instance information."""
        if request.handler in ("instance_v1", "instance_v2"):
            return None
        header = request.header("Authorization")
        if header == f"Bearer {self.access_token}":
            return None
        return dict(INVALID_TOKEN)

    def not_found_body(self, request):
        """Mastodon's 404 body."""
        return dict(NOT_FOUND)

    def common_headers(self, request):
        """Mastodon's rate-limit headers on every answer."""
        return self._rate_headers()

    # -- routes ------------------------------------------------------------

    @route("GET", "/api/v1/instance")
    def instance_v1(self, request):
        """Instance information (v1), as read by Mastodon.py's version check."""
        return 200, {
            "uri": self.domain,
            "title": "Mastodon stand-in",
            "version": "4.3.0",
            "urls": {},
            "configuration": {"statuses": {"max_characters": MAX_CHARS}},
        }

    @route("GET", "/api/v2/instance")
    def instance_v2(self, request):
        """Instance information (v2)."""
        return 200, {
            "domain": self.domain,
            "title": "Mastodon stand-in",
            "version": "4.3.0",
            "api_versions": {"mastodon": 2},
            "configuration": {
                "urls": {},
                "statuses": {"max_characters": MAX_CHARS},
            },
        }

    @route("GET", "/api/v1/accounts/verify_credentials")
    def verify_credentials(self, request):
        """The connected account, with its ``source``."""
        shown = self._render_account(self.account)
        shown["source"] = {"privacy": "public", "sensitive": False, "note": ""}
        return 200, shown

    @route("GET", "/api/v1/accounts/{account_id}")
    def get_account(self, request):
        account = self.accounts.get(request.params["account_id"])
        if account is None:
            raise StandinError(404, dict(NOT_FOUND))
        return 200, self._render_account(account)

    @route("GET", "/api/v1/statuses/{status_id}")
    def get_status(self, request):
        status = self.statuses.get(request.params["status_id"])
        if status is None or not self._visible(status):
            raise StandinError(404, dict(NOT_FOUND))
        return 200, self._render_status(status)

    @route("POST", "/api/v1/statuses")
    def post_status(self, request):
        """Publish a status of the connected account."""
        params = request.json if isinstance(request.json, dict) else request.form
        key = request.header("Idempotency-Key")
        if key and key in self._keys:
            return 200, self._render_status(self.statuses[self._keys[key]])
        status = self._create_status(params)
        if key:
            self._keys[key] = status["id"]
        if self._post_delay:  # published, but the answer comes too late
            self._stopping.wait(self._post_delay)
        return 200, self._render_status(status)

    @route("GET", "/api/v1/notifications")
    def list_notifications(self, request):
        """One page of notifications, newest first, with the ``Link`` header."""
        query = parse_qsl(request.raw_query, keep_blank_values=True)
        page = self._notification_page(query)
        rendered = [self._render_notification(n) for n in page]
        return 200, rendered, self._link_header(query, page)

    # -- notifications -----------------------------------------------------

    def _notification_page(self, query):
        """Return the stored notifications a query selects (newest first)."""
        one = {key: value for key, value in query}
        types = {v for k, v in query if k in ("types[]", "types")}
        excluded = {v for k, v in query if k in ("exclude_types[]", "exclude_types")}
        limit = self._limit(one.get("limit"))
        bounds = {k: one[k] for k in ("max_id", "since_id", "min_id") if one.get(k)}
        matches = [
            n
            for n in self.notifications.values()
            if (not types or n["type"] in types)
            and n["type"] not in excluded
            and (not one.get("account_id") or n["account_id"] == one["account_id"])
            and self._within(n["id"], bounds)
            and self._still_there(n)
        ]
        matches.sort(key=lambda n: _id_key(n["id"]))
        # min_id reads forward: the items just above it; otherwise the newest
        page = matches[:limit] if "min_id" in bounds else matches[-limit:]
        return list(reversed(page))

    def _limit(self, value):
        """Mastodon's page size: 40 by default, at most 80; then ``page_size``."""
        try:
            limit = int(value) if value else 40
        except ValueError:
            limit = 40
        limit = min(max(limit, 1), 80)
        return min(limit, self.page_size) if self.page_size else limit

    @staticmethod
    def _within(item_id, bounds):
        key = _id_key(item_id)
        if "max_id" in bounds and not key < _id_key(bounds["max_id"]):
            return False
        if "since_id" in bounds and not key > _id_key(bounds["since_id"]):
            return False
        return not ("min_id" in bounds and not key > _id_key(bounds["min_id"]))

    def _still_there(self, notification):
        """A notification about a deleted status is not served."""
        status_id = notification["status_id"]
        return not status_id or status_id in self.statuses

    def _link_header(self, query, page):
        """Mastodon's ``Link``: ``next`` (older: max_id), ``prev`` (newer: min_id)."""
        if not page:
            return {}
        kept = [
            (k, v)
            for k, v in query
            if k not in ("max_id", "since_id", "min_id")
            and k in ("limit", "types[]", "exclude_types[]", "account_id")
        ]
        url = f"{self.base_url}/api/v1/notifications?"
        older = urlencode([*kept, ("max_id", page[-1]["id"])])
        newer = urlencode([*kept, ("min_id", page[0]["id"])])
        return {"Link": f'<{url}{older}>; rel="next", <{url}{newer}>; rel="prev"'}

    # -- statuses ----------------------------------------------------------

    def _create_status(self, params):
        """Validate and store a status posted by a client; record it."""
        text = params.get("status") or ""
        visibility = params.get("visibility") or "public"
        parent_id = params.get("in_reply_to_id") or None
        if not text.strip():
            raise StandinError(422, {"error": "Validation failed: Text can't be blank"})
        if _length(text) > MAX_CHARS:
            message = f"Validation failed: Text character limit of {MAX_CHARS} exceeded"
            raise StandinError(422, {"error": message})
        if visibility not in VISIBILITIES:
            message = "Validation failed: Visibility is not included in the list"
            raise StandinError(422, {"error": message})
        if parent_id and (
            parent_id not in self.statuses
            or not self._visible(self.statuses[parent_id])
        ):
            raise StandinError(404, dict(REPLY_NOT_FOUND))
        status = self.add_status(
            self.account_id,
            text,
            visibility=visibility,
            in_reply_to_id=parent_id,
            language=params.get("language") or None,
            spoiler_text=params.get("spoiler_text") or "",
        )
        self.posted.append(
            {
                "id": status["id"],
                "text": text,
                "visibility": visibility,
                "in_reply_to_id": parent_id,
                "mentions": [self._acct(self.accounts[a]) for a in status["mentions"]],
            }
        )
        return status

    def _new_status(self, account_id, text, options):
        """Build a stored status from ``add_status`` options."""
        moment = self._moment(options.get("created_at"))
        status_id = str(
            options.get("status_id")
            or options.get("id")
            or self._next_status_id(moment)
        )
        parent_id = options.get("in_reply_to_id")
        parent = self.statuses.get(str(parent_id)) if parent_id else None
        mentions = options.get("mentions")
        if mentions is None:
            mentions = self._mentioned(text)
        return {
            "id": status_id,
            "account_id": account_id,
            "text": text,
            "created_at": iso(moment),
            "visibility": options.get("visibility") or "public",
            "in_reply_to_id": str(parent_id) if parent_id else None,
            "in_reply_to_account_id": parent["account_id"] if parent else None,
            "language": options.get("language", "en"),
            "spoiler_text": options.get("spoiler_text") or "",
            "reblog_of": options.get("reblog_of"),
            "mentions": [str(m) for m in mentions],
        }

    def _visible(self, status):
        """A direct status is seen only by its author and who it mentions."""
        if status["visibility"] != "direct":
            return True
        me = self.account_id
        return status["account_id"] == me or me in status["mentions"]

    def _mentioned(self, text):
        """Return the ids of the known accounts ``@named`` in ``text``."""
        found = []
        for match in _MENTION.finditer(text):
            account = self._account_by_acct(match.group(1), match.group(2))
            if account and account["id"] not in found:
                found.append(account["id"])
        return found

    def _account_by_acct(self, username, domain):
        """Return the account ``username[@domain]`` (any case), or None."""
        local = domain is None or domain.lower() == self.domain
        for account in self.accounts.values():
            if account["username"].lower() != username.lower():
                continue
            remote = account.get("domain")
            if (remote is None and local) or (
                remote and domain and remote.lower() == domain.lower()
            ):
                return account
        return None

    # -- rendering ---------------------------------------------------------

    def _acct(self, account):
        """Mastodon's ``acct``: the username, plus the domain when remote."""
        domain = account.get("domain")
        return f"{account['username']}@{domain}" if domain else account["username"]

    def _profile_url(self, account):
        host = account.get("domain")
        base = f"https://{host}" if host else self.base_url
        return f"{base}/@{account['username']}"

    def _render_account(self, account):
        """Return the public Account entity."""
        return {
            "id": account["id"],
            "username": account["username"],
            "acct": self._acct(account),
            "display_name": account.get("display_name") or "",
            "locked": False,
            "bot": bool(account.get("bot")),
            "discoverable": True,
            "group": False,
            "created_at": account.get("created_at", "2022-11-01T00:00:00.000Z"),
            "note": "",
            "url": self._profile_url(account),
            "uri": self._profile_url(account),
            "avatar": "",
            "avatar_static": "",
            "header": "",
            "header_static": "",
            "followers_count": int(account.get("followers_count") or 0),
            "following_count": int(account.get("following_count") or 0),
            "statuses_count": sum(
                1 for s in self.statuses.values() if s["account_id"] == account["id"]
            ),
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def _render_status(self, status):
        """Return the Status entity (``content`` as Mastodon's HTML)."""
        account = self.accounts.get(status["account_id"]) or {
            "id": status["account_id"],
            "username": "deleted",
        }
        reblog = self.statuses.get(str(status.get("reblog_of") or ""))
        url = f"{self._profile_url(account)}/{status['id']}"
        return {
            "id": status["id"],
            "created_at": status["created_at"],
            "edited_at": None,
            "in_reply_to_id": status["in_reply_to_id"],
            "in_reply_to_account_id": status["in_reply_to_account_id"],
            "sensitive": bool(status["spoiler_text"]),
            "spoiler_text": status["spoiler_text"],
            "visibility": status["visibility"],
            "language": status["language"],
            "uri": url,
            "url": url,
            "replies_count": sum(
                1 for s in self.statuses.values() if s["in_reply_to_id"] == status["id"]
            ),
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": "" if reblog else self._html(status["text"]),
            "reblog": self._render_status(reblog) if reblog else None,
            "application": None,
            "account": self._render_account(account),
            "media_attachments": [],
            "mentions": [
                {
                    "id": a["id"],
                    "username": a["username"],
                    "url": self._profile_url(a),
                    "acct": self._acct(a),
                }
                for a in (self.accounts.get(m) for m in status["mentions"])
                if a
            ],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _render_notification(self, notification):
        status = self.statuses.get(notification["status_id"] or "")
        account = self.accounts.get(notification["account_id"]) or {
            "id": notification["account_id"],
            "username": "deleted",
        }
        return {
            "id": notification["id"],
            "type": notification["type"],
            "created_at": notification["created_at"],
            "group_key": f"ungrouped-{notification['id']}",
            "account": self._render_account(account),
            "status": self._render_status(status) if status else None,
        }

    def _html(self, text):
        """Render plain text as Mastodon does: paragraphs, breaks, links."""
        paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
        lines = (
            "<br />".join(self._html_line(line) for line in p.split("\n"))
            for p in paragraphs
        )
        return "".join(f"<p>{line}</p>" for line in lines)

    def _html_line(self, line):
        """One line with mentions, hashtags and URLs as Mastodon's markup."""
        pieces, last = [], 0
        pattern = re.compile(f"{_URL.pattern}|{_MENTION.pattern}|{_HASHTAG.pattern}")
        for match in pattern.finditer(line):
            pieces.append(html.escape(line[last : match.start()], quote=False))
            pieces.append(self._html_token(match.group(0)))
            last = match.end()
        pieces.append(html.escape(line[last:], quote=False))
        return "".join(pieces)

    def _html_token(self, token):
        if token.startswith("#"):
            tag = html.escape(token[1:])
            return (
                f'<a href="{self.base_url}/tags/{tag}" class="mention hashtag" '
                f'rel="tag">#<span>{tag}</span></a>'
            )
        if token.startswith("@"):
            user, _sep, domain = token[1:].partition("@")
            account = self._account_by_acct(user, domain or None)
            if account is None:
                return html.escape(token)
            return (
                '<span class="h-card" translate="no"><a href="'
                f'{self._profile_url(account)}" class="u-url mention">@<span>'
                f"{html.escape(account['username'])}</span></a></span>"
            )
        scheme, _sep, rest = token.partition("://")
        shown, hidden = rest[:30], rest[30:]
        ellipsis = "ellipsis" if hidden else ""
        return (
            f'<a href="{html.escape(token)}" target="_blank" rel="nofollow noopener" '
            f'translate="no"><span class="invisible">{html.escape(scheme)}://</span>'
            f'<span class="{ellipsis}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>'
        )

    # -- helpers -----------------------------------------------------------

    @staticmethod
    def _account_vals(account):
        """Return a stored account (text id, defaults filled in)."""
        account = dict(account)
        account["id"] = str(account["id"])
        account.setdefault("display_name", account["username"])
        account.setdefault("followers_count", 0)
        return account

    def _rate_headers(self, remaining=None, reset=None):
        """``X-RateLimit-*`` with the reset at the end of the 5-minute window."""
        now = self._now_exact()
        if reset is None:
            window = int(RATE_WINDOW.total_seconds())
            start = int(now.replace(tzinfo=timezone.utc).timestamp()) // window * window
            reset = datetime.fromtimestamp(start + window, timezone.utc)
        if remaining is None:
            remaining = max(RATE_LIMIT - len(self.requests), 0)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": iso(reset).replace("Z", "000Z"),
        }

    @staticmethod
    def _now_exact():
        return datetime.now(timezone.utc).replace(tzinfo=None)

    def _now(self):
        """Return a naive UTC "now" later than every stored status."""
        now = self._now_exact().replace(microsecond=0)
        stamps = [_parse_iso(s["created_at"]) for s in self.statuses.values()]
        return max([now, *(t + timedelta(seconds=1) for t in stamps)])

    def _moment(self, value):
        """Return a naive UTC datetime from None, a datetime or ISO text."""
        if value is None:
            return self._now()
        if isinstance(value, str):
            return _parse_iso(value)
        if value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def _next_status_id(self, moment):
        """Return a Mastodon-like id (milliseconds << 16) above every stored one."""
        millis = int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)
        ids = [int(i) for i in self.statuses if i.isdigit()]
        return str(max([millis << 16, *(i + 1 for i in ids)]))


def demo_dataset():
    """A few PolderAir conversations: mentions, a reply, a DM, and noise."""
    anna, jeroen, noor = (
        "109100000000000011",
        "109100000000000012",
        "109100000000000013",
    )
    return {
        "accounts": [
            {"id": anna, "username": "anna", "display_name": "Anna de Vries",
             "followers_count": 812},
            {"id": jeroen, "username": "jeroen", "display_name": "Jeroen Bakker",
             "domain": "mastodon.nl", "followers_count": 230},
            {"id": noor, "username": "noor", "display_name": "Noor",
             "domain": "fosstodon.org", "followers_count": 40},
        ],
        "statuses": [
            {"id": "113500000000000001", "account_id": anna,
             "text": "@PolderAir mijn koffer is niet aangekomen na KL1234",
             "language": "nl", "created_at": "2026-11-18T08:12:00Z"},
            {"id": "113500000000000002", "account_id": anna,
             "text": "@PolderAir nog steeds niets gehoord?",
             "in_reply_to_id": "113500000000000001", "language": "nl",
             "created_at": "2026-11-18T10:40:00Z"},
            {"id": "113500000000000003", "account_id": jeroen,
             "text": "@PolderAir@127.0.0.1 flight delayed again, any news? #delay",
             "created_at": "2026-11-18T11:05:00Z"},
            {"id": "113500000000000004", "account_id": noor,
             "text": "@PolderAir my booking code is ABC123, please call me",
             "visibility": "direct", "created_at": "2026-11-18T11:30:00Z"},
        ],
        "notifications": [
            {"type": "favourite", "account_id": noor,
             "status_id": "113500000000000001"},
        ],
    }  # fmt: skip


def main(argv=None):
    """Serve a dataset until interrupted."""
    parser = argparse.ArgumentParser(description="Local Mastodon API stand-in.")
    parser.add_argument("--port", type=int, default=18112)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dataset", help="JSON dataset (see the module docstring)")
    parser.add_argument("--demo", action="store_true", help="serve the demo dataset")
    args = parser.parse_args(argv)
    if args.dataset:
        standin = MastodonStandin.from_file(args.dataset)
    else:
        standin = MastodonStandin(demo_dataset() if args.demo else None)
    standin.start(port=args.port, host=args.host)
    sys.stdout.write(f"{standin.base_url}\naccess token: {standin.access_token}\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.stdout.write("stopped\n")
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
