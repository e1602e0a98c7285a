"""``GET /webcare/partner/<contact id>/personal-data``: a person's data as JSON.

Runs as the logged-in user: a contact they may not read (or that does not
exist) is 404, a user who may read it but is no Webcare user gets 403. The
answer is one JSON file to download (``res.partner.webcare_export_personal_data``).
"""

import json

from werkzeug.exceptions import Forbidden, NotFound

from odoo import fields, http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request


class WebcarePersonalDataController(http.Controller):
    @http.route(
        "/webcare/partner/<int:partner_id>/personal-data",
        type="http",
        auth="user",
        methods=["GET"],
        readonly=True,
    )
    def webcare_personal_data(self, partner_id, **_params):
        partner = (
            request.env["res.partner"]
            .with_context(active_test=False)
            .browse(partner_id)
            .exists()
        )
        if not partner or not partner.has_access("read"):
            raise NotFound()
        try:
            data = partner.webcare_export_personal_data()
        except AccessError as exc:
            raise Forbidden() from exc
        day = fields.Date.context_today(partner)
        filename = f"personal-data-contact-{partner.id}-{day}.json"
        return request.make_response(
            json.dumps(data, ensure_ascii=False, indent=2),
            headers=[
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Disposition", content_disposition(filename)),
                ("Cache-Control", "no-store"),
            ],
        )
