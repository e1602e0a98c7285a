"""What a caller-lookup search term can mean (no Odoo imports).

An agent types one thing: a phone number in any notation, an e-mail
address, a handle, a ticket number or a name. ``parse_query`` returns every
reading worth trying; the lookup tries them all and ranks what it finds.
"""

import re
from dataclasses import dataclass

from . import handles, phones

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE_TOKEN = re.compile(r"^[\w.\-]+(@[\w.\-]+)?$")
MIN_NAME = 2


@dataclass(frozen=True, slots=True)
class LookupQuery:
    """The readings of one search term; unused readings are ``None``.

    ``phone`` is the term as typed (the lookup turns it into E.164 with the
    company's country), ``email`` is lower-case, ``handle`` the normalised
    handle key, ``ticket`` the upper-case ticket number, ``name`` the text.
    """

    text: str
    phone: str | None = None
    email: str | None = None
    handle: str | None = None
    ticket: str | None = None
    name: str | None = None

    @property
    def empty(self):
        return not any((self.phone, self.email, self.handle, self.ticket, self.name))


def parse_query(text, ticket_prefixes=("HT",)):
    """Return the ``LookupQuery`` of a search term.

    ``"06-12345678"`` is a phone number; ``"@AnnaDV"`` a handle;
    ``"anna@mastodon.nl"`` an e-mail address or a Mastodon handle;
    ``"ht00042"`` a ticket number when ``HT`` is a ticket prefix; anything
    else a name, and a single word also a handle typed without ``@``.
    """
    text = " ".join((text or "").split())
    if not text:
        return LookupQuery(text)
    if phones.looks_like_phone(text):
        return LookupQuery(text, phone=text)
    if text.startswith("@"):
        return LookupQuery(text, handle=_handle_key(text))
    if _EMAIL.match(text):
        return LookupQuery(text, email=text.lower(), handle=_handle_key(text))
    if _is_ticket_number(text, ticket_prefixes):
        return LookupQuery(text, ticket=text.upper())
    single_word = bool(_HANDLE_TOKEN.match(text))
    return LookupQuery(
        text,
        name=text if len(text) >= MIN_NAME else None,
        handle=_handle_key(text) if single_word else None,
    )


def _is_ticket_number(text, prefixes):
    upper = text.upper()
    return any(
        upper.startswith(prefix.upper()) and upper[len(prefix) :].isdigit()
        for prefix in prefixes
        if prefix and len(upper) > len(prefix)
    )


def _handle_key(text):
    try:
        return handles.normalize_handle(text) or None
    except ValueError:
        return None
