/** @odoo-module **/
/* The Call Analysis pivot and graph with the freshness note of the calls'
 * summary (the roll-up the reports read when they can): when it was last
 * refreshed and, read from a standby server, by how much the standby lags.
 * The figures come from the server (call.tracking.call.report's
 * get_rollup_freshness); this only shows them above the report. */

import {onWillStart, useState} from "@odoo/owl";
import {useService} from "@web/core/utils/hooks";
import {registry} from "@web/core/registry";
import {graphView} from "@web/views/graph/graph_view";
import {GraphController} from "@web/views/graph/graph_controller";
import {pivotView} from "@web/views/pivot/pivot_view";
import {PivotController} from "@web/views/pivot/pivot_controller";

function useRollupNote(resModel) {
  const orm = useService("orm");
  const rollup = useState({note: ""});
  onWillStart(async () => {
    const freshness = await orm.call(resModel, "get_rollup_freshness", []);
    rollup.note = freshness.note;
  });
  return rollup;
}

export class CallReportPivotController extends PivotController {
  static template = "call_tracking.CallReportPivotView";

  setup() {
    super.setup();
    this.rollup = useRollupNote(this.props.resModel);
  }
}

export class CallReportGraphController extends GraphController {
  static template = "call_tracking.CallReportGraphView";

  setup() {
    super.setup();
    this.rollup = useRollupNote(this.props.resModel);
  }
}

registry.category("views").add("call_tracking_call_report_pivot", {
  ...pivotView,
  Controller: CallReportPivotController,
});
registry.category("views").add("call_tracking_call_report_graph", {
  ...graphView,
  Controller: CallReportGraphController,
});
