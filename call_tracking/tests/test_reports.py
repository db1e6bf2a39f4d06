import csv
from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged, users
from odoo.tools import SQL
from odoo.tools.misc import file_open, file_path

from ..tools.pool_sizing import erlang_b
from .common import CallTrackingCommon

CALL_MEASURES = [
    "call_count:sum",
    "caller_key:count_distinct",
    "answered_count:sum",
    "missed_count:sum",
    "missed_rate:avg",
    "targeted_count:sum",
    "untargeted_count:sum",
    "targeted_rate:avg",
    "lead_count:sum",
    "won_count:sum",
    "won_revenue:sum",
    "won_rate:avg",
    "avg_talk_time:avg",
]


@tagged("post_install", "-at_install")
class TestCallTrackingReports(CallTrackingCommon):
    """7 calls on 2 channels over January and February 2026 with known
    outcomes; every expected figure below is computed by hand.

    ====  =======  ======  ======  ========  ====  ====  ==========================
    call  channel  day     caller  status    talk  lead  lead outcome
    ====  =======  ======  ======  ========  ====  ====  ==========================
    1     Google   Jan 5   A       answered  60    L1    targeted, won 1000
    2     Google   Jan 6   A       answered  120   L1    (second call of L1)
    3     Google   Jan 20  B       missed    0     L3    untargeted, lost
    4     Board    Jan 10  C       answered  30    L2    targeted, won 500
    5     Google   Feb 3   D       answered  150   L4    targeted, open
    6     Google   Feb 4   A       busy      0     -     not qualified
    7     Board    Feb 10  E       answered  45    L2    (second call of L2)
    ====  =======  ======  ======  ========  ====  ====  ==========================

    Costs: Google 590 over Jan 1 - Feb 28 (59 days: 310 in January, 280 in
    February), Board 200 in January.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Europe/Kyiv"  # UTC+2 in winter
        cls.google, cls.board = cls.env["call.tracking.channel"].create(
            [
                {"name": "Google (report)", "company_id": cls.company.id},
                {"name": "Board (report)", "company_id": cls.company.id, "is_offline": True},
            ]
        )
        won_stage = cls.env["crm.stage"].create({"name": "Report Won", "is_won": True})
        cls.reason_spam = cls.env["call.tracking.quality.reason"].create(
            {"name": "Spam", "quality": "untargeted"}
        )
        leads = cls.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "user_id": cls.salesman.id,
                    "company_id": cls.company.id,
                    "expected_revenue": revenue,
                    "call_quality": quality,
                }
                for name, revenue, quality in [
                    ("L1", 1000.0, "targeted"),
                    ("L2", 500.0, "targeted"),
                    ("L3", 700.0, "untargeted"),
                    ("L4", 300.0, "targeted"),
                ]
            ]
        )
        cls.l1, cls.l2, cls.l3, cls.l4 = leads
        (cls.l1 | cls.l2).write({"stage_id": won_stage.id})
        cls.l3.call_quality_reason_id = cls.reason_spam
        cls.l3.action_set_lost()
        rows = [
            # channel, start, caller, status, talk, lead
            (cls.google, datetime(2026, 1, 5, 10), "+380501110001", "answered", 60, cls.l1),
            (cls.google, datetime(2026, 1, 6, 11), "+380501110001", "answered", 120, cls.l1),
            (cls.google, datetime(2026, 1, 20, 12), "+380501110002", "missed", 0, cls.l3),
            (cls.board, datetime(2026, 1, 10, 9), "+380501110003", "answered", 30, cls.l2),
            (cls.google, datetime(2026, 2, 3, 10), "+380501110004", "answered", 150, cls.l4),
            (cls.google, datetime(2026, 2, 4, 15), "+380501110001", "busy", 0, None),
            (cls.board, datetime(2026, 2, 10, 16), "+380501110005", "answered", 45, cls.l2),
        ]
        cls.calls = cls.env["call.tracking.call"].create(
            [
                {
                    "provider_id": cls.provider.id,
                    "provider_call_id": f"report-{index}",
                    "company_id": cls.company.id,
                    "channel_id": channel.id,
                    "start_at": start,
                    "caller_number": caller,
                    "status": status,
                    "talk_duration": talk,
                    "duration": talk + 10,
                    "lead_id": lead.id if lead else False,
                    "user_id": cls.salesman.id,
                    "attribution_method": "static",
                }
                for index, (channel, start, caller, status, talk, lead) in enumerate(rows, 1)
            ]
        )
        cls.env["call.tracking.cost"].create(
            [
                {
                    "channel_id": cls.google.id,
                    "company_id": cls.company.id,
                    "date_from": "2026-01-01",
                    "date_to": "2026-02-28",
                    "amount": 590.0,
                },
                {
                    "channel_id": cls.board.id,
                    "company_id": cls.company.id,
                    "date_from": "2026-01-01",
                    "date_to": "2026-01-31",
                    "amount": 200.0,
                },
            ]
        )
        cls.domain = [("channel_id", "in", (cls.google | cls.board).ids)]

    def _groups(self, model, measures, groupby, user=None):
        report = self.env[model].with_user(user or self.manager)
        groups = report.read_group(self.domain, measures, groupby, lazy=False)
        return groups

    def _by_channel_month(self, groups, month_key):
        return {(g["channel_id"][0], g[month_key]): g for g in groups}

    def _assert_figures(self, group, expected):
        for fname, value in expected.items():
            if isinstance(value, float):
                self.assertAlmostEqual(group[fname], value, places=2, msg=fname)
            else:
                self.assertEqual(group[fname], value, fname)

    def test_call_report_channel_month(self):
        groups = self._groups(
            "call.tracking.call.report", CALL_MEASURES, ["channel_id", "start_at:month"]
        )
        cells = self._by_channel_month(groups, "start_at:month")
        self.assertEqual(len(cells), 4)
        jan, feb = "January 2026", "February 2026"
        # fmt: off
        expected = {
            (self.google.id, jan): {
                "call_count": 3, "caller_key": 2, "answered_count": 2, "missed_count": 1,
                "missed_rate": 100 / 3, "targeted_count": 2, "untargeted_count": 1,
                "targeted_rate": 200 / 3, "lead_count": 2, "won_count": 1, "won_revenue": 1000.0,
                "won_rate": 50.0, "avg_talk_time": 90.0,
            },
            (self.google.id, feb): {
                "call_count": 2, "caller_key": 2, "answered_count": 1, "missed_count": 1,
                "missed_rate": 50.0, "targeted_count": 1, "untargeted_count": 0,
                "targeted_rate": 100.0, "lead_count": 1, "won_count": 0, "won_revenue": 0.0,
                "won_rate": 0.0, "avg_talk_time": 150.0,
            },
            (self.board.id, jan): {
                "call_count": 1, "caller_key": 1, "answered_count": 1, "missed_count": 0,
                "missed_rate": 0.0, "targeted_count": 1, "targeted_rate": 100.0, "lead_count": 1,
                "won_count": 1, "won_revenue": 500.0, "won_rate": 100.0, "avg_talk_time": 30.0,
            },
            # second call of L2: a targeted call, but no new lead nor revenue
            (self.board.id, feb): {
                "call_count": 1, "caller_key": 1, "targeted_count": 1, "targeted_rate": 100.0,
                "lead_count": 0, "won_count": 0, "won_revenue": 0.0, "won_rate": None,
                "avg_talk_time": 45.0,
            },
        }
        # fmt: on
        for key, figures in expected.items():
            with self.subTest(cell=key):
                if figures.get("won_rate", 0) is None:
                    self.assertFalse(cells[key]["won_rate"])
                    figures = {k: v for k, v in figures.items() if k != "won_rate"}
                self._assert_figures(cells[key], figures)

    def test_deal_measures(self):
        """Deal speed and size per channel, from hand-computed figures: L1
        (Google, first call Jan 5 10:00) won on Jan 15 10:00 after 10 days
        for 1000; L2 (Board, first call Jan 10 09:00) won on Jan 12 21:00
        after 2.5 days for 500. Google's leads: L1 (targeted, won), L3
        (untargeted, lost), L4 (targeted, open opportunity)."""
        # written in the ORM cache only: the report flushes what it reads
        self.l1.date_closed = datetime(2026, 1, 15, 10)
        self.l2.date_closed = datetime(2026, 1, 12, 21)
        measures = [
            "call_count:sum",
            "targeted_count:sum",
            "opportunity_count:sum",
            "won_count:sum",
            "targeted_lead_count:sum",
            "won_targeted_count:sum",
            "targeted_win_rate:avg",
            "days_to_close:avg",
            "avg_won_deal:avg",
            "revenue_per_call:avg",
        ]
        groups = self._groups("call.tracking.call.report", measures, ["channel_id"])
        totals = {g["channel_id"][0]: g for g in groups}
        # fmt: off
        self._assert_figures(totals[self.google.id], {
            # the funnel: calls -> targeted -> opportunities -> won
            "call_count": 5, "targeted_count": 3, "opportunity_count": 3, "won_count": 1,
            "targeted_lead_count": 2, "won_targeted_count": 1, "targeted_win_rate": 50.0,
            "days_to_close": 10.0, "avg_won_deal": 1000.0, "revenue_per_call": 200.0,
        })
        self._assert_figures(totals[self.board.id], {
            "call_count": 2, "targeted_count": 2, "opportunity_count": 1, "won_count": 1,
            "targeted_lead_count": 1, "won_targeted_count": 1, "targeted_win_rate": 100.0,
            "days_to_close": 2.5, "avg_won_deal": 500.0, "revenue_per_call": 250.0,
        })
        # fmt: on
        # ratios of sums over both channels, never averages of the cells
        both = self._groups("call.tracking.call.report", measures, [])[0]
        self._assert_figures(
            both,
            {
                "days_to_close": 6.25,
                "avg_won_deal": 750.0,
                "revenue_per_call": 1500.0 / 7,
                "targeted_win_rate": 200.0 / 3,
            },
        )
        # per salesperson: every call here is Sally's
        by_user = self._groups("call.tracking.call.report", measures, ["user_id"])
        self.assertEqual(len(by_user), 1)
        self._assert_figures(by_user[0], {"won_count": 2, "days_to_close": 6.25})

    def test_call_report_channel_totals(self):
        """Shares, averages and distinct counts re-aggregate correctly on a
        coarser grouping (not sums or averages of the monthly cells)."""
        groups = self._groups("call.tracking.call.report", CALL_MEASURES, ["channel_id"])
        totals = {g["channel_id"][0]: g for g in groups}
        # caller A called in January and February: 3 distinct, not 2 + 2
        self._assert_figures(
            totals[self.google.id],
            {
                "call_count": 5,
                "caller_key": 3,
                "targeted_rate": 75.0,
                "missed_rate": 40.0,
                "lead_count": 3,
                "won_revenue": 1000.0,
                "won_rate": 100 / 3,
                "avg_talk_time": 110.0,
            },
        )
        # L2 called twice: its 500 counted once
        self._assert_figures(
            totals[self.board.id],
            {"call_count": 2, "caller_key": 2, "targeted_rate": 100.0, "won_revenue": 500.0},
        )
        [total] = self._groups("call.tracking.call.report", CALL_MEASURES, [])
        self._assert_figures(
            total,
            {
                "call_count": 7,
                "caller_key": 5,
                "targeted_count": 5,
                "untargeted_count": 1,
                "targeted_rate": 500 / 6,
                "lead_count": 4,
                "won_count": 2,
                "won_revenue": 1500.0,
                "avg_talk_time": 81.0,
            },
        )

    def test_call_report_hour_weekday_and_reason(self):
        """Hour and weekday are local to the company (Kyiv, UTC+2)."""
        groups = self._groups("call.tracking.call.report", ["call_count:sum"], ["hour", "weekday"])
        cells = {(g["hour"], g["weekday"]): g["call_count"] for g in groups}
        self.assertEqual(cells[("12", "1")], 1)  # Monday Jan 5, 10:00 UTC
        self.assertEqual(cells[("17", "3")], 1)  # Wednesday Feb 4, 15:00 UTC
        self.assertNotIn(("10", "1"), cells)
        groups = self._groups(
            "call.tracking.call.report", ["call_count:sum"], ["quality_reason_id"]
        )
        spam = [g for g in groups if g["quality_reason_id"]]
        self.assertEqual(spam[0]["quality_reason_id"][0], self.reason_spam.id)
        self.assertEqual(spam[0]["call_count"], 1)

    def test_cost_report_romi(self):
        measures = [
            "call_count:sum",
            "targeted_count:sum",
            "won_revenue:sum",
            "cost:sum",
            "cost_per_call",
            "cost_per_targeted",
            "romi",
        ]
        groups = self._groups("call.tracking.cost.report", measures, ["channel_id", "month:month"])
        cells = self._by_channel_month(groups, "month:month")
        jan, feb = "January 2026", "February 2026"
        self._assert_figures(
            cells[(self.google.id, jan)],
            {
                "call_count": 3,
                "targeted_count": 2,
                "won_revenue": 1000.0,
                "cost": 310.0,
                "cost_per_call": 310 / 3,
                "cost_per_targeted": 155.0,
                "romi": (1000 - 310) / 310 * 100,
            },
        )
        self._assert_figures(
            cells[(self.google.id, feb)],
            {"cost": 280.0, "cost_per_call": 140.0, "cost_per_targeted": 280.0, "romi": -100.0},
        )
        self._assert_figures(
            cells[(self.board.id, jan)],
            {"cost": 200.0, "cost_per_targeted": 200.0, "won_revenue": 500.0, "romi": 150.0},
        )
        # no cost in February for the board: no ROMI, no cost per call
        self.assertEqual(cells[(self.board.id, feb)]["cost"], 0.0)
        self.assertFalse(cells[(self.board.id, feb)]["romi"])
        # per channel: ratios of the sums, not averages of the monthly ratios
        totals = {
            g["channel_id"][0]: g
            for g in self._groups("call.tracking.cost.report", measures, ["channel_id"])
        }
        self._assert_figures(
            totals[self.google.id],
            {
                "cost": 590.0,
                "cost_per_call": 118.0,
                "cost_per_targeted": 590 / 3,
                "romi": (1000 - 590) / 590 * 100,
            },
        )
        # sorting on a ratio (a list grouped and sorted by a column header)
        report = self.env["call.tracking.cost.report"].with_user(self.manager)
        ordered = report.read_group(
            self.domain, ["cost:sum"], ["channel_id"], orderby="romi desc", lazy=False
        )
        self.assertEqual([g["channel_id"][0] for g in ordered], [self.board.id, self.google.id])
        self.assertEqual(
            report.web_read_group(
                self.domain, ["romi:avg"], ["channel_id"], orderby="romi", limit=80
            )["groups"][0]["channel_id"][0],
            self.google.id,
        )
        [total] = self._groups("call.tracking.cost.report", measures, [])
        self._assert_figures(
            total,
            {
                "call_count": 7,
                "cost": 790.0,
                "cost_per_call": 790 / 7,
                "cost_per_targeted": 158.0,
                "won_revenue": 1500.0,
                "romi": (1500 - 790) / 790 * 100,
            },
        )

    def test_cost_report_ratio_order_and_pages(self):
        """A ratio is one SQL expression: ``_read_group`` and ``read_group``
        agree, and sorting on it pages the sorted groups in SQL."""
        report = self.env["call.tracking.cost.report"].with_user(self.manager)
        rows = report._read_group(
            self.domain,
            ["channel_id"],
            ["romi:avg", "cost_per_call:avg", "cost_per_targeted:avg"],
            order="romi:avg desc",
        )
        groups = report.read_group(
            self.domain,
            ["romi", "cost_per_call", "cost_per_targeted"],
            ["channel_id"],
            orderby="romi desc",
            lazy=False,
        )
        self.assertEqual(
            [(channel.id, *figures) for channel, *figures in rows],
            [
                (g["channel_id"][0], g["romi"], g["cost_per_call"], g["cost_per_targeted"])
                for g in groups
            ],
        )
        self.assertEqual([row[0] for row in rows], [self.board, self.google])
        self.assertAlmostEqual(rows[0][1], 150.0)  # (500 - 200) / 200
        self.assertAlmostEqual(rows[1][2], 118.0)  # 590 / 5 calls
        # cost per call by cell: Board Jan 200, Google Feb 140, Google Jan
        # 103.33, Board Feb 0 (a call, no cost); the 2nd and 3rd of them
        page = report.read_group(
            self.domain,
            ["cost:sum"],
            ["channel_id", "month:month"],
            orderby="cost_per_call desc",
            limit=2,
            offset=1,
            lazy=False,
        )
        self.assertEqual(
            [(g["channel_id"][0], g["month:month"]) for g in page],
            [(self.google.id, "February 2026"), (self.google.id, "January 2026")],
        )
        [last] = report.read_group(
            self.domain,
            ["cost_per_call"],
            ["channel_id", "month:month"],
            orderby="cost_per_call asc",
            limit=1,
            lazy=False,
        )
        self.assertEqual((last["channel_id"][0], last["cost_per_call"]), (self.board.id, 0.0))
        [first] = report.read_group(
            self.domain, ["cost:sum"], ["channel_id"], orderby="romi", limit=1, lazy=False
        )
        self.assertEqual(first["channel_id"][0], self.google.id)

    def test_call_report_shares_same_path(self):
        """The call report's shares read the
        same through ``_read_group`` as through ``read_group``."""
        report = self.env["call.tracking.call.report"].with_user(self.manager)
        [[jit]] = self.env.execute_query(SQL("SHOW jit"))
        rows = report._read_group(
            self.domain,
            ["channel_id"],
            ["targeted_rate:avg", "missed_rate:avg", "won_rate:avg"],
            order="targeted_rate:avg desc",
        )
        # the read turns JIT compilation off for itself only
        self.assertEqual(self.env.execute_query(SQL("SHOW jit")), [(jit,)])
        groups = report.read_group(
            self.domain,
            ["targeted_rate", "missed_rate", "won_rate"],
            ["channel_id"],
            orderby="targeted_rate desc",
            limit=1,
            lazy=False,
        )
        self.assertEqual(rows[0][0], self.board)
        self.assertEqual(groups[0]["channel_id"][0], self.board.id)
        self.assertAlmostEqual(rows[1][1], 75.0)
        self.assertAlmostEqual(rows[1][2], 40.0)
        self.assertAlmostEqual(rows[1][3], 100 / 3)
        self.assertAlmostEqual(groups[0]["targeted_rate"], rows[0][1])
        self.assertAlmostEqual(groups[0]["won_rate"], rows[0][3])

    def test_report_access(self):
        for model in (
            "call.tracking.call.report",
            "call.tracking.cost.report",
            "call.tracking.pool.report",
        ):
            with self.subTest(model=model):
                report = self.env[model]
                with self.assertRaises(AccessError):
                    report.with_user(self.salesman).read_group([], ["__count"], [])
                with self.assertRaises(AccessError):
                    report.with_user(self.salesman).search([], limit=1)
                # another company's manager sees none of these figures
                self.assertFalse(
                    report.with_user(self.manager_2).search_count([("company_id", "!=", False)])
                )
        self.assertEqual(
            self.env["call.tracking.call.report"].with_user(self.manager).search_count(self.domain),
            7,
        )
        self.assertFalse(
            self.env["call.tracking.call.report"].with_user(self.manager_2).search_count([])
        )
        with self.assertRaises(AccessError):
            self.env["call.tracking.cost"].with_user(self.salesman).search([], limit=1)

    def test_qualification_buttons(self):
        """The salesperson judges their lead; its calls follow, and a reason
        meant for the other quality is dropped."""
        lead = self.l4.with_user(self.salesman)
        lead.call_quality_reason_id = self.env["call.tracking.quality.reason"].create(
            {"name": "Real project", "quality": "targeted"}
        )
        lead.action_call_untargeted()
        self.assertEqual(lead.call_quality, "untargeted")
        self.assertFalse(lead.call_quality_reason_id)
        call_5 = self.calls[4]
        self.assertEqual(call_5.quality, "untargeted")
        lead.call_quality_reason_id = self.reason_spam
        self.assertEqual(call_5.quality_reason_id, self.reason_spam)
        lead.action_call_targeted()
        self.assertEqual(call_5.quality, "targeted")
        self.assertFalse(lead.call_quality_reason_id)
        self.assertFalse(call_5.quality_reason_id)
        # the report follows at once
        [group] = self._groups(
            "call.tracking.call.report", ["targeted_count:sum"], [], user=self.manager
        )
        self.assertEqual(group["targeted_count"], 5)
        # a call moved to another lead takes that lead's quality
        call_5.lead_id = self.l3
        self.assertEqual(call_5.quality, "untargeted")
        with self.assertRaises(ValueError):
            (self.l1 | self.l2).action_call_targeted()

    def test_channel_targeted_share(self):
        """Targeted share per channel against its goal (80% by default)."""
        self.company.call_tracking_health_days = 400  # back to the January calls
        channels = (self.google | self.board).with_user(self.manager)
        self.assertEqual(self.google.targeted_goal, 80.0)
        self.assertAlmostEqual(channels[0].targeted_share, 75.0)  # 3 of 4 qualified calls
        self.assertFalse(channels[0].targeted_goal_met)
        self.assertAlmostEqual(channels[1].targeted_share, 100.0)
        self.assertTrue(channels[1].targeted_goal_met)
        self.google.targeted_goal = 70.0
        self.assertTrue(self.google.with_user(self.manager).targeted_goal_met)


@tagged("post_install", "-at_install")
class TestPoolHealth(CallTrackingCommon):
    """Two hours of a 3-number pool: 10 arrivals (1 exhaustion) then 30
    arrivals (9 exhaustions), and 4 calls of which 1 is unattributed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.call_tracking_exhaustion_target = 1.0
        cls.pool = cls.env["call.tracking.pool"].create({"name": "Health pool", "hold_minutes": 30})
        cls.numbers = cls.env["call.tracking.number"].create(
            [{"number": f"+38044555000{index}", "pool_id": cls.pool.id} for index in range(3)]
        )
        hour = datetime.now().replace(minute=0, second=0, microsecond=0)
        cls.env["call.tracking.pool.stat"].create(
            [
                {
                    "pool_id": cls.pool.id,
                    "hour": hour - timedelta(hours=2),
                    "arrivals": 10,
                    "exhaustions": 1,
                    "peak_leases": 2,
                },
                {
                    "pool_id": cls.pool.id,
                    "hour": hour - timedelta(hours=1),
                    "arrivals": 30,
                    "exhaustions": 9,
                    "peak_leases": 3,
                },
            ]
        )
        cls.env["call.tracking.call"].create(
            [
                {
                    "provider_id": cls.provider.id,
                    "provider_call_id": f"health-{index}",
                    "company_id": cls.env.company.id,
                    "number_id": cls.numbers[index % 3].id,
                    "called_number": cls.numbers[index % 3].number,
                    "start_at": hour - timedelta(minutes=90 - index),
                    "status": "answered",
                    "attribution_method": method,
                }
                for index, method in enumerate(["session", "session", "session_expired", "unknown"])
            ]
        )

    def test_pool_health_figures(self):
        pool = self.pool.with_user(self.manager)
        self.assertEqual(pool.health_arrivals, 40)
        self.assertEqual(pool.health_peak_arrivals, 30)
        self.assertEqual(pool.health_peak_leases, 3)
        self.assertEqual(pool.health_exhaustions, 10)
        self.assertAlmostEqual(pool.health_exhaustion_rate, 25.0)  # 10/40, not (10% + 30%)/2
        self.assertEqual(pool.health_call_count, 4)
        self.assertAlmostEqual(pool.health_unattributed_rate, 25.0)
        # no sessions: hold only; 30 arrivals/h x 30 min = 15 Erlangs
        self.assertAlmostEqual(pool.health_offered_load, 15.0)
        # B(23, 15) > 1% >= B(24, 15)
        self.assertEqual(pool.recommended_size, 24)
        self.assertGreater(erlang_b(23, 15), 0.01)
        self.env.company.call_tracking_exhaustion_target = 5.0
        self.pool.invalidate_recordset()
        self.assertEqual(self.pool.with_user(self.manager).recommended_size, 20)

    def test_pool_report(self):
        report = self.env["call.tracking.pool.report"].with_user(self.manager)
        [group] = report.read_group(
            [("pool_id", "=", self.pool.id)],
            ["arrivals", "exhaustions", "peak_leases", "exhaustion_rate", "unattributed_rate"],
            ["pool_id"],
            lazy=False,
        )
        self.assertEqual(group["arrivals"], 40)
        self.assertEqual(group["peak_leases"], 3)  # max, not sum
        self.assertAlmostEqual(group["exhaustion_rate"], 25.0)
        self.assertAlmostEqual(group["unattributed_rate"], 25.0)
        hours = report.read_group(
            [("pool_id", "=", self.pool.id), ("arrivals", ">", 0)],
            ["exhaustion_rate"],
            ["date:hour"],
            lazy=False,
        )
        self.assertEqual(sorted(round(g["exhaustion_rate"]) for g in hours), [10, 30])


@tagged("post_install", "-at_install")
class TestCostImport(CallTrackingCommon):
    @users("ct_admin")
    def test_import_cost_template(self):
        """The CSV template shipped in static/ imports as is (Odoo's import),
        onto the company's channels of the same names."""
        path = file_path("call_tracking/static/csv/call_tracking_cost_template.csv")
        with file_open(path) as template:
            header, *rows = list(csv.reader(template))
        result = self.env["call.tracking.cost"].load(header, rows)
        self.assertFalse(result["messages"], result["messages"])
        costs = self.env["call.tracking.cost"].browse(result["ids"])
        self.assertEqual(len(costs), 3)
        self.assertEqual(sum(costs.mapped("amount")), 4700.0)
        self.assertEqual(
            costs.channel_id, self.channel_google | self.channel_facebook | self.channel_billboard
        )
        board = costs.filtered(lambda cost: cost.channel_id == self.channel_billboard)
        self.assertEqual(str(board.date_to), "2026-03-31")
