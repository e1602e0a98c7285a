import base64
import io
from datetime import datetime, timedelta, timezone
from unittest.mock import patch
from zoneinfo import ZoneInfo

from lxml import html

from odoo.exceptions import UserError
from odoo.tests import BaseCase, tagged

from ..services.dto import ItemError, SocialPost
from ..tools import file_import
from .common import WebcareCase

# an export as a listening tool writes it: semicolons, a BOM, Dutch dates
SPRINKLR_CSV = (
    "Message ID;Sender Screen Name;Sender Name;Message;Created Time;Message Type;"
    "Followers;Conversation ID;Permalink\n"
    "m1;@anna_dv;Anna de Vries;Mijn koffer is kwijt;18/11/2026 09:15;"
    "Twitter Mention;812;c1;https://x.com/anna_dv/status/m1\n"
    "m2;PolderAir;PolderAir;@anna_dv Vervelend! Stuur ons een DM;18/11/2026 09:20;"
    "Twitter Reply;50.000;c1;\n"
    "m3;anna_dv;Anna de Vries;Nog steeds niets;18/11/2026 10:00;Twitter Reply;812;"
    "c1;\n"
    "m4;bob;Bob;RT @anna_dv Mijn koffer is kwijt;18/11/2026 09:30;Retweet;10;c2;\n"
    "m5;carl;Carl;Waar blijft mijn geld?;31/02/2026 10:00;Twitter Mention;5;c3;\n"
    'm6;dora;Dora;"Vlucht vertraagd;\nwat nu?";2026-11-18T11:00:00Z;'
    "Twitter Direct Message;0;d1;\n"
)
JSONL = (
    '{"id": "j1", "created_at": "2026-11-18T09:15:00+01:00", "text": "Waar is '
    'mijn koffer?", "lang": "nl-NL", "user": {"screen_name": "anna_dv", "id": "u1",'
    ' "followers_count": 812}}\n'
    "\n"
    '{"created_at": "2026-11-18T09:45:00+01:00", "text": "Hallo?", "in_reply_to":'
    ' "j1", "user": {"screen_name": "anna_dv", "id": "u1"}}\n'
    "not json\n"
)


def _layout_of(text, **options):
    data = text.encode("utf-8-sig") if isinstance(text, str) else text
    handle = io.BytesIO(data)
    return handle, file_import.inspect(handle, **options)


