"""The first-response clock: business hours, status, late warning, answers."""

from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.tests import freeze_time, tagged

from .common_x import ACCOUNT_ID, ANNA_ID, XChannelCase
from .test_reply_queue import ReplyCase

# Europe/Amsterdam is UTC+1 in November: 16:45 there is 15:45 UTC
FRIDAY_1645 = datetime(2026, 11, 20, 15, 45)
TUESDAY_1645 = datetime(2026, 11, 17, 15, 45)
SATURDAY_1100 = datetime(2026, 11, 21, 10, 0)
MONDAY_0910 = datetime(2026, 11, 23, 8, 10)


def office_hours(env):
    """A 9-to-5 week in Amsterdam, Monday to Friday, no lunch break."""
    return env["resource.calendar"].create(
        {
            "name": "Webcare office 9-17",
            "tz": "Europe/Amsterdam",
            "attendance_ids": [Command.clear()]
            + [
                Command.create(
                    {
                        "name": f"Day {day}",
                        "dayofweek": str(day),
                        "hour_from": 9,
                        "hour_to": 17,
                        "day_period": "full_day",
                    }
                )
                for day in range(5)
            ],
        }
    )


@tagged("post_install", "-at_install")
class TestSlaClock(XChannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Sla = cls.env["webcare.sla"]
        cls.calendar = office_hours(cls.env)

    def test_without_business_hours_the_clock_runs_around_the_clock(self):
        self.assertFalse(self.channel.sla_calendar_id)
        self.assertEqual(self.channel.sla_target_minutes, 60)
        self.assertEqual(
            self.Sla._deadline(self.channel, FRIDAY_1645),
            datetime(2026, 11, 20, 16, 45),
        )
        self.channel.sla_target_minutes = 30
        self.assertEqual(
            self.Sla._deadline(self.channel, SATURDAY_1100),
            datetime(2026, 11, 21, 10, 30),
        )
        self.assertEqual(
            self.Sla._minutes_between(self.channel, FRIDAY_1645, MONDAY_0910),
            (2 * 24 + 16) * 60 + 25,
        )

    def test_deadline_skips_the_night(self):
        self.channel.write(
            {"sla_calendar_id": self.calendar.id, "sla_target_minutes": 30}
        )
        # Tuesday 16:45 + 30 min: 15 min on Tuesday, 15 on Wednesday from 9:00
        self.assertEqual(
            self.Sla._deadline(self.channel, TUESDAY_1645),
            datetime(2026, 11, 18, 8, 15),  # Wednesday 09:15 in Amsterdam
        )

    def test_deadline_skips_the_night_and_the_weekend(self):
        self.channel.write(
            {"sla_calendar_id": self.calendar.id, "sla_target_minutes": 30}
        )
        self.assertEqual(
            self.Sla._deadline(self.channel, FRIDAY_1645),
            datetime(2026, 11, 23, 8, 15),  # Monday 09:15 in Amsterdam
        )
        # a post on Saturday waits for Monday morning
        self.assertEqual(
            self.Sla._deadline(self.channel, SATURDAY_1100),
            datetime(2026, 11, 23, 8, 30),
        )

    def test_deadline_skips_a_public_holiday(self):
        self.channel.write(
            {"sla_calendar_id": self.calendar.id, "sla_target_minutes": 30}
        )
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Closed",
                "calendar_id": self.calendar.id,
                "date_from": datetime(2026, 11, 22, 23, 0),
                "date_to": datetime(2026, 11, 23, 22, 59, 59),
            }
        )
        self.assertEqual(
            self.Sla._deadline(self.channel, FRIDAY_1645),
            datetime(2026, 11, 24, 8, 15),  # Tuesday 09:15
        )

    def test_response_minutes_count_business_hours_only(self):
        self.channel.sla_calendar_id = self.calendar
        # Friday 16:45-17:00 and Monday 9:00-9:10
        self.assertEqual(
            self.Sla._minutes_between(self.channel, FRIDAY_1645, MONDAY_0910), 25
        )
        self.assertEqual(
            self.Sla._minutes_between(self.channel, MONDAY_0910, FRIDAY_1645), 0
        )

    def test_status_of_a_waiting_ticket(self):
        deadline = datetime(2026, 11, 20, 16, 45)
        status = self.Sla._open_status
        # 60 minutes, at risk in the last 25 %
        self.assertEqual(
            status(self.channel, deadline, deadline - timedelta(minutes=16)), "on_time"
        )
        self.assertEqual(
            status(self.channel, deadline, deadline - timedelta(minutes=15)), "at_risk"
        )
        self.assertEqual(status(self.channel, deadline, deadline), "at_risk")
        self.assertEqual(
            status(self.channel, deadline, deadline + timedelta(seconds=1)), "late"
        )


