import { registry } from "@web/core/registry";

// The Python test points new channels' instance URL at the local Mastodon
// stand-in (a default value) and serves one mention there.
const TOKEN = "standin-mastodon-token";
const TOKEN_INPUT = ".o_form_view .o_field_widget[name='access_token'] input";
registry.category("web_tour.tours").add("webcare_social_mastodon_channel", {
    steps: () => [
        {
            content: "Add a channel",
            trigger: ".o-kanban-button-new",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: "edit PolderAir Mastodon tour",
        },
        {
            content: "Choose the network",
            trigger: ".o_form_view .o_field_widget[name='provider'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "It is a Mastodon account",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Mastodon)",
            run: "click",
        },
        {
            content: "Mastodon asks for the instance; the stand-in's is filled in",
            trigger: ".o_form_view .o_field_widget[name='api_base_url'] input:value(http://127.0.0.1)",
        },
        {
            content: "Paste the account's access token",
            trigger: ".o_form_view .o_field_widget[name='access_token'] input",
            async run(helpers) {
                // the network's onchange may still be on its way and redraw the
                // credentials with what the server knew: type the token again then
                for (let attempt = 0; attempt < 10; attempt++) {
                    await helpers.edit(TOKEN, TOKEN_INPUT);
                    await new Promise((resolve) => setTimeout(resolve, 400));
                    if (document.querySelector(TOKEN_INPUT)?.value === TOKEN) {
                        return;
                    }
                }
            },
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The token is saved with the channel",
            trigger: `.o_form_view .o_form_saved .o_field_widget[name='access_token'] input:value(${TOKEN})`,
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view .o_form_saved button[name='action_test_connection']",
            run: "click",
        },
        {
            content: "Connected",
            trigger: ".o_notification:contains(Connected.)",
        },
        {
            content: "Back to the channels",
            trigger: ".o_breadcrumb .breadcrumb-item:not(.active) a",
            run: "click",
        },
        {
            content: "The new channel's card says it is connected",
            trigger:
                ".o_kanban_record:contains(PolderAir Mastodon tour):contains(Connected)",
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
            content: "The customer's mention is there, ticketed",
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
