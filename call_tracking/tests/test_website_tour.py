import gzip
import json
import logging
from http.cookies import SimpleCookie
from unittest.mock import patch

from werkzeug.exceptions import InternalServerError

from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tests import tagged
from odoo.tools import config, file_open

from .common import CallTrackingHttpCommon

_logger = logging.getLogger(__name__)

COMPANY_NUMBER = "+380441234567"
MOBILE_NUMBER = "+380671234567"
TRACKING_NUMBER = "+380445550001"
CORE_SCRIPT = "call_tracking/static/src/js/call_tracking_core.js"
# the budget of the script every visitor downloads
MAX_GZIPPED_BYTES = 8 * 1024
PAGES = "/call_tracking/static/tests/pages"

# The company number in the formats a site writes it; the tours
# (static/tests/tours/call_tracking_tour.js) check each one.
PAGE_ARCH = """
<t t-name="call_tracking.tour_page">
    <t t-call="website.layout">
        <div id="wrap">
            <section class="container">
                <p id="ct_national">Call us: (044) 123-45-67</p>
                <p id="ct_international">International: +380 44 123 4567</p>
                <p id="ct_compact">Compact +380441234567 or 044 123 4567.</p>
                <p><a id="ct_link" href="tel:+380441234567">+380 44 123 4567</a></p>
                <p id="ct_other">Fax: +380 44 999 9999</p>
                <p id="ct_ignored" data-call-tracking-ignore="">(044) 123-45-67</p>
                <p>Hotline: <span id="ct_marked" class="o_call_tracking_number"
                    data-call-tracking="international"></span></p>
                <p id="ct_mobile">Mobile: (067) 123-45-67</p>
            </section>
        </div>
    </t>
</t>
"""
PAGE_URL = "/call-tracking-tour"


class WebsiteSwapCase(CallTrackingHttpCommon):
    """A website whose company number is +380 44 123 4567 (and a mobile
    listed as another company number), a one-number pool for Google Ads
    visitors, and a website page writing those numbers. The fixture world's
    channels are archived: only this case's channel recognises a visitor,
    so a direct visit keeps the company number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env.ref("website.default_website")
        cls.company = cls.website.company_id
        cls.company.call_tracking_default_number = COMPANY_NUMBER
        cls.website.write(
            {
                "call_tracking_numbers": "+380 67 123 4567",
                "call_tracking_anti_flicker": True,
                "call_tracking_anti_flicker_ms": 1000,
            }
        )
        # only this test's channel recognises the visitor
        cls.env["call.tracking.channel"].search([]).active = False
        cls.pool = cls.env["call.tracking.pool"].create(
            {"name": "Tour pool", "company_id": cls.company.id, "hold_minutes": 30}
        )
        cls.number = cls.env["call.tracking.number"].create(
            {"number": TRACKING_NUMBER, "pool_id": cls.pool.id, "company_id": cls.company.id}
        )
        cls.channel = cls.env["call.tracking.channel"].create(
            {
                "name": "Tour Google Ads",
                "company_id": cls.company.id,
                "tracking_type": "dynamic",
                "pool_id": cls.pool.id,
                "sequence": 1,
                "rule_ids": [(0, 0, {"utm_source": "google", "utm_medium": "cpc"})],
            }
        )
        view = cls.env["ir.ui.view"].create(
            {
                "name": "Call tracking tour page",
                "type": "qweb",
                "arch": PAGE_ARCH,
                "key": "call_tracking.tour_page",
            }
        )
        cls.env["website.page"].create(
            {
                "view_id": view.id,
                "url": PAGE_URL,
                "is_published": True,
                "website_id": cls.env.ref("website.default_website").id,
            }
        )


@tagged("post_install", "-at_install")
class TestWebsiteNumberSubstitution(WebsiteSwapCase):
    """The website script replaces the company number with the visitor's
    tracking number in the browser, and leaves it when the endpoint fails."""

    def test_page_renders_config(self):
        """The layout carries the company numbers and the endpoint, only when
        a default number is configured; the anti-flicker snippet only when
        switched on."""
        self.company.phone = "+380 44 700 0000"
        html = self.url_open(PAGE_URL).text
        self.assertIn('id="o_call_tracking_config"', html)
        self.assertIn(f'data-number="{COMPANY_NUMBER}"', html)
        # the company phone as the website shows it, then the listed ones
        self.assertIn(f'data-numbers="+380447000000 {MOBILE_NUMBER}"', html)
        self.assertIn('data-endpoint="/call_tracking/number"', html)
        self.assertIn('data-server-cookie="1"', html)
        self.assertIn('id="o_call_tracking_anti_flicker" data-timeout="1000"', html)
        self.website.call_tracking_anti_flicker = False
        html = self.url_open(PAGE_URL).text
        self.assertNotIn("o_call_tracking_anti_flicker", html)
        self.company.call_tracking_default_number = False
        html = self.url_open(PAGE_URL).text
        self.assertNotIn('id="o_call_tracking_config"', html)

    def test_substitution_tour(self):
        """A Google Ads visitor sees the pool number in every format and in
        the tel: link; the page's own format is kept."""
        self.start_tour(
            f"{PAGE_URL}?utm_source=google&utm_medium=cpc&gclid=tour",
            "call_tracking_substitution_tour",
        )
        session = self.env["call.tracking.session"].search([("number_id", "=", self.number.id)])
        self.assertEqual(len(session), 1, "one lease, kept by the ping")
        self.assertEqual(session.channel_id, self.channel)

    def test_failure_tour(self):
        """The endpoint answers HTTP 500 (and other failures): the company
        number stays everywhere."""
        ir_http = type(self.env["ir.http"])
        pre_dispatch = ir_http._pre_dispatch

        def _pre_dispatch(cls, rule, args):
            if request.httprequest.path == "/call_tracking/number":
                raise InternalServerError()
            return pre_dispatch(rule, args)

        with patch.object(ir_http, "_pre_dispatch", classmethod(_pre_dispatch)):
            self.start_tour(
                f"{PAGE_URL}?utm_source=google&utm_medium=cpc",
                "call_tracking_failure_tour",
            )
        self.assertFalse(
            self.env["call.tracking.session"].search([("number_id", "=", self.number.id)])
        )


