/** @odoo-module **/

import {registry} from "@web/core/registry";

// Records created by call_tracking/tests/test_quality_tour.py: a transcribed,
// recorded call whose transcript says "good morning" and "we can offer".
const lines = ".o_field_widget[name=scorecard_line_ids]";
const row = (criterion) => `${lines} .o_data_row:contains(${criterion})`;

/** A sales manager reads the call's transcript and scores the call: the
 * criteria the transcript suggests are ticked; the manager ticks one more
 * and marks the call scored. */
registry.category("web_tour.tours").add("call_tracking_scorecard_tour", {
  steps: () => [
    {
      content: "The call's keyword tag is on the form",
      trigger: ".o_form_view .o_field_widget[name=tag_ids]:contains(Delivery)",
    },
    {
      content: "Open the Transcript tab",
      trigger: ".o_notebook .nav-link:contains(Transcript)",
      run: "click",
    },
    {
      content: "What was said",
      trigger: ".o_field_widget[name=transcript]:contains(we can offer you a discount)",
    },
    {
      content: "Open the Scorecard tab",
      trigger: ".o_notebook .nav-link:contains(Scorecard)",
      run: "click",
    },
    {
      content: "Score the call",
      trigger: "button[name=action_score]",
      run: "click",
    },
    {
      content: "The greeting is heard, suggested and ticked",
      trigger: `${row("Greeting")}:contains(good morning) .o_field_boolean_toggle input:checked`,
    },
    {
      content: "Nothing suggests the next step",
      trigger: `${row("Next step agreed")} .o_field_boolean_toggle input:not(:checked)`,
    },
    {
      content: "The manager heard it agreed: tick it",
      trigger: `${row("Next step agreed")} .o_field_boolean_toggle input`,
      run: "click",
    },
    {
      content: "Ticked",
      trigger: `${row("Next step agreed")} .o_field_boolean_toggle input:checked`,
    },
    {
      content: "Mark the call scored",
      trigger: "button[name=action_score_done]",
      run: "click",
    },
    {
      content: "The call is scored",
      trigger: ".o_field_widget[name=scorecard_state] .badge:contains(Scored)",
    },
    {
      content: "Its score shows",
      trigger: ".o_field_widget[name=score]:contains(71.4)",
    },
  ],
});
