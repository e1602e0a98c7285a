"""Count a reply's length the way each network does (no Odoo imports).

The composer's live counter (``static/src/reply_counter/counting.js``) applies
the same rules in the browser; keep the two in step.

* **X** - twitter-text configuration v3: the text is NFC-normalised; every
  http(s) URL weighs 23 (``transformedURLLength``); an emoji sequence (one
  grapheme: ZWJ sequences, skin tones, flags, keycaps, variation selectors)
  weighs 2 as a whole; any other code point weighs 1 in the ranges
  0-4351, 8192-8205, 8208-8223 and 8242-8247 and 2 elsewhere
  (``defaultWeight``). Latin, Cyrillic, Greek, Arabic and Hebrew count 1;
  CJK, Hangul and emoji count 2. Limit 280.
* **Mastodon** - characters are graphemes; a URL counts 23 and a mention
  ``@user@instance`` counts as ``@user``. Limit 500.
* **Bluesky** - graphemes, URLs count in full. Limit 300 graphemes and 3000
  UTF-8 bytes.

Private messages have their own limits: 10,000 on X, 1,000 graphemes (10,000
bytes) in a Bluesky chat; a Mastodon private mention is a post (500).

Other networks count graphemes and have no known limit.
"""

import re
import unicodedata

URL_LENGTH = 23
LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300}
BYTE_LIMITS = {"bluesky": 3000}
PRIVATE_LIMITS = {"x": 10000, "bluesky": 1000}
PRIVATE_BYTE_LIMITS = {"bluesky": 10000}

