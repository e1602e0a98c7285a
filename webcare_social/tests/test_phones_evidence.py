"""The pure helpers behind the caller lookup: phones, evidence, search terms."""

from odoo.tests import BaseCase, tagged

from ..tools import evidence, lookup_query, phones, render

ANNA_MOBILE = "+31612345678"


@tagged("post_install", "-at_install")
class TestPhones(BaseCase):
    def test_dutch_formats_give_one_e164_number(self):
        for typed in (
            "+31 6 1234 5678",
            "06-12345678",
            "0031612345678",
            "(06) 1234 5678",
            "+31612345678",
            "06 12 34 56 78",
            "+31 (0)6 12345678",
        ):
            with self.subTest(typed=typed):
                self.assertEqual(phones.to_e164(typed, "NL"), ANNA_MOBILE)

    def test_region_is_case_insensitive(self):
        self.assertEqual(phones.to_e164("06-12345678", "nl"), ANNA_MOBILE)

    def test_international_numbers_need_no_region(self):
        self.assertEqual(phones.to_e164("+31 6 1234 5678", None), ANNA_MOBILE)
        self.assertEqual(phones.to_e164("0031612345678", None), None)
        self.assertEqual(phones.to_e164("06-12345678", None), None)

    def test_other_countries(self):
        cases = {
            ("+32 471 12 34 56", "NL"): "+32471123456",  # Belgian mobile
            ("0471 12 34 56", "BE"): "+32471123456",
            ("0032 471 12 34 56", "NL"): "+32471123456",
            ("+49 30 12345678", "NL"): "+493012345678",  # Berlin
            ("030 12345678", "DE"): "+493012345678",
            ("+44 7911 123456", None): "+447911123456",
            ("(201) 555-0123", "US"): "+12015550123",
        }
        for (typed, region), expected in cases.items():
            with self.subTest(typed=typed, region=region):
                self.assertEqual(phones.to_e164(typed, region), expected)

    def test_invalid_numbers_are_none(self):
        for typed in ("12345", "06-1234", "0612345678901234", "not a number", "", None):
            with self.subTest(typed=typed):
                self.assertIsNone(phones.to_e164(typed, "NL"))

    def test_looks_like_phone(self):
        for typed in (
            "06-12345678",
            "+31 6 1234 5678",
            "(06) 1234 5678",
            "0031612345678",
        ):
            with self.subTest(typed=typed):
                self.assertTrue(phones.looks_like_phone(typed))
        for typed in ("HT00042", "anna@example.com", "@anna", "12345", "Wilma 06"):
            with self.subTest(typed=typed):
                self.assertFalse(phones.looks_like_phone(typed))

    def test_numbers_in_text_not_dates_or_codes(self):
        text = (
            "vlucht op 17-11-2026 om 14:05, code PA1234, "
            "bel 06 87654321 of +32 471 12 34 56"
        )
        self.assertEqual(
            phones.find_numbers(text, "NL"), ["+31687654321", "+32471123456"]
        )

    def test_same_number_written_twice_counts_once(self):
        self.assertEqual(
            phones.find_numbers("06-87654321 (ja: +31 6 8765 4321)", "NL"),
            ["+31687654321"],
        )

    def test_display_is_international(self):
        self.assertEqual(phones.display(ANNA_MOBILE), "+31 6 12345678")
        self.assertEqual(phones.display("garbage"), "garbage")


@tagged("post_install", "-at_install")
class TestEvidence(BaseCase):
    def values(self, text, region="NL"):
        return [(e.kind, e.value) for e in evidence.extract(text, region)]

    def test_number_and_booking_code_in_a_dm(self):
        self.assertEqual(
            self.values(
                "Mijn nummer is 06-87654321, bel gerust na 9 uur. Boekingscode KZ4RT7."
            ),
            [("phone", "+31687654321"), ("reference", "KZ4RT7")],
        )

    def test_email_is_lower_case_and_mastodon_handle_is_no_email(self):
        self.assertEqual(
            self.values(
                "mail naar Anna.DV+claims@Example.COM of volg @anna@mastodon.nl"
            ),
            [("email", "anna.dv+claims@example.com")],
        )

    def test_ticket_number_is_a_reference(self):
        self.assertEqual(
            self.values("zie HT00042 en ook ht00043"), [("reference", "HT00042")]
        )

    def test_words_dates_and_links_are_no_evidence(self):
        self.assertEqual(
            self.values(
                "KOFFER KWIJT op 17-11-2026! https://x.com/AnnaDV/status/2123359124321292305"
                " #PA1234 @KLM1234"
            ),
            [],
        )

    def test_numbers_need_a_country_to_be_read(self):
        self.assertEqual(self.values("bel 06 87654321", region=None), [])
        self.assertEqual(
            self.values("bel +31 6 87654321", region=None), [("phone", "+31687654321")]
        )

    def test_at_most_five_per_kind(self):
        text = " ".join(f"REF{n}X{n}" for n in range(1, 9))
        found = self.values(text)
        self.assertEqual(len(found), evidence.MAX_PER_KIND)
        self.assertEqual(found[0], ("reference", "REF1X1"))


