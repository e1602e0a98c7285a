"""Reading an export of social messages: CSV or JSON Lines, row by row.

Plain Python (no Odoo import). Social-listening tools (Sprinklr, Hootsuite,
Talkwalker, Brandwatch…) export mentions with columns of their own naming,
so a file is read in three steps:

1. ``inspect`` looks at the file once: its encoding (UTF-8 with or without
   BOM, UTF-16 with BOM, else Windows-1252 with a note), its format (CSV or
   JSON Lines) and, for CSV, its delimiter and header; the result is a
   ``FileLayout``.
2. ``guess_mapping`` proposes which column feeds which field (``TARGETS``);
   people correct it.
3. ``read_rows`` streams the rows and ``convert`` turns each into a
   ``SocialPost`` (or an ``ItemError`` saying what is wrong with the row, with
   its number), keeping the row as JSON in ``raw``.

Files are read through a binary file object, a few lines at a time: a file
of 100,000 rows is never held in memory. Each pass (``inspect``,
``read_rows``, ``count_rows``) rewinds the (seekable) file object, reads it
from the start and leaves it open.

A row's external id is the mapped id column, else a stable hash of network,
author, time and text (``file:…``), so importing the same export again, or
another export with the same posts, stores nothing twice.
"""

import codecs
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from dateutil import parser as dateparser

from ..services.dto import Author, ItemError, PartialPost, SocialPost
from . import handles

#: the fields a column can feed, with their labels
TARGETS = (
    ("external_id", "Post ID"),
    ("author_id", "Author ID"),
    ("author_handle", "Author handle"),
    ("author_name", "Author name"),
    ("network", "Network"),
    ("body", "Text"),
    ("posted_at", "Time"),
    ("url", "URL"),
    ("conversation", "Conversation"),
    ("in_reply_to", "In reply to"),
    ("kind", "Kind"),
    ("lang", "Language"),
    ("followers", "Followers"),
)
TARGET_LABELS = dict(TARGETS)
FORMATS = ("csv", "jsonl")
DELIMITERS = (",", ";", "\t")
NETWORK_CODES = ("x", "mastodon", "bluesky", "facebook", "instagram", "linkedin")
CP1252_NOTE = (
    "The file is not UTF-8; it was read as Windows-1252 (Western European). "
    "If accents or emoji look wrong, export it again as UTF-8."
)

_CHUNK = 1 << 20  # bytes read at a time when checking the encoding
_SAMPLE_ROWS = 200  # JSON Lines: objects whose keys make the columns
_MAX_REF = 255

# header names (normalised: lower case, words joined by "_") per target
_SYNONYMS = {
    "external_id": {
        "id", "post_id", "message_id", "tweet_id", "status_id", "item_id",
        "mention_id", "guid", "uri", "universal_message_id", "external_id",
        "native_id", "document_id", "id_str",
    },
    "author_id": {
        "author_id", "user_id", "sender_id", "from_id", "account_id",
        "profile_id", "author_user_id", "author_external_id", "did",
        "author_did", "sender_profile_id", "user_id_str",
    },
    "author_handle": {
        "handle", "username", "screen_name", "author_handle", "author_username",
        "author", "from", "sender", "user", "account", "author_screen_name",
        "sender_screen_name", "user_screen_name", "sender_handle", "user_handle",
        "author_acct", "acct", "account_acct", "twitter_handle", "from_user",
        "profile",
    },
    "author_name": {
        "name", "author_name", "display_name", "full_name", "sender_name",
        "user_name", "author_display_name", "account_display_name",
        "profile_name", "author_full_name", "sender_display_name",
    },
    "network": {
        "network", "platform", "social_network", "source", "source_type",
        "media_type", "channel", "service", "site", "social_channel",
    },
    "body": {
        "text", "body", "message", "content", "post", "tweet", "message_text",
        "post_text", "full_text", "snippet", "caption", "comment", "tweet_text",
        "content_text", "mention", "mention_content", "record_text",
    },
    "posted_at": {
        "time", "date", "created_at", "created", "posted_at", "published",
        "published_at", "timestamp", "datetime", "date_time", "post_date",
        "created_time", "publication_date", "sent_at", "date_gmt", "date_utc",
        "created_date", "creation_time", "post_time", "indexed_at",
    },
    "url": {
        "url", "link", "permalink", "post_url", "post_link", "message_url",
        "tweet_url", "source_url", "permalink_url", "web_url",
    },
    "conversation": {
        "conversation", "conversation_id", "thread", "thread_id",
        "conversation_ref", "root_id", "case_id", "case_number", "root",
        "dm_conversation_id",
    },
    "in_reply_to": {
        "in_reply_to", "in_reply_to_id", "in_reply_to_status_id", "parent",
        "parent_id", "reply_to", "replied_to", "parent_post_id",
        "in_reply_to_post_id", "parent_ref", "reply_to_id",
    },
    "kind": {
        "kind", "type", "message_type", "post_type", "item_type", "mention_type",
        "content_type", "activity_type",
    },
    "lang": {"lang", "language", "language_code", "locale", "detected_language"},
    "followers": {
        "followers", "followers_count", "follower_count", "author_followers",
        "author_followers_count", "user_followers_count", "sender_followers",
        "fans", "audience",
    },
}  # fmt: skip
# prefixes tried off a header that matched nothing ("sender_followers")
_PREFIXES = ("author_", "user_", "sender_", "from_", "post_", "message_", "tweet_")

