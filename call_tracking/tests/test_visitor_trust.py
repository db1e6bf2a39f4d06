"""What an anonymous client may not do to the number endpoint and the
website (issue 25): fill the registry's shared cache with unknown website
ids, break a page with a UTM link on a host without a dot."""

import gzip
import json
import logging
import math
import re
from pathlib import Path

import crawleruseragents

from odoo.tests import BaseCase, tagged

from odoo.addons.call_tracking.tools import clients

from .common import (
    BROWSER_UA,
    FALLBACK,
    GOOGLE_ADS_URL,
    PAGE_URL,
    SEO,
    CallTrackingCommon,
    CallTrackingHttpCommon,
)

_logger = logging.getLogger(__name__)

CORPUS = Path(__file__).parent / "data" / "browser_user_agents.txt.gz"
# at most this share of real browsers is refused a lease (issue 25)
MAX_FALSE_REFUSALS = 0.0005
# phones the crawler list used to refuse (finding 8): "Sonic", "Butterfly",
# "FLUID" matched case-insensitively, or a bare word inside a device name
PHONES = {
    "Panasonic": (
        "Mozilla/5.0 (Linux; Android 4.1.2; Panasonic T21 Build/JZO54K) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/28.0.1500.94 Mobile Safari/537.36"
    ),
    "HUAWEI SONIC": (
        "Mozilla/5.0 (Linux; U; Android 2.3.3; de-de; HUAWEI SONIC Build/HuaweiU8650) "
        "AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1"
    ),
    "ViewSonic": (
        "Mozilla/5.0 (Linux; U; Android 2.2.2; En-us; ViewSonic-ViewPad4 Build/FRG83G) "
        "AppleWebKit/533.1 (KHTML, Like Gecko) Version/4.0 Mobile Safari/533.1"
    ),
    "HTC Butterfly": (
        "Mozilla/5.0 (Linux; Android 4.1.1; HTC Butterfly Build/JRO03C) AppleWebKit/535.19 "
        "(KHTML, like Gecko) Chrome/18.0.1025.166 Mobile Safari/535.19"
    ),
    "FLUID": (
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; "
        "ARM; Touch; Qualcomm; FLUID)"
    ),
}


def read_corpus():
    with gzip.open(CORPUS, "rt", encoding="utf-8") as file:
        return [line for line in file.read().split("\n") if line and not line.startswith("#")]


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


@tagged("post_install", "-at_install")
class TestBrowserCorpus(BaseCase):
    """Finding 8: real browsers refused a number as crawlers."""

    def test_real_browsers_are_not_refused(self):
        corpus = read_corpus()
        self.assertGreater(len(corpus), 20000)
        refused = [text for text in corpus if clients.is_automated(text)]
        # the measured figure, in the test log
        _logger.info(
            "real browsers refused as automated: %s of %s (%.3f %%)",
            len(refused),
            len(corpus),
            100 * len(refused) / len(corpus),
        )
        self.assertLessEqual(len(refused), math.floor(len(corpus) * MAX_FALSE_REFUSALS), refused)
        for name, text in PHONES.items():
            with self.subTest(phone=name):
                self.assertIn(text, corpus)
                self.assertFalse(clients.is_automated(text), name)

    def test_the_crawler_list_is_case_sensitive(self):
        """As its authors define it: "Sonic" is a crawler, "sonic" is not."""
        sonic = "Mozilla/5.0 (compatible; Sonic/1.0; http://www.yama.info.waseda.ac.jp/~crawler/)"
        self.assertTrue(clients.is_automated(sonic))
        lower = sonic.replace("Sonic/", "sonic/").replace("crawler", "c")
        self.assertFalse(clients.is_automated(lower))
        butterfly = "Mozilla/5.0 (compatible; Butterfly/1.0; +http://x.example/)"
        self.assertTrue(clients.is_automated(butterfly))

    def test_every_crawler_of_the_list_is_still_refused(self):
        """The narrowed patterns still match every example the list gives
        for them; only the dropped ones (a phone's build id) let theirs
        through."""
        dropped = {p for p, narrowed in clients.CRAWLER_NARROWED.items() if narrowed is None}
        for item in crawleruseragents.CRAWLER_USER_AGENTS_DATA:
            for instance in item.get("instances", ()):
                if item["pattern"] in dropped:
                    continue
                with self.subTest(pattern=item["pattern"]):
                    self.assertTrue(clients.is_automated(instance), instance)
        for pattern, narrowed in clients.CRAWLER_NARROWED.items():
            # each narrowing is for a pattern the list still has
            self.assertIn(
                pattern, {i["pattern"] for i in crawleruseragents.CRAWLER_USER_AGENTS_DATA}
            )
            if narrowed:
                re.compile(narrowed)

    def test_our_automation_tools(self):
        for text in (
            "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.1",
            "Grafana k6/0.49.0",
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "HeadlessChrome/120.0.0.0 Safari/537.36"
            ),
            "LarbinWebCrawler (internet@bredband.net)",
            "Mozilla/4.0 (compatible; SpeedySpider; www.entireweb.com)",
            "ShowyouBot (http://showyou.com/crawler)",
        ):
            self.assertTrue(clients.is_automated(text), text)
        cubot = (
            "Mozilla/5.0 (Linux; Android 4.2.1; CUBOT ONE Build/JOP40D) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/27.0.1453.90 Mobile Safari/537.36"
        )
        self.assertFalse(clients.is_automated(cubot))


