"""Retention: raw data and DM texts are removed after the period, statistics stay."""

import base64
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common_x import ANNA_ID, STRANGER_ID, WebcareTeamCase

DAY = timedelta(days=1)
OLD_DM = "Mijn nummer is 06-87654321, boekingscode KZ4RT7"
NEW_DM = "Ik heb mijn bagagelabel nog, nummer AMS123456"
NOTICE = "Removed after the retention period"
REPORT_GROUPS = ["line_type", "channel_id", "kind", "lang", "sla_status"]
REPORT_SUMS = [
    "message_count:sum",
    "ignored_count:sum",
    "ticket_count:sum",
    "answered_count:sum",
    "breach_count:sum",
    "response_minutes:avg",
]
KEPT_FIELDS = [
    "channel_id",
    "kind",
    "direction",
    "state",
    "posted_at",
    "create_date",
    "ticket_id",
    "partner_id",
    "identity_id",
    "lang",
    "author_handle",
    "ignore_reason",
    "external_id",
]
CSV = (
    "Message ID;Sender;Message;Created Time\n"
    "m1;anna_dv;Mijn koffer is kwijt;2024-01-02\n"
)


class RetentionCase(WebcareTeamCase):
    def setUp(self):
        super().setUp()
        self.set_days(365)
        self.Retention = self.env["webcare.retention"]
        self.Message = self.env["webcare.message"]

    # helpers ------------------------------------------------------------

    def set_days(self, days):
        self.env["ir.config_parameter"].set_param(
            "webcare_social.retention_days", str(days)
        )

    def ago(self, days):
        return fields.Datetime.now() - days * DAY

    def purge(self, **options):
        return self.Retention._cron_purge(**options)

    def age(self, records, days, columns):
        """Move ``columns`` of ``records`` ``days`` back in time (SQL, as
        if they had been stored long ago)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s WHERE id = ANY(%s)",
                SQL.identifier(records._table),
                SQL(", ").join(
                    SQL(
                        "%s = %s - %s", SQL.identifier(c), SQL.identifier(c), days * DAY
                    )
                    for c in columns
                ),
                records.ids,
            )
        )
        records.invalidate_recordset()

    def report(self):
        Report = self.env["webcare.report.response"]
        self.env.flush_all()
        return sorted(Report._read_group([], REPORT_GROUPS, REPORT_SUMS), key=repr)

    def snapshot(self, messages):
        return messages.read(KEPT_FIELDS)


@tagged("post_install", "-at_install")
class TestRetention(RetentionCase):
    """An old and a recent conversation of Anna's: a post, a DM and our replies."""

    def setUp(self):
        super().setUp()
        old = self.ago(400)
        self.old_post_raw = self.mention(
            ANNA_ID, "waar blijft mijn koffer", created_at=old
        )
        self.standin.add_dm(ANNA_ID, OLD_DM, created_at=old + timedelta(hours=1))
        self.standin.add_tweet(
            STRANGER_ID,
            "RT @AnnaWC: @PolderAir waar blijft mijn koffer",
            retweet_of=self.old_post_raw["id"],
            in_mentions=True,
            created_at=old,
        )
        self.mention(ANNA_ID, "nog steeds niets, slechte service", lang="nl")
        self.standin.add_dm(ANNA_ID, NEW_DM)
        messages = self.fetch()
        self.old_post, self.new_post = self.by_kind(messages, "mention", 2)
        self.old_dm, self.new_dm = self.by_kind(messages, "dm", 2)
        self.ticket = self.old_post.ticket_id
        # our replies on the old ticket, sent then: public and private
        agent_ticket = self.ticket.with_user(self.agent)
        self.reply = agent_ticket.webcare_reply("Wat vervelend! We zoeken het uit.")
        self.private = agent_ticket.webcare_reply("Stuur ons je nummer?", private=True)
        self.Message._cron_send()
        self.replies = (self.reply | self.private).sudo()
        self.assertEqual(set(self.replies.mapped("state")), {"sent"})
        self.age(self.replies, 399, ["posted_at", "sent_at", "create_date"])
        self.all = self.Message.search([("channel_id", "=", self.channel.id)])

    def by_kind(self, messages, kind, count):
        found = messages.filtered(lambda m: m.kind == kind and not m.is_repost)
        found = found.sorted("posted_at")
        self.assertEqual(len(found), count)
        return found

    def chatter_bodies(self, tickets):
        return " ".join(str(body) for body in tickets.message_ids.mapped("body"))

    def test_old_raw_data_and_dm_texts_are_removed_recent_ones_stay(self):
        self.assertIn(OLD_DM, self.chatter_bodies(self.old_dm.ticket_id))
        old_copy = self.old_dm.chatter_message_id
        self.assertTrue(old_copy, "the DM keeps its chatter copy")

        purged = self.purge()

        old = self.all.filtered(lambda m: m.posted_at < self.ago(365))
        self.assertEqual(len(old), 5)  # the post, its retweet, the DM, two replies
        self.assertEqual(purged, 5)
        self.assertTrue(all(old.mapped("purged_at")))
        self.assertFalse(any(old.mapped("payload")))
        # DM texts are gone, both directions; public texts stay
        self.assertFalse(self.old_dm.body)
        self.assertFalse(self.private.body)
        self.assertEqual(self.old_post.body, "@PolderAir waar blijft mijn koffer")
        self.assertEqual(self.reply.body, "Wat vervelend! We zoeken het uit.")
        # ... and so are their chatter copies
        chatter = self.chatter_bodies(self.old_dm.ticket_id | self.ticket)
        self.assertNotIn("06-87654321", chatter)
        self.assertNotIn("Stuur ons je nummer", chatter)
        self.assertIn("Wat vervelend!", chatter)
        self.assertIn(
            "Direct message removed after the retention period (365 days).",
            str(old_copy.body),
        )
        self.assertTrue(old_copy.webcare_purged_at)
        self.assertEqual(
            old_copy.subtype_id, self.env.ref("webcare_social.mt_webcare_dm")
        )
        # the recent ones are untouched
        recent = self.all - old
        self.assertFalse(any(recent.mapped("purged_at")))
        self.assertTrue(all(recent.mapped("payload")))
        self.assertEqual(self.new_dm.body, NEW_DM)
        self.assertIn(NEW_DM, str(self.new_dm.chatter_message_id.body))
        self.assertFalse(self.new_dm.chatter_message_id.webcare_purged_at)

    def test_the_screens_say_the_text_was_removed(self):
        self.purge()
        dm = self.old_dm.with_user(self.agent)
        self.assertEqual(dm.display_name, f"@AnnaWC: {NOTICE}")
        self.assertIn(NOTICE, dm._banner_text())
        events = self.anna.with_user(self.agent).webcare_timeline()
        summaries = {e["id"]: e["summary"] for e in events if e["kind"] == "dm"}
        self.assertEqual(summaries[f"m-{self.old_dm.id}"], NOTICE)
        self.assertEqual(summaries[f"m-{self.new_dm.id}"], NEW_DM)
        # sales still only learn that a DM exists
        events = self.anna.with_user(self.sales).webcare_timeline()
        dm_event = next(e for e in events if e["id"] == f"m-{self.old_dm.id}")
        self.assertTrue(dm_event["redacted"])
        # nothing purged is retried: its payload is gone
        self.private.state = "failed"
        self.private.action_retry()
        self.assertEqual(self.private.state, "failed")

    def test_statistics_do_not_change(self):
        self.assertTrue(self.ticket.webcare_first_response_at)
        report, rows = self.report(), self.snapshot(self.all)
        tickets = self.all.ticket_id.read(["stage_id", "webcare_sla_status", "name"])
        self.assertTrue(any(line[0] == "message" for line in report))

        self.assertEqual(self.purge(), 5)

        self.env.invalidate_all()
        self.assertEqual(self.report(), report)
        self.assertEqual(self.snapshot(self.all), rows)
        self.assertEqual(
            self.all.ticket_id.read(["stage_id", "webcare_sla_status", "name"]), tickets
        )

    def test_purged_rows_are_not_purged_twice(self):
        self.assertEqual(self.purge(), 5)
        stamps = self.all.read(["purged_at"])
        copy = self.old_dm.chatter_message_id
        copy_stamp = copy.webcare_purged_at
        self.assertEqual(self.purge(), 0)
        self.env.invalidate_all()
        self.assertEqual(self.all.read(["purged_at"]), stamps)
        self.assertEqual(copy.webcare_purged_at, copy_stamp)
        self.assertEqual(
            self.Retention._count(self.ago(365)), 0, "nothing is left to visit"
        )

    def test_replies_not_sent_yet_keep_their_text(self):
        waiting = self.ticket.with_user(self.agent).webcare_reply(
            "Bel ons gerust", private=True
        )
        waiting = waiting.sudo()
        waiting.state = "to_approve"
        self.age(waiting, 400, ["posted_at", "create_date"])
        self.age(waiting.chatter_message_id, 400, ["date"])
        self.purge()
        self.assertEqual(waiting.body, "Bel ons gerust")
        self.assertFalse(waiting.purged_at)
        self.assertIn("Bel ons gerust", str(waiting.chatter_message_id.body))

    def test_a_copy_without_its_message_goes_by_its_own_date(self):
        """DMs copied before the messages kept their copy: by the copy's date."""
        old_copy, new_copy = (
            self.old_dm.chatter_message_id,
            self.new_dm.chatter_message_id,
        )
        (self.old_dm | self.new_dm).chatter_message_id = False
        self.purge()
        self.assertIn(OLD_DM, str(old_copy.body), "received today, kept")
        self.age(old_copy, 366, ["date"])
        self.assertEqual(self.purge(), 1)
        self.assertNotIn(OLD_DM, str(old_copy.body))
        self.assertIn(NEW_DM, str(new_copy.body))

    def test_details_found_in_a_dm_are_kept_for_recognition(self):
        evidence = self.old_dm.evidence_ids
        self.assertIn("+31687654321", evidence.mapped("value"))
        self.purge()
        self.assertEqual(self.old_dm.evidence_ids, evidence)

    def test_settings_set_the_period(self):
        Settings = self.env["res.config.settings"]
        self.assertEqual(Settings.create({}).webcare_retention_days, 365)
        # a longer period than the old messages' age: nothing goes
        Settings.create({"webcare_retention_days": 500}).execute()
        self.assertEqual(self.purge(), 0)
        # 0 is kept as 0 and keeps everything
        Settings.create({"webcare_retention_days": 0}).execute()
        self.assertEqual(Settings.create({}).webcare_retention_days, 0)
        self.age(self.all, 1000, ["posted_at"])
        self.assertEqual(self.purge(), 0)
        self.assertFalse(any(self.all.mapped("purged_at")))
        # a shorter period applies at once: the cron is triggered
        cron = self.env.ref("webcare_social.ir_cron_webcare_retention")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        Settings.create({"webcare_retention_days": 30}).execute()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertEqual(self.purge(), len(self.all))
        # the settings tell when it ran and how much it removed
        settings = Settings.create({})
        self.assertTrue(settings.webcare_retention_last_run)
        self.assertEqual(settings.webcare_retention_last_count, len(self.all))


