import importlib.util
from datetime import datetime, timedelta

import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL, file_path, mute_logger

from .common import (
    BROWSER_UA,
    DEFAULT,
    DIRECT,
    FACEBOOK_URL,
    FALLBACK,
    GOOGLE_ADS_URL,
    PAGE_URL,
    POOL,
    SAME_SITE,
    SEO,
    CallTrackingCommon,
)

ANSWER_KEYS = {"number", "display", "href", "mode", "visitor", "expires_in", "channel"}


@tagged("post_install", "-at_install")
class TestRecognition(CallTrackingCommon):
    def recognise(self, url=None, referrer=None, company=None):
        return self.env["call.tracking.channel"]._recognise(
            company or self.company, url=url, referrer=referrer
        )

    def test_utm_rules(self):
        self.assertEqual(self.recognise(GOOGLE_ADS_URL), self.channel_google)
        self.assertEqual(
            self.recognise("https://x.test/?utm_source=AdWords&utm_medium=CPC"),
            self.channel_google,
            "values are compared case-insensitively, any listed value matches",
        )
        # all conditions of a rule must hold: google without cpc is not Google Ads
        self.assertEqual(
            self.recognise("https://x.test/?utm_source=google&utm_medium=email"),
            self.channel_direct,
        )
        self.assertEqual(
            self.recognise("https://x.test/?utm_source=facebook"), self.channel_facebook
        )

    def test_click_ids(self):
        self.assertEqual(self.recognise("https://x.test/?gclid=Cj0KCQ"), self.channel_google)
        self.assertEqual(self.recognise(FACEBOOK_URL), self.channel_facebook)
        self.assertEqual(
            self.recognise("https://x.test/?gclid="), self.channel_direct, "an empty click id"
        )

    def test_referrers(self):
        for referrer in (
            "https://www.google.com/",
            "https://www.google.co.uk/search?q=x",
            "https://duckduckgo.com/",
            "https://yandex.ru/search",
        ):
            self.assertEqual(self.recognise(PAGE_URL, referrer), self.channel_seo, referrer)
        self.assertEqual(self.recognise(PAGE_URL, "https://notgoogle.com/"), self.channel_direct)
        # a click on a Google ad comes from google.com too: priority decides
        self.assertEqual(
            self.recognise(GOOGLE_ADS_URL, "https://www.google.com/"), self.channel_google
        )

    def test_priority_and_cache_invalidation(self):
        url = "https://x.test/?utm_source=facebook&gclid=abc"
        self.assertEqual(self.recognise(url), self.channel_google)
        self.channel_facebook.sequence = 1
        self.assertEqual(self.recognise(url), self.channel_facebook, "the cache was cleared")
        self.channel_facebook.rule_ids.filtered("utm_source").utm_source = "meta"
        self.channel_facebook.rule_ids.filtered("landing_param").unlink()
        self.assertEqual(self.recognise(url), self.channel_google)

    def test_default_and_offline(self):
        self.assertEqual(self.recognise(PAGE_URL, ""), self.channel_direct)
        self.assertEqual(
            self.recognise("https://x.test/?utm_source=billboard"),
            self.channel_direct,
            "offline channels are never recognised on the website",
        )
        self.channel_direct.active = False
        self.assertFalse(self.recognise(PAGE_URL))

    def test_companies_are_separate(self):
        self.assertEqual(
            self.recognise("https://x.test/?utm_source=google", company=self.company_2),
            self.channel_2,
        )
        self.assertFalse(self.recognise(GOOGLE_ADS_URL, company=self.company_2) - self.channel_2)


