/** @odoo-module **/

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

// A sales manager whose language is Ukrainian (call_tracking/tests/test_translations.py)
// opens Call Tracking > Reporting > Call Analysis: the menus, the view title
// and the pivot's measures are in Ukrainian (call_tracking/i18n/uk.po).
registry.category("web_tour.tours").add("call_tracking_i18n_uk_tour", {
  url: "/odoo",
  steps: () => [
    stepUtils.showAppsMenuItem(),
    {
      content: "The app is called Колтрекінг",
      trigger:
        ".o_app[data-menu-xmlid='call_tracking.call_tracking_menu_root']:contains(Колтрекінг)",
      run: "click",
    },
    {
      content: "Reporting is Звітність",
      trigger:
        "button[data-menu-xmlid='call_tracking.call_tracking_menu_reporting']:contains(Звітність)",
      run: "click",
    },
    {
      content: "Call Analysis is Аналіз дзвінків",
      trigger:
        "a[data-menu-xmlid='call_tracking.call_tracking_call_report_menu']:contains(Аналіз дзвінків)",
      run: "click",
    },
    {
      content: "The pivot opens under its Ukrainian title",
      trigger: ".o_breadcrumb:contains(Аналіз дзвінків)",
    },
    {
      content: "Measure Calls: Дзвінки",
      trigger: ".o_pivot thead th.o_pivot_measure_row:contains(Дзвінки)",
    },
    {
      content: "Measure Targeted (%): Цільові (%)",
      trigger: ".o_pivot thead th.o_pivot_measure_row:contains(Цільові (%))",
    },
    {
      content: "Measure Won Revenue: Дохід від виграних",
      trigger: ".o_pivot thead th.o_pivot_measure_row:contains(Дохід від виграних)",
    },
    {
      content: "No measure is left in English",
      trigger:
        ".o_pivot:not(:has(th.o_pivot_measure_row:contains(Targeted (%)))):not(:has(th.o_pivot_measure_row:contains(Won Revenue)))",
    },
    {
      content: "Open the Measures menu",
      trigger: ".o_pivot_buttons button.btn-primary:has(.fa-caret-down)",
      run: "click",
    },
    {
      content: "The other measures are offered in Ukrainian too",
      trigger: ".o-dropdown--menu .o_menu_item:contains(Пропущені (%))",
    },
    {
      content: "Measure Unique Callers: Унікальні абоненти",
      trigger: ".o-dropdown--menu .o_menu_item:contains(Унікальні абоненти)",
    },
  ],
});
