"""Data portability: a person's data as one JSON file."""

import json
from http import HTTPStatus

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import create_users, use_dutch_company
from .common_x import ANNA_ID, WebcareTeamCase

POST = "waar is mijn koffer, vlucht PA1234"
DM = "Mijn nummer is 06-87654321"
REPLY = "@AnnaWC Sorry Anna, we zoeken het uit"


@tagged("post_install", "-at_install")
class TestExportPersonalData(WebcareTeamCase):
    """``res.partner.webcare_export_personal_data``: what the file holds."""

    def setUp(self):
        super().setUp()
        self.anna.write(
            {"email": "anna@voorbeeld.test", "phone": "06-24681357", "city": "Delft"}
        )
        self.mention(ANNA_ID, POST)
        self.standin.add_dm(ANNA_ID, DM)
        self.fetch()
        self.ticket = self.env["helpdesk.ticket"].search(
            [("partner_id", "=", self.anna.id)]
        )
        self.ticket.with_user(self.agent).webcare_reply(REPLY)
        self.ticket.message_post(
            body="Koffer ligt in Amsterdam", subtype_xmlid="mail.mt_note"
        )
        self.env["webcare.call"].with_user(self.agent).create(
            {"phone": "06-24681357", "note": "Belde over de koffer", "duration": 95}
        )

    def export(self, user=None):
        data = self.anna.with_user(user or self.agent).webcare_export_personal_data()
        json.dumps(data)  # plain data, ready for a JSON file
        return data

    def test_the_contact_and_its_identities(self):
        data = self.export()
        self.assertEqual(data["format"], "webcare_social.personal_data.v1")
        self.assertEqual(data["exported_by"], self.agent.name)
        contact = data["contact"]
        self.assertEqual(
            {k: contact[k] for k in ("id", "name", "email", "phone", "city")},
            {
                "id": self.anna.id,
                "name": "Anna de Vries",
                "email": "anna@voorbeeld.test",
                "phone": "06-24681357",
                "city": "Delft",
            },
        )
        (identity,) = data["identities"]
        self.assertEqual(
            {k: identity[k] for k in ("network", "handle", "external_id", "consent")},
            {
                "network": "x",
                "handle": "AnnaWC",
                "external_id": ANNA_ID,
                "consent": False,
            },
        )
        self.assertEqual(identity["linked_how"], "Linked by an agent")
        self.assertEqual(identity["linked_by"], self.env.user.name)
        self.assertTrue(identity["linked_at"].endswith("+00:00"))

    def test_messages_in_and_out_with_their_ticket(self):
        messages = self.export()["messages"]
        by_text = {m["text"]: m for m in messages}
        self.assertEqual(
            set(by_text), {f"@PolderAir {POST}", DM, REPLY}, "posts, DMs and replies"
        )
        post = by_text[f"@PolderAir {POST}"]
        self.assertEqual(
            (post["network"], post["kind"], post["direction"], post["ticket"]),
            ("x", "mention", "inbound", self.ticket.number),
        )
        self.assertIn("/status/", post["url"])
        self.assertEqual(by_text[DM]["kind"], "dm")
        self.assertEqual(by_text[REPLY]["direction"], "outbound")
        self.assertTrue(all(m["posted_at"] for m in messages))

    def test_calls_and_tickets_with_their_chatter(self):
        data = self.export()
        (call,) = data["calls"]
        self.assertEqual(
            (call["phone"], call["note"], call["duration_seconds"], call["agent"]),
            ("06-24681357", "Belde over de koffer", 95, self.agent.name),
        )
        (ticket,) = data["tickets"]
        self.assertEqual(ticket["number"], self.ticket.number)
        self.assertEqual(ticket["title"], self.ticket.name)
        self.assertEqual(ticket["stage"], self.ticket.stage_id.name)
        self.assertIn(POST, ticket["description"])
        self.assertNotIn("<", ticket["description"], "plain text")
        texts = " ".join(m["text"] for m in ticket["messages"])
        self.assertIn("Koffer ligt in Amsterdam", texts)
        self.assertIn(DM, texts, "a Webcare user reads the DM in the chatter")
        self.assertIn("Sorry Anna", texts)

    def test_only_webcare_users_who_read_the_contact_export(self):
        with self.assertRaises(AccessError):
            self.export(user=self.sales)
        with self.assertRaises(AccessError):
            self.export(user=self.portal)


@tagged("post_install", "-at_install")
class TestPersonalDataRoute(HttpCase):
    """``GET /webcare/partner/<id>/personal-data`` as the logged-in user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        create_users(cls)
        cls.partner = cls.env["res.partner"].create(
            {"name": "Bram Bakker", "email": "bram@voorbeeld.test"}
        )
        cls.env["webcare.identity"].create(
            {
                "network": "mastodon",
                "handle": "bram@mastodon.nl",
                "partner_id": cls.partner.id,
            }
        )
        cls.env["webcare.call"].create(
            {"partner_id": cls.partner.id, "phone": "0612345678", "note": "Vraag"}
        )
        cls.url = f"/webcare/partner/{cls.partner.id}/personal-data"

    def test_download_for_a_webcare_user(self):
        self.authenticate("wc_agent", "wc_agent")
        response = self.url_open(self.url)
        self.assertEqual(response.status_code, HTTPStatus.OK, response.text)
        self.assertEqual(
            response.headers["Content-Type"], "application/json; charset=utf-8"
        )
        day = fields.Date.context_today(self.partner.with_user(self.agent))
        self.assertEqual(
            response.headers["Content-Disposition"],
            f"attachment; filename*=UTF-8''personal-data-contact-{self.partner.id}-"
            f"{day}.json",
        )
        data = response.json()
        self.assertEqual(
            data,
            self.partner.with_user(self.agent).webcare_export_personal_data()
            | {"exported_at": data["exported_at"]},
        )
        self.assertEqual(data["contact"]["name"], "Bram Bakker")
        self.assertEqual(data["identities"][0]["handle"], "bram@mastodon.nl")
        self.assertEqual(data["calls"][0]["note"], "Vraag")

    def test_refused_to_others(self):
        self.authenticate("wc_sales", "wc_sales")  # reads the contact, no Webcare user
        self.assertEqual(self.url_open(self.url).status_code, HTTPStatus.FORBIDDEN)
        self.authenticate("wc_portal", "wc_portal")  # may not read the contact
        self.assertEqual(self.url_open(self.url).status_code, HTTPStatus.NOT_FOUND)
        self.authenticate("wc_agent", "wc_agent")
        missing = "/webcare/partner/999999999/personal-data"
        self.assertEqual(self.url_open(missing).status_code, HTTPStatus.NOT_FOUND)
        self.authenticate(None, None)
        response = self.url_open(self.url, allow_redirects=False)
        self.assertNotEqual(response.status_code, HTTPStatus.OK)
