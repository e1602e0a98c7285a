from odoo.tests import BaseCase, tagged

from ..tools import handles


@tagged("post_install", "-at_install")
class TestHandles(BaseCase):
    def test_clean_keeps_case_and_drops_at(self):
        self.assertEqual(handles.clean_handle("  @AnnaDV "), "AnnaDV")
        self.assertEqual(handles.clean_handle("@@AnnaDV"), "AnnaDV")

    def test_normalize_is_lower_case(self):
        self.assertEqual(handles.normalize_handle("@AnnaDV"), "annadv")
        self.assertEqual(handles.normalize_handle(""), "")

    def test_profile_urls_pasted_as_handles(self):
        self.assertEqual(handles.clean_handle("https://x.com/AnnaDV"), "AnnaDV")
        self.assertEqual(handles.clean_handle("https://twitter.com/AnnaDV/"), "AnnaDV")
        self.assertEqual(
            handles.clean_handle("https://bsky.app/profile/sophiej.bsky.social"),
            "sophiej.bsky.social",
        )
        self.assertEqual(
            handles.clean_handle("https://mastodon.nl/@anna"), "anna@mastodon.nl"
        )

    def test_mastodon_address(self):
        self.assertEqual(handles.clean_handle("@anna@mastodon.nl"), "anna@mastodon.nl")
        self.assertEqual(
            handles.profile_url("mastodon", "anna@mastodon.nl"),
            "https://mastodon.nl/@anna",
        )

    def test_inner_space_refused(self):
        with self.assertRaises(ValueError):
            handles.clean_handle("anna dv")

    def test_profile_url_per_network(self):
        self.assertEqual(handles.profile_url("x", "@AnnaDV"), "https://x.com/AnnaDV")
        self.assertEqual(
            handles.profile_url("bluesky", "sophiej.bsky.social"),
            "https://bsky.app/profile/sophiej.bsky.social",
        )
        self.assertFalse(handles.profile_url("other", "someone"))
        self.assertFalse(handles.profile_url("x", ""))

    def test_looks_like_handle(self):
        self.assertTrue(handles.looks_like_handle("@annadv"))
        self.assertFalse(handles.looks_like_handle("annadv"))
        self.assertFalse(handles.looks_like_handle("@"))
        self.assertFalse(handles.looks_like_handle("@anna dv"))
