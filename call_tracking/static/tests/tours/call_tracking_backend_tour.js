/** @odoo-module **/

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

// Records created by call_tracking/tests/test_backend_tour.py: the opportunity
// "Tour call lead", assigned to the salesperson, with one call from the
// channel "Billboard"; a call to qualify.
const LEAD = "Tour call lead";
const CHANNEL = "Billboard";

const qualityBadge = (quality, decoration) =>
  `.o_form_view .o_field_widget[name=call_quality] .badge.${decoration}:contains(${quality})`;

/** A salesperson opens the call-lead from the pipeline, sees where the call
 * came from, and judges it: targeted, then untargeted with a reason. */
registry.category("web_tour.tours").add("call_tracking_salesperson_tour", {
  url: "/odoo",
  steps: () => [
    stepUtils.showAppsMenuItem(),
    {
      content: "Open CRM",
      trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
      run: "click",
    },
    {
      content: "Open the call-lead from the pipeline",
      trigger: `.o_kanban_record:contains(${LEAD})`,
      run: "click",
    },
    {
      content: "The Calls smart button counts the lead's call",
      trigger: ".o_form_view button[name=action_view_calls] .o_stat_value:contains(1)",
    },
    {
      content: "The channel that brought the call is on the form",
      trigger: `.o_form_view .o_field_widget[name=tracking_channel_id] input:value(${CHANNEL})`,
    },
    {
      content: "The call is not qualified yet",
      trigger: ".o_form_view .o_form_sheet:contains(Not qualified yet)",
    },
    {
      content: "Open the Calls tab",
      trigger: ".o_notebook .nav-link:contains(Calls)",
      run: "click",
    },
    {
      content: "The call is listed with its channel",
      trigger: `.o_field_widget[name=call_ids] .o_data_row:contains(${CHANNEL})`,
    },
    {
      content: "Mark the call-lead targeted",
      trigger: ".o_form_statusbar button[name=action_call_targeted]",
      run: "click",
    },
    {
      content: "The Targeted badge shows",
      trigger: qualityBadge("Targeted", "text-bg-success"),
    },
    {
      content: "Targeted is done: only Untargeted is offered",
      trigger: ".o_form_statusbar:not(:has(button[name=action_call_targeted]))",
    },
    {
      content: "Change our mind: untargeted",
      trigger: ".o_form_statusbar button[name=action_call_untargeted]",
      run: "click",
    },
    {
      content: "The Untargeted badge shows",
      trigger: qualityBadge("Untargeted", "text-bg-danger"),
    },
    {
      content: "Give the reason",
      trigger: ".o_field_widget[name=call_quality_reason_id] input",
      run: "edit Spam",
    },
    {
      content: "Pick 'Spam or robocall'",
      trigger:
        ".o_field_widget[name=call_quality_reason_id] .o-autocomplete--dropdown-item:contains(Spam or robocall)",
      run: "click",
    },
    {
      content: "Save",
      trigger: ".o_form_button_save",
      run: "click",
    },
    {
      content: "Saved with the reason",
      trigger:
        ".o_form_saved .o_field_widget[name=call_quality_reason_id] input:value(Spam or robocall)",
    },
  ],
});

/** A sales manager opens Call Tracking > Reporting > Call Analysis (the pivot
 * shows the calls per channel, read from the calls' summary, and says how
 * fresh the summary is), then the request in the Webhook Inbox. */
registry.category("web_tour.tours").add("call_tracking_manager_report_tour", {
  url: "/odoo",
  steps: () => [
    stepUtils.showAppsMenuItem(),
    {
      content: "Open Call Tracking",
      trigger: ".o_app[data-menu-xmlid='call_tracking.call_tracking_menu_root']",
      run: "click",
    },
    {
      content: "Open Reporting",
      trigger: "button[data-menu-xmlid='call_tracking.call_tracking_menu_reporting']",
      run: "click",
    },
    {
      content: "Open Call Analysis",
      trigger: "a[data-menu-xmlid='call_tracking.call_tracking_call_report_menu']",
      run: "click",
    },
    {
      content: "The pivot has a row for the channel",
      trigger: `.o_pivot .o_pivot_header_cell_closed:contains(${CHANNEL})`,
    },
    {
      content: "Its calls are counted under the Calls measure",
      trigger: ".o_pivot thead th.o_pivot_measure_row:contains(Calls)",
    },
    {
      content: "The report says how fresh the calls' summary it reads is",
      trigger: ".o_call_tracking_rollup_note:contains(Summary of the calls refreshed)",
    },
    {
      content: "Open Configuration",
      trigger: "button[data-menu-xmlid='call_tracking.call_tracking_menu_config']",
      run: "click",
    },
    {
      content: "Open the Webhook Inbox",
      trigger: "a[data-menu-xmlid='call_tracking.call_tracking_webhook_event_menu']",
      run: "click",
    },
    {
      content: "Open the request of the call",
      trigger:
        ".o_list_view .o_data_row td[name=provider_call_id]:contains(tour-call-1)",
      run: "click",
    },
    {
      content: "The request was processed",
      trigger:
        ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Processed)",
    },
    {
      content: "Its body is readable",
      trigger: '.o_form_view .o_field_widget[name=body]:contains("event": "call_end")',
    },
  ],
});
