from odoo.tests import BaseCase, tagged

from ..tools import counting

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
ASTRONAUT = "\U0001f9d1\u200d\U0001f680"  # 🧑‍🚀
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"  # 👍🏽
FLAG_NL = "\U0001f1f3\U0001f1f1"  # 🇳🇱
FLAG_ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
KEYCAP_ONE = "1\ufe0f\u20e3"  # 1️⃣
HEART = "\u2764\ufe0f"  # ❤️


@tagged("post_install", "-at_install")
class TestCountX(BaseCase):
    """X: twitter-text configuration v3 (the cases of its conformance suite)."""

    def count(self, text):
        return counting.count(text, "x")

    def test_latin_counts_one(self):
        self.assertEqual(self.count("This is a test."), 15)
        self.assertEqual(self.count("Привет, שלום, مرحبا"), 19)

    def test_url_counts_23_whatever_its_length(self):
        self.assertEqual(self.count("http://test.com"), 23)
        self.assertEqual(self.count("https://test.com"), 23)
        long_url = "https://polderair.example/bagage/" + "x" * 200
        self.assertEqual(self.count(f"Zie {long_url}"), 4 + 23)
        self.assertEqual(
            self.count("Test https://test.com test https://test.com test"),
            4 + 1 + 23 + 1 + 4 + 1 + 23 + 1 + 4,
        )

    def test_trailing_punctuation_is_not_part_of_the_url(self):
        self.assertEqual(self.count("see https://example.com/a."), 4 + 23 + 1)
        self.assertEqual(
            self.count("(https://en.wikipedia.org/wiki/Foo_(bar))"), 1 + 23 + 1
        )

    def test_emoji_right_after_a_url_is_not_part_of_it(self):
        self.assertEqual(self.count("https://example.com/a\U0001f9f3"), 23 + 2)

    def test_not_a_url(self):
        self.assertEqual(self.count("http://"), 7)
        self.assertEqual(self.count("http://localhost"), 16)
        self.assertEqual(self.count("ftp://example.com"), 17)

    def test_cjk_counts_two(self):
        self.assertEqual(self.count("のの"), 4)
        self.assertEqual(self.count("故人西辞黄鹤楼"), 14)
        self.assertEqual(self.count("저찀쯿쿿"), 8)
        self.assertEqual(self.count("the故人"), 7)

    def test_emoji_counts_two(self):
        self.assertEqual(self.count("\U0001f637\U0001f47e\U0001f621\U0001f525"), 8)
        self.assertEqual(self.count(HEART), 2)

    def test_zwj_family_counts_two(self):
        self.assertEqual(self.count(FAMILY), 2)
        self.assertEqual(self.count(ASTRONAUT), 2)

    def test_flag_counts_two(self):
        self.assertEqual(self.count(FLAG_NL), 2)
        self.assertEqual(self.count(FLAG_ENGLAND), 2)

    def test_skin_tone_counts_two(self):
        self.assertEqual(self.count(THUMBS_MEDIUM), 2)
        # the conformance suite's "Unicode 9.0 emoji" case
        self.assertEqual(
            self.count(
                "Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe"
            ),
            29,
        )

    def test_keycap_and_variation_selector(self):
        self.assertEqual(self.count(KEYCAP_ONE), 2)
        self.assertEqual(self.count("\u00a9"), 1)  # © as text
        self.assertEqual(self.count("\u00a9\ufe0f"), 2)  # © as emoji

    def test_text_is_nfc_normalised(self):
        self.assertEqual(self.count("A\u0301B"), 2)  # ÁB
        self.assertEqual(self.count("e\u0301"), 1)

    def test_general_punctuation_counts_one(self):
        self.assertEqual(self.count("\u2013\u2014\u2018\u2019\u201c\u201d\u2032"), 7)
        self.assertEqual(self.count("\u2026"), 2)  # … is outside the light ranges

    def test_limit_280_exactly(self):
        self.assertEqual(counting.limit("x"), 280)
        self.assertEqual(self.count("a" * 280), 280)
        self.assertTrue(counting.fits("a" * 280, "x"))
        self.assertFalse(counting.fits("a" * 281, "x"))
        self.assertTrue(counting.fits("の" * 140, "x"))
        self.assertFalse(counting.fits("の" * 141, "x"))
        self.assertTrue(counting.fits(FAMILY * 140, "x"))
        self.assertFalse(counting.fits(FAMILY * 141, "x"))
        text = "a" * 256 + " https://example.com/" + "p" * 300
        self.assertEqual(self.count(text), 256 + 1 + 23)
        self.assertTrue(counting.fits(text, "x"))