@tagged("post_install", "-at_install")
class TestAnonymousWriteCaps(CallTrackingCommon):
    """Finding 7: every anonymous write is capped per client."""

    def assign_as(self, remote_addr, url=GOOGLE_ADS_URL, **kwargs):
        return self.assign(url, user_agent=BROWSER_UA, remote_addr=remote_addr, **kwargs)

    def setUp(self):
        super().setUp()
        self.sessions_before = self.env["call.tracking.session"].search_count([])

    def client_sessions(self):
        """The sessions (rows) the test's anonymous requests wrote."""
        return self.env["call.tracking.session"].search_count([]) - self.sessions_before

    def test_static_and_default_answers_are_capped_per_client(self):
        # visits without a lease: thirty times the lease caps per half hour
        self.env["res.config.settings"].create(
            {"call_tracking_lease_cap_address": 1, "call_tracking_lease_cap_network": 2}
        ).execute()
        seo = {"url": PAGE_URL, "referrer": "https://www.google.com/"}
        for _visit in range(40):
            answer = self.assign_as("10.0.0.1", **seo)
            # the visitor sees the channel's number either way
            self.assertEqual((answer["mode"], answer["number"]), ("static", SEO))
        self.assertEqual(self.client_sessions(), 30, "per address")
        for _visit in range(40):
            answer = self.assign_as("10.0.0.2", url=PAGE_URL)  # the default channel
            self.assertEqual(answer["mode"], "static")
        self.assertEqual(self.client_sessions(), 60, "per network (/24)")
        self.assertEqual(self.assign_as("10.0.0.3", **seo)["number"], SEO)
        self.assertEqual(self.client_sessions(), 60)
        # another network is not concerned; the window moves on
        self.assign_as("10.0.1.1", **seo)
        self.assertEqual(self.client_sessions(), 61)
        self.time_passes(31)
        self.assign_as("10.0.0.3", **seo)
        self.assertEqual(self.client_sessions(), 62)

    def test_ipv6_caps_per_network_and_site(self):
        """A /48 holds 65,536 /64 networks: capped as a site too."""
        self.env["res.config.settings"].create(
            {
                "call_tracking_lease_cap_address": 0,
                "call_tracking_lease_cap_network": 1,
                "call_tracking_lease_cap_site": 2,
            }
        ).execute()
        self.assertEqual(self.assign_as("2001:db8:0:1::1")["mode"], "dynamic")
        self.assertEqual(self.assign_as("2001:db8:0:1::2")["mode"], "default", "one /64")
        self.assertEqual(self.assign_as("2001:db8:0:2::1")["mode"], "dynamic")
        third = self.assign_as("2001:db8:0:3::1")
        self.assertEqual((third["mode"], third["number"]), ("default", FALLBACK), "one /48")
        self.assertEqual(self.assign_as("2001:db8:1:1::1")["mode"], "dynamic", "another /48")
        # the site is kept only as a keyed hash, IPv4 clients have none
        sessions = (
            self.env["call.tracking.session"]
            .sudo()
            .search([("mode", "=", "dynamic"), ("client_net_hash", "!=", False)])
        )
        self.assertEqual(len(sessions), 3)
        self.assertEqual(len(set(sessions.mapped("client_site_hash"))), 2)
        self.assign_as("10.9.9.9", url=PAGE_URL)
        self.assertFalse(
            self.env["call.tracking.session"].sudo().search([], limit=1).client_site_hash
        )
