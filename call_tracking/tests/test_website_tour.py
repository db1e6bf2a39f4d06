from unittest.mock import patch

from werkzeug.exceptions import InternalServerError

from odoo.http import request
from odoo.tests import tagged

from .common import CallTrackingHttpCommon

COMPANY_NUMBER = "+380441234567"
TRACKING_NUMBER = "+380445550001"

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
            </section>
        </div>
    </t>
</t>
"""
PAGE_URL = "/call-tracking-tour"


@tagged("post_install", "-at_install")
class TestWebsiteNumberSubstitution(CallTrackingHttpCommon):
    """The website script replaces the company number with the visitor's
    tracking number in the browser, and leaves it when the endpoint fails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env.ref("website.default_website")
        assert website.company_id == cls.company
        # the page's own (Ukrainian) number, and a pool number to show instead
        cls.company.call_tracking_default_number = COMPANY_NUMBER
        tour_pool = cls.env["call.tracking.pool"].create({"name": "Tour pool", "hold_minutes": 30})
        cls.number = cls.env["call.tracking.number"].create(
            {"number": TRACKING_NUMBER, "pool_id": tour_pool.id}
        )
        # Google Ads visitors (the tours' utm_source=google&utm_medium=cpc)
        cls.channel = cls.channel_google
        cls.channel.pool_id = tour_pool
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
                "website_id": website.id,
            }
        )

    def test_page_renders_config(self):
        """The layout carries the company number and the endpoint, only when
        a default number is configured."""
        html = self.url_open(PAGE_URL).text
        self.assertIn('id="o_call_tracking_config"', html)
        self.assertIn(f'data-number="{COMPANY_NUMBER}"', html)
        self.assertIn('data-endpoint="/call_tracking/number"', html)
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