@tagged("post_install", "-at_install")
class TestCountMastodonBluesky(BaseCase):
    def test_mastodon_url_counts_23(self):
        self.assertEqual(
            counting.count("lees https://example.com/" + "x" * 100, "mastodon"),
            5 + 23,
        )

    def test_mastodon_counts_only_the_user_part_of_a_mention(self):
        self.assertEqual(counting.count("@anna@mastodon.nl hoi", "mastodon"), 9)
        self.assertEqual(counting.count("@anna hoi", "mastodon"), 9)
        self.assertEqual(counting.count("mail anna@example.com", "mastodon"), 21)

    def test_mastodon_counts_graphemes(self):
        self.assertEqual(counting.count(FAMILY + FLAG_NL + "故人", "mastodon"), 4)
        self.assertEqual(counting.limit("mastodon"), 500)
        self.assertTrue(counting.fits("a" * 500, "mastodon"))
        self.assertFalse(counting.fits("a" * 501, "mastodon"))

    def test_bluesky_counts_graphemes_and_urls_in_full(self):
        text = f"{FAMILY} {FLAG_NL} e\u0301 {THUMBS_MEDIUM} {KEYCAP_ONE}"
        self.assertEqual(counting.count(text, "bluesky"), 9)
        self.assertEqual(counting.count("https://example.com/abc", "bluesky"), 23)
        self.assertEqual(counting.count("https://example.com/abcd", "bluesky"), 24)

    def test_bluesky_limits_graphemes_and_bytes(self):
        self.assertEqual(counting.limit("bluesky"), 300)
        self.assertTrue(counting.fits("a" * 300, "bluesky"))
        self.assertFalse(counting.fits("a" * 301, "bluesky"))
        # 300 graphemes of 25 bytes each are over the 3000-byte limit
        self.assertEqual(counting.count(FAMILY * 120, "bluesky"), 120)
        self.assertTrue(counting.fits(FAMILY * 120, "bluesky"))
        self.assertFalse(counting.fits(FAMILY * 121, "bluesky"))

    def test_private_messages_have_their_own_limits(self):
        self.assertEqual(counting.limit("x", private=True), 10000)
        self.assertTrue(counting.fits("a" * 10000, "x", private=True))
        self.assertFalse(counting.fits("a" * 10001, "x", private=True))
        self.assertEqual(counting.limit("bluesky", private=True), 1000)
        self.assertEqual(counting.byte_limit("bluesky", private=True), 10000)
        self.assertEqual(counting.limit("mastodon", private=True), 500)

    def test_unknown_network_has_no_limit(self):
        self.assertIsNone(counting.limit("facebook"))
        self.assertEqual(counting.count(FAMILY + "ab", "facebook"), 3)
        self.assertTrue(counting.fits("a" * 10000, "facebook"))


@tagged("post_install", "-at_install")
class TestGraphemes(BaseCase):
    def test_clusters(self):
        self.assertEqual(
            counting.graphemes(f"e\u0301{FLAG_NL}{FLAG_NL}x\r\n"),
            ["e\u0301", FLAG_NL, FLAG_NL, "x", "\r\n"],
        )
        self.assertEqual(
            counting.graphemes(FAMILY + THUMBS_MEDIUM), [FAMILY, THUMBS_MEDIUM]
        )

    def test_lone_and_odd_regional_indicators(self):
        three = "\U0001f1f3\U0001f1f1\U0001f1e7"
        self.assertEqual(counting.graphemes(three), [FLAG_NL, "\U0001f1e7"])

    def test_zwj_between_letters_does_not_join_them(self):
        self.assertEqual(counting.graphemes("a\u200db"), ["a\u200d", "b"])

    def test_hangul_jamo_make_one_syllable(self):
        self.assertEqual(
            counting.graphemes("\u1100\u1161\u11a8"), ["\u1100\u1161\u11a8"]
        )
        self.assertEqual(len(counting.graphemes("한국어")), 3)
