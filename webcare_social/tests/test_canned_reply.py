from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from ..tools import counting
from .common import WebcareCase


@tagged("post_install", "-at_install")
class TestCannedReply(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent.name = "Paula van Dijk"
        cls.Canned = cls.env["webcare.canned.reply"]
        cls.identity = cls.Identity.create(
            {"network": "x", "handle": "WilmaT", "name": "Wilma T."}
        )
        cls.ticket = cls.env["helpdesk.ticket"].create(
            {
                "name": "Koffer kwijt",
                "description": "mijn koffer is kwijt",
                "partner_id": cls.customer.id,
                "webcare_identity_id": cls.identity.id,
                "webcare_lang": "nl",
            }
        )

    def canned(self, body, **vals):
        return self.Canned.create({"name": "Test", "body": body, **vals})

    def test_dutch_reply_rendered_for_the_ticket(self):
        reply = self.env.ref("webcare_social.canned_reply_nl_dm")
        text = reply._render(self.ticket, self.agent)
        self.assertTrue(text.startswith("Hoi Wilma, wat vervelend!"), text)
        self.assertIn("Stuur ons een DM met", text)
        self.assertTrue(text.endswith("Groet, Paula"), text)
        self.assertNotIn("{", text)

    def test_english_reply_rendered_for_the_ticket(self):
        reply = self.env.ref("webcare_social.canned_reply_en_phone")
        text = reply._render(self.ticket, self.agent)
        self.assertTrue(text.startswith("Hi Wilma, "), text)
        self.assertIn("Please send us a DM with your phone number", text)
        self.assertIn(self.ticket.number, text)
        self.assertTrue(text.endswith("Paula"), text)

    def test_every_placeholder(self):
        reply = self.canned("{first_name}|{ticket}|{agent}|{handle}")
        self.assertEqual(
            reply._render(self.ticket, self.agent),
            f"Wilma|{self.ticket.number}|Paula|@WilmaT",
        )

    def test_agent_defaults_to_the_current_user(self):
        reply = self.canned("{agent}")
        self.assertEqual(reply.with_user(self.agent)._render(self.ticket), "Paula")

    def test_first_name_from_the_author_when_there_is_no_contact(self):
        stranger = self.Identity.create(
            {"network": "x", "handle": "frequentflyer", "name": "Frank Flyer"}
        )
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Refund",
                "description": "refund?",
                "webcare_identity_id": stranger.id,
            }
        )
        reply = self.canned("Hi {first_name} ({handle})")
        self.assertEqual(reply._render(ticket, self.agent), "Hi Frank (@frequentflyer)")
        stranger.name = False
        self.assertEqual(
            reply._render(ticket, self.agent), "Hi frequentflyer (@frequentflyer)"
        )

    def test_unknown_placeholder_is_refused_with_its_name(self):
        with self.assertRaisesRegex(ValidationError, r"\{voornaam\}"):
            self.canned("Hoi {voornaam}!")
        reply = self.canned("Hoi {first_name}!")
        with self.assertRaisesRegex(ValidationError, r"\{tiket\}"):
            reply.body = "Uw nummer: {tiket}"

    def test_unknown_placeholder_is_left_as_typed(self):
        draft = self.Canned.new({"body": "Hoi {voornaam}, {first_name} {}"})
        self.assertEqual(
            draft._render(self.ticket, self.agent), "Hoi {voornaam}, Wilma {}"
        )

    def test_languages_by_two_letter_code(self):
        codes = dict(self.Canned._lang_selection())
        self.assertEqual(codes["nl"], "Dutch")
        self.assertEqual(codes["en"], "English")
        self.assertNotIn("nl_BE", codes)

    def test_ready_replies_per_language(self):
        phrases = {
            "nl": ("Stuur ons een DM met", "je telefoonnummer"),
            "en": ("Please send us a DM with", "your phone number"),
        }
        for lang, (by_dm, by_phone) in phrases.items():
            replies = self.Canned.search([("lang", "=", lang)])
            offline = replies.filtered(lambda r: r.kind == "offline")
            self.assertEqual(len(offline), 2, lang)
            self.assertGreaterEqual(len(replies - offline), 2, lang)
            texts = [r._render(self.ticket, self.agent) for r in offline]
            self.assertTrue(any(by_dm in text for text in texts), texts)
            self.assertTrue(any(by_phone in text for text in texts), texts)
            for reply in replies:
                text = reply._render(self.ticket, self.agent)
                self.assertTrue(counting.fits(text, "x"), text)

    def test_agents_read_managers_write(self):
        reply = self.env.ref("webcare_social.canned_reply_en_dm")
        self.assertTrue(reply.with_user(self.agent).body)
        with self.assertRaises(AccessError):
            reply.with_user(self.agent).body = "Changed"
        with self.assertRaises(AccessError):
            self.Canned.with_user(self.agent).create({"name": "x", "body": "y"})
        mine = self.Canned.with_user(self.manager).create(
            {"name": "Manager's", "body": "Hi {first_name}"}
        )
        self.assertEqual(mine.lang, "en")
