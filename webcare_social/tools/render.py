"""Turn a social post into safe HTML and short texts (no Odoo imports)."""

import re

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_LEADING_MENTIONS = re.compile(r"^(?:[@.][\w.@-]+[\s,:]*)+")
_ANY_URL = re.compile(r"https?://\S+")
TITLE_LENGTH = 60
ELLIPSIS = "…"


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


def render_post(
    body,
    *,
    handle,
    name,
    network,
    url=None,
    followers=0,
    kind=None,
    link_label=None,
    followers_label="%s followers",
):
    """Return the HTML shown on a ticket for one post.

    The customer's words come first, as a plain paragraph: mail's chatter
    folds quotes (``blockquote``) away behind "•••", and the text is what an
    agent must read at a glance. Everything that came from the network is
    escaped; only the post's own http(s) links become clickable. The labels
    (``followers_label`` with one ``%s``, ``link_label``) come translated.
    """
    meta = [Markup("%s (@%s, %s)") % (name or handle, handle, network)]
    if followers:
        meta.append(escape(followers_label % f"{followers:,}"))
    if kind:
        meta.append(escape(kind))
    html = Markup("<p>%s</p><p><small>%s</small>") % (
        linkify(body),
        Markup(" · ").join(meta),
    )
    if url:
        html += Markup(
            ' · <small><a href="%s" target="_blank" rel="noopener noreferrer">%s</a>'
            "</small>"
        ) % (url, link_label or "View the original post")
    return html + Markup("</p>")


def strip_mentions(text):
    """Return ``text`` without the @handles it starts with and without links.

    ``"@PolderAir @KLM mijn koffer is kwijt"`` gives ``"mijn koffer is kwijt"``.
    """
    text = _ANY_URL.sub("", text or "")
    return " ".join(_LEADING_MENTIONS.sub("", text.strip()).split())


def shorten(text, length=TITLE_LENGTH):
    """Return ``text`` on one line, cut at a word boundary to ``length`` characters."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut and not text[length - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + ELLIPSIS


def ticket_title(body, fallback):
    """Return a short, meaningful ticket title for a post.

    The words of the post without the leading mentions and links, cut at a
    word; ``fallback`` (e.g. "Post by @anna") when nothing is left.
    """
    return shorten(strip_mentions(body)) or fallback


def render_reply(body, *, where, status, url=None, link_label=None):
    """Return the chatter HTML of one of our replies: its words, then where and how.

    ``where`` is e.g. "Public reply on X", ``status`` e.g. "Sent" or why not.
    """
    meta = Markup(" · ").join(escape(part) for part in (where, status) if part)
    html = Markup("<p>%s</p><p><small>%s") % (linkify(body), meta)
    if url:
        html += Markup(
            ' · <a href="%s" target="_blank" rel="noopener noreferrer">%s</a>'
        ) % (url, link_label or "View")
    return html + Markup("</small></p>")
