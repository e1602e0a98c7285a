import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("webcare_social_add_identity", {
    steps: () => [
        {
            content: "Open the Social tab of the contact",
            trigger: ".o_notebook .nav-link:contains(Social)",
            run: "click",
        },
        {
            content: "Add a line",
            trigger: "div[name='webcare_identity_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Type the handle as the customer gave it",
            trigger: "div[name='webcare_identity_ids'] .o_data_row td[name='handle'] input",
            run: "edit @TourTester",
        },
        {
            content: "Save the contact",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The handle is shown without its @",
            trigger: ".o_form_saved div[name='webcare_identity_ids'] td[name='handle']:contains(TourTester)",
        },
    ],
});
