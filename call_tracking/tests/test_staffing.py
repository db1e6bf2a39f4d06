"""Staffing advice: Erlang C against published values and the exact closed
form, and the weekday x hour advice built from real calls."""

import math
from datetime import datetime, timedelta
from fractions import Fraction

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import BaseCase

from ..tools.staffing import (
    Unservable,
    agents_needed,
    average_speed_of_answer,
    erlang_c,
    offered_load,
    service_level,
)
from .common import CallTrackingCommon


def erlang_c_closed_form(agents, load):
    """The textbook formula with exact fractions (factorials and powers):
    (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    load = Fraction(load).limit_denominator(10**6)
    top = load**agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    return float(top / bottom)


class TestErlangC(BaseCase):
    def test_published_example(self):
        """100 calls per 30 minutes, 3 minutes of handling, 80% within 20 s:
        14 agents, 88.8% within 20 s, 17.4% of callers wait (the worked
        example of the call-centre literature quoted by the issue)."""
        load = offered_load(100, 180, interval_seconds=1800)
        self.assertEqual(load, 10.0)
        advice = agents_needed(100, 180, interval_seconds=1800, target_level=0.8, answer_seconds=20)
        self.assertEqual(advice.agents, 14)
        self.assertAlmostEqual(advice.service_level, 0.888, places=3)
        self.assertAlmostEqual(advice.waiting_probability, 0.174, places=3)
        self.assertAlmostEqual(advice.occupancy, 10 / 14)
        # 13 agents fall just short of 80%
        self.assertAlmostEqual(service_level(13, 10.0, 180, 20), 0.7956, places=4)
        self.assertAlmostEqual(average_speed_of_answer(14, 10.0, 180), 7.8, places=1)

    def test_recursion_matches_closed_form(self):
        for agents, load in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 4.5), (14, 10.0), (30, 25.3)]:
            with self.subTest(agents=agents, load=load):
                self.assertAlmostEqual(
                    erlang_c(agents, load), erlang_c_closed_form(agents, load), places=12
                )

    def test_large_loads_stay_finite(self):
        """Factorials overflow floats past 170 agents; the recursion does not."""
        advice = agents_needed(30000, 240, target_level=0.9, answer_seconds=15)
        self.assertGreater(advice.agents, 2000)
        self.assertTrue(math.isfinite(advice.waiting_probability))
        self.assertGreaterEqual(advice.service_level, 0.9)

    def test_cannot_be_served(self):
        """At or above 100% occupancy the queue never empties: an explicit
        'cannot be served', not a crash, an infinite or a negative number."""
        for agents in (9, 10):
            with self.subTest(agents=agents), self.assertRaises(Unservable):
                erlang_c(agents, 10.0)
            with self.assertRaises(Unservable):
                service_level(agents, 10.0, 180, 20)
        with self.assertRaises(Unservable):
            agents_needed(1000, 3600, target_level=0.8, max_agents=500)

    def test_occupancy_cap_adds_agents(self):
        free = agents_needed(100, 180, interval_seconds=1800, max_occupancy=1.0)
        capped = agents_needed(100, 180, interval_seconds=1800, max_occupancy=0.6)
        self.assertEqual(free.agents, 14)
        self.assertEqual(capped.agents, 17)  # ceil(10 / 0.6)
        self.assertLessEqual(capped.occupancy, 0.6)

    def test_edges(self):
        self.assertEqual(agents_needed(0, 180).agents, 0)
        self.assertEqual(erlang_c(3, 0), 0.0)
        self.assertEqual(service_level(0, 0, 180, 20), 1.0)
        for kwargs in (
            {"target_level": 1.0},
            {"target_level": 0},
            {"max_occupancy": 0},
            {"max_occupancy": 1.2},
            {"answer_seconds": -1},
        ):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                agents_needed(10, 180, **kwargs)
        with self.assertRaises(ValueError):
            offered_load(-1, 180)
        with self.assertRaises(ValueError):
            erlang_c(3, float("inf"))


@tagged("post_install", "-at_install")
class TestStaffingAdvice(CallTrackingCommon):
    """Four weeks of calls in the company's time zone (Kyiv, UTC+2 in
    winter). Mondays 10:00-11:00 local: 30 calls a week, 25 answered with
    200 s of talk, 4 missed and 1 busy; Sally answers every week, Sam too in
    the first week. Sunday 03:00 local, outside working hours: 2 missed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Europe/Kyiv"
        cls.company.write(
            {
                "call_tracking_staffing_weeks": 4,
                "call_tracking_staffing_wrapup": 40,
                "call_tracking_staffing_service_level": 80.0,
                "call_tracking_staffing_answer_seconds": 20,
                "call_tracking_staffing_max_occupancy": 100.0,
            }
        )
        # the standard 40-hour schedule: Monday to Friday 8-12 and 13-17
        cls.company.resource_calendar_id = cls.env.ref("resource.resource_calendar_std")
        cls.now = datetime(2026, 3, 2, 6)  # Monday 2 March 08:00 in Kyiv
        values = []
        for week in range(1, 5):
            monday_10_utc = datetime(2026, 3, 2, 8) - timedelta(weeks=week)
            for index in range(30):
                status = "answered" if index < 25 else ("busy" if index == 29 else "missed")
                user = cls.salesman2 if (week == 1 and index % 2) else cls.salesman
                values.append(
                    {
                        "provider_id": cls.provider.id,
                        "provider_call_id": f"staff-{week}-{index}",
                        "company_id": cls.company.id,
                        "start_at": monday_10_utc + timedelta(minutes=2 * index),
                        "caller_number": f"+38050{week}{index:06d}",
                        "status": status,
                        "talk_duration": 200 if status == "answered" else 0,
                        "duration": 210,
                        "user_id": user.id if status == "answered" else False,
                    }
                )
            sunday_3_utc = datetime(2026, 3, 1, 1) - timedelta(weeks=week - 1)
            if week <= 2:
                values.append(
                    {
                        "provider_id": cls.provider.id,
                        "provider_call_id": f"staff-night-{week}",
                        "company_id": cls.company.id,
                        "start_at": sunday_3_utc,
                        "caller_number": f"+38067{week}000000",
                        "status": "missed",
                        "duration": 30,
                    }
                )
        # a call older than the weeks measured and a test call: left out
        values.append(
            dict(values[0], provider_call_id="staff-old", start_at=datetime(2026, 1, 5, 8))
        )
        values.append(dict(values[0], provider_call_id="staff-test", is_test=True))
        cls.env["call.tracking.call"].create(values)
        cls.Staffing = cls.env["call.tracking.staffing"]
        cls.Staffing._refresh(cls.company, now=cls.now)

    def _row(self, weekday, hour):
        return self.Staffing.search(
            [("company_id", "=", self.company.id), ("weekday", "=", weekday), ("hour", "=", hour)]
        )

    def test_rows_per_weekday_and_hour(self):
        self.assertEqual(self.Staffing.search_count([("company_id", "=", self.company.id)]), 168)

    def test_monday_ten(self):
        row = self._row("1", "10")
        self.assertTrue(row.in_working_hours)
        self.assertEqual((row.call_count, row.answered_count, row.missed_count), (120, 100, 20))
        self.assertEqual((row.missed_no_answer_count, row.missed_busy_count), (16, 4))
        self.assertEqual(row.missed_outside_count, 0)
        self.assertAlmostEqual(row.missed_rate, 100 * 20 / 120)
        self.assertAlmostEqual(row.arrivals, 30.0)
        self.assertAlmostEqual(row.handling_time, 240.0)  # 200 s talk + 40 s wrap-up
        self.assertAlmostEqual(row.offered_load, 2.0)  # 30 calls x 240 s / 3600 s
        expected = agents_needed(30, 240, target_level=0.8, answer_seconds=20)
        self.assertEqual(row.agents_needed, expected.agents)
        self.assertEqual(row.agents_needed, 4)
        self.assertAlmostEqual(row.advised_service_level, 100 * expected.service_level, places=1)
        # Sally and Sam in week 1, Sally alone in weeks 2-4: (2 + 1 + 1 + 1) / 4
        self.assertAlmostEqual(row.agents_answering, 1.25)
        self.assertAlmostEqual(row.staffing_gap, 4 - 1.25)
        # one person against 2 Erlangs cannot keep up
        self.assertFalse(row.current_service_level)
        self.assertEqual(row.advice, "Today's salespeople cannot serve this load")

    def test_outside_working_hours(self):
        row = self._row("7", "03")
        self.assertFalse(row.in_working_hours)
        self.assertEqual((row.call_count, row.missed_count, row.missed_outside_count), (2, 2, 2))
        self.assertEqual((row.missed_no_answer_count, row.missed_busy_count), (0, 0))
        # 2 calls over 4 weeks, 0 s of talk: 0.5 calls an hour of 40 s each
        self.assertAlmostEqual(row.arrivals, 0.5)
        self.assertEqual(row.agents_needed, 1)

    def test_quiet_hour(self):
        row = self._row("3", "15")
        self.assertEqual((row.call_count, row.agents_needed), (0, 0))
        self.assertEqual(row.current_service_level, 100.0)

    def test_heat_map_and_pivot(self):
        """The weekday x hour pivot of missed calls sums the rows."""
        groups = self.Staffing.with_user(self.ct_admin)._read_group(
            [("company_id", "=", self.company.id)],
            ["weekday"],
            ["missed_count:sum", "missed_rate:avg", "agents_needed:max"],
        )
        by_day = {weekday: rest for weekday, *rest in groups}
        self.assertEqual(by_day["1"][0], 20)  # 5 a week at 10:00, 4 weeks
        self.assertEqual(by_day["7"][0], 2)
        # the missed share is a ratio of sums: 20 missed of 120 calls on Mondays
        self.assertAlmostEqual(by_day["1"][1], 100 * 20 / 120)
        self.assertEqual(by_day["1"][2], 4)

    def test_refresh_access(self):
        with self.assertRaises(AccessError):
            self.Staffing.with_user(self.salesman).action_refresh()
        with self.assertRaises(AccessError):
            self.Staffing.with_user(self.salesman).search([])
        self.Staffing.with_user(self.ct_admin).action_refresh()
        self.assertEqual(self.Staffing.search_count([("company_id", "=", self.company.id)]), 168)
        # a user of the other company sees none of these rows
        self.ct_admin.write({"company_ids": [(4, self.company_2.id)]})
        other = self.Staffing.with_user(self.ct_admin).with_company(self.company_2)
        self.assertFalse(other.search([("company_id", "=", self.company.id)]))
        self.assertTrue(self.Staffing.with_user(self.ct_admin).search([]))

    def test_settings_checked(self):
        for field, value in (
            ("call_tracking_staffing_service_level", 100.0),
            ("call_tracking_staffing_max_occupancy", 0.0),
            ("call_tracking_staffing_weeks", 0),
            ("call_tracking_staffing_wrapup", -5),
        ):
            with self.subTest(field=field), self.assertRaises(ValidationError):
                self.company.write({field: value})
