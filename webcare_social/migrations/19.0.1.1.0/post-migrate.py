"""19.0.1.1.0: recognition needs what earlier versions did not keep.

Tickets get the time of the post that opened them, and the phone numbers,
e-mail addresses and references in messages already imported become
evidence for the caller lookup.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import split_every


def migrate(cr, version):
    cr.execute(
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
    env = api.Environment(cr, SUPERUSER_ID, {})
    messages = env["webcare.message"].search(
        [("state", "=", "ticketed"), ("direction", "=", "inbound")]
    )
    for batch in split_every(1000, messages.ids, messages.browse):
        env["webcare.evidence"]._record(batch)
