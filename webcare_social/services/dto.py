"""Immutable values that carry provider payloads towards the ORM.

Datetimes are naive UTC (what Odoo stores). Every object keeps the JSON text
it was built from in ``raw`` so the ingestion log can show what was received.
"""

from dataclasses import dataclass
from datetime import datetime

KINDS = ("mention", "reply", "dm")
DIRECTIONS = ("inbound", "outbound")


@dataclass(frozen=True, slots=True)
class Author:
    """A social account that wrote a post or message."""

    external_id: str
    handle: str
    name: str
    followers_count: int = 0
    verified: bool = False
    raw: str = ""
    #: the ``webcare.identity`` network when it is not the channel's own
    #: (a webhook or a file brings authors of several networks)
    network: str | None = None


@dataclass(frozen=True, slots=True)
class SocialPost:
    """One public post or direct message, normalised across providers.

    ``kind`` is one of ``KINDS``, ``direction`` one of ``DIRECTIONS``.
    ``conversation_ref`` groups a thread or DM conversation; ``parent_ref``
    is the post this one answers, if any.
    """

    external_id: str
    kind: str
    direction: str
    author: Author
    body: str
    lang: str | None
    posted_at: datetime
    conversation_ref: str
    parent_ref: str | None
    url: str | None
    is_repost: bool
    raw: str


@dataclass(frozen=True, slots=True)
class PartialPost:
    """What could still be read of an item that failed to parse (all optional)."""

    kind: str | None = None
    body: str | None = None
    posted_at: datetime | None = None
    author_external_id: str | None = None
    author_handle: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ItemError:
    """An item of a page that could not be parsed; the others still were.

    ``error`` is a sentence for people, ``detail`` the technical reason and
    ``partial`` what could be read of the item anyway.
    """

    external_id: str | None
    error: str
    raw: str
    partial: PartialPost | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stream: parsed posts, unreadable items and paging.

    ``next_token`` asks for the next page of the same read; None when the
    stream is drained (the provider decides: no more pages, or the pages
    reached what was read before). ``cursor`` is what the channel stores for
    the stream once it is drained and everything is stored; None keeps the
    value a previous page of the read gave (or the stored one).
    """

    posts: tuple[SocialPost, ...]
    errors: tuple[ItemError, ...]
    cursor: str | None
    next_token: str | None
    raw: str

    @property
    def drained(self):
        return self.next_token is None


@dataclass(frozen=True, slots=True)
class SentItem:
    """What the network made of a reply or private message we sent.

    ``conversation_ref`` is set when the network says which conversation the
    item joined (a DM conversation id).
    """

    external_id: str
    url: str | None = None
    conversation_ref: str | None = None
