import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

tours.add("webcare_social_add_identity", {
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
            content: "The customer agreed that we keep it on their record",
            trigger: "div[name='webcare_identity_ids'] .o_data_row td[name='consent'] input",
            run: "check",
        },
        {
            content: "The server has read the handle (its profile link is shown), the box stays ticked",
            trigger:
                "div[name='webcare_identity_ids'] .o_data_row:has(td[name='profile_url']:contains(x.com/TourTester)) td[name='consent'] input:checked",
        },
        {
            content: "Say how they agreed",
            trigger:
                "div[name='webcare_identity_ids'] .o_data_row td[name='consent_method'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "…on the phone",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(Asked by phone)",
            run: "click",
        },
        {
            content: "The line says how",
            trigger:
                "div[name='webcare_identity_ids'] .o_data_row td[name='consent_method'] input:value(Asked by phone)",
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

tours.add("webcare_social_link_with_consent", {
    steps: () => [
        {
            content: "The ticket says why its author is not on the contact",
            trigger:
                ".o_webcare_link_hint:contains(@tourflyer is not linked to Tour Customer: no consent recorded for X)",
        },
        {
            content: "Open the consent step",
            trigger: ".o_webcare_link_hint button.o_webcare_link_with_consent",
            run: "click",
        },
        {
            content: "The customer agreed",
            trigger: ".modal .o_field_widget[name='consent'] input",
            run: "check",
        },
        {
            content: "Say how",
            trigger: ".modal .o_field_widget[name='consent_method'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "…in a direct message",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains(In a direct message)",
            run: "click",
        },
        {
            content: "The step says how, the box is still ticked",
            trigger:
                ".modal:has(.o_field_widget[name='consent'] input:checked) .o_field_widget[name='consent_method'] input:value(In a direct message)",
        },
        {
            content: "Link",
            trigger: ".modal button.o_webcare_link_confirm",
            run: "click",
        },
        {
            content: "The step is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The author is linked: the line is gone",
            trigger: ".o_form_saved:not(:has(.o_webcare_link_hint))",
        },
    ],
});

tours.add("webcare_social_link_caller_with_consent", {
    steps: () => [
        {
            content: "The caller sent this number by DM, and has no contact yet",
            trigger: ".o_webcare_lookup_person:contains(no contact yet)",
        },
        {
            content: "Create their contact",
            trigger: ".o_webcare_lookup_link_new",
            run: "click",
        },
        {
            content: "The caller agreed on the phone (the preset answer)",
            trigger: ".modal .o_field_widget[name='consent'] input",
            run: "check",
        },
        {
            content: "The box is ticked",
            trigger: ".modal .o_field_widget[name='consent'] input:checked",
        },
        {
            content: "Link",
            trigger: ".modal button.o_webcare_link_confirm",
            run: "click",
        },
        {
            content: "The caller is a contact now",
            trigger: ".o_webcare_lookup_person:not(:contains(no contact yet)) .o_webcare_lookup_open",
        },
    ],
});