@tagged("post_install", "-at_install")
class TestWebsiteSwapPages(WebsiteSwapCase):
    """The core script on the test pages of static/tests/pages/, loaded as
    another website loads it (script tag, no Odoo bundle), in Chromium."""

    def _run_page(self, page):
        self.browser_js(
            f"{PAGES}/{page}?utm_source=google&utm_medium=cpc",
            "ct.run(window.ctTest)",
            ready="!!(window.ctTest && window.CallTracking)",
            timeout=90,
        )

    def test_split_numbers_links_and_attributes(self):
        """Numbers split over elements in several layouts, every link kind
        (tel:, Viber, WhatsApp, sms:, callto:), data-phone, itemprop
        telephone, title, aria-label and two company numbers are replaced;
        stopping restores the page exactly."""
        self._run_page("swap.html")
        self.assertEqual(
            self.env["call.tracking.session"].search_count([("number_id", "=", self.number.id)]), 1
        )

    def test_single_page_site(self):
        """Route changes (pushState, popstate), the same node re-rendered,
        a binding that writes its text back, and a number that appears after
        2 s: swapped, no loop, one request while the lease is live."""
        self._run_page("spa.html")

    def test_platform_cookies(self):
        """The script reads the ad platforms' cookies (both formats of the
        GA4 session cookie) and sends them: the session keeps them, with the
        landing page's click ids, for conversions."""
        self.browser_js(
            f"{PAGES}/visit_ids.html?utm_source=google&utm_medium=cpc&gbraid=GB-tour",
            "ct.run(window.ctTest)",
            ready="!!(window.ctTest && window.CallTracking)",
            timeout=90,
        )
        session = self.env["call.tracking.session"].search(
            [("number_id", "=", self.number.id)], limit=1
        )
        self.assertEqual(
            (
                session.ga_client_id,
                session.ga_session_id,
                session.ym_uid,
                session.fbp,
                session.fbc,
                session.gbraid,
            ),
            (
                "111111.222222",
                "1712345678",
                "1700000000123456789",
                "fb.1.1700000000000.987654321",
                "fb.1.1700000000000.IwAR0cookie",
                "GB-tour",
            ),
        )

    def test_swap_time(self):
        """The swap over 5,000 text nodes, measured in the browser with
        performance.now(): the page checks the swap and prints the figure
        to Odoo's log ('call_tracking swap: ...'); no timing assertion."""
        self._run_page("perf.html")

    def test_script_size(self):
        """The core script stays under its budget, gzipped as served."""
        with file_open(CORE_SCRIPT, "rb") as script:
            raw = script.read()
        size = len(gzip.compress(raw, compresslevel=9))
        _logger.info("call_tracking_core.js: %d bytes, %d bytes gzip -9", len(raw), size)
        self.assertLess(size, MAX_GZIPPED_BYTES)
        self.assertNotIn(b"import ", raw, "dependency-free: no module imports")