@tagged("post_install", "-at_install")
class TestRetentionBatches(RetentionCase):
    """Five old posts purged two by two, as the cron runs it."""

    def setUp(self):
        super().setUp()
        for number in range(5):
            self.mention(STRANGER_ID, f"klacht {number}", created_at=self.ago(400))
        self.mention(STRANGER_ID, "recente klacht")
        self.messages = self.fetch()
        self.assertEqual(len(self.messages), 6)

    def run_cron(self, out_of_time=False):
        """One call of the cron's server action with its progress record, the
        way ``ir.cron`` makes it; return ``(purged, done, remaining)``."""
        cron = self.env.ref("webcare_social.ir_cron_webcare_retention")
        with self.enter_registry_test_mode(), self.registry.cursor() as cr:
            env = self.env(cr=cr, context={"cron_id": cron.id})
            job, progress = env["ir.cron"].browse(cron.id)._add_progress()
            # a run whose time is up after its first batch
            end = {"cron_end_time": time.monotonic()} if out_of_time else {}
            purged = (
                env["webcare.retention"]
                .with_context(**job.env.context, **end)
                ._cron_purge(batch_size=2)
            )
            return purged, progress.done, progress.remaining

    def purged(self):
        self.messages.invalidate_recordset()
        return self.messages.filtered("purged_at")

    def test_a_run_out_of_time_reports_what_remains_and_the_next_one_finishes(self):
        self.assertEqual(self.run_cron(out_of_time=True), (2, 2, 3))
        self.assertEqual(len(self.purged()), 2)
        self.assertEqual(self.run_cron(), (3, 3, 0))
        self.assertEqual(len(self.purged()), 5)
        self.assertEqual(self.run_cron(), (0, 0, 0))

    def test_batches_are_of_the_size_asked(self):
        queries = []
        Message = self.env["webcare.message"]
        cutoff = self.ago(365)
        while count := Message._retention_purge(cutoff, 365, 2):
            queries.append(count)
        self.assertEqual(queries, [2, 2, 1])

    def test_a_second_run_waits_for_the_first(self):
        """Another run holding the retention lock: this one purges nothing."""
        with self.registry.cursor() as other:
            other.execute("SELECT pg_advisory_xact_lock(hashtext('webcare.retention'))")
            self.assertEqual(self.purge(), 0)
            self.assertFalse(self.purged())
            other.rollback()
        self.assertEqual(self.purge(), 5)


