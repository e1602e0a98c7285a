import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

DAYS_PARAM = "webcare_social.retention_days"
LAST_RUN_PARAM = "webcare_social.retention_last_run"
LAST_COUNT_PARAM = "webcare_social.retention_last_count"
DEFAULT_DAYS = 365
PURGE_BATCH = 1000  # rows purged per transaction
# what holds raw data, purged in this order:
# (model, its SQL condition of the rows to purge, its batch purge)
STEPS = (
    ("webcare.message", "_retention_candidates", "_retention_purge"),
    ("mail.message", "_webcare_retention_candidates", "_webcare_retention_purge"),
    ("webcare.webhook.delivery", "_retention_candidates", "_retention_purge"),
    ("webcare.file.import", "_retention_candidates", "_retention_purge"),
)


class WebcareRetention(models.AbstractModel):
    """Retention of raw data and direct messages (the daily cron *Webcare:
    remove raw data and direct messages after the retention period*).

    After the period set in Settings > Helpdesk > Webcare (365 days by
    default; 0 keeps everything), a daily cron removes what only copies a
    customer's words or the raw data of the networks:

    - the raw ``payload`` of every message, inbound and outbound;
    - the text of direct messages, both directions (public posts keep theirs);
    - the chatter copies of direct messages (their body becomes a line saying
      the text was removed);
    - the request bodies kept by webhook deliveries;
    - the uploaded files of finished file imports, with the examples read
      from them; imports left before they started are deleted.

    Everything the statistics and the history are made of stays: the message
    rows with their kind, direction, state, times, channel, author, contact,
    ticket and language, the tickets, the deliveries' and imports' counts.
    Each model purges its own rows in batches (``_retention_purge``) and
    marks them, so a run never visits them again; this service runs the
    batches, commits each one when run by the cron, reports its progress to
    the cron (a run that is out of time ends, and the cron continues where it
    stopped) and lets one run work at a time.
    """

    _name = "webcare.retention"
    _description = "Webcare retention of raw data and direct messages"

    @api.model
    def _retention_days(self):
        """The retention period in days; 0 means keep everything."""
        value = self.env["ir.config_parameter"].sudo().get_param(DAYS_PARAM)
        if value in (None, False, ""):
            return DEFAULT_DAYS
        try:
            return max(int(value), 0)
        except ValueError:
            _logger.warning("%s is not a number of days: %r", DAYS_PARAM, value)
            return DEFAULT_DAYS

    @api.model
    def _last_run(self):
        """``(when, how many rows)`` of the last run, or ``(False, 0)``."""
        params = self.env["ir.config_parameter"].sudo()
        when = params.get_param(LAST_RUN_PARAM)
        return (
            fields.Datetime.to_datetime(when) if when else False,
            int(params.get_param(LAST_COUNT_PARAM, 0) or 0),
        )

    # ------------------------------------------------------------------
    # The cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge(self, batch_size=PURGE_BATCH):
        """Cron: purge what is older than the retention period, per batch.

        Returns how many rows this run purged. A run that finds another one
        purging does nothing.
        """
        days = self._retention_days()
        if not days or not self._lock():
            return 0
        cutoff = fields.Datetime.now() - timedelta(days=days)
        total, purged = self._count(cutoff), 0
        for count in self._batches(cutoff, days, batch_size):
            purged += count
            if not self._commit(count, remaining=max(total - purged, 0)):
                _logger.info("Retention: %s rows purged, continuing later", purged)
                self._record_run(purged)
                return purged
        self._commit(remaining=0)
        _logger.info("Retention: %s rows purged (older than %s days)", purged, days)
        self._record_run(purged)
        return purged

    @api.model
    def _batches(self, cutoff, days, batch_size):
        """Purge batch after batch; yield each batch's number of rows."""
        for model, _candidates, purge in STEPS:
            while True:
                count = getattr(self.env[model], purge)(cutoff, days, batch_size)
                if count:
                    yield count
                if count < batch_size:
                    break

    @api.model
    def _count(self, cutoff):
        """How many rows are left to purge, over every step."""
        total = 0
        for model, candidates, _purge in STEPS:
            Model = self.env[model]
            [(count,)] = self.env.execute_query(
                SQL(
                    "SELECT count(*) FROM %s WHERE %s",
                    SQL.identifier(Model._table),
                    getattr(Model, candidates)(cutoff),
                )
            )
            total += count
        return total

    @api.model
    def _lock(self):
        """Take the retention lock for this transaction; tell if it was free.

        A PostgreSQL advisory lock, released by each commit and taken again
        after it, the way a channel's import keeps its channel row: a second
        run finds it taken and stops, so two runs never purge at once.
        """
        [(free,)] = self.env.execute_query(
            SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", self._name)
        )
        return free

    @api.model
    def _commit(self, processed=0, remaining=None):
        """Commit a batch when run by the cron; tell whether to go on.

        Outside the cron (tests, a shell) nothing is committed and the run
        goes on. In the cron the progress is reported; the run stops when
        its time is up or another run took the lock meanwhile.
        """
        if not self.env.context.get("ir_cron_progress_id"):
            return True
        time_left = self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
        return time_left > 0 and self._lock()

    @api.model
    def _record_run(self, purged):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(
            LAST_RUN_PARAM, fields.Datetime.to_string(fields.Datetime.now())
        )
        params.set_param(LAST_COUNT_PARAM, str(purged))
