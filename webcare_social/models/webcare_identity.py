from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

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


class WebcareIdentity(models.Model):
    """One account of a person on a social network.

    Identities are created by agents (on the contact's Social tab) or by the
    ingestion of posts (without contact, so strangers never become contacts).
    Linking to a contact records who, when and how; unlinking only empties
    ``partner_id`` so that the history and the identity survive.
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
        help="The customer agreed that this account is kept on their record."
    )
    consent_date = fields.Datetime(readonly=True)
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
        slots, fresh = [], []
        for raw_vals in vals_list:
            vals = self._clean_vals(raw_vals)
            existing = self._find_existing(vals)
            if existing:
                existing.write(vals)
            else:
                fresh.append(self._stamp_link(vals))
            slots.append(existing)
        created = super().create(fresh)
        linked = created.filtered("partner_id")
        linked._log_on_partner("linked", linked._link_history())
        new_ids = iter(created.ids)
        return self.browse([slot.id if slot else next(new_ids) for slot in slots])

    def write(self, vals):
        vals = self._clean_vals(vals)
        if "consent" in vals:
            vals["consent_date"] = fields.Datetime.now() if vals["consent"] else False
        if vals.get("handle"):
            self._keep_old_handles(vals["handle"])
        if "partner_id" not in vals:
            return super().write(vals)
        new_partner = vals["partner_id"]
        moved = self.filtered(lambda i: i.partner_id.id != new_partner)
        moved.filtered("partner_id")._log_on_partner("unlinked")
        res = super().write(self._stamp_link(vals))
        if new_partner:
            moved._log_on_partner("linked", moved._link_history())
        return res

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
        if vals.get("consent"):
            vals.setdefault("consent_date", fields.Datetime.now())
        return vals

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

    def webcare_link_caller(self, phone=None, partner_id=None):
        """Link this identity to the caller in one click; return the contact id.

        With ``partner_id`` the identity is linked to that contact; without,
        a contact is created from the identity (name, handle, ``phone``). A
        number the contact does not have yet is saved on it.
        """
        self.ensure_one()
        if self.partner_id and self.partner_id.id != partner_id and partner_id:
            self._check_reusable_for({"partner_id": partner_id})
        partner = self.env["res.partner"].browse(partner_id).exists()
        if not partner:
            partner = self.partner_id or self.env["res.partner"].create(
                {"name": self.name or self.handle, "phone": phone or False}
            )
        elif phone and not partner.phone:
            partner.phone = phone
        if self.partner_id != partner:
            self.write(
                {
                    "partner_id": partner.id,
                    "link_method": "agent",
                    "link_note": self.env._("Recognised as the caller of %s", phone)
                    if phone
                    else False,
                }
            )
        return partner.id

    def action_open_profile(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.profile_url, "target": "new"}

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------

    def _log_on_partner(self, event, history=None):
        """Log a link or unlink of each identity in its contact's chatter.

        ``history`` maps identity ids to the (messages, tickets) counts that
        linking gave the contact.
        """
        methods = dict(self._fields["link_method"]._description_selection(self.env))
        for identity in self:
            if event == "linked":
                body = Markup("<p>%s</p>") % self.env._(
                    "Social identity %(identity)s linked by %(user)s (%(method)s).",
                    identity=identity.display_name,
                    user=self.env.user.name,
                    method=methods.get(identity.link_method, "-"),
                )
                if identity.link_note:
                    body += Markup("<p>%s</p>") % identity.link_note
                messages, tickets = (history or {}).get(identity.id, (0, 0))
                if messages or tickets:
                    body += Markup("<p>%s</p>") % self.env._(
                        "Its %(messages)s earlier messages and %(tickets)s tickets "
                        "are now on this contact.",
                        messages=messages,
                        tickets=tickets,
                    )
            else:
                body = Markup("<p>%s</p>") % self.env._(
                    "Social identity %(identity)s unlinked by %(user)s.",
                    identity=identity.display_name,
                    user=self.env.user.name,
                )
            identity.partner_id._message_log(body=body)
