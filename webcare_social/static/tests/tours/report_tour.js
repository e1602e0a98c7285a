import { registry } from "@web/core/registry";

// A team lead (a Webcare agent) opens Webcare > Reporting > Response times:
// the pivot shows the median and p90 the server computes, then the graph and
// the list of report lines.
registry.category("web_tour.tours").add("webcare_social_report", {
    steps: () => [
        {
            content: "The pivot opens with the response-time measures",
            trigger: ".o_pivot th:contains(Response time, median (min))",
        },
        {
            content: "and the p90 next to it",
            trigger: ".o_pivot th:contains(Response time, p90 (min))",
        },
        {
            content: "The median of 10, 20 and 60 minutes is 20 (their mean is 30)",
            trigger: ".o_pivot .o_pivot_cell_value:contains(20.0)",
        },
        {
            content: "Their p90 is 52",
            trigger: ".o_pivot .o_pivot_cell_value:contains(52.0)",
        },
        {
            content: "Switch to the graph",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "The graph is drawn",
            trigger: ".o_graph_renderer canvas",
        },
        {
            content: "Switch to the list of report lines",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "A ticket line answered in time",
            trigger: ".o_data_row:contains(Ticket):contains(Answered in time)",
        },
    ],
});
