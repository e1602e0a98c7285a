import { EmojisTextField, emojisTextField } from "@mail/views/web/fields/emojis_text_field/emojis_text_field";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useEffect, useState } from "@odoo/owl";

import { byteCount, byteLimit, count, limit } from "./counting";

/**
 * A text field with a live counter "n / limit" that counts as the network
 * does (see counting.js) and turns red over the limit.
 *
 * Options: `network_field`, the record's field holding the network code
 * ("x", "mastodon", "bluesky"), or `network`, a fixed code; `mode_field`,
 * a field that is "private" for a private message (its own limits).
 */
export class ReplyCounterField extends EmojisTextField {
    static template = "webcare_social.ReplyCounterField";
    static props = {
        ...EmojisTextField.props,
        networkField: { type: String, optional: true },
        network: { type: String, optional: true },
        modeField: { type: String, optional: true },
    };

    setup() {
        super.setup();
        // what the agent is typing, before it is committed to the record
        this.typed = useState({ text: null, base: null });
        useEffect(
            (el) => {
                if (!el) {
                    return;
                }
                const onInput = () => {
                    this.typed.text = el.value;
                    this.typed.base = this.recordValue;
                };
                el.addEventListener("input", onInput);
                return () => el.removeEventListener("input", onInput);
            },
            () => [this.textareaRef.el]
        );
    }

    get recordValue() {
        return this.props.record.data[this.props.name] || "";
    }

    /** The typed text while the record still holds the value it started from. */
    get text() {
        if (this.typed.text !== null && this.typed.base === this.recordValue) {
            return this.typed.text;
        }
        return this.recordValue;
    }

    get network() {
        if (this.props.networkField) {
            return this.props.record.data[this.props.networkField] || "";
        }
        return this.props.network || "";
    }

    get isPrivate() {
        return Boolean(
            this.props.modeField && this.props.record.data[this.props.modeField] === "private"
        );
    }

    get counter() {
        const text = this.text;
        const most = limit(this.network, this.isPrivate);
        const mostBytes = byteLimit(this.network, this.isPrivate);
        const length = count(text, this.network);
        const bytes = mostBytes ? byteCount(text) : 0;
        return {
            length,
            limit: most,
            over: most !== null ? Math.max(length - most, 0) : 0,
            bytes,
            byteLimit: mostBytes,
            tooManyBytes: mostBytes !== null && bytes > mostBytes,
        };
    }

    get counterTitle() {
        return _t("Counted the way the network counts: a link counts 23 on X and Mastodon.");
    }
}

export const replyCounterField = {
    ...emojisTextField,
    component: ReplyCounterField,
    additionalClasses: [...(emojisTextField.additionalClasses || []), "o_field_text_emojis"],
    displayName: _t("Reply with a character counter"),
    supportedOptions: [
        {
            label: _t("Network field"),
            name: "network_field",
            type: "field",
            availableTypes: ["selection", "char"],
        },
    ],
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...emojisTextField.extractProps(fieldInfo, dynamicInfo),
        networkField: fieldInfo.options?.network_field,
        network: fieldInfo.options?.network,
        modeField: fieldInfo.options?.mode_field,
    }),
};

registry.category("fields").add("webcare_reply_counter", replyCounterField);
