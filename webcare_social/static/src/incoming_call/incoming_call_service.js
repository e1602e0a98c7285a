import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

export const INCOMING_CALL = "webcare_social/incoming_call";

/**
 * Screen-pop: when the phone system reports a call for this agent
 * (webcare.call.webcare_incoming), the caller lookup opens in the agent's
 * main tab; every tab shows a notification with an "Open" button.
 */
export const incomingCallService = {
    dependencies: ["action", "bus_service", "multi_tab", "notification"],

    start(env, { action, bus_service, multi_tab, notification }) {
        const open = (payload) =>
            action.doAction({
                type: "ir.actions.client",
                tag: "webcare_social.caller_lookup",
                name: _t("Caller lookup"),
                params: { phone: payload.phone_e164 || payload.phone, call_id: payload.call_id },
            });

        bus_service.subscribe(INCOMING_CALL, async (payload) => {
            const who = payload.name || payload.phone;
            notification.add(payload.recognized ? who : _t("Unknown caller: %s", who), {
                title: _t("Incoming call"),
                type: "info",
                buttons: [{ name: _t("Open"), primary: true, onClick: () => open(payload) }],
            });
            if (await multi_tab.isOnMainTab()) {
                await open(payload);
            }
        });
        bus_service.start();
    },
};

registry.category("services").add("webcare_social.incoming_call", incomingCallService);
