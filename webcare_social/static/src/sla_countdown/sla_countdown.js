import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const REFRESH_MS = 30000;

/** "1 h 5 min" / "12 min" / "3 days" from a number of minutes. */
export function formatMinutes(minutes) {
    const total = Math.max(0, Math.round(minutes));
    if (total >= 2880) {
        return _t("%s d", Math.floor(total / 1440));
    }
    if (total >= 60) {
        const hours = Math.floor(total / 60);
        const rest = total % 60;
        return rest ? _t("%(hours)s h %(minutes)s min", { hours, minutes: rest }) : _t("%s h", hours);
    }
    return _t("%s min", total);
}

/**
 * The first-response deadline as people read it: time left while the ticket
 * waits (green, orange when at risk), how late it is (red), or how fast it
 * was answered. Refreshes itself while shown.
 */
export class SlaCountdown extends Component {
    static template = "webcare_social.SlaCountdown";
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ now: Date.now() });
        onMounted(() => {
            this.timer = setInterval(() => (this.state.now = Date.now()), REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    get info() {
        const data = this.props.record.data;
        const status = data.webcare_sla_status;
        const deadline = data[this.props.name];
        if (!status || !deadline) {
            return null;
        }
        if (status === "answered_on_time" || status === "answered_late") {
            const minutes = data.webcare_response_minutes || 0;
            return {
                css: status === "answered_late" ? "text-danger" : "text-muted",
                text: _t("answered in %s", formatMinutes(minutes)),
                title: _t("Answered in %s", formatMinutes(minutes)),
            };
        }
        const left = (deadline.toMillis() - this.state.now) / 60000;
        if (left < 0) {
            return {
                css: "badge text-bg-danger",
                text: _t("%s late", formatMinutes(-left)),
                title: _t("Past the response target by %s", formatMinutes(-left)),
            };
        }
        return {
            css: status === "at_risk" ? "badge text-bg-warning" : "badge text-bg-success",
            text: _t("%s left", formatMinutes(left)),
        };
    }
}

registry.category("fields").add("webcare_sla_countdown", {
    component: SlaCountdown,
    displayName: _t("Response time left"),
    supportedTypes: ["datetime"],
    fieldDependencies: [
        { name: "webcare_sla_status", type: "selection" },
        { name: "webcare_response_minutes", type: "integer" },
    ],
});
