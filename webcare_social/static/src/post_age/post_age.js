import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * A datetime as its age ("5 days ago"), the exact time in the tooltip:
 * how long the customer has been waiting since they posted.
 */
export class PostAge extends Component {
    static template = "webcare_social.PostAge";
    static props = { ...standardFieldProps };

    get value() {
        return this.props.record.data[this.props.name];
    }

    get age() {
        return this.value ? this.value.toRelative() : "";
    }

    get exact() {
        return this.value ? formatDateTime(this.value) : "";
    }
}

registry.category("fields").add("webcare_post_age", {
    component: PostAge,
    displayName: _t("Age"),
    supportedTypes: ["datetime"],
});