# words of a "kind" value, checked in this order
_DM_WORDS = {"dm", "dms", "direct", "private", "pm", "inbox", "messenger", "message"}
_REPOST_WORDS = {"retweet", "rt", "repost", "reblog", "boost", "share", "shared"}
_REPLY_WORDS = {"reply", "replies", "comment", "comments", "response", "answer"}
_MENTION_WORDS = {
    "mention", "mentions", "post", "posts", "tweet", "tweets", "status", "toot",
    "skeet", "update", "quote", "original", "public", "review", "photo", "video",
    "link", "story", "article", "note",
}  # fmt: skip
_NETWORK_WORDS = {
    "x": "x", "twitter": "x", "tweet": "x", "mastodon": "mastodon",
    "fediverse": "mastodon", "toot": "mastodon", "bluesky": "bluesky",
    "bsky": "bluesky", "facebook": "facebook", "fb": "facebook",
    "messenger": "facebook", "instagram": "instagram", "ig": "instagram",
    "insta": "instagram", "linkedin": "linkedin",
}  # fmt: skip
_EMPTY_COUNTS = {"", "-", "n/a", "na", "none", "null", "nan"}
_COUNT_SUFFIXES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_EPOCH = re.compile(r"\d{9,13}(\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}([.,']\d{3})+")
_DECIMAL = re.compile(r"\d+([.,]\d+)?")
_LANG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]+)*")
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DAY_FIRST = tuple(
    f"%d{sep}%m{sep}%Y %H:%M{seconds}" for sep in "/-." for seconds in (":%S", "")
)
_MONTH_FIRST = tuple(
    f"%m/%d/%Y {clock}" for clock in ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
)
# two far-apart defaults: a date part missing from the text shows as a difference
_DEFAULTS = (datetime(2000, 1, 1), datetime(2011, 12, 28))


class FileImportError(Exception):
    """The file as a whole cannot be read (not a row: rows become ItemErrors)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FileLayout:
    """How a file is read: ``format`` (``csv`` or ``jsonl``), the Python codec,
    the CSV delimiter, the column names (in file order) and a note for people
    (e.g. the Windows-1252 fallback)."""

    format: str
    encoding: str
    delimiter: str = ","
    columns: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the file: its number (as a spreadsheet shows it for CSV, the
    line for JSON Lines), its values by column, its text as JSON, and why it
    could not be read at all (``error``)."""

    number: int
    values: dict
    raw: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """What a row does not say itself.

    ``network``: the identities' network for rows without one (the channel's);
    ``tz``: the zone of times written without one; ``dayfirst``: how
    ``03/04/2026`` reads; ``own_handles``: normalised handles of our own
    accounts, whose rows are our posts (outbound).
    """

    network: str = "other"
    tz: object = timezone.utc
    dayfirst: bool = True
    own_handles: frozenset = frozenset()


# ----------------------------------------------------------------------
# Looking at the file
# ----------------------------------------------------------------------


