"""Forgetting a person (GDPR erasure): nothing readable of them remains."""

import base64
import io
import json
import time
from collections import defaultdict
from datetime import timedelta

from PIL import Image

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

from ..services.webhook import sign
from .common_x import WebcareTeamCase

ZOFIA_ID = "1690000000000000077"
NAME = "Zofia Kowalczyk"
OLD_EMAIL = "zofia.k@oudmail.test"
EMAIL = "zofia.kowalczyk@voorbeeld.test"
PHONE = "06-39182746"
TYPED_HANDLE = "ZofiaTravels"  # typed by the agent, then changed on X
HANDLE = "ZofiaKowa"
POST = "waar blijft mijn rolstoel na vlucht PA4711"
FOLLOW_UP = "nog steeds geen rolstoel, ik sta hier al twee uur"
DM = "Bel me gerust op 06 5544 3322 over de rolstoel, groet Zofia"
REPLY = "@ZofiaKowa Wat vervelend Zofia, we zoeken het meteen uit"
CALL_NOTE = "Belde over de rolstoel van PA4711, wil vergoeding"
# everything that identifies her, as the scenario writes it
WRITTEN = (
    NAME,
    "Kowalczyk",
    OLD_EMAIL,
    EMAIL,
    TYPED_HANDLE,
    HANDLE,
    ZOFIA_ID,
    POST,
    FOLLOW_UP,
    DM,
    REPLY,
    CALL_NOTE,
    "rolstoel",
    # her number as written, as typed at the call and in E.164
    PHONE,
    "0639182746",
    "+31639182746",
    "639182746",
    # the number she sent by DM, as written and in E.164
    "06 5544 3322",
    "+31655443322",
    "655443322",
)
# other notations, in case something rewrote a number
SECRETS = (
    *WRITTEN,
    "+31 6 39182746",
    "06 3918 2746",
    "0031639182746",
    "0655443322",
    "06-55443322",
)


def png():
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data, "PNG")
    return base64.b64encode(data.getvalue())


