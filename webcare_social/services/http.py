"""HTTP plumbing the provider clients share (``requests``, no Odoo import)."""

from requests.adapters import HTTPAdapter


class TimeoutAdapter(HTTPAdapter):
    """An HTTP adapter that always applies its own timeout (seconds).

    Libraries (tweepy, Mastodon.py) pass their own timeouts or none, and
    Odoo's test harness raises short ones to 10 s in ``Session.send``; a
    cron worker must never hang on a provider, so the adapter has the last
    word on every request.
    """

    def __init__(self, timeout, **kwargs):
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        """Send ``request`` with the adapter's timeout, whatever was asked."""
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)
