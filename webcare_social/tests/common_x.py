from odoo.tests import TransactionCase

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from .common import create_users, use_dutch_company
from .x_standin import XApiStandin

ACCOUNT_ID = "1500000000000000001"
ANNA_ID = "1690000000000000011"
STRANGER_ID = "1700000000000000099"


class XChannelCase(TransactionCase):
    """A connected X channel talking to a local X API stand-in on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.standin = XApiStandin().start()
        cls.addClassCleanup(cls.standin.stop)
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Webcare NL"})
        cls.channel = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir on X",
                "api_base_url": cls.standin.base_url,
                "team_id": cls.team.id,
                "bearer_token": cls.standin.bearer_token,
                "api_key": cls.standin.consumer_key,
                "api_key_secret": cls.standin.consumer_secret,
                "access_token": cls.standin.access_token,
                "access_token_secret": cls.standin.access_token_secret,
            }
        )
        cls.anna = cls.env["res.partner"].create({"name": "Anna de Vries"})
        cls.anna_identity = cls.env["webcare.identity"].create(
            {
                "network": "x",
                "handle": "AnnaWC",
                "external_id": ANNA_ID,
                "partner_id": cls.anna.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.standin.load({})
        self.standin.add_user(ANNA_ID, "AnnaWC", "Anna de Vries", followers_count=812)
        self.standin.add_user(STRANGER_ID, "frequentflyer", "F. Flyer", 40)
        self.channel.write(
            {"account_external_id": ACCOUNT_ID, "account_handle": "PolderAir"}
        )
        self.channel.state = "connected"

    # helpers ------------------------------------------------------------

    def fetch(self):
        self.channel.action_fetch()
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id)], order="id"
        )

    def message(self, external_id):
        return self.env["webcare.message"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", external_id)]
        )

    def mention(self, author_id, text, **options):
        return self.standin.add_tweet(author_id, f"@PolderAir {text}", **options)


class WebcareTeamCase(XChannelCase):
    """An X channel of a Dutch company, users of every group, the agent in its team."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        create_users(cls)
        cls.team.user_ids = [(4, cls.agent.id)]
