from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WebcareCase


@tagged("post_install", "-at_install")
class TestIdentity(WebcareCase):
    # ------------------------------------------------------------------
    # normalisation and computed fields
    # ------------------------------------------------------------------

    def test_handle_stored_as_entered_without_at(self):
        identity = self.make_identity(" @AnnaTest ", self.customer)
        self.assertEqual(identity.handle, "AnnaTest")
        self.assertEqual(identity.handle_normalized, "annatest")
        self.assertEqual(identity.display_name, "@AnnaTest (X)")
        self.assertEqual(identity.profile_url, "https://x.com/AnnaTest")

    def test_profile_url_kept_when_given(self):
        identity = self.make_identity(
            "wilma",
            self.customer,
            network="other",
            profile_url="https://forum.example/u/wilma",
        )
        self.assertEqual(identity.profile_url, "https://forum.example/u/wilma")

    def test_handle_with_space_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot contain spaces"):
            self.make_identity("wilma tester", self.customer)

    def test_empty_external_id_is_null(self):
        first = self.make_identity("one_a", external_id="")
        second = self.make_identity("one_b", external_id="")
        self.assertFalse(first.external_id)
        self.assertFalse(second.external_id)

    def test_same_handle_on_other_network_allowed(self):
        self.make_identity("wilma", self.customer, network="x")
        other = self.make_identity("wilma", self.other_customer, network="bluesky")
        self.assertEqual(other.partner_id, self.other_customer)

    # ------------------------------------------------------------------
    # uniqueness
    # ------------------------------------------------------------------

    def test_duplicate_handle_of_other_contact_refused(self):
        self.make_identity("WilmaT", self.customer)
        with self.assertRaisesRegex(
            ValidationError, r"@WilmaT \(X\) is already linked to Wilma Tester"
        ):
            self.make_identity("@wilmat", self.other_customer)

    def test_duplicate_external_id_of_other_contact_refused(self):
        self.make_identity("wilma_x", self.customer, external_id="4242")
        with self.assertRaisesRegex(ValidationError, "already linked to Wilma Tester"):
            self.make_identity("renamed_wilma", self.other_customer, external_id="4242")

    def test_database_refuses_duplicate_handle(self):
        self.make_identity("DbWilma", self.customer)
        other = self.make_identity("dbotto", self.other_customer)
        with (
            self.assertRaises(IntegrityError) as caught,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            other.write({"handle": "@DBWILMA"})
            other.flush_recordset()
        message = self.Identity._sql_error_to_message(caught.exception)
        self.assertIn("handle is already known on this network", message)

    def test_database_refuses_duplicate_external_id(self):
        self.make_identity("ext_a", external_id="777")
        other = self.make_identity("ext_b")
        with (
            self.assertRaises(IntegrityError) as caught,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            other.write({"external_id": "777"})
            other.flush_recordset()
        message = self.Identity._sql_error_to_message(caught.exception)
        self.assertIn("already known on this network", message)

    def test_same_handle_of_other_account_refused_even_unlinked(self):
        self.make_identity("handle_reused", external_id="111")
        with self.assertRaisesRegex(ValidationError, "known as another account"):
            self.make_identity("handle_reused", external_id="222")
        self.assertEqual(
            self.Identity.search(
                [("handle_normalized", "=", "handle_reused")]
            ).external_id,
            "111",
        )

    def test_unlinked_identity_is_relinked_not_duplicated(self):
        imported = self.make_identity(
            "Stranger42", external_id="9001", followers_count=50
        )
        linked = self.make_identity("@stranger42", self.customer)
        self.assertEqual(linked, imported)
        self.assertEqual(imported.partner_id, self.customer)
        self.assertEqual(imported.external_id, "9001")
        self.assertEqual(
            self.Identity.search_count([("handle_normalized", "=", "stranger42")]), 1
        )

    # ------------------------------------------------------------------
    # link / unlink history
    # ------------------------------------------------------------------

    def test_link_records_who_when_how(self):
        identity = self.make_identity(
            "wilma_linked",
            self.customer,
            link_method="customer_provided",
            link_note="Told us on the phone",
        )
        self.assertEqual(identity.linked_by_id, self.env.user)
        self.assertTrue(identity.linked_at)
        log = " ".join(self.chatter_texts(self.customer))
        self.assertIn("@wilma_linked (X) linked by", log)
        self.assertIn("Given by the customer", log)
        self.assertIn("Told us on the phone", log)

    def test_link_note_is_escaped_in_chatter(self):
        self.make_identity("wilma_html", self.customer, link_note="<b>bold</b>")
        log = " ".join(self.chatter_texts(self.customer))
        self.assertIn("&lt;b&gt;bold&lt;/b&gt;", log)
        self.assertNotIn("<b>bold</b>", log)

    def test_unlink_keeps_identity_and_logs(self):
        identity = self.make_identity("wilma_gone", self.customer)
        identity.with_user(self.agent).action_unlink_partner()
        self.assertTrue(identity.exists())
        self.assertFalse(identity.partner_id)
        self.assertFalse(identity.linked_at)
        log = " ".join(self.chatter_texts(self.customer))
        self.assertIn("@wilma_gone (X) unlinked by wc_agent", log)

    def test_removing_from_contact_tab_unlinks(self):
        identity = self.make_identity("wilma_tab", self.customer)
        self.customer.with_user(self.agent).write(
            {"webcare_identity_ids": [Command.delete(identity.id)]}
        )
        self.assertTrue(identity.exists())
        self.assertFalse(identity.partner_id)
        self.assertFalse(self.customer.webcare_identity_ids)

    def test_move_to_other_contact_logs_on_both(self):
        identity = self.make_identity("wilma_moves", self.customer)
        identity.write(
            {"partner_id": self.other_customer.id, "link_method": "verified_dm"}
        )
        self.assertIn("unlinked by", " ".join(self.chatter_texts(self.customer)))
        self.assertIn(
            "Verified by direct message",
            " ".join(self.chatter_texts(self.other_customer)),
        )

    def test_consent_date_follows_consent(self):
        identity = self.make_identity(
            "wilma_consent", self.customer, consent=True, consent_method="phone"
        )
        self.assertTrue(identity.consent_date)
        self.assertEqual(identity.consent_partner_id, self.customer)
        identity.consent = False  # withdrawn: recorded, and the link ends
        self.assertFalse(identity.consent_date)
        self.assertFalse(identity.partner_id)
        self.assertTrue(identity.consent_withdrawn_at)

    def test_agent_links_by_hand_only_with_consent(self):
        Identity = self.Identity.with_user(self.agent)
        with self.assertRaisesRegex(ValidationError, "only with the customer's"):
            Identity.create(
                {"network": "x", "handle": "wilma_ask", "partner_id": self.customer.id}
            )
        identity = Identity.create(
            {
                "network": "x",
                "handle": "wilma_ask",
                "partner_id": self.customer.id,
                "consent": True,
                "consent_method": "email",
            }
        )
        self.assertEqual(identity.consent_by_id, self.agent)
        # consent is for a link: not on an identity without contact
        stranger = self.make_identity("stranger_ask")
        with self.assertRaisesRegex(ValidationError, "choose the contact first"):
            stranger.with_user(self.agent).write(
                {"consent": True, "consent_method": "phone"}
            )

    def test_identity_count_on_partner(self):
        self.make_identity("count_a", self.customer)
        self.make_identity("count_b", self.customer, network="mastodon")
        self.assertEqual(self.customer.webcare_identity_count, 2)
        action = self.customer.action_view_webcare_identities()
        self.assertEqual(action["domain"], [("partner_id", "=", self.customer.id)])

    # ------------------------------------------------------------------
    # phone numbers
    # ------------------------------------------------------------------

    def test_phone_sanitized_is_e164(self):
        self.assertEqual(self.customer.phone_sanitized, "+31624681357")
        partner = self.env["res.partner"].create(
            {"name": "Uk Caller", "phone": "+44 (0)7911 123456"}
        )
        self.assertEqual(partner.phone_sanitized, "+447911123456")

    def test_phone_sanitized_is_indexed(self):
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes "
            "WHERE tablename = 'res_partner' AND indexdef ILIKE %s",
            ["%(phone_sanitized)%"],
        )
        self.assertTrue(self.env.cr.fetchall())
