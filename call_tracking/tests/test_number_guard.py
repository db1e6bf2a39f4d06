"""Pools that cannot be drained, and what is kept of a visit: automated
clients get no lease, caps of live leases per client address and network,
the maximum lease lifetime, URL scrubbing, the device of a visit."""

import json
from datetime import datetime, timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.call_tracking.tools.clients import (
    client_hashes,
    is_automated,
    parse_device,
    scrub_url,
)

from .common import (
    BROWSER_UA,
    DEFAULT,
    FALLBACK,
    GOOGLE_ADS_URL,
    POOL,
    SEO,
    CallTrackingCommon,
    CallTrackingHttpCommon,
)

# user agents of crawlers, ad bots, headless browsers and HTTP libraries
AUTOMATED = (
    "AdsBot-Google (+http://www.google.com/adsbot.html)",
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; AdsBot-Google-Mobile; "
        "+http://www.google.com/mobile/adsbot.html)"
    ),
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; YandexDirect/3.0; +http://yandex.com/bots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
        "+https://openai.com/gptbot)"
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36"
    ),
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Wget/1.21.4",
    "Java/17.0.9",
    "Scrapy/2.11.0 (+https://scrapy.org)",
    "",
    "   ",
)
BROWSERS = (
    BROWSER_UA,
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/125.0.0.0 Mobile Safari/537.36"
    ),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:127.0) Gecko/20100101 Firefox/127.0",
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    ),
)
IPHONE = BROWSERS[1]


@tagged("post_install", "-at_install")
class TestClientTools(CallTrackingCommon):
    """The pure functions of tools/clients.py."""

    def test_automated_clients(self):
        for user_agent in AUTOMATED:
            self.assertTrue(is_automated(user_agent), user_agent)
        for user_agent in BROWSERS:
            self.assertFalse(is_automated(user_agent), user_agent)

    def test_device(self):
        self.assertEqual(parse_device(BROWSER_UA), ("desktop", "Windows", "Chrome"))
        self.assertEqual(parse_device(IPHONE), ("mobile", "iOS", "Mobile Safari"))
        self.assertEqual(parse_device(BROWSERS[2])[:2], ("mobile", "Android"))
        self.assertEqual(parse_device(BROWSERS[4])[0], "tablet")
        self.assertEqual(parse_device("")[0], "other")
        self.assertEqual(parse_device("\x01" * 300)[0], "other")

    def test_client_hashes(self):
        one = client_hashes(b"k", "192.0.2.10")
        self.assertEqual(len(one), 2)
        self.assertNotIn("192.0.2", "".join(one))
        same_net = client_hashes(b"k", "192.0.2.200")
        self.assertNotEqual(one[0], same_net[0])
        self.assertEqual(one[1], same_net[1], "one /24")
        self.assertNotEqual(one[1], client_hashes(b"k", "192.0.3.10")[1])
        self.assertEqual(one, client_hashes(b"k", "::ffff:192.0.2.10"), "IPv4-mapped")
        self.assertNotEqual(one, client_hashes(b"other key", "192.0.2.10"), "keyed")
        v6 = client_hashes(b"k", "2001:db8:1:2::1")
        self.assertEqual(v6[1], client_hashes(b"k", "2001:db8:1:2:ffff::9")[1], "one /64")
        self.assertNotEqual(v6[1], client_hashes(b"k", "2001:db8:1:3::1")[1])
        for bad in ("", None, "not an address", "999.1.1.1", "1" * 500, "10.0.0.1, 10.0.0.2"):
            self.assertIsNone(client_hashes(b"k", bad), bad)

    def test_scrub_url(self):
        self.assertEqual(
            scrub_url(
                "https://Shop.example.com/my/orders/7?access_token=abc-123&utm_source=google"
                "&utm_medium=cpc&gclid=G1&gbraid=B&wbraid=W&fbclid=F&yclid=Y&msclkid=M"
                "&page=2#section"
            ),
            "https://shop.example.com/my/orders/7?utm_source=google&utm_medium=cpc&gclid=G1"
            "&gbraid=B&wbraid=W&fbclid=F&yclid=Y&msclkid=M",
        )
        self.assertEqual(
            scrub_url("https://shop.example.com/web/reset_password?token=SECRET&db=x#top"),
            "https://shop.example.com/web/reset_password",
        )
        self.assertEqual(
            scrub_url("https://user:pw@shop.example.com/?ref=partner7&x=1", keep={"ref"}),
            "https://shop.example.com/?ref=partner7",
            "the landing parameters of the rules are kept, credentials never",
        )
        self.assertFalse(scrub_url(""))
        self.assertFalse(scrub_url("http://[::1"))


