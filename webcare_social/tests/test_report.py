from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

DAY = datetime(2025, 3, 3)  # a Monday; Amsterdam is UTC+1 that day
ON_DAY = [
    ("posted_at", ">=", "2025-03-03 00:00:00"),
    ("posted_at", "<", "2025-03-04 00:00:00"),
]
P90 = "response_p90:ninetieth_percentile"
MEASURES = [
    "message_count:sum",
    "ignored_count:sum",
    "ticket_count:sum",
    "answered_count:sum",
    "breach_count:sum",
    "within_target:avg",
    "response_median:median",
    P90,
    "response_minutes:avg",
]


def at(hour, minute):
    """A moment of ``DAY``, UTC."""
    return DAY.replace(hour=hour, minute=minute)


@tagged("post_install", "-at_install")
class TestResponseReport(TransactionCase):
    """Reporting figures on a known data set of two channels.

    Channel A (target 60 min), tickets posted on DAY (UTC):

    ====  =====  ====  =========  ========================  ===========
    tkt   post   lang  kind       first reply               status
    ====  =====  ====  =========  ========================  ===========
    A1    08:00  nl    mention    Ann 08:10 (10 min)        in time
    A2    08:20  nl    mention    Ann 08:50 (30 min)        in time
    A3    09:05  en    mention    Bob 10:35 (90 min)        answered late
    A4    09:40  en    reply      Bob 09:45 (5 min)         in time
    A5    10:00  nl    mention    none (assigned to Bob)    late
    ====  =====  ====  =========  ========================  ===========

    with two follow-ups on A1 (08:05 reply, 08:30 DM), three ignored
    messages (12:00, 12:10 reposts, 13:00 excluded keyword), one failed
    message (15:00), and, never counted, our own post and our reply.

    Channel B (target 30 min): B1 08:15 en DM, Ann 08:35 (20 min, in time);
    B2 08:45 nl, Ann 09:30 (45 min, answered late), a follow-up at 09:00;
    B3 five minutes ago, en, waiting; one ignored repost at 14:00.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))
        cls.Report = cls.env["webcare.report.response"]
        cls.ann = new_test_user(
            cls.env, login="wc_rep_ann", groups="webcare_social.group_webcare_agent"
        )
        cls.bob = new_test_user(
            cls.env, login="wc_rep_bob", groups="webcare_social.group_webcare_agent"
        )
        cls.loner = new_test_user(
            cls.env, login="wc_rep_loner", groups="webcare_social.group_webcare_agent"
        )
        cls.manager = new_test_user(
            cls.env, login="wc_rep_mgr", groups="webcare_social.group_webcare_manager"
        )
        cls.sales = new_test_user(
            cls.env, login="wc_rep_sales", groups="base.group_user"
        )
        Team = cls.env["helpdesk.ticket.team"]
        cls.team_a = Team.create(
            {"name": "Webcare A", "user_ids": [(6, 0, (cls.ann | cls.bob).ids)]}
        )
        cls.team_b = Team.create(
            {"name": "Webcare B", "user_ids": [(6, 0, cls.ann.ids)]}
        )
        Channel = cls.env["webcare.channel"]
        cls.channel_a = Channel.create(
            {"name": "A on X", "team_id": cls.team_a.id, "sla_target_minutes": 60}
        )
        cls.channel_b = Channel.create(
            {"name": "B on X", "team_id": cls.team_b.id, "sla_target_minutes": 30}
        )
        cls._make_channel_a()
        cls._make_channel_b()

    @classmethod
    def _make_channel_a(cls):
        a, ann, bob = cls.channel_a, cls.ann, cls.bob
        cls.a1 = cls._ticket(a, at(8, 0), "nl", "mention", (at(8, 10), ann))
        cls.a2 = cls._ticket(a, at(8, 20), "nl", "mention", (at(8, 50), ann))
        cls.a3 = cls._ticket(a, at(9, 5), "en", "mention", (at(10, 35), bob))
        cls.a4 = cls._ticket(a, at(9, 40), "en", "reply", (at(9, 45), bob))
        cls.a5 = cls._ticket(a, at(10, 0), "nl", "mention", None, user=bob)
        cls._message(a, at(8, 5), "nl", "reply", ticket=cls.a1)
        cls._message(a, at(8, 30), "nl", "dm", ticket=cls.a1)
        cls._message(a, at(12, 0), "en", "mention", state="ignored", reason="repost")
        cls._message(a, at(12, 10), "nl", "mention", state="ignored", reason="repost")
        cls._message(
            a, at(13, 0), "nl", "mention", state="ignored", reason="excluded_keyword"
        )
        cls._message(a, at(15, 0), False, "mention", state="failed")
        # never counted: our own post imported from X, and our reply
        cls._message(
            a,
            at(8, 10),
            "nl",
            "reply",
            ticket=cls.a1,
            state="ignored",
            reason="own_post",
            direction="outbound",
        )
        cls._message(
            a,
            at(8, 50),
            "nl",
            "reply",
            ticket=cls.a2,
            state="sent",
            direction="outbound",
        )

    @classmethod
    def _make_channel_b(cls):
        b, ann = cls.channel_b, cls.ann
        cls.b1 = cls._ticket(b, at(8, 15), "en", "dm", (at(8, 35), ann))
        cls.b2 = cls._ticket(b, at(8, 45), "nl", "mention", (at(9, 30), ann))
        now = fields.Datetime.now()
        cls.b3 = cls._ticket(b, now - timedelta(minutes=5), "en", "mention", None)
        cls._message(b, at(9, 0), "nl", "reply", ticket=cls.b2)
        cls._message(b, at(14, 0), "en", "mention", state="ignored", reason="repost")

    @classmethod
    def _ticket(cls, channel, posted, lang, kind, answer, user=None):
        """A social ticket opened by a message; ``answer`` is (when, who) or None."""
        ticket = cls.env["helpdesk.ticket"].create(
            {
                "name": f"{kind} of {posted}",
                "description": "<p>Help</p>",
                "team_id": channel.team_id.id,
                "user_id": user and user.id,
                "webcare_channel_id": channel.id,
                "webcare_posted_at": posted,
                "webcare_lang": lang,
            }
        )
        cls._message(channel, posted, lang, kind, ticket=ticket)
        if answer:
            ticket._webcare_mark_answered(*answer)
        return ticket

    @classmethod
    def _message(cls, channel, posted, lang, kind, **options):
        cls.env["webcare.message"].create(
            {
                "channel_id": channel.id,
                "external_id": f"{channel.id}-{posted}-{kind}-{options.get('state')}",
                "kind": kind,
                "lang": lang,
                "posted_at": posted,
                "direction": options.get("direction", "inbound"),
                "state": options.get("state", "ticketed"),
                "ignore_reason": options.get("reason"),
                "ticket_id": options["ticket"].id if options.get("ticket") else False,
            }
        )

    # helpers ------------------------------------------------------------

    def figures(self, domain=(), groupby=(), report=None, tz="Europe/Amsterdam"):
        """``{group key: {measure: value}}`` of ``MEASURES`` grouped by ``groupby``."""
        report = (self.Report if report is None else report).with_context(tz=tz)
        scope = [("channel_id", "in", (self.channel_a | self.channel_b).ids)]
        rows = report._read_group([*scope, *domain], list(groupby), MEASURES)
        names = [spec.split(":")[0] for spec in MEASURES]
        result = {}
        for row in rows:
            keys = row[: len(groupby)]
            keys = tuple(getattr(k, "id", k) for k in keys)
            result[keys[0] if len(keys) == 1 else keys] = dict(
                zip(names, row[len(groupby) :], strict=True)
            )
        return result

    def assertFigures(self, got, **expected):
        for name, value in expected.items():
            if isinstance(value, float):
                self.assertAlmostEqual(got[name], value, places=6, msg=name)
            else:
                self.assertEqual(got[name], value, name)

    # totals and channels --------------------------------------------------

    def test_totals(self):
        total = self.figures()[()]
        self.assertFigures(
            total,
            message_count=16,
            ignored_count=4,
            ticket_count=8,
            answered_count=6,
            breach_count=3,
            within_target=100 * 4 / 7,
            response_median=25.0,
            response_p90=67.5,
            response_minutes=200 / 6,
        )

    def test_per_channel(self):
        got = self.figures(groupby=["channel_id"])
        self.assertFigures(
            got[self.channel_a.id],
            message_count=11,
            ignored_count=3,
            ticket_count=5,
            answered_count=4,
            breach_count=2,
            within_target=60.0,
            response_median=20.0,
            response_p90=72.0,
            response_minutes=33.75,
        )
        self.assertFigures(
            got[self.channel_b.id],
            message_count=5,
            ignored_count=1,
            ticket_count=3,
            answered_count=2,
            breach_count=1,
            within_target=50.0,
            response_median=32.5,
            response_p90=42.5,
        )

    def test_per_agent(self):
        got = self.figures(groupby=["agent_id"])
        self.assertFigures(
            got[self.ann.id],
            message_count=7,
            ticket_count=4,
            answered_count=4,
            breach_count=1,
            within_target=75.0,
            response_median=25.0,
            response_p90=40.5,
        )
        self.assertFigures(
            got[self.bob.id],
            message_count=3,
            ticket_count=3,
            answered_count=2,
            breach_count=2,
            within_target=100 / 3,
            response_median=47.5,
            response_p90=81.5,
        )
        # nobody: the waiting ticket, the ignored and the failed messages
        self.assertFigures(
            got[False],
            message_count=6,
            ignored_count=4,
            ticket_count=1,
            answered_count=0,
            breach_count=0,
            within_target=False,
            response_median=False,
        )

    def test_per_team(self):
        got = self.figures(groupby=["team_id"])
        self.assertEqual(set(got), {self.team_a.id, self.team_b.id})
        self.assertEqual(got[self.team_a.id]["message_count"], 11)
        self.assertEqual(got[self.team_b.id]["ticket_count"], 3)

    def test_per_language(self):
        got = self.figures(groupby=["lang"])
        self.assertFigures(
            got["nl"],
            message_count=9,
            ignored_count=2,
            ticket_count=4,
            answered_count=3,
            breach_count=2,
            within_target=50.0,
            response_median=30.0,
        )
        self.assertFigures(
            got["en"],
            message_count=6,
            ignored_count=2,
            ticket_count=4,
            answered_count=3,
            breach_count=1,
            within_target=200 / 3,
            response_median=20.0,
        )
        self.assertEqual(got[False]["message_count"], 1)  # the failed message

    def test_per_kind(self):
        """A ticket is of the kind of its opening message."""
        got = self.figures(groupby=["kind"])
        self.assertFigures(
            got["dm"],
            message_count=2,
            ticket_count=1,
            answered_count=1,
            response_median=20.0,
        )
        self.assertFigures(got["reply"], message_count=3, ticket_count=1)
        self.assertFigures(got["mention"], message_count=11, ticket_count=6)

    def test_per_hour_in_user_timezone(self):
        got = self.figures(ON_DAY, ["hour"])
        self.assertEqual(
            {h: g["message_count"] for h, g in got.items()},
            {"09": 6, "10": 3, "11": 1, "13": 2, "14": 1, "15": 1, "16": 1},
        )
        self.assertFigures(
            got["09"],
            ticket_count=4,
            answered_count=4,
            breach_count=1,
            within_target=75.0,
            response_median=25.0,
        )
        self.assertFigures(
            got["10"], ticket_count=2, breach_count=1, response_median=47.5
        )
        self.assertFigures(got["11"], ticket_count=1, answered_count=0, breach_count=1)
        utc = self.figures(ON_DAY, ["hour"], tz="UTC")
        self.assertEqual(
            {h: g["message_count"] for h, g in utc.items()},
            {"08": 6, "09": 3, "10": 1, "12": 2, "13": 1, "14": 1, "15": 1},
        )

    def test_per_day(self):
        got = self.figures(groupby=["posted_at:day"])
        day = got[DAY]
        self.assertFigures(day, message_count=15, ticket_count=7, breach_count=3)
        today = [g for key, g in got.items() if key != DAY]
        self.assertEqual(
            [(g["ticket_count"], g["answered_count"]) for g in today], [(1, 0)]
        )

    def test_filters_of_the_search_view(self):
        """Breaches, ignored and DMs as the search view filters them."""
        scope = [("channel_id", "in", (self.channel_a | self.channel_b).ids)]
        breaches = self.Report.search([*scope, ("breach_count", "=", 1)])
        self.assertEqual(breaches.ticket_id, self.a3 | self.a5 | self.b2)
        ignored = self.Report.search([*scope, ("ignored_count", "=", 1)])
        self.assertEqual(len(ignored), 4)
        self.assertEqual(set(ignored.mapped("line_type")), {"message"})
        night = self.figures(
            [*ON_DAY, ("hour", "in", ["00", "01", "02", "03", "04", "05", "06", "07"])]
        )
        self.assertFigures(night[()], message_count=False, ticket_count=False)

    # the pivot and graph ---------------------------------------------------

    def test_pivot_asks_for_median_and_p90(self):
        """The web client builds ``field:aggregator`` from fields_get."""
        described = self.Report.fields_get(
            ["response_median", "response_p90", "within_target"], ["aggregator"]
        )
        self.assertEqual(described["response_median"]["aggregator"], "median")
        self.assertEqual(
            described["response_p90"]["aggregator"], "ninetieth_percentile"
        )
        self.assertEqual(described["within_target"]["aggregator"], "avg")
        scope = [("channel_id", "in", (self.channel_a | self.channel_b).ids)]
        rows, total = self.Report.formatted_read_grouping_sets(
            scope,
            [["channel_id"], []],
            [
                "__count",
                "response_median:median",
                P90,
                "breach_count:sum",
            ],
        )
        by_channel = {r["channel_id"][0]: r for r in rows}
        self.assertEqual(by_channel[self.channel_a.id]["response_median:median"], 20.0)
        self.assertEqual(by_channel[self.channel_b.id][P90], 42.5)
        self.assertEqual(total[0]["response_median:median"], 25.0)
        self.assertEqual(total[0]["breach_count:sum"], 3)
        # one line per message in and one per ticket
        self.assertEqual(total[0]["__count"], 16 + 8)
        # sorted on the percentile in SQL (no answer: NULL, last)
        graph = self.Report.formatted_read_group(
            scope, ["agent_id"], [P90], order=f"{P90} desc nulls last"
        )
        self.assertEqual(
            [(g["agent_id"] and g["agent_id"][0], g[P90]) for g in graph],
            [(self.bob.id, 81.5), (self.ann.id, 40.5), (False, False)],
        )

    def test_no_jit_for_the_report(self):
        """JIT compiling would cost more than the query (bench/reporting.py)."""
        self.env.cr.execute("SET LOCAL jit = on")
        self.Report._read_group([], [], ["response_median:median"])
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone()[0], "off")

    def test_percentile_of_a_text_is_refused(self):
        with self.assertRaises(ValueError):
            self.Report._read_group([], [], ["lang:median"])

    def test_figures_follow_the_tickets_at_once(self):
        """A view, not a copy: the first reply shows without any refresh."""
        self.b3._webcare_mark_answered(fields.Datetime.now(), self.ann)
        total = self.figures()[()]
        self.assertFigures(total, answered_count=7, within_target=100 * 5 / 8)

    # who sees what ---------------------------------------------------------

    def test_agents_see_their_teams(self):
        """A team lead is a Webcare agent: they see their helpdesk teams' numbers."""
        bob = self.figures(report=self.Report.with_user(self.bob))[()]
        self.assertFigures(bob, message_count=11, ticket_count=5, breach_count=2)
        ann = self.figures(report=self.Report.with_user(self.ann))[()]
        self.assertFigures(ann, message_count=16, ticket_count=8)
        loner = self.figures(report=self.Report.with_user(self.loner))[()]
        self.assertFigures(loner, message_count=False, ticket_count=False)
        manager = self.figures(report=self.Report.with_user(self.manager))[()]
        self.assertFigures(manager, message_count=16, ticket_count=8)

    def test_other_users_see_nothing(self):
        with self.assertRaises(AccessError):
            self.Report.with_user(self.sales)._read_group([], [], ["__count"])


@tagged("post_install", "-at_install")
class TestResponseReportTour(HttpCase):
    """A team lead reads the median and p90 in the pivot, then graph and list."""

    def setUp(self):
        super().setUp()
        lead = new_test_user(
            self.env, login="wc_rep_lead", groups="webcare_social.group_webcare_agent"
        )
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Tour team", "user_ids": [(6, 0, lead.ids)], "user_id": lead.id}
        )
        channel = self.env["webcare.channel"].create(
            {"name": "Tour report channel", "team_id": team.id}
        )
        posted = fields.Datetime.now() - timedelta(hours=2)
        for minutes in (10, 20, 60):  # median 20 (the mean is 30), p90 52
            ticket = self.env["helpdesk.ticket"].create(
                {
                    "name": f"Answered in {minutes} minutes",
                    "description": "<p>Help</p>",
                    "team_id": team.id,
                    "webcare_channel_id": channel.id,
                    "webcare_posted_at": posted,
                    "webcare_lang": "nl",
                }
            )
            ticket._webcare_mark_answered(posted + timedelta(minutes=minutes), lead)

    def test_pivot_graph_list(self):
        self.start_tour(
            "/odoo/webcare-response-times", "webcare_social_report", login="wc_rep_lead"
        )
