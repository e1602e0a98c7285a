"""The ingestion benchmark's data, the same conversations on every network.

Plain Python (no Odoo import): ``bench_ingest.py`` imports it from
``BENCH_DIR``. ``conversations()`` draws one set of people and posts with a
fixed seed; each ``*Feed`` class writes those posts into its network's local
stand-in (``webcare_social/tests/*_standin.py``, loaded by file path) and
knows what that network then delivers to the account, what the channel needs
to read it and how a known customer's identity looks there.

The networks do not deliver the same things. X's mentions timeline also
carries retweets and the account's own replies (stored, then ignored);
Mastodon is asked for ``mention`` notifications only and notifies nobody of
their own posts or of a reblog; Bluesky is asked for mentions, replies and
quotes only. So every network receives the same customer posts, and only X
receives the noise too.
"""

import importlib.util
import string
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROVIDERS = ("x", "mastodon", "bluesky")
STANDIN_FILES = {
    "x": "x_standin.py",
    "mastodon": "mastodon_standin.py",
    "bluesky": "bluesky_standin.py",
}
START = datetime(2026, 1, 5, 7, 0, 0)
STEP = timedelta(seconds=37)
X_PAGE_SIZE = 100  # X serves up to 100 mentions a page; the others set their own
TEXTS = (
    "where is my suitcase? flight {flight} landed hours ago",
    "mijn koffer is kwijt na {flight}, wie helpt me?",
    "{flight} cancelled again. Unacceptable!!!",
    "can I change my booking for {flight} to tomorrow?",
    "vlucht {flight} geannuleerd, hoe krijg ik mijn geld terug?",
    "thanks for the upgrade on {flight}, great crew",
    "still no answer about my refund for {flight}",
)
REPLIES = (
    "any news?",
    "nog steeds niets gehoord",
    "booking ref {flight}X9, please check",
    "this is ridiculous, 3 days now",
    "ok thanks, I sent a DM",
)
OWN_REPLIES = ("we're on it, can you DM us your booking ref?", "sorry to hear that!")
MASTODON_DOMAINS = ("mastodon.social", "mastodon.nl", "fosstodon.org")


