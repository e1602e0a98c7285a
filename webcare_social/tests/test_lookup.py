"""The caller lookup: res.partner.webcare_lookup and what it finds."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import WebcareCase, create_users, use_dutch_company
from .common_x import ANNA_ID, STRANGER_ID, XChannelCase

PHONE_FORMATS = (
    "+31 6 1357 2468",
    "06-13572468",
    "0031613572468",
    "(06) 1357 2468",
    "+31613572468",
    "06 13 57 24 68",
)


@tagged("post_install", "-at_install")
class TestLookup(WebcareCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        Partner = cls.env["res.partner"]
        cls.karin = Partner.create(
            {
                "name": "Karin Klant",
                "phone": "+31 6 1357 2468",
                "email": "Karin.K@Example.com",
            }
        )
        # the same last eight digits as Karin's mobile, in Berlin
        cls.berta = Partner.create(
            {
                "name": "Berta Berlin",
                "phone": "+49 30 13572468",
                "country_id": cls.env.ref("base.de").id,
            }
        )
        # a Belgian number written the Belgian way
        cls.bram = Partner.create(
            {
                "name": "Bram Belg",
                "phone": "0471 12 34 56",
                "country_id": cls.env.ref("base.be").id,
            }
        )
        # no country: the company's (Dutch) is used
        cls.nico = Partner.create({"name": "Nico Noland", "phone": "(06) 8888 7777"})
        cls.karin_identity = cls.env["webcare.identity"].create(
            {
                "network": "x",
                "handle": "KarinKL",
                "partner_id": cls.karin.id,
                "followers_count": 812,
            }
        )
        cls.Partner = Partner

    def lookup(self, query, user=None, limit=5):
        Partner = self.Partner.with_user(user) if user else self.Partner
        return Partner.webcare_lookup(query, limit=limit)

    def assertFinds(self, query, partner, how, user=None):
        results = self.lookup(query, user)
        self.assertTrue(results, f"{query!r} found nobody")
        self.assertEqual(results[0]["partner_id"], partner.id, query)
        self.assertEqual(results[0]["matched_by"], how, query)
        return results

    # ------------------------------------------------------------------
    # phone numbers
    # ------------------------------------------------------------------

    def test_phone_in_any_format_finds_the_contact(self):
        for typed in PHONE_FORMATS:
            with self.subTest(typed=typed):
                results = self.assertFinds(typed, self.karin, "phone")
                self.assertEqual(len(results), 1)
                self.assertEqual(results[0]["name"], "Karin Klant")

    def test_stored_in_any_format(self):
        self.assertEqual(self.customer.phone_sanitized, "+31624681357")
        self.assertFinds("0031 6 24681357", self.customer, "phone")
        self.assertFinds("+31688887777", self.nico, "phone")
        self.assertFinds("06-88887777", self.nico, "phone")

    def test_other_countries(self):
        for typed in ("+32 471 12 34 56", "0032471123456", "+32471123456"):
            with self.subTest(typed=typed):
                self.assertFinds(typed, self.bram, "phone")
        results = self.assertFinds("+49 30 13572468", self.berta, "phone")
        self.assertEqual(len(results), 1)

    def test_no_false_match_on_a_shared_suffix(self):
        # Karin +31613572468 and Berta +493013572468 both end in 13572468
        self.assertEqual(self.lookup("13572468"), [])
        self.assertEqual(self.lookup("3572468"), [])
        self.assertEqual(
            [r["partner_id"] for r in self.lookup("+31613572468")], [self.karin.id]
        )
        self.assertEqual(
            [r["partner_id"] for r in self.lookup("0049 30 13572468")], [self.berta.id]
        )
        # one digit more or less is another number
        self.assertEqual(self.lookup("+31 6 1357 24689"), [])
        self.assertEqual(self.lookup("+31 6 1357 246"), [])

    def test_unknown_number_finds_nobody(self):
        self.assertEqual(self.lookup("+31 6 1122 3344"), [])
        self.assertEqual(self.lookup("06-11223344"), [])

    def test_no_ilike_on_raw_text(self):
        # a landline in Dieren whose digits contain Karin's: another number
        self.Partner.create({"name": "Dieren Desk", "phone": "0313-572468"})
        self.Partner.create({"name": "Dieren Desk 2", "phone": "0313572468"})
        results = self.lookup("06-13572468")
        self.assertEqual([r["partner_id"] for r in results], [self.karin.id])

    # ------------------------------------------------------------------
    # handles
    # ------------------------------------------------------------------

    def test_handle_in_any_case_with_or_without_at(self):
        for typed in ("@KarinKL", "@karinkl", "@KARINKL", "KarinKL", " @KarinKL "):
            with self.subTest(typed=typed):
                results = self.assertFinds(typed, self.karin, "handle")
                self.assertEqual(results[0]["identity_id"], self.karin_identity.id)

    def test_old_handle_still_finds_the_person(self):
        self.karin_identity.write({"handle": "KarinKlant"})
        old = self.env["webcare.identity.handle"].search(
            [("identity_id", "=", self.karin_identity.id)]
        )
        self.assertEqual(old.handle, "KarinKL")
        self.assertEqual(old.network, "x")
        results = self.assertFinds("@karinkl", self.karin, "handle")
        self.assertEqual(
            results[0]["evidence"], "Used this handle before; now @KarinKlant"
        )
        new = self.assertFinds("@KarinKlant", self.karin, "handle")
        self.assertIsNone(new[0]["evidence"])

    def test_same_handle_again_keeps_no_history(self):
        self.karin_identity.write({"handle": "@karinkl"})  # only the case changed
        self.assertFalse(
            self.env["webcare.identity.handle"].search(
                [("identity_id", "=", self.karin_identity.id)]
            )
        )

    def test_mastodon_handle_looks_like_an_email(self):
        self.env["webcare.identity"].create(
            {
                "network": "mastodon",
                "handle": "@karin@mastodon.nl",
                "partner_id": self.karin.id,
            }
        )
        for typed in ("karin@mastodon.nl", "@Karin@Mastodon.nl"):
            with self.subTest(typed=typed):
                self.assertFinds(typed, self.karin, "handle")

    def test_identity_without_contact(self):
        stranger = self.env["webcare.identity"].create(
            {"network": "x", "handle": "frequentflyer", "name": "F. Flyer"}
        )
        results = self.lookup("@FrequentFlyer")
        self.assertEqual(len(results), 1)
        self.assertIsNone(results[0]["partner_id"])
        self.assertEqual(results[0]["identity_id"], stranger.id)
        self.assertEqual(results[0]["name"], "F. Flyer")
        self.assertEqual(results[0]["identities"][0]["handle"], "frequentflyer")

    # ------------------------------------------------------------------
    # e-mail, ticket number, name
    # ------------------------------------------------------------------

    def test_email_in_any_case(self):
        for typed in ("karin.k@example.com", "KARIN.K@EXAMPLE.COM"):
            with self.subTest(typed=typed):
                self.assertFinds(typed, self.karin, "email")
        self.assertEqual(self.lookup("someone.else@example.com"), [])

    def test_ticket_number(self):
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Koffer kwijt",
                "description": "<p>Koffer kwijt</p>",
                "partner_id": self.customer.id,
            }
        )
        self.assertTrue(ticket.number.startswith("HT"), ticket.number)
        for typed in (ticket.number, ticket.number.lower()):
            with self.subTest(typed=typed):
                results = self.assertFinds(typed, self.customer, "ticket")
                self.assertEqual(
                    results[0]["evidence"], f"Customer of ticket {ticket.number}"
                )
                self.assertEqual(
                    [t["number"] for t in results[0]["open_tickets"]], [ticket.number]
                )

    def test_ticket_without_customer_finds_nobody(self):
        ticket = self.env["helpdesk.ticket"].create(
            {"name": "Anonymous", "description": "<p>?</p>"}
        )
        self.assertEqual(self.lookup(ticket.number), [])

    def test_name(self):
        self.assertFinds("Wilma Tester", self.customer, "name")
        self.assertFinds("tester", self.customer, "name")
        self.assertFinds("Otto", self.other_customer, "name")
        self.assertEqual(self.lookup("Nobody Byatname"), [])

    def test_exact_name_first_and_limit(self):
        wilma = self.Partner.create({"name": "Wilma"})
        results = self.lookup("wilma")
        self.assertEqual(results[0]["partner_id"], wilma.id)
        self.assertIn(self.customer.id, [r["partner_id"] for r in results])
        self.assertEqual(len(self.lookup("wilma", limit=1)), 1)

    def test_each_person_once_with_the_strongest_match(self):
        # Karin's handle is also her first name: found by handle, once
        self.karin_identity.handle = "karin"
        results = self.lookup("karin")
        self.assertEqual([r["partner_id"] for r in results], [self.karin.id])
        self.assertEqual(results[0]["matched_by"], "handle")

    def test_result_describes_the_person(self):
        ticket = self.env["helpdesk.ticket"].create(
            {
                "name": "Stoel kapot",
                "description": "<p>Stoel kapot</p>",
                "partner_id": self.karin.id,
            }
        )
        closed = self.env["helpdesk.ticket"].create(
            {
                "name": "Opgelost",
                "description": "<p>ok</p>",
                "partner_id": self.karin.id,
                "stage_id": self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done").id,
            }
        )
        (result,) = self.lookup("@KarinKL")
        self.assertEqual(
            result["identities"],
            [
                {
                    "id": self.karin_identity.id,
                    "network": "x",
                    "handle": "KarinKL",
                    "name": "",
                    "followers": 812,
                    "profile_url": "https://x.com/KarinKL",
                }
            ],
        )
        numbers = [t["number"] for t in result["open_tickets"]]
        self.assertEqual(numbers, [ticket.number])
        self.assertNotIn(closed.number, numbers)
        self.assertEqual(result["open_tickets"][0]["stage"], ticket.stage_id.name)
        self.assertEqual(result["last_messages"], [])

    # ------------------------------------------------------------------
    # who may
    # ------------------------------------------------------------------

    def test_internal_users_may_look_up(self):
        self.assertFinds("06-13572468", self.karin, "phone", user=self.sales)
        self.assertFinds("@karinkl", self.karin, "handle", user=self.sales)
        self.assertFinds("06-13572468", self.karin, "phone", user=self.agent)

    def test_portal_may_not(self):
        with self.assertRaises(AccessError):
            self.lookup("06-13572468", user=self.portal)
        with self.assertRaises(AccessError):
            self.lookup("Karin", user=self.portal)

    def test_empty_query(self):
        self.assertEqual(self.lookup(""), [])
        self.assertEqual(self.lookup("   "), [])

    def test_screen_data_for_an_unknown_caller(self):
        screen = self.Partner.webcare_lookup_screen(phone="06-11223344")
        self.assertEqual(screen["results"], [])
        self.assertEqual(screen["unknown"]["phone"], "+31611223344")
        self.assertIsNone(screen["unknown"]["name"])
        screen = self.Partner.webcare_lookup_screen(query="Nobody Byatname")
        self.assertEqual(
            screen["unknown"], {"phone": None, "email": None, "name": "Nobody Byatname"}
        )
        screen = self.Partner.webcare_lookup_screen(email="new@example.com")
        self.assertEqual(
            screen["unknown"], {"phone": None, "email": "new@example.com", "name": None}
        )
        # a handle or ticket number with digits is no phone number
        for query in ("@nobody1980", "HT99999"):
            with self.subTest(query=query):
                unknown = self.Partner.webcare_lookup_screen(query=query)["unknown"]
                self.assertIsNone(unknown["phone"])
        # a number that is not valid is still what was typed
        screen = self.Partner.webcare_lookup_screen(phone="06-1234567")
        self.assertEqual(screen["unknown"]["phone"], "06-1234567")
        self.assertIsNone(screen["unknown"]["name"])

    def test_screen_data_opens_the_first_timeline(self):
        screen = self.Partner.webcare_lookup_screen(handle="KarinKL")
        self.assertEqual(screen["query"], "@KarinKL")
        first = screen["results"][0]
        self.assertEqual(first["partner_id"], self.karin.id)
        self.assertEqual(first["email"], "Karin.K@Example.com")
        self.assertIn("timeline", first)
        self.assertIsNone(screen["unknown"])


@tagged("post_install", "-at_install")
class TestLookupEvidence(XChannelCase):
    """Numbers customers sent us in DMs and posts recognise their author."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        create_users(cls)
        cls.Partner = cls.env["res.partner"]

    def dm_number(self, author_id=STRANGER_ID, text=None):
        self.standin.add_dm(
            author_id,
            text
            or "Mijn nummer is 06-87654321, bel gerust na 9 uur. Boekingscode KZ4RT7.",
            created_at="2026-11-20T10:00:00Z",
        )
        return self.fetch()[-1]

    def stranger(self):
        return self.env["webcare.identity"].search([("external_id", "=", STRANGER_ID)])

    def test_evidence_is_recorded_when_ticketed(self):
        message = self.dm_number()
        self.assertEqual(message.state, "ticketed")
        found = {(e.kind, e.value) for e in message.evidence_ids}
        self.assertEqual(found, {("phone", "+31687654321"), ("reference", "KZ4RT7")})
        phone = message.evidence_ids.filtered(lambda e: e.kind == "phone")
        self.assertTrue(phone.private)
        self.assertEqual(phone.identity_id, self.stranger())
        self.assertEqual(phone.found_at, message.posted_at)

    def test_caller_recognised_through_a_dm_without_contact(self):
        self.dm_number()
        partners_before = self.Partner.search_count([])
        for typed in ("06-87654321", "+31 6 8765 4321", "0031687654321"):
            with self.subTest(typed=typed):
                (result,) = self.Partner.webcare_lookup(typed)
                self.assertIsNone(result["partner_id"])
                self.assertEqual(result["identity_id"], self.stranger().id)
                self.assertEqual(result["matched_by"], "dm_phone")
                self.assertEqual(result["name"], "F. Flyer")
                self.assertEqual(
                    result["evidence"],
                    "Probably @frequentflyer: sent this number by DM on 20 Nov",
                )
                self.assertEqual(result["identities"][0]["followers"], 40)
                self.assertIn("06-87654321", result["last_messages"][0]["text"])
        self.assertEqual(self.Partner.search_count([]), partners_before)

    def test_number_in_a_public_post(self):
        self.mention(STRANGER_ID, "bel me terug op 06 87654321 aub")
        self.fetch()
        (result,) = self.Partner.webcare_lookup("06-87654321")
        self.assertEqual(result["matched_by"], "dm_phone")
        self.assertIn("sent this number in a post on", result["evidence"])

    def test_email_sent_by_dm(self):
        self.dm_number(text="mail me: F.Flyer@Example.org")
        (result,) = self.Partner.webcare_lookup("f.flyer@example.org")
        self.assertEqual(result["matched_by"], "dm_email")
        self.assertEqual(result["identity_id"], self.stranger().id)
        self.assertIn("sent this e-mail address by DM", result["evidence"])

    def test_known_author_brings_their_contact(self):
        self.dm_number(author_id=ANNA_ID, text="bel me op 06 55554444")
        (result,) = self.Partner.webcare_lookup("06-55554444")
        self.assertEqual(result["partner_id"], self.anna.id)
        self.assertEqual(result["matched_by"], "dm_phone")
        self.assertIn("Probably @AnnaWC", result["evidence"])

    def test_the_contact_with_the_number_comes_first(self):
        owner = self.Partner.create({"name": "Number Owner", "phone": "+31687654321"})
        self.dm_number()
        results = self.Partner.webcare_lookup("06-87654321")
        self.assertEqual(
            [(r["partner_id"], r["matched_by"]) for r in results],
            [(owner.id, "phone"), (None, "dm_phone")],
        )

    def test_link_caller_requires_consent(self):
        self.dm_number()
        stranger = self.stranger()
        partners = self.Partner.search_count([])
        with self.assertRaisesRegex(UserError, "link it only when they agree"):
            stranger.with_user(self.agent).webcare_link_caller(phone="06-87654321")
        ruud = self.Partner.create({"name": "Ruud van den Berg"})
        with self.assertRaisesRegex(UserError, "link it only when they agree"):
            stranger.with_user(self.agent).webcare_link_caller(partner_id=ruud.id)
        self.assertFalse(stranger.partner_id)
        self.assertEqual(self.Partner.search_count([]), partners + 1)  # only Ruud
        # the lookup's buttons open the consent step, which asks the same
        step = Form(
            self.env["webcare.identity.link"]
            .with_user(self.agent)
            .with_context(
                default_identity_id=stranger.id,
                default_phone="06-87654321",
                default_new_contact=True,
            )
        )
        self.assertEqual(step.consent_method, "phone")
        with self.assertRaisesRegex(UserError, "only with the customer's consent"):
            step.save().action_link()
        self.assertFalse(stranger.partner_id)
        step.consent = True
        step.save().action_link()
        self.assertEqual(stranger.partner_id.name, "F. Flyer")
        self.assertEqual(stranger.partner_id.phone_sanitized, "+31687654321")
        self.assertEqual(
            (stranger.consent, stranger.consent_method, stranger.consent_by_id),
            (True, "phone", self.agent),
        )

    def test_agent_links_the_caller_in_one_click(self):
        self.dm_number()
        stranger = self.stranger()
        partner_id = stranger.with_user(self.agent).webcare_link_caller(
            phone="06-87654321", consent_method="phone"
        )
        partner = self.Partner.browse(partner_id)
        self.assertEqual(partner.name, "F. Flyer")
        self.assertEqual(partner.phone_sanitized, "+31687654321")
        self.assertEqual(stranger.partner_id, partner)
        self.assertEqual(stranger.link_method, "agent")
        self.assertEqual(stranger.linked_by_id, self.agent)
        self.assertIn("caller of 06-87654321", stranger.link_note)
        self.assertEqual(
            (stranger.consent_method, stranger.consent_partner_id),
            ("phone", partner),
        )
        self.assertTrue(stranger.consent_date)
        # the DM and its ticket came along, and the number now finds the contact
        self.assertEqual(stranger.message_ids.partner_id, partner)
        self.assertEqual(stranger.message_ids.ticket_id.partner_id, partner)
        (result,) = self.Partner.webcare_lookup("06-87654321")
        self.assertEqual(
            (result["partner_id"], result["matched_by"]), (partner.id, "phone")
        )

    def test_link_caller_to_an_existing_contact(self):
        self.dm_number()
        ruud = self.Partner.create({"name": "Ruud van den Berg"})
        stranger = self.stranger()
        self.assertEqual(
            stranger.with_user(self.agent).webcare_link_caller(
                phone="06-87654321", partner_id=ruud.id, consent_method="phone"
            ),
            ruud.id,
        )
        self.assertEqual(stranger.partner_id, ruud)
        self.assertEqual(ruud.phone, "06-87654321")

    def test_link_caller_never_steals_an_identity(self):
        other = self.Partner.create({"name": "Someone Else"})
        with self.assertRaisesRegex(ValidationError, "already linked to Anna de Vries"):
            self.anna_identity.with_user(self.agent).webcare_link_caller(
                phone="06-87654321", partner_id=other.id, consent_method="phone"
            )
        self.assertEqual(self.anna_identity.partner_id, self.anna)
