"""Dutch and English throughout: the translation is complete, texts written on
records are in their readers' language, post languages are shown by name."""

import re
from datetime import timedelta

import polib
from lxml import etree

from odoo import fields
from odoo.tests import TransactionCase, freeze_time, tagged
from odoo.tools.misc import file_path
from odoo.tools.safe_eval import safe_eval
from odoo.tools.translate import TranslationModuleReader

from .common_x import ANNA_ID, WebcareTeamCase

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd%]|\{\w+\}")
TAG = re.compile(r"</?([a-zA-Z][\w-]*)")


def _po(name):
    return polib.pofile(file_path(f"webcare_social/i18n/{name}"), wrapwidth=0)


@tagged("post_install", "-at_install")
class TestDutchTranslation(TransactionCase):
    """Fails as soon as a feature adds a term without its Dutch translation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reader = TranslationModuleReader(cls.env.cr, modules=["webcare_social"])
        cls.terms = {source for *_, source, _value, _comments in reader if source}

    def test_every_term_has_a_dutch_translation(self):
        dutch = {
            entry.msgid: entry.msgstr
            for entry in _po("nl.po")
            if entry.msgstr and not entry.fuzzy and not entry.obsolete
        }
        missing = sorted(self.terms - set(dutch))
        self.assertFalse(
            missing,
            f"{len(missing)} term(s) without a Dutch translation; run `make i18n` "
            f"and translate them in webcare_social/i18n/nl.po: {missing[:15]}",
        )

    def test_the_template_lists_every_term(self):
        template = {entry.msgid for entry in _po("webcare_social.pot")}
        missing = sorted(self.terms - template)
        self.assertFalse(missing, f"run `make i18n`: {missing[:15]}")

    def test_translations_keep_placeholders_and_tags(self):
        broken = [
            entry.msgid
            for entry in _po("nl.po")
            if entry.msgstr
            and (
                sorted(PLACEHOLDER.findall(entry.msgid))
                != sorted(PLACEHOLDER.findall(entry.msgstr))
                or sorted(TAG.findall(entry.msgid)) != sorted(TAG.findall(entry.msgstr))
            )
        ]
        self.assertFalse(broken, f"placeholders or tags differ: {broken[:10]}")

    def test_the_dutch_file_loads_into_odoo(self):
        self.env["res.lang"]._activate_lang("nl_NL")
        self.env["ir.module.module"]._load_module_terms(
            ["webcare_social"], ["nl_NL"], overwrite=True
        )
        ticket = self.env["helpdesk.ticket"].with_context(lang="nl_NL")
        labels = ticket.fields_get(["webcare_sla_status"])["webcare_sla_status"]
        self.assertEqual(labels["string"], _po("nl.po").find("Response SLA").msgstr)


@tagged("post_install", "-at_install")
class TestTextsInTheReadersLanguage(WebcareTeamCase):
    """Imports run as OdooBot: what they write is in the company's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("nl_NL")
        cls.env["ir.module.module"]._load_module_terms(
            ["webcare_social"], ["nl_NL"], overwrite=True
        )

    def ingest(self, text, **options):
        self.mention(ANNA_ID, text, **options)
        return self.fetch().ticket_id[-1:]

    def test_dutch_company_gets_dutch_ticket_texts(self):
        self.channel.company_id.partner_id.lang = "nl_NL"
        ticket = self.ingest("mijn koffer is zoek")
        description = str(ticket.description)
        dutch = _po("nl.po")
        self.assertIn(dutch.find("%s followers").msgstr % "812", description)
        self.assertIn(dutch.find("Mention").msgstr, description)
        self.assertIn(dutch.find("View the original post").msgstr, description)
        self.assertNotIn("followers", description)
        self.assertNotEqual(self.env.lang, "nl_NL")  # not the importer's language

    def test_english_company_gets_english_ticket_texts(self):
        self.channel.company_id.partner_id.lang = "en_US"
        ticket = self.ingest("where is my suitcase")
        self.assertIn("812 followers", str(ticket.description))

    def test_reopening_note_in_the_company_language(self):
        self.channel.company_id.partner_id.lang = "nl_NL"
        first = self.mention(ANNA_ID, "mijn koffer is zoek")
        ticket = self.fetch().ticket_id
        ticket.stage_id = self.env["helpdesk.ticket.stage"].search(
            [("closed", "=", True)], limit=1
        )
        self.mention(ANNA_ID, "nog steeds zoek", in_reply_to=first["id"])
        self.fetch()
        notes = ticket.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("mail.mt_note")
        ).mapped("body")
        reopened = _po("nl.po").find("Reopened: the customer wrote again.").msgstr
        self.assertIn(reopened, str(notes))

    def test_late_todo_in_the_team_leads_language(self):
        self.channel.company_id.partner_id.lang = "en_US"
        self.team.user_id = self.manager
        self.manager.lang = "nl_NL"
        posted = fields.Datetime.now().replace(microsecond=0)
        tweet = self.mention(ANNA_ID, "hallo?", created_at=posted)
        ticket = self.fetch().filtered(lambda m: m.external_id == tweet["id"]).ticket_id
        with freeze_time(posted + timedelta(minutes=61)):
            self.env["webcare.sla"]._cron_update()
        todo = self.env["mail.activity"].search(
            [("res_model", "=", "helpdesk.ticket"), ("res_id", "=", ticket.id)]
        )
        self.assertEqual(todo.user_id, self.manager)
        summary = _po("nl.po").find("Late first response: %(number)s").msgstr
        self.assertEqual(todo.summary, summary % {"number": ticket.number})
        self.assertIn("812 followers", str(ticket.description))  # the company's

    def test_language_of_a_post_is_shown_by_name(self):
        ticket = self.ingest("mijn koffer is zoek", lang="nl")
        self.assertEqual(ticket.webcare_lang, "nl")
        for lang, name in (("en_US", "Dutch"), ("nl_NL", "Nederlands")):
            field = ticket.with_context(lang=lang)._fields["webcare_lang"]
            labels = dict(
                field._description_selection(ticket.with_context(lang=lang).env)
            )
            self.assertEqual(labels["nl"], name)

    def test_filters_by_language(self):
        self.ingest("mijn koffer is zoek", lang="nl")
        self.ingest("where is my suitcase", lang="en")
        self.ingest("wo ist mein Koffer", lang="de")
        view = self.env.ref("webcare_social.helpdesk_ticket_view_search")
        filters = {
            node.get("name"): safe_eval(node.get("domain"))
            for node in etree.fromstring(view.arch).iter("filter")
            if node.get("name", "").startswith("webcare_lang_")
        }
        social = [("webcare_channel_id", "=", self.channel.id)]
        found = {
            name: self.env["helpdesk.ticket"]
            .search([*social, *domain])
            .mapped("webcare_lang")
            for name, domain in filters.items()
        }
        self.assertEqual(
            found,
            {
                "webcare_lang_nl": ["nl"],
                "webcare_lang_en": ["en"],
                "webcare_lang_other": ["de"],
            },
        )

    def test_network_codes_become_languages(self):
        for code, expected in (("pt-BR", "pt"), ("qme", False), ("und", False)):
            ticket = self.ingest(f"post in {code}", lang=code)
            self.assertEqual(ticket.webcare_lang, expected, code)
