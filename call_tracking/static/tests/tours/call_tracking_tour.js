/** @odoo-module **/

import {registry} from "@web/core/registry";

// The page the tests create (call_tracking/tests/test_website_tour.py) writes
// the company number +380 44 123 4567 in several formats, and the mobile
// +380 67 123 4567 listed in the website's other company numbers; the pool
// leases its only number +380 44 555 0001. The website hides the page until
// the swap (anti-flicker on).

const ORIGINAL = {
  ct_national: "Call us: (044) 123-45-67",
  ct_international: "International: +380 44 123 4567",
  ct_compact: "Compact +380441234567 or 044 123 4567.",
  ct_link: "+380 44 123 4567",
  ct_other: "Fax: +380 44 999 9999",
  ct_ignored: "(044) 123-45-67",
  ct_mobile: "Mobile: (067) 123-45-67",
};
const SUBSTITUTED = {
  ct_national: "Call us: (044) 555-00-01",
  ct_international: "International: +380 44 555 0001",
  ct_compact: "Compact +380445550001 or 044 555 0001.",
  ct_link: "+380 44 555 0001",
  ct_other: "Fax: +380 44 999 9999",
  ct_ignored: "(044) 123-45-67",
  ct_marked: "+380 44 555 0001",
  ct_mobile: "Mobile: (044) 555-00-01",
};
const HIDE_CLASS = "o_call_tracking_hide";
const COMPANY_HREF = "tel:+380441234567";
const TRACKING_HREF = "tel:+380445550001";

function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(
      `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`
    );
  }
}

function checkTexts(expected) {
  for (const [id, text] of Object.entries(expected)) {
    assertEqual(document.getElementById(id).textContent.trim(), text, `#${id}`);
  }
}

