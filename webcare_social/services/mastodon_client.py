"""Client for a Mastodon instance (any server speaking Mastodon's REST API).

Mastodon.py 2.x does the HTTP: the bearer token, the request timeout, the
rate-limit headers, the ``Link`` header and the error classes. Its defaults
do not suit a cron worker (it sleeps through a rate limit and waits 300 s
for an answer), so it is built with ``ratelimit_method="throw"`` and this
client's ``timeout``, and without a version check (which would read the
instance first). Its session keeps the last HTTP response, and every body
is read from that response as received, so each item keeps its JSON exactly
and one bad notification only becomes an ``ItemError``.

One stream, ``notifications``: the account's notifications of type
``mention``. A mention with visibility ``direct`` is a private message
(kind ``dm``), one answering another status a ``reply``, the rest a
``mention``. The stream's cursor is the highest notification id stored.
With a cursor the client reads forward from it (``min_id``: the page just
above the cursor, so nothing is skipped, which ``since_id`` could do) and
follows the ``Link`` header's ``prev`` page until a page comes back empty.
Without a cursor (the first run) it reads only the newest page, the latest
``PAGE_SIZE`` mentions, and starts from there: older history is not
imported.

A post's ``conversation_ref`` is its own id when it starts a thread and
the id of the status it answers (``in_reply_to_id``, also its
``parent_ref``) otherwise: Mastodon's API names no thread id. The channel
files a reply under the conversation of its stored parent, so a thread,
our replies in it included, stays on one ticket; a reply whose parent was
never stored starts a conversation named after that parent.

Ids of notifications, statuses and accounts are the instance's own: an
account keeps its id when it changes its name, so ``Author.external_id``
(the account id) is what identifies a person; ``Author.handle`` is the
full address ``user@instance``. The domain of local accounts is taken from
the API URL, which is the account domain on most instances (not on those
serving ``@user@example.org`` from ``social.example.org``).
"""

