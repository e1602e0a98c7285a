"""Phone numbers in E.164, from what agents type and what customers write.

No Odoo imports. ``region`` is an ISO 3166 country code (``"NL"``) used for
numbers written without a country code; ``None`` accepts only international
numbers. Only valid numbers count, as in Odoo's ``phone_sanitized``.
"""

import re

import phonenumbers

_PHONE_TEXT = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_DIGITS = 6


def looks_like_phone(text):
    """Tell whether a search term was typed as a phone number."""
    text = (text or "").strip()
    digits = sum(c.isdigit() for c in text)
    return digits >= MIN_DIGITS and bool(_PHONE_TEXT.match(text))


def to_e164(text, region=None):
    """Return ``text`` as an E.164 number (``+31612345678``), or ``None``.

    ``06-12345678``, ``0031612345678`` and ``(06) 1234 5678`` with region
    ``NL`` all give ``+31612345678``; an invalid number gives ``None``.
    Phone systems often send caller ids without the ``+``: bare digits that
    are no valid number in ``region`` are tried as an international number
    (``31612345678``), never when they start with a trunk ``0``.
    """
    e164 = _parse(text, region)
    digits = (text or "").strip()
    if not e164 and digits.isdigit() and not digits.startswith("0"):
        e164 = _parse("+" + digits, None)
    return e164


def _parse(text, region):
    try:
        number = phonenumbers.parse(text or "", (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_numbers(text, region=None, limit=5):
    """Return the valid phone numbers written in ``text``, in E.164, in order.

    Dates, amounts and booking codes are not numbers to ``phonenumbers``'
    matcher, so ``"vlucht op 17-11-2026, bel 06 87654321"`` gives only
    ``["+31687654321"]``.
    """
    found = []
    matcher = phonenumbers.PhoneNumberMatcher(
        text or "", (region or "").upper() or None, leniency=phonenumbers.Leniency.VALID
    )
    for match in matcher:
        e164 = phonenumbers.format_number(
            match.number, phonenumbers.PhoneNumberFormat.E164
        )
        if e164 not in found:
            found.append(e164)
        if len(found) >= limit:
            break
    return found


def display(e164):
    """Return an E.164 number in international notation for people."""
    try:
        number = phonenumbers.parse(e164 or "", None)
    except phonenumbers.NumberParseException:
        return e164 or ""
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
