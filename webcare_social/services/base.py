"""Common interface of the social provider clients, and their registry.

A client is a plain Python object (no Odoo imports). The ORM looks the class
up by the channel's ``provider`` code with ``get_provider_class``.
"""

from ..exceptions import ProviderError

_REGISTRY = {}


class SocialProviderBase:
    """Base class of the API clients; subclasses implement the calls.

    ``credentials`` is a dict whose keys depend on the provider; it is kept
    private and never shown in ``repr`` or logs.
    """

    provider = ""
    default_base_url = ""

    def __init__(self, base_url, credentials, timeout=15.0):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._credentials = dict(credentials or {})
        self.timeout = timeout

    def __repr__(self):
        return f"<{type(self).__name__} {self.base_url}>"

    def whoami(self):
        """Return the ``Author`` of the connected account."""
        raise NotImplementedError

    def fetch_mentions(self, account_id, since_id=None, pagination_token=None):
        """Return a ``Page`` of public posts mentioning ``account_id``."""
        raise NotImplementedError

    def fetch_dms(self, account_id, pagination_token=None):
        """Return a ``Page`` of direct messages of ``account_id``."""
        raise NotImplementedError

    def parse_item(self, raw, account_id):
        """Return the ``SocialPost`` of one item stored as ``SocialPost.raw``."""
        raise NotImplementedError

    #: whether the network has private messages an agent can send
    supports_private = True
    #: seconds to leave between two sends of one account (bulk replies)
    send_interval = 1.0

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
