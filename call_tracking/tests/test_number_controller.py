import json

from odoo.tests import tagged

from .common import GOOGLE_ADS_URL, PAGE_URL, CallTrackingHttpCommon

# queries of one request in HttpCase (see test_query_count_of_a_request),
# with headroom: 11 measured for a new visitor (the savepoint and the lease
# statement in one round trip, the release, and Odoo's optional-cookie check
# reading the website's cookie bar with the public user's rights, as the floor
# route of scripts/request_floor.py does), 2 for a returning one (the visitor
# state and the extension in one statement, the cookie bar)
QUERIES_NEW = 14
QUERIES_RETURNING = 4


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

    def test_query_count_of_a_request(self):
        """A whole request through Odoo's HTTP stack, as the public user: the
        statements of the assignment, Odoo's request handling (registry
        check, the test cursor's savepoints), the website's cookie bar read
        by Odoo's consent check; the setup comes from cached look-ups."""
        website_id = self.env["website"].get_current_website().id
        body = {"url": GOOGLE_ADS_URL, "website_id": website_id}
        self.post_number(body)  # warm the caches of the route
        with self.assertQueryCount(QUERIES_NEW):
            first = self.post_number(body).json()
        self.assertEqual(first["mode"], "dynamic")
        with self.assertQueryCount(QUERIES_RETURNING):
            again = self.post_number(
                {"visitor": first["visitor"], "url": PAGE_URL, "website_id": website_id}
            ).json()
        self.assertEqual((again["number"], again["mode"]), (first["number"], "dynamic"))

    def test_bad_input_is_a_400(self):
        resp = self.post_number([1])
        self.assertEqual(resp.status_code, 400)
        self.assertEqual(resp.json(), {"error": "the body must be a JSON object"})
        resp = self.post_number({"website_id": 10**6})
        self.assertEqual(resp.status_code, 400)