def inspect(fileobj, fmt="auto", filename="", delimiter="auto"):
    """Return the ``FileLayout`` of a binary file object (read from its start).

    Raises ``FileImportError`` for an empty file, a JSON array or a
    spreadsheet.
    """
    fileobj.seek(0)
    encoding, note = detect_encoding(fileobj)
    head = _head_text(fileobj, encoding)
    fileobj.seek(0)
    if not head.strip():
        raise FileImportError("The file is empty.")
    fmt = _detect_format(head, filename) if fmt in (None, "", "auto") else fmt
    if fmt == "jsonl":
        columns = _jsonl_columns(fileobj, encoding)
        return FileLayout("jsonl", encoding, columns=columns, note=note)
    if delimiter in (None, "", "auto"):
        delimiter = sniff_delimiter(_first_line(head))
    layout = FileLayout("csv", encoding, delimiter, note=note)
    header = next(_csv_records(fileobj, layout), (1, []))[1]
    fileobj.seek(0)
    if isinstance(header, csv.Error) or not any(c.strip() for c in header):
        raise FileImportError("The file has no header row with column names.")
    return FileLayout("csv", encoding, delimiter, _unique_names(header), note)


def detect_encoding(fileobj):
    """Return ``(codec, note)``: UTF-8 (BOM or not), UTF-16 with BOM, else cp1252.

    The whole file is checked chunk by chunk, so a bad byte near the end is
    found too; memory stays at one chunk.
    """
    start = fileobj.read(4)
    fileobj.seek(0)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", ""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fileobj.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252", CP1252_NOTE
    finally:
        fileobj.seek(0)
    return "utf-8-sig", ""  # also drops a BOM when there is one


def sniff_delimiter(line):
    """The delimiter of a CSV header line: the most frequent of , ; and tab
    outside quotes (a comma when there is none)."""
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _head_text(fileobj, encoding):
    text = _text_stream(fileobj, encoding)
    try:
        return text.read(65536)
    finally:
        text.detach()


def _first_line(text):
    return text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""


def _detect_format(head, filename):
    name = (filename or "").lower()
    first = head.lstrip("\ufeff \t\r\n")[:1]
    if name.endswith((".xlsx", ".xls", ".ods")) or head.startswith("PK\x03\x04"):
        raise FileImportError(
            "This looks like a spreadsheet; save it as CSV (UTF-8) and import that."
        )
    if first == "[":
        raise FileImportError(
            "This is a JSON array; the import reads JSON Lines (one JSON object "
            "per line). Export as JSON Lines or CSV."
        )
    if first == "{" or name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def _jsonl_columns(fileobj, encoding):
    """The keys (flattened with dots) of the first objects, in order of appearance."""
    layout = FileLayout("jsonl", encoding)
    seen = {}
    for count, row in enumerate(read_rows(fileobj, layout)):
        if count >= _SAMPLE_ROWS:
            break
        seen.update(dict.fromkeys(row.values))
    fileobj.seek(0)
    return tuple(seen)


def _unique_names(names):
    """Column names made unique and never empty ("Date", "Date (2)", "Column 3")."""
    result, used = [], set()
    for position, given in enumerate(names, start=1):
        base = given.strip().lstrip("\ufeff") or f"Column {position}"
        name, copy = base, 1
        while name in used:
            copy += 1
            name = f"{base} ({copy})"
        used.add(name)
        result.append(name)
    return tuple(result)


# ----------------------------------------------------------------------
# Mapping
# ----------------------------------------------------------------------


def normalize_header(name):
    """``"Author Screen-Name"``, ``author.screenName`` → ``author_screen_name``."""
    name = _CAMEL.sub("_", name or "")
    return "_".join(_WORD.findall(name.lower()))


def guess_mapping(columns):
    """Propose a target per column: ``{column: target or None}``.

    Each target goes to the first column whose normalised name is one of its
    usual names; failing that, the name without a prefix such as ``author_``
    or ``post_`` is tried.
    """
    guessed, taken = {}, set()
    for attempt in (_exact_target, _unprefixed_target):
        for column in columns:
            if guessed.get(column):
                continue
            target = attempt(normalize_header(column), taken)
            guessed[column] = target
            if target:
                taken.add(target)
    return guessed


def _exact_target(key, taken):
    for target, names in _SYNONYMS.items():
        if target not in taken and key in names:
            return target
    return None


