"""Pure helpers for social handles: normalisation and profile URLs.

No Odoo imports: the ingestion services and the models both use these.
"""

import re
from urllib.parse import urlsplit

# Hosts whose profile URLs may be pasted instead of a handle.
_PROFILE_HOSTS = {
    "x.com": "x",
    "twitter.com": "x",
    "bsky.app": "bluesky",
    "facebook.com": "facebook",
    "instagram.com": "instagram",
    "linkedin.com": "linkedin",
}

_PROFILE_URLS = {
    "x": "https://x.com/{handle}",
    "bluesky": "https://bsky.app/profile/{handle}",
    "facebook": "https://www.facebook.com/{handle}",
    "instagram": "https://www.instagram.com/{handle}",
    "linkedin": "https://www.linkedin.com/in/{handle}",
}

_SPACE = re.compile(r"\s")


def _handle_from_url(text):
    """Return the handle part of a pasted profile URL, or None."""
    parts = urlsplit(text)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("mobile.")
    segments = [s for s in parts.path.split("/") if s]
    if host not in _PROFILE_HOSTS or not segments:
        if segments and segments[0].startswith("@"):  # a Mastodon profile URL
            return f"{segments[0]}@{host}"
        return None
    if segments[0] in ("profile", "in") and len(segments) > 1:
        return segments[1]
    return segments[0]


def clean_handle(text):
    """Return the handle as entered, without spaces around, URL or leading ``@``.

    ``" @AnnaDV "`` and ``"https://x.com/AnnaDV"`` both give ``"AnnaDV"``;
    a Mastodon address ``"@anna@mastodon.nl"`` gives ``"anna@mastodon.nl"``.
    Raises ``ValueError`` for a handle with inner spaces.
    """
    text = (text or "").strip()
    if text.lower().startswith(("http://", "https://")):
        text = _handle_from_url(text) or text
    text = text.lstrip("@")
    if _SPACE.search(text):
        raise ValueError(f"A handle cannot contain spaces: {text!r}")
    return text


def normalize_handle(text):
    """Return the comparison key of a handle: cleaned and lower-case (or ``""``)."""
    return clean_handle(text).lower()


def looks_like_handle(text):
    """Tell whether a search term was typed as a handle (``@name``)."""
    text = (text or "").strip()
    return text.startswith("@") and len(text) > 1 and not _SPACE.search(text)


def profile_url(network, handle):
    """Return the public profile URL of ``handle`` on ``network``, or ``False``."""
    handle = clean_handle(handle) if handle else ""
    if not handle:
        return False
    if network == "mastodon" and "@" in handle:
        user, _sep, instance = handle.partition("@")
        return f"https://{instance}/@{user}"
    pattern = _PROFILE_URLS.get(network)
    return pattern.format(handle=handle) if pattern else False
