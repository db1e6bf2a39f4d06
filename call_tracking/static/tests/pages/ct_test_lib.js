/**
 * Helpers of the call tracking test pages (served by Odoo under
 * /call_tracking/static/tests/pages/, opened by
 * call_tracking/tests/test_website_tour.py with HttpCase.browser_js). Each
 * page loads call_tracking_core.js as an external site does and defines
 * window.ctTest, an async function that throws on the first wrong value.
 */
(function () {
  "use strict";

  const ENDPOINT = "/call_tracking/number";

  window.ct = {
    COMPANY: "+380441234567",
    MOBILE: "+380671234567",
    TRACKING: "+380445550001",

    eq(actual, expected, what) {
      if (actual !== expected) {
        throw new Error(
          `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`
        );
      }
    },

    text(id) {
      return document.getElementById(id).textContent.replace(/\s+/g, " ").trim();
    },

    attr(id, name) {
      return document.getElementById(id).getAttribute(name);
    },

    sleep(ms) {
      return new Promise((resolve) => setTimeout(resolve, ms));
    },

    /** Resolve once `check()` is truthy; reject after `timeout` ms. */
    async waitFor(check, what, timeout = 8000) {
      const end = Date.now() + timeout;
      while (Date.now() < end) {
        if (check()) {
          return;
        }
        await this.sleep(25);
      }
      throw new Error(`timed out waiting for ${what}`);
    },

    /** How many requests the page sent to the number endpoint. */
    requests() {
      return performance
        .getEntriesByType("resource")
        .filter((entry) => entry.name.includes(ENDPOINT)).length;
    },

    /** The tracker the page's script tag started, once it answered. */
    async tracker() {
      const tracker = window.CallTracking && window.CallTracking.current;
      if (!tracker) {
        throw new Error("call_tracking_core.js did not start");
      }
      const answer = await tracker.ready;
      this.eq(answer && answer.number, this.TRACKING, "the leased number");
      return tracker;
    },

    run(test) {
      Promise.resolve()
        .then(test)
        .then(
          () => console.log("test successful"),
          (error) =>
            console.error(
              "call tracking page test failed: " + ((error && error.stack) || error)
            )
        );
    },
  };
})();
