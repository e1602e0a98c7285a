from datetime import timedelta

import pytz

from odoo import api, fields, models

SLA_STATUSES = [
    ("on_time", "On time"),
    ("at_risk", "At risk"),
    ("late", "Late"),
    ("answered_on_time", "Answered in time"),
    ("answered_late", "Answered late"),
]
# how urgent each status is: lists sort on it, most urgent first
SLA_RANK = {
    "late": 0,
    "at_risk": 1,
    "on_time": 2,
    "answered_late": 3,
    "answered_on_time": 4,
}
NO_SLA_RANK = 9
LATE_ACTIVITY_HOURS = 24


class WebcareSla(models.AbstractModel):
    """The first-response clock of social tickets.

    The clock starts at the customer's post (``webcare_posted_at``), not at
    the import, and runs in the channel's business hours
    (``resource.calendar``; around the clock without one): a post on Friday
    16:45 with a 30-minute target is due on Monday 09:15 in a 9-to-5 week.
    The first reply the customer gets from us (sent from Odoo or posted
    directly on the network) stops it.
    """

    _name = "webcare.sla"
    _description = "Social response-time SLA"

    @api.model
    def _deadline(self, channel, posted_at):
        """When the first response is due for a post of ``posted_at`` (naive UTC)."""
        minutes = channel.sla_target_minutes or 0
        calendar = channel.sla_calendar_id
        if not calendar:
            return posted_at + timedelta(minutes=minutes)
        start = pytz.utc.localize(posted_at)
        due = calendar.plan_hours(minutes / 60.0, start, compute_leaves=True)
        return due.astimezone(pytz.utc).replace(tzinfo=None) if due else False

    @api.model
    def _minutes_between(self, channel, start, end):
        """Minutes from ``start`` to ``end`` counted in the channel's business hours."""
        if end <= start:
            return 0
        calendar = channel.sla_calendar_id
        if not calendar:
            return round((end - start).total_seconds() / 60)
        hours = calendar.get_work_hours_count(
            pytz.utc.localize(start), pytz.utc.localize(end), compute_leaves=True
        )
        return round(hours * 60)

    @api.model
    def _open_status(self, channel, deadline, now):
        """``on_time``, ``at_risk`` (last part of the target) or ``late``."""
        if now > deadline:
            return "late"
        risk = timedelta(
            minutes=(channel.sla_target_minutes or 0) * channel.sla_risk_percent / 100
        )
        return "at_risk" if now >= deadline - risk else "on_time"

    @api.model
    def _cron_update(self):
        """Cron: move waiting tickets to at risk and late; tell the team lead."""
        now = fields.Datetime.now()
        tickets = self.env["helpdesk.ticket"].search(
            [
                ("webcare_sla_status", "in", ("on_time", "at_risk")),
                ("webcare_first_response_at", "=", False),
                ("closed", "=", False),
            ]
        )
        for ticket in tickets:
            ticket._webcare_update_sla(now)
