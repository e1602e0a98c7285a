"""Fixing the storyline by hand: move a message, merge tickets of one person."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common_x import ANNA_ID, STRANGER_ID
from .test_reply_queue import ReplyCase


class MoveMergeCase(ReplyCase):
    """Anna has two tickets (``self.ticket`` from ReplyCase, and ``second``);
    a stranger has one."""

    def setUp(self):
        super().setUp()
        self.later = self.mention(ANNA_ID, "en mijn stoel is ook weg")
        self.standin.add_tweet(STRANGER_ID, "@PolderAir wifi werkt niet")
        self.fetch()
        self.second = self.message(self.later["id"]).ticket_id
        self.strangers = self.env["helpdesk.ticket"].search(
            [("webcare_identity_id.external_id", "=", STRANGER_ID)]
        )
        self.assertNotEqual(self.second, self.ticket)
        self.assertEqual(len(self.strangers), 1)

    def notes(self, ticket):
        note = self.env.ref("mail.mt_note")
        return " ".join(str(m.body) for m in ticket.message_ids if m.subtype_id == note)

    def assertLinksTo(self, html, ticket):
        pattern = rf"data-oe-model=.helpdesk.ticket. data-oe-id=.{ticket.id}."
        self.assertRegex(html, pattern)

    def move_wizard(self, message, **vals):
        Wizard = self.env["webcare.message.move"].with_user(self.agent)
        return Wizard.with_context(
            active_model="webcare.message", active_id=message.id
        ).create(vals)

    def merge_wizard(self, tickets, **vals):
        Wizard = self.env["webcare.ticket.merge"].with_user(self.agent)
        context = {"active_model": "helpdesk.ticket", "active_ids": tickets.ids}
        return Wizard.with_context(**context).create(vals)


@tagged("post_install", "-at_install")
class TestMoveMessage(MoveMergeCase):
    def test_move_to_another_ticket_of_the_same_person(self):
        message = self.message(self.later["id"])
        wizard = self.move_wizard(message, ticket_id=self.ticket.id)
        self.assertEqual(wizard.source_ticket_id, self.second)
        self.assertEqual(wizard.candidate_ticket_ids, self.ticket)
        self.assertEqual(wizard.moved_count, 1)
        wizard.action_move()
        self.assertEqual(message.ticket_id, self.ticket)
        self.assertIn(message, self.ticket.webcare_message_ids)
        self.assertNotIn(message, self.second.webcare_message_ids)
        # both chatters say who moved what, where
        for ticket, other in ((self.ticket, self.second), (self.second, self.ticket)):
            notes = self.notes(ticket)
            self.assertIn(self.agent.name, notes)
            self.assertIn("moved 1 social message", notes)
            self.assertIn("en mijn stoel is ook weg", notes)
            self.assertLinksTo(notes, other)

    def test_move_with_the_rest_of_its_conversation(self):
        # a new question asked in the thread of the old one, and what followed
        new_topic = self.standin.add_tweet(
            ANNA_ID, "@PolderAir andere vraag: mijn stoel", in_reply_to=self.first["id"]
        )
        follow_up = self.standin.add_tweet(
            ANNA_ID, "@PolderAir rij 12 graag", in_reply_to=new_topic["id"]
        )
        self.fetch()
        moved = self.message(new_topic["id"])
        self.assertEqual(moved.ticket_id, self.ticket)
        wizard = self.move_wizard(
            moved, ticket_id=self.second.id, with_conversation=True
        )
        self.assertEqual(wizard.moved_count, 2)
        wizard.action_move()
        self.assertEqual(self.message(follow_up["id"]).ticket_id, self.second)
        self.assertEqual(moved.ticket_id, self.second)
        self.assertEqual(self.message(self.first["id"]).ticket_id, self.ticket)
        self.assertIn("moved 2 social message", self.notes(self.second))
        # the customer's next words in that thread follow the move
        more = self.standin.add_tweet(
            ANNA_ID, "@PolderAir en?", in_reply_to=follow_up["id"]
        )
        self.fetch()
        self.assertEqual(self.message(more["id"]).ticket_id, self.second)

    def test_without_the_conversation_only_the_message_moves(self):
        follow_up = self.standin.add_tweet(
            ANNA_ID, "@PolderAir nog iets", in_reply_to=self.first["id"]
        )
        self.fetch()
        first = self.message(self.first["id"])
        self.move_wizard(first, ticket_id=self.second.id).action_move()
        self.assertEqual(first.ticket_id, self.second)
        self.assertEqual(self.message(follow_up["id"]).ticket_id, self.ticket)

    def test_no_move_to_someone_elses_ticket(self):
        message = self.message(self.later["id"])
        wizard = self.move_wizard(message, ticket_id=self.strangers.id)
        with self.assertRaises(UserError):
            wizard.action_move()
        self.assertEqual(message.ticket_id, self.second)
        self.assertFalse(self.notes(self.strangers))

    def test_no_move_to_the_same_ticket(self):
        message = self.message(self.later["id"])
        with self.assertRaises(UserError):
            self.move_wizard(message, ticket_id=self.second.id).action_move()

    def test_move_buttons_are_on_the_message_and_the_social_tab(self):
        action = self.env.ref("webcare_social.webcare_message_move_action")
        self.assertEqual(action.res_model, "webcare.message.move")
        message_form = self.env["webcare.message"].get_view(
            self.env.ref("webcare_social.webcare_message_view_form").id, "form"
        )
        self.assertIn(f'name="{action.id}"', message_form["arch"])
        ticket_form = self.env["helpdesk.ticket"].get_view(
            self.env.ref("helpdesk_mgmt.ticket_view_form").id, "form"
        )
        self.assertIn(f'name="{action.id}"', ticket_form["arch"])


@tagged("post_install", "-at_install")
class TestMergeTickets(MoveMergeCase):
    def test_merge_two_tickets_of_the_same_person(self):
        wizard = self.merge_wizard(self.ticket | self.second)
        self.assertEqual(wizard.target_id, self.ticket, "the oldest stays")
        moved = self.second.webcare_message_ids
        wizard.action_merge()
        self.assertEqual(moved.ticket_id, self.ticket)
        self.assertFalse(self.second.webcare_message_ids)
        self.assertTrue(self.second.closed)
        self.assertFalse(self.ticket.closed)
        merged_note = self.notes(self.second)
        self.assertIn("merged this ticket into", merged_note)
        self.assertLinksTo(merged_note, self.ticket)
        self.assertIn(self.agent.name, merged_note)
        target_note = self.notes(self.ticket)
        self.assertLinksTo(target_note, self.second)
        self.assertIn("en mijn stoel is ook weg", target_note)  # its opening post
        self.assertIn(self.agent.name, target_note)
        # the target answers the customer's latest post, from the merged ticket
        reply = self.reply("@AnnaWC We zoeken beide uit.")
        self.assertEqual(reply.parent_ref, self.later["id"])

    def test_customer_words_in_the_merged_chatter_move_along(self):
        thread = self.standin.add_tweet(
            ANNA_ID, "@PolderAir stoel 12A graag", in_reply_to=self.later["id"]
        )
        self.fetch()
        self.assertEqual(self.message(thread["id"]).ticket_id, self.second)
        self.merge_wizard(self.ticket | self.second).action_merge()
        bodies = str(self.ticket.message_ids.mapped("body"))
        self.assertIn("stoel 12A graag", bodies)
        self.assertNotIn("stoel 12A graag", str(self.second.message_ids.mapped("body")))

    def test_merged_sla_keeps_the_earliest_post_and_first_response(self):
        start = fields.Datetime.now().replace(microsecond=0)
        early = self.mention(
            ANNA_ID, "eerste vraag", created_at=start - timedelta(minutes=30)
        )
        self.fetch()
        older = self.message(early["id"]).ticket_id
        # the newer ticket (self.second) was answered from Odoo after 10 min
        self.ticket = self.second
        posted = self.second.webcare_posted_at
        self.reply("@AnnaWC We kijken ernaar.")
        with freeze_time(posted + timedelta(minutes=10), tick=True):
            self.send()
        answered_at = self.second.webcare_first_response_at
        self.assertTrue(answered_at)
        self.second.user_id = False
        wizard = self.merge_wizard(older | self.second, target_id=self.second.id)
        wizard.action_merge()
        target = self.second
        self.assertEqual(target.webcare_posted_at, older.webcare_posted_at)
        self.assertEqual(
            target.webcare_first_response_deadline,
            older.webcare_posted_at + timedelta(minutes=60),
        )
        self.assertEqual(target.webcare_first_response_at, answered_at)
        expected = round((answered_at - older.webcare_posted_at).total_seconds() / 60)
        self.assertEqual(target.webcare_response_minutes, expected)
        self.assertEqual(target.webcare_sla_status, "answered_on_time")
        self.assertEqual(target.webcare_first_responder_id, self.agent)
        self.assertTrue(older.closed)
        self.assertFalse(older.webcare_sla_status, "the target carries the clock")

    def test_merged_unanswered_tickets_wait_from_the_earliest_post(self):
        early = self.mention(
            ANNA_ID,
            "oude vraag",
            created_at=fields.Datetime.now() - timedelta(minutes=70),
        )
        self.fetch()
        older = self.message(early["id"]).ticket_id
        self.assertEqual(older.webcare_sla_status, "late")
        self.merge_wizard(older | self.second, target_id=self.second.id).action_merge()
        self.assertEqual(self.second.webcare_sla_status, "late")
        self.assertEqual(self.second.webcare_posted_at, older.webcare_posted_at)

    def test_merging_tickets_of_different_people_is_refused(self):
        wizard = self.merge_wizard(self.ticket | self.strangers)
        with self.assertRaises(UserError) as caught:
            wizard.action_merge()
        self.assertIn("same person", str(caught.exception))
        self.assertFalse(self.strangers.closed)
        self.assertTrue(self.strangers.webcare_message_ids)

    def test_only_social_tickets_are_merged_here(self):
        mail = self.env["helpdesk.ticket"].create(
            {
                "name": "E-mail from Anna",
                "description": "Waar is mijn koffer?",
                "partner_id": self.anna.id,
                "team_id": self.team.id,
            }
        )
        wizard = self.merge_wizard(mail)
        self.assertEqual(wizard.ticket_ids, mail, "no social tickets proposed")
        wizard = self.merge_wizard(self.ticket | mail)
        with self.assertRaises(UserError) as caught:
            wizard.action_merge()
        self.assertIn("social tickets", str(caught.exception))
        self.assertFalse(mail.closed)

    def test_one_ticket_alone_is_no_merge(self):
        self.second.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_done")
        wizard = self.merge_wizard(self.ticket)
        self.assertEqual(wizard.ticket_ids, self.ticket, "closed ones not proposed")
        with self.assertRaises(UserError):
            wizard.action_merge()

    def test_from_one_ticket_the_persons_other_open_tickets_are_proposed(self):
        wizard = self.merge_wizard(self.second)
        self.assertEqual(wizard.ticket_ids, self.ticket | self.second)
        self.assertEqual(wizard.target_id, self.ticket)

    def test_merge_is_offered_on_ticket_lists_and_forms(self):
        action = self.env.ref("webcare_social.webcare_ticket_merge_action")
        self.assertEqual(action.binding_model_id.model, "helpdesk.ticket")
        form = self.env["helpdesk.ticket"].get_view(
            self.env.ref("helpdesk_mgmt.ticket_view_form").id, "form"
        )
        self.assertIn(f'name="{action.id}"', form["arch"])
