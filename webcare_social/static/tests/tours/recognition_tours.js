import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

tours.add("webcare_social_lookup_url", {
    steps: () => [
        {
            content: "The screen-pop URL's number finds the customer",
            trigger: ".o_webcare_lookup_name:contains(Tess Tour)",
        },
        {
            content: "…by their phone number, typed differently than on the contact",
            trigger: ".o_webcare_lookup_match:contains(Phone number)",
        },
        {
            content: "The agent sees what the caller tweeted",
            trigger: ".o_webcare_lookup_message:contains(mijn koffer is weg na PA872)",
        },
        {
            content: "…and the same story in the timeline",
            trigger: ".o_webcare_timeline .o_webcare_event_post:contains(mijn koffer is weg na PA872)",
        },
    ],
});

tours.add("webcare_social_incoming_call", {
    steps: () => [
        {
            content: "The agent works in the web client",
            trigger: ".o_main_navbar",
        },
        {
            content: "The phone system reports a call: the lookup pops in this tab",
            trigger: ".o_webcare_lookup_call:contains(Incoming call from)",
            timeout: 30000,
        },
        {
            content: "It shows who is calling",
            trigger: ".o_webcare_lookup_name:contains(Tess Tour)",
        },
        {
            content: "…and what they posted",
            trigger: ".o_webcare_lookup_message:contains(mijn koffer is weg na PA872)",
        },
    ],
});

tours.add("webcare_social_log_call", {
    steps: () => [
        {
            content: "The customer is found",
            trigger: ".o_webcare_lookup_name:contains(Tess Tour)",
        },
        {
            content: "Note what was said",
            trigger: ".o_webcare_log_note",
            run: "edit Belde over de koffer, wordt morgen bezorgd",
        },
        {
            content: "How long it took",
            trigger: ".o_webcare_log_duration",
            run: "edit 3:30",
        },
        {
            content: "Log the call",
            trigger: ".o_webcare_log_submit",
            run: "click",
        },
        {
            content: "The call is in the timeline",
            trigger:
                ".o_webcare_timeline .o_webcare_event_call:contains(Belde over de koffer):contains(3:30)",
        },
    ],
});
