"""Recognise a person's details in free text (no Odoo imports).

Used when a person is forgotten: notes and e-mails on their tickets that
mention them are emptied. ``PersonalTerms`` holds what identifies them
(name, e-mail, handles, texts they wrote…) and their phone numbers; it finds
a term in plain text and in HTML (where ``&`` or quotes are escaped), and a
phone number in any notation by its digits.
"""

import re

import phonenumbers
from markupsafe import escape

# shorter words would match by chance ("Jo", "06")
MIN_TERM_LENGTH = 4
# the national number of a mobile phone has 9 digits or more in most
# countries; shorter digit runs are too common to mean a phone number
MIN_PHONE_DIGITS = 6
_NON_DIGITS = re.compile(r"\D")


class PersonalTerms:
    """The words and numbers that identify one person."""

    def __init__(self, words=(), phones=()):
        self.words = sorted(
            {
                variant.lower()
                for word in words
                for variant in _variants(word)
                if len(variant) >= MIN_TERM_LENGTH
            }
        )
        self.digits = sorted(
            {d for d in (national_digits(p) for p in phones) if d}, key=len
        )

    def __bool__(self):
        return bool(self.words or self.digits)

    def found_in(self, text):
        """Tell whether ``text`` (plain or HTML) mentions the person."""
        if not text:
            return False
        lowered = str(text).lower()
        if any(word in lowered for word in self.words):
            return True
        digits = _NON_DIGITS.sub("", lowered)
        return any(d in digits for d in self.digits)

    def like_patterns(self):
        """``ILIKE`` patterns of the words, for SQL (``%`` and ``_`` escaped)."""
        return [f"%{_escape_like(word)}%" for word in self.words]


def national_digits(number):
    """The digits of ``number`` without country code or trunk prefix.

    ``+31 6 1234 5678``, ``06-12345678`` and ``0031612345678`` all give
    ``"612345678"``: the digits found in any notation of the number. An
    international number is read as such; any other text keeps its digits
    without leading zeros.
    """
    text = (number or "").strip()
    try:
        if text.startswith("+") or text.startswith("00"):
            parsed = phonenumbers.parse("+" + text.lstrip("+0"), None)
            digits = str(parsed.national_number)
        else:
            digits = _NON_DIGITS.sub("", text).lstrip("0")
    except phonenumbers.NumberParseException:
        digits = _NON_DIGITS.sub("", text).lstrip("0")
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def _variants(text):
    """``text`` as written, without ``@``, HTML-escaped; each line of it too."""
    found = set()
    for line in [text, *str(text or "").splitlines()]:
        part = " ".join(str(line or "").split())
        if part:
            found |= {part, part.lstrip("@"), str(escape(part))}
    return found


def _escape_like(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