@tagged("post_install", "-at_install")
class TestLookupQuery(BaseCase):
    def test_phone_numbers(self):
        for typed in ("06-12345678", "+31 6 1234 5678", "(06) 1234 5678"):
            with self.subTest(typed=typed):
                query = lookup_query.parse_query(typed)
                self.assertEqual(query.phone, typed)
                self.assertIsNone(query.name)
                self.assertIsNone(query.handle)

    def test_handle_with_at_in_any_case(self):
        query = lookup_query.parse_query("  @AnnaDV ")
        self.assertEqual(query.handle, "annadv")
        self.assertIsNone(query.name)
        self.assertIsNone(query.phone)

    def test_email_is_also_a_mastodon_handle(self):
        query = lookup_query.parse_query("Anna@Mastodon.nl")
        self.assertEqual(query.email, "anna@mastodon.nl")
        self.assertEqual(query.handle, "anna@mastodon.nl")
        self.assertIsNone(query.name)

    def test_ticket_number_with_the_sequence_prefix(self):
        self.assertEqual(lookup_query.parse_query("ht00042").ticket, "HT00042")
        self.assertEqual(
            lookup_query.parse_query("TK123", ticket_prefixes=("TK",)).ticket, "TK123"
        )
        # without the prefix it is a name (and maybe a handle)
        self.assertIsNone(lookup_query.parse_query("TK123").ticket)
        self.assertIsNone(lookup_query.parse_query("HT").ticket)

    def test_names(self):
        full = lookup_query.parse_query("Wilma  Tester")
        self.assertEqual(full.name, "Wilma Tester")
        self.assertIsNone(full.handle)  # a handle has no spaces
        word = lookup_query.parse_query("wilma_t")
        self.assertEqual((word.name, word.handle), ("wilma_t", "wilma_t"))

    def test_empty(self):
        self.assertTrue(lookup_query.parse_query("   ").empty)
        self.assertTrue(lookup_query.parse_query(None).empty)
        self.assertFalse(lookup_query.parse_query("x1").empty)


@tagged("post_install", "-at_install")
class TestTitles(BaseCase):
    def test_leading_mentions_and_links_go(self):
        self.assertEqual(
            render.ticket_title(
                "@PolderAir @KLM mijn koffer is kwijt https://t.co/abc", "fallback"
            ),
            "mijn koffer is kwijt",
        )

    def test_mentions_inside_the_text_stay(self):
        self.assertEqual(
            render.ticket_title("@PolderAir bel @AnnaDV even", "fallback"),
            "bel @AnnaDV even",
        )

    def test_long_text_is_cut_at_a_word(self):
        body = (
            "@PolderAir Mijn vlucht PA1234 van Amsterdam naar Barcelona is "
            "geannuleerd en niemand neemt de telefoon op"
        )
        title = render.ticket_title(body, "fallback")
        self.assertLessEqual(len(title), render.TITLE_LENGTH)
        self.assertTrue(title.endswith("…"), title)
        words = title.removesuffix("…").split()
        self.assertEqual(words, body.split()[1 : len(words) + 1])  # whole words only
        self.assertFalse(title.startswith("@"))

    def test_only_mentions_gives_the_fallback(self):
        self.assertEqual(
            render.ticket_title("@PolderAir https://t.co/xyz", "Post by @anna"),
            "Post by @anna",
        )

    def test_short_text_unchanged_on_one_line(self):
        self.assertEqual(render.shorten("kort\nen  goed"), "kort en goed")
        exact = "x" * render.TITLE_LENGTH
        self.assertEqual(render.shorten(exact), exact)

    def test_one_long_word_is_cut_hard(self):
        title = render.shorten("a" * 100, 20)
        self.assertEqual(title, "a" * 19 + "…")
