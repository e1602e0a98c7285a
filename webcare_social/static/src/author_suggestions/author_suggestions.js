import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * On a ticket whose social author has no contact: the contacts they may
 * be, with the evidence (a number or e-mail they sent us, a reference they
 * mentioned, a similar name), linked in one click; or "create contact from
 * author" with the name, handle, number and e-mail found.
 */
export class AuthorSuggestions extends Component {
    static template = "webcare_social.AuthorSuggestions";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.state = useState({ suggestions: [], loaded: false });
        onWillStart(() => this.load(this.props.record));
        onWillUpdateProps((next) => {
            if (next.record.resId !== this.props.record.resId) {
                return this.load(next.record);
            }
        });
    }

    get handle() {
        const identity = this.props.record.data.webcare_identity_id;
        return identity?.display_name || (Array.isArray(identity) ? identity[1] : "");
    }

    async load(record) {
        this.state.loaded = false;
        this.state.suggestions = record.resId
            ? await this.orm.call("helpdesk.ticket", "webcare_author_suggestions", [[record.resId]])
            : [];
        this.state.loaded = true;
    }

    async use(suggestion) {
        await this.props.record.save();
        await this.orm.call("helpdesk.ticket", "action_webcare_use_contact", [[this.props.record.resId]], {
            partner_id: suggestion.partner_id,
        });
        this.notification.add(_t("%s is now the ticket's contact.", suggestion.name), {
            type: "success",
        });
        await this.props.record.load();
    }

    async createContact() {
        await this.props.record.save();
        await this.orm.call("helpdesk.ticket", "action_webcare_create_contact", [[this.props.record.resId]]);
        this.notification.add(_t("Contact created from the author."), { type: "success" });
        await this.props.record.load();
    }
}

registry.category("view_widgets").add("webcare_author_suggestions", {
    component: AuthorSuggestions,
    fieldDependencies: [
        { name: "webcare_identity_id", type: "many2one" },
        { name: "partner_id", type: "many2one" },
    ],
});
