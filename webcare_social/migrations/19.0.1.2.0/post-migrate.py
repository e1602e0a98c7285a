"""19.0.1.2.0: the response-time SLA starts for the social tickets already there.

Each ticket gets its language and its deadline from the customer's post; our
own posts already imported in its conversation count as the first response.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import split_every


def migrate(cr, version):
    cr.execute(  # as 19.0.1.1.0 does, in case that step was skipped
        """
        UPDATE helpdesk_ticket t
           SET webcare_posted_at = first.posted_at
          FROM (SELECT ticket_id, min(posted_at) AS posted_at
                  FROM webcare_message
                 WHERE ticket_id IS NOT NULL AND direction = 'inbound'
              GROUP BY ticket_id) AS first
         WHERE first.ticket_id = t.id AND t.webcare_posted_at IS NULL
        """
    )
    cr.execute(
        """
        UPDATE helpdesk_ticket t
           SET webcare_lang = first.lang
          FROM (SELECT DISTINCT ON (ticket_id) ticket_id, lang
                  FROM webcare_message
                 WHERE ticket_id IS NOT NULL AND direction = 'inbound'
              ORDER BY ticket_id, posted_at) AS first
         WHERE first.ticket_id = t.id AND t.webcare_lang IS NULL
        """
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    env.invalidate_all()  # the SQL above changed what the ORM may have read
    tickets = env["helpdesk.ticket"].search(
        [
            ("webcare_channel_id", "!=", False),
            ("webcare_first_response_deadline", "=", False),
        ]
    )
    for batch in split_every(500, tickets.ids, tickets.browse):
        batch._webcare_start_sla()
        for ticket in batch:
            ours = ticket.webcare_message_ids.filtered(
                lambda m, t=ticket: m.direction == "outbound"
                and m.posted_at
                and m.posted_at >= (t.webcare_posted_at or t.create_date)
            )
            if ours:
                ticket._webcare_mark_answered(min(ours.mapped("posted_at")))
