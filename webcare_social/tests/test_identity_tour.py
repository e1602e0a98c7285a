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
        admin = self.env.ref("base.user_admin")
        self.assertEqual(identity.linked_by_id, admin)
        self.assertEqual(
            (identity.consent, identity.consent_method, identity.consent_by_id),
            (True, "phone", admin),
        )
        log = str(partner.message_ids.mapped("body"))
        self.assertIn("@TourTester (X) linked by", log)
        self.assertIn("given by Tour Customer (Asked by phone)", log)

    def test_agent_links_the_author_of_a_ticket_with_consent(self):
        partner = self.env["res.partner"].create({"name": "Tour Customer"})
        channel = self.env["webcare.channel"].create(
            {"name": "Tour X", "account_handle": "PolderAir"}
        )
        message = self.env["webcare.message"].create(
            {
                "channel_id": channel.id,
                "external_id": "tour-1",
                "kind": "mention",
                "author_external_id": "4711",
                "author_handle": "tourflyer",
                "body": "@PolderAir mijn koffer is kwijt",
            }
        )
        message._process()
        ticket = message.ticket_id
        ticket.partner_id = partner  # no consent yet: the author stays unlinked
        self.assertFalse(message.identity_id.partner_id)
        self.start_tour(
            f"/odoo/helpdesk.ticket/{ticket.id}",
            "webcare_social_link_with_consent",
            login="admin",
        )
        identity = message.identity_id
        self.assertEqual(identity.partner_id, partner)
        self.assertEqual(
            (identity.consent, identity.consent_method, identity.consent_partner_id),
            (True, "dm", partner),
        )
        self.assertFalse(ticket.webcare_link_hint)

    def test_phone_agent_links_the_caller_with_consent(self):
        self.env.company.country_id = self.env.ref("base.nl")
        channel = self.env["webcare.channel"].create(
            {"name": "Tour X", "account_handle": "PolderAir"}
        )
        message = self.env["webcare.message"].create(
            {
                "channel_id": channel.id,
                "external_id": "tour-dm-1",
                "kind": "dm",
                "author_external_id": "4712",
                "author_handle": "tourcaller",
                "author_name": "Tara Tour",
                "body": "bel me op 06-24681357",
            }
        )
        message._process()
        self.start_tour(
            "/odoo/webcare-lookup?phone=06-24681357",
            "webcare_social_link_caller_with_consent",
            login="admin",
        )
        identity = message.identity_id
        self.assertEqual(identity.partner_id.name, "Tara Tour")
        self.assertEqual(identity.partner_id.phone_sanitized, "+31624681357")
        self.assertEqual((identity.consent, identity.consent_method), (True, "phone"))
