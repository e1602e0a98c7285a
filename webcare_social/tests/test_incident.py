"""Surges: detection, incidents, grouping, the bulk reply and its pacing."""

from datetime import timedelta, timezone
from itertools import pairwise

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from ..services.x_client import XClient
from .common_x import WebcareTeamCase

# what a channel of an airline usually hears
NORMAL_TEXTS = [
    "Waar is mijn koffer na mijn vlucht?",
    "Hoe laat vertrekt mijn vlucht naar Rome?",
    "Kan ik mijn stoel nog wijzigen voor de vlucht van morgen?",
    "Mag mijn hond mee in de cabine?",
]
# an outage: everybody says the same few words
BURST_TEXTS = [
    "De app is in storing, inloggen lukt niet",
    "Storing?? Inloggen in de app lukt niet #fail",
    "Inloggen in de app faalt al een uur https://t.co/abc123 storing",
    "Is er een storing? De app laat me niet inloggen voor mijn vlucht",
    "Weer storing bij het inloggen in jullie app @SomeoneElse",
    "app kapot, inloggen onmogelijk, storing voor mijn vlucht",
]
DUTCH = "Sorry {first_name}, de app is in storing. We werken eraan."
ENGLISH = "Sorry {first_name}, our app is down."
FLYER_BASE = 1_800_000_000_000_000_000
DM_AUTHOR_ID = "1810000000000000001"