@tagged("post_install", "-at_install")
class TestNumberGuard(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["call.tracking.pool.stat"].search([("pool_id", "=", cls.pool.id)]).unlink()

    def assign_as(self, remote_addr, url=GOOGLE_ADS_URL, user_agent=BROWSER_UA, **kwargs):
        return self.assign(url, user_agent=user_agent, remote_addr=remote_addr, **kwargs)

    def set_caps(self, address, network, lifetime_hours=None):
        """The caps through the settings, as an administrator sets them."""
        values = {
            "call_tracking_lease_cap_address": address,
            "call_tracking_lease_cap_network": network,
        }
        if lifetime_hours:
            values["call_tracking_lease_lifetime_hours"] = lifetime_hours
        self.env["res.config.settings"].create(values).execute()
        self.assertEqual(self.company.call_tracking_lease_cap_address, address)

    def refused(self):
        self.env["call.tracking.pool.stat"]._refresh(self.pool)
        stats = self.env["call.tracking.pool.stat"].search([("pool_id", "=", self.pool.id)])
        return sum(stats.mapped("refused_crawlers")), sum(stats.mapped("refused_over_cap"))

    def test_settings_defaults(self):
        company = self.env["res.company"].create({"name": "Fresh CT company"})
        self.assertEqual(company.call_tracking_lease_cap_address, 3)
        self.assertEqual(company.call_tracking_lease_cap_network, 10)
        self.assertEqual(company.call_tracking_lease_lifetime_hours, 4.0)

    def test_automated_clients_get_no_lease_and_no_session(self):
        sessions = self.env["call.tracking.session"].search_count([])
        for index, user_agent in enumerate(AUTOMATED):
            answer = self.assign_as(
                f"198.51.100.{index + 1}",
                url=f"{GOOGLE_ADS_URL}&gclid=bot{index}",
                user_agent=user_agent,
            )
            self.assertEqual(answer["mode"], "default", user_agent)
            self.assertEqual(answer["number"], FALLBACK, "the pool's fallback number")
            self.assertTrue(answer["visitor"])
            self.assertFalse(self.sessions(answer["visitor"]))
        self.assertEqual(self.env["call.tracking.session"].search_count([]), sessions)
        self.assertFalse(self.pool_numbers.filtered("is_leased"))
        # a static channel's crawler sees its number, still without a session
        answer = self.assign_as("198.51.100.1", url=None, user_agent="curl/8.5.0",
                                referrer="https://www.google.com/search?q=x")  # fmt: skip
        self.assertEqual((answer["mode"], answer["number"]), ("static", SEO))
        self.assertEqual(self.env["call.tracking.session"].search_count([]), sessions)
        self.assertEqual(self.refused(), (len(AUTOMATED), 0), "static answers are no refusal")
        # a browser still gets a lease
        self.assertEqual(self.assign_as("198.51.100.1")["mode"], "dynamic")
        self.assertEqual(self.refused(), (len(AUTOMATED), 0))

    def test_query_count_with_every_check(self):
        """The checks add no query for a new dynamic visitor (the client rows
        and the count are part of the lease statement) nor for a ping."""
        self.set_caps(1, 10)
        self.assign_as("10.0.0.9", url=None)  # warm the setup and guard caches
        self.env.invalidate_all()
        # Odoo's savepoint, the lease statement, the release
        with self.assertQueryCount(3):
            first = self.assign_as("10.0.0.1")
        self.assertEqual(first["mode"], "dynamic")
        self.env.invalidate_all()
        with self.assertQueryCount(1):  # visitor state and extension in one statement
            again = self.assign_as("10.0.0.1", url=None, key=first["visitor"])
        self.assertEqual(again["number"], first["number"])
        self.env.invalidate_all()
        with self.assertQueryCount(1):  # the refusal counter
            self.assign_as("10.0.0.2", user_agent="curl/8.5.0")
        self.env.invalidate_all()
        # the savepoint, the lease statement refuses, the release, the counter
        with self.assertQueryCount(4):
            over = self.assign_as("10.0.0.1", url=f"{GOOGLE_ADS_URL}&gclid=2")
        self.assertEqual(over["mode"], "default")

    def test_a_crawler_with_a_visitor_key_gets_no_lease(self):
        answer = self.assign_as("198.51.100.1")
        self.assertEqual(answer["mode"], "dynamic")
        bot = self.assign_as("198.51.100.2", key=answer["visitor"], user_agent="HeadlessChrome")
        self.assertEqual(bot["mode"], "default")
        self.assertEqual(len(self.sessions(answer["visitor"])), 1)

    def test_cap_per_address_and_network(self):
        self.set_caps(1, 2)
        first = self.assign_as("10.0.0.1")
        self.assertEqual(first["mode"], "dynamic")
        second = self.assign_as("10.0.0.1", url=f"{GOOGLE_ADS_URL}&gclid=2")
        self.assertEqual((second["mode"], second["number"]), ("default", FALLBACK))
        self.assertFalse(self.sessions(second["visitor"]), "a refusal creates no session")
        # the same visitor coming back keeps their lease
        again = self.assign_as("10.0.0.1", key=first["visitor"])
        self.assertEqual(again["number"], first["number"])
        # a neighbour in the same /24 until the network's cap
        self.assertEqual(self.assign_as("10.0.0.2")["mode"], "dynamic")
        self.assertEqual(self.assign_as("10.0.0.3")["mode"], "default")
        # another network is not concerned
        self.assertEqual(self.assign_as("10.0.1.1")["mode"], "dynamic")
        self.assertEqual(self.refused(), (0, 2))
        # the address is kept only as keyed hashes
        sessions = (
            self.env["call.tracking.session"].sudo().search([("client_net_hash", "!=", False)])
        )
        self.assertEqual(len(sessions), 3)
        self.assertEqual(len(set(sessions.mapped("client_net_hash"))), 2)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM call_tracking_session s WHERE row_to_json(s.*)::text LIKE %s",
                "%10.0.%",
            )
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # leases that lapsed no longer count
        self.time_passes(31)
        self.assertEqual(self.assign_as("10.0.0.3")["mode"], "dynamic")

    def test_cap_zero_is_no_limit_and_ipv6_networks(self):
        self.set_caps(0, 2)
        self.assertEqual(self.assign_as("2001:db8::1")["mode"], "dynamic")
        self.assertEqual(self.assign_as("2001:db8::1", url=FACEBOOK)["mode"], "dynamic")
        self.assertEqual(self.assign_as("2001:db8::2")["mode"], "default", "one /64")
        self.assertEqual(self.assign_as("2001:db8:0:1::1")["mode"], "dynamic")

    def test_unreadable_address_gets_no_lease(self):
        for address in ("", "unknown", "300.1.1.1", "x" * 1000):
            answer = self.assign_as(address)
            self.assertEqual(answer["mode"], "default", address)
            self.assertFalse(self.sessions(answer["visitor"]))
        self.assertEqual(self.refused(), (0, 4))

    def test_not_a_web_request(self):
        """Replays and simulations pass no user agent and no address: no
        check, no cap."""
        for index in range(3):
            self.assertEqual(self.assign(f"{GOOGLE_ADS_URL}&gclid={index}")["mode"], "dynamic")

    def test_lease_lifetime(self):
        self.set_caps(3, 10, lifetime_hours=1)
        t0 = datetime(2026, 11, 30, 9, 0, 0)
        first = self.assign_as("10.0.0.1", now=t0)
        self.assertEqual(first["expires_in"], 30 * 60)
        key = first["visitor"]
        ping = self.assign_as("10.0.0.1", key=key, url=None, now=t0 + timedelta(minutes=25))
        self.assertEqual(ping["expires_in"], 30 * 60)
        ping = self.assign_as("10.0.0.1", key=key, url=None, now=t0 + timedelta(minutes=50))
        self.assertEqual(ping["number"], first["number"])
        self.assertEqual(ping["expires_in"], 10 * 60, "never beyond assigned_at + 1 hour")
        ping = self.assign_as("10.0.0.1", key=key, url=None, now=t0 + timedelta(minutes=59))
        self.assertEqual(ping["expires_in"], 60)
        session = self.sessions(key)
        self.assertEqual(session.expires_at, t0 + timedelta(hours=1))
        self.assertEqual(self.number.lease_expires_at, t0 + timedelta(hours=1))
        # past the lifetime the lease is over: a later page view is a new session
        self.assign_as("10.0.0.1", key=key, url=None, now=t0 + timedelta(minutes=61))
        sessions = self.sessions(key)
        self.assertEqual(len(sessions), 2)
        self.assertEqual(sessions[1].expires_at, t0 + timedelta(hours=1), "the first one ended")

    def test_urls_are_scrubbed(self):
        self.env["call.tracking.channel.rule"].create(
            {"channel_id": self.channel_google.id, "landing_param": "promo"}
        )
        answer = self.assign_as(
            "10.0.0.1",
            url="https://shop.example.com/my/orders/12?access_token=0123abcd&utm_source=google"
            "&utm_medium=cpc&gclid=G&promo=spring&email=a%40b.c#pay",
            referrer="https://shop.example.com/web/reset_password?token=SECRET123&db=x",
        )
        session = self.sessions(answer["visitor"])
        self.assertEqual(
            session.landing_url,
            "https://shop.example.com/my/orders/12?utm_source=google&utm_medium=cpc&gclid=G"
            "&promo=spring",
        )
        self.assertEqual(session.referrer, "https://shop.example.com/web/reset_password")
        other = self.assign_as(
            "10.0.1.1",
            url=f"{GOOGLE_ADS_URL}&gclid=x",
            referrer="https://partner.example.org/web/reset_password?token=SECRET123#x",
        )
        self.assertEqual(
            self.sessions(other["visitor"]).referrer,
            "https://partner.example.org/web/reset_password",
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM call_tracking_session "
                "WHERE landing_url LIKE %s OR referrer LIKE %s OR landing_url LIKE %s",
                "%access_token%",
                "%SECRET123%",
                "%#%",
            )
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_device_of_the_visit_reaches_the_report(self):
        answer = self.assign_as("10.0.0.1", user_agent=IPHONE)
        session = self.sessions(answer["visitor"])
        self.assertRecordValues(
            session,
            [{"device_class": "mobile", "os_name": "iOS", "browser": "Mobile Safari"}],
        )
        self.call_time = session.assigned_at + timedelta(minutes=1)
        call = self._process(self._event(to=answer["number"]))
        self.assertEqual((call.device_class, call.os_name), ("mobile", "iOS"))
        self.env.flush_all()
        Report = self.env["call.tracking.call.report"]
        groups = Report._read_group(
            [("call_id", "=", call.id)], ["device_class", "os_name", "browser"], ["call_count:sum"]
        )
        self.assertEqual(groups, [("mobile", "iOS", "Mobile Safari", 1)])


