from odoo.tests import TransactionCase, loaded_demo_data, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_module_installed_with_its_records(self):
        module = self.env["ir.module.module"].search([("name", "=", "webcare_social")])
        self.assertEqual(module.state, "installed")
        self.assertTrue(module.application)
        self.assertTrue(self.env.ref("webcare_social.menu_webcare_root"))
        arch = self.env["res.partner"].get_view(view_type="form")["arch"]
        self.assertIn('name="webcare_identity_ids"', arch)

    def test_partner_phone_index_exists(self):
        self.env.cr.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'webcare_identity'"
        )
        names = {row[0] for row in self.env.cr.fetchall()}
        self.assertIn("webcare_identity_network_external_id_uniq", names)
        self.assertIn("webcare_identity_network_handle_uniq", names)


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """Runs in both test databases: demo records are there exactly when asked for."""

    def test_demo_data_present_only_with_demo(self):
        anna = self.env.ref(
            "webcare_social.partner_demo_anna", raise_if_not_found=False
        )
        if not loaded_demo_data(self.env):
            self.assertFalse(anna)
            self.assertFalse(self.env["webcare.identity"].search_count([]))
            self.assertFalse(self.env["webcare.channel"].search_count([]))
            return
        self.assertEqual(anna.phone_sanitized, "+31612345678")
        self.assertEqual(self.env["res.partner"].name_search("@annadv")[0][0], anna.id)
        demo = self.env["res.partner"].search(
            [
                (
                    "id",
                    "in",
                    [
                        self.env.ref(f"webcare_social.partner_demo_{x}").id
                        for x in (
                            "anna",
                            "jeroen",
                            "sophie",
                            "mark",
                            "emma",
                            "liam",
                            "fleur",
                            "daan",
                            "julia",
                            "thomas",
                            "noor",
                            "priya",
                        )
                    ],
                )
            ]
        )
        self.assertEqual(len(demo), 12)
        self.assertTrue(all(p.phone_sanitized.startswith("+") for p in demo))
        self.assertGreaterEqual(len(demo.webcare_identity_ids), 10)
        self.assertEqual(self.env.company.name, "PolderAir")
        channel = self.env.ref("webcare_social.webcare_channel_demo_x")
        self.assertEqual(channel.state, "draft")  # connected by `make demo`
        self.assertTrue(channel.api_base_url.startswith("http://127.0.0.1:"))
