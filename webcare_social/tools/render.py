"""Turn a social post into safe HTML for a ticket (no Odoo imports)."""

import re

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def linkify(text):
    """Return ``text`` HTML-escaped, its http(s) URLs as links, newlines as breaks."""
    parts, last = [], 0
    for match in _URL.finditer(text or ""):
        parts.append(escape(text[last : match.start()]))
        url = match.group(0)
        parts.append(
            Markup('<a href="%s" target="_blank" rel="noopener noreferrer">%s</a>')
            % (url, url)
        )
        last = match.end()
    parts.append(escape((text or "")[last:]))
    return Markup("<br/>").join(Markup("").join(parts).split("\n"))


def render_post(body, *, handle, name, network, url=None, followers=0, kind=None):
    """Return the HTML shown on a ticket for one post.

    Everything that came from the network is escaped; only the post's own
    http(s) links become clickable.
    """
    author = Markup("<strong>%s</strong> (@%s, %s)") % (name or handle, handle, network)
    meta = [author]
    if followers:
        meta.append(Markup("%s followers") % f"{followers:,}")
    if kind:
        meta.append(escape(kind))
    html = Markup("<p>%s</p><blockquote>%s</blockquote>") % (
        Markup(" · ").join(meta),
        linkify(body),
    )
    if url:
        html += Markup(
            '<p><a href="%s" target="_blank" rel="noopener noreferrer">%s</a></p>'
        ) % (url, "View the original post")
    return html