@tagged("post_install", "-at_install")
class TestVisitorCookie(WebsiteSwapCase):
    """The number endpoint keeps the visitor key in a first-party cookie,
    with the website's lifetime and domain; the JSON ``visitor`` key keeps
    working and wins over the cookie."""

    def _post(self, body=None, headers=None):
        response = self.url_open(
            "/call_tracking/number",
            data=json.dumps(body or {}),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response

    def _cookie(self, response):
        """The attributes of the visitor cookie of ``response``."""
        cookie = SimpleCookie()
        cookie.load(response.headers["Set-Cookie"])
        self.assertEqual(list(cookie), ["call_tracking_visitor"], "only the visitor cookie")
        morsel = cookie["call_tracking_visitor"]
        header = response.headers["Set-Cookie"]
        return morsel.value, {
            "max-age": morsel["max-age"],
            "path": morsel["path"],
            "domain": morsel["domain"],
            "samesite": morsel["samesite"],
            "secure": "; Secure" in header,
            "httponly": "; HttpOnly" in header,
        }

    def test_cookie_attributes(self):
        answer_response = self._post(
            {"url": "https://shop.example/?utm_source=google&utm_medium=cpc"}
        )
        answer = answer_response.json()
        self.assertEqual(answer["number"], TRACKING_NUMBER)
        value, attributes = self._cookie(answer_response)
        self.assertEqual(value, answer["visitor"])
        self.assertEqual(
            attributes,
            {
                "max-age": str(365 * 86400),
                "path": "/",
                "domain": "",
                "samesite": "Lax",
                "secure": False,
                "httponly": False,
            },
        )
        # configured lifetime and domain, over https behind a proxy
        self.website.write(
            {"call_tracking_cookie_days": 30, "call_tracking_cookie_domain": "example.com"}
        )
        proxied = {"X-Forwarded-Host": "shop.example.com", "X-Forwarded-Proto": "https"}
        with patch.dict(config.options, {"proxy_mode": True}):
            value, attributes = self._cookie(self._post({"visitor": answer["visitor"]}, proxied))
        self.assertEqual(value, answer["visitor"])
        self.assertEqual(attributes["max-age"], str(30 * 86400))
        self.assertEqual(attributes["domain"], "example.com")
        self.assertTrue(attributes["secure"])
        self.assertEqual(attributes["samesite"], "Lax")
        # a host outside the domain: a host-only cookie (the browser would refuse it)
        _value, attributes = self._cookie(self._post({"visitor": answer["visitor"]}))
        self.assertEqual(attributes["domain"], "")
        self.assertFalse(attributes["secure"])

    def test_cookie_bar_consent(self):
        """With the website's cookie bar on, the visitor cookie is an optional
        one: kept only after the visitor accepted optional cookies (Odoo's
        own check, which reads the cookie bar from the cached setup)."""
        url = "https://shop.example/?utm_source=google&utm_medium=cpc"
        self.assertNotEqual(self._cookie(self._post({"url": url}))[1]["max-age"], "0")
        self.website.cookies_bar = True
        answer = self._post({"url": url})
        self.assertTrue(answer.json()["visitor"], "the answer still carries the key")
        self.assertEqual(self._cookie(answer)[1]["max-age"], "0", "refused: deleted")
        self.opener.cookies.set("website_cookies_bar", json.dumps({"optional": True}))
        accepted = self._post({"url": url})
        self.assertEqual(self._cookie(accepted)[1]["max-age"], str(365 * 86400))
        self.website.cookies_bar = False  # the cached setup follows the change
        self.opener.cookies.clear()
        self.assertEqual(self._cookie(self._post({"url": url}))[1]["max-age"], str(365 * 86400))

    def test_body_key_decides(self):
        """The JSON ``visitor`` key identifies the visitor, as the public
        contract says; the cookie only mirrors it (the website script reads
        it and sends it in the body), so API clients with a cookie jar are
        not merged into one visitor."""
        first = self._post({"url": "https://shop.example/?utm_source=google&utm_medium=cpc"})
        first = first.json()
        self.assertEqual(first["mode"], "dynamic")
        again = self._post({"visitor": first["visitor"], "url": "https://shop.example/about"})
        self.assertEqual(again.json()["number"], TRACKING_NUMBER, "same lease, same channel")
        self.assertEqual(self._cookie(again)[0], first["visitor"])
        # the test client keeps the cookie; a body without a key is a new visitor
        stranger = self._post({}).json()
        self.assertNotEqual(stranger["visitor"], first["visitor"])
        self.assertEqual(stranger["mode"], "default")

    def test_website_settings(self):
        """Numbers are normalised and checked; the timeout and the cookie
        settings keep to their bounds."""
        self.company.phone = "044 700 00 00"
        self.company.country_id = self.env.ref("base.ua")
        self.website.call_tracking_numbers = "(067) 123-45-67\n\n+380 44 123 45 67"
        self.assertEqual(
            self.website._call_tracking_page_numbers(),
            [COMPANY_NUMBER, "+380447000000", MOBILE_NUMBER],
        )
        with self.assertRaises(UserError):
            self.website.call_tracking_numbers = "call us"
        for values in (
            {"call_tracking_anti_flicker_ms": 1001},
            {"call_tracking_anti_flicker_ms": 0},
            {"call_tracking_cookie_days": 0},
            {"call_tracking_cookie_days": 401},
            {"call_tracking_cookie_domain": "not a domain"},
            {"call_tracking_cookie_domain": "https://example.com"},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.website.write(values)
        self.website.call_tracking_cookie_domain = ".Example.com"
        self.assertEqual(
            self.env["website"]._call_tracking_get_cookie_setup(self.website.id),
            (365, "example.com"),
        )