# an http(s) URL as the networks link it: not glued to a word before it,
# trailing punctuation is not part of it
_URL = re.compile(r"(?<![A-Za-z0-9_@$#/])https?://[^\s<>\"']+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\"\u2026"
# Mastodon counts "@user@example.social" as "@user"
_REMOTE_MENTION = re.compile(
    r"(?<![=/A-Za-z0-9_])@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]+[A-Za-z0-9_]+)?)"
    r"@[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*"
)

# twitter-text v3: code points weighing 100 (1 character); the rest weigh 200
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_SCALE = 100
_DEFAULT_WEIGHT = 200
_EMOJI_WEIGHT = 200

ZWJ = 0x200D
VS16 = 0xFE0F
KEYCAP = 0x20E3
_KEYCAP_BASES = frozenset("#*0123456789")

# Extended_Pictographic (Unicode emoji-data), as ranges
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712),
    (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721),
    (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757),
    (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D), (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip

# grapheme break classes (a sufficient subset of Unicode UAX #29)
_OTHER, _CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _PICTO = range(8)
_L, _V, _T, _LV, _LVT = range(8, 13)


def limit(network, private=False):
    """The network's length limit of a post (or private message), or ``None``."""
    if private and network in PRIVATE_LIMITS:
        return PRIVATE_LIMITS[network]
    return LIMITS.get(network)


def byte_limit(network, private=False):
    """The network's limit in UTF-8 bytes, or ``None``."""
    if private and network in PRIVATE_BYTE_LIMITS:
        return PRIVATE_BYTE_LIMITS[network]
    return BYTE_LIMITS.get(network)


def count(text, network):
    """The length of ``text`` as ``network`` counts it."""
    text = unicodedata.normalize("NFC", text or "")
    if network == "x":
        return _count_x(text)
    if network == "mastodon":
        text = _REMOTE_MENTION.sub(r"@\1", text)
        return sum(
            URL_LENGTH if is_url else len(graphemes(part))
            for part, is_url in _split_urls(text)
        )
    return len(graphemes(text))


def fits(text, network, private=False):
    """Whether ``text`` is within the network's limits (always when unknown)."""
    size, most = count(text, network), limit(network, private)
    if most is not None and size > most:
        return False
    most_bytes = byte_limit(network, private)
    nfc = unicodedata.normalize("NFC", text or "")
    return most_bytes is None or len(nfc.encode("utf-8")) <= most_bytes


# ----------------------------------------------------------------------
# X
# ----------------------------------------------------------------------


def _count_x(text):
    weight = 0
    for part, is_url in _split_urls(text):
        if is_url:
            weight += URL_LENGTH * _SCALE
            continue
        for cluster in graphemes(part):
            if is_emoji(cluster):
                weight += _EMOJI_WEIGHT
            else:
                weight += sum(_code_point_weight(ord(char)) for char in cluster)
    return weight // _SCALE


def _code_point_weight(code):
    if any(start <= code <= end for start, end in _LIGHT_RANGES):
        return _SCALE
    return _DEFAULT_WEIGHT


def is_emoji(cluster):
    """Whether a grapheme is one emoji (X weighs it 2 as a whole).

    A pictograph (with its skin tone, variation selector and ZWJ-joined
    followers), a flag (two regional indicators or a tag sequence) or a
    keycap. A pictograph that X counts 1 on its own (©, ®) is only an emoji
    with the emoji variation selector U+FE0F.
    """
    codes = [ord(char) for char in cluster]
    first = codes[0]
    if _is_pictographic(first):
        return _code_point_weight(first) == _DEFAULT_WEIGHT or VS16 in codes
    if _is_regional_indicator(first):
        return len(codes) == 2
    return cluster[0] in _KEYCAP_BASES and KEYCAP in codes


# ----------------------------------------------------------------------
# URLs
# ----------------------------------------------------------------------


def _split_urls(text):
    """Yield ``(part, is_url)`` pieces of ``text`` in order."""
    last = 0
    for start, end in _url_spans(text):
        if start > last:
            yield text[last:start], False
        yield text[start:end], True
        last = end
    if last < len(text):
        yield text[last:], False


def _url_spans(text):
    for match in _URL.finditer(text):
        url = _strip_trailing(_cut_at_emoji(match.group(0)))
        host = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
        if "." in host.strip(".") and not host.endswith("."):
            yield match.start(), match.start() + len(url)


def _cut_at_emoji(url):
    """An emoji right after a link is not part of it."""
    for index, char in enumerate(url):
        code = ord(char)
        if _is_pictographic(code) or _is_regional_indicator(code) or _is_modifier(code):
            return url[:index]
    return url


def _strip_trailing(url):
    """Drop trailing punctuation; keep a closing bracket that closes one in the URL."""
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


# ----------------------------------------------------------------------
# Graphemes
# ----------------------------------------------------------------------


def graphemes(text):
    """Split ``text`` into user-perceived characters (extended grapheme clusters).

    Covers combining marks, emoji ZWJ sequences, skin-tone modifiers,
    variation selectors, tag sequences, keycaps, flag pairs and Hangul jamo,
    like the browser's ``Intl.Segmenter``.
    """
    clusters = []
    previous = None
    regional_run = 0  # regional indicators in a row before the current code point
    emoji_zwj = False  # the cluster so far is a pictograph, its extenders and a ZWJ
    for char in text:
        kind = _break_class(ord(char))
        if previous is not None and not _breaks(
            previous, kind, regional_run, emoji_zwj
        ):
            clusters[-1] += char
        else:
            clusters.append(char)
        regional_run = regional_run + 1 if kind == _RI else 0
        emoji_zwj = _continues_emoji(clusters[-1], kind)
        previous = kind
    return clusters


def _continues_emoji(cluster, kind):
    """Whether a ZWJ sequence may go on after this code point (rule GB11)."""
    if kind != _ZWJ:
        return False
    codes = [ord(char) for char in cluster]
    if not _is_pictographic(codes[0]):
        return False
    # pictograph (Extend* ZWJ pictograph)* Extend* ZWJ
    return all(_break_class(code) in (_EXTEND, _ZWJ, _PICTO) for code in codes[1:])


def _breaks(before, after, regional_run, emoji_zwj):
    rules = (
        (before == _CR and after == _LF, False),
        (before in (_CR, _LF, _CONTROL) or after in (_CR, _LF, _CONTROL), True),
        (before == _L and after in (_L, _V, _LV, _LVT), False),
        (before in (_LV, _V) and after in (_V, _T), False),
        (before in (_LVT, _T) and after == _T, False),
        (after in (_EXTEND, _ZWJ), False),
        (emoji_zwj and after == _PICTO, False),
        (before == _RI and after == _RI and regional_run % 2 == 1, False),
    )
    for applies, result in rules:
        if applies:
            return result
    return True


def _break_class(code):
    if code == 0x0D:
        return _CR
    if code == 0x0A:
        return _LF
    if code == ZWJ:
        return _ZWJ
    if _is_regional_indicator(code):
        return _RI
    if _is_modifier(code) or 0xE0020 <= code <= 0xE007F or code == 0x200C:
        return _EXTEND  # skin tones, tags, ZWNJ
    hangul = _hangul_class(code)
    if hangul is not None:
        return hangul
    if _is_pictographic(code):
        return _PICTO
    category = unicodedata.category(chr(code))
    if category in ("Mn", "Me", "Mc"):
        return _EXTEND
    if category in ("Cc", "Zl", "Zp"):
        return _CONTROL
    return _OTHER


def _hangul_class(code):
    if 0x1100 <= code <= 0x115F or 0xA960 <= code <= 0xA97C:
        return _L
    if 0x1160 <= code <= 0x11A7 or 0xD7B0 <= code <= 0xD7C6:
        return _V
    if 0x11A8 <= code <= 0x11FF or 0xD7CB <= code <= 0xD7FB:
        return _T
    if 0xAC00 <= code <= 0xD7A3:
        return _LV if (code - 0xAC00) % 28 == 0 else _LVT
    return None


def _is_modifier(code):
    return 0x1F3FB <= code <= 0x1F3FF


def _is_regional_indicator(code):
    return 0x1F1E6 <= code <= 0x1F1FF


def _is_pictographic(code):
    return any(start <= code <= end for start, end in _PICTOGRAPHIC)
