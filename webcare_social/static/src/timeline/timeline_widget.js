import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { WebcareTimeline } from "./timeline";

/**
 * ``<widget name="webcare_timeline"/>``: the timeline of the form's contact,
 * or, with ``partner_field="partner_id"``, of the contact in that field.
 */
export class WebcareTimelineWidget extends Component {
    static template = "webcare_social.TimelineWidget";
    static components = { WebcareTimeline };
    static props = { ...standardWidgetProps, partnerField: { type: String, optional: true } };

    get partnerId() {
        const { record, partnerField } = this.props;
        if (!partnerField) {
            return record.resId || 0;
        }
        const value = record.data[partnerField];
        return (Array.isArray(value) ? value[0] : value?.id) || 0;
    }
}

registry.category("view_widgets").add("webcare_timeline", {
    component: WebcareTimelineWidget,
    extractProps: ({ attrs }) => ({ partnerField: attrs.partner_field }),
});