/** The tracker the publicWidget started, once it exists. */
async function currentTracker() {
  for (let i = 0; i < 100; i++) {
    if (window.CallTracking && window.CallTracking.current) {
      return window.CallTracking.current;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the callTracking publicWidget did not start");
}

/** Pure helpers of call_tracking_core.js: digit matching and formats. */
function checkUtils() {
  const u = window.CallTracking.utils;
  const company = u.splitE164("+380441234567");
  assertEqual(JSON.stringify(company), '{"cc":"380","nsn":"441234567"}', "splitE164");
  assertEqual(
    JSON.stringify(u.splitE164("+14155550100")),
    '{"cc":"1","nsn":"4155550100"}',
    "NANP"
  );
  assertEqual(
    JSON.stringify(u.splitE164("+442071234567")),
    '{"cc":"44","nsn":"2071234567"}',
    "UK"
  );
  const answer = {number: "+380445550001", display: "+380 44 555 0001"};
  const cases = [
    ["+38 (044) 123-45-67", "+38 (044) 555-00-01"],
    ["0038044 123 45 67", "0038044 555 00 01"],
    ["044.123.45.67", "044.555.00.01"],
    ["Tel 044 123 4567, fax 044 123 4568", "Tel 044 555 0001, fax 044 123 4568"],
    ["+380 44 999 9999", null],
    ["order 1234567890441234567", null],
    ["on 2024-01-15", null],
  ];
  for (const [text, expected] of cases) {
    assertEqual(
      u.replaceInText(text, company, answer),
      expected,
      `replaceInText(${text})`
    );
  }
  // a tracking number of another length: the display formats
  const shorter = {number: "+38044555000", display: "+380 44 555 000"};
  assertEqual(
    u.replaceInText("(044) 123-45-67", company, shorter),
    "044 555 000",
    "national display"
  );
  assertEqual(
    u.replaceInText("+380 441 234 567", company, shorter),
    "+380 44 555 000",
    "international display"
  );
  assertEqual(
    u.parseLink("tel:%2B380%2044%20123%204567").number,
    "+380 44 123 4567",
    "parseLink"
  );
  assertEqual(
    u.parseLink("https://example.com/380441234567"),
    null,
    "not a phone link"
  );
  // several company numbers: each is found
  const both = [company, u.splitE164("+380671234567")];
  assertEqual(
    u.replaceInText("044 123 4567 / 067 123 4567", both, answer),
    "044 555 0001 / 044 555 0001",
    "two numbers"
  );
  assertEqual(u.layDigits("(044) 123", 1, 2, "45"), "(045) 123", "layDigits");
  assertEqual(
    u.gaClientId("a=1; _ga=GA1.1.1234567890.1700000000"),
    "1234567890.1700000000",
    "_ga"
  );
  assertEqual(u.gaClientId("a=1"), "", "no _ga");
  assertEqual(u.isValidAnswer({status: "pass"}), false, "isValidAnswer");
}

registry.category("web_tour.tours").add("call_tracking_substitution_tour", {
  steps: () => [
    {
      content: "The national format shows the leased number, in the national format",
      trigger: "#ct_national:contains('(044) 555-00-01')",
    },
    {
      content: "Every format, the tel: link and the marked element are substituted",
      trigger: "#ct_link[href='" + TRACKING_HREF + "']",
      async run() {
        const answer = await (await currentTracker()).ready;
        assertEqual(answer.mode, "dynamic", "mode");
        assertEqual(answer.number, "+380445550001", "number");
        checkTexts(SUBSTITUTED);
        assertEqual(
          document.body.innerText.includes("123 4567"),
          false,
          "no company number in international format left"
        );
        assertEqual(
          document.querySelectorAll(`a[href='${COMPANY_HREF}']`).length,
          0,
          "no company tel: link left"
        );
        assertEqual(
          window.localStorage.getItem("call_tracking_visitor"),
          answer.visitor,
          "visitor key stored"
        );
        assertEqual(
          document.cookie.includes("call_tracking_visitor=" + answer.visitor),
          true,
          "server-set cookie"
        );
        assertEqual(
          document.documentElement.classList.contains(HIDE_CLASS),
          false,
          "page shown"
        );
        assertEqual(
          Boolean(document.getElementById("o_call_tracking_anti_flicker")),
          true,
          "anti-flicker on"
        );
      },
    },
    {
      content: "A click on the tracked number pushes a dataLayer event",
      trigger: "#ct_link",
      run() {
        const link = this.anchor;
        link.addEventListener("click", (ev) => ev.preventDefault(), {once: true});
        link.click();
        const event = (window.dataLayer || [])
          .filter((e) => e.event === "call_tracking_number_click")
          .at(-1);
        assertEqual(
          event && event.call_tracking_number,
          "+380445550001",
          "dataLayer event"
        );
        assertEqual(event.call_tracking_mode, "dynamic", "dataLayer mode");
      },
    },
    {
      content: "A ping with the stored key keeps the same number",
      trigger: "body",
      async run() {
        const tracker = await currentTracker();
        const visitor = window.localStorage.getItem("call_tracking_visitor");
        const answer = await tracker.ping();
        assertEqual(answer && answer.number, "+380445550001", "number after ping");
        assertEqual(answer.visitor, visitor, "visitor after ping");
        checkTexts(SUBSTITUTED);
      },
    },
    {
      content:
        "Script storage cleared (Safari's 7-day cap): the server-set cookie keeps the visitor",
      trigger: "body",
      async run() {
        const tracker = await currentTracker();
        const visitor = window.localStorage.getItem("call_tracking_visitor");
        window.localStorage.removeItem("call_tracking_visitor");
        let answer = await tracker.ping();
        assertEqual(answer && answer.visitor, visitor, "visitor from the cookie");
        assertEqual(answer.number, "+380445550001", "number from the cookie");
        // on the Odoo website the cookie (shared by subdomains) comes first
        window.localStorage.setItem("call_tracking_visitor", "another-subdomain-key");
        answer = await tracker.ping();
        assertEqual(answer && answer.visitor, visitor, "the cookie wins over storage");
        assertEqual(
          window.localStorage.getItem("call_tracking_visitor"),
          visitor,
          "storage follows"
        );
      },
    },
    {
      content: "Content added later is substituted too",
      trigger: "body",
      async run() {
        const p = document.createElement("p");
        p.id = "ct_late";
        p.textContent = "Later: 044 123 45 67";
        document.getElementById("wrap").appendChild(p);
      },
    },
    {
      content: "Late content substituted",
      trigger: "#ct_late:contains('044 555 00 01')",
    },
    {
      content: "Pure helpers: digit matching and format keeping",
      trigger: "body",
      run: checkUtils,
    },
    {
      content: "Stopping restores the company number (what the website editor needs)",
      trigger: "body",
      async run() {
        window.CallTracking.stop();
        checkTexts(ORIGINAL);
        assertEqual(
          document.getElementById("ct_link").getAttribute("href"),
          COMPANY_HREF,
          "href restored"
        );
        assertEqual(
          document.getElementById("ct_late").textContent,
          "Later: 044 123 45 67",
          "late restored"
        );
      },
    },
  ],
});

/** Start the core against `endpoint` and check the page is left as it was. */
async function checkUnchanged(options, what) {
  const tracker = window.CallTracking.init(
    Object.assign({number: "+380441234567", websiteId: 1}, options)
  );
  const answer = await tracker.ready;
  assertEqual(answer, null, `${what}: answer`);
  checkTexts(ORIGINAL);
  assertEqual(
    document.getElementById("ct_link").getAttribute("href"),
    COMPANY_HREF,
    `${what}: href`
  );
}

registry.category("web_tour.tours").add("call_tracking_failure_tour", {
  steps: () => [
    {
      content: "The endpoint failed (HTTP 500): the company number stays",
      trigger: "#ct_link[href='" + COMPANY_HREF + "']",
      async run() {
        const answer = await (await currentTracker()).ready;
        assertEqual(answer, null, "answer of the failing endpoint");
        checkTexts(ORIGINAL);
        assertEqual(
          document.getElementById("ct_marked").textContent,
          "",
          "marked element untouched"
        );
        assertEqual(
          document.documentElement.classList.contains(HIDE_CLASS),
          false,
          "page shown after the failure"
        );
      },
    },
    {
      content:
        "Not found, a non-JSON answer, an answer of the wrong shape, a timeout: unchanged",
      trigger: "body",
      async run() {
        await checkUnchanged({endpoint: "/call_tracking/does-not-exist"}, "404");
        await checkUnchanged(
          {endpoint: "data:text/html,<p>not JSON</p>"},
          "HTML answer"
        );
        await checkUnchanged(
          {endpoint: 'data:application/json,{"status":"pass"}'},
          "wrong JSON"
        );
        await checkUnchanged(
          {endpoint: "http://127.0.0.1:9/call_tracking/number"},
          "network error"
        );
        await checkUnchanged(
          {endpoint: "/call_tracking/number", timeout: 1},
          "timeout"
        );
        window.CallTracking.stop();
      },
    },
  ],
});
