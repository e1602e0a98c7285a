"""Faults raised by the social provider clients.

Plain Python (no Odoo imports): the service layer raises these, the models
decide what they mean for a channel (retry later, reconnect, skip an item).
"""


class ProviderError(Exception):
    """A provider call failed; ``message`` is safe to show to an agent."""

    default_message = "The social network reported an error."

    def __init__(self, message=None, *, status_code=None):
        self.message = message or self.default_message
        self.status_code = status_code
        super().__init__(self.message)


class ProviderAuthError(ProviderError):
    """The credentials were refused (HTTP 401/403): reconnect the channel."""

    default_message = "The social network refused the credentials."


class ProviderRateLimited(ProviderError):
    """Too many requests (HTTP 429); try again at ``retry_at``.

    ``retry_at`` is a naive UTC datetime, or None when the provider did not
    say when the window resets.
    """

    default_message = "The social network's rate limit was reached."

    def __init__(self, message=None, *, retry_at=None, status_code=429):
        self.retry_at = retry_at
        super().__init__(message, status_code=status_code)


class ProviderUnavailable(ProviderError):
    """The provider is down or unreachable (5xx, timeout): retry later."""

    default_message = "The social network is unavailable; try again later."


class ProviderRefused(ProviderError):
    """The network refused what we sent (a reply, a DM): ``message`` says why.

    Not a fault of ours to retry: the reason is shown to the agent, who
    changes the text or the way of answering.
    """

    default_message = "The social network refused the message."


class InvalidCursor(ProviderError):
    """The ``since_id`` or pagination token was rejected: restart the sync."""

    default_message = "The social network rejected the sync position."


class PayloadError(ProviderError):
    """A response or an item in it could not be understood.

    ``raw`` holds the unreadable text when there is one, so it can be kept.
    """

    default_message = "The social network sent data that could not be read."

    def __init__(self, message=None, *, status_code=None, raw=None):
        self.raw = raw
        super().__init__(message, status_code=status_code)
