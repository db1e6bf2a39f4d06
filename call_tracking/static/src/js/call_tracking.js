/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * Starts the dependency-free number substitution (call_tracking_core.js, in
 * the same bundle) with the configuration rendered by the
 * `call_tracking.call_tracking_config` template, and restores the company
 * number when the widget is destroyed (e.g. entering the website editor, so
 * a tracking number is never saved into a page).
 */
publicWidget.registry.callTracking = publicWidget.Widget.extend({
  selector: "#o_call_tracking_config",
  disabledInEditableMode: true,

  /**
   * @override
   */
  start() {
    const core = window.CallTracking;
    const data = this.el.dataset;
    if (core && data.number && data.endpoint) {
      this.tracker = core.init({
        endpoint: data.endpoint,
        number: data.number,
        numbers: data.numbers || "",
        websiteId: data.websiteId,
        // the endpoint sets the visitor cookie on this website's answers
        serverCookie: data.serverCookie === "1",
      });
    }
    return this._super(...arguments);
  },
  /**
   * @override
   */
  destroy() {
    if (this.tracker) {
      this.tracker.stop();
      this.tracker = null;
    }
    this._super(...arguments);
  },
});

export default publicWidget.registry.callTracking;
