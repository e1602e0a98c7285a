import { registry } from "@web/core/registry";

// Short tours for `make screenshots` (tests/test_screenshots.py): each walks to one
// screen of the demo data, waits until that screen shows its data, and asks the test
// for a picture with a `screenshot(name)` step. Triggers use classes and field names,
// never labels, so the same tours run in every language.
const tours = registry.category("web_tour.tours");

// nothing loading, no error dialog
const SETTLED = "body:not(:has(.o_error_dialog)):not(:has(.o_loading_indicator))";

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A step that has the test photograph the browser as `<name>.<lang>.png`: once
 * fonts and images have loaded, it logs "webcare_screenshot:<name>" and waits
 * until the test, having taken the picture, sets body[data-webcare-shot].
 */
function screenshot(name) {
    return {
        content: `Screenshot ${name}`,
        trigger: SETTLED,
        timeout: 30000,
        run: async () => {
            await document.fonts.ready;
            const loading = [...document.images].filter((img) => !img.complete);
            await Promise.all(
                loading.map((img) => new Promise((done) => (img.onload = img.onerror = done)))
            );
            await delay(500); // the last CSS transitions
            console.log(`webcare_screenshot:${name}`);
            for (let waited = 0; document.body.dataset.webcareShot !== name; waited += 100) {
                if (waited > 20000) {
                    throw new Error(`No screenshot ${name}: run this tour from test_screenshots.py`);
                }
                await delay(100);
            }
        },
    };
}

tours.add("webcare_social_shot_tickets", {
    steps: () => [
        {
            content: "The social tickets, most urgent first, with their countdown",
            trigger: ".o_list_view .o_data_row td[name='webcare_first_response_deadline']",
        },
        {
            content: "The authors are shown",
            trigger: ".o_list_view .o_data_row td[name='webcare_identity_id']:not(:empty)",
        },
        screenshot("tickets"),
    ],
});

tours.add("webcare_social_shot_ticket_reply", {
    steps: () => [
        {
            content: "The influencer's ticket shows her post",
            trigger: ".o_form_view .o_webcare_reply_button",
        },
        {
            content: "The chatter has loaded the conversation",
            trigger: ".o-mail-Chatter .o-mail-Message",
        },
        {
            content: "Reply",
            trigger: ".o_form_view .o_webcare_reply_button",
            run: "click",
        },
        {
            content: "Her reach makes the reply wait for a manager",
            trigger: ".modal .o_webcare_reply_approval",
        },
        {
            content: "Look for the ready apology (a name in the data, in every language)",
            trigger: ".modal .o_field_widget[name='canned_reply_id'] input",
            run: "edit Excuses",
        },
        {
            content: "Take it",
            trigger: ".o-autocomplete--dropdown-item:contains(Excuses)",
            run: "click",
        },
        {
            content: "The answer is filled in and counted",
            trigger: ".modal .o_field_widget[name='body'] textarea:value(/\\S{3}/)",
        },
        {
            content: "The counter is drawn",
            trigger: ".modal .o_webcare_reply_counter",
        },
        {
            content: "Back to the text: the list of answers closes",
            trigger: ".modal .o_field_widget[name='body'] textarea",
            async run() {
                // a search still under way may open the list again: close it until
                // it stays closed (the autocomplete closes on a pointerdown outside)
                const title = document.querySelector(".modal .modal-title");
                for (let i = 0; i < 50; i++) {
                    if (!document.querySelector(".o-autocomplete--dropdown-menu")) {
                        await new Promise((resolve) => setTimeout(resolve, 300));
                        if (!document.querySelector(".o-autocomplete--dropdown-menu")) {
                            return;
                        }
                    }
                    title.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
            },
        },
        {
            content: "The dropdown is gone",
            trigger: "body:not(:has(.o-autocomplete--dropdown-menu))",
        },
        screenshot("ticket_reply"),
        {
            content: "Discard: nothing is sent, no form is left unsaved",
            trigger: ".modal-footer button[special='cancel']",
            run: "click",
        },
        {
            content: "The composer is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

tours.add("webcare_social_shot_lookup", {
    steps: () => [
        {
            content: "The caller is recognised",
            trigger: ".o_webcare_lookup_name",
        },
        {
            content: "…with how we know them",
            trigger: ".o_webcare_lookup_match",
        },
        {
            content: "…what they posted",
            trigger: ".o_webcare_lookup_message",
        },
        {
            content: "…and their timeline",
            trigger: ".o_webcare_timeline .o_webcare_event_post",
        },
        screenshot("caller_lookup"),
    ],
});

tours.add("webcare_social_shot_timeline", {
    steps: () => [
        {
            content: "Open the contact's Timeline tab",
            trigger: ".o_form_view .o_notebook .nav-link[name='webcare_timeline']",
            run: "click",
        },
        {
            content: "Posts, tickets and calls, newest first",
            trigger: ".o_form_view .o_webcare_timeline .o_webcare_event_post",
        },
        {
            content: "…and calls",
            trigger: ".o_form_view .o_webcare_timeline .o_webcare_event_call",
        },
        screenshot("contact_timeline"),
    ],
});

tours.add("webcare_social_shot_approvals", {
    steps: () => [
        {
            content: "The reply waiting for approval, with its ticket",
            trigger: ".o_list_view .o_data_row td[name='body']:not(:empty)",
        },
        {
            content: "…and the approve button",
            trigger: ".o_list_view .o_data_row button[name='action_approve']",
        },
        screenshot("approvals"),
    ],
});

tours.add("webcare_social_shot_report", {
    steps: () => [
        {
            content: "The pivot has its numbers",
            trigger: ".o_pivot .o_pivot_cell_value:not(:empty)",
        },
        {
            content: "…per channel or network",
            trigger: ".o_pivot .o_pivot_header_cell_closed, .o_pivot .o_pivot_header_cell_opened",
        },
        screenshot("report"),
    ],
});

tours.add("webcare_social_shot_channel", {
    steps: () => [
        {
            content: "The channel form with its account",
            trigger: ".o_form_view .o_field_widget[name='name']",
        },
        {
            content: "…its state",
            trigger: ".o_form_view .o_field_widget[name='state']",
        },
        screenshot("channel_form"),
    ],
});
