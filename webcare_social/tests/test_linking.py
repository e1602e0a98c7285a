"""Linking, so recognition grows by itself: tickets, retro-links, suggestions, merge."""

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged

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
    def test_setting_the_contact_links_the_author(self):
        ticket = self.stranger_ticket()
        self.assertFalse(ticket.partner_id)
        ticket.with_user(self.agent).partner_id = self.ruud
        stranger = self.stranger()
        self.assertEqual(stranger.partner_id, self.ruud)
        self.assertEqual(stranger.link_method, "agent")
        self.assertEqual(stranger.linked_by_id, self.agent)
        self.assertEqual(
            stranger.link_note,
            f"Linked from ticket {ticket.number} by {self.agent.name}",
        )
        self.assertEqual(stranger.message_ids.partner_id, self.ruud)
        log = self.chatter(self.ruud)
        self.assertIn(
            f"@frequentflyer (X) linked by {self.agent.name} (Linked by an agent)", log
        )
        self.assertIn(f"Linked from ticket {ticket.number}", log)
        # the next post of the author is the contact's straight away
        self.mention(STRANGER_ID, "en nu?")
        self.assertEqual(self.fetch()[-1].ticket_id.partner_id, self.ruud)

    def test_non_social_ticket_links_nothing(self):
        ticket = self.env["helpdesk.ticket"].create(
            {"name": "Telefoon", "description": "<p>t</p>"}
        )
        ticket.partner_id = self.ruud
        self.assertFalse(self.ruud.webcare_identity_ids)

    def test_identity_of_someone_else_needs_a_confirmation(self):
        self.mention(ANNA_ID, "mijn koffer")
        ticket = self.fetch().ticket_id
        self.assertEqual(ticket.partner_id, self.anna)
        self.assertFalse(ticket.webcare_author_conflict)
        ticket.with_user(self.agent).partner_id = self.ruud
        self.assertEqual(self.anna_identity.partner_id, self.anna)  # not moved silently
        self.assertTrue(ticket.webcare_author_conflict)
        self.assertEqual(ticket.webcare_author_partner_id, self.anna)
        ticket.with_user(self.agent).action_webcare_link_author()
        self.assertEqual(self.anna_identity.partner_id, self.ruud)
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
        # an agent types the handle on Ruud's Social tab
        self.ruud.with_user(self.agent).write(
            {
                "webcare_identity_ids": [
                    Command.create({"network": "x", "handle": "@FrequentFlyer"})
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
        ticket.write({"partner_id": otto.id})  # links the identity to Otto
        self.stranger().write({"partner_id": False})
        self.stranger().write({"partner_id": self.ruud.id})
        self.assertEqual(ticket.partner_id, otto)

    def test_calls_recognised_through_the_identity_follow(self):
        self.standin.add_dm(STRANGER_ID, "bel me: 06 87654321")
        self.fetch()
        call = self.env["webcare.call"].create({"phone": "06-87654321"})
        self.assertEqual(call.identity_id, self.stranger())
        self.assertFalse(call.partner_id)
        self.stranger().with_user(self.agent).write({"partner_id": self.ruud.id})
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
        self.assertEqual(self.stranger().partner_id, self.ruud)

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
        self.assertEqual(partner.webcare_identity_ids, self.stranger())
        self.assertEqual(ticket.partner_id, partner)
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