FACEBOOK = "https://shop.example.com/offers?fbclid=IwAR0abc"


@tagged("post_install", "-at_install")
class TestNumberGuardHttp(CallTrackingHttpCommon):
    """Through the route: the user agent and the address Odoo sees."""

    def post_number(self, body, headers=None):
        return self.url_open(
            "/call_tracking/number",
            data=json.dumps(body),
            headers=dict({"Content-Type": "application/json"}, **(headers or {})),
        )

    def test_user_agents(self):
        website = self.env["website"].get_current_website()
        body = {"url": GOOGLE_ADS_URL, "website_id": website.id}
        for user_agent in ("", "curl/8.5.0", "python-requests/2.31"):
            resp = self.post_number(body, {"User-Agent": user_agent})
            self.assertEqual(resp.status_code, 200)
            self.assertEqual(resp.json()["mode"], "default", user_agent)
            self.assertFalse(self.sessions(resp.json()["visitor"]))
        # a huge user agent is cut, never an error
        resp = self.post_number(body, {"User-Agent": "Mozilla/5.0 " + "x" * 20000})
        self.assertIn(resp.status_code, (200, 400, 431))
        self.assertLess(resp.status_code, 500)
        resp = self.post_number(body)
        self.assertEqual(resp.json()["mode"], "dynamic")
        session = self.sessions(resp.json()["visitor"]).sudo()
        self.assertTrue(session.client_hash)
        self.assertEqual(session.device_class, "desktop")

    def test_cap_through_the_route(self):
        self.company.call_tracking_lease_cap_address = 1
        website = self.env["website"].get_current_website()
        first = self.post_number({"url": GOOGLE_ADS_URL, "website_id": website.id}).json()
        self.assertEqual(first["mode"], "dynamic")
        second = self.post_number({"url": FACEBOOK, "website_id": website.id}).json()
        self.assertEqual((second["mode"], second["number"]), ("default", FALLBACK))
        self.assertNotIn(second["number"], POOL)
        self.assertNotEqual(second["number"], DEFAULT)
