import { Chatter } from "@mail/chatter/web_portal/chatter";
import { patch } from "@web/core/utils/patch";

/**
 * On a social ticket the customer is answered with the ticket's Reply
 * button (a post or DM on the network). The chatter's "Send message" would
 * e-mail them instead, so there it becomes a quiet "Send e-mail" link
 * (template webcare_social.ChatterSendMessage below mail.Chatter).
 */
patch(Chatter.prototype, {
    /** Whether the chatter belongs to a form record with a social channel. */
    get isWebcareSocial() {
        return Boolean(this.props.record?.data?.webcare_channel_id);
    },
});