@tagged("post_install", "-at_install")
class TestTicketSla(ReplyCase):
    def setUp(self):
        super().setUp()
        self.team.user_id = self.manager  # the team lead

    def open_ticket(
        self, created_at, author_id=ANNA_ID, text="waar blijft mijn koffer"
    ):
        tweet = self.mention(author_id, text, created_at=created_at)
        self.fetch()
        return self.message(tweet["id"]).ticket_id

    def late_todos(self, ticket):
        """The team lead's to-dos about the ticket (read again, not cached)."""
        return self.env["mail.activity"].search(
            [("res_model", "=", "helpdesk.ticket"), ("res_id", "=", ticket.id)]
        )

    def test_clock_starts_at_the_post_not_at_the_import(self):
        posted = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=20)
        ticket = self.open_ticket(posted, text="twintig minuten geleden")
        self.assertEqual(ticket.webcare_posted_at, posted)
        self.assertEqual(
            ticket.webcare_first_response_deadline, posted + timedelta(minutes=60)
        )
        self.assertEqual(ticket.webcare_sla_status, "on_time")
        # a post from last week, imported now, is long overdue
        old = self.open_ticket(posted - timedelta(days=5), text="oude vraag")
        self.assertEqual(old.webcare_sla_status, "late")
        self.assertEqual(old.webcare_sla_rank, 0)
        self.assertFalse(self.late_todos(old), "history bothers no team lead")

    def test_waiting_ticket_goes_on_time_at_risk_late_with_one_todo(self):
        posted = fields.Datetime.now().replace(microsecond=0)
        ticket = self.open_ticket(posted, text="hallo?")
        steps = [
            (44, "on_time", 2),
            (46, "at_risk", 1),
            (61, "late", 0),
            (90, "late", 0),
        ]
        for minutes, status, rank in steps:
            with freeze_time(posted + timedelta(minutes=minutes)):
                self.env["webcare.sla"]._cron_update()
            self.assertEqual(ticket.webcare_sla_status, status, f"after {minutes} min")
            self.assertEqual(ticket.webcare_sla_rank, rank)
        todos = self.late_todos(ticket)
        self.assertEqual(len(todos), 1, "one to-do, however often the cron runs")
        self.assertEqual(todos.user_id, self.manager)
        self.assertIn(ticket.number, todos.summary)
        ticket._webcare_update_sla(posted + timedelta(minutes=120))
        self.assertEqual(len(self.late_todos(ticket)), 1)

    def test_answered_in_time(self):
        posted = self.ticket.webcare_posted_at
        self.ticket.user_id = False
        reply = self.reply("@AnnaWC We kijken ernaar.")
        with freeze_time(posted + timedelta(minutes=20), tick=True):
            self.send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(self.ticket.webcare_sla_status, "answered_on_time")
        self.assertEqual(self.ticket.webcare_response_minutes, 20)
        self.assertEqual(self.ticket.webcare_first_response_at, reply.sent_at)
        self.assertEqual(self.ticket.webcare_first_responder_id, self.agent)
        with freeze_time(posted + timedelta(minutes=90)):
            self.env["webcare.sla"]._cron_update()
        self.assertEqual(self.ticket.webcare_sla_status, "answered_on_time")
        self.assertFalse(self.late_todos(self.ticket))

    def test_answered_late(self):
        posted = self.ticket.webcare_posted_at
        self.reply("@AnnaWC Sorry voor het wachten.")
        with freeze_time(posted + timedelta(minutes=75), tick=True):
            self.send()
        self.assertEqual(self.ticket.webcare_sla_status, "answered_late")
        self.assertEqual(self.ticket.webcare_response_minutes, 75)
        self.assertEqual(self.ticket.webcare_sla_rank, 3)

    def test_a_second_reply_does_not_move_the_first_response(self):
        posted = self.ticket.webcare_posted_at
        self.reply("@AnnaWC Eerste antwoord.")
        with freeze_time(posted + timedelta(minutes=10), tick=True):
            self.send()
        self.reply("@AnnaWC Tweede antwoord.", user=self.manager)
        with freeze_time(posted + timedelta(minutes=80), tick=True):
            self.send()
        self.assertEqual(self.ticket.webcare_response_minutes, 10)
        self.assertEqual(self.ticket.webcare_first_responder_id, self.agent)

    def test_response_time_in_business_hours(self):
        self.channel.write(
            {"sla_calendar_id": office_hours(self.env).id, "sla_target_minutes": 30}
        )
        with freeze_time(FRIDAY_1645 + timedelta(minutes=5), tick=True):
            ticket = self.open_ticket(FRIDAY_1645, text="vlucht morgen geannuleerd?")
        self.assertEqual(
            ticket.webcare_first_response_deadline, datetime(2026, 11, 23, 8, 15)
        )
        self.assertEqual(ticket.webcare_sla_status, "on_time")
        with freeze_time(datetime(2026, 11, 22, 20, 0)):  # Sunday evening
            self.env["webcare.sla"]._cron_update()
        self.assertEqual(ticket.webcare_sla_status, "on_time")
        self.ticket = ticket
        self.reply("@AnnaWC Goedemorgen! Je vlucht gaat gewoon.")
        with freeze_time(MONDAY_0910, tick=True):
            self.send()
        self.assertEqual(ticket.webcare_sla_status, "answered_on_time")
        self.assertEqual(ticket.webcare_response_minutes, 25)

    def test_our_own_post_on_the_network_stops_the_clock(self):
        posted = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=30)
        ticket = self.open_ticket(posted, text="is mijn vlucht op tijd?")
        ticket.user_id = False
        question = ticket.webcare_message_ids
        self.standin.add_tweet(
            ACCOUNT_ID,
            "@AnnaWC Ja, hij vertrekt op tijd.",
            in_reply_to=question.external_id,
            in_mentions=True,
            created_at=posted + timedelta(minutes=12),
        )
        self.fetch()
        self.assertEqual(
            ticket.webcare_first_response_at, posted + timedelta(minutes=12)
        )
        self.assertEqual(ticket.webcare_response_minutes, 12)
        self.assertEqual(ticket.webcare_sla_status, "answered_on_time")
        self.assertFalse(ticket.webcare_first_responder_id)
        self.assertFalse(ticket.user_id, "no agent answered from Odoo")

    def test_tickets_without_a_channel_have_no_clock(self):
        plain = self.env["helpdesk.ticket"].create(
            {"name": "E-mail", "description": "Where is my bag?"}
        )
        self.assertFalse(plain.webcare_first_response_deadline)
        self.assertFalse(plain.webcare_sla_status)