@tagged("post_install", "-at_install")
class TestRetentionOtherCopies(RetentionCase):
    """Webhook bodies and imported files are raw copies too."""

    def test_webhook_bodies_are_removed(self):
        Delivery = self.env["webcare.webhook.delivery"]
        old, recent = Delivery.create(
            [
                {
                    "channel_id": self.channel.id,
                    "delivery_id": delivery_id,
                    "state": "failed",
                    "error": "Not JSON",
                    "body": "{bad json from Anna",
                    "received_at": received_at,
                }
                for delivery_id, received_at in (
                    ("d-old", self.ago(400)),
                    ("d-new", self.ago(1)),
                )
            ]
        )
        self.assertEqual(self.purge(), 1)
        self.assertFalse(old.body)
        self.assertTrue(old.purged_at)
        self.assertEqual(old.error, "Not JSON")
        self.assertEqual(recent.body, "{bad json from Anna")
        self.assertFalse(recent.purged_at)

    def new_import(self):
        record = self.env["webcare.file.import"].create(
            {
                "channel_id": self.channel.id,
                "file": base64.b64encode(CSV.encode()),
                "file_name": "export.csv",
            }
        )
        record.action_read_file()
        return record

    def test_imported_files_are_removed_and_abandoned_imports_deleted(self):
        done, abandoned, running, recent = (self.new_import() for _i in range(4))
        done.state = "done"
        running.state = "storing"
        recent.state = "done"
        self.age(done | abandoned | running, 400, ["create_date", "write_date"])
        self.assertIn("Mijn koffer is kwijt", done.column_ids.mapped("sample"))

        self.assertEqual(self.purge(), 2)

        self.assertFalse(abandoned.exists())
        self.assertTrue(done.purged_at)
        self.assertFalse(done.file)
        self.assertFalse(any(done.column_ids.mapped("sample")))
        self.assertEqual(done.column_ids.mapped("name")[:2], ["Message ID", "Sender"])
        self.assertFalse(
            self.env["ir.attachment"].search(
                [
                    ("res_model", "=", "webcare.file.import"),
                    ("res_field", "=", "file"),
                    ("res_id", "=", done.id),
                ]
            )
        )
        for kept in (running, recent):
            self.assertTrue(kept.file)
            self.assertFalse(kept.purged_at)
