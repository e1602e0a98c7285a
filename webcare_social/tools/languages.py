"""Languages of posts: the networks' codes and their names in the user's language.

X, Mastodon and Bluesky label a post with a BCP 47 code ("nl", "pt-BR", "und").
We keep the primary language subtag when it is an ISO 639-1 code and show it by
its name in the reader's language ("nl" is "Dutch" in English, "Nederlands" in
Dutch), with Babel's names (Babel ships with Odoo).
"""

import functools

import babel

_FALLBACK_LOCALE = "en"


def normalize(code):
    """Return the two-letter language of a BCP 47 ``code``, or None.

    ``"pt-BR"`` gives ``"pt"``; codes that name no ISO 639-1 language
    (``"und"``, X's ``"qme"``, garbage) give None.
    """
    if not isinstance(code, str):
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in _codes() else None


def selection(ui_lang):
    """``[(code, name)]`` of every language, named in ``ui_lang`` ("nl_NL"), by name."""
    return list(_names(ui_lang or _FALLBACK_LOCALE))


def name(code, ui_lang):
    """The name of language ``code`` in ``ui_lang``; the code itself when unknown."""
    return dict(_names(ui_lang or _FALLBACK_LOCALE)).get(code, code or "")


@functools.cache
def _codes():
    return frozenset(
        code
        for code in babel.Locale.parse(_FALLBACK_LOCALE).languages
        if len(code) == 2 and code.isalpha()
    )


@functools.cache
def _names(ui_lang):
    try:
        locale = babel.Locale.parse(ui_lang.split("@")[0])
    except (ValueError, babel.UnknownLocaleError):
        locale = babel.Locale.parse(_FALLBACK_LOCALE)
    english = babel.Locale.parse(_FALLBACK_LOCALE).languages
    names = {
        code: _capitalized(locale.languages.get(code) or english[code])
        for code in _codes()
    }
    return tuple(sorted(names.items(), key=lambda item: item[1].casefold()))


def _capitalized(text):
    return text[:1].upper() + text[1:]
