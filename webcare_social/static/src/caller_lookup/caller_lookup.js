import { Component, onWillStart, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useAutofocus, useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { LogCall } from "../log_call/log_call";
import { NetworkBadge } from "../network_badge/network_badge";
import { WebcareTimeline } from "../timeline/timeline";

export const MATCH_LABELS = {
    phone: _t("Phone number"),
    dm_phone: _t("Number sent by DM"),
    email: _t("E-mail address"),
    dm_email: _t("E-mail sent by DM"),
    handle: _t("Social handle"),
    ticket: _t("Ticket number"),
    name: _t("Name"),
};

/**
 * Caller lookup (client action ``webcare_social.caller_lookup``, URL
 * ``/odoo/webcare-lookup?phone=…``, also ``email``, ``handle``, ``q`` and
 * ``call_id``): one input for a number, e-mail, handle, ticket number or
 * name; the people it may be, with their social accounts, last messages,
 * open tickets and timeline; "log call"; and for an unknown caller a clear
 * message with "create contact". One server call per search
 * (res.partner.webcare_lookup_screen).
 */
export class CallerLookup extends Component {
    static template = "webcare_social.CallerLookup";
    static components = { LogCall, NetworkBadge, WebcareTimeline };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.matchLabels = MATCH_LABELS;
        // the raw query string: the router turns "0612345678" or "+31…" into numbers
        const params = {
            ...Object.fromEntries(new URLSearchParams(browser.location.search)),
            ...(this.props.action.params || {}),
        };
        this.state = useState({
            query: this.queryFromParams(params),
            callId: parseInt(params.call_id, 10) || null,
            data: null,
            selectedKey: null,
            loading: false,
            timelineKey: 0,
        });
        useAutofocus({ refName: "query" });
        onWillStart(() => this.state.query && this.search());
    }

    queryFromParams(params) {
        if (params.q || params.phone || params.email) {
            return String(params.q || params.phone || params.email);
        }
        return params.handle ? `@${String(params.handle).replace(/^@/, "")}` : "";
    }

    async search() {
        const query = this.state.query.trim();
        this.state.loading = true;
        try {
            const data = await this.orm.call("res.partner", "webcare_lookup_screen", [], {
                query,
                call_id: this.state.callId || false,
            });
            this.state.data = data;
            this.state.selectedKey = data.results[0]?.key || null;
            this.state.timelineKey = 0;
        } finally {
            this.state.loading = false;
        }
        this.props.updateActionState?.({ q: query || undefined });
    }

    onSubmit(ev) {
        ev.preventDefault();
        this.state.callId = null;
        return this.search();
    }

    get selected() {
        const results = this.state.data?.results || [];
        return results.find((result) => result.key === this.state.selectedKey) || results[0];
    }

    get call() {
        const call = this.state.data?.call;
        return call && { ...call, when: formatDateTime(deserializeDateTime(call.started_at)) };
    }

    select(result) {
        this.state.selectedKey = result.key;
        this.state.timelineKey++;
    }

    age(date) {
        return date ? deserializeDateTime(date).toRelative() : "";
    }

    followers(count) {
        return count ? _t("%s followers", count.toLocaleString()) : "";
    }

    callerPhone(result) {
        return this.state.data?.call?.phone || this.state.data?.unknown?.phone || this.state.query;
    }

    openRecord(model, id) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    createContact() {
        const unknown = this.state.data?.unknown || {};
        return this.action.doAction(
            {
                type: "ir.actions.act_window",
                res_model: "res.partner",
                views: [[false, "form"]],
                target: "new",
                context: {
                    default_phone: unknown.phone || false,
                    default_email: unknown.email || false,
                    default_name: unknown.name || false,
                },
            },
            { onClose: () => this.search() }
        );
    }

    /**
     * Link the caller's social identity, to a new contact or (``newContact``
     * false) to one the agent chooses, in the consent step: only when the
     * caller agreed, saying how (webcare.identity.link).
     */
    linkCaller(result, newContact = true) {
        const phone = this.callerPhone(result);
        return this.action.doAction(
            {
                type: "ir.actions.act_window",
                name: _t("Link @%s with consent", result.identities[0]?.handle || ""),
                res_model: "webcare.identity.link",
                views: [[false, "form"]],
                target: "new",
                context: {
                    default_identity_id: result.identity_id,
                    default_phone: this.looksLikePhone(phone) ? phone : false,
                    default_new_contact: newContact,
                    default_consent_method: "phone",
                },
            },
            { onClose: () => this.search() }
        );
    }

    linkToExisting(result) {
        return this.linkCaller(result, false);
    }

    looksLikePhone(text) {
        return /^\+?[\d\s().\-/]{6,}$/.test(text || "");
    }

    onLogged() {
        this.state.callId = null;
        this.state.timelineKey++;
    }
}

registry.category("actions").add("webcare_social.caller_lookup", CallerLookup);
