"""Common interface of the social provider clients, and their registry.

A client is a plain Python object (no Odoo imports). It owns everything that
differs between networks: which streams it reads, how a stream is paged and
when it is drained, what its cursor means, which channel fields hold its
credentials, how a payload becomes a ``SocialPost`` and how a reply is sent.
The channel (``webcare.channel``) only stores pages, commits and keeps one
cursor per stream; it picks the class with ``_get_provider_class()``, which
looks the ``provider`` code up here.

Adding a network: a subclass decorated with ``@register_provider``, a
``selection_add`` on ``webcare.channel.provider``, the credential fields on the
channel with their view block, a stand-in and tests.
"""

from dataclasses import dataclass

from ..exceptions import ProviderError

_REGISTRY = {}


@dataclass(frozen=True, slots=True)
class Stream:
    """One feed a provider reads for a channel (mentions, direct messages…).

    ``code`` is stored with the stream's cursor, ``label`` shown on the
    channel's health.
    """

    code: str
    label: str


class SocialProviderBase:
    """Base class of the API clients; subclasses implement the calls.

    ``credentials`` is a dict of the channel fields named in
    ``credential_fields``; it is kept private and never shown in ``repr`` or
    logs. ``account_id`` is the connected account's id on the network (empty
    until the connection was tested).
    """

    #: the ``webcare.channel.provider`` code, also the identities' network
    provider = ""
    #: root of the API when the channel leaves its URL empty
    default_base_url = ""
    #: the streams read at each import, in this order
    streams = ()
    #: the ``webcare.channel`` fields this client reads its credentials from
    credential_fields = ()
    #: whether the network has private messages an agent can send
    supports_private = True
    #: seconds to leave between two sends of one account (bulk replies)
    send_interval = 1.0
    #: whether the channel is read by the import cron (a webhook is pushed)
    polled = True

    def __init__(self, base_url, credentials, account_id=None, timeout=15.0):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._credentials = dict(credentials or {})
        self.account_id = str(account_id) if account_id else ""
        self.timeout = timeout

    def __repr__(self):
        return f"<{type(self).__name__} {self.base_url}>"

    @classmethod
    def stream_codes(cls):
        return tuple(stream.code for stream in cls.streams)

    def whoami(self):
        """Return the ``Author`` of the connected account."""
        raise NotImplementedError

    def fetch(self, stream, cursor=None, token=None):
        """Return one ``Page`` of ``stream``.

        ``cursor`` is what the channel stored for the stream after its last
        complete read (None the first time), ``token`` the ``next_token`` of
        the previous page of this read (None for the first page). The page
        says what to store as the new cursor once the stream is drained
        (``Page.cursor``) and whether it is (``Page.drained``). Raises
        ``InvalidCursor`` when the network refuses the cursor: the channel
        then reads the stream again from the start.
        """
        raise NotImplementedError

    def parse_item(self, raw):
        """Return the ``SocialPost`` of one item stored as ``SocialPost.raw``.

        Raises ``PayloadError`` when it cannot be read.
        """
        raise NotImplementedError

    def session_state(self):
        """The login session to keep on the channel when it changed, else None.

        For networks whose logins are scarce (Bluesky): the client starts from
        the ``provider_session`` credential and hands back the refreshed one;
        the channel stores it after each run.
        """
        return None

    def send_reply(self, parent_ref, text):
        """Publish ``text`` as a public reply to post ``parent_ref``.

        Returns a ``SentItem``. Raises ``ProviderRefused`` when the network
        does not accept it (with its reason), ``ProviderRateLimited`` or
        ``ProviderUnavailable`` when it should be tried again later.
        """
        raise NotImplementedError

    def send_private(self, recipient_ref, text):
        """Send ``text`` as a private message to user ``recipient_ref``.

        Returns a ``SentItem``; raises like ``send_reply``.
        """
        raise NotImplementedError


def register_provider(cls):
    """Class decorator: make ``cls`` available under ``cls.provider``."""
    if not cls.provider:
        raise ValueError(f"{cls.__name__} has no provider code")
    _REGISTRY[cls.provider] = cls
    return cls


def get_provider_class(code):
    """Return the client class registered for provider ``code``.

    Raises ``ProviderError`` when no client handles that provider.
    """
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ProviderError(f"No client is available for provider {code!r}.") from None


def registered_providers():
    """Return the provider codes that have a client, sorted."""
    return sorted(_REGISTRY)
