from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestIdentityTour(HttpCase):
    def test_agent_adds_identity_on_contact(self):
        partner = self.env["res.partner"].create({"name": "Tour Customer"})
        self.start_tour(
            f"/odoo/res.partner/{partner.id}",
            "webcare_social_add_identity",
            login="admin",
        )
        identity = partner.webcare_identity_ids
        self.assertEqual(identity.handle, "TourTester")
        self.assertEqual(identity.handle_normalized, "tourtester")
        self.assertEqual(identity.network, "x")
        self.assertEqual(identity.linked_by_id, self.env.ref("base.user_admin"))
        self.assertIn(
            "@TourTester (X) linked by", str(partner.message_ids.mapped("body"))
        )
