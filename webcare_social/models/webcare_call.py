from datetime import timedelta
from urllib.parse import quote

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import phones

SOCIAL_CONTEXT_DAYS = 7
BUS_INCOMING_CALL = "webcare_social/incoming_call"


class WebcareCall(models.Model):
    """A phone call with a customer, logged by an agent or a phone system.

    A call is matched to its caller by the caller lookup (E.164 phone, then
    numbers customers sent by DM). ``recognized`` says whether that worked;
    ``social_context`` whether the caller was active on social media in the
    week before, the figure a team lead watches.
    """

    _name = "webcare.call"
    _description = "Phone call"
    _order = "started_at desc, id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", index=True, ondelete="set null"
    )
    identity_id = fields.Many2one(
        "webcare.identity",
        string="Recognised as",
        index="btree_not_null",
        ondelete="set null",
        help="The social identity the caller was recognised through, when no "
        "contact has this number yet.",
    )
    phone = fields.Char(help="The number as the phone system or agent gave it.")
    phone_e164 = fields.Char(
        string="Number (E.164)", index="btree_not_null", readonly=True
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
    )
    started_at = fields.Datetime(required=True, default=fields.Datetime.now)
    duration = fields.Integer(string="Duration (seconds)")
    user_id = fields.Many2one(
        "res.users", string="Agent", default=lambda self: self.env.user, index=True
    )
    note = fields.Text()
    ticket_id = fields.Many2one(
        "helpdesk.ticket", index="btree_not_null", ondelete="set null"
    )
    external_ref = fields.Char(
        string="Phone system call ID", copy=False, help="Unique per company."
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    recognized = fields.Boolean(
        string="Recognised",
        readonly=True,
        help="The caller was matched to a contact or social identity.",
    )
    matched_by = fields.Selection(
        [
            ("phone", "Phone number"),
            ("dm_phone", "Number sent by direct message"),
            ("agent", "Chosen by the agent"),
        ],
        string="Recognised by",
        readonly=True,
    )
    social_context = fields.Boolean(
        string="Active on social",
        readonly=True,
        help="The caller posted or sent us a message on social media in the "
        "7 days before the call.",
    )

    _company_external_ref_uniq = models.Constraint(
        "UNIQUE(company_id, external_ref)",
        "This phone system call ID is already recorded for this company.",
    )
    _partner_started_idx = models.Index(
        "(partner_id, started_at DESC) WHERE partner_id IS NOT NULL"
    )
    _duration_positive = models.Constraint(
        "CHECK(duration IS NULL OR duration >= 0)", "A duration cannot be negative."
    )

    @api.depends("direction", "phone", "partner_id", "identity_id")
    def _compute_display_name(self):
        labels = dict(self._fields["direction"]._description_selection(self.env))
        for call in self:
            who = call.partner_id.name or call.identity_id.display_name or call.phone
            call.display_name = f"{labels.get(call.direction, '')}: {who or '?'}"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Create calls, recognising the caller of those without a contact."""
        calls = super().create([self._with_e164(vals) for vals in vals_list])
        for call in calls:
            if not call.partner_id and not call.identity_id and call.phone_e164:
                call._recognize()
            elif call.partner_id:
                call.write({"recognized": True, "matched_by": "agent"})
            call.social_context = call._had_social_activity()
        calls._log_in_chatter()
        return calls

    def write(self, vals):
        vals = self._with_e164(vals)
        if vals.get("partner_id") and "matched_by" not in vals:
            vals.update(recognized=True, matched_by="agent")
        return super().write(vals)

    def _with_e164(self, vals):
        if "phone" not in vals:
            return vals
        company = self.env["res.company"].browse(vals.get("company_id")) or (
            self.company_id[:1] or self.env.company
        )
        return dict(
            vals,
            phone_e164=phones.to_e164(vals["phone"], company.country_id.code) or False,
        )

    # ------------------------------------------------------------------
    # Recognition
    # ------------------------------------------------------------------

    def _recognize(self):
        """Match the caller by number; leave the call unrecognised otherwise."""
        self.ensure_one()
        match = self.env["webcare.lookup"]._match_phone(self.phone_e164)
        if not match:
            self.write({"recognized": False, "matched_by": False})
            return
        self.write(
            {
                "partner_id": match.partner.id,
                "identity_id": False if match.partner else match.identity.id,
                "recognized": True,
                "matched_by": match.how,
            }
        )

    def _had_social_activity(self):
        """Tell whether the caller wrote to us on social media in the last week."""
        self.ensure_one()
        if self.partner_id:
            who = [("partner_id", "=", self.partner_id.id)]
        elif self.identity_id:
            who = [("identity_id", "=", self.identity_id.id)]
        else:
            return False
        since = self.started_at - timedelta(days=SOCIAL_CONTEXT_DAYS)
        return bool(
            self.env["webcare.message"]
            .sudo()
            .search_count(
                [
                    *who,
                    ("direction", "=", "inbound"),
                    ("posted_at", ">=", since),
                    ("posted_at", "<=", self.started_at),
                ],
                limit=1,
            )
        )

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------

    def _summary(self):
        """One line for people: direction, number, length, agent."""
        self.ensure_one()
        labels = dict(self._fields["direction"]._description_selection(self.env))
        parts = [
            self.env._("%(direction)s call", direction=labels[self.direction]),
            phones.display(self.phone_e164) if self.phone_e164 else self.phone,
        ]
        if self.duration:
            minutes, seconds = divmod(self.duration, 60)
            parts.append(f"{minutes}:{seconds:02d} min")
        if self.user_id:
            parts.append(self.env._("agent %(name)s", name=self.user_id.name))
        return " · ".join(p for p in parts if p)

    def _log_in_chatter(self, records=None):
        """Note each call on its contact and its ticket (or on ``records``)."""
        for call in self:
            body = Markup("<p>%s</p>") % call._summary()
            if call.note:
                body += Markup("<p>%s</p>") % call.note
            for record in records if records is not None else call._chatter_records():
                record.sudo()._message_log(body=body)

    def _chatter_records(self):
        return [record for record in (self.partner_id, self.ticket_id) if record]

    def _log_note(self, records):
        """Add the agent's note of a call already in these chatters."""
        if not self.note:
            return
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._("Call note by %(agent)s", agent=self.env.user.name),
            self.note,
        )
        for record in records:
            record.sudo()._message_log(body=body)

    def action_add_note(self, note, duration=None, ticket_id=None, partner_id=None):
        """Complete a call with what the agent noted; log it in the chatter."""
        self.ensure_one()
        vals = {"note": note or self.note}
        if duration is not None:
            vals["duration"] = int(duration)
        if ticket_id:
            vals["ticket_id"] = ticket_id
        if partner_id and partner_id != self.partner_id.id:
            vals["partner_id"] = partner_id
        logged = self._chatter_records()  # where the ringing call was noted
        self.write(vals)
        self._log_note([r for r in self._chatter_records() if r in logged])
        self._log_in_chatter([r for r in self._chatter_records() if r not in logged])
        return True

    # ------------------------------------------------------------------
    # Phone system API
    # ------------------------------------------------------------------

    @api.model
    def webcare_incoming(self, phone, agent_login=None, external_ref=None):
        """Record an incoming call and pop the caller lookup at the agent.

        Called by phone systems over JSON-2 (``POST
        /json/2/webcare.call/webcare_incoming``) with the API key of a user
        in *Webcare: Telephony*. The same ``external_ref`` again updates that
        call instead of recording a second one. An unknown number is
        recorded as unrecognised; no contact is ever created.

        :param str phone: the caller's number, in any notation
        :param str agent_login: login of the agent whose browser pops the lookup
        :param str external_ref: the phone system's call id
        :return: ``call_id``, ``recognized``, ``matched_by``, ``partner_id``,
            ``partner_name``, ``identity``, ``social_context``, ``lookup_url``
        """
        self._check_telephony()
        if not phone or not isinstance(phone, str):
            raise ValidationError(self.env._("The caller's phone number is missing."))
        agent = self._agent_from_login(agent_login)
        call = self.sudo()._upsert_incoming(phone, agent, external_ref or False)
        if agent:
            agent._bus_send(BUS_INCOMING_CALL, call._bus_payload())
        return call._api_result()

    def _check_telephony(self):
        if not self.env.user.has_group("webcare_social.group_webcare_telephony"):
            raise AccessError(
                self.env._("Only users in Webcare: Telephony may report calls.")
            )

    @api.model
    def _agent_from_login(self, login):
        if not login:
            return self.env["res.users"]
        agent = (
            self.env["res.users"]
            .sudo()
            .search([("login", "=", login), ("share", "=", False)], limit=1)
        )
        if not agent:
            raise UserError(self.env._("No internal user has the login %s.", login))
        return agent

    @api.model
    def _upsert_incoming(self, phone, agent, external_ref):
        """Return the call ``external_ref`` names, updated, or a new call."""
        vals = {"phone": phone, "direction": "inbound", "user_id": agent.id or False}
        company = agent.company_id or self.env.company
        existing = external_ref and self.search(
            [("company_id", "=", company.id), ("external_ref", "=", external_ref)],
            limit=1,
        )
        if existing:
            return existing._update_incoming(vals)
        try:
            with self.env.cr.savepoint():
                return self.with_company(company).create(
                    dict(vals, external_ref=external_ref, company_id=company.id)
                )
        except psycopg2.IntegrityError:
            if not external_ref:
                raise
        # the phone system reported the same call twice at the same moment
        return self.search(
            [("company_id", "=", company.id), ("external_ref", "=", external_ref)],
            limit=1,
        )._update_incoming(vals)

    def _update_incoming(self, vals):
        if not vals.get("user_id"):  # a report without agent keeps the one known
            vals = {k: v for k, v in vals.items() if k != "user_id"}
        self.write(vals)
        if not self.partner_id and self.phone_e164:
            self._recognize()
            self.social_context = self._had_social_activity()
            if self.partner_id:  # recognised only now: note it like a new call
                self._log_in_chatter()
        return self

    @api.model
    def _screen_dict(self, call_id):
        """The call the lookup screen was opened for, or None."""
        call = self.browse(call_id).exists() if call_id else self
        if not call or not call.has_access("read"):
            return None
        return {
            "id": call.id,
            "phone": call.phone,
            "phone_display": phones.display(call.phone_e164)
            if call.phone_e164
            else call.phone,
            "direction": call.direction,
            "started_at": fields.Datetime.to_string(call.started_at),
            "recognized": call.recognized,
            "partner_id": call.partner_id.id or None,
            "ticket_id": call.ticket_id.id or None,
            "note": call.note or "",
            "duration": call.duration,
        }

    @api.model
    def webcare_log(
        self,
        partner_id=False,
        phone=False,
        direction="inbound",
        duration=0,
        note="",
        ticket_id=False,
        call_id=False,
    ):
        """Log a call from the caller lookup; complete ``call_id`` when given.

        :return: the id of the ``webcare.call``
        """
        if call_id:
            call = self.browse(call_id).exists()
            call.action_add_note(note, duration, ticket_id, partner_id)
            return call.id
        call = self.create(
            {
                "partner_id": partner_id or False,
                "phone": phone or False,
                "direction": direction,
                "duration": int(duration or 0),
                "note": note or False,
                "ticket_id": ticket_id or False,
            }
        )
        return call.id

    def _bus_payload(self):
        self.ensure_one()
        return {
            "call_id": self.id,
            "phone": self.phone,
            "phone_e164": self.phone_e164 or False,
            "recognized": self.recognized,
            "name": self.partner_id.name or self.identity_id.display_name or False,
        }

    def _api_result(self):
        self.ensure_one()
        query = self.phone_e164 or self.phone or ""
        return {
            "call_id": self.id,
            "recognized": self.recognized,
            "matched_by": self.matched_by or None,
            "partner_id": self.partner_id.id or None,
            "partner_name": self.partner_id.name or None,
            "identity": self.identity_id.display_name or None,
            "social_context": self.social_context,
            "lookup_url": f"/odoo/webcare-lookup?phone={quote(query, safe='')}",
        }
