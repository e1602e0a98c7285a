"""A deliberately simple negative-tone signal for Dutch and English posts.

It only has to move a ticket up the queue; it is no sentiment analysis.
"""

import re

_NEGATIVE = (
    # English
    "worst", "terrible", "awful", "horrible", "disgrace", "disgusting", "angry",
    "furious", "ridiculous", "unacceptable", "never again", "rude", "scam",
    "useless", "shame on", "lost my", "cancelled again", "refund now",
    # Dutch
    "schandalig", "schande", "waardeloos", "belachelijk", "slecht", "slechtste",
    "boos", "woedend", "nooit meer", "onacceptabel", "klantonvriendelijk",
    "oplichters", "kwijt", "geannuleerd", "wanprestatie", "diep teleurgesteld",
)  # fmt: skip
_PATTERN = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(w) for w in _NEGATIVE) + r")(?!\w)", re.IGNORECASE
)


def is_negative(text):
    """Tell whether ``text`` reads as a complaint (negative words, or shouting)."""
    text = text or ""
    if _PATTERN.search(text):
        return True
    letters = [c for c in text if c.isalpha()]
    shouting = (
        len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    )
    return shouting or "!!!" in text


def priority_for(followers, negative, high=10_000, very_high=100_000):
    """Return a helpdesk priority ("0".."3") from reach and tone.

    Medium by default; high reach raises it one or two steps, a negative tone
    one more step, capped at "3" (very high).
    """
    level = 1
    if followers >= very_high:
        level += 2
    elif followers >= high:
        level += 1
    if negative:
        level += 1
    return str(min(level, 3))


# "sent you a DM", "DM gestuurd", "check your DMs", "PM gestuurd", ...
_DM_WORDS = re.compile(
    r"(?<!\w)(dm'?s?|pm|direct message|private message|privébericht|"
    r"priv[eé]\s?bericht)(?!\w)",
    re.IGNORECASE,
)


def mentions_dm(text):
    """Tell whether a public post refers to a direct message (Dutch or English)."""
    return bool(_DM_WORDS.search(text or ""))
