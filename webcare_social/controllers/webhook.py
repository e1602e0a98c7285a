"""``POST /webcare/webhook/<channel id>``: where listening tools push items.

The URL names the channel by its id (shown on the channel form); the
channel's secret, not the URL, is what authenticates a request, so the URL
can be shown and logged freely and stays the same when the secret is
replaced. The route has no session and no CSRF token (a machine calls it);
it runs as the superuser only after it found a webhook channel, and writes
nothing before the request is verified (``webcare.webhook.delivery``).
The body is JSON described in ``services/webhook.py``.

Answers (JSON): 202 stored; 200 a delivery id received before (not stored
again); 400 a body that is not readable JSON (kept as a failed delivery);
401 bad, missing or expired authentication; 404 no webhook channel with
this id; 411/413 no Content-Length or a body over 1 MiB (not read); 415 a
form instead of JSON; 503 a paused channel (with Retry-After). A request
racing another one over the same delivery or items is run again by Odoo
once the other committed (``retrying``), so the body is read with
``get_data()``, which keeps it for that second run.
"""

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..services.webhook import MAX_BODY_BYTES, WebhookRejected, check_length

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PAUSED_RETRY_AFTER = 300


class WebcareWebhookController(http.Controller):
    @http.route(
        "/webcare/webhook/<int:channel_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes default to a read-only cursor
    )
    def webcare_webhook(self, channel_id, **_params):
        env = request.env(user=SUPERUSER_ID, su=True)
        Delivery = env["webcare.webhook.delivery"]
        channel = Delivery._webhook_channel(channel_id)
        if not channel:
            return _json(404, {"error": "There is no webhook channel at this address."})
        if channel.state == "paused":
            return _json(
                503,
                {"error": "This channel is paused; send the delivery again later."},
                retry_after=PAUSED_RETRY_AFTER,
            )
        httprequest = request.httprequest
        if httprequest.mimetype in FORM_TYPES:
            return _json(415, {"error": "Send the body as application/json."})
        try:
            check_length(httprequest.content_length, MAX_BODY_BYTES)
        except WebhookRejected as exc:
            return _json(exc.status, {"error": exc.reason})
        # read only now, within the announced (and checked) length; cached,
        # so a retried request reads the same bytes
        body = httprequest.get_data()
        status, answer = Delivery._receive(channel, httprequest.headers, body)
        return _json(status, answer)


def _json(status, answer, retry_after=None):
    headers = [("Retry-After", str(retry_after))] if retry_after else []
    return request.make_json_response(answer, headers=headers, status=status)
