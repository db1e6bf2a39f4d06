import json
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .common import BROWSER_UA

COMPANY = "+12125550100"  # the demo company's phone and default number
DIRECT = "+12125550132"  # the demo Direct channel's static number
SEO = "+12125550131"  # the demo SEO channel's static number
POOL = tuple(f"+121255501{n}" for n in range(61, 71))  # the demo pool
GOOGLE_ADS = "/contactus?utm_source=google&utm_medium=cpc&gclid=demo-tour-gclid"
SEARCH_REFERRER = "https://www.google.com/"

# Waits until the contact block and the header show one of `numbers` in
# their text and tel: link, then reports which
CHECK_JS = """
(async () => {
    const numbers = %s;
    const digits = (text) => (text || "").replace(/\\D/g, "");
    const shows = (link, number) =>
        link && link.getAttribute("href") === "tel:" + number &&
        digits(link.textContent) === digits(number);
    for (let i = 0; i < 150; i++) {
        const contact = document.querySelector(".o_call_tracking_demo_contact_phone a");
        const header = document.querySelector(".o_call_tracking_demo_phone a");
        const number = numbers.find((n) => shows(contact, n) && shows(header, n));
        if (number) {
            console.log("call_tracking demo number " + number);
            console.log("test successful");
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const contact = document.querySelector(".o_call_tracking_demo_contact_phone");
    const shown = contact ? contact.outerHTML : "no contact block";
    console.error("expected one of " + numbers + " on " + location.href + " (referrer " +
        document.referrer + "), the page shows " + shown);
})();
"""
READY = "document.readyState === 'complete' && location.pathname === '/contactus'"


@tagged("post_install", "-at_install")
class TestDemoWebsite(HttpCase):
    """The demo website in a real browser: the company number in the header
    and on the contact page, and the number each kind of visit gets (the
    links `make demo` prints). Skipped without the demo data."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("call_tracking.demo_header_phone", raise_if_not_found=False):
            self.skipTest("no call_tracking demo data")

    def _visit(self, url, numbers, referrer=None):
        # the first rendering of a page can be slow on a loaded machine
        self.url_open(url, timeout=60)

        def navigate_with_referrer(browser, target, wait_stop=False):
            # a visitor's browser: headless Chrome's own user agent is refused
            # a lease as an automated client
            browser._websocket_request(
                "Emulation.setUserAgentOverride", params={"userAgent": BROWSER_UA}
            )
            # as a click on a search result: the browser sends the referrer
            params = {"url": target}
            if referrer:
                # the whole referrer, though the test server is not https
                params.update(referrer=referrer, referrerPolicy="unsafeUrl")
            browser._websocket_request("Page.navigate", params=params, timeout=60.0)

        with patch.object(ChromeBrowser, "navigate_to", navigate_with_referrer):
            self.browser_js(url, CHECK_JS % json.dumps(list(numbers)), ready=READY)

    def test_company_number_on_every_page(self):
        """As served: the company number in the header of every page and in
        the contact block, as text and tel: link."""
        for path in ("/", "/contactus"):
            html = self.url_open(path).text
            self.assertIn('class="nav-item o_call_tracking_demo_phone"', html)
            self.assertIn(f'href="tel:{COMPANY}"', html)
            self.assertIn("+1 212-555-0100", html)
        html = self.url_open("/contactus").text
        self.assertIn("o_call_tracking_demo_contact_phone", html)
        self.assertNotIn("555-555-5556", html, "no sample number left on the contact page")

    def test_direct_visit(self):
        """A direct visit: the demo's Direct channel shows its static number
        where the company number was."""
        self._visit("/contactus", [DIRECT])

    def test_google_ads_visit(self):
        """A Google Ads click: a pool number, leased to this visitor, in the
        text and the tel: links."""
        self._visit(GOOGLE_ADS, POOL)

    def test_search_engine_visit(self):
        """A visit from a search engine (its referrer): the SEO number."""
        self._visit("/contactus", [SEO], referrer=SEARCH_REFERRER)

    def test_demo_search_page(self):
        """The demo's stand-in search page links to the other local name of
        the server and sends its origin as referrer."""
        response = self.url_open("/call_tracking/demo/search")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Referrer-Policy"], "origin")
        self.assertIn('href="http://localhost:', response.text)
        self.assertIn('/contactus"', response.text)
