import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { useService } from "@web/core/utils/hooks";
import { NetworkBadge } from "../network_badge/network_badge";

const PAGE_SIZE = 20;
const SOCIAL_KINDS = ["post", "dm"];

export const PERIODS = [
    { value: "all", label: _t("All time") },
    { value: "7d", label: _t("Last 7 days") },
    { value: "30d", label: _t("Last 30 days") },
    { value: "90d", label: _t("Last 90 days") },
    { value: "365d", label: _t("Last year") },
];

/**
 * The unified timeline of a contact: social messages, tickets, e-mails,
 * notes and calls, newest first, page by page, filtered per channel and
 * period. One server call per page (res.partner.webcare_timeline_page).
 */
export class WebcareTimeline extends Component {
    static template = "webcare_social.Timeline";
    static components = { NetworkBadge };
    static props = {
        partnerId: { type: Number, optional: true },
        initialPage: { type: Object, optional: true },
        compact: { type: Boolean, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.periods = PERIODS;
        this.state = useState({
            events: [],
            channels: [],
            selected: [],
            period: "all",
            hasMore: false,
            loading: false,
        });
        onWillStart(() =>
            this.props.initialPage ? this.apply(this.props.initialPage, false) : this.load()
        );
        onWillUpdateProps((next) => {
            if (next.partnerId !== this.props.partnerId) {
                return next.initialPage
                    ? this.apply(next.initialPage, false)
                    : this.load(false, next.partnerId);
            }
        });
    }

    async load(append = false, partnerId = this.props.partnerId) {
        if (!partnerId) {
            this.apply({ events: [], has_more: false, channels: this.state.channels }, false);
            return;
        }
        this.state.loading = true;
        try {
            const page = await this.orm.call(
                "res.partner",
                "webcare_timeline_page",
                [[partnerId]],
                {
                    limit: PAGE_SIZE,
                    offset: append ? this.state.events.length : 0,
                    channels: this.state.selected.length ? [...this.state.selected] : null,
                    period: this.state.period === "all" ? null : this.state.period,
                }
            );
            this.apply(page, append);
        } finally {
            this.state.loading = false;
        }
    }

    apply(page, append) {
        const events = page.events.map((event) => this.decorate(event));
        this.state.events = append ? [...this.state.events, ...events] : events;
        this.state.hasMore = page.has_more;
        this.state.channels = page.channels || [];
    }

    decorate(event) {
        const date = deserializeDateTime(event.date);
        return {
            ...event,
            isSocial: SOCIAL_KINDS.includes(event.kind),
            age: date.toRelative(),
            when: formatDateTime(date),
            external: event.url && event.url.startsWith("http") ? event.url : false,
        };
    }

    /** Public helper for parents: reload from the first page. */
    reload() {
        return this.load(false);
    }

    isSelected(code) {
        return this.state.selected.includes(code);
    }

    toggleChannel(code) {
        this.state.selected = this.isSelected(code)
            ? this.state.selected.filter((c) => c !== code)
            : [...this.state.selected, code];
        return this.load(false);
    }

    setPeriod(ev) {
        this.state.period = ev.target.value;
        return this.load(false);
    }

    loadMore() {
        return this.load(true);
    }

    directionLabel(event) {
        if (event.direction === "inbound") {
            return _t("from the customer");
        }
        if (event.direction === "outbound") {
            return _t("from us");
        }
        return "";
    }

    openEvent(event) {
        const [model, id] =
            event.res_model === "webcare.message" && event.ticket_id
                ? ["helpdesk.ticket", event.ticket_id]
                : [event.res_model, event.res_id];
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    openTicket(event) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "helpdesk.ticket",
            res_id: event.ticket_id,
            views: [[false, "form"]],
        });
    }
}
