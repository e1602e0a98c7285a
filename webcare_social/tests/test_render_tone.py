from odoo.tests import BaseCase, tagged

from ..tools import render, tone


@tagged("post_install", "-at_install")
class TestRender(BaseCase):
    def test_text_is_escaped(self):
        html = str(render.linkify('<script>alert("x")</script> & more'))
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertIn("&amp; more", html)

    def test_http_links_clickable_without_trailing_punctuation(self):
        html = str(render.linkify("see https://example.com/a?b=1&c=2."))
        self.assertIn('href="https://example.com/a?b=1&amp;c=2"', html)
        self.assertTrue(html.endswith("</a>."))

    def test_other_schemes_stay_text(self):
        html = str(render.linkify("javascript:alert(1) and ftp://x.example"))
        self.assertNotIn("<a", html)

    def test_quotes_cannot_break_out_of_the_link(self):
        html = str(render.linkify('https://example.com/"onmouseover="x'))
        self.assertNotIn('"onmouseover', html)

    def test_newlines_become_breaks(self):
        self.assertEqual(str(render.linkify("a\nb")), "a<br/>b")

    def test_post_shows_author_reach_and_original(self):
        html = str(
            render.render_post(
                "hoi",
                handle="AnnaDV",
                name="Anna <b>",
                network="X",
                url="https://x.com/AnnaDV/status/1",
                followers=12500,
                kind="Mention",
            )
        )
        self.assertIn("Anna &lt;b&gt;", html)
        self.assertIn("@AnnaDV, X", html)
        self.assertIn("12,500 followers", html)
        self.assertIn('href="https://x.com/AnnaDV/status/1"', html)

    def test_post_is_a_plain_paragraph_not_a_quote(self):
        # mail's chatter folds <blockquote> away behind "•••"
        html = str(
            render.render_post(
                "mijn koffer\nis kwijt", handle="AnnaDV", name="Anna", network="X"
            )
        )
        self.assertNotIn("blockquote", html)
        self.assertTrue(html.startswith("<p>mijn koffer<br/>is kwijt</p>"), html)
        self.assertEqual(html.count("<p>"), html.count("</p>"))


@tagged("post_install", "-at_install")
class TestTone(BaseCase):
    def test_negative_words_in_dutch_and_english(self):
        self.assertTrue(tone.is_negative("Dit is SCHANDALIG"))
        self.assertTrue(tone.is_negative("nooit meer met jullie"))
        self.assertTrue(tone.is_negative("Worst airline ever"))
        self.assertFalse(tone.is_negative("Dank jullie wel, top service!"))

    def test_words_match_whole_words_only(self):
        self.assertFalse(tone.is_negative("worstenbroodje aan boord?"))

    def test_shouting_counts(self):
        self.assertTrue(tone.is_negative("WHERE IS MY SUITCASE RIGHT NOW"))
        self.assertTrue(tone.is_negative("hallo!!!"))
        self.assertFalse(tone.is_negative("KLM"))

    def test_priority_levels(self):
        self.assertEqual(tone.priority_for(10, False), "1")
        self.assertEqual(tone.priority_for(10, True), "2")
        self.assertEqual(tone.priority_for(10_000, False), "2")
        self.assertEqual(tone.priority_for(100_000, False), "3")
        self.assertEqual(tone.priority_for(100_000, True), "3")
        self.assertEqual(tone.priority_for(500, False, high=400), "2")
