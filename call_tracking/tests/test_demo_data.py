from datetime import datetime, timedelta

import pytz

from odoo.tests import tagged
from odoo.tools import SQL

from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestDemoData(CallTrackingCommon):
    """The demo history, replayed through the real assignment and webhook
    processing, tells one consistent story: every dynamic call points to the
    visitor session that held (or last held) its number, sessions never
    overlap on a number, the pool statistics are those of the sessions, and
    the reports have their shape (channels, months, a little exhaustion,
    judged and won leads, costs). Skipped without demo data. The test world
    archives the company's demo channels and adds its own records without
    xml ids: the checks below read the demo records only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pool = cls.env.ref("call_tracking.demo_pool_paid", raise_if_not_found=False)
        cls.channel = cls.env.ref("call_tracking.demo_channel_google_ads", raise_if_not_found=False)

    def setUp(self):
        super().setUp()
        if not (self.pool and self.channel):
            self.skipTest("no call_tracking demo data")
        self.calls = self.env["call.tracking.call"].search(
            [("provider_call_id", "=like", "demo-call-%")]
        )
        if not self.calls:
            self.skipTest("no generated demo calls")

    def _count(self, query):
        return self.env.execute_query(query)[0][0]

    def test_every_number_has_the_demo_provider(self):
        provider = self.env.ref("call_tracking.demo_provider_generic")
        numbers = self.env["call.tracking.number"].search(
            [("id", "in", [self.env.ref(f"call_tracking.demo_number_pool_{i:02d}").id
                           for i in range(1, 11)])]
        )  # fmt: skip
        self.assertEqual(len(numbers), 10)
        self.assertEqual(numbers.provider_id, provider)
        self.assertEqual(self.env.ref("call_tracking.demo_number_seo").provider_id, provider)

    def test_dynamic_calls_have_their_session(self):
        dynamic = self.calls.filtered(
            lambda c: c.attribution_method in ("session", "session_expired")
        )
        self.assertTrue(dynamic, "the demo has calls attributed to visitor sessions")
        self.assertFalse(dynamic.filtered(lambda c: not c.session_id))
        # a live session holds the called number at the call's start
        self.assertEqual(
            self._count(
                SQL(
                    """
            SELECT count(*) FROM call_tracking_call c
         LEFT JOIN call_tracking_session s ON s.id = c.session_id
             WHERE c.provider_call_id LIKE %s
               AND c.attribution_method = 'session'
               AND (s.id IS NULL OR s.mode != 'dynamic' OR s.number_id != c.number_id
                    OR NOT (s.assigned_at <= c.start_at AND c.start_at <= s.expires_at))
                    """,
                    "demo-call-%",
                )
            ),
            0,
        )
        # a lapsed session expired before the call and was the number's last
        self.assertEqual(
            self._count(
                SQL(
                    """
            SELECT count(*) FROM call_tracking_call c
              JOIN call_tracking_session s ON s.id = c.session_id
             WHERE c.provider_call_id LIKE %s
               AND c.attribution_method = 'session_expired'
               AND (s.expires_at >= c.start_at OR s.number_id != c.number_id
                    OR EXISTS (SELECT 1 FROM call_tracking_session o
                                WHERE o.number_id = c.number_id AND o.id != s.id
                                  AND o.assigned_at > s.assigned_at
                                  AND o.assigned_at <= c.start_at))
                    """,
                    "demo-call-%",
                )
            ),
            0,
        )
        for call in dynamic:
            self.assertEqual(call.channel_id, call.session_id.channel_id)
            self.assertEqual(call.utm_term, call.session_id.utm_term)
            self.assertEqual(call.landing_url, call.session_id.landing_url)
            # the visit's raw utm_source, found case-insensitively as the webhook does
            self.assertEqual(call.source_id.name.lower(), call.session_id.utm_source)
        # static calls have no session; every call has its note on its lead
        self.assertFalse(self.calls.filtered(lambda c: c.attribution_method == "static").session_id)
        notes = self.env["mail.message"].search_count(
            [("model", "=", "crm.lead"), ("res_id", "in", self.calls.lead_id.ids),
             ("body", "ilike", "Phone call from")]
        )  # fmt: skip
        self.assertEqual(notes, len(self.calls))

    def test_sessions_and_pool_statistics(self):
        self.assertEqual(
            self._count(
                SQL(
                    """
            SELECT count(*) FROM call_tracking_session a
              JOIN call_tracking_session b
                ON a.number_id = b.number_id AND a.id < b.id
               AND a.mode = 'dynamic' AND b.mode = 'dynamic'
               AND tsrange(a.assigned_at, a.expires_at) && tsrange(b.assigned_at, b.expires_at)
                    """
                )
            ),
            0,
            "two demo sessions lease the same number at the same time",
        )
        sessions = self.env["call.tracking.session"].search([("pool_id", "=", self.pool.id)])
        with_calls = self.calls.session_id
        self.assertGreater(len(sessions), 10 * len(with_calls), "most visitors do not call")
        stats = self.env["call.tracking.pool.stat"].search([("pool_id", "=", self.pool.id)])
        self.assertEqual(sum(stats.mapped("arrivals")), len(sessions))
        self.assertEqual(
            sum(stats.mapped("exhaustions")),
            len(sessions.filtered(lambda s: s.mode == "default")),
        )
        self.assertEqual(set(stats.mapped("number_count")), {len(self.pool.number_ids)})
        self.assertLessEqual(max(stats.mapped("peak_leases")), len(self.pool.number_ids))
        first_call = min(self.calls.mapped("start_at"))
        self.assertLess(min(stats.mapped("hour")), first_call, "statistics cover the calls")
        # refreshing again from the sessions changes nothing
        before = stats.read(["hour", "arrivals", "exhaustions", "peak_leases", "number_count"])
        self.env["call.tracking.pool.stat"]._refresh(self.pool, since=min(stats.mapped("hour")))
        self.assertEqual(
            stats.read(["hour", "arrivals", "exhaustions", "peak_leases", "number_count"]),
            before,
        )

    def test_report_shape(self):
        """Six months of calls on every channel, attributed by every method,
        with judged, won and lost leads, costs, and an exhaustion share of the
        paid pool that is small but not nil."""
        calls = self.calls
        self.assertGreater(len(calls), 200)
        channels = (
            self.env["call.tracking.channel"]
            .with_context(active_test=False)
            .search([("company_id", "=", self.pool.company_id.id)])
        )
        demo_channels = channels.filtered(lambda c: c.get_external_id()[c.id])
        self.assertEqual(calls.channel_id, demo_channels, "calls on every demo channel")
        self.assertEqual(
            set(calls.mapped("attribution_method")),
            {"session", "session_expired", "static", "default"},
        )
        months = {(call.start_at.year, call.start_at.month) for call in calls}
        self.assertGreaterEqual(len(months), 6)
        self.assertEqual(set(calls.mapped("status")), {"answered", "missed", "busy", "voicemail"})
        leads = calls.lead_id.with_context(active_test=False)
        self.assertTrue(leads.filtered(lambda lead: lead.call_quality == "targeted"))
        self.assertTrue(leads.filtered(lambda lead: lead.call_quality == "untargeted"))
        self.assertTrue(leads.filtered(lambda lead: lead.stage_id.is_won))
        self.assertFalse(
            leads.filtered(lambda lead: lead.date_closed and lead.date_closed < lead.create_date)
        )
        self.assertTrue(leads.filtered(lambda lead: not lead.active), "lost leads")
        self.assertTrue(calls.filtered("is_repeat"), "repeat callers join their open lead")
        # every lead is dated by its first call, every call at its start
        for lead in leads:
            first = min(lead.with_context(active_test=False).call_ids.mapped("start_at"))
            self.assertEqual(lead.create_date, first)
        self.assertEqual(calls.mapped("create_date"), calls.mapped("start_at"))
        costs = self.env["call.tracking.cost"].search([("channel_id", "in", channels.ids)])
        self.assertEqual(len(costs), 35, "five paid channels over seven months")
        stats = self.env["call.tracking.pool.stat"].search([("pool_id", "=", self.pool.id)])
        arrivals, exhaustions = sum(stats.mapped("arrivals")), sum(stats.mapped("exhaustions"))
        self.assertGreater(exhaustions, 0)
        self.assertLess(exhaustions / arrivals, 0.02)

    def test_spam_calls(self):
        """The blocked caller's calls and the robocaller's third call of a
        burst are spam: logged, without a lead, out of the reports."""
        spam = (
            self.env["call.tracking.call"]
            .with_context(call_tracking_hide_spam=True)
            .search([("provider_call_id", "=like", "demo-spam-%"), ("is_spam", "=", True)])
        )
        blocked = spam.filtered(lambda call: call.spam_reason == "blocklist")
        repeat = spam.filtered(lambda call: call.spam_reason == "repeat")
        self.assertEqual(len(blocked), 6)
        self.assertEqual(
            sorted(repeat.mapped("provider_call_id")), ["demo-spam-r02", "demo-spam-r12"]
        )
        self.assertFalse(spam.lead_id)
        robocalls = self.env["call.tracking.call"].search(
            [("provider_call_id", "=like", "demo-spam-r%"), ("is_spam", "=", False)]
        )
        self.assertEqual(len(robocalls), 4, "the first two calls of a burst are not spam yet")
        report = self.env["call.tracking.call.report"]
        self.assertFalse(report.search_count([("call_id", "in", spam.ids)]))
        self.assertEqual(
            report.search_count([("call_id", "in", spam.ids), ("is_spam", "=", True)]), 8
        )

    def test_staffing_advice(self):
        """The demo's staffing advice was made from its calls: hours with
        calls need people, and their arrivals are the calls of the last
        weeks."""
        company = self.pool.company_id
        rows = self.env["call.tracking.staffing"].search([("company_id", "=", company.id)])
        self.assertEqual(len(rows), 168)
        busy = rows.filtered(lambda row: row.call_count)
        self.assertTrue(busy, "the demo has calls in the weeks measured")
        self.assertTrue(all(row.agents_needed >= 1 for row in busy))
        self.assertFalse(rows.filtered(lambda row: not row.call_count and row.agents_needed))

    def _local_monday_rush(self, company):
        """The (weekday, hour) keys of the staffing rows of the Monday rush
        (9 to 12 UTC in scripts/generate_traffic_demo.py) in the company's
        time zone, on the last Monday."""
        tz = pytz.timezone(company.partner_id.tz or "UTC")
        today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        monday = today - timedelta(days=today.weekday())
        keys = set()
        for hour in (9, 10, 11):
            local = pytz.utc.localize(monday.replace(hour=hour)).astimezone(tz)
            keys.add((str(local.isoweekday()), f"{local.hour:02d}"))
        return keys

    def test_staffing_monday_rush(self):
        """Monday from 9 to 12 is the busiest time of the week: the most
        calls, the most people needed (more than one), and the call centre
        answering with several salespeople."""
        company = self.pool.company_id
        rows = self.env["call.tracking.staffing"].search([("company_id", "=", company.id)])
        rush_keys = self._local_monday_rush(company)
        rush = rows.filtered(lambda row: (row.weekday, row.hour) in rush_keys)
        rest = rows - rush
        self.assertEqual(len(rush), 3)
        self.assertGreater(min(rush.mapped("arrivals")), max(rest.mapped("arrivals")))
        self.assertGreaterEqual(min(rush.mapped("agents_needed")), 2)
        self.assertGreater(
            min(rush.mapped("agents_needed")),
            max(rest.mapped("agents_needed")),
            "only the Monday rush needs more than one person on the phone",
        )
        self.assertGreater(max(rush.mapped("agents_answering")), 1)
        self.assertTrue(any(rush.mapped("missed_count")), "calls are missed in the rush")

    def _salespeople(self):
        return self.env["res.users"].browse(
            [
                self.env.ref(f"call_tracking.demo_user_{name}").id
                for name in ("olena", "taras", "iryna", "mark")
            ]
        )

    def test_salespeople(self):
        """The demo PBX names the agent of each call: four salespeople of
        the call centre answer in their own hours, at their own rates, and
        own the leads of the calls they took first."""
        users = self._salespeople()
        calls = self.calls.filtered(lambda call: call.user_id in users)
        self.assertEqual(calls.user_id, users, "every salesperson takes calls")
        self.assertGreater(len(calls), 0.9 * len(self.calls))
        rates, hours = {}, {}
        for user in users:
            mine = calls.filtered(lambda call, user=user: call.user_id == user)
            answered = mine.filtered(lambda call: call.status == "answered")
            rates[user.name] = len(answered) / len(mine)
            # the recording's hours are UTC: the weekday shifts of scripts/
            # generate_traffic_demo.py (AGENTS)
            hours[user.name] = {
                call.start_at.hour for call in answered if call.start_at.weekday() < 5
            }
        self.assertLess(
            rates["Iryna Melnyk"] + 0.2, rates["Olena Kovalenko"], "Iryna misses many calls"
        )
        self.assertEqual(min(rates, key=rates.get), "Iryna Melnyk")
        self.assertNotEqual(hours["Olena Kovalenko"], hours["Iryna Melnyk"])
        self.assertLess(max(hours["Olena Kovalenko"]), min(hours["Iryna Melnyk"]))
        # the lead of a caller's first call is the salesperson's who took it
        firsts = self.calls.filtered(lambda call: call.is_first_call and call.lead_id)
        self.assertTrue(firsts)
        for call in firsts:
            if call.lead_id.create_date == call.start_at:
                self.assertEqual(call.lead_id.user_id, call.user_id)
        team = self.env.ref("call_tracking.demo_team_call_centre")
        self.assertEqual(team.member_ids, users)
        self.assertEqual(calls.lead_id.team_id, team)

    def test_deals_over_weeks(self):
        """Deals are won days to weeks after the first call, over the
        months of the history, with revenue; the days to close and the
        average won deal differ by channel and by salesperson."""
        leads = self.calls.lead_id.with_context(active_test=False)
        won = leads.filtered(lambda lead: lead.stage_id.is_won)
        self.assertGreater(len(won), 30)
        self.assertTrue(all(lead.expected_revenue > 0 for lead in won))
        days = [(lead.date_closed - lead.create_date).total_seconds() / 86400 for lead in won]
        self.assertGreater(min(days), 0, "a deal is closed after its first call")
        self.assertGreater(max(days), 14, "some deals take weeks")
        closed = sorted(won.mapped("date_closed"))
        self.assertGreater(closed[-1] - closed[0], timedelta(weeks=12), "wins over months")
        weeks = {lead.date_closed.isocalendar()[:2] for lead in won}
        self.assertGreater(len(weeks), 12)
        lost = leads.filtered(lambda lead: not lead.active)
        self.assertTrue(all(lead.date_closed > lead.create_date for lead in lost))
        measures = ["won_count:sum", "days_to_close:avg", "avg_won_deal:avg"]
        report = self.env["call.tracking.call.report"]
        domain = [("call_id", "in", self.calls.ids)]
        for groupby in ("channel_id", "user_id"):
            groups = [
                group
                for group in report.read_group(domain, measures, [groupby], lazy=False)
                if group["won_count"]
            ]
            self.assertGreaterEqual(len(groups), 4, groupby)
            speeds = sorted(group["days_to_close"] for group in groups)
            sizes = sorted(group["avg_won_deal"] for group in groups)
            self.assertGreater(speeds[-1], 1.5 * speeds[0], f"days to close by {groupby}")
            self.assertGreater(sizes[-1], 1.2 * sizes[0], f"average won deal by {groupby}")