# --------------------------------------------------------------------------
# The conversations, whatever the network
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A customer; ``index`` numbers them, the first ones are contacts."""

    index: int
    username: str
    name: str
    followers: int


@dataclass(frozen=True, eq=False)
class Post:
    """One post of the account's feed, in time order.

    ``kind``: ``new`` (starts a conversation), ``reply`` (a customer in an
    earlier conversation), ``own`` (the account's reply) or ``repost`` (a
    customer shares an earlier post). ``thread`` is the conversation's first
    post, ``original`` what a repost shares; ``author`` is None for ``own``.
    """

    index: int
    moment: datetime
    kind: str
    text: str
    author: Person | None = None
    thread: "Post | None" = None
    original: "Post | None" = None

    @property
    def from_customer(self):
        return self.kind in ("new", "reply")


def conversations(n, rng):
    """``n`` posts by ``max(n // 5, 10)`` people: who they are, what they post.

    About 55% start a conversation, 30% reply in one of the last 50 (80% by
    the same author), 7% are the account's own replies and 8% reposts. The
    draws are those of the X-only benchmark, so X's data did not change.
    """
    people = [_person(i, rng) for i in range(max(n // 5, 10))]
    posts, threads = [], []
    for i in range(n):
        moment = START + STEP * i
        roll = rng.random()
        if threads and roll < 0.07:
            thread = rng.choice(threads[-50:])
            post = Post(i, moment, "own", rng.choice(OWN_REPLIES), thread=thread)
        elif threads and roll < 0.15:
            original = rng.choice(posts)
            post = Post(i, moment, "repost", "", rng.choice(people), original=original)
        elif threads and roll < 0.45:
            thread = rng.choice(threads[-50:])
            author = thread.author if rng.random() < 0.8 else rng.choice(people)
            post = Post(i, moment, "reply", _text(REPLIES, rng), author, thread)
        else:
            text = _text(TEXTS, rng)
            post = Post(i, moment, "new", text, rng.choice(people))
            threads.append(post)
        posts.append(post)
    return people, posts


def _person(index, rng):
    followers = rng.choice((12, 40, 150, 800, 2_500, 15_000, 250_000))
    return Person(index, f"flyer{index:05d}", f"Flyer {index}", followers)


def _text(choices, rng):
    template = rng.choice(choices)
    return template.format(flight=f"PA{rng.randint(100, 999)}")


def mix(posts):
    """How many posts of each kind: printed with the results."""
    counts = dict.fromkeys(("new", "reply", "own", "repost"), 0)
    for post in posts:
        counts[post.kind] += 1
    return counts


# --------------------------------------------------------------------------
# Stand-ins
# --------------------------------------------------------------------------


def available(addon_dir):
    """The providers whose stand-in is in the addon's tests folder."""
    tests = Path(addon_dir) / "tests"
    return [code for code in PROVIDERS if (tests / STANDIN_FILES[code]).is_file()]


def load_standin(addon_dir, provider):
    """Import a stand-in by file path, without importing the test package.

    The Mastodon and Bluesky stand-ins import ``standin_base`` by its plain
    name when they are not in a package; that name is given the base module
    ``x_standin.py`` loads too (one shared copy).
    """
    tests = Path(addon_dir) / "tests"
    base = _load_file("webcare_social_standin_base", tests / "standin_base.py")
    sys.modules.setdefault("standin_base", base)
    path = tests / STANDIN_FILES[provider]
    return _load_file(f"webcare_bench_{provider}_standin", path)


def _load_file(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def feed_for(provider, addon_dir, people, posts):
    """The running stand-in of ``provider`` serving ``posts``."""
    feed_class = {"x": XFeed, "mastodon": MastodonFeed, "bluesky": BlueskyFeed}
    return feed_class[provider](load_standin(addon_dir, provider), people, posts)


@dataclass(frozen=True)
class Delivered:
    """An item the network delivers: its id, author's id on the network, text."""

    external_id: str
    author_id: str
    text: str
    from_customer: bool


class Feed:
    """A stand-in holding the conversations as one network shows them.

    Subclasses fill ``self.standin`` (started) and ``self.delivered`` (the
    items the account's streams deliver, oldest first).
    """

    provider = ""
    label = ""
    page_size = None  # items per page (the client's request size)
    start_cursors = {}  # a cursor from before the data: read it all

    def __init__(self, module, people, posts):
        self.module = module
        self.people = people
        self.delivered = []

    def stop(self):
        self.standin.stop()

    def clear_log(self):
        """Forget the recorded requests (rate-limit headers count them)."""
        self.standin.clear_log()

    def author_id(self, person):
        raise NotImplementedError

    def handle(self, person):
        raise NotImplementedError

    def identity_vals(self, person, partner_id, with_id):
        """A contact's identity; without ``with_id`` only the typed handle."""
        return {
            "network": self.provider,
            "handle": self.handle(person),
            "external_id": self.author_id(person) if with_id else False,
            "partner_id": partner_id,
        }

    def channel_vals(self):
        raise NotImplementedError

    def connect(self, channel):
        """Make ``channel`` connected, as its button would."""
        channel.action_test_connection()
        if channel.state != "connected":
            raise RuntimeError(f"{self.label}: not connected: {channel.last_error}")


class XFeed(Feed):
    """X: the mentions timeline, with retweets and our own replies in it."""

    provider, label, page_size = "x", "X", X_PAGE_SIZE

    def __init__(self, module, people, posts):
        super().__init__(module, people, posts)
        self.account = dict(module.DEFAULT_ACCOUNT)
        users = [self._user(person) for person in people]
        tweets = [self._tweet(post) for post in posts]
        dataset = {
            "account": self.account,
            "users": users,
            "tweets": tweets,
            "settings": {"page_size": X_PAGE_SIZE},
        }
        self.delivered = [
            Delivered(t["id"], t["author_id"], t["text"], post.from_customer)
            for t, post in zip(tweets, posts, strict=True)
        ]
        self.standin = module.XApiStandin(dataset, page_size=X_PAGE_SIZE).start()

    def author_id(self, person):
        return str(1_600_000_000_000_000_000 + person.index)

    def handle(self, person):
        return person.username

    def _user(self, person):
        return {
            "id": self.author_id(person),
            "username": person.username,
            "name": person.name,
            "verified": person.followers > 100_000,
            "public_metrics": {"followers_count": person.followers},
        }

    def _tweet(self, post):
        tweet = {
            "id": self._id(post),
            "created_at": self.module.iso(post.moment),
            "lang": "en",
        }
        if post.kind == "new":
            tweet.update(text=f"@PolderAir {post.text}", author_id=self._author(post))
            tweet["conversation_id"] = tweet["id"]
        elif post.kind in ("reply", "own"):
            thread = post.thread
            text = f"@PolderAir {post.text}"
            if post.kind == "own":
                text = f"@{thread.author.username} {post.text}"
            tweet.update(
                text=text,
                author_id=self._author(post),
                conversation_id=self._id(thread),
                in_reply_to_user_id=self._author(thread),
                referenced_tweets=[{"type": "replied_to", "id": self._id(thread)}],
            )
            if post.kind == "own":
                tweet["in_mentions"] = True
        else:
            original = post.original
            # as the X-only benchmark wrote it: the handle of a conversation's
            # first post, else the account's
            shown = original.author.username if original.kind == "new" else "PolderAir"
            tweet.update(
                text=f"RT @{shown}: {self._text(original)}"[:280],
                author_id=self._author(post),
                conversation_id=tweet["id"],
                referenced_tweets=[{"type": "retweeted", "id": self._id(original)}],
                in_mentions=True,
            )
        return tweet

    def _id(self, post):
        return self.module.snowflake(post.moment)

    def _author(self, post):
        if post.author is None:
            return self.account["id"]
        return self.author_id(post.author)

    def _text(self, post):
        if post.kind == "repost":
            return self._tweet(post)["text"]
        if post.kind == "own":
            return f"@{post.thread.author.username} {post.text}"
        return f"@PolderAir {post.text}"

    def channel_vals(self):
        standin = self.standin
        return {
            "provider": "x",
            "api_base_url": standin.base_url,
            "bearer_token": standin.bearer_token,
            "api_key": standin.consumer_key,
            "api_key_secret": standin.consumer_secret,
            "access_token": standin.access_token,
            "access_token_secret": standin.access_token_secret,
        }

    def connect(self, channel):
        """As the X-only benchmark did: the account written, no call."""
        channel.write(
            {
                "account_external_id": self.standin.account_id,
                "account_handle": self.standin.account["username"],
                "state": "connected",
            }
        )


class MastodonFeed(Feed):
    """Mastodon: mention notifications; customers on three other instances."""

    provider, label = "mastodon", "Mastodon"
    page_size = 80  # MastodonClient asks for 80, Mastodon's maximum
    start_cursors = {"notifications": "1"}  # below every notification id

    def __init__(self, module, people, posts):
        super().__init__(module, people, posts)
        standin = self.standin = module.MastodonStandin().start()
        for person in people:
            standin.add_account(
                self.author_id(person),
                person.username,
                person.name,
                domain=MASTODON_DOMAINS[person.index % len(MASTODON_DOMAINS)],
                followers_count=person.followers,
            )
        self._ids = {}
        for post in posts:
            self._publish(post)

    def author_id(self, person):
        return str(109_200_000_000_000_000 + person.index)

    def handle(self, person):
        domain = MASTODON_DOMAINS[person.index % len(MASTODON_DOMAINS)]
        return f"{person.username}@{domain}"

    def _publish(self, post):
        standin = self.standin
        millis = int(post.moment.replace(tzinfo=timezone.utc).timestamp() * 1000)
        status_id = str((millis << 16) + post.index)
        self._ids[post] = status_id
        options = {"status_id": status_id, "created_at": post.moment}
        if post.kind == "repost":
            original = self._ids[post.original]
            author = self.author_id(post.author)
            standin.add_status(author, "", reblog_of=original, **options)
            if post.original.kind == "own":  # only a reblog of ours is notified
                standin.add_notification(
                    "reblog", author, original, created_at=self.module.iso(post.moment)
                )
            return
        if post.kind == "own":
            text = f"@{self.handle(post.thread.author)} {post.text}"
            author = standin.account_id
        else:
            text = f"@PolderAir {post.text}"
            author = self.author_id(post.author)
        if post.thread:
            options["in_reply_to_id"] = self._ids[post.thread]
        standin.add_status(author, text, **options)
        if post.from_customer:
            self.delivered.append(Delivered(status_id, author, text, True))

    def channel_vals(self):
        return {
            "provider": "mastodon",
            "api_base_url": self.standin.base_url,
            "access_token": self.standin.access_token,
        }


class BlueskyFeed(Feed):
    """Bluesky: mention, reply and quote notifications (and chat, empty)."""

    provider, label = "bluesky", "Bluesky"
    page_size = 50  # BlueskyClient's page
    start_cursors = {"notifications": "2026-01-01T00:00:00.000Z"}

    def __init__(self, module, people, posts):
        super().__init__(module, people, posts)
        standin = self.standin = module.BlueskyStandin().start()
        for person in people:
            standin.add_actor(
                self.author_id(person),
                self.handle(person),
                person.name,
                followers=person.followers,
            )
        self._uris = {}
        for post in posts:
            self._publish(post)

    def author_id(self, person):
        return "did:plc:" + _base32(person.index, 24)

    def handle(self, person):
        return f"{person.username}.bsky.social"

    def _publish(self, post):
        standin = self.standin
        if post.kind == "repost":  # Bluesky tells us of reposts of ours only
            if post.original.kind == "own":
                author = self.author_id(post.author)
                standin.add_repost(author, self._uris[post.original], at=post.moment)
            return
        if post.kind == "own":
            text = f"@{self.handle(post.thread.author)} {post.text}"
            author = standin.did
        else:
            text = f"@{standin.account['handle']} {post.text}"
            author = self.author_id(post.author)
        reply_to = self._uris[post.thread] if post.thread else None
        view = standin.add_post(
            author, text, reply_to=reply_to, at=post.moment, langs=["en"]
        )
        self._uris[post] = view["uri"]
        if post.from_customer:
            self.delivered.append(Delivered(view["uri"], author, text, True))

    def channel_vals(self):
        return {
            "provider": "bluesky",
            "api_base_url": self.standin.base_url,
            "account_login": self.standin.account["handle"],
            "app_password": self.standin.password,
        }


def _base32(value, length):
    """``value`` in the lower-case base32 of DIDs, ``length`` characters."""
    alphabet = string.ascii_lowercase + "234567"
    chars = []
    for _ in range(length):
        chars.append(alphabet[value % 32])
        value //= 32
    return "".join(reversed(chars))