class IncidentCase(WebcareTeamCase):
    """The X channel of ``WebcareTeamCase`` with a week of history to compare with."""

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now()
        self.Incident = self.env["webcare.incident"]

    # helpers ------------------------------------------------------------

    def history(self, per_hour, days=7, channel=None, end=None, prefix="hist"):
        """Store ``per_hour`` inbound posts an hour for ``days`` before ``end``.

        ``end`` defaults to the start of the current 15-minute window.
        """
        channel = channel or self.channel
        end = end or self.now - timedelta(minutes=15)
        self.store(channel, int(per_hour * 24 * days), 3600 / per_hour, end, prefix)

    def store(self, channel, count, step_seconds, end, prefix, state="ticketed"):
        """Store ``count`` inbound posts, one every ``step_seconds`` before ``end``."""
        self.env["webcare.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO webcare_message (
                    channel_id, company_id, external_id, kind, direction, state,
                    body, author_handle, posted_at, create_date, write_date
                )
                SELECT %(channel)s, %(company)s, %(prefix)s || '-' || n, 'mention',
                       'inbound', %(state)s, (%(texts)s::text[])[1 + n %% %(size)s],
                       'regular' || (n %% 40),
                       %(end)s::timestamp - make_interval(secs => n * %(step)s),
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM generate_series(1, %(count)s) AS n
                """,
                channel=channel.id,
                company=channel.company_id.id,
                prefix=prefix,
                state=state,
                texts=NORMAL_TEXTS,
                size=len(NORMAL_TEXTS),
                end=end,
                step=step_seconds,
                count=count,
            )
        )
        self.env["webcare.message"].invalidate_model()

    def burst(self, count, minutes=12, start=0, lang="nl"):
        """``count`` customers mention the account in the last ``minutes``.

        Imported from the X stand-in; returns their tickets, oldest first.
        """
        tweets = []
        for index in range(start, start + count):
            user_id = str(FLYER_BASE + index)
            self.standin.add_user(user_id, f"flyer{index}", f"Flyer {index}", 10)
            posted = (
                self.now
                - timedelta(minutes=minutes)
                + timedelta(seconds=(index - start) * minutes * 50 // max(count, 1))
            )
            text = BURST_TEXTS[index % len(BURST_TEXTS)]
            tweets.append(self.mention(user_id, text, created_at=posted, lang=lang))
        self.fetch()
        return self.tickets_of(tweets)

    def tickets_of(self, tweets):
        tickets = self.env["helpdesk.ticket"]
        for tweet in tweets:
            tickets |= self.message(tweet["id"]).ticket_id
        return tickets

    def detect(self, at=None):
        if at is None:
            self.Incident._cron_detect()
            return
        with freeze_time(at):
            self.Incident._cron_detect()

    def incidents(self, channel=None):
        return self.Incident.search([("channel_id", "=", (channel or self.channel).id)])

    def notifications(self, incident):
        return incident.message_ids.filtered(
            lambda m: self.manager.partner_id in m.partner_ids
        )


@tagged("post_install", "-at_install")
class TestSurgeDetection(IncidentCase):
    def test_burst_opens_one_incident_with_window_words_and_tickets(self):
        self.history(per_hour=4)  # one post per 15 minutes, for a week
        tickets = self.burst(24)
        self.assertEqual(len(tickets), 24)
        self.detect()
        incident = self.incidents()
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.state, "open")
        self.assertEqual(incident.volume, 24)
        self.assertAlmostEqual(incident.baseline, 1.0, places=2)
        self.assertEqual((incident.factor, incident.threshold), (5.0, 10))
        self.assertAlmostEqual(incident.ratio, 24.0, places=1)
        window = incident.window_end - incident.window_start
        self.assertEqual(window, timedelta(minutes=15))
        self.assertLess(abs(incident.window_end - self.now), timedelta(minutes=1))
        words = incident.top_words.split(", ")
        self.assertEqual(set(words[:3]), {"app", "inloggen", "storing"})
        for noise in ("de", "het", "een", "niet", "polderair", "someoneelse", "https"):
            self.assertNotIn(noise, words)
        self.assertNotIn("vlucht", words, "everyday words are not what it is about")
        self.assertIn("storing", incident.name)
        self.assertIn(self.channel.name, incident.name)
        self.assertEqual(incident.ticket_ids, tickets)
        self.assertEqual(tickets.webcare_incident_id, incident)
        # the managers hear of it once, however often the cron runs
        self.assertEqual(len(self.notifications(incident)), 1)
        notified = str(self.notifications(incident).body)
        self.assertIn("24 messages in 15 minutes", notified)
        self.detect()
        self.detect()
        self.assertEqual(self.incidents(), incident)
        self.assertEqual(len(self.notifications(incident)), 1)

    def test_normal_day_opens_no_incident(self):
        # a busy channel: 4 posts per 15 minutes all week ...
        self.history(per_hour=16)
        # ... and a busy quarter: above the minimum, not 5 times the usual
        self.store(self.channel, 15, 50, self.now, "busy")
        self.detect()
        self.assertFalse(self.incidents())
        # the same day with an outage on top of it does open one
        self.store(self.channel, 10, 30, self.now, "outage")
        self.detect()
        self.assertEqual(self.incidents().volume, 25)

    def test_quiet_channel_needs_the_minimum_volume(self):
        self.history(per_hour=0.5)
        self.store(self.channel, 9, 60, self.now, "few")
        self.detect()
        self.assertFalse(self.incidents(), "9 messages, minimum 10")
        self.store(self.channel, 1, 30, self.now, "tenth")
        self.detect()
        self.assertTrue(self.incidents())

    def test_ignored_messages_are_no_surge(self):
        self.history(per_hour=4)
        # a giveaway retweeted everywhere: all ignored by the import
        self.store(self.channel, 40, 20, self.now, "rt", state="ignored")
        self.detect()
        self.assertFalse(self.incidents())

    def test_brand_new_channel_does_not_raise_an_alarm(self):
        channel = self.env["webcare.channel"].create(
            {"name": "PolderAir Cargo on X", "team_id": self.team.id}
        )
        # its first hour: 15 messages, and nothing before to compare with
        self.store(channel, 15, 50, self.now, "first")
        self.detect()
        self.assertFalse(self.incidents(channel))
        # with two quiet days behind it, the same quarter is a surge
        self.history(per_hour=0.5, days=2, channel=channel)
        self.detect()
        self.assertEqual(self.incidents(channel).volume, 15)

    def test_surge_detection_can_be_switched_off(self):
        self.history(per_hour=4)
        self.store(self.channel, 30, 20, self.now, "burst")
        self.channel.surge_factor = 0
        self.detect()
        self.assertFalse(self.incidents())


@tagged("post_install", "-at_install")
class TestIncidentLifecycle(IncidentCase):
    def setUp(self):
        super().setUp()
        self.history(per_hour=4)
        self.tickets = self.burst(12, minutes=14)
        # detected a little while ago: later tickets join only by their words
        self.detect(at=self.now - timedelta(minutes=1))
        self.incident = self.incidents()
        self.assertEqual(self.incident.ticket_ids, self.tickets)

    def test_new_matching_tickets_join_and_others_do_not(self):
        self.standin.add_user("1820000000000000001", "late_one", "Late One")
        self.standin.add_user("1820000000000000002", "dog_owner", "Dog Owner")
        matching = self.mention(
            "1820000000000000001", "nog steeds storing, kan niet inloggen", lang="nl"
        )
        other = self.mention(
            "1820000000000000002", "Mag mijn hond mee in de cabine?", lang="nl"
        )
        self.fetch()
        joined = self.message(matching["id"]).ticket_id
        unrelated = self.message(other["id"]).ticket_id
        self.assertEqual(joined.webcare_incident_id, self.incident, "joins at once")
        self.assertFalse(unrelated.webcare_incident_id)
        self.detect()
        self.assertFalse(unrelated.webcare_incident_id)
        self.assertEqual(self.incident.ticket_ids, self.tickets | joined)

    def test_closes_by_itself_when_volume_is_back_to_normal(self):
        self.detect(at=self.now + timedelta(seconds=30))
        self.assertFalse(self.incident.calm_since, "still surging")
        calm = self.now + timedelta(minutes=20)
        self.detect(at=calm)  # the burst left the 15-minute window
        self.assertEqual(self.incident.state, "open")
        self.assertEqual(self.incident.calm_since, calm)
        self.assertEqual(self.incident.last_volume, 0)
        self.detect(at=calm + timedelta(minutes=25))
        self.assertEqual(self.incident.state, "open", "not calm long enough yet")
        self.detect(at=calm + timedelta(minutes=31))
        self.assertEqual(self.incident.state, "closed")
        self.assertEqual(self.incident.close_reason, "normal")
        self.assertFalse(self.incident.closed_by_id)
        self.assertEqual(self.incident.peak_volume, 12)

    def test_a_new_rise_resets_the_calm(self):
        self.detect(at=self.now + timedelta(minutes=20))
        self.assertTrue(self.incident.calm_since)
        later = self.now + timedelta(minutes=40)
        self.store(self.channel, 12, 60, later, "second")
        self.detect(at=later)
        self.assertFalse(self.incident.calm_since)
        self.assertEqual(self.incident.peak_volume, 12)
        self.detect(at=later + timedelta(minutes=31))
        self.assertEqual(self.incident.state, "open")

    def test_managers_close_by_hand_then_it_does_not_reopen_at_once(self):
        with self.assertRaises(AccessError):
            self.incident.with_user(self.agent).action_close()
        self.incident.with_user(self.manager).action_close()
        self.assertEqual(self.incident.state, "closed")
        self.assertEqual(self.incident.closed_by_id, self.manager)
        self.assertEqual(self.incident.close_reason, "manual")
        self.assertTrue(self.incident.closed_at)
        self.detect()  # the burst is still in the window
        self.assertEqual(self.incidents(), self.incident)
        # a new surge after the cool-down is a new incident
        later = fields.Datetime.now() + timedelta(minutes=70)
        self.store(self.channel, 20, 30, later, "again")
        self.detect(at=later)
        self.assertEqual(len(self.incidents()), 2)

    def test_caller_lookup_shows_open_incidents(self):
        screen = (
            self.env["res.partner"]
            .with_user(self.sales)
            .webcare_lookup_screen(query="0612345678")
        )
        self.assertEqual(len(screen["incidents"]), 1)
        shown = screen["incidents"][0]
        self.assertEqual(shown["id"], self.incident.id)
        self.assertEqual(shown["name"], self.incident.name)
        self.assertEqual(shown["channel"], self.channel.name)
        self.assertEqual(shown["volume"], 12)
        self.assertEqual(shown["tickets"], 12)
        self.assertIn("storing", shown["top_words"])
        self.assertTrue(shown["started"])
        self.incident.with_user(self.manager).action_close()
        lookup = self.env["webcare.lookup"].with_user(self.sales)
        self.assertEqual(lookup._open_incidents(), [])


@tagged("post_install", "-at_install")
class TestBulkReply(IncidentCase):
    def setUp(self):
        super().setUp()
        self.channel.surge_min_volume = 5
        self.history(per_hour=4)
        self.public = self.burst(5, minutes=12) | self.burst(
            1, minutes=3, start=5, lang="en"
        )
        self.standin.add_user(DM_AUTHOR_ID, "dm_only", "Dee Em")
        posted = self.now - timedelta(minutes=1)
        self.standin.add_dm(DM_AUTHOR_ID, "De app is in storing", created_at=posted)
        self.fetch()
        self.private = self.env["helpdesk.ticket"].search(
            [("webcare_identity_id.external_id", "=", DM_AUTHOR_ID)]
        )
        self.detect()
        self.incident = self.incidents()
        self.assertEqual(self.incident.ticket_ids, self.public | self.private)
        closed_stage = self.env["helpdesk.ticket.stage"].search(
            [("closed", "=", True)], limit=1
        )
        self.closed = self.public[0]
        self.closed.stage_id = closed_stage
        self.interval = timedelta(seconds=XClient.send_interval)
        self.standin.clear_log()

    def wizard(self, user=None, fallback=True):
        return (
            self.env["webcare.incident.reply"]
            .with_user(user or self.manager)
            .with_context(active_model="webcare.incident", active_id=self.incident.id)
            .create(
                {
                    "body": DUTCH,
                    "private_fallback": fallback,
                    "text_ids": [Command.create({"lang": "en", "body": ENGLISH})],
                }
            )
        )

    def replies(self):
        return self.env["webcare.message"].search(
            [
                ("ticket_id", "in", self.incident.ticket_ids.ids),
                ("direction", "=", "outbound"),
            ],
            order="send_after, id",
        )

    def send(self, at):
        with freeze_time(at, tick=True):
            self.env["webcare.message"]._cron_send()

    @staticmethod
    def epoch(moment):
        return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))

    def test_one_paced_reply_per_ticket_never_twice(self):
        wizard = self.wizard()
        self.assertEqual(wizard.incident_id, self.incident)
        self.assertEqual(wizard.to_send_count, 6)
        self.assertIn(f"{self.closed.number}: closed", wizard.skipped_summary)
        self.assertIn("9 seconds", wizard.pace)
        start = fields.Datetime.now()
        wizard.action_send()
        replies = self.replies()
        self.assertEqual(replies.ticket_id, self.incident.ticket_ids - self.closed)
        self.assertEqual(set(replies.mapped("state")), {"outgoing"})
        self.assertEqual(replies.approved_by_id, self.manager)
        self.assertEqual(replies.author_user_id, self.manager)
        gaps = [b.send_after - a.send_after for a, b in pairwise(replies)]
        self.assertEqual(gaps, [self.interval] * 5)
        self.assertGreaterEqual(replies[0].send_after, start)
        # oldest post first; the DM-only conversation gets a private message
        self.assertEqual(replies.ticket_id[-1], self.private)
        dm = replies.filtered(lambda r: r.kind == "dm")
        self.assertEqual(dm.ticket_id, self.private)
        self.assertEqual(dm.recipient_ref, DM_AUTHOR_ID)
        self.assertEqual(dm.body, "Sorry Dee, de app is in storing. We werken eraan.")
        dutch = replies.filtered(lambda r: r.ticket_id == self.public[1])
        self.assertEqual(
            dutch.body, "@flyer1 Sorry Flyer, de app is in storing. We werken eraan."
        )
        english = replies.filtered(lambda r: r.ticket_id == self.public[-1])
        self.assertEqual(english.body, "@flyer5 Sorry Flyer, our app is down.")
        note = self.incident.message_ids[0].body
        self.assertIn("approved the bulk reply: 6 replies", note)
        # sending again queues nothing more
        again = self.wizard()
        self.assertEqual(again.to_send_count, 0)
        again.action_send()
        self.assertEqual(self.replies(), replies)
        # a ticket that joins later gets it next time, after the queue
        self.standin.add_user("1830000000000000001", "late_one", "Late One")
        late = self.mention("1830000000000000001", "storing, inloggen kan niet")
        self.fetch()
        late_ticket = self.message(late["id"]).ticket_id
        self.assertEqual(late_ticket.webcare_incident_id, self.incident)
        self.wizard().action_send()
        new = self.replies() - replies
        self.assertEqual(len(new), 1)
        self.assertEqual(new.send_after, replies[-1].send_after + self.interval)

    def test_queue_sends_at_the_pace_and_a_rate_limit_loses_nothing(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.wizard().action_send()
        replies = self.replies()
        self.assertEqual(replies[0].send_after, start)
        self.send(start)
        self.assertEqual(len(self.standin.posted), 1, "only the first one is due")
        self.send(start + 2 * self.interval + timedelta(seconds=1))
        self.assertEqual(len(self.standin.posted), 3)
        self.assertEqual(replies[:3].mapped("state"), ["sent"] * 3)
        # X's limit is reached: the next ones wait for its reset, none is lost
        reset = (start + timedelta(minutes=15)).replace(microsecond=0)
        self.standin.fail_next(
            "/2/tweets", 429, headers={"x-rate-limit-reset": self.epoch(reset)}
        )
        self.send(start + 3 * self.interval + timedelta(seconds=1))
        self.assertEqual(len(self.standin.posted), 3)
        waiting = replies.filtered(lambda r: r.kind != "dm" and r.state != "sent")
        self.assertEqual(len(waiting), 2)
        self.assertEqual(set(waiting.mapped("state")), {"outgoing"})
        # the one that met the limit waits for the reset, the next keep X's pace
        self.assertEqual(
            sorted(waiting.mapped("send_after")), [reset, reset + self.interval]
        )
        self.assertFalse(replies.filtered(lambda r: r.state == "failed"))
        # the queue goes on until everything is out
        for _round in range(10):
            pending = replies.filtered(lambda r: r.state == "outgoing")
            if not pending:
                break
            self.send(min(pending.mapped("send_after")) + timedelta(seconds=1))
        self.assertEqual(set(replies.mapped("state")), {"sent"})
        self.assertEqual(len(self.standin.posted), 6)
        self.assertEqual(len({p["id"] for p in self.standin.posted}), 6)
        tweets = [p for p in self.standin.posted if p["kind"] == "tweet"]
        parents = {p["in_reply_to_tweet_id"] for p in tweets}
        expected = {
            m.external_id
            for m in (self.public - self.closed).webcare_message_ids
            if m.direction == "inbound"
        }
        self.assertEqual(parents, expected)
        self.assertEqual(
            [p["recipient_id"] for p in self.standin.posted if p["kind"] == "dm"],
            [DM_AUTHOR_ID],
        )
        for ticket in self.incident.ticket_ids - self.closed:
            self.assertEqual(ticket.webcare_first_responder_id, self.manager)

    def test_without_private_messages_a_dm_only_ticket_is_skipped(self):
        wizard = self.wizard(fallback=False)
        self.assertEqual(wizard.to_send_count, 5)
        self.assertIn(
            f"{self.private.number}: no public post to reply to", wizard.skipped_summary
        )
        wizard.action_send()
        self.assertFalse(self.replies().filtered(lambda r: r.kind == "dm"))
        self.assertIn("no public post to reply to", self.incident.message_ids[0].body)

    def test_only_managers_send_bulk_replies(self):
        with self.assertRaises(AccessError):
            self.wizard(user=self.agent)
        self.assertFalse(self.replies())
