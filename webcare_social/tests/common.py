from odoo.tests import TransactionCase, new_test_user

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT


def create_users(cls):
    """Give a test class a Webcare agent and manager, a sales user (a plain
    internal user), a portal user and a phone system (Webcare: Telephony)."""
    cls.agent = new_test_user(
        cls.env, login="wc_agent", groups="webcare_social.group_webcare_agent"
    )
    cls.manager = new_test_user(
        cls.env, login="wc_manager", groups="webcare_social.group_webcare_manager"
    )
    cls.sales = new_test_user(cls.env, login="wc_sales", groups="base.group_user")
    cls.portal = new_test_user(cls.env, login="wc_portal", groups="base.group_portal")
    cls.pbx = new_test_user(
        cls.env, login="wc_pbx", groups="webcare_social.group_webcare_telephony"
    )


def use_dutch_company(env):
    """Numbers without a country code are read as Dutch, as at PolderAir."""
    env.company.country_id = env.ref("base.nl")


class WebcareCase(TransactionCase):
    """Users per group and a customer, shared by the webcare_social tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        create_users(cls)
        cls.Identity = cls.env["webcare.identity"]
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Wilma Tester",
                "phone": "06-24681357",
                "country_id": cls.env.ref("base.nl").id,
            }
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Otto Other"})

    def make_identity(self, handle, partner=None, network="x", **vals):
        return self.Identity.create(
            {
                "network": network,
                "handle": handle,
                "partner_id": partner and partner.id,
                **vals,
            }
        )

    def chatter_texts(self, partner):
        return [(m.body and str(m.body)) or "" for m in partner.message_ids]
