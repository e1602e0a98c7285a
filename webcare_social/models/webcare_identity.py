from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import handles

NETWORKS = [
    ("x", "X"),
    ("mastodon", "Mastodon"),
    ("bluesky", "Bluesky"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("linkedin", "LinkedIn"),
    ("other", "Other"),
]

LINK_METHODS = [
    ("customer_provided", "Given by the customer"),
    ("agent", "Linked by an agent"),
    ("verified_dm", "Verified by direct message"),
    ("imported", "Imported"),
    ("automatic", "Automatic match"),
]

# how the customer agreed that an account is kept on their record
CONSENT_METHODS = [
    ("phone", "Asked by phone"),
    ("dm", "In a direct message"),
    ("email", "By e-mail"),
    ("written", "In writing or on a form"),
]


class WebcareIdentity(models.Model):
    """One account of a person on a social network.

    Identities are created by agents (on the contact's Social tab) or by the
    ingestion of posts (without contact, so strangers never become contacts).
    Linking to a contact records who, when and how; unlinking only empties
    ``partner_id`` so that the history and the identity survive.

    Consent belongs to the link: a user links an identity only with the
    customer's consent (who gave it, how, when, recorded by whom); unlinking
    ends it, and a withdrawal is recorded and unlinks. A contact has consent
    for a network when one of their identities there is linked with consent
    (``_contact_consent``); only then does setting the contact of a social
    ticket link its author by itself.
    """

    _name = "webcare.identity"
    _description = "Social identity"
    _order = "network, handle_normalized, id"

    network = fields.Selection(NETWORKS, required=True, default="x", index=True)
    external_id = fields.Char(
        string="User ID on the network",
        help="Stable id of the account on the network; empty for handles typed "
        "in by hand until a post of theirs is imported.",
    )
    handle = fields.Char(required=True, help="As entered, without the leading @.")
    handle_normalized = fields.Char(
        compute="_compute_handle_normalized", store=True, string="Handle key"
    )
    name = fields.Char(string="Name on the network")
    profile_url = fields.Char(
        compute="_compute_profile_url", store=True, readonly=False, string="Profile"
    )
    followers_count = fields.Integer(string="Followers")
    verified = fields.Boolean()
    partner_id = fields.Many2one(
        "res.partner", string="Contact", index=True, ondelete="set null"
    )
    link_method = fields.Selection(LINK_METHODS, string="Linked how")
    linked_by_id = fields.Many2one("res.users", string="Linked by", readonly=True)
    linked_at = fields.Datetime(string="Linked on", readonly=True)
    link_note = fields.Char(string="Link note")
    consent = fields.Boolean(
        string="Customer agreed",
        help="The customer agreed that this account is kept on their record. "
        "Linking by hand needs it; withdrawing it unlinks the account.",
    )
    consent_method = fields.Selection(CONSENT_METHODS, string="How they agreed")
    consent_date = fields.Datetime(string="Consent given on", readonly=True)
    consent_partner_id = fields.Many2one(
        "res.partner",
        string="Consent given by",
        readonly=True,
        ondelete="set null",
        help="The customer who agreed: the contact the account was linked to.",
    )
    consent_by_id = fields.Many2one(
        "res.users", string="Consent recorded by", readonly=True
    )
    consent_withdrawn_at = fields.Datetime(string="Consent withdrawn on", readonly=True)
    consent_withdrawn_by_id = fields.Many2one(
        "res.users", string="Withdrawal recorded by", readonly=True
    )
    previous_handle_ids = fields.One2many(
        "webcare.identity.handle", "identity_id", string="Earlier handles"
    )
    message_ids = fields.One2many("webcare.message", "identity_id", string="Messages")

    _network_external_id_uniq = models.Constraint(
        "UNIQUE(network, external_id)",
        "This account (user ID) is already known on this network: "
        "an identity exists only once per network.",
    )
    _network_handle_uniq = models.UniqueIndex(
        "(network, handle_normalized) WHERE handle_normalized IS NOT NULL",
        "This handle is already known on this network: "
        "an identity exists only once per network.",
    )
    _name_trgm_idx = models.Index("USING gin (name gin_trgm_ops)")
    # the caller lookup finds a handle on any network
    _handle_normalized_idx = models.Index("(handle_normalized)")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("handle")
    def _compute_handle_normalized(self):
        for identity in self:
            identity.handle_normalized = (
                handles.normalize_handle(identity.handle) or False
            )

    @api.depends("network", "handle")
    def _compute_profile_url(self):
        for identity in self:
            identity.profile_url = handles.profile_url(
                identity.network, identity.handle
            )

    @api.depends("network", "handle")
    def _compute_display_name(self):
        labels = dict(self._fields["network"]._description_selection(self.env))
        for identity in self:
            network = labels.get(identity.network, "")
            identity.display_name = f"@{identity.handle or ''} ({network})"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Create identities, re-linking an unlinked one that has the same key.

        An identity typed on a contact that already exists without contact
        (e.g. imported from a post, or unlinked earlier) is linked instead of
        duplicated; one that belongs to another contact is refused.
        """
        self.browse().check_access("create")  # before asking for consent
        slots, fresh = [], []
        for raw_vals in vals_list:
            vals = self._clean_vals(raw_vals)
            existing = self._find_existing(vals)
            if existing:
                existing.write(vals)
            else:
                if vals.get("partner_id"):
                    self._check_link_consent(vals)
                fresh.append(self._stamp_consent(self._stamp_link(vals)))
            slots.append(existing)
        created = super().create(fresh)
        linked = created.filtered("partner_id")
        linked._log_on_partner("linked", linked._link_history())
        new_ids = iter(created.ids)
        return self.browse([slot.id if slot else next(new_ids) for slot in slots])

    def write(self, vals):
        vals = self._clean_vals(vals)
        if vals.get("handle"):
            self._keep_old_handles(vals["handle"])
        if "partner_id" in vals:
            return self._write_link(vals)
        if "consent" in vals:
            return self._write_consent(vals)
        return super().write(vals)

    def _write_link(self, vals):
        """Link, move or unlink: log it on the contacts, with the consent."""
        new_partner = vals["partner_id"]
        moved = self.filtered(lambda i: i.partner_id.id != new_partner)
        staying = self - moved
        rest = {k: v for k, v in vals.items() if k != "partner_id"}
        if staying and "consent" in rest:
            staying._write_consent(rest)
        elif staying and rest:
            super(WebcareIdentity, staying).write(rest)
        if not moved:
            return True
        if new_partner:
            moved._check_link_consent(vals)
        moved.filtered("partner_id")._log_on_partner("unlinked")
        res = super(WebcareIdentity, moved).write(
            self._stamp_consent(self._stamp_link(vals))
        )
        if new_partner:
            moved._log_on_partner("linked", moved._link_history())
        return res

    def _write_consent(self, vals):
        """Give consent on linked identities, or record its withdrawal.

        Taking consent away from a linked identity is a withdrawal: it is
        recorded (when, by whom) and the identity is unlinked.
        """
        if vals["consent"]:
            giving = self.filtered(lambda i: not i.consent)
            giving._check_consent_vals(vals)
            super(WebcareIdentity, self - giving).write(vals)
            for partner, identities in giving.grouped("partner_id").items():
                stamped = dict(vals, consent_partner_id=partner.id)
                super(WebcareIdentity, identities).write(self._stamp_consent(stamped))
            giving._log_on_partner("consent")
            return True
        withdrawn = self.filtered(lambda i: i.consent and i.partner_id)
        withdrawn._log_on_partner("withdrawn")
        super(WebcareIdentity, withdrawn).write(
            self._stamp_consent(
                dict(
                    vals,
                    partner_id=False,
                    linked_by_id=False,
                    linked_at=False,
                    consent_withdrawn_at=fields.Datetime.now(),
                    consent_withdrawn_by_id=self.env.uid,
                )
            )
        )
        return super(WebcareIdentity, self - withdrawn).write(self._stamp_consent(vals))

    def _keep_old_handles(self, new_handle):
        """Remember the handles these identities are leaving behind."""
        key = handles.normalize_handle(new_handle)
        leaving = self.filtered(lambda i: i.handle and i.handle_normalized != key)
        self.env["webcare.identity.handle"].sudo().create(
            [{"identity_id": i.id, "handle": i.handle} for i in leaving]
        )

    def _link_history(self):
        """Give the contact what its identity did before it was linked.

        The identity's messages, its tickets without a contact (and our
        replies in them) and the calls recognised through it get the
        identity's contact. Returns ``{identity id: (messages, tickets)}``.
        """
        counts = {}
        Message = self.env["webcare.message"].sudo()
        for identity in self.filtered("partner_id"):
            partner = identity.partner_id
            messages = Message.search(
                [("identity_id", "=", identity.id), ("partner_id", "!=", partner.id)]
            )
            tickets = (
                self.env["helpdesk.ticket"]
                .sudo()
                .search(
                    [
                        ("webcare_identity_id", "=", identity.id),
                        ("partner_id", "=", False),
                    ]
                )
            )
            replies = Message.search(
                [("ticket_id", "in", tickets.ids), ("partner_id", "=", False)]
            )
            (messages | replies).write({"partner_id": partner.id})
            tickets.write({"partner_id": partner.id, "partner_name": partner.name})
            calls = (
                self.env["webcare.call"]
                .sudo()
                .search([("identity_id", "=", identity.id), ("partner_id", "=", False)])
            )
            # they were recognised through the identity: keep saying how
            for how, group in calls.grouped("matched_by").items():
                group.write({"partner_id": partner.id, "matched_by": how or "agent"})
            counts[identity.id] = (len(messages), len(tickets))
        return counts

    @api.model
    def _clean_vals(self, vals):
        """Return ``vals`` with the handle cleaned and an empty external id as NULL."""
        vals = dict(vals)
        if vals.get("handle"):
            try:
                vals["handle"] = handles.clean_handle(vals["handle"])
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
        if "external_id" in vals:
            vals["external_id"] = vals["external_id"] or False
        return vals

    @api.model
    def _stamp_link(self, vals):
        """Add who/when/how to ``vals`` that (un)link a contact."""
        if "partner_id" not in vals:
            return vals
        vals = dict(vals)
        if not vals["partner_id"]:
            vals.update(linked_by_id=False, linked_at=False)
            return vals
        vals.setdefault("link_method", "agent")
        vals["linked_by_id"] = self.env.uid
        vals["linked_at"] = fields.Datetime.now()
        return vals

    @api.model
    def _stamp_consent(self, vals):
        """Add when/by whom to ``vals`` that give consent; a link made or
        ended without consent carries none (consent belongs to the link)."""
        if "consent" not in vals and "partner_id" not in vals:
            return vals
        vals = dict(vals)
        if vals.get("consent"):
            vals.setdefault("consent_date", fields.Datetime.now())
            vals.setdefault("consent_by_id", self.env.uid)
            if vals.get("partner_id"):
                vals.setdefault("consent_partner_id", vals["partner_id"])
            vals.setdefault("consent_withdrawn_at", False)
            vals.setdefault("consent_withdrawn_by_id", False)
            return vals
        vals.update(
            consent=False,
            consent_method=False,
            consent_date=False,
            consent_partner_id=False,
            consent_by_id=False,
        )
        return vals

    def _check_link_consent(self, vals):
        """A user links an identity to a contact only with the customer's consent.

        The superuser (imports, data files, automatic links that rest on a
        consent the contact gave before) is not asked.
        """
        if self.env.su:
            return
        if not vals.get("consent"):
            identities = ", ".join(self.mapped("display_name")) or "@{}".format(
                vals.get("handle") or ""
            )
            partner = self.env["res.partner"].browse(vals["partner_id"])
            raise ValidationError(
                self.env._(
                    "%(identity)s is linked to %(partner)s only with the customer's "
                    'consent: ask them, then tick "Customer agreed" and say how '
                    "they agreed.",
                    identity=identities,
                    partner=partner.display_name,
                )
            )
        if not vals.get("consent_method"):
            raise self._missing_consent_method()

    def _check_consent_vals(self, vals):
        """Consent given by a user says how, and is for a linked identity."""
        if self.env.su:
            return
        if not vals.get("consent_method") and any(not i.consent_method for i in self):
            raise self._missing_consent_method()
        if any(not identity.partner_id for identity in self):
            raise ValidationError(
                self.env._(
                    "Consent is given for a link to a contact: choose the contact "
                    "first."
                )
            )

    def _missing_consent_method(self):
        return ValidationError(
            self.env._(
                "Say how the customer agreed: by phone, in a direct message, by "
                "e-mail or in writing."
            )
        )

    @api.model
    def _contact_consent(self, partner, network):
        """The identity of ``partner`` on ``network`` linked with consent (the
        contact's consent for that network), or an empty recordset."""
        if not partner:
            return self.browse()
        return self.sudo().search(
            [
                ("partner_id", "=", partner.id),
                ("network", "=", network),
                ("consent", "=", True),
            ],
            order="consent_date desc, id desc",
            limit=1,
        )

    @api.model
    def _find_existing(self, vals):
        """Return the identity ``vals`` would duplicate if it may be re-used.

        :raise ValidationError: when it is another account's, or linked to
            another contact.
        """
        network = vals.get("network") or self.default_get(["network"]).get("network")
        domain = self._key_domain(network, vals.get("external_id"), vals.get("handle"))
        if not domain:
            return self.browse()
        existing = self.sudo().search(domain, limit=1)
        if existing:
            existing._check_reusable_for(vals)
        return existing.sudo(False)

    def _check_reusable_for(self, vals):
        """Refuse to re-use this identity for another account or contact."""
        external_id = vals.get("external_id")
        if external_id and self.external_id not in (False, external_id):
            raise ValidationError(
                self.env._(
                    "%(identity)s is known as another account (user ID %(other)s); "
                    "its handle is probably out of date. Correct or remove that "
                    "identity, then try again.",
                    identity=self.display_name,
                    other=self.external_id,
                )
            )
        if self.partner_id and self.partner_id.id != vals.get("partner_id"):
            raise ValidationError(
                self.env._(
                    "%(identity)s is already linked to %(partner)s. "
                    "Unlink it there first if it belongs to this contact.",
                    identity=self.display_name,
                    partner=self.partner_id.display_name,
                )
            )

    @api.model
    def _key_domain(self, network, external_id, handle):
        """Domain matching identities on ``network`` by external id or handle."""
        keys = []
        if external_id:
            keys.append([("external_id", "=", external_id)])
        if handle:
            keys.append([("handle_normalized", "=", handles.normalize_handle(handle))])
        if not keys:
            return []
        key_domain = keys[0] if len(keys) == 1 else ["|", *keys[0], *keys[1]]
        return [("network", "=", network), *key_domain]

    # ------------------------------------------------------------------
    # Matching authors of imported posts
    # ------------------------------------------------------------------

    @api.model
    def _match_author(self, network, author, known=None):
        """Return the identity of a post's author, refreshed or created.

        ``author`` has ``external_id``, ``handle``, ``name``,
        ``followers_count`` and ``verified``. A known external id wins (a
        changed handle updates that identity); else a hand-entered handle
        without id gets the id; else a new identity without contact is
        made, so strangers never become contacts. ``known`` maps
        ``(network, external_id)`` to the identities a batch already read
        (a missing key then means there is none).
        """
        Identity = self.sudo()
        key = (network, author["external_id"])
        if known is not None:
            identity = known.get(key, Identity.browse()).sudo()
        else:
            identity = Identity.search(
                [("network", "=", network), ("external_id", "=", key[1])], limit=1
            )
        identity = identity or Identity.search(
            [
                ("network", "=", network),
                ("external_id", "=", False),
                ("handle_normalized", "=", handles.normalize_handle(author["handle"])),
            ],
            limit=1,
        )
        refresh = {k: v for k, v in author.items() if v not in (None, "")}
        if identity:
            changed = {k: v for k, v in refresh.items() if identity[k] != v}
            if changed:
                identity.write(changed)
            return identity.sudo(False)
        return self.create({"network": network, **refresh})

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_unlink_partner(self):
        """Detach the identities from their contact, keeping them for re-linking."""
        self.filtered("partner_id").write({"partner_id": False})
        return True

    def action_withdraw_consent(self):
        """The customer withdraws their consent: record it and unlink."""
        self.filtered("consent").write({"consent": False})
        return True

    def action_open_link_wizard(self):
        """Open the consent step that links this identity to a contact."""
        self.ensure_one()
        return self._link_wizard_action()

    def _link_wizard_action(self, **defaults):
        """The small "the customer agreed + how" step, with ``defaults``."""
        self.ensure_one()
        context = {f"default_{key}": value for key, value in defaults.items()}
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Link %(identity)s", identity=self.display_name),
            "res_model": "webcare.identity.link",
            "view_mode": "form",
            "target": "new",
            "context": {"default_identity_id": self.id, **context},
        }

    def webcare_link_caller(
        self, phone=None, partner_id=None, consent_method=None, note=None
    ):
        """Link this identity to the caller once they agreed; return the contact id.

        ``consent_method`` says how the caller agreed that the account is
        kept on their record (``phone``, ``dm``, ``email``, ``written``);
        without it nothing is linked nor created. With ``partner_id`` the
        identity is linked to that contact; without, a contact is created
        from the identity (name, handle, ``phone``). A number the contact
        does not have yet is saved on it; ``note`` is kept with the link.
        """
        self.ensure_one()
        if not consent_method:
            raise UserError(
                self.env._(
                    "Ask the caller whether we may keep %(identity)s on their "
                    "record, and link it only when they agree.",
                    identity=self.display_name,
                )
            )
        if self.partner_id and self.partner_id.id != partner_id and partner_id:
            self._check_reusable_for({"partner_id": partner_id})
        partner = self.env["res.partner"].browse(partner_id).exists()
        if not partner:
            partner = self.partner_id or self.env["res.partner"].create(
                {"name": self.name or self.handle, "phone": phone or False}
            )
        elif phone and not partner.phone:
            partner.phone = phone
        if phone:
            caller = self.env._("Recognised as the caller of %s", phone)
            note = f"{caller}. {note}" if note else caller
        self._link_with_consent(partner, consent_method, note or False)
        return partner.id

    def _link_with_consent(self, partner, consent_method, note=False):
        """Link to ``partner`` (or give consent on the link) as the customer agreed."""
        self.ensure_one()
        if self.partner_id == partner:
            if not self.consent:
                self.write({"consent": True, "consent_method": consent_method})
            return
        self.write(
            {
                "partner_id": partner.id,
                "link_method": "agent",
                "link_note": note,
                "consent": True,
                "consent_method": consent_method,
            }
        )

    def action_open_profile(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.profile_url, "target": "new"}

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------

    def _log_on_partner(self, event, history=None):
        """Log a link event of each identity in its contact's chatter.

        ``event`` is ``linked``, ``unlinked``, ``consent`` (given on an
        existing link) or ``withdrawn``; ``history`` maps identity ids to the
        (messages, tickets) counts that linking gave the contact.
        """
        for identity in self.filtered("partner_id"):
            lines = {
                "linked": identity._linked_lines,
                "unlinked": identity._unlinked_lines,
                "consent": identity._consent_lines,
                "withdrawn": identity._withdrawn_lines,
            }[event](history or {})
            body = Markup("").join(Markup("<p>%s</p>") % line for line in lines if line)
            identity.partner_id._message_log(body=body)

    def _linked_lines(self, history):
        methods = dict(self._fields["link_method"]._description_selection(self.env))
        yield self.env._(
            "Social identity %(identity)s linked by %(user)s (%(method)s).",
            identity=self.display_name,
            user=self.env.user.name,
            method=methods.get(self.link_method, "-"),
        )
        yield self.link_note
        yield from self._consent_lines(history)
        messages, tickets = history.get(self.id, (0, 0))
        if messages or tickets:
            yield self.env._(
                "Its %(messages)s earlier messages and %(tickets)s tickets "
                "are now on this contact.",
                messages=messages,
                tickets=tickets,
            )

    def _consent_lines(self, history):
        if not self.consent:
            yield self.env._("No consent recorded.")
            return
        methods = dict(self._fields["consent_method"]._description_selection(self.env))
        yield self.env._(
            "Consent for %(identity)s given by %(customer)s (%(how)s), recorded "
            "by %(user)s.",
            identity=self.display_name,
            customer=self.consent_partner_id.display_name or "-",
            how=methods.get(self.consent_method, "-"),
            user=self.consent_by_id.name or "-",
        )

    def _unlinked_lines(self, history):
        yield self.env._(
            "Social identity %(identity)s unlinked by %(user)s.",
            identity=self.display_name,
            user=self.env.user.name,
        )
        if self.consent:
            yield self.env._("The consent recorded for it ends with the link.")

    def _withdrawn_lines(self, history):
        yield self.env._(
            "%(customer)s withdrew their consent for %(identity)s; recorded by "
            "%(user)s. The identity is unlinked (it and its history are kept).",
            customer=self.partner_id.display_name,
            identity=self.display_name,
            user=self.env.user.name,
        )
