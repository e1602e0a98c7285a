import { Component } from "@odoo/owl";

/** Letters and colours of the networks a person or channel can be on. */
const NETWORKS = {
    x: { letter: "X", label: "X" },
    mastodon: { letter: "M", label: "Mastodon" },
    bluesky: { letter: "B", label: "Bluesky" },
    facebook: { letter: "f", label: "Facebook" },
    instagram: { letter: "I", label: "Instagram" },
    linkedin: { letter: "in", label: "LinkedIn" },
};

/**
 * A small round badge naming a social network (X, Mastodon, Bluesky, ...).
 * Unknown codes get a neutral "#" badge.
 */
export class NetworkBadge extends Component {
    static template = "webcare_social.NetworkBadge";
    static props = { network: { type: String, optional: true } };

    get info() {
        return NETWORKS[this.props.network] || { letter: "#", label: this.props.network || "" };
    }
}