import hashlib
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import dateutil.parser
import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from ..exceptions import (
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

NOTIFICATIONS = "notifications"
# the most notifications Mastodon serves in one page (since 4.1; 40 by default)
PAGE_SIZE = 80
USER_AGENT = "webcare_social (Odoo helpdesk)"
# visibilities from the widest to the narrowest
VISIBILITIES = ("public", "unlisted", "private", "direct")
# transport failures after the request went out: a post may have happened
_MAYBE_DELIVERED = (
    requests.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@register_provider
class MastodonClient(SocialProviderBase):
    """Mastodon REST API client for one account on one instance.

    Credentials: ``access_token`` (a user token with the scopes
    ``read:accounts read:notifications read:statuses write:statuses``).
    The base URL is the instance (``https://mastodon.social``); there is
    no default, every channel names its own.
    """

    provider = "mastodon"
    default_base_url = ""
    streams = (Stream(NOTIFICATIONS, "Mentions and direct messages"),)
    credential_fields = ("access_token",)
    supports_private = True
    # Mastodon allows an account 300 new statuses per 3 hours: one every 36 s
    send_interval = 36.0

    def __init__(self, base_url, credentials, account_id=None, timeout=15.0):
        super().__init__(base_url, credentials, account_id, timeout)
        if self.base_url and "://" not in self.base_url:
            self.base_url = f"https://{self.base_url}"
        if not self.base_url:
            raise ProviderError(
                "Fill in the API base URL with the address of the Mastodon "
                "instance, e.g. https://mastodon.social."
            )
        self.domain = (urlsplit(self.base_url).hostname or "").lower()
        self._last_response = None
        self._api = self._build_api()

    def _build_api(self):
        """Return a ``Mastodon`` object that throws on rate limits and times out."""
        session = requests.Session()
        adapter = TimeoutAdapter(self.timeout)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.hooks["response"].append(self._keep_response)
        api = Mastodon(
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=self.timeout,
            version_check_mode="none",
            session=session,
            user_agent=USER_AGENT,
        )
        # set after construction: Mastodon.py would read a token that names
        # an existing file as that file
        api.access_token = self._credentials.get("access_token") or None
        return api

    def _keep_response(self, response, *args, **kwargs):
        """Session hook: remember the last answer, whatever Mastodon.py makes of it."""
        self._last_response = response

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------

    def whoami(self):
        """Return the connected account (``/api/v1/accounts/verify_credentials``)."""
        account = load_json(self._call("account_verify_credentials").text, dict)
        try:
            return parse_author(account, self.domain)
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"Unreadable account: {_describe(exc)}") from exc

    def fetch(self, stream, cursor=None, token=None):
        """Return one page of mention notifications (see the module docstring).

        ``token`` is the ``min_id`` of the next page, taken from the ``Link``
        header of the previous one; ``Page.cursor`` the highest notification
        id read so far in this run.
        """
        if stream != NOTIFICATIONS:
            raise ProviderError(f"Mastodon has no stream {stream!r}.")
        after = token or cursor
        response = self._call(
            "notifications", types=["mention"], min_id=after, limit=PAGE_SIZE
        )
        page = parse_notifications_page(response.text, self.domain, self.account_id)
        next_token = _prev_min_id(response) or page.cursor
        # drained: the first run (newest page only), an empty page, or a server
        # that ignores min_id and would serve the same page forever
        if after is None or next_token is None or not _newer(next_token, after):
            next_token = None
        return Page(page.posts, page.errors, page.cursor, next_token, page.raw)

    def parse_item(self, raw):
        """Return the ``SocialPost`` of one stored notification (``SocialPost.raw``)."""
        item = load_json(raw or "", dict)
        try:
            post = parse_notification(item, self.domain, self.account_id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(_describe(exc), raw=raw) from exc
        if post is None:
            raise PayloadError("The stored item is not a mention.", raw=raw)
        return post

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def send_reply(self, parent_ref, text):
        """Reply to status ``parent_ref`` with the parent's visibility.

        The reply is never seen by more people than the parent: a reply to
        a private mention stays private. It starts with ``@acct`` of the
        parent's author unless the text already mentions them, as Mastodon
        only delivers a non-public post to the accounts it mentions.
        """
        parent = self._lookup("status", parent_ref, "post to reply to")
        author = parent.get("account") or {}
        visibility = parent.get("visibility")
        if visibility not in VISIBILITIES:
            visibility = "direct"  # unknown to us: the narrowest there is
        if str(author.get("id")) != self.account_id:
            text = with_mention(text, author.get("acct"), self.domain)
        return self._post(text, visibility, in_reply_to_id=str(parent_ref))

    def send_private(self, recipient_ref, text):
        """Send a private mention (visibility ``direct``) to ``recipient_ref``."""
        account = self._lookup("account", recipient_ref, "customer's account")
        text = with_mention(text, account.get("acct"), self.domain)
        return self._post(text, "direct")

    def _lookup(self, method, ref, what):
        """Return the status or account ``ref`` a send needs, as a dict.

        One that is gone (deleted, suspended, no longer visible to us)
        refuses the send, with Mastodon's words.
        """
        return load_json(self._call(method, str(ref), needed=what).text)

    def _post(self, text, visibility, in_reply_to_id=None):
        """Publish a status; return its ``SentItem``.

        The ``Idempotency-Key`` (Mastodon keeps it an hour) is derived from
        what is posted, so sending the same reply again within the hour
        returns the status posted the first time instead of a second one.
        """
        key = hashlib.sha256(
            "\x1f".join(
                [self.account_id, in_reply_to_id or "", visibility, text]
            ).encode()
        ).hexdigest()
        response = self._call(
            "status_post",
            text,
            in_reply_to_id=in_reply_to_id,
            visibility=visibility,
            idempotency_key=key,
            posting=True,
        )
        status = load_json(response.text)
        status_id = status.get("id")
        if not status_id:
            raise PayloadError("Mastodon did not return the new status.")
        return SentItem(str(status_id), url=status.get("url") or status.get("uri"))

    # ------------------------------------------------------------------
    # Transport
    # ------------------------------------------------------------------

    def _call(self, method, *args, posting=False, needed=None, **params):
        """Run a Mastodon.py call; return the ``requests.Response`` it got.

        Every failure becomes a ``ProviderError``. ``posting`` marks the
        call that publishes, ``needed`` names what a lookup of a send looks
        for: their 404 or 422 answers refuse what we send (``ProviderRefused``).
        """
        if not self._api.access_token:
            raise ProviderAuthError("No Mastodon access token is configured.")
        self._last_response = None
        try:
            getattr(self._api, method)(*args, **params)
        except MastodonRatelimitError as exc:
            raise self._rate_limited() from exc
        except MastodonNetworkError as exc:
            raise _transport_error(exc, posting) from exc
        except MastodonAPIError as exc:
            raise self._api_error(exc, posting, needed) from exc
        except MastodonError as exc:
            raise ProviderError(f"Mastodon call failed: {exc}") from exc
        if self._last_response is None:
            raise ProviderError("Mastodon.py made no request.")
        return self._last_response

    def _rate_limited(self):
        """Return the ``ProviderRateLimited`` of a 429 answer."""
        response = self._last_response
        if response is not None and response.status_code != 429:
            return ProviderError(
                "Mastodon sent a rate-limit reset time that cannot be read: "
                f"{response.headers.get('X-RateLimit-Reset')!r}",
                status_code=response.status_code,
            )
        header = None if response is None else response.headers.get("X-RateLimit-Reset")
        retry_at = parse_reset(header)
        if retry_at is None and self._api.ratelimit_reset:
            retry_at = datetime.fromtimestamp(
                self._api.ratelimit_reset, timezone.utc
            ).replace(tzinfo=None)
        detail = _error_text(response) if response is not None else ""
        return ProviderRateLimited(
            f"Mastodon rate limit ({detail or 'Too many requests'})",
            retry_at=retry_at,
        )

    def _api_error(self, exc, posting=False, needed=None):
        """Return the ``ProviderError`` for an answer Mastodon.py refused."""
        response = self._last_response
        status = response.status_code if response is not None else None
        detail = _error_text(response) if response is not None else str(exc)
        summary = f"{status}: {detail}" if detail else str(status)
        if status is not None and status < 300:
            text = _body_text(response)
            return PayloadError(
                f"Mastodon sent a response that is not JSON (HTTP {status}).",
                status_code=status,
                raw=text,
            )
        if isinstance(exc, MastodonUnauthorizedError) or status in (401, 403):
            return ProviderAuthError(
                f"Mastodon refused the access token ({summary})", status_code=status
            )
        if isinstance(exc, MastodonServerError) or (status or 0) >= 500:
            return ProviderUnavailable(
                f"Mastodon is unavailable ({summary})", status_code=status
            )
        if needed and status in (404, 410):
            return ProviderRefused(
                f"The {needed} is no longer on Mastodon ({detail or status}).",
                status_code=status,
            )
        if posting and status in (404, 410, 422):
            return ProviderRefused(
                f"Mastodon refused it: {detail or status}", status_code=status
            )
        return ProviderError(f"Mastodon API error ({summary})", status_code=status)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def _transport_error(exc, posting):
    """Return the ``ProviderError`` for a request that got no answer.

    A post whose answer never came may have been published: it is no
    ``ProviderUnavailable`` the queue retries by itself; the agent checks
    the conversation first (sending the same text again within the hour is
    safe: the idempotency key returns the first status).
    """
    cause = exc.__context__ or exc.__cause__
    name = type(cause or exc).__name__
    if posting and isinstance(cause, _MAYBE_DELIVERED):
        return ProviderError(
            f"Mastodon did not answer in time ({name}): the message may have been "
            "sent. Check the conversation on Mastodon before sending it again."
        )
    return ProviderUnavailable(f"Mastodon could not be reached ({name}).")


def _error_text(response):
    """Return Mastodon's ``error`` sentence of an answer, or a short excerpt."""
    try:
        body = response.json()
    except ValueError:
        return _body_text(response)[:200].strip() or (response.reason or "")
    if isinstance(body, dict) and body.get("error"):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if description else body["error"]
    return response.reason or ""


def parse_reset(value):
    """Return the naive UTC datetime of an ``X-RateLimit-Reset`` header.

    Mastodon sends ISO 8601; some compatible servers send epoch seconds.
    """
    if not value:
        return None
    try:
        if value.strip().isdigit():
            moment = datetime.fromtimestamp(int(value), timezone.utc)
        else:
            moment = dateutil.parser.isoparse(value.strip())
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _body_text(response):
    """Return the body as text (JSON is UTF-8, whatever the headers say)."""
    return (response.content or b"").decode("utf-8", errors="replace")


def load_json(text, kind=dict):
    """Return the JSON value of ``text`` when it is a ``kind``; else raise."""
    try:
        value = json.loads(text)
    except ValueError:
        raise PayloadError(
            "Mastodon sent a response that is not JSON.", raw=text
        ) from None
    if not isinstance(value, kind):
        expected = "a list" if kind is list else "an object"
        raise PayloadError(f"Mastodon sent JSON that is not {expected}.", raw=text)
    return value


def parse_notifications_page(text, domain, account_id):
    """Return the ``Page`` of a ``/api/v1/notifications`` body (no paging yet).

    ``cursor`` is the highest notification id of the page, also of items
    that failed to parse or are no mentions: they were read.
    """
    items = load_json(text, list)
    posts, errors, ids = [], [], []
    for item in items:
        item_id = _item_id(item)
        if item_id:
            ids.append(item_id)
        try:
            post = parse_notification(item, domain, account_id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            errors.append(
                ItemError(
                    _status_id(item) or (item_id and f"notification-{item_id}"),
                    _describe(exc),
                    _dumps(item),
                    partial=salvage(item, domain),
                    detail=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        if post is not None:
            posts.append(post)
    cursor = max(ids, key=_id_order) if ids else None
    return Page(tuple(posts), tuple(errors), cursor, None, text)


def parse_notification(item, domain, account_id):
    """Return the ``SocialPost`` of a mention notification; None for other types."""
    if not isinstance(item, dict):
        raise TypeError("the notification is not a JSON object")
    if item["type"] != "mention":
        return None  # a server that ignores ``types[]``: not ours to keep
    status = item["status"]
    if not isinstance(status, dict):
        raise TypeError("the notification carries no status")
    return parse_status(status, domain, account_id, raw=_dumps(item))


def parse_status(status, domain, account_id, raw):
    """Return the ``SocialPost`` of a status object."""
    status_id = _required_text(status, "id")
    author = parse_author(status["account"], domain)
    parent = status.get("in_reply_to_id")
    parent = str(parent) if parent else None
    reblog = status.get("reblog")
    visibility = status.get("visibility")
    kind = _kind(visibility, parent)
    return SocialPost(
        external_id=status_id,
        kind=kind,
        direction="outbound" if author.external_id == account_id else "inbound",
        author=author,
        body=status_text(status),
        lang=status.get("language") or None,
        posted_at=parse_time(status["created_at"]),
        conversation_ref=parent or status_id,
        parent_ref=parent,
        url=status.get("url") or status.get("uri") or None,
        is_repost=bool(reblog),
        raw=raw,
    )


def _kind(visibility, parent):
    """A private mention is a DM; a post answering another a reply."""
    if visibility == "direct":
        return "dm"
    return "reply" if parent else "mention"


def parse_author(account, domain):
    """Return the ``Author`` of a Mastodon account object."""
    if not isinstance(account, dict):
        raise TypeError("the account is not a JSON object")
    acct = _required_text(account, "acct")
    username = account.get("username") or acct.split("@", 1)[0]
    return Author(
        external_id=_required_text(account, "id"),
        handle=full_handle(acct, domain),
        name=account.get("display_name") or username,
        followers_count=int(account.get("followers_count") or 0),
        verified=False,
        raw=_dumps(account),
    )


def full_handle(acct, domain):
    """Return ``user@instance``: Mastodon writes local accounts without domain."""
    acct = acct.lstrip("@")
    return acct if "@" in acct or not domain else f"{acct}@{domain}"


def parse_time(value):
    """Return a naive UTC datetime for an ISO 8601 ``created_at``."""
    if not isinstance(value, str):
        raise ValueError(f"created_at is not a timestamp: {value!r}")
    try:
        moment = dateutil.parser.isoparse(value)
    except ValueError:
        raise ValueError(f"created_at is not a timestamp: {value!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def status_text(status):
    """Return the plain text of a status: its content warning, then its HTML."""
    content = status.get("content")
    reblog = status.get("reblog")
    if not content and isinstance(reblog, dict):
        content = reblog.get("content")
    if content is not None and not isinstance(content, str):
        raise ValueError(f"content is not text: {content!r}")
    text = html_to_text(content or "")
    warning = status.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():
        text = f"{warning.strip()}\n\n{text}".strip()
    return text


def html_to_text(markup):
    """Return the plain text of Mastodon's status HTML.

    Paragraphs become blank lines, ``<br>`` a line break, a mention or a
    hashtag its text (``@anna``, ``#delay``), any other link its URL (with
    its words first when they are no URL).
    """
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return parser.text()


class _HtmlText(HTMLParser):
    """Collects the text of status HTML (see ``html_to_text``)."""

    _BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self._parts = []
        self._link = None  # (href, [text]) while inside a plain link

    def handle_starttag(self, tag, attrs):
        """Open a paragraph, a line, or a link."""
        attrs = dict(attrs)
        if tag == "br":
            self._write("\n")
        elif tag in self._BLOCKS:
            self._write("\n\n")
        elif tag == "li":
            self._write("\n")
        elif tag == "a" and self._link is None:
            classes = (attrs.get("class") or "").split()
            href = attrs.get("href") or ""
            if href and not {"mention", "hashtag", "u-url"} & set(classes):
                self._link = (href, [])

    def handle_endtag(self, tag):
        """Close a paragraph or write a link's URL."""
        if tag in self._BLOCKS:
            self._write("\n\n")
        elif tag == "a" and self._link is not None:
            href, words = self._link
            self._link = None
            words = "".join(words).strip()
            self._write(href if not words or words in href else f"{words} ({href})")

    def handle_data(self, data):
        """Keep text (inside a link, until its end)."""
        if self._link is not None:
            self._link[1].append(data)
        else:
            self._write(data)

    def _write(self, text):
        self._parts.append(text)

    def text(self):
        """Return the collected text, tidy: no trailing spaces or extra blank lines."""
        lines = [line.rstrip() for line in "".join(self._parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def with_mention(text, acct, domain):
    """Return ``text`` starting with ``@acct`` unless it mentions that account.

    Mastodon delivers a private or direct status only to the accounts it
    mentions, so a reply must name the customer.
    """
    if not acct:
        raise PayloadError("Mastodon did not say which account to answer.")
    acct = acct.lstrip("@")
    forms = {acct, full_handle(acct, domain)}
    for form in forms:
        pattern = rf"(?<![\w@])@{re.escape(form)}(?![\w@-]|\.\w)"
        if re.search(pattern, text, flags=re.IGNORECASE):
            return text
    return f"@{acct} {text}"


def salvage(item, domain):
    """Return what can still be read of a notification that failed to parse."""
    if not isinstance(item, dict):
        return None
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    account = status.get("account") or item.get("account")
    account = account if isinstance(account, dict) else {}
    try:
        posted_at = parse_time(status.get("created_at"))
    except (TypeError, ValueError):
        posted_at = None
    try:
        body = status_text(status) if status else None
    except (TypeError, ValueError):
        body = None
    acct = account.get("acct")
    url = status.get("url") or status.get("uri")
    return PartialPost(
        kind=_kind(status.get("visibility"), status.get("in_reply_to_id"))
        if status
        else None,
        body=body,
        posted_at=posted_at,
        author_external_id=str(account["id"]) if account.get("id") else None,
        author_handle=full_handle(acct, domain) if isinstance(acct, str) else None,
        url=url if isinstance(url, str) else None,
    )


def _prev_min_id(response):
    """Return the ``min_id`` of the ``Link`` header's ``prev`` page, if any."""
    link = (response.links or {}).get("prev") or {}
    query = parse_qs(urlsplit(link.get("url") or "").query)
    values = query.get("min_id") or query.get("since_id") or [None]
    return values[0]


def _id_order(value):
    """Sort key of Mastodon ids: numbers as text, so longer is newer."""
    return (len(value), value)


def _newer(value, than):
    """Tell whether id ``value`` comes after id ``than``."""
    return _id_order(str(value)) > _id_order(str(than))


def _required_text(obj, key):
    """Return ``obj[key]`` as text; raise ``ValueError`` when unusable."""
    value = obj[key]
    if not isinstance(value, (str, int)) or value == "":
        raise ValueError(f"field {key!r} is not usable: {value!r}")
    return str(value)


def _item_id(item):
    """Return the id of a raw notification, if it has one."""
    value = item.get("id") if isinstance(item, dict) else None
    return str(value) if isinstance(value, (str, int)) and value != "" else None


def _status_id(item):
    """Return the id of the status a raw notification is about, if readable."""
    status = item.get("status") if isinstance(item, dict) else None
    return _item_id(status)


def _describe(exc):
    """Return a sentence for people about a parsing failure."""
    if isinstance(exc, KeyError):
        return f"Mastodon left out the field '{exc.args[0]}' that every message has."
    if isinstance(exc, ValueError) and "created_at" in str(exc):
        return "The time of this message ('created_at') could not be read."
    if isinstance(exc, ValueError):
        return f"Mastodon sent a field this connector cannot read ({exc})."
    if isinstance(exc, TypeError) and str(exc).startswith("the "):
        return (
            f"Mastodon sent this message in a form this connector cannot read: {exc}."
        )
    return "Mastodon sent this message in a form this connector cannot read."


def _dumps(value):
    """Return compact, non-ASCII-preserving JSON text."""
    return json.dumps(value, ensure_ascii=False)