def _unprefixed_target(key, taken):
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return _exact_target(key[len(prefix) :], taken)
    return None


def mapping_problems(pairs):
    """What keeps a mapping from being used, as ``(code, detail)`` pairs.

    ``pairs`` are ``(column, target)``; ``target`` may be empty. Codes:
    ``twice`` (detail: target and its columns), ``no_text``, ``no_time``,
    ``no_author``.
    """
    columns_of = {}
    for column, target in pairs:
        if target:
            columns_of.setdefault(target, []).append(column)
    problems = [
        ("twice", (target, columns))
        for target, columns in columns_of.items()
        if len(columns) > 1
    ]
    if "body" not in columns_of:
        problems.append(("no_text", None))
    if "posted_at" not in columns_of:
        problems.append(("no_time", None))
    if not {"author_handle", "author_id"} & columns_of.keys():
        problems.append(("no_author", None))
    return problems


# ----------------------------------------------------------------------
# Reading rows
# ----------------------------------------------------------------------


def read_rows(fileobj, layout):
    """Yield the ``Row`` objects of the file, one at a time, from its start."""
    fileobj.seek(0)
    if layout.format == "jsonl":
        yield from _jsonl_rows(fileobj, layout)
    else:
        yield from _csv_rows(fileobj, layout)


def count_rows(fileobj, layout):
    """How many rows ``read_rows`` yields (one pass, without converting them)."""
    return sum(1 for _row in read_rows(fileobj, layout))


def _text_stream(fileobj, encoding):
    errors = "replace" if encoding == "cp1252" else "strict"
    return io.TextIOWrapper(fileobj, encoding=encoding, errors=errors, newline="")


def _csv_records(fileobj, layout):
    """Yield ``(row number, cells)`` of every record, header included.

    Numbers are what a spreadsheet shows (a quoted field over several lines
    is one row); blank lines are skipped but counted. A record the csv module
    refuses is yielded with ``cells`` set to the ``csv.Error``.
    """
    text = _text_stream(fileobj, layout.encoding)
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        number = 0
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield number, exc
                continue
            if cells or number == 1:
                yield number, cells
    finally:
        text.detach()


def _csv_rows(fileobj, layout):
    columns = layout.columns
    for number, cells in _csv_records(fileobj, layout):
        if number == 1:
            continue  # the header
        if isinstance(cells, csv.Error):
            yield Row(number, {}, "", f"this row could not be read as CSV ({cells})")
            continue
        values = dict(zip(columns, cells, strict=False))
        for position in range(len(columns), len(cells)):  # more cells than names
            values[f"Column {position + 1}"] = cells[position]
        if not any(v.strip() for v in values.values()):
            continue  # a row of empty cells (delimiters only)
        yield Row(number, values, json.dumps(values, ensure_ascii=False))


def _jsonl_rows(fileobj, layout):
    text = _text_stream(fileobj, layout.encoding)
    try:
        for number, text_line in enumerate(text, start=1):
            line = text_line.strip().lstrip("\ufeff")
            if line:
                yield _jsonl_row(number, line)
    finally:
        text.detach()


def _jsonl_row(number, line):
    try:
        data = json.loads(line)
    except ValueError as exc:
        return Row(number, {}, line, f"this line is not valid JSON ({exc.msg})")
    if not isinstance(data, dict):
        return Row(number, {}, line, "this line is not a JSON object")
    return Row(number, dict(_flatten(data)), line)


def _flatten(data, prefix=""):
    """Yield ``(dotted key, value)`` of nested objects (lists stay as they are)."""
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def cell_text(value):
    """A cell or JSON value as text ("" for null; 12.0 → "12")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ----------------------------------------------------------------------
# Rows to posts
# ----------------------------------------------------------------------


def convert(row, mapping, options):
    """Turn a ``Row`` into a ``SocialPost``, or an ``ItemError`` saying why not.

    ``mapping`` is ``{target: column}``. Every problem of the row is named in
    the error (``"Row 7: the time '31/02/2026' is not a date; no text."``),
    whose ``detail`` has the same without the row number.
    """
    if row.error:
        return _item_error(row, [row.error], fallback_id(row.raw))
    return _RowConverter(row, mapping, options).result()


def fallback_id(raw):
    """The external id of a row that has neither id column nor readable fields."""
    return "file:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def content_id(network, author_key, posted_at, body):
    """A stable external id from what identifies a post in any export of it."""
    key = "\x1f".join((network, author_key, posted_at.isoformat(), body))
    return "file:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def row_from_raw(raw, fmt, number=0):
    """The ``Row`` of a stored row's text (``Row.raw``), to convert it again."""
    if fmt == "jsonl":
        return _jsonl_row(number, raw)
    try:
        values = json.loads(raw)
    except ValueError:
        values = None
    if not isinstance(values, dict):
        return Row(number, {}, raw, "the stored row is not a JSON object")
    return Row(number, values, raw)