@tagged("post_install", "-at_install")
class TestForgetPerson(WebcareTeamCase):
    """A customer with everything the module keeps about people, then forgotten."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # as in production: chatter, tracking and followers on
        cls.env = cls.env(
            context={
                k: v
                for k, v in cls.env.context.items()
                if k not in DISABLED_MAIL_CONTEXT
            }
        )
        cls.channel = cls.channel.with_env(cls.env)
        cls.team.user_ids = [(4, cls.manager.id)]

    def setUp(self):
        super().setUp()
        self.standin.add_user(ZOFIA_ID, HANDLE, NAME, followers_count=120)
        self.zofia = self.env["res.partner"].create(
            {
                "name": NAME,
                "email": OLD_EMAIL,
                "phone": PHONE,
                "street": "Rolstoelpad 12",
                "city": "Zwolle",
                "comment": f"<p>{NAME} reist vaak met een rolstoel</p>",
                "image_1920": png(),
            }
        )
        self.identity = (
            self.env["webcare.identity"]
            .with_user(self.agent)
            .create(
                {
                    "network": "x",
                    "handle": TYPED_HANDLE,
                    "external_id": ZOFIA_ID,
                    "partner_id": self.zofia.id,
                    "consent": True,
                    "consent_method": "phone",
                }
            )
        )
        first = self.mention(ZOFIA_ID, POST, lang="nl")
        self.mention(ZOFIA_ID, FOLLOW_UP, in_reply_to=first["id"], lang="nl")
        self.standin.add_dm(ZOFIA_ID, DM)
        self.fetch()
        self.ticket = self.env["helpdesk.ticket"].search(
            [("partner_id", "=", self.zofia.id)]
        )
        self.assertEqual(len(self.ticket), 1)
        self.ticket.with_user(self.agent).webcare_reply(REPLY)
        self.call = (
            self.env["webcare.call"]
            .with_user(self.agent)
            .create(
                {"phone": "0639182746", "note": CALL_NOTE, "ticket_id": self.ticket.id}
            )
        )
        # an e-mail to her from the ticket, and a to-do about her
        self.ticket.with_user(self.agent).message_post(
            body=f"Beste {NAME}, uw rolstoel is gevonden.",
            partner_ids=self.zofia.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.ticket.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=f"{NAME} terugbellen",
            user_id=self.agent.id,
        )
        # tracked changes on the ticket and on the contact
        stage = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_in_progress")
        self.ticket.with_user(self.agent).write(
            {"stage_id": stage.id, "user_id": self.agent.id}
        )
        self.zofia.write({"email": EMAIL})
        self.env.cr.precommit.run()  # tracking is written just before commit
        self.messages = self.env["webcare.message"].search(
            [("ticket_id", "=", self.ticket.id)]
        )

    # helpers ------------------------------------------------------------

    def scan(self, terms=SECRETS):
        """Where each term is written: ``{term: ["table.column", ...]}``.

        Every text, varchar and JSON column of every table of the database.
        """
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """SELECT c.table_name, c.column_name
                 FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = current_schema()
                  AND t.table_type = 'BASE TABLE'
                  AND c.data_type IN ('text', 'character varying', 'character',
                                      'jsonb', 'json')"""
        )
        columns = cr.fetchall()
        self.assertGreater(len(columns), 500)
        hits = defaultdict(list)
        for table, column in columns:
            cr.execute(
                SQL(
                    "SELECT term FROM unnest(%s::text[]) AS term "
                    "WHERE EXISTS (SELECT FROM %s WHERE %s::text ILIKE "
                    "'%%' || term || '%%')",
                    list(terms),
                    SQL.identifier(table),
                    SQL.identifier(column),
                )
            )
            for (term,) in cr.fetchall():
                hits[term].append(f"{table}.{column}")
        return dict(hits)

    def statistics(self):
        messages = self.env["webcare.message"].search_count(
            [("channel_id", "=", self.channel.id)]
        )
        report = self.env["webcare.report.response"]._read_group(
            [("channel_id", "=", self.channel.id)],
            [],
            [
                "__count",
                "message_count:sum",
                "ticket_count:sum",
                "answered_count:sum",
                "response_minutes:sum",
            ],
        )
        return messages, report

    def chatter_hits(self):
        """Chatter messages and tracked values that mention her."""
        self.env.flush_all()
        patterns = [f"%{term}%" for term in SECRETS]
        self.env.cr.execute(
            """SELECT count(*) FROM mail_message
                WHERE concat_ws(' ', body, subject, email_from, reply_to,
                                incoming_email_to, incoming_email_cc,
                                outgoing_email_to) ILIKE ANY(%s)""",
            [patterns],
        )
        (messages,) = self.env.cr.fetchone()
        self.env.cr.execute(
            """SELECT count(*) FROM mail_tracking_value
                WHERE concat_ws(' ', old_value_char, new_value_char) ILIKE ANY(%s)""",
            [patterns],
        )
        return messages, self.env.cr.fetchone()[0]

    def forget(self, user=None):
        wizard = (
            self.env["webcare.forget"]
            .with_user(user or self.manager)
            .create({"partner_id": self.zofia.id, "confirmation": "forget"})
        )
        action = wizard.action_forget()
        return self.env["webcare.erasure"].browse(action["res_id"])

    # tests --------------------------------------------------------------

    def test_nothing_readable_remains(self):
        before = self.scan()
        self.assertLessEqual(set(WRITTEN), set(before), "the scan finds what is there")
        self.assertIn("mail_message.body", before[DM])
        self.assertIn("mail_message.body", before[NAME])
        self.assertIn("mail_tracking_value.old_value_char", before[OLD_EMAIL])
        self.assertIn("webcare_message.payload", before[DM])
        self.assertIn("webcare_evidence.value", before["+31655443322"])
        self.assertIn("webcare_identity_handle.handle", before[TYPED_HANDLE])
        self.assertIn("webcare_call.note", before[CALL_NOTE])
        self.assertIn("mail_mail.body_html", before[NAME])
        self.assertIn("mail_activity.summary", before[NAME])
        chatter_hits = self.chatter_hits()
        self.assertGreater(chatter_hits[0], 5)
        self.assertGreater(chatter_hits[1], 0)
        statistics = self.statistics()

        erasure = self.forget()

        self.env.cr.precommit.run()  # what the erasure itself would write at commit
        self.assertEqual(self.scan(), {})
        self.assertEqual(self.chatter_hits(), (0, 0))
        self.assertEqual(self.statistics(), statistics)
        self.assertEqual(len(self.messages.exists()), 4)
        self.assertEqual(set(self.messages.mapped("kind")), {"mention", "reply", "dm"})
        self.assertFalse(self.zofia.active)
        self.assertEqual(self.zofia.name, f"Forgotten person {erasure.id}")
        self.assertFalse(self.zofia.image_1920)
        self.assertFalse(self.zofia.message_ids)
        self.assertFalse(self.identity.exists())
        self.assertEqual(self.call.partner_id, self.zofia)
        self.assertEqual(self.ticket.partner_id, self.zofia)
        self.assertEqual(self.ticket.name, "Personal data erased")

    def test_the_erasure_is_recorded_without_data(self):
        erasure = self.forget()
        self.assertEqual(erasure.user_id, self.manager)
        self.assertAlmostEqual(
            erasure.erased_at, fields.Datetime.now(), delta=timedelta(minutes=1)
        )
        self.assertEqual(erasure.partner_id, self.zofia)
        counts = erasure.read(
            [
                "identity_count",
                "handle_count",
                "message_count",
                "evidence_count",
                "call_count",
                "ticket_count",
            ]
        )[0]
        del counts["id"]
        self.assertEqual(
            counts,
            {
                "identity_count": 1,
                "handle_count": 1,
                "message_count": 4,
                "evidence_count": 2,  # the number sent by DM, the flight
                "call_count": 1,
                "ticket_count": 1,
            },
        )
        self.assertGreater(erasure.chatter_deleted_count, 0)
        self.assertGreater(erasure.tracking_count, 0)
        self.assertEqual(
            erasure.with_user(self.manager).read(["name"])[0]["name"],
            f"Forgotten person {erasure.id}",
        )
        with self.assertRaises(AccessError):
            erasure.with_user(self.agent).read(["erased_at"])

    def test_only_managers_forget(self):
        with self.assertRaises(AccessError):
            self.forget(user=self.agent)
        with self.assertRaises(AccessError):
            self.env["webcare.erasure"].with_user(self.agent)._forget(self.zofia)
        self.assertEqual(self.zofia.name, NAME)
        self.assertTrue(self.identity.exists())

    def test_the_word_must_be_typed(self):
        wizard = (
            self.env["webcare.forget"]
            .with_user(self.manager)
            .create({"partner_id": self.zofia.id, "confirmation": "yes"})
        )
        self.assertIn("Social messages (4)", str(wizard.summary))
        with self.assertRaises(UserError):
            wizard.action_forget()
        self.assertEqual(self.zofia.name, NAME)

    def test_a_failure_halfway_changes_nothing(self):
        before = self.scan()
        chatter = self.ticket.message_ids
        # the database refuses the contact's new name, as a broken
        # connection or a full disk would refuse a write: the identities,
        # messages, calls and tickets were already erased by then
        self.env.cr.execute(
            SQL(
                """CREATE FUNCTION webcare_test_refuse() RETURNS trigger AS $$
                   BEGIN RAISE EXCEPTION 'could not write the contact'; END;
                   $$ LANGUAGE plpgsql;
                   CREATE TRIGGER webcare_test_refuse BEFORE UPDATE OF name
                   ON res_partner FOR EACH ROW WHEN (OLD.id = %s)
                   EXECUTE FUNCTION webcare_test_refuse()""",
                self.zofia.id,
            )
        )
        with (
            mute_logger(
                "odoo.sql_db", "odoo.addons.webcare_social.models.webcare_erasure"
            ),
            self.assertRaisesRegex(UserError, "Nothing was erased"),
        ):
            self.forget()
        self.env.cr.execute("DROP TRIGGER webcare_test_refuse ON res_partner")
        self.assertEqual(self.scan(), before)
        self.assertTrue(self.identity.exists())
        self.assertEqual(self.ticket.message_ids, chatter)
        self.assertEqual(self.call.note, CALL_NOTE)
        self.assertIn(DM, self.messages.mapped("body"))
        self.assertFalse(self.env["webcare.erasure"].search([]))

    def test_raw_bodies_and_imported_files_are_erased(self):
        """Her posts that came by webhook or in a file, next to someone else's."""
        her = {"id": ZOFIA_ID, "handle": f"@{HANDLE}", "name": NAME, "network": "x"}
        other = {"id": "u-piet", "handle": "@pietj", "name": "Piet Jansen"}
        delivery = self.receive_webhook(
            [
                {"id": "w1", "text": f"{POST} (webhook)", "author": her},
                {"id": "w2", "text": "Mijn tas is zoek", "author": other},
            ]
        )
        imported = self.import_file(
            [
                {"id": "f1", "text": f"{FOLLOW_UP} (file)", "user": her},
                {"id": "f2", "text": "Waar is mijn fiets?", "user": other},
            ]
        )
        hers = self.env["webcare.message"].search([("external_id", "in", ["w1", "f1"])])
        self.assertEqual(hers.identity_id, self.identity)
        self.assertIn(NAME, delivery.body)

        erasure = self.forget()

        self.assertEqual(self.scan(), {})
        self.assertEqual((erasure.delivery_count, erasure.file_count), (1, 1))
        self.assertEqual(erasure.message_count, 6)
        self.assertFalse(delivery.body)
        self.assertEqual(delivery.accepted_count, 2)
        self.assertFalse(imported.file)
        self.assertEqual(imported.stored_count, 2)
        theirs = self.env["webcare.message"].search(
            [("external_id", "in", ["w2", "f2"])]
        )
        self.assertEqual(
            sorted(theirs.mapped("body")), ["Mijn tas is zoek", "Waar is mijn fiets?"]
        )

    def receive_webhook(self, items):
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        channel = self.env["webcare.channel"].create(
            {
                "name": "Listening tool",
                "provider": "webhook",
                "webhook_secret": secret,
                "team_id": self.team.id,
                "state": "connected",
            }
        )
        body = json.dumps({"items": items}).encode()
        stamp = str(int(time.time()))
        headers = {
            "webhook-id": "msg_zofia",
            "webhook-timestamp": stamp,
            "webhook-signature": sign(secret, "msg_zofia", stamp, body),
        }
        Delivery = self.env["webcare.webhook.delivery"]
        status, answer = Delivery._receive(channel, headers, body)
        self.assertEqual((status, answer["accepted"]), (202, 2), answer)
        Delivery._cron_process()
        return Delivery.search([("channel_id", "=", channel.id)])

    def import_file(self, rows):
        lines = "\n".join(
            json.dumps({"created_at": "2026-11-18T09:15:00+01:00", **row})
            for row in rows
        )
        record = self.env["webcare.file.import"].create(
            {
                "channel_id": self.channel.id,
                "file": base64.b64encode(lines.encode()),
                "file_name": "export.jsonl",
                "tz": "Europe/Amsterdam",
            }
        )
        record.action_read_file()
        record.action_import()
        self.env["webcare.file.import"]._cron_run()
        self.assertEqual(record.state, "done", record.error)
        return record

    def test_a_user_is_not_forgotten_here(self):
        with self.assertRaisesRegex(UserError, "belongs to a user"):
            self.env["webcare.erasure"].with_user(self.manager)._forget(
                self.agent.partner_id
            )
