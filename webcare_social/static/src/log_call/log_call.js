import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";

/**
 * "Log call": note, direction, duration and an optional ticket. Completes the
 * incoming call the screen was opened for, or records a new webcare.call.
 */
export class LogCall extends Component {
    static template = "webcare_social.LogCall";
    static props = {
        partnerId: { optional: true },
        phone: { optional: true },
        callId: { optional: true },
        tickets: { type: Array, optional: true },
        onLogged: { type: Function, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.state = useState({
            direction: "inbound",
            minutes: "",
            note: "",
            ticketId: "",
            saving: false,
        });
    }

    get durationSeconds() {
        const text = String(this.state.minutes || "").trim();
        if (text.includes(":")) {
            const [minutes, seconds] = text.split(":").map((part) => parseInt(part, 10) || 0);
            return minutes * 60 + seconds;
        }
        return Math.round((parseFloat(text.replace(",", ".")) || 0) * 60);
    }

    async submit() {
        this.state.saving = true;
        try {
            const callId = await this.orm.call("webcare.call", "webcare_log", [], {
                partner_id: this.props.partnerId || false,
                phone: this.props.phone || false,
                direction: this.state.direction,
                duration: this.durationSeconds,
                note: this.state.note,
                ticket_id: parseInt(this.state.ticketId, 10) || false,
                call_id: this.props.callId || false,
            });
            this.notification.add(_t("Call logged."), { type: "success" });
            Object.assign(this.state, { note: "", minutes: "", ticketId: "" });
            await this.props.onLogged?.(callId);
        } finally {
            this.state.saving = false;
        }
    }
}
