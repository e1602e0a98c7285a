"""Contact details a customer wrote in a post or DM (no Odoo imports).

A phone number, an e-mail address or a reference (booking code, ticket
number) in a message is evidence of who its author is: the caller lookup and
the ticket's contact suggestions use it.
"""

import re
from dataclasses import dataclass

from . import phones

KINDS = ("phone", "email", "reference")
# not preceded by "@" or a word character, so "@anna@mastodon.nl" is no e-mail
_EMAIL = re.compile(
    r"(?<![@\w.+-])[A-Za-z0-9][\w.+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# upper-case codes of letters and digits with at least one of each: PQ7XZ2, HT00042
_REFERENCE = re.compile(
    r"(?<![\w/.@#-])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{5,12}\b"
)
_URL = re.compile(r"https?://\S+")
MAX_PER_KIND = 5


@dataclass(frozen=True, slots=True)
class Evidence:
    """One detail found in a text: ``kind`` is one of ``KINDS``."""

    kind: str
    value: str


def extract(text, region=None):
    """Return the ``Evidence`` found in ``text``: phones, e-mails, references.

    Values are normalised for comparison: E.164 numbers, lower-case e-mail
    addresses, upper-case references. Links are ignored.
    """
    text = _URL.sub(" ", text or "")
    found = [
        Evidence("phone", n) for n in phones.find_numbers(text, region, MAX_PER_KIND)
    ]
    found += _unique("email", (m.lower() for m in _EMAIL.findall(text)))
    found += _unique("reference", _REFERENCE.findall(text))
    return tuple(found)


def _unique(kind, values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return [Evidence(kind, v) for v in seen[:MAX_PER_KIND]]
