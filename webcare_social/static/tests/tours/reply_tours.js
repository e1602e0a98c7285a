import { registry } from "@web/core/registry";

// 99 characters, but X counts the link as 23: 57
const TYPED =
    "Hoi Tess, status: https://polderair.example/bagage/status/PA872-koffer-vertraagd en we bellen je";

registry.category("web_tour.tours").add("webcare_social_reply", {
    steps: () => [
        {
            content: "The agent opens the customer's social ticket",
            trigger: ".o_data_row:contains(mijn koffer is niet aangekomen) td[name='name']",
            run: "click",
        },
        {
            content: "On a social ticket the chatter's e-mail button is a quiet link",
            trigger: ".o-mail-Chatter .o_webcare_send_email:contains(Send e-mail)",
        },
        {
            content: "Reply",
            trigger: ".o_form_view .o_webcare_reply_button",
            run: "click",
        },
        {
            content: "The composer answers publicly on X",
            trigger: ".modal .o_field_widget[name='mode'] input[data-value='public']:checked",
        },
        {
            content: "Look for a canned reply",
            trigger: ".modal .o_field_widget[name='canned_reply_id'] input",
            run: "edit DM",
        },
        {
            content: "The Dutch ticket offers the Dutch reply",
            trigger: ".o-autocomplete--dropdown-item:contains(Verder via DM)",
            run: "click",
        },
        {
            content: "The reply is filled in for Tess, by Paula",
            trigger: ".modal .o_field_widget[name='body'] textarea:value(/^Hoi Tess, wat vervelend!.*Groet, Paula$/)",
        },
        {
            content: "The counter counts it",
            trigger: ".modal .o_webcare_reply_counter:contains(146 / 280)",
        },
        {
            content: "The agent writes their own text with a long link",
            trigger: ".modal .o_field_widget[name='body'] textarea",
            run: `edit ${TYPED}`,
        },
        {
            content: "While typing, the link counts 23",
            trigger: ".modal .o_webcare_reply_counter:contains(57 / 280):not(.text-danger)",
        },
        {
            content: "Add an emoji",
            trigger: ".modal .o_field_widget[name='body'] .o_mail_emojis_buttons button",
            run: "click",
        },
        {
            content: "Search the suitcase",
            trigger: ".o-EmojiPicker-search input",
            run: "edit luggage",
        },
        {
            content: "Pick it",
            trigger: ".o-EmojiPicker .o-Emoji[data-codepoints='🧳']",
            run: "click",
        },
        {
            content: "An emoji counts 2 on X",
            trigger: ".modal .o_webcare_reply_counter:contains(59 / 280)",
        },
        {
            content: "Send",
            trigger: ".modal-footer button[name='action_send']",
            run: "click",
        },
        {
            content: "The chatter shows the reply at once, as a public reply on X",
            trigger:
                ".o-mail-Message:contains(we bellen je):contains(Public reply on X)",
        },
        {
            content: "The composer is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

// The ticket carries the "Pers" tag: the agent's reply waits for a manager.
registry.category("web_tour.tours").add("webcare_social_reply_waits", {
    steps: () => [
        {
            content: "The agent opens the press ticket",
            trigger: ".o_data_row:contains(mijn koffer is niet aangekomen) td[name='name']",
            run: "click",
        },
        {
            content: "Reply",
            trigger: ".o_form_view .o_webcare_reply_button",
            run: "click",
        },
        {
            content: "The agent writes an answer",
            trigger: ".modal .o_field_widget[name='body'] textarea",
            run: "edit Hoi Tess, we zoeken je koffer op.",
        },
        {
            content: "Send",
            trigger: ".modal-footer button[name='action_send']",
            run: "click",
        },
        {
            content: "The ticket says the reply waits for a manager",
            trigger: ".o_webcare_replies_waiting:contains(approval):contains(1)",
        },
        {
            content: "So does the chatter",
            trigger: ".o-mail-Message:contains(we zoeken je koffer op):contains(Waiting for a manager)",
        },
    ],
});

registry.category("web_tour.tours").add("webcare_social_approve", {
    steps: () => [
        {
            content: "The waiting reply is listed with its ticket",
            trigger: ".o_data_row:contains(mijn koffer):contains(we zoeken je koffer op) td[name='body']",
            run: "click",
        },
        {
            content: "The manager sharpens the text",
            trigger: ".o_data_row.o_selected_row .o_field_widget[name='body'] textarea",
            run: "edit Hoi Tess, je koffer komt vanavond met de koerier.",
        },
        {
            content: "Approve and send",
            trigger: ".o_data_row.o_selected_row button[name='action_approve']",
            run: "click",
        },
        {
            content: "Nothing waits any more",
            trigger: ".o_list_view:not(:has(.o_data_row)), .o_view_nocontent",
        },
    ],
});
