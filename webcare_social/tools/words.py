"""The words a burst of posts is about, for surge incidents (Dutch and English).

Words are lower-cased letters only (three or more), without handles, URLs,
numbers and the usual Dutch and English stop words. The top words of a
burst are the words most of its posts share and that are clearly more
frequent than in the posts before it ("storing", "inloggen", "app"), so an
airline's everyday "vlucht" does not describe every incident.
"""

import re
from collections import Counter

TOP_WORDS = 5
# a top word is in at least this many posts of the burst ...
MIN_POSTS = 2
# ... and at least this many times more frequent than before it
DISTINCTIVE = 2.0

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@[\w.@-]+")
_WORD = re.compile(r"[^\W\d_]{3,}")

_STOP = (
    # English
    "about", "above", "after", "again", "against", "all", "also", "and", "any", "are",
    "aren", "because", "been", "before", "being", "below", "between", "both", "but",
    "can", "cannot", "could", "couldn", "did", "didn", "does", "doesn", "doing", "don",
    "down", "during", "each", "few", "for", "from", "further", "get", "gets", "got",
    "had", "hadn", "has", "hasn", "have", "haven", "having", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "into", "isn", "its", "itself", "just",
    "let", "more", "most", "myself", "nor", "not", "now", "off", "once", "only",
    "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should",
    "shouldn", "some", "still", "such", "than", "that", "the", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "this", "those", "through",
    "too", "under", "until", "very", "was", "wasn", "were", "weren", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "won", "would",
    "wouldn", "you", "your", "yours", "yourself", "yourselves", "please", "thanks",
    "thank", "hello", "hey", "via", "yes", "really", "amp", "quot", "nbsp",
    # Dutch
    "aan", "alle", "alles", "als", "altijd", "ander", "andere", "bent", "bij", "daar",
    "dan", "dat", "deze", "die", "dit", "doch", "doen", "door", "dus", "een", "eens",
    "enkel", "geen", "geweest", "haar", "had", "heb", "hebben", "heeft", "hem", "het",
    "hier", "hij", "hoe", "hun", "iemand", "iets", "ook", "jij", "jou", "jouw",
    "jullie", "kan", "kon", "kun", "kunnen", "kunt", "maar", "meer", "men", "met",
    "mij", "mijn", "moet", "moeten", "naar", "niet", "niets", "nog", "omdat", "onder",
    "ons", "onze", "over", "reeds", "tegen", "toch", "toen", "tot", "uit", "van",
    "veel", "voor", "want", "waren", "was", "wat", "wel", "werd", "wezen", "wie", "wij",
    "wil", "wilt", "worden", "wordt", "zal", "zei", "zelf", "zich", "zij", "zijn",
    "zonder", "zou", "zouden", "hallo", "hoi", "dank", "bedankt", "graag", "even",
    "nou", "weer", "alweer", "steeds", "waarom", "wanneer", "sinds", "heel", "echt",
    "gaat", "gaan", "gewoon",
)  # fmt: skip
STOP_WORDS = frozenset(_STOP)


def words(text, ignore=()):
    """The distinct words of ``text`` worth counting (a set)."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text or ""))
    return {
        word
        for word in _WORD.findall(text.lower())
        if word not in STOP_WORDS and word not in ignore
    }


def top_words(texts, before=(), ignore=(), limit=TOP_WORDS):
    """The words the posts ``texts`` are about, most shared first.

    ``before`` are earlier posts of the same channel: a word as frequent
    there as in ``texts`` is everyday vocabulary, not what the burst is
    about. Ties are broken alphabetically, so the result is stable.
    """
    texts = list(texts)
    now = _document_counts(texts, ignore)
    usual = _document_counts(before, ignore)
    size, usual_size = len(texts) or 1, len(before) or 1

    def distinctive(word):
        return now[word] / size >= DISTINCTIVE * usual[word] / usual_size

    found = [w for w, n in now.items() if n >= MIN_POSTS and distinctive(w)]
    return sorted(found, key=lambda w: (-now[w], w))[:limit]


def shares_words(text, wanted, ignore=()):
    """Tell whether ``text`` uses one of the words ``wanted``."""
    return bool(wanted) and bool(words(text, ignore) & set(wanted))


def _document_counts(texts, ignore):
    """In how many of ``texts`` each word appears."""
    counts = Counter()
    for text in texts:
        counts.update(words(text, ignore))
    return counts