def _item_error(row, problems, external_id, partial=None):
    detail = "; ".join(problems)
    error = (
        f"Row {row.number}: {detail}."
        if row.number
        else f"{detail[:1].upper()}{detail[1:]}."
    )
    return ItemError(
        external_id=external_id,
        error=error,
        raw=row.raw,
        partial=partial,
        detail=detail,
    )


class _RowConverter:
    """Reads the mapped fields of one row, collecting every problem."""

    def __init__(self, row, mapping, options):
        self.row = row
        self.mapping = mapping
        self.options = options
        self.problems = []
        # the row's own network (None: the channel's), and the one that counts
        self.own_network = parse_network(self.cell("network"))
        self.network = self.own_network or options.network

    def cell(self, target):
        column = self.mapping.get(target)
        if not column:
            return ""
        return cell_text(self.row.values.get(column)).strip()

    def result(self):
        body = self.body()
        posted_at = self.posted_at()
        author = self.author()
        kind, repost = self.kind()
        url = self.url()
        external_id = self.external_id(author, posted_at, body)
        if self.problems:
            partial = PartialPost(
                kind=kind,
                body=body or None,
                posted_at=posted_at,
                author_external_id=(author and author.external_id) or None,
                author_handle=(author and author.handle) or None,
                url=url,
            )
            return _item_error(self.row, self.problems, external_id, partial)
        parent_ref = self.ref("in_reply_to")
        if kind == "mention" and parent_ref and not self.cell("kind"):
            kind = "reply"
        return SocialPost(
            external_id=external_id,
            kind=kind,
            direction=self.direction(author),
            author=author,
            body=body,
            lang=self.lang(),
            posted_at=posted_at,
            conversation_ref=self.ref("conversation")
            or _default_conversation(
                kind, external_id, parent_ref, author, self.network
            ),
            parent_ref=parent_ref,
            url=url,
            is_repost=repost,
            raw=self.row.raw,
        )

    def problem(self, text):
        self.problems.append(text)

    def body(self):
        column = self.mapping.get("body")
        body = cell_text(self.row.values.get(column)).strip() if column else ""
        if not body:
            self.problem(f"no text (column '{column}' is empty)")
        return body

    def posted_at(self):
        value = self.cell("posted_at")
        if not value:
            self.problem(f"no time (column '{self.mapping.get('posted_at')}' is empty)")
            return None
        try:
            return parse_time(value, self.options.tz, self.options.dayfirst)
        except ValueError:
            self.problem(f"the time '{_short(value)}' is not a date and time")
            return None

    def author(self):
        followers = self.followers()
        author_id = self.ref("author_id") or ""
        value = self.cell("author_handle")
        try:
            handle = handles.clean_handle(value) if value else author_id
        except ValueError:
            self.problem(
                f"the handle '{_short(value)}' has spaces; map the column of user "
                "names to Author handle (a display name goes to Author name)"
            )
            return None
        if not handle:
            self.problem("no author (neither handle nor author ID)")
            return None
        return Author(
            external_id=author_id,
            handle=handle,
            name=self.cell("author_name") or handle,
            followers_count=followers,
            network=self.own_network,
            raw="",
        )

    def followers(self):
        value = self.cell("followers")
        try:
            return parse_count(value)
        except ValueError:
            self.problem(f"the follower count '{_short(value)}' is not a number")
            return 0

    def kind(self):
        value = self.cell("kind")
        try:
            return parse_kind(value)
        except ValueError:
            self.problem(
                f"the kind '{_short(value)}' is unknown (use mention, reply, dm "
                "or repost)"
            )
            return None, False

    def ref(self, target):
        value = self.cell(target)
        if len(value) > _MAX_REF:
            label = TARGET_LABELS[target]
            self.problem(f"the {label} is longer than {_MAX_REF} characters")
            return None
        return value or None

    def url(self):
        value = self.cell("url")
        return value if re.match(r"https?://\S+$", value) else None

    def lang(self):
        match = _LANG.fullmatch(self.cell("lang").lower())
        return match.group(1) if match and match.group(1) != "und" else None

    def external_id(self, author, posted_at, body):
        mapped = self.ref("external_id")
        if mapped:
            return mapped
        if author and posted_at and body:
            key = author.external_id or author.handle.lower()
            return content_id(self.network, key, posted_at, body)
        return fallback_id(self.row.raw)

    def direction(self, author):
        own = self.options.own_handles
        return "outbound" if author.handle.lower() in own else "inbound"


