from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import WebcareCase


@tagged("post_install", "-at_install")
class TestSecurity(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.identity = cls.env["webcare.identity"].create(
            {"network": "x", "handle": "SecWilma", "partner_id": cls.customer.id}
        )

    def test_groups_hang_under_helpdesk(self):
        agent_group = self.env.ref("webcare_social.group_webcare_agent")
        manager_group = self.env.ref("webcare_social.group_webcare_manager")
        self.assertEqual(
            agent_group.privilege_id.category_id,
            self.env.ref("helpdesk_mgmt.module_helpdesk_category"),
        )
        self.assertIn(agent_group, manager_group.implied_ids)
        self.assertIn(
            self.env.ref("helpdesk_mgmt.group_helpdesk_user_team"),
            agent_group.all_implied_ids,
        )
        self.assertIn(manager_group, self.env.ref("base.user_admin").all_group_ids)

    def test_agent_links_and_edits_but_cannot_delete(self):
        Identity = self.env["webcare.identity"].with_user(self.agent)
        created = Identity.create(
            {
                "network": "mastodon",
                "handle": "wilma@mastodon.nl",
                "partner_id": self.customer.id,
                "consent": True,
                "consent_method": "phone",
            }
        )
        created.write({"link_note": "Gave it at the desk"})
        self.assertEqual(created.linked_by_id, self.agent)
        self.assertEqual(created.consent_by_id, self.agent)
        created.action_withdraw_consent()
        self.assertEqual(created.consent_withdrawn_by_id, self.agent)
        with self.assertRaises(AccessError):
            created.unlink()
        self.assertTrue(self.customer.with_user(self.agent).webcare_can_edit_identities)

    def test_manager_may_delete(self):
        self.identity.with_user(self.manager).unlink()
        self.assertFalse(self.identity.exists())

    def test_internal_user_reads_only(self):
        partner = self.customer.with_user(self.sales)
        self.assertEqual(partner.webcare_identity_ids.handle, "SecWilma")
        self.assertFalse(partner.webcare_can_edit_identities)
        with self.assertRaises(AccessError):
            self.env["webcare.identity"].with_user(self.sales).create(
                {"network": "x", "handle": "sales_try", "partner_id": self.customer.id}
            )
        with self.assertRaises(AccessError):
            self.identity.with_user(self.sales).write({"handle": "hijacked"})

    def test_portal_cannot_read(self):
        with self.assertRaises(AccessError):
            self.identity.with_user(self.portal).read(["handle"])

    def test_every_model_has_access_rules(self):
        models = self.env["ir.model"].search(
            [
                ("model", "=like", "webcare.%"),
                ("transient", "=", False),
                ("abstract", "=", False),
            ]
        )
        self.assertTrue(models)
        for model in models:
            self.assertTrue(
                self.env["ir.model.access"].search_count([("model_id", "=", model.id)]),
                f"{model.model} has no access rules",
            )
