from odoo.tests import HttpCase, tagged

from .x_standin import XApiStandin

ACCOUNT_ID = "1500000000000000001"


@tagged("post_install", "-at_install")
class TestChannelTour(HttpCase):
    """A manager imports from the channel form and finds the new message."""

    def setUp(self):
        super().setUp()
        self.standin = XApiStandin().start()
        self.addCleanup(self.standin.stop)
        self.standin.add_user(
            "1690000000000000042", "TourCustomer", "Tour Customer", 12
        )
        self.standin.add_tweet(
            "1690000000000000042",
            "@PolderAir mijn koffer is niet aangekomen",
            lang="nl",
        )
        self.channel = self.env["webcare.channel"].create(
            {
                "name": "Tour channel on X",
                "api_base_url": self.standin.base_url,
                "bearer_token": self.standin.bearer_token,
                "account_external_id": ACCOUNT_ID,
                "account_handle": "PolderAir",
                "state": "connected",
            }
        )

    def test_import_from_channel_form(self):
        self.start_tour(
            "/odoo/webcare-channels", "webcare_social_channel_import", login="admin"
        )
        message = self.channel.webcare_message_ids
        self.assertEqual(message.state, "ticketed")
        self.assertEqual(message.ticket_id.webcare_channel_id, self.channel)
