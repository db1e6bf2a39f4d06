"""What an anonymous client may not do to the number endpoint and the
website (issue 25): fill the registry's shared cache with unknown website
ids, break a page with a UTM link on a host without a dot."""

import json

from odoo.tests import tagged

from .common import GOOGLE_ADS_URL, CallTrackingCommon, CallTrackingHttpCommon


def website_cache_entries(registry):
    """The entries of the registry's shared LRU ("default" cache) keyed by a
    method of the ``website`` model."""
    cache = registry._Registry__caches["default"]
    return sum(1 for key in list(cache.d) if key[0] == "website")


@tagged("post_install", "-at_install")
class TestWebsiteIdCache(CallTrackingCommon):
    def test_unknown_website_ids_add_no_cache_entry(self):
        """Finding 4: every unknown website_id used to be cached as "none"."""
        Website = self.env["website"]
        website = Website.get_current_website()
        self.assertTrue(Website._call_tracking_get_setup(website.id))  # warm
        before = website_cache_entries(self.registry)
        for website_id in range(2**31 - 200, 2**31):
            self.assertIsNone(Website._call_tracking_get_setup(website_id))
        self.assertEqual(website_cache_entries(self.registry), before)
        self.assertEqual(Website._call_tracking_get_setup(website.id)[0], website.company_id.id)

    def test_a_new_website_is_known_at_once(self):
        Website = self.env["website"]
        Website._call_tracking_get_setups()  # cached
        website = Website.create({"name": "New Shop", "domain": "https://new.example.com"})
        company_id, origins = Website._call_tracking_get_setup(website.id)
        self.assertEqual(company_id, website.company_id.id)
        self.assertIn("https://new.example.com", origins)
        website_id = website.id
        website.unlink()
        self.assertIsNone(Website._call_tracking_get_setup(website_id))


@tagged("post_install", "-at_install")
class TestVisitorTrustHttp(CallTrackingHttpCommon):
    def test_unknown_website_ids_over_http(self):
        """Finding 4, through the route: a 400 each, no cache entry each."""
        website_id = self.env["website"].get_current_website().id
        ok = self.url_open(
            "/call_tracking/number",
            data=json.dumps({"url": GOOGLE_ADS_URL, "website_id": website_id}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(ok.status_code, 200)
        before = website_cache_entries(self.registry)
        for website_id in range(10**6, 10**6 + 30):
            resp = self.url_open(
                "/call_tracking/number",
                data=json.dumps({"website_id": website_id}),
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(resp.status_code, 400)
            self.assertEqual(resp.json(), {"error": "unknown website_id"})
        self.assertEqual(website_cache_entries(self.registry), before)

    def test_utm_link_on_localhost(self):
        """Finding 10: ``http://localhost:8069/?utm_source=...`` answered 500
        (the utm module's cookie domain ``localhost:8069``, refused by
        werkzeug). The cookie is set without a domain."""
        port = self.base_url().rsplit(":", 1)[1]
        resp = self.url_open(
            "/?utm_source=newsletter&utm_medium=email",
            headers={"Host": f"localhost:{port}"},
            allow_redirects=False,
        )
        self.assertEqual(resp.status_code, 200)
        cookies = resp.raw.headers.getlist("Set-Cookie")
        utm = [c for c in cookies if c.startswith("odoo_utm_source=")]
        self.assertEqual(len(utm), 1, cookies)
        self.assertIn("odoo_utm_source=newsletter", utm[0])
        self.assertNotIn("domain=", utm[0].lower())
        # a host with a dot keeps the utm module's domain
        resp = self.url_open("/?utm_source=flyer", allow_redirects=False)
        self.assertEqual(resp.status_code, 200)
        cookies = [c for c in resp.raw.headers.getlist("Set-Cookie") if "odoo_utm_source" in c]
        self.assertIn("domain=127.0.0.1", cookies[0].lower())