@tagged("post_install", "-at_install")
class TestFileImportReading(BaseCase):
    """The plain reading of export files (``tools/file_import.py``)."""

    def rows(self, text, **options):
        handle, layout = _layout_of(text, **options)
        return layout, list(file_import.read_rows(handle, layout))

    def convert_all(self, text, mapping=None, **options):
        layout, rows = self.rows(text)
        if mapping is None:
            guessed = file_import.guess_mapping(layout.columns)
            mapping = {target: column for column, target in guessed.items() if target}
        opts = file_import.Options(network="x", **options)
        return [file_import.convert(row, mapping, opts) for row in rows]

    def test_csv_with_semicolons_and_bom(self):
        layout, rows = self.rows(SPRINKLR_CSV)
        self.assertEqual(layout.format, "csv")
        self.assertEqual(layout.delimiter, ";")
        self.assertEqual(layout.encoding, "utf-8-sig")
        self.assertEqual(layout.columns[0], "Message ID", "the BOM is not in the name")
        self.assertEqual([r.number for r in rows], [2, 3, 4, 5, 6, 7])
        self.assertEqual(rows[5].values["Message"], "Vlucht vertraagd;\nwat nu?")

    def test_tab_and_comma_and_cp1252(self):
        layout, rows = self.rows("id\ttext\ttime\n1\tHallo, hier\t2026-11-18 10:00\n")
        self.assertEqual(layout.delimiter, "\t")
        self.assertEqual(rows[0].values["text"], "Hallo, hier")
        data = "id,text,time,user\n1,Café € 20,2026-11-18 10:00,anna\n".encode("cp1252")
        layout, rows = self.rows(data)
        self.assertEqual(layout.encoding, "cp1252")
        self.assertIn("Windows-1252", layout.note)
        self.assertEqual(rows[0].values["text"], "Café € 20")

    def test_unreadable_files_are_refused_with_a_reason(self):
        cases = (
            (b"", "export.csv", "empty"),
            (b'[{"id": 1}]', "export.json", "JSON Lines"),
            (b"PK\x03\x04\x14\x00", "export.xlsx", "spreadsheet"),
        )
        for data, name, reason in cases:
            with (
                self.subTest(reason=reason),
                self.assertRaises(file_import.FileImportError) as caught,
            ):
                file_import.inspect(io.BytesIO(data), filename=name)
            self.assertIn(reason, caught.exception.message)

    def test_mapping_guessed_from_headers(self):
        layout, _rows = self.rows(SPRINKLR_CSV)
        self.assertEqual(
            file_import.guess_mapping(layout.columns),
            {
                "Message ID": "external_id",
                "Sender Screen Name": "author_handle",
                "Sender Name": "author_name",
                "Message": "body",
                "Created Time": "posted_at",
                "Message Type": "kind",
                "Followers": "followers",
                "Conversation ID": "conversation",
                "Permalink": "url",
            },
        )
        jsonl_layout, _rows = self.rows(JSONL)
        self.assertEqual(jsonl_layout.format, "jsonl")
        guessed = file_import.guess_mapping(jsonl_layout.columns)
        self.assertEqual(guessed["user.screen_name"], "author_handle")
        self.assertEqual(guessed["user.id"], "author_id")
        self.assertEqual(guessed["user.followers_count"], "followers")
        self.assertEqual(guessed["created_at"], "posted_at")

    def test_mapping_problems(self):
        problems = file_import.mapping_problems(
            [("Message", "body"), ("Text", "body"), ("Handle", False)]
        )
        self.assertEqual(
            problems,
            [
                ("twice", ("body", ["Message", "Text"])),
                ("no_time", None),
                ("no_author", None),
            ],
        )

    def test_rows_become_posts(self):
        items = self.convert_all(
            SPRINKLR_CSV,
            tz=ZoneInfo("Europe/Amsterdam"),
            own_handles=frozenset({"polderair"}),
        )
        first = items[0]
        self.assertIsInstance(first, SocialPost)
        self.assertEqual(first.external_id, "m1")
        self.assertEqual(first.author.handle, "anna_dv")
        self.assertEqual(first.author.followers_count, 812)
        self.assertEqual(first.posted_at, datetime(2026, 11, 18, 8, 15), "in UTC")
        self.assertEqual(first.conversation_ref, "c1")
        self.assertIn('"Message ID": "m1"', first.raw)
        self.assertEqual(items[1].direction, "outbound", "our own account")
        self.assertEqual(items[1].author.followers_count, 50000)
        self.assertEqual(items[2].kind, "reply")
        self.assertTrue(items[3].is_repost)
        self.assertEqual(items[5].kind, "dm")
        self.assertEqual(items[5].posted_at, datetime(2026, 11, 18, 11, 0))

    def test_bad_row_is_an_error_naming_row_and_reason(self):
        items = self.convert_all(SPRINKLR_CSV)
        error = items[4]
        self.assertIsInstance(error, ItemError)
        self.assertEqual(error.external_id, "m5")
        self.assertEqual(
            error.error, "Row 6: the time '31/02/2026 10:00' is not a date and time."
        )
        self.assertIn("Waar blijft mijn geld?", error.raw)
        self.assertEqual(error.partial.body, "Waar blijft mijn geld?")
        self.assertEqual(error.partial.author_handle, "carl")

    def test_every_problem_of_a_row_is_named(self):
        text = "id;handle;text;time;type;followers\n1;Anna de Vries;;;weird;lots\n"
        [error] = self.convert_all(text)
        self.assertIn("Row 2:", error.error)
        for part in ("has spaces", "no text", "no time", "kind 'weird'", "lots"):
            self.assertIn(part, error.error)

    def test_jsonl_rows(self):
        items = self.convert_all(JSONL)
        first, reply, broken = items
        self.assertEqual(first.author.external_id, "u1")
        self.assertEqual(first.lang, "nl")
        self.assertEqual(first.posted_at, datetime(2026, 11, 18, 8, 15))
        self.assertEqual(reply.kind, "reply", "it answers j1")
        self.assertEqual(reply.parent_ref, "j1")
        self.assertEqual(reply.conversation_ref, "j1", "threaded under its parent")
        self.assertTrue(reply.external_id.startswith("file:"))
        self.assertIsInstance(broken, ItemError)
        self.assertTrue(broken.error.startswith("Row 4: this line is not valid JSON"))

    def test_hash_id_is_the_same_in_another_export(self):
        """Without an id column, the same post in another export has the same id."""
        one = "user,text,date\nanna,Koffer kwijt,2026-11-18T09:15:00Z\n"
        other = (
            "date;sentiment;text;user\n18-11-2026 10:15;negative;Koffer kwijt;@Anna\n"
        )
        [first] = self.convert_all(one)
        [second] = self.convert_all(other, tz=ZoneInfo("Europe/Amsterdam"))
        self.assertEqual(first.external_id, second.external_id)
        [third] = self.convert_all(one.replace("kwijt", "terug"))
        self.assertNotEqual(first.external_id, third.external_id)

    def test_values(self):
        parse = file_import.parse_time
        utc = timezone.utc
        self.assertEqual(parse("1763457300"), datetime(2025, 11, 18, 9, 15))
        self.assertEqual(parse("1763457300000"), datetime(2025, 11, 18, 9, 15))
        self.assertEqual(
            parse("Tue Nov 18 09:15:00 +0000 2025"), datetime(2025, 11, 18, 9, 15)
        )
        self.assertEqual(
            parse("03/04/2026 10:00", utc, dayfirst=False), datetime(2026, 3, 4, 10)
        )
        self.assertEqual(parse("03/04/2026 10:00", utc), datetime(2026, 4, 3, 10))
        for text in ("Nov 2026", "tomorrow-ish", "18 November"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                parse(text)
        self.assertEqual(file_import.parse_count("12.5K"), 12500)
        self.assertEqual(file_import.parse_count("1,234"), 1234)
        self.assertEqual(file_import.parse_count("50.000"), 50000)
        self.assertEqual(file_import.parse_count("1234.0"), 1234)
        self.assertEqual(file_import.parse_count("n/a"), 0)
        self.assertEqual(file_import.parse_network("X (Twitter)"), "x")
        self.assertEqual(file_import.parse_network("news site"), "other")
        self.assertEqual(file_import.parse_kind("Facebook Comment"), ("reply", False))


@tagged("post_install", "-at_install")
class TestFileImport(WebcareCase):
    """The import wizard: mapping, preview, dry run, import, re-import."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["helpdesk.ticket.team"].create({"name": "Webcare NL"})
        cls.channel = cls.env["webcare.channel"].create(
            {
                "name": "PolderAir on X",
                "team_id": cls.team.id,
                "account_handle": "PolderAir",
                "account_external_id": "1500000000000000001",
            }
        )
        cls.Message = cls.env["webcare.message"]

    def start(self, content, name="export.csv", **vals):
        data = content.encode("utf-8-sig") if isinstance(content, str) else content
        record = self.env["webcare.file.import"].create(
            {
                "channel_id": self.channel.id,
                "file": base64.b64encode(data),
                "file_name": name,
                "tz": "Europe/Amsterdam",
                **vals,
            }
        )
        record.action_read_file()
        return record

    def run_import(self, record):
        record.action_import()
        self.assertEqual(record.state, "queued")
        self.env["webcare.file.import"]._cron_run()
        self.assertEqual(record.state, "done", record.error)
        return record

    def column(self, record, name):
        return record.column_ids.filtered(lambda c: c.name == name)

    def preview(self, record):
        """``{row number: what happens}`` read from the preview table."""
        record.invalidate_recordset(["preview_html"])
        tree = html.fromstring(str(record.preview_html))
        return {
            int(tr.xpath("td[1]")[0].text_content()): tr.xpath("td[5]")[0]
            .text_content()
            .strip()
            for tr in tree.xpath("//tbody/tr")
        }

    def channel_messages(self):
        return self.Message.search([("channel_id", "=", self.channel.id)])

    # ------------------------------------------------------------------

    def test_read_file_proposes_mapping(self):
        record = self.start(SPRINKLR_CSV)
        self.assertEqual(record.state, "mapping")
        self.assertEqual(record.layout_summary, "CSV, semicolon-separated, UTF-8")
        self.assertEqual(record.own_handles, "PolderAir", "the channel's account")
        self.assertEqual(
            record.column_ids.mapped("name")[:4],
            ["Message ID", "Sender Screen Name", "Sender Name", "Message"],
        )
        message = self.column(record, "Message")
        self.assertEqual(message.target, "body")
        self.assertEqual(message.sample, "Mijn koffer is kwijt")

    def test_preview_says_what_would_happen(self):
        record = self.start(SPRINKLR_CSV)
        self.assertEqual(
            self.preview(record),
            {
                2: "New ticket",
                3: "Ignored: Posted by our own account",
                4: "Added to the new ticket of row 2",
                5: "Ignored: Repost / retweet",
                6: "Error: the time '31/02/2026 10:00' is not a date and time",
                7: "New ticket",
            },
        )
        self.assertFalse(self.channel_messages(), "the preview writes nothing")

    def test_preview_follows_a_changed_mapping(self):
        record = self.start(SPRINKLR_CSV)
        self.column(record, "Message Type").target = False
        self.assertEqual(self.preview(record)[5], "New ticket", "no longer a repost")
        self.column(record, "Sender Screen Name").target = False
        self.column(record, "Sender Name").target = "author_handle"
        self.assertIn("'Anna de Vries' has spaces", self.preview(record)[2])

    def test_preview_sees_stored_tickets(self):
        self.run_import(self.start(SPRINKLR_CSV))
        ticket = self.channel_messages().filtered(lambda m: m.external_id == "m1")
        ticket = ticket.ticket_id
        text = SPRINKLR_CSV + "m7;anna_dv;Anna;Hallo?;19/11/2026 08:00;;812;c1;\n"
        outcomes = self.preview(self.start(text))
        self.assertEqual(outcomes[2], "Already imported")
        self.assertEqual(outcomes[6], "Already imported", "the failed row too")
        self.assertEqual(outcomes[8], f"Added to ticket {ticket.number}")

    def test_mapping_errors(self):
        record = self.start(SPRINKLR_CSV)
        self.column(record, "Message").target = False
        self.column(record, "Permalink").target = "posted_at"
        with self.assertRaises(UserError) as caught:
            record.action_import()
        text = str(caught.exception)
        self.assertIn("No column is mapped to Text", text)
        self.assertIn("Created Time, Permalink are all mapped to Time", text)
        self.assertEqual(record.state, "mapping")
        with self.assertRaises(UserError):
            record.action_dry_run()

    def test_unreadable_file(self):
        with self.assertRaisesRegex(UserError, "JSON array"):
            self.start('[{"id": 1}]', name="export.json")

    def test_dry_run_writes_nothing(self):
        record = self.start(SPRINKLR_CSV)
        counts = (
            self.channel_messages(),
            self.env["helpdesk.ticket"].search_count([]),
            self.env["webcare.identity"].search_count([]),
        )
        tally = record._dry_run()
        self.assertEqual(
            (tally.rows, tally.stored, tally.errors, tally.known, tally.repeated),
            (6, 5, 1, 0, 0),
        )
        self.assertEqual(dict(tally.ignored), {"own_post": 1, "repost": 1})
        self.assertEqual(tally.conversations, {"c1", "d1"})
        record.action_dry_run()
        self.assertIn("Row 6: the time", str(record.dry_run_html))
        self.assertEqual(
            counts,
            (
                self.channel_messages(),
                self.env["helpdesk.ticket"].search_count([]),
                self.env["webcare.identity"].search_count([]),
            ),
        )
        self.assertEqual(record.state, "mapping")

    def test_import_makes_tickets_and_keeps_the_bad_row(self):
        record = self.run_import(self.start(SPRINKLR_CSV))
        messages = {m.external_id: m for m in self.channel_messages()}
        self.assertEqual(len(messages), 6)
        ticket = messages["m1"].ticket_id
        self.assertTrue(ticket)
        self.assertEqual(messages["m3"].ticket_id, ticket, "threaded by conversation")
        self.assertEqual(messages["m2"].ignore_reason, "own_post")
        self.assertEqual(messages["m2"].ticket_id, ticket)
        self.assertEqual(messages["m4"].ignore_reason, "repost")
        self.assertEqual(messages["m6"].kind, "dm")
        self.assertNotEqual(messages["m6"].ticket_id, ticket)
        failed = messages["m5"]
        self.assertEqual(failed.state, "failed")
        self.assertEqual(
            failed.error, "Row 6: the time '31/02/2026 10:00' is not a date and time."
        )
        self.assertIn("31/02/2026", failed.sudo().payload)
        self.assertEqual(messages["m1"].author_name, "Anna de Vries")
        self.assertEqual(messages["m1"].posted_at, datetime(2026, 11, 18, 8, 15))
        self.assertEqual(
            (record.rows_total, record.rows_done, record.stored_count),
            (6, 6, 5),
        )
        self.assertEqual(
            (record.failed_count, record.duplicate_count, record.ticket_count),
            (1, 0, 2),
        )
        self.assertEqual((record.progress_read, record.progress_process), (100, 100))
        action = record.action_view_failed()
        self.assertEqual(self.Message.search(action["domain"]), failed)
        self.assertIn(record.file_name, self.channel.message_ids[:1].body)

    def test_reimport_adds_nothing(self):
        self.run_import(self.start(SPRINKLR_CSV))
        messages = self.channel_messages()
        tickets = self.env["helpdesk.ticket"].search_count([])
        again = self.run_import(self.start(SPRINKLR_CSV, name="export (1).csv"))
        self.assertEqual(self.channel_messages(), messages)
        self.assertEqual(self.env["helpdesk.ticket"].search_count([]), tickets)
        self.assertEqual((again.stored_count, again.duplicate_count), (0, 6))
        self.assertEqual(again.failed_count, 0)

    def test_jsonl_import_and_reimport(self):
        record = self.run_import(self.start(JSONL, name="export.jsonl"))
        self.assertEqual(record.layout_format, "jsonl")
        messages = self.channel_messages().sorted("id")
        self.assertEqual(len(messages), 3)
        first, reply, broken = messages
        self.assertEqual(reply.ticket_id, first.ticket_id, "joined its parent")
        self.assertEqual(first.identity_id.external_id, "u1")
        self.assertEqual(first.identity_id.handle, "anna_dv")
        self.assertEqual(broken.state, "failed")
        self.assertIn("Row 4", broken.error)
        again = self.run_import(self.start(JSONL, name="export.jsonl"))
        self.assertEqual((again.stored_count, again.duplicate_count), (0, 3))

    def test_network_column_gives_the_identities_network(self):
        """A listening tool's export mixes networks; the channel's is the default."""
        text = (
            "id;network;handle;text;time\n"
            "n1;Mastodon;anna@mastodon.nl;Koffer kwijt;2026-11-18T09:00:00Z\n"
            "n2;;anna_dv;Koffer kwijt;2026-11-18T09:05:00Z\n"
            "n3;Twitter;anna_dv;Nog iets;2026-11-18T09:06:00Z\n"
        )
        self.run_import(self.start(text))
        messages = {m.external_id: m for m in self.channel_messages()}
        self.assertEqual(messages["n1"].identity_id.network, "mastodon")
        self.assertEqual(messages["n1"].identity_id.handle, "anna@mastodon.nl")
        self.assertEqual(messages["n2"].identity_id.network, "x")
        self.assertEqual(messages["n3"].identity_id, messages["n2"].identity_id)

    def test_retrying_a_bad_row_keeps_the_files_reason(self):
        """The channel's client cannot read a file's row: the import's mapping can."""
        self.run_import(self.start(SPRINKLR_CSV))
        failed = self.channel_messages().filtered(lambda m: m.external_id == "m5")
        self.channel.action_retry_failed()
        self.assertEqual(failed.state, "failed")
        self.assertIn("'31/02/2026 10:00' is not a date and time", failed.error)
        self.assertIn("31/02/2026", failed.sudo().payload)

    def test_processing_failure_is_retried_with_the_import_mapping(self):
        record = self.run_import(self.start(JSONL, name="export.jsonl"))
        first = self.channel_messages().sorted("id")[0]
        post = record._parse_payload(first.sudo().payload)
        self.assertEqual(post.external_id, "j1")
        self.assertEqual(post.author.handle, "anna_dv")

    def test_import_resumes_where_it_stopped(self):
        """A cron run that is out of time stops after a batch; the next goes on."""
        rows = [
            f"r{n};user{n % 7};Bericht {n};18/11/2026 {8 + n // 60:02d}:{n % 60:02d}"
            for n in range(25)
        ]
        text = "id;handle;text;time\n" + "\n".join(rows) + "\n"
        record = self.start(text)
        record.action_import()
        Import = type(record)
        with (
            patch(
                "odoo.addons.webcare_social.wizards.webcare_file_import.STORE_BATCH", 10
            ),
            patch.object(Import, "_commit", side_effect=[1.0, 1.0, 0.0]),
        ):
            record._cron_run()
        self.assertEqual((record.state, record.rows_done), ("storing", 20))
        self.assertEqual(len(self.channel_messages()), 20)
        record._cron_run()
        self.assertEqual((record.state, record.rows_done), ("done", 25))
        self.assertEqual(
            (record.stored_count, record.duplicate_count, record.ticket_count),
            (25, 0, 25),
        )

    def test_two_thousand_rows(self):
        """A larger file: stored in batches, threaded, and imported once.

        Nine rows in ten are reposts (ignored), so that the suite stays fast;
        ``bench/file_import.py`` imports 100,000 rows of every kind.
        """
        start = datetime(2026, 11, 18, 8, 0)
        lines = ["id,conversation,handle,author id,text,time,type"]
        for n in range(2000):
            when = (start + timedelta(seconds=17 * n)).isoformat() + "Z"
            kind = "mention" if n % 10 == 0 else "retweet"
            conversation = (n // 10) % 100
            author = n % 250
            lines.append(
                f"p{n},c{conversation},user{author},u{author},Vraag {n},{when},{kind}"
            )
        text = "\n".join(lines) + "\n"
        record = self.run_import(self.start(text))
        self.assertEqual((record.rows_total, record.stored_count), (2000, 2000))
        self.assertEqual((record.ticket_count, record.ticketed_count), (100, 200))
        self.assertEqual(record.ignored_count, 1800)
        self.assertEqual(
            self.env["webcare.identity"].search_count([("handle", "=like", "user%")]),
            250,
        )
        again = self.run_import(self.start(text))
        self.assertEqual((again.stored_count, again.duplicate_count), (0, 2000))
