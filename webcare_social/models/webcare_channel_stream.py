from odoo import api, fields, models


class WebcareChannelStream(models.Model):
    """Where a channel is in one of its provider's streams: the cursor.

    One row per (channel, stream code), made on the first read. The value
    of ``cursor`` means what the provider client says it means (a newest
    tweet id for X mentions, a notification id for Mastodon, a time for
    Bluesky); the channel only stores it once a read of the stream is
    drained and everything it returned is stored.
    """

    _name = "webcare.channel.stream"
    _description = "Webcare channel stream"
    _order = "channel_id, id"
    _rec_name = "code"

    channel_id = fields.Many2one(
        "webcare.channel", required=True, ondelete="cascade", index=False
    )
    company_id = fields.Many2one(related="channel_id.company_id")
    code = fields.Char(string="Stream code", required=True)
    label = fields.Char(string="Stream", compute="_compute_label")
    cursor = fields.Char(
        copy=False, help="The provider's position after the last complete read."
    )
    drained_at = fields.Datetime(string="Last complete read", readonly=True, copy=False)

    _channel_code_uniq = models.Constraint(
        "UNIQUE(channel_id, code)", "A channel has one cursor per stream."
    )

    @api.depends("code", "channel_id.provider")
    def _compute_label(self):
        for stream in self:
            provider = stream.channel_id._get_provider_class_or_none()
            labels = {s.code: s.label for s in provider.streams} if provider else {}
            stream.label = labels.get(stream.code, stream.code)

    @api.model
    def _of(self, channel, code):
        """The stream row of ``channel`` for ``code``, created when missing."""
        stream = self.search(
            [("channel_id", "=", channel.id), ("code", "=", code)], limit=1
        )
        return stream or self.create({"channel_id": channel.id, "code": code})

    def _drained(self, cursor):
        """Record a complete read; keep the cursor when the read gave none."""
        vals = {"drained_at": fields.Datetime.now()}
        if cursor:
            vals["cursor"] = cursor
        self.write(vals)
