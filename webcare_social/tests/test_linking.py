"""Linking, so recognition grows by itself: tickets, retro-links, suggestions, merge."""

from lxml import etree

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common import create_users, use_dutch_company
from .common_x import ACCOUNT_ID, ANNA_ID, STRANGER_ID, XChannelCase


class LinkingCase(XChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        use_dutch_company(cls.env)
        create_users(cls)
        cls.team.user_ids = [Command.link(cls.agent.id)]
        cls.Partner = cls.env["res.partner"]
        cls.ruud = cls.Partner.create({"name": "Ruud van den Berg"})

    def stranger(self):
        return self.env["webcare.identity"].search([("external_id", "=", STRANGER_ID)])

    def stranger_ticket(self, text="mijn koffer is kwijt"):
        self.mention(STRANGER_ID, text)
        return self.fetch()[-1].ticket_id

    def chatter(self, partner):
        return " ".join(str(m.body) for m in partner.message_ids)


@tagged("post_install", "-at_install")
class TestLinkFromTicket(LinkingCase):
    """Setting a ticket's contact links its author only with consent."""

    def consent_step(self, ticket):
        """The consent step the ticket's button opens, as the agent sees it."""
        action = ticket.with_user(self.agent).action_webcare_link_author()
        self.assertEqual(action["res_model"], "webcare.identity.link")
        self.assertEqual(action["target"], "new")
        return Form(
            self.env["webcare.identity.link"]
            .with_user(self.agent)
            .with_context(**action["context"])
        )

    def test_no_consent_links_nothing_and_the_ticket_says_why(self):
        ticket = self.stranger_ticket()
        self.assertFalse(ticket.partner_id)
        self.assertFalse(ticket.webcare_link_hint)
        ticket.with_user(self.agent).partner_id = self.ruud
        stranger = self.stranger()
        self.assertFalse(stranger.partner_id)
        self.assertFalse(stranger.message_ids.partner_id)
        self.assertEqual(
            ticket.with_user(self.agent).webcare_link_hint,
            "@frequentflyer is not linked to Ruud van den Berg: no consent "
            "recorded for X. Ask the customer, then link with consent.",
        )
        self.assertNotIn("frequentflyer", self.chatter(self.ruud))
        # the form shows the line with the button to the consent step
        arch = (
            self.env["helpdesk.ticket"]
            .with_user(self.agent)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        banner = etree.fromstring(arch).xpath(
            "//div[contains(@class, 'o_webcare_link_hint')]"
        )[0]
        self.assertEqual(banner.get("invisible"), "not webcare_link_hint")
        self.assertTrue(banner.xpath(".//field[@name='webcare_link_hint']"))
        self.assertTrue(banner.xpath(".//button[@name='action_webcare_link_author']"))
        # the author's next post is still nobody's
        self.mention(STRANGER_ID, "en nu?")
        self.assertFalse(self.fetch()[-1].ticket_id.partner_id)

    def test_consent_given_links_with_who_how_and_when(self):
        ticket = self.stranger_ticket()
        ticket.with_user(self.agent).partner_id = self.ruud
        step = self.consent_step(ticket)
        self.assertEqual(step.partner_id, self.ruud)
        self.assertFalse(step.consent)
        wizard = step.save()
        with self.assertRaisesRegex(UserError, "only with the customer's consent"):
            wizard.action_link()
        self.assertFalse(self.stranger().partner_id)
        step.consent = True
        step.consent_method = "dm"
        step.save().action_link()
        stranger = self.stranger()
        self.assertEqual(stranger.partner_id, self.ruud)
        self.assertEqual(
            (stranger.link_method, stranger.linked_by_id), ("agent", self.agent)
        )
        self.assertEqual(
            stranger.link_note,
            f"Linked from ticket {ticket.number} by {self.agent.name}.",
        )
        self.assertTrue(stranger.consent)
        self.assertEqual(stranger.consent_method, "dm")
        self.assertEqual(stranger.consent_partner_id, self.ruud)
        self.assertEqual(stranger.consent_by_id, self.agent)
        self.assertTrue(stranger.consent_date)
        self.assertFalse(ticket.webcare_link_hint)
        self.assertEqual(stranger.message_ids.partner_id, self.ruud)
        log = self.chatter(self.ruud)
        self.assertIn(
            f"@frequentflyer (X) linked by {self.agent.name} (Linked by an agent)", log
        )
        self.assertIn(
            "Consent for @frequentflyer (X) given by Ruud van den Berg (In a direct "
            f"message), recorded by {self.agent.name}.",
            log,
        )
        # the author's next post is the contact's straight away
        self.mention(STRANGER_ID, "en nu?")
        self.assertEqual(self.fetch()[-1].ticket_id.partner_id, self.ruud)

    def test_contact_who_agreed_for_the_network_is_linked_by_itself(self):
        ruud_on_x = (
            self.env["webcare.identity"]
            .with_user(self.agent)
            .create(
                {
                    "network": "x",
                    "handle": "RuudOpX",
                    "partner_id": self.ruud.id,
                    "consent": True,
                    "consent_method": "phone",
                }
            )
        )
        ticket = self.stranger_ticket()
        ticket.with_user(self.agent).partner_id = self.ruud
        stranger = self.stranger()
        self.assertEqual(stranger.partner_id, self.ruud)
        self.assertEqual(stranger.linked_by_id, self.agent)
        self.assertEqual(
            (stranger.consent, stranger.consent_method, stranger.consent_partner_id),
            (True, "phone", self.ruud),
        )
        self.assertEqual(stranger.consent_date, ruud_on_x.consent_date)
        self.assertEqual(
            stranger.link_note,
            f"Linked from ticket {ticket.number} by {self.agent.name}, with the "
            "consent given for @RuudOpX (X).",
        )
        self.assertFalse(ticket.webcare_link_hint)
        self.assertIn("@frequentflyer (X) linked by", self.chatter(self.ruud))

    def test_consent_for_another_network_does_not_count(self):
        self.env["webcare.identity"].create(
            {
                "network": "mastodon",
                "handle": "ruud@mastodon.nl",
                "partner_id": self.ruud.id,
                "consent": True,
                "consent_method": "email",
            }
        )
        # nor does a link made without consent (an import)
        self.env["webcare.identity"].create(
            {"network": "x", "handle": "RuudImport", "partner_id": self.ruud.id}
        )
        ticket = self.stranger_ticket()
        ticket.with_user(self.agent).partner_id = self.ruud
        self.assertFalse(self.stranger().partner_id)
        self.assertIn("no consent recorded for X", ticket.webcare_link_hint)

    def test_non_social_ticket_links_nothing(self):
        ticket = self.env["helpdesk.ticket"].create(
            {"name": "Telefoon", "description": "<p>t</p>"}
        )
        ticket.partner_id = self.ruud
        self.assertFalse(self.ruud.webcare_identity_ids)
        self.assertFalse(ticket.webcare_link_hint)

    def test_identity_of_someone_else_moves_only_with_consent(self):
        self.mention(ANNA_ID, "mijn koffer")
        ticket = self.fetch().ticket_id
        self.assertEqual(ticket.partner_id, self.anna)
        self.assertFalse(ticket.webcare_author_conflict)
        ticket.with_user(self.agent).partner_id = self.ruud
        self.assertEqual(self.anna_identity.partner_id, self.anna)  # not moved silently
        self.assertTrue(ticket.webcare_author_conflict)
        self.assertFalse(ticket.webcare_link_hint)  # the conflict line says it
        self.assertEqual(ticket.webcare_author_partner_id, self.anna)
        step = self.consent_step(ticket)
        self.assertEqual(step.current_partner_id, self.anna)
        step.consent = True
        step.consent_method = "phone"
        step.save().action_link()
        self.assertEqual(self.anna_identity.partner_id, self.ruud)
        self.assertEqual(self.anna_identity.consent_partner_id, self.ruud)
        self.assertFalse(ticket.webcare_author_conflict)
        self.assertIn(
            f"@AnnaWC (X) unlinked by {self.agent.name}", self.chatter(self.anna)
        )
        self.assertIn(
            f"@AnnaWC (X) linked by {self.agent.name}", self.chatter(self.ruud)
        )

    def test_link_author_needs_a_contact(self):
        ticket = self.stranger_ticket()
        with self.assertRaises(UserError):
            ticket.with_user(self.agent).action_webcare_link_author()


@tagged("post_install", "-at_install")
class TestConsent(LinkingCase):
    """By hand on the Social tab: consent asked, recorded, withdrawn."""

    def add_on_social_tab(self, handle, **consent):
        self.ruud.with_user(self.agent).write(
            {
                "webcare_identity_ids": [
                    Command.create({"network": "x", "handle": handle, **consent})
                ]
            }
        )
        return self.ruud.webcare_identity_ids.filtered(
            lambda i: i.handle == handle.lstrip("@")
        )

    def test_social_tab_asks_for_consent(self):
        with self.assertRaisesRegex(
            ValidationError, "only with the customer's consent"
        ):
            self.add_on_social_tab("@RuudVDB")
        with self.assertRaisesRegex(ValidationError, "Say how the customer agreed"):
            self.add_on_social_tab("@RuudVDB", consent=True)
        self.assertFalse(self.ruud.webcare_identity_ids)
        identity = self.add_on_social_tab(
            "@RuudVDB", consent=True, consent_method="written"
        )
        self.assertEqual(identity.partner_id, self.ruud)
        self.assertEqual(
            (identity.consent_partner_id, identity.consent_by_id),
            (self.ruud, self.agent),
        )
        self.assertIn(
            "given by Ruud van den Berg (In writing or on a form), recorded by "
            f"{self.agent.name}",
            self.chatter(self.ruud),
        )

    def test_consent_given_later_on_an_existing_link(self):
        identity = self.env["webcare.identity"].create(
            {"network": "x", "handle": "RuudOud", "partner_id": self.ruud.id}
        )  # imported, without consent
        self.assertIn("No consent recorded.", self.chatter(self.ruud))
        with self.assertRaisesRegex(ValidationError, "Say how"):
            identity.with_user(self.agent).consent = True
        identity.with_user(self.agent).write(
            {"consent": True, "consent_method": "email"}
        )
        self.assertEqual(identity.consent_by_id, self.agent)
        self.assertEqual(identity.consent_partner_id, self.ruud)
        self.assertIn(
            "Consent for @RuudOud (X) given by Ruud van den Berg (By e-mail)",
            self.chatter(self.ruud),
        )

    def test_withdrawal_is_recorded_and_unlinks(self):
        identity = self.add_on_social_tab(
            "@RuudVDB", consent=True, consent_method="phone"
        )
        identity.with_user(self.agent).action_withdraw_consent()
        self.assertTrue(identity.exists())
        self.assertFalse(identity.partner_id)
        self.assertFalse(identity.consent)
        self.assertFalse(identity.consent_method)
        self.assertEqual(identity.consent_withdrawn_by_id, self.agent)
        self.assertTrue(identity.consent_withdrawn_at)
        self.assertIn(
            "Ruud van den Berg withdrew their consent for @RuudVDB (X); recorded "
            f"by {self.agent.name}. The identity is unlinked",
            self.chatter(self.ruud),
        )
        # Ruud has no consent for X any more: his tickets link nobody by themselves
        ticket = self.stranger_ticket()
        ticket.with_user(self.agent).partner_id = self.ruud
        self.assertFalse(self.stranger().partner_id)
        self.assertIn("no consent recorded for X", ticket.webcare_link_hint)

    def test_unticking_consent_on_the_social_tab_is_a_withdrawal(self):
        identity = self.add_on_social_tab(
            "@RuudVDB", consent=True, consent_method="phone"
        )
        self.ruud.with_user(self.agent).write(
            {"webcare_identity_ids": [Command.update(identity.id, {"consent": False})]}
        )
        self.assertFalse(identity.partner_id)
        self.assertTrue(identity.consent_withdrawn_at)
        self.assertIn("withdrew their consent", self.chatter(self.ruud))

    def test_unlinking_ends_the_consent(self):
        identity = self.add_on_social_tab(
            "@RuudVDB", consent=True, consent_method="phone"
        )
        identity.with_user(self.agent).action_unlink_partner()
        self.assertFalse(identity.consent)
        self.assertFalse(identity.consent_partner_id)
        self.assertFalse(identity.consent_withdrawn_at)  # unlinked, not withdrawn
        log = self.chatter(self.ruud)
        self.assertIn(f"@RuudVDB (X) unlinked by {self.agent.name}", log)
        self.assertIn("The consent recorded for it ends with the link.", log)
        # linking it again asks again
        with self.assertRaisesRegex(ValidationError, "consent"):
            identity.with_user(self.agent).partner_id = self.ruud


@tagged("post_install", "-at_install")
class TestRetroLinking(LinkingCase):
    def test_adding_a_handle_links_earlier_messages_and_tickets(self):
        first = self.mention(STRANGER_ID, "mijn koffer is kwijt")
        self.standin.add_tweet(
            ACCOUNT_ID,
            "@frequentflyer we kijken",
            in_reply_to=first["id"],
            in_mentions=True,
        )
        self.mention(STRANGER_ID, "andere vraag: stoelkeuze")
        self.standin.add_dm(STRANGER_ID, "hier mijn boekingscode KZ4RT7")
        messages = self.fetch()
        stranger = self.stranger()
        tickets = messages.ticket_id
        self.assertEqual(len(tickets), 2)  # the DM joined the author's newest ticket
        self.assertFalse(tickets.partner_id)
        our_reply = messages.filtered(lambda m: m.direction == "outbound")
        self.assertFalse(our_reply.partner_id)
        # an agent types the handle on Ruud's Social tab, as Ruud agreed
        self.ruud.with_user(self.agent).write(
            {
                "webcare_identity_ids": [
                    Command.create(
                        {
                            "network": "x",
                            "handle": "@FrequentFlyer",
                            "consent": True,
                            "consent_method": "phone",
                        }
                    )
                ]
            }
        )
        self.assertEqual(self.ruud.webcare_identity_ids, stranger)
        self.assertEqual(tickets.partner_id, self.ruud)
        self.assertEqual(set(tickets.mapped("partner_name")), {"Ruud van den Berg"})
        self.assertEqual(messages.partner_id, self.ruud)
        self.assertEqual(our_reply.partner_id, self.ruud)
        self.assertIn(
            "Its 3 earlier messages and 2 tickets are now on this contact.",
            self.chatter(self.ruud),
        )
        # and the timeline shows them
        kinds = {e["kind"] for e in self.ruud.with_user(self.agent).webcare_timeline()}
        self.assertEqual(kinds, {"post", "dm", "ticket_opened"})

    def test_tickets_of_another_contact_are_left_alone(self):
        ticket = self.stranger_ticket()
        otto = self.Partner.create({"name": "Otto"})
        ticket.write({"partner_id": otto.id})  # Otto gave no consent: not linked
        self.assertFalse(self.stranger().partner_id)
        self.stranger().write({"partner_id": self.ruud.id})
        self.assertEqual(ticket.partner_id, otto)

    def test_calls_recognised_through_the_identity_follow(self):
        self.standin.add_dm(STRANGER_ID, "bel me: 06 87654321")
        self.fetch()
        call = self.env["webcare.call"].create({"phone": "06-87654321"})
        self.assertEqual(call.identity_id, self.stranger())
        self.assertFalse(call.partner_id)
        self.stranger().with_user(self.agent).write(
            {"partner_id": self.ruud.id, "consent": True, "consent_method": "phone"}
        )
        self.assertEqual(call.partner_id, self.ruud)

    def test_changed_handle_is_kept_and_still_finds_the_person(self):
        self.mention(ANNA_ID, "eerste")
        self.fetch()
        self.standin.rename_user(ANNA_ID, "AnnaOnderweg")
        self.mention(ANNA_ID, "nieuwe naam, zelfde ik")
        self.fetch()
        self.assertEqual(self.anna_identity.handle, "AnnaOnderweg")
        self.assertEqual(
            self.anna_identity.previous_handle_ids.mapped("handle"), ["AnnaWC"]
        )
        (result,) = self.Partner.with_user(self.sales).webcare_lookup("@annawc")
        self.assertEqual(result["partner_id"], self.anna.id)
        self.assertEqual(result["matched_by"], "handle")
        self.assertEqual(
            result["evidence"], "Used this handle before; now @AnnaOnderweg"
        )


@tagged("post_install", "-at_install")
class TestSuggestions(LinkingCase):
    def suggestions(self, ticket):
        return ticket.with_user(self.agent).webcare_author_suggestions()

    def test_number_sent_by_dm(self):
        self.ruud.phone = "+31 6 8765 4321"
        self.standin.add_dm(STRANGER_ID, "Mijn nummer is 06-87654321, bel gerust")
        ticket = self.fetch().ticket_id
        (first, *_rest) = self.suggestions(ticket)
        self.assertEqual(first["partner_id"], self.ruud.id)
        self.assertEqual(first["score"], 100)
        self.assertEqual(
            first["evidence"], ["has the number +31687654321 they sent us"]
        )

    def test_email_sent_by_dm(self):
        self.ruud.email = "Ruud.vdBerg@Example.org"
        self.standin.add_dm(STRANGER_ID, "mail gerust: ruud.vdberg@example.org")
        ticket = self.fetch().ticket_id
        (first, *_rest) = self.suggestions(ticket)
        self.assertEqual(first["partner_id"], self.ruud.id)
        self.assertEqual(
            first["evidence"],
            ["has the e-mail address ruud.vdberg@example.org they sent us"],
        )

    def test_reference_mentioned(self):
        older = self.env["helpdesk.ticket"].create(
            {
                "name": "Eerder",
                "description": "<p>e</p>",
                "partner_id": self.ruud.id,
                "team_id": self.team.id,
            }
        )
        booking = self.Partner.create({"name": "Klant met boeking", "ref": "KZ4RT7"})
        ticket = self.stranger_ticket(f"over {older.number} en boeking KZ4RT7")
        found = {s["partner_id"]: s for s in self.suggestions(ticket)}
        self.assertEqual(
            found[self.ruud.id]["evidence"], [f"they mentioned {older.number}"]
        )
        self.assertEqual(found[booking.id]["evidence"], ["they mentioned KZ4RT7"])
        self.assertEqual(found[booking.id]["score"], 90)

    def test_name_similarity(self):
        self.standin.add_user(STRANGER_ID, "frequentflyer", "Ruud v.d. Berg", 40)
        unrelated = self.Partner.create({"name": "Zwaantje Xylofoon"})
        ticket = self.stranger_ticket()
        found = {s["partner_id"]: s for s in self.suggestions(ticket)}
        self.assertIn(self.ruud.id, found)
        self.assertNotIn(unrelated.id, found)
        (why,) = found[self.ruud.id]["evidence"]
        self.assertRegex(why, r"^name like Ruud v\.d\. Berg \(\d+%\)$")
        self.assertLess(found[self.ruud.id]["score"], 100)

    def test_name_changed_in_this_transaction(self):
        self.standin.add_user(STRANGER_ID, "frequentflyer", "Ruud v.d. Berg", 40)
        ticket = self.stranger_ticket()
        self.ruud.name = "Zwaantje Xylofoon"
        ids = [s["partner_id"] for s in self.suggestions(ticket)]
        self.assertNotIn(self.ruud.id, ids)
        self.ruud.name = "Ruud van der Berg"
        ids = [s["partner_id"] for s in self.suggestions(ticket)]
        self.assertIn(self.ruud.id, ids)

    def test_strongest_evidence_first(self):
        self.standin.add_user(STRANGER_ID, "frequentflyer", "Ruud v.d. Berg", 40)
        dora = self.Partner.create({"name": "Dora Dijkstra", "phone": "06-87654321"})
        self.standin.add_dm(STRANGER_ID, "bel 06-87654321")
        ticket = self.fetch().ticket_id
        ids = [s["partner_id"] for s in self.suggestions(ticket)]
        self.assertEqual(ids[0], dora.id)
        self.assertIn(self.ruud.id, ids[1:])

    def test_nothing_to_suggest(self):
        self.assertEqual(self.suggestions(self.stranger_ticket("hallo")), [])

    def test_known_author_needs_no_suggestions(self):
        self.mention(ANNA_ID, "hoi")
        self.assertEqual(self.suggestions(self.fetch().ticket_id), [])

    def test_use_a_suggestion_in_one_click(self):
        ticket = self.stranger_ticket()
        ticket.with_user(self.agent).action_webcare_use_contact(self.ruud.id)
        self.assertEqual(ticket.partner_id, self.ruud)
        # the author is linked once the customer agreed
        self.assertFalse(self.stranger().partner_id)
        self.assertIn("no consent recorded", ticket.webcare_link_hint)

    def test_create_contact_from_the_author(self):
        self.standin.add_dm(
            STRANGER_ID, "Ik ben F. Flyer, 06-87654321 of f.flyer@example.org"
        )
        ticket = self.fetch().ticket_id
        action = ticket.with_user(self.agent).action_webcare_create_contact()
        partner = self.Partner.browse(action["res_id"])
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(partner.name, "F. Flyer")
        self.assertEqual(partner.phone, "+31687654321")
        self.assertEqual(partner.email, "f.flyer@example.org")
        self.assertEqual(ticket.partner_id, partner)
        # a new contact has given no consent: the author is linked once they do
        self.assertFalse(partner.webcare_identity_ids)
        self.assertIn("no consent recorded", ticket.webcare_link_hint)
        with self.assertRaises(UserError):  # only once
            ticket.with_user(self.agent).action_webcare_create_contact()


@tagged("post_install", "-at_install")
class TestMerge(LinkingCase):
    def test_merge_keeps_identities_messages_calls_and_tickets(self):
        self.mention(ANNA_ID, "waar is mijn koffer")
        self.standin.add_dm(ANNA_ID, "boekingscode KZ4RT7")
        messages = self.fetch()
        tickets = messages.ticket_id
        call = self.env["webcare.call"].create(
            {"partner_id": self.anna.id, "note": "belde"}
        )
        duplicate = self.Partner.create(
            {"name": "A. de Vries", "email": "anna@example.nl"}
        )
        self.env["base.partner.merge.automatic.wizard"]._merge(
            [self.anna.id, duplicate.id], dst_partner=duplicate
        )
        self.assertFalse(self.anna.exists())
        self.assertEqual(self.anna_identity.partner_id, duplicate)
        self.assertEqual(messages.partner_id, duplicate)
        self.assertEqual(tickets.partner_id, duplicate)
        self.assertEqual(call.partner_id, duplicate)
        kinds = sorted(
            e["kind"] for e in duplicate.with_user(self.agent).webcare_timeline()
        )
        # the DM joined the post's ticket: one storyline, one ticket
        self.assertEqual(kinds, ["call", "dm", "post", "ticket_opened"])
        (result,) = self.Partner.webcare_lookup("@AnnaWC")
        self.assertEqual(result["partner_id"], duplicate.id)
