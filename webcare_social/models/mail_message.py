from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .webcare_message import RETENTION_SKIPPED_STATES

DM_SUBTYPE = "webcare_social.mt_webcare_dm"


class MailMessage(models.Model):
    """Chatter copies of direct messages, purged after the retention period.

    A DM (the customer's or our private reply) is copied to its ticket's
    chatter with the subtype *Direct message*. The retention cron replaces
    the copy's body by a line saying the text was removed and marks it,
    together with its ``webcare.message`` or, for copies older than the
    period that no message points to (posted before the messages kept their
    copy), by the copy's own date.
    """

    _inherit = "mail.message"

    webcare_purged_at = fields.Datetime(
        string="Direct message removed on", readonly=True, copy=False
    )

    @api.model
    def _webcare_retention_candidates(self, cutoff):
        """SQL condition: DM copies posted before ``cutoff``, not purged yet,
        except those of replies still to be sent."""
        return SQL(
            """subtype_id = %s AND model = 'helpdesk.ticket' AND date < %s
               AND webcare_purged_at IS NULL
               AND id NOT IN (SELECT chatter_message_id FROM webcare_message
                               WHERE state IN %s
                                 AND chatter_message_id IS NOT NULL)""",
            self.env["ir.model.data"]._xmlid_to_res_id(DM_SUBTYPE),
            cutoff,
            RETENTION_SKIPPED_STATES,
        )

    @api.model
    def _webcare_retention_purge(self, cutoff, days, limit):
        """Purge up to ``limit`` DM copies posted before ``cutoff``; return how many."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM mail_message WHERE %s LIMIT %s"
                " FOR NO KEY UPDATE SKIP LOCKED",
                self._webcare_retention_candidates(cutoff),
                limit,
            )
        )
        ids = [row[0] for row in rows]
        self._webcare_purge_dm_copies(ids, days)
        return len(ids)

    @api.model
    def _webcare_purge_dm_copies(self, ids, days):
        """Replace the body of these DM copies by a line saying it was removed.

        The line is written in the language of the ticket's company (the
        team reading the chatter). Plain SQL, like the messages: the author,
        date, subtype and thread of the copy stay.
        """
        if not ids:
            return
        now = fields.Datetime.now()
        for lang, lang_ids in self._webcare_langs(ids).items():
            env = self.with_context(lang=lang).env
            body = Markup("<p><em>%s</em></p>") % env._(
                "Direct message removed after the retention period (%(days)s days).",
                days=days,
            )
            self.env.execute_query(
                SQL(
                    "UPDATE mail_message SET body = %s, webcare_purged_at = %s"
                    " WHERE id = ANY(%s) AND webcare_purged_at IS NULL",
                    str(body),
                    now,
                    lang_ids,
                )
            )
        self.browse(ids).invalidate_recordset()

    @api.model
    def _webcare_langs(self, ids):
        """``{language: message ids}``: the language of each copy's ticket's company."""
        rows = self.env.execute_query(
            SQL(
                """SELECT mm.id, p.lang
                     FROM mail_message mm
                LEFT JOIN helpdesk_ticket t
                       ON mm.model = 'helpdesk.ticket' AND t.id = mm.res_id
                LEFT JOIN res_company c ON c.id = t.company_id
                LEFT JOIN res_partner p ON p.id = c.partner_id
                    WHERE mm.id = ANY(%s)""",
                ids,
            )
        )
        Lang = self.env["res.lang"]
        langs = {}
        fallback = self.env.lang or "en_US"
        for message_id, lang in rows:
            # a company without a language, or one no longer active
            usable = lang if lang and Lang._get_data(code=lang) else fallback
            langs.setdefault(usable, []).append(message_id)
        return langs