@tagged("post_install", "-at_install")
class TestAssignment(CallTrackingCommon):
    def test_new_dynamic_visitor(self):
        answer = self.assign(GOOGLE_ADS_URL, "https://www.google.com/", user_agent=BROWSER_UA)
        self.assertEqual(set(answer), ANSWER_KEYS)
        self.assertEqual(answer["mode"], "dynamic")
        self.assertEqual(answer["channel"], "Google Ads")
        self.assertEqual(answer["number"], POOL[0], "never used numbers first, in order")
        self.assertEqual(answer["href"], "tel:" + POOL[0])
        self.assertEqual(answer["display"], "(212) 555-0121")
        self.assertEqual(answer["expires_in"], 30 * 60)
        self.assertGreaterEqual(len(answer["visitor"]), 32)
        session = self.sessions(answer["visitor"])
        self.assertRecordValues(
            session,
            [
                {
                    "mode": "dynamic",
                    "channel_id": self.channel_google.id,
                    "pool_id": self.pool.id,
                    "number_id": self.pool_numbers[0].id,
                    "utm_source": "google",
                    "utm_medium": "cpc",
                    "utm_campaign": "spring",
                    "referrer": "https://www.google.com/",
                    "landing_url": GOOGLE_ADS_URL,
                    # only what the reports need of the user agent
                    "device_class": "desktop",
                    "os_name": "Windows",
                    "browser": "Chrome",
                }
            ],
        )
        self.assertEqual(self.pool_numbers[0].lease_session_id, session)
        self.assertEqual(self.pool_numbers[0].lease_expires_at, session.expires_at)
        self.assertTrue(self.pool_numbers[0].is_leased)
        # the user agent itself is kept nowhere in the session's row
        query = SQL(
            "SELECT row_to_json(s)::text FROM call_tracking_session s WHERE id = %s", session.id
        )
        row = self.env.execute_query(query)[0][0]
        self.assertIn("Windows", row)
        self.assertNotIn(BROWSER_UA, row)

    def test_migration_drops_the_user_agent(self):
        """Sessions of 18.0.1.0.0 kept the raw user agent: the migration to
        18.0.1.1.0 drops the column and its contents."""
        cr = self.env.cr
        cr.execute("ALTER TABLE call_tracking_session ADD COLUMN user_agent varchar")
        path = file_path("call_tracking/migrations/18.0.1.1.0/pre-migration.py")
        spec = importlib.util.spec_from_file_location("call_tracking_pre_migration", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(cr, "18.0.1.0.0")
        cr.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'call_tracking_session' AND column_name = 'user_agent'"
        )
        self.assertFalse(cr.fetchall())

    def test_same_key_extends_hold(self):
        first = self.assign(GOOGLE_ADS_URL)
        self.time_passes(20)
        session = self.sessions(first["visitor"])
        old_expiry = session.expires_at
        # internal navigation: no UTMs, same-site referrer
        again = self.assign(PAGE_URL, SAME_SITE, key=first["visitor"])
        self.assertEqual(again["number"], first["number"])
        self.assertEqual(again["visitor"], first["visitor"])
        self.assertEqual(again["mode"], "dynamic")
        self.assertEqual(again["channel"], "Google Ads")
        self.assertEqual(again["expires_in"], 30 * 60)
        self.assertEqual(self.sessions(first["visitor"]), session, "no new session")
        self.assertGreater(session.expires_at, old_expiry)
        self.assertEqual(self.pool_numbers[0].lease_expires_at, session.expires_at)
        # a ping with the landing URL again is the same touch
        self.assertEqual(
            self.assign(GOOGLE_ADS_URL, key=first["visitor"])["number"], first["number"]
        )
        self.assertEqual(len(self.sessions(first["visitor"])), 1)

    def test_idle_longest_first(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            UPDATE call_tracking_number SET last_released_at = CASE id
                WHEN %(n0)s THEN (now() AT TIME ZONE 'UTC') - interval '10 minutes'
                WHEN %(n1)s THEN (now() AT TIME ZONE 'UTC') - interval '50 minutes'
                WHEN %(n2)s THEN (now() AT TIME ZONE 'UTC') - interval '30 minutes' END
             WHERE id IN %(ids)s
                """,
                n0=self.pool_numbers[0].id,
                n1=self.pool_numbers[1].id,
                n2=self.pool_numbers[2].id,
                ids=tuple(self.pool_numbers.ids),
            )
        )
        self.env.invalidate_all()
        numbers = [self.assign(FACEBOOK_URL)["number"] for _i in range(3)]
        self.assertEqual(numbers, [POOL[1], POOL[2], POOL[0]])

    def test_exhaustion_fallback_and_stats(self):
        answers = [self.assign(GOOGLE_ADS_URL) for _i in range(3)]
        self.assertEqual(sorted(a["number"] for a in answers), sorted(POOL))
        full = self.assign(FACEBOOK_URL)
        self.assertEqual(full["mode"], "default")
        self.assertEqual(full["number"], FALLBACK)
        self.assertEqual(full["channel"], "Facebook Ads")
        self.assertEqual(full["expires_in"], 30 * 60)
        # the exhausted visitor keeps the fallback number during the hold...
        again = self.assign(PAGE_URL, SAME_SITE, key=full["visitor"])
        self.assertEqual(again["number"], FALLBACK)
        self.assertEqual(len(self.sessions(full["visitor"])), 1)
        # ...a pool without its own fallback number answers the company's
        self.pool.default_number = False
        self.assertEqual(self.assign(GOOGLE_ADS_URL)["number"], DEFAULT)
        # hourly statistics: 5 arrivals, 2 of them exhausted, 3 leases at once
        Stat = self.env["call.tracking.pool.stat"]
        Stat._refresh(self.pool)
        stat = Stat.search([("pool_id", "=", self.pool.id)])
        self.assertRecordValues(
            stat, [{"arrivals": 5, "exhaustions": 2, "peak_leases": 3, "number_count": 3}]
        )
        Stat._refresh(self.pool)
        self.assertEqual(Stat.search_count([("pool_id", "=", self.pool.id)]), 1, "idempotent")
        self.assertEqual(stat.arrivals, 5)

    def test_expired_lease_is_leased_again(self):
        first = self.assign(GOOGLE_ADS_URL)
        self.assign(GOOGLE_ADS_URL)
        self.assign(GOOGLE_ADS_URL)
        self.time_passes(31)
        # the first lease lapsed first: it is idle the longest
        newcomer = self.assign(FACEBOOK_URL)
        self.assertEqual(newcomer["number"], first["number"])
        self.assertEqual(newcomer["mode"], "dynamic")
        old_session = self.sessions(first["visitor"])
        new_session = self.sessions(newcomer["visitor"])
        self.assertLessEqual(old_session.expires_at, new_session.assigned_at)
        self.assertEqual(self.pool_numbers[0].lease_session_id, new_session)
        # the first visitor comes back: their number is taken, they get another
        back = self.assign(PAGE_URL, key=first["visitor"])
        self.assertEqual(back["visitor"], first["visitor"])
        self.assertEqual(back["mode"], "dynamic")
        self.assertNotEqual(back["number"], first["number"])
        self.assertEqual(back["channel"], "Google Ads", "a direct return keeps the channel")

    def test_returning_visitor_gets_previous_number(self):
        first = self.assign(GOOGLE_ADS_URL + "&utm_term=plumber")
        self.time_passes(45)
        self.assign(FACEBOOK_URL)  # takes the number idle the longest, not ours
        back = self.assign("https://shop.example.com/", key=first["visitor"])
        self.assertEqual(back["number"], first["number"])
        sessions = self.sessions(first["visitor"])
        self.assertEqual(len(sessions), 2, "a new lease is a new session")
        self.assertRecordValues(
            sessions[0],
            [
                {
                    "channel_id": self.channel_google.id,
                    "utm_source": "google",
                    "utm_term": "plumber",
                    "landing_url": "https://shop.example.com/",
                }
            ],
        )

    def test_visitor_back_from_a_static_channel_gets_previous_number(self):
        first = self.assign(GOOGLE_ADS_URL)
        # organic search: a static number, the pool number is released
        seo = self.assign(PAGE_URL, "https://www.bing.com/", key=first["visitor"])
        self.assertEqual(seo["mode"], "static")
        self.assertFalse(self.pool_numbers[0].is_leased)
        # a new ad click: their former number, not the one idle the longest
        back = self.assign(GOOGLE_ADS_URL, key=first["visitor"])
        self.assertEqual((back["mode"], back["number"]), ("dynamic", first["number"]))
        self.assertEqual(len(self.sessions(first["visitor"])), 3)

    def test_new_touch_moves_the_visitor(self):
        first = self.assign(GOOGLE_ADS_URL)
        old_session = self.sessions(first["visitor"])
        # a Facebook click: same pool, the visitor keeps the number on the new channel
        moved = self.assign(FACEBOOK_URL, key=first["visitor"])
        self.assertEqual(moved["channel"], "Facebook Ads")
        self.assertEqual(moved["number"], first["number"])
        new_session = self.sessions(first["visitor"]) - old_session
        self.assertEqual(new_session.fbclid, "IwAR0abc")
        self.assertFalse(new_session.utm_source)
        self.assertEqual(old_session.expires_at, new_session.assigned_at, "lease handed over")
        self.assertEqual(self.pool_numbers[0].lease_session_id, new_session)
        # a direct return keeps Facebook Ads
        self.assertEqual(self.assign(PAGE_URL, key=first["visitor"])["channel"], "Facebook Ads")
        # organic search: static SEO number, the pool number is free again
        seo = self.assign(PAGE_URL, "https://www.bing.com/", key=first["visitor"])
        self.assertEqual((seo["mode"], seo["number"], seo["channel"]), ("static", SEO, "SEO"))
        self.assertFalse(self.pool_numbers[0].is_leased)
        self.assertFalse(new_session.is_live)
        # an unrecognised referral keeps the last channel
        referral = self.assign(PAGE_URL, "https://blog.example.org/", key=first["visitor"])
        self.assertEqual(referral["channel"], "SEO")

    def test_static_and_default(self):
        seo = self.assign(PAGE_URL, "https://www.google.com/")
        self.assertEqual(seo["mode"], "static")
        self.assertEqual(seo["number"], SEO)
        self.assertEqual(seo["display"], "(212) 555-0111")
        for _i in range(3):
            again = self.assign(PAGE_URL, SAME_SITE, key=seo["visitor"])
            self.assertEqual(again["number"], SEO)
        self.assertEqual(len(self.sessions(seo["visitor"])), 1, "one session per visitor key")
        self.assertEqual(self.sessions(seo["visitor"]).number_id, self.number_seo)
        direct = self.assign(PAGE_URL)
        self.assertEqual((direct["mode"], direct["number"]), ("static", DIRECT))
        self.assertEqual(direct["channel"], "Direct")
        self.channel_direct.active = False
        nothing = self.assign(PAGE_URL)
        self.assertEqual((nothing["mode"], nothing["number"]), ("default", DEFAULT))
        self.assertIsNone(nothing["channel"])
        self.company.call_tracking_default_number = False
        empty = self.assign(PAGE_URL)
        self.assertEqual(set(empty), ANSWER_KEYS)
        self.assertIsNone(empty["number"])
        self.assertIsNone(empty["href"])

    def test_national_or_international_display(self):
        self.company.call_tracking_display_format = "international"
        self.assertEqual(self.assign(GOOGLE_ADS_URL)["display"], "+1 212-555-0121")
        self.company.call_tracking_display_format = "national"
        answer = self.assign(PAGE_URL, "https://www.google.com/")
        self.assertEqual(answer["display"], "(212) 555-0111")

    def test_unknown_or_foreign_keys_get_a_new_key(self):
        first = self.assign(GOOGLE_ADS_URL)
        forged = self.assign(GOOGLE_ADS_URL, key="made-up-key")
        self.assertNotEqual(forged["visitor"], "made-up-key")
        self.assertNotEqual(forged["number"], first["number"])
        other = self.assign(PAGE_URL, key=first["visitor"], company=self.company_2)
        self.assertNotEqual(other["visitor"], first["visitor"], "keys are per company")
        self.assertEqual(other["number"], "+3225551234")
        self.assertEqual(other["mode"], "default")

    def test_query_count(self):
        self.assign(PAGE_URL)  # warm the setup cache
        self.env.invalidate_all()
        # Odoo's savepoint, the lease statement, the release
        with self.assertQueryCount(3):
            first = self.assign(GOOGLE_ADS_URL)
        self.env.invalidate_all()
        with self.assertQueryCount(1):  # visitor state and extension in one statement
            again = self.assign(PAGE_URL, SAME_SITE, key=first["visitor"])
        self.assertEqual((again["number"], again["mode"]), (first["number"], "dynamic"))
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            self.assign(PAGE_URL, "https://www.google.com/")

    def test_lease_exclusion_constraint(self):
        """Even with a bug, PostgreSQL refuses two overlapping leases of one
        number."""
        first = self.assign(GOOGLE_ADS_URL)
        session = self.sessions(first["visitor"])
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.ExclusionViolation),
            self.env.cr.savepoint(),
        ):
            self.env["call.tracking.session"].create(
                {
                    "visitor_key": "intruder",
                    "company_id": self.company.id,
                    "mode": "dynamic",
                    "number_id": session.number_id.id,
                    "pool_id": self.pool.id,
                    "assigned_at": session.assigned_at,
                    "expires_at": session.expires_at,
                }
            )
            self.env.flush_all()

    def test_purge(self):
        # the demo data's sessions of this company are older than 7 days too
        self.env["call.tracking.session"].search([("company_id", "=", self.company.id)]).unlink()
        old = self.assign(GOOGLE_ADS_URL)
        self.time_passes(60 * 24 * 10)
        live = self.assign(GOOGLE_ADS_URL)
        self.company.call_tracking_session_retention_days = 7
        done = self.env["call.tracking.session"]._cron_purge()
        self.assertEqual(done, 1, "only the session older than the retention")
        self.assertFalse(self.sessions(old["visitor"]))
        self.assertTrue(self.sessions(live["visitor"]))
        self.assertEqual(self.env["call.tracking.session"]._cron_purge(), 0)


@tagged("post_install", "-at_install")
class TestClock(CallTrackingCommon):
    """The assignment, the lease SQL, the attribution and the pool
    statistics take the clock as a parameter: traffic at any time can be
    replayed through them."""

    T0 = datetime(2026, 1, 5, 10, 0, 0)

    def at(self, minutes, seconds=0):
        return self.T0 + timedelta(minutes=minutes, seconds=seconds)

    def test_leases_follow_the_given_clock(self):
        first = self.assign(GOOGLE_ADS_URL, now=self.T0.replace(microsecond=700000))
        self.assertEqual((first["number"], first["expires_in"]), (POOL[0], 30 * 60))
        session = self.sessions(first["visitor"])
        self.assertEqual(session.assigned_at, self.T0, "whole seconds")
        self.assertEqual(session.expires_at, self.at(30))
        # a page view 10 minutes later extends the hold from then
        again = self.assign(PAGE_URL, SAME_SITE, key=first["visitor"], now=self.at(10))
        self.assertEqual((again["number"], again["expires_in"]), (POOL[0], 30 * 60))
        self.assertEqual(session.expires_at, self.at(40))
        self.assertEqual(self.pool_numbers[0].lease_expires_at, self.at(40))
        self.assertEqual(session.last_seen_at, self.at(10))
        # later visitors take the numbers never used, then the fallback
        second = self.assign(FACEBOOK_URL, now=self.at(11))
        third = self.assign(GOOGLE_ADS_URL, now=self.at(12))
        full = self.assign(GOOGLE_ADS_URL, now=self.at(13))
        self.assertEqual([second["number"], third["number"]], [POOL[1], POOL[2]])
        self.assertEqual((full["mode"], full["number"]), ("default", FALLBACK))
        # at 42' and 43', the first lease (to 40') then the second (to 41')
        # have lapsed: the number idle the longest goes first
        late = self.assign(GOOGLE_ADS_URL, now=self.at(42))
        later = self.assign(GOOGLE_ADS_URL, now=self.at(42, 30))
        self.assertEqual([late["number"], later["number"]], [POOL[0], POOL[1]])
        # a return of the second visitor at 50' (their lease lapsed at 41')
        # finds their number taken and gets the last free one
        back = self.assign(FACEBOOK_URL, key=second["visitor"], now=self.at(50))
        self.assertEqual((back["visitor"], back["number"]), (second["visitor"], POOL[2]))

    def test_release_and_purge_at_the_given_clock(self):
        first = self.assign(GOOGLE_ADS_URL, now=self.T0)
        # a new touch 5 minutes later ends the lease then, and leases again
        moved = self.assign(FACEBOOK_URL, key=first["visitor"], now=self.at(5))
        self.assertEqual(moved["number"], POOL[0], "the visitor keeps their number")
        old, new = self.sessions(first["visitor"]).sorted("id")
        self.assertEqual(old.expires_at, self.at(5))
        self.assertEqual((new.assigned_at, new.expires_at), (self.at(5), self.at(35)))
        # every session of the company is older than a year at the database's
        # clock, none at the replayed clock
        self.env["call.tracking.session"].search(
            [("company_id", "=", self.company.id), ("id", "not in", (old + new).ids)]
        ).unlink()
        self.company.call_tracking_session_retention_days = 1
        Session = self.env["call.tracking.session"]
        self.assertEqual(Session._cron_purge(now=self.at(20)), 0)
        self.assertEqual(Session._cron_purge(now=self.at(60 * 24 * 2)), 2)

    def test_attribution_and_statistics_at_the_given_clock(self):
        first = self.assign(GOOGLE_ADS_URL, now=self.T0)
        self.assign(GOOGLE_ADS_URL, now=self.at(1))
        self.assign(GOOGLE_ADS_URL, now=self.at(2))
        self.assign(GOOGLE_ADS_URL, now=self.at(3))  # exhausted
        session = self.sessions(first["visitor"])
        call = self.env["call.tracking.call"].create(
            {
                "provider_id": self.provider.id,
                "provider_call_id": "clock-1",
                "company_id": self.company.id,
                "called_number": POOL[0],
            }
        )
        live = call._get_attribution_values(now=self.at(20))
        self.assertEqual((live["session_id"], live["attribution_method"]), (session.id, "session"))
        lapsed = call._get_attribution_values(now=self.at(45))
        self.assertEqual(lapsed["attribution_method"], "session_expired")
        before = call._get_attribution_values(now=self.at(-1))
        self.assertFalse(before["session_id"], "no session of the number yet")
        # the call's own start wins over the clock
        started = call._get_attribution_values({"start_at": self.at(20)}, now=self.at(45))
        self.assertEqual(started["attribution_method"], "session")

        Stat = self.env["call.tracking.pool.stat"]
        Stat._refresh(self.pool, since=self.T0, now=self.at(90))
        stats = Stat.search([("pool_id", "=", self.pool.id)])
        self.assertEqual(stats.mapped("hour"), [self.T0])
        self.assertEqual((stats.arrivals, stats.exhaustions, stats.peak_leases), (4, 1, 3))

    def test_replay_traffic(self):
        """Recorded visits and calls go through the real assignment and
        webhook processing at their own times."""
        events = [
            {"kind": "visit", "at": self.T0, "visitor": "a", "url": GOOGLE_ADS_URL},
            {"kind": "visit", "at": self.at(1), "visitor": "b", "url": FACEBOOK_URL},
            {"kind": "visit", "at": self.at(8), "visitor": "a", "url": PAGE_URL,
             "referrer": SAME_SITE},
            {"kind": "call", "at": self.at(9), "visitor": "a", "call_id": "r-1",
             "caller": "+12025550143", "ring": 5, "talk": 60, "status": "answered"},
            {"kind": "call", "at": self.at(45), "visitor": "b", "call_id": "r-2",
             "caller": "+12025550144", "ring": 20, "status": "missed"},
            {"kind": "call", "at": self.at(50), "call_id": "r-3", "to": SEO,
             "caller": "+12025550145", "ring": 5, "talk": 30},
            {"kind": "judge", "at": self.at(60), "call_id": "r-1", "quality": "targeted",
             "revenue": 900, "outcome": "won"},
        ]  # fmt: skip
        Replay = self.env["call.tracking.replay"]
        result = Replay._replay_traffic(self.company, self.provider, events)
        first, second, _static = result["calls"]
        self.assertEqual(result["answers"]["a"]["number"], POOL[0])
        self.assertRecordValues(
            result["calls"],
            [
                {"called_number": POOL[0], "attribution_method": "session",
                 "channel_id": self.channel_google.id, "start_at": self.at(9),
                 "status": "answered", "talk_duration": 60},
                {"called_number": POOL[1], "attribution_method": "session_expired",
                 "channel_id": self.channel_facebook.id, "start_at": self.at(45),
                 "status": "missed", "talk_duration": 0},
                {"called_number": SEO, "attribution_method": "static",
                 "channel_id": self.channel_seo.id, "start_at": self.at(50),
                 "status": "answered", "talk_duration": 30},
            ],
        )  # fmt: skip
        self.assertEqual(first.session_id, self.sessions(result["answers"]["a"]["visitor"]))
        self.assertEqual(first.create_date, self.at(9), "dated at the replayed time")
        self.assertEqual(first.lead_id.create_date, self.at(9))
        self.assertEqual(first.lead_id.call_quality, "targeted")
        self.assertEqual(first.lead_id.expected_revenue, 900)
        self.assertTrue(first.lead_id.stage_id.is_won)
        self.assertTrue(second.lead_id.activity_ids, "a missed call schedules a call-back")
