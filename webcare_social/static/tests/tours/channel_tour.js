import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("webcare_social_channel_import", {
    steps: () => [
        {
            content: "The channel card shows its state",
            trigger: ".o_kanban_record:contains(Tour channel on X):contains(Connected)",
            run: "click",
        },
        {
            content: "Import now",
            trigger: ".o_form_view button[name='action_fetch']",
            run: "click",
        },
        {
            content: "The import reports success",
            trigger: ".o_notification:contains(Import done)",
        },
        {
            content: "Open the imported messages",
            trigger: ".o_form_view button[name='action_view_messages']",
            run: "click",
        },
        {
            content: "The customer's post is there, ticketed",
            trigger:
                ".o_data_row:contains(mijn koffer is niet aangekomen):contains(Ticketed) td[name='body']",
            run: "click",
        },
        {
            content: "Its form links the ticket",
            trigger: ".o_form_view .o_field_widget[name='ticket_id'] a:contains(HT)",
        },
    ],
});
