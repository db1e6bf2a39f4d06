import json

from odoo.tests import tagged

from .common import GOOGLE_ADS_URL, CallTrackingHttpCommon


@tagged("post_install", "-at_install")
class TestNumberController(CallTrackingHttpCommon):
    def post_number(self, body, headers=None):
        return self.url_open(
            "/call_tracking/number",
            data=json.dumps(body),
            headers=dict({"Content-Type": "application/json"}, **(headers or {})),
        )

    def test_visitor_of_the_odoo_website_is_linked(self):
        # a logged-in visitor of the website: website.visitor finds them by
        # their partner (for anonymous visitors, by their session)
        self.authenticate("ct_salesman", "ct_salesman")
        website = self.env["website"].get_current_website()
        visitor = self.env["website.visitor"].create(
            {"access_token": self.salesman.partner_id.id, "website_id": website.id}
        )
        count = self.env["website.visitor"].search_count([])
        resp = self.post_number({"url": GOOGLE_ADS_URL, "website_id": website.id})
        self.assertEqual(resp.status_code, 200)
        answer = resp.json()
        self.assertEqual(answer["mode"], "dynamic")
        session = self.env["call.tracking.session"].search(
            [("visitor_key", "=", answer["visitor"])]
        )
        self.assertEqual(session.visitor_id, visitor)
        self.assertEqual(visitor.call_tracking_session_ids, session)
        self.assertEqual(self.env["website.visitor"].search_count([]), count, "none created")

    def test_external_site_creates_no_visitor(self):
        website = self.env["website"].get_current_website()
        website.call_tracking_cors_origins = "https://shop.example.com"
        count = self.env["website.visitor"].search_count([])
        resp = self.post_number(
            {"url": GOOGLE_ADS_URL, "website_id": website.id},
            headers={"Origin": "https://shop.example.com"},
        )
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.headers["Access-Control-Allow-Origin"], "https://shop.example.com")
        session = self.env["call.tracking.session"].search(
            [("visitor_key", "=", resp.json()["visitor"])]
        )
        self.assertFalse(session.visitor_id)
        self.assertEqual(session.website_id, website)
        self.assertEqual(self.env["website.visitor"].search_count([]), count)

    def test_bad_input_is_a_400(self):
        resp = self.post_number([1])
        self.assertEqual(resp.status_code, 400)
        self.assertEqual(resp.json(), {"error": "the body must be a JSON object"})
        resp = self.post_number({"website_id": 10**6})
        self.assertEqual(resp.status_code, 400)
