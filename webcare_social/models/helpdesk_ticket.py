from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools import counting, languages, render, tone
from .webcare_sla import LATE_ACTIVITY_HOURS, NO_SLA_RANK, SLA_RANK, SLA_STATUSES

NAME_SIMILARITY = 0.45
SUGGESTIONS = 5


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    # the caller lookup and the timeline search tickets by number and contact
    # (table objects, so uninstalling drops them)
    _webcare_number_idx = models.Index("(number)")
    _webcare_partner_idx = models.Index("(partner_id) WHERE partner_id IS NOT NULL")

    webcare_channel_id = fields.Many2one(
        "webcare.channel", string="Social channel", index="btree_not_null"
    )
    webcare_identity_id = fields.Many2one(
        "webcare.identity", string="Social author", index="btree_not_null"
    )
    webcare_posted_at = fields.Datetime(
        string="Posted on",
        help="When the customer posted the message that opened the ticket "
        "(not when it was imported).",
    )
    webcare_message_ids = fields.One2many(
        "webcare.message", "ticket_id", string="Social messages"
    )
    webcare_incident_id = fields.Many2one(
        "webcare.incident",
        string="Incident",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        help="The surge of messages this ticket is part of.",
    )
    webcare_message_count = fields.Integer(compute="_compute_webcare_message_count")
    webcare_lang = fields.Selection(
        "_webcare_lang_selection",
        string="Language",
        help="Language of the opening post, as the network detected it.",
    )
    # response-time SLA (see webcare.sla)
    webcare_first_response_deadline = fields.Datetime(
        string="First response due", readonly=True, copy=False
    )
    webcare_first_response_at = fields.Datetime(
        string="First response", readonly=True, copy=False
    )
    webcare_response_minutes = fields.Integer(
        string="Response time (min)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Minutes from the customer's post to our first reply, in the "
        "channel's business hours.",
    )
    webcare_sla_status = fields.Selection(
        SLA_STATUSES, string="Response SLA", readonly=True, copy=False, index=True
    )
    webcare_sla_rank = fields.Integer(
        default=NO_SLA_RANK, readonly=True, copy=False, help="Urgency: lower is sooner."
    )
    webcare_first_responder_id = fields.Many2one(
        "res.users", string="First answered by", readonly=True, copy=False
    )
    webcare_replies_waiting = fields.Integer(compute="_compute_webcare_reply_counts")
    webcare_replies_failed = fields.Integer(compute="_compute_webcare_reply_counts")
    webcare_replies_queued = fields.Integer(compute="_compute_webcare_reply_counts")
    webcare_banner = fields.Char(
        related="partner_id.webcare_banner",
        string="Recent social activity",
        groups="base.group_user",
    )
    webcare_author_partner_id = fields.Many2one(
        related="webcare_identity_id.partner_id", string="Author's contact"
    )
    webcare_link_hint = fields.Char(
        compute="_compute_webcare_link_hint",
        string="Why the author is not linked",
        help="Setting the contact links the author's social identity only when "
        "the contact already agreed for that network.",
    )
    webcare_author_conflict = fields.Boolean(
        compute="_compute_webcare_author_conflict",
        help="The author's social identity belongs to another contact than "
        "this ticket's.",
    )

    def _webcare_lang_selection(self):
        return languages.selection(self.env.lang)

    @api.depends("webcare_message_ids")
    def _compute_webcare_message_count(self):
        counts = dict(
            self.env["webcare.message"]._read_group(
                [("ticket_id", "in", self.ids)], ["ticket_id"], ["__count"]
            )
        )
        for ticket in self:
            ticket.webcare_message_count = counts.get(ticket._origin, 0)

    @api.depends("webcare_message_ids.state")
    def _compute_webcare_reply_counts(self):
        groups = self.env["webcare.message"]._read_group(
            [("ticket_id", "in", self.ids), ("direction", "=", "outbound")],
            ["ticket_id", "state"],
            ["__count"],
        )
        counts = {(ticket.id, state): count for ticket, state, count in groups}
        for ticket in self:
            key = ticket._origin.id
            ticket.webcare_replies_waiting = counts.get((key, "to_approve"), 0)
            ticket.webcare_replies_failed = counts.get((key, "failed"), 0)
            ticket.webcare_replies_queued = counts.get((key, "outgoing"), 0) + (
                counts.get((key, "sending"), 0)
            )

    @api.depends("partner_id", "webcare_identity_id.partner_id")
    def _compute_webcare_author_conflict(self):
        for ticket in self:
            owner = ticket.webcare_identity_id.partner_id
            ticket.webcare_author_conflict = bool(
                ticket.partner_id and owner and owner != ticket.partner_id
            )

    @api.depends(
        "partner_id",
        "webcare_identity_id.partner_id",
        "partner_id.webcare_identity_ids.consent",
    )
    def _compute_webcare_link_hint(self):
        for ticket in self:
            ticket.webcare_link_hint = ticket._webcare_link_hint_text() or False

    def _webcare_link_hint_text(self):
        """Why the author's identity is not on the ticket's contact, or None."""
        identity = self.webcare_identity_id
        if not (identity and self.partner_id) or identity.partner_id:
            return None
        Identity = self.env["webcare.identity"]
        params = {"handle": identity.handle, "partner": self.partner_id.display_name}
        if Identity._contact_consent(self.partner_id, identity.network):
            return self.env._("@%(handle)s is not linked to %(partner)s yet.", **params)
        networks = dict(Identity._fields["network"]._description_selection(self.env))
        return self.env._(
            "@%(handle)s is not linked to %(partner)s: no consent recorded for "
            "%(network)s. Ask the customer, then link with consent.",
            network=networks.get(identity.network, identity.network),
            **params,
        )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Social tickets start their first-response clock."""
        tickets = super().create(vals_list)
        tickets.filtered("webcare_channel_id")._webcare_start_sla()
        self.env["webcare.incident"]._attach_new_tickets(tickets)
        return tickets

    def write(self, vals):
        """Setting the contact of a social ticket links its author's identity
        when the contact agreed for that network."""
        res = super().write(vals)
        if vals.get("partner_id"):
            self.filtered("webcare_identity_id")._webcare_link_author()
        return res

    def _webcare_link_author(self):
        """Link each author's identity to the ticket's contact, if they may.

        Only a contact who already agreed that their accounts on the
        author's network are kept (``webcare.identity._contact_consent``) is
        linked by itself; otherwise the identity stays unlinked and the form
        says why (``webcare_link_hint``). An identity that belongs to another
        contact is left alone: the form offers to move it, with consent.
        """
        Identity = self.env["webcare.identity"]
        for ticket in self.filtered(lambda t: not t.webcare_identity_id.partner_id):
            identity = ticket.webcare_identity_id
            consent = Identity._contact_consent(ticket.partner_id, identity.network)
            if consent:
                identity.sudo().write(ticket._webcare_link_vals(consent))

    def _webcare_link_vals(self, consent):
        """Values linking the author as ``consent`` (an identity) allows."""
        return {
            "partner_id": self.partner_id.id,
            "link_method": "agent",
            "link_note": self.env._(
                "Linked from ticket %(number)s by %(user)s, with the consent "
                "given for %(identity)s.",
                number=self.number,
                user=self.env.user.name,
                identity=consent.display_name,
            ),
            "consent": True,
            "consent_method": consent.consent_method,
            "consent_date": consent.consent_date,
            "consent_partner_id": consent.consent_partner_id.id or self.partner_id.id,
            "consent_by_id": consent.consent_by_id.id,
        }

    # ------------------------------------------------------------------
    # Linking the author
    # ------------------------------------------------------------------

    def action_webcare_link_author(self):
        """Open the consent step linking the author to this ticket's contact.

        Also when the author's identity belongs to another contact: the
        step says it is moved.
        """
        self.ensure_one()
        if not (self.webcare_identity_id and self.partner_id):
            raise UserError(self.env._("Set the ticket's contact first."))
        return self.webcare_identity_id._link_wizard_action(
            partner_id=self.partner_id.id, ticket_id=self.id
        )

    def action_webcare_use_contact(self, partner_id):
        """Make ``partner_id`` the ticket's contact (a suggestion's one click)."""
        self.ensure_one()
        self.partner_id = self.env["res.partner"].browse(partner_id).exists()
        return True

    def action_webcare_create_contact(self):
        """Create the contact from the author: name, handle, number, e-mail found."""
        self.ensure_one()
        identity = self.webcare_identity_id
        if not identity:
            raise UserError(self.env._("This ticket has no social author."))
        if identity.partner_id or self.partner_id:
            raise UserError(
                self.env._(
                    "%(identity)s is already linked to %(partner)s.",
                    identity=identity.display_name,
                    partner=identity.partner_id.display_name,
                )
                if identity.partner_id
                else self.env._(
                    "This ticket's contact is %(partner)s already.",
                    partner=self.partner_id.display_name,
                )
            )
        found = self._webcare_author_details()
        partner = self.env["res.partner"].create(
            {
                "name": identity.name or identity.handle,
                "phone": found.get("phone") or False,
                "email": found.get("email") or False,
            }
        )
        self.partner_id = partner
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": partner.id,
            "view_mode": "form",
            "target": "current",
        }

    def _webcare_author_details(self):
        """The newest phone number and e-mail the author sent us."""
        rows = (
            self.env["webcare.evidence"]
            .sudo()
            .search(
                [
                    ("identity_id", "=", self.webcare_identity_id.id),
                    ("kind", "in", ("phone", "email")),
                ]
            )
        )
        found = {}
        for row in rows:  # newest first
            found.setdefault(row.kind, row.value)
        return found

    # ------------------------------------------------------------------
    # Contact suggestions for an unknown author
    # ------------------------------------------------------------------

    def webcare_author_suggestions(self):
        """Contacts the unknown author may be, best first, with the evidence.

        Evidence: a phone number or e-mail address the author sent us that a
        contact has, a reference they mentioned (a ticket number or a
        contact's reference), and a name like the author's.
        """
        self.ensure_one()
        identity = self.webcare_identity_id
        if not identity or self.partner_id:
            return []
        found = {}
        for partner, score, reason in self._webcare_candidates(identity):
            entry = found.setdefault(
                partner.id, {"partner": partner, "score": 0, "why": []}
            )
            entry["score"] = max(entry["score"], score)
            entry["why"].append(reason)
        best = sorted(found.values(), key=lambda e: -e["score"])[:SUGGESTIONS]
        return [self._webcare_suggestion_dict(e) for e in best]

    def _webcare_candidates(self, identity):
        """Yield ``(partner, score, reason)`` for every piece of evidence."""
        Partner = self.env["res.partner"]
        rows = (
            self.env["webcare.evidence"]
            .sudo()
            .search([("identity_id", "=", identity.id)], limit=50)
        )
        for row in rows:
            if row.kind == "phone":
                partners = Partner.search(
                    [("phone_sanitized", "=", row.value)], limit=3
                )
                reason = self.env._("has the number %s they sent us", row.value)
                yield from ((p, 100, reason) for p in partners)
            elif row.kind == "email":
                partners = Partner.search(
                    [("email_normalized", "=", row.value)], limit=3
                )
                reason = self.env._("has the e-mail address %s they sent us", row.value)
                yield from ((p, 100, reason) for p in partners)
            else:
                yield from self._webcare_reference_candidates(row.value)
        yield from self._webcare_name_candidates(identity.name)

    def _webcare_reference_candidates(self, reference):
        Partner = self.env["res.partner"]
        reason = self.env._("they mentioned %s", reference)
        for partner in Partner.search([("ref", "=", reference)], limit=3):
            yield partner, 90, reason
        tickets = self.search([("number", "=", reference), ("partner_id", "!=", False)])
        for ticket in tickets:
            yield ticket.partner_id, 90, reason

    def _webcare_name_candidates(self, name):
        """Contacts whose name is like the author's (trigram similarity)."""
        if not name or len(name) < 3:
            return
        Partner = self.env["res.partner"]
        Partner.flush_model(["name"])  # the query below is raw SQL on the names
        column = SQL.identifier(Partner._table, "name")
        query = Partner._search([])
        similarity = SQL("similarity(%s, %s)", column, name)
        # "%%" is pg_trgm's similarity operator: it can use the trigram index
        query.add_where(
            SQL("%s %% %s AND %s >= %s", column, name, similarity, NAME_SIMILARITY)
        )
        query.order = SQL("%s DESC", similarity)
        query.limit = SUGGESTIONS
        rows = self.env.execute_query(
            query.select(SQL.identifier(Partner._table, "id"), similarity)
        )
        for partner_id, score in rows:
            yield (
                Partner.browse(partner_id),
                int(score * 80),
                self.env._(
                    "name like %(name)s (%(percent)s%%)",
                    name=name,
                    percent=int(score * 100),
                ),
            )

    def _webcare_suggestion_dict(self, entry):
        partner = entry["partner"]
        return {
            "partner_id": partner.id,
            "name": partner.display_name,
            "email": partner.email or None,
            "phone": partner.phone or None,
            "score": entry["score"],
            "evidence": entry["why"],
        }

    # ------------------------------------------------------------------
    # Replying
    # ------------------------------------------------------------------

    def webcare_reply(self, body, private=False, idempotency_key=None):
        """Answer the customer where they wrote; return the outbound message.

        ``private`` sends a private message (DM) instead of a public reply;
        a public reply answers the customer's latest post of the ticket.
        The reply is queued (``outgoing``), or waits for a Webcare manager
        (``to_approve``) on a sensitive ticket, and is sent once this
        transaction is committed. The same ``idempotency_key`` twice returns
        the first reply instead of queueing another.
        """
        self.ensure_one()
        if not self.env.user.has_group("webcare_social.group_webcare_agent"):
            raise AccessError(self.env._("Only Webcare users answer on social media."))
        Message = self.env["webcare.message"]
        if idempotency_key:
            known = Message.sudo().search(
                [("idempotency_key", "=", idempotency_key)], limit=1
            )
            if known:
                return known.sudo(False)
        body = (body or "").strip()
        if not body:
            raise UserError(self.env._("The reply is empty."))
        target = self._webcare_reply_target(private)
        self._webcare_check_length(body, private)
        return Message._queue_reply(
            self, body, target, self._webcare_needs_approval(), idempotency_key
        )

    def action_webcare_retry_replies(self):
        """Queue this ticket's replies that could not be sent again."""
        self.webcare_message_ids._retry_send()
        return True

    def _webcare_reply_target(self, private):
        """Where a reply goes: ``kind``, ``parent_ref``/``recipient_ref``, thread."""
        if not self.webcare_channel_id:
            raise UserError(self.env._("This is not a social ticket."))
        inbound = self.webcare_message_ids.filtered(
            lambda m: m.direction == "inbound" and m.external_id and m.posted_at
        ).sorted("posted_at", reverse=True)
        if private:
            return self._webcare_private_target(inbound)
        posts = inbound.filtered(lambda m: m.kind != "dm")
        # the customer's own latest post, not a bystander's in the thread
        author = self.webcare_identity_id
        posts = posts.filtered(lambda m: m.identity_id == author) or posts
        if not posts:
            raise UserError(
                self.env._(
                    "This conversation has no public post to reply to: send a "
                    "private message instead."
                )
            )
        return {
            "kind": "reply",
            "parent_ref": posts[0].external_id,
            "conversation_ref": posts[0].conversation_ref,
        }

    def _webcare_private_target(self, inbound):
        provider = self.webcare_channel_id._get_provider_class()
        if not provider.supports_private:
            raise UserError(self.env._("This network has no private messages."))
        recipient = self.webcare_identity_id.external_id
        if not recipient:
            raise UserError(
                self.env._("The author's account on the network is not known.")
            )
        dms = inbound.filtered(lambda m: m.kind == "dm")
        return {
            "kind": "dm",
            "recipient_ref": recipient,
            "conversation_ref": dms[:1].conversation_ref or False,
        }

    def _webcare_check_length(self, body, private):
        """Refuse a reply the network would find too long, counted its way."""
        network = self.webcare_channel_id.provider
        if counting.fits(body, network, private=private):
            return
        raise UserError(
            self.env._(
                "This reply is %(count)s characters as %(network)s counts them; "
                "the most is %(limit)s.",
                count=counting.count(body, network),
                network=dict(
                    self.webcare_channel_id._fields["provider"]._description_selection(
                        self.env
                    )
                ).get(network, network),
                limit=counting.limit(network, private),
            )
        )

    def _webcare_needs_approval(self):
        """A reply waits for a manager on a sensitive ticket (tag or reach)."""
        if self.env.user.has_group("webcare_social.group_webcare_manager"):
            return False
        channel = self.webcare_channel_id
        if self.tag_ids & channel.approval_tag_ids:
            return True
        reach = self.webcare_identity_id.followers_count
        return bool(channel.approval_followers) and reach >= channel.approval_followers

    # ------------------------------------------------------------------
    # Response-time SLA
    # ------------------------------------------------------------------

    def _webcare_start_sla(self):
        """Set each ticket's first-response deadline from the customer's post."""
        Sla = self.env["webcare.sla"]
        now = fields.Datetime.now()
        for ticket in self:
            posted = ticket.webcare_posted_at or ticket.create_date or now
            ticket.webcare_first_response_deadline = Sla._deadline(
                ticket.webcare_channel_id, posted
            )
            ticket._webcare_update_sla(now)

    def _webcare_update_sla(self, now):
        """Move a waiting ticket's status with the clock; a late one tells the lead."""
        self.ensure_one()
        if self.webcare_first_response_at or not self.webcare_first_response_deadline:
            return
        status = self.env["webcare.sla"]._open_status(
            self.webcare_channel_id, self.webcare_first_response_deadline, now
        )
        if status == self.webcare_sla_status:
            return
        self.write({"webcare_sla_status": status, "webcare_sla_rank": SLA_RANK[status]})
        # a post imported long after its deadline (history) bothers nobody
        recent = now - self.webcare_first_response_deadline < timedelta(
            hours=LATE_ACTIVITY_HOURS
        )
        if status == "late" and recent:
            self._webcare_warn_lead()

    def _webcare_warn_lead(self):
        """One to-do for the team lead on a ticket that went past its deadline."""
        lead = self.team_id.user_id or self.webcare_channel_id.team_id.user_id
        lead = lead or self.env.ref("base.user_admin", raise_if_not_found=False)
        if not lead or self._webcare_late_activities():
            return
        # the to-do is the team lead's: in the team lead's language
        ticket = self.with_context(lang=lead.lang or self.env.lang)
        ticket.sudo().activity_schedule(
            "webcare_social.mail_activity_type_late_response",
            summary=ticket.env._("Late first response: %(number)s", number=self.number),
            note=ticket.env._(
                "The customer has waited longer than the response target of "
                "%(minutes)s minutes.",
                minutes=self.webcare_channel_id.sla_target_minutes,
            ),
            user_id=lead.id,
        )

    def _webcare_late_activities(self):
        late = self.env.ref("webcare_social.mail_activity_type_late_response")
        return self.activity_ids.filtered(lambda a: a.activity_type_id == late)

    def _webcare_mark_answered(self, when, user=None):
        """Stop the clock at our first reply; its writer becomes the assignee."""
        for ticket in self.filtered("webcare_channel_id"):
            first = ticket.webcare_first_response_at
            if first and first <= when:
                continue
            ticket._webcare_record_answer(when, user)

    def _webcare_record_answer(self, when, user):
        channel = self.webcare_channel_id
        posted = self.webcare_posted_at or self.create_date
        deadline = self.webcare_first_response_deadline
        status = "answered_late" if deadline and when > deadline else "answered_on_time"
        vals = {
            "webcare_first_response_at": when,
            "webcare_response_minutes": self.env["webcare.sla"]._minutes_between(
                channel, posted, when
            ),
            "webcare_sla_status": status,
            "webcare_sla_rank": SLA_RANK[status],
        }
        self._webcare_late_activities().sudo().action_feedback(
            feedback=self.env._("Answered.")
        )
        if user:
            vals["webcare_first_responder_id"] = user.id
            if not self.user_id and (not self.team_id or user in self.team_id.user_ids):
                vals["user_id"] = user.id
        self.sudo().write(vals)

    def _webcare_sla_summary(self):
        """The ticket's response-time status for the caller lookup, or None."""
        if not self.webcare_sla_status:
            return None
        labels = dict(
            self._fields["webcare_sla_status"]._description_selection(self.env)
        )
        css = {
            "late": "text-bg-danger",
            "at_risk": "text-bg-warning",
            "on_time": "text-bg-success",
            "answered_late": "text-bg-secondary",
            "answered_on_time": "text-bg-light",
        }
        return {
            "status": self.webcare_sla_status,
            "label": labels[self.webcare_sla_status],
            "css": css[self.webcare_sla_status],
            "deadline": fields.Datetime.to_string(self.webcare_first_response_deadline),
        }

    # ------------------------------------------------------------------
    # Ticket shaping: what a customer's message does to tickets, the way
    # mail.thread's message_new / message_update do it for e-mail
    # ------------------------------------------------------------------

    @api.model
    def _webcare_message_new(self, message):
        """Open a ticket for ``message`` (a processed inbound webcare.message).

        A DM's words go to the chatter only (as a Webcare-only message), never
        to the ticket's title or description, which more people may read.
        """
        ticket = self.create(self._webcare_prepare_vals(message))
        if message.kind == "dm":
            ticket._webcare_post_message(message)
        return ticket

    def _webcare_message_update(self, message):
        """Add ``message`` to this ticket's chatter; reopen it when closed."""
        self.ensure_one()
        self._webcare_reopen()
        self._webcare_post_message(message)

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Nobody is notified of a DM in the chatter, not even a follower of
        every subtype: its words are read on the ticket, by Webcare users."""
        recipients = super()._notify_get_recipients(message, msg_vals, **kwargs)
        if msg_vals and "subtype_id" in msg_vals:
            subtype_id = msg_vals["subtype_id"]
        else:
            subtype_id = message.subtype_id.id
        dm_subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "webcare_social.mt_webcare_dm", raise_if_not_found=False
        )
        if subtype_id and subtype_id == dm_subtype_id:
            return []
        return recipients

    def _webcare_post_message(self, message):
        """Copy ``message`` to the chatter; the message keeps its copy (the
        retention period purges a DM's copy with the DM)."""
        message.chatter_message_id = self.message_post(
            body=message._render(),
            message_type="comment",
            subtype_xmlid=message._chatter_subtype_xmlid(),
            author_id=message.partner_id.id or False,
            email_from=f"@{message.author_handle}" if not message.partner_id else False,
        )

    def _webcare_continues(self):
        """Tell whether a new message of the customer continues this ticket.

        An open ticket does; a closed one within the reopen window
        (Settings > Helpdesk > Webcare, 7 days by default) does and reopens.
        """
        self.ensure_one()
        if not self.closed:
            return True
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("webcare_social.reopen_days", 7)
        )
        closed = self.closed_date or self.write_date
        return closed >= fields.Datetime.now() - timedelta(days=days)

    @api.model
    def _webcare_prepare_vals(self, message):
        """Values of the ticket a customer's message opens."""
        channel = message.channel_id
        fallback = (
            self.env._("DM from @%(handle)s", handle=message.author_handle)
            if message.kind == "dm"
            else self.env._("Post by @%(handle)s", handle=message.author_handle)
        )
        private = message.kind == "dm"
        return {
            "name": render.ticket_title("" if private else message.body, fallback),
            "description": message._render(private_notice=private),
            "partner_id": message.partner_id.id,
            "partner_name": message.partner_id.name or message.author_name,
            # cached id lookup: no existence query per ticket
            "channel_id": self.env["ir.model.data"]._xmlid_to_res_id(
                "webcare_social.helpdesk_ticket_channel_social", raise_if_not_found=True
            ),
            "team_id": channel.team_id.id,
            "company_id": channel.company_id.id,
            "priority": tone.priority_for(
                message.author_followers,
                tone.is_negative(message.body),
                high=channel.followers_high,
                very_high=channel.followers_very_high,
            ),
            "user_id": self._webcare_auto_assignee(channel).id,
            "webcare_channel_id": channel.id,
            "webcare_identity_id": message.identity_id.id,
            "webcare_posted_at": message.posted_at,
            "webcare_lang": message.lang,
        }

    @api.model
    def _webcare_auto_assignee(self, channel):
        """Who a new social ticket is assigned to: helpdesk_mgmt's own rule.

        With the company's "auto assign" on, helpdesk_mgmt gives a new ticket
        to the user who creates it, if they are in its team. An import run by
        an agent in the team ("Import now") does so too; one run by the cron
        (OdooBot) or by someone outside the team leaves the ticket unassigned,
        for the first agent who answers it. Without the option: unassigned.
        """
        user = self.env.user
        if not channel.company_id.helpdesk_mgmt_ticket_auto_assign:
            return self.env["res.users"]
        if user._is_superuser() or not user._is_internal():
            return self.env["res.users"]
        if channel.team_id and user not in channel.team_id.user_ids:
            return self.env["res.users"]
        return user

    def _webcare_reopen(self):
        """Put closed tickets back in the first open stage of their team."""
        for ticket in self.filtered("closed"):
            stage = self.env["helpdesk.ticket.stage"].search(
                [
                    ("closed", "=", False),
                    "|",
                    ("team_ids", "=", False),
                    ("team_ids", "in", ticket.team_id.ids),
                ],
                order="sequence, id",
                limit=1,
            )
            ticket.stage_id = stage
            ticket.message_post(
                body=self.env._("Reopened: the customer wrote again."),
                subtype_xmlid="mail.mt_note",
            )
