from odoo.tests import tagged

from .common import WebcareCase


@tagged("post_install", "-at_install")
class TestPartnerSearch(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["webcare.identity"].create(
            {"network": "x", "handle": "@SearchAnna", "partner_id": cls.customer.id}
        )

    def test_name_search_by_handle_any_case(self):
        Partner = self.env["res.partner"].with_user(self.agent)
        for term in ("@searchanna", "@SEARCHANNA", "@SearchAnna"):
            ids = [pid for pid, _name in Partner.name_search(term)]
            self.assertIn(self.customer.id, ids, term)

    def test_name_search_handle_without_at_via_search_field(self):
        Partner = self.env["res.partner"].with_user(self.sales)
        found = Partner.search([("webcare_handle", "ilike", "searchanna")])
        self.assertEqual(found, self.customer)
        found = Partner.search([("webcare_handle", "=", "@SearchAnna")])
        self.assertEqual(found, self.customer)

    def test_contacts_search_view_name_field_matches_handles(self):
        # the 'name' search field of the contacts list ORs in the handle
        arch = self.env["res.partner"].get_view(view_type="search")["arch"]
        self.assertIn("('webcare_handle', 'ilike', self)", arch)
        Partner = self.env["res.partner"]
        domain = [
            "|",
            ("complete_name", "ilike", "@searchanna"),
            ("webcare_handle", "ilike", "@searchanna"),
        ]
        self.assertEqual(Partner.search(domain), self.customer)

    def test_unknown_handle_finds_nothing(self):
        Partner = self.env["res.partner"]
        self.assertFalse(Partner.name_search("@nobody_has_this"))
        self.assertFalse(
            Partner.search([("webcare_handle", "ilike", "@nobody_has_this")])
        )

    def test_plain_name_search_unchanged(self):
        ids = [
            pid for pid, _name in self.env["res.partner"].name_search("Wilma Tester")
        ]
        self.assertIn(self.customer.id, ids)
        self.assertNotIn(self.other_customer.id, ids)

    def test_portal_user_search_does_not_break(self):
        Partner = self.env["res.partner"].with_user(self.portal)
        self.assertFalse(Partner.search([("webcare_handle", "ilike", "searchanna")]))