def _default_conversation(kind, external_id, parent_ref, author, network):
    """DMs thread per author, replies under their parent, posts on their own."""
    if kind == "dm":
        return f"dm:{network}:{author.external_id or author.handle.lower()}"
    return parent_ref or external_id


def _short(value, size=40):
    return value if len(value) <= size else value[: size - 1] + "…"


# ----------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------


def parse_time(text, tz=timezone.utc, dayfirst=True):
    """A naive UTC datetime from ISO 8601, Unix seconds or milliseconds, or
    the usual written forms (``18/11/2026 14:03``, ``Tue Nov 18 14:03:22 +0000
    2026``). Times without a zone are in ``tz``. Raises ``ValueError`` when
    the text is no date, or lacks its day, month or year."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        seconds = float(text)
        seconds = seconds / 1000 if seconds > 1e11 else seconds
        return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_written(text, dayfirst)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _parse_written(text, dayfirst):
    for pattern in _DAY_FIRST if dayfirst else _MONTH_FIRST:
        try:  # the usual export formats, ten times faster than dateutil
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        first, second = (
            dateparser.parse(text, dayfirst=dayfirst, default=default)
            for default in _DEFAULTS
        )
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {text!r}") from exc
    if first.date() != second.date():
        raise ValueError(f"no full date in {text!r}")
    return first


def parse_kind(text):
    """``(kind, is_repost)`` from a kind or type value of any tool.

    Empty gives a mention. Raises ``ValueError`` for a value naming none.
    """
    words = set(_WORD.findall((text or "").lower()))
    if not words:
        return "mention", False
    if words & _DM_WORDS:
        return "dm", False
    if words & _REPOST_WORDS:
        return "mention", True
    if words & _REPLY_WORDS:
        return "reply", False
    if words & _MENTION_WORDS:
        return "mention", False
    raise ValueError(f"unknown kind {text!r}")


def parse_network(text):
    """A ``webcare.identity`` network code from a network or source value.

    ``"Twitter"``, ``"twitter.com"``, ``"X (Twitter)"`` give ``x``; a value
    naming no known network gives ``other``; empty gives None.
    """
    text = (text or "").strip().lower()
    if not text:
        return None
    if text in NETWORK_CODES:
        return text
    for word in _WORD.findall(text):
        if word in _NETWORK_WORDS:
            return _NETWORK_WORDS[word]
    return "other"


def parse_count(text):
    """A follower count: ``1234``, ``1,234``, ``50.000``, ``12.5K``, ``1.2M``.

    Empty and placeholders (``-``, ``n/a``) give 0; raises ``ValueError``
    for anything else that is no whole number.
    """
    text = (text or "").strip().lower().replace("\u00a0", "").replace(" ", "")
    if text in _EMPTY_COUNTS:
        return 0
    factor = _COUNT_SUFFIXES.get(text[-1])
    if factor:
        return round(float(text[:-1].replace(",", ".")) * factor)
    if _GROUPED.fullmatch(text):  # 50.000, 1,234,567: thousands separators
        return int(re.sub(r"\D", "", text))
    if _DECIMAL.fullmatch(text):  # 1234 or 1234.0 from a spreadsheet
        return round(float(text.replace(",", ".")))
    raise ValueError(f"not a count: {text!r}")
