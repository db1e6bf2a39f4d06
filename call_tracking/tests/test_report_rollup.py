from datetime import datetime
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from ..report.call_tracking_call_report_rollup import ROLLUP_TABLES
from ..report.call_tracking_call_report_rollup import CallTrackingCallReport as RollupReport
from .common import CallTrackingCommon, rollup_build, rollup_tables

TZ = "Europe/Kyiv"


class Interrupted(Exception):
    pass


@tagged("post_install", "-at_install")
class TestCallReportRollup(CallTrackingCommon):
    """The Call Analysis read from its daily roll-up equals the raw view's
    figures, falls back to the raw view where the roll-up cannot answer, and
    follows late edits, deletions and interrupted refreshes.

    10 calls over 2 channels, 2 campaigns, January to March 2026 (Kyiv time,
    UTC+2): calls near midnight (UTC 22:30 is the next local day), 4 leads
    of which 2 won, answered, missed and busy calls, targeted and
    untargeted ones.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the roll-up's days are each company's local days: one time zone
        cls.env["res.company"].search([]).partner_id.write({"tz": TZ})
        Report = cls.env["call.tracking.call.report"]
        cls.Report = Report
        cls.google, cls.board = cls.env["call.tracking.channel"].create(
            [
                {"name": "Google (rollup)", "company_id": cls.company.id},
                {"name": "Board (rollup)", "company_id": cls.company.id, "is_offline": True},
            ]
        )
        cls.spring, cls.winter = cls.env["utm.campaign"].create(
            [{"name": "Spring (rollup)"}, {"name": "Winter (rollup)"}]
        )
        cls.won_stage = cls.env["crm.stage"].create({"name": "Rollup Won", "is_won": True})
        cls.leads = cls.env["crm.lead"].create(
            [
                {
                    "name": f"Rollup L{index}",
                    "type": "opportunity",
                    "company_id": cls.company.id,
                    "expected_revenue": revenue,
                    "call_quality": quality,
                }
                for index, (revenue, quality) in enumerate(
                    [(1000.0, "targeted"), (500.0, "targeted"), (700.0, "untargeted"),
                     (300.0, False)], 1
                )
            ]
        )  # fmt: skip
        cls.leads[:2].write({"stage_id": cls.won_stage.id, "date_closed": datetime(2026, 3, 1)})
        L1, L2, L3, L4 = cls.leads
        rows = [
            # channel, campaign, start (UTC), caller, status, talk, lead
            (cls.google, cls.spring, datetime(2026, 1, 5, 10), "1", "answered", 60, L1),
            (cls.google, cls.spring, datetime(2026, 1, 5, 22, 30), "1", "answered", 120, L1),
            (cls.google, cls.winter, datetime(2026, 1, 20, 12), "2", "missed", 0, L3),
            (cls.board, None, datetime(2026, 1, 31, 22, 30), "3", "answered", 30, L2),
            (cls.google, cls.spring, datetime(2026, 2, 3, 10), "4", "answered", 150, L4),
            (cls.google, None, datetime(2026, 2, 4, 15), "1", "busy", 0, None),
            (cls.board, cls.winter, datetime(2026, 2, 10, 16), "5", "answered", 45, L2),
            (cls.board, cls.winter, datetime(2026, 2, 28, 23), "6", "answered", 20, None),
            (cls.google, cls.spring, datetime(2026, 3, 2, 8), "7", "missed", 0, None),
            (cls.google, cls.spring, datetime(2026, 3, 2, 9), "7", "answered", 75, L3),
        ]
        cls.calls = cls.env["call.tracking.call"].create(
            [
                {
                    "provider_id": cls.provider.id,
                    "provider_call_id": f"rollup-{index}",
                    "company_id": cls.company.id,
                    "channel_id": channel.id,
                    "campaign_id": campaign.id if campaign else False,
                    "start_at": start,
                    "caller_number": f"+38050222000{caller}",
                    "status": status,
                    "talk_duration": talk,
                    "duration": talk + 10,
                    "lead_id": lead.id if lead else False,
                    "user_id": cls.salesman.id,
                    "attribution_method": "static",
                }
                for index, (channel, campaign, start, caller, status, talk, lead) in enumerate(
                    rows, 1
                )
            ]
        )
        cls.domain = [("channel_id", "in", (cls.google | cls.board).ids)]
        measures = Report._rollup_measures()
        cls.measures = [
            *(f"{name}:sum" for name in measures["sum"]),
            *(f"{name}:avg" for name in measures["avg"]),
            *(f"{name}:avg" for name in Report._report_ratios),
        ]
        rollup_build(cls.env)

    def _read(self, domain, groupby, measures=None, rollup=True):
        """(groups, the roll-up table that answered or None)."""
        report = self.Report.with_user(self.manager).with_context(
            tz=TZ, call_tracking_rollup=None if rollup else False
        )
        with rollup_tables() as answers:
            groups = report.read_group(
                self.domain + domain, measures or self.measures, groupby, lazy=False
            )
        return groups, next(filter(None, answers), None)

    def _assert_same(self, domain, groupby, measures=None, table=None):
        raw, raw_path = self._read(domain, groupby, measures, rollup=False)
        rolled, rollup_path = self._read(domain, groupby, measures)
        self.assertFalse(raw_path)
        self.assertTrue(rollup_path, "the roll-up should answer")
        if table:
            self.assertEqual(rollup_path, table)
        self.assertTrue(raw)
        # every cell and every measure, exactly (the __domain names no table)
        self.assertEqual(rolled, raw)
        return raw

    def test_covered_reads_equal_raw_view(self):
        by_channel, by_month, by_day = (table for table, _period, _dims in ROLLUP_TABLES)
        # local midnights in Kyiv (UTC+2): Feb 1 00:00 to Mar 1 00:00, and to Mar 2 00:00
        february = [
            ("start_at", ">=", "2026-01-31 22:00:00"),
            ("start_at", "<", "2026-02-28 22:00:00"),
        ]
        to_march_2 = [
            ("start_at", ">=", "2026-01-31 22:00:00"),
            ("start_at", "<", "2026-03-01 22:00:00"),
        ]
        cases = [
            ([], ["channel_id", "start_at:month"], by_channel),
            ([], ["start_at:day"], by_day),
            ([], ["campaign_id", "status", "quality"], by_channel),
            ([], ["user_id", "start_at:week", "weekday"], by_day),
            ([], ["user_id", "start_at:quarter"], by_month),
            ([("user_id", "=", self.salesman.id)], ["channel_id", "start_at:year"], by_month),
            ([], ["weekday"], by_day),
            ([("status", "=", "answered")], ["channel_id"], by_channel),
            ([("campaign_id.name", "ilike", "spring")], ["start_at:month"], by_channel),
            (to_march_2, ["channel_id", "start_at:day"], by_day),
            (february, ["channel_id", "start_at:month"], by_channel),
            (to_march_2, ["channel_id", "start_at:month"], by_day),
            ([], [], by_channel),
        ]  # fmt: skip
        for domain, groupby, table in cases:
            with self.subTest(domain=domain, groupby=groupby):
                self._assert_same(domain, groupby, table=table)
        # hand check of a cell: January in Kyiv holds the call of Jan 31
        # 22:30 UTC in February (Feb 1 00:30 local)
        groups = self._assert_same([], ["channel_id", "start_at:month"])
        cells = {(g["channel_id"][0], g["start_at:month"]): g for g in groups}
        board_feb = cells[(self.board.id, "February 2026")]
        self.assertEqual(board_feb["call_count"], 2)
        self.assertEqual(board_feb["lead_count"], 1)
        self.assertEqual(board_feb["won_revenue"], 500.0)
        self.assertEqual(cells[(self.google.id, "January 2026")]["avg_talk_time"], 90.0)

    def test_uncovered_reads_fall_back(self):
        cases = [
            ([], ["channel_id"], ["call_count:sum", "caller_key:count_distinct"]),
            ([], ["hour"], None),
            ([], ["start_at:hour"], None),
            ([], ["lead_id"], None),
            ([("start_at", ">=", "2026-02-01 10:00:00")], ["channel_id"], None),
            ([("lead_id", "!=", False)], ["channel_id"], None),
            ([("caller_number", "=", "+380502220001")], ["channel_id"], None),
        ]
        for domain, groupby, measures in cases:
            with self.subTest(domain=domain, groupby=groupby, measures=measures):
                groups, rollup_path = self._read(domain, groupby, measures)
                self.assertFalse(rollup_path)
                self.assertTrue(groups)
        # another time zone than the companies': local days do not match
        report = self.Report.with_user(self.manager).with_context(tz="America/New_York")
        self.assertFalse(report._rollup_covers(self.domain, ["start_at:month"], ["call_count:sum"]))
        self.assertTrue(
            report.with_context(tz=TZ)._rollup_covers(
                self.domain, ["start_at:month"], ["call_count:sum"]
            )
        )

    def test_late_edits_reach_rollup(self):
        groupby = ["channel_id", "start_at:month"]
        before, __ = self._read([], groupby)
        # a call re-qualified, a lead won, a call deleted, a call moved to
        # another month and a call handed to another lead
        self.calls[2].lead_id.write({"call_quality": "targeted"})
        self.calls[2].write({"quality": "targeted"})
        self.leads[3].write({"stage_id": self.won_stage.id})
        self.calls[5].unlink()
        self.calls[7].write({"start_at": datetime(2026, 3, 15, 12)})
        self.calls[6].write({"lead_id": self.leads[3].id})
        raw, __ = self._read([], groupby, rollup=False)
        stale, rollup_path = self._read([], groupby)
        self.assertTrue(rollup_path)
        self.assertEqual(stale, before, "the roll-up changes only when refreshed")
        self.assertNotEqual(stale, raw)
        self.Report._rollup_refresh()
        self._assert_same([], groupby, table=ROLLUP_TABLES[0][0])
        self._assert_same([], ["user_id", "status", "start_at:month"], table=ROLLUP_TABLES[1][0])
        self._assert_same([], ["campaign_id", "quality", "start_at:day"])

    def test_lead_deleted_reaches_rollup(self):
        self.leads[1].unlink()
        self.Report._rollup_refresh()
        groups = self._assert_same([], ["channel_id", "start_at:month"])
        self.assertEqual(sum(g["won_revenue"] for g in groups), 1000.0)

    def test_interrupted_refresh(self):
        groupby = ["channel_id", "start_at:day"]
        self.calls[0].write({"status": "missed", "talk_duration": 0})
        self.calls[8].write({"status": "answered", "talk_duration": 33})
        self.leads[2].write({"expected_revenue": 900.0, "stage_id": self.won_stage.id})
        refresh_batch = RollupReport._rollup_refresh_batch

        def queued():
            self.env.cr.execute(
                SQL("SELECT count(DISTINCT (company_id, day)) FROM call_tracking_call_rollup_queue")
            )
            return self.env.cr.fetchone()[0]

        # a first step: the changed days queued with the watermark, one of
        # them recomputed (a cron step is one transaction)
        self.assertEqual(self.Report._rollup_refresh(batch_days=1), 1)
        left = queued()
        self.assertGreaterEqual(left, 2)

        def killed(model, days):
            refresh_batch(model, days)
            raise Interrupted()

        # the next step is killed after its batch: its transaction is rolled back
        with (
            patch.object(RollupReport, "_rollup_refresh_batch", killed),
            self.assertRaises(Interrupted),
            self.env.cr.savepoint(),
        ):
            self.Report._rollup_refresh(batch_days=1)
        self.assertEqual(queued(), left, "nothing lost")
        # the rows are each a consistent day, the old or the new one
        self.env.cr.execute(
            SQL("SELECT count(*) FROM call_tracking_call_rollup WHERE __count <= 0")
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # the next run completes it
        self.assertGreaterEqual(self.Report._rollup_refresh(), left)
        self.assertEqual(queued(), 0)
        self._assert_same([], groupby)
        self._assert_same([], ["channel_id", "start_at:month"], table=ROLLUP_TABLES[0][0])
        self._assert_same([], ["user_id", "start_at:month"], table=ROLLUP_TABLES[1][0])

    def test_freshness_note(self):
        freshness = self.Report.with_user(self.manager).get_rollup_freshness()
        self.assertTrue(freshness["refreshed_at"])
        self.assertIn("refreshed", freshness["note"])
        self.assertFalse(freshness["standby"])
        self.assertIsNone(freshness["replication_lag_seconds"])
        # before any refresh: the raw view, and the note says so
        self.env.cr.execute(
            SQL("UPDATE call_tracking_call_rollup_state SET refreshed_at = NULL, watermark = NULL")
        )
        self.assertFalse(self.Report._rollup_covers(self.domain, ["channel_id"], []))
        freshness = self.Report.with_user(self.manager).get_rollup_freshness()
        self.assertIn("not built yet", freshness["note"])

    def test_rebuild_in_steps(self):
        """A rebuild (won stages or time zones changed) runs in steps like
        any refresh; until its last step the reads take the raw view."""
        self.env.cr.execute(
            SQL("UPDATE call_tracking_call_rollup_state SET data_signature = 'changed'")
        )
        self.assertEqual(self.Report._rollup_refresh(batch_days=2), 2)
        self.assertIsNone(self.Report._rollup_state(), "not complete: no state")
        groups, table = self._read([], ["channel_id", "start_at:month"])
        self.assertIsNone(table, "the raw view answers meanwhile")
        raw, __ = self._read([], ["channel_id", "start_at:month"], rollup=False)
        self.assertEqual(groups, raw)
        # (the days of this transaction's calls come back at each step: the
        # watermark cannot pass a transaction still open, this test's own)
        rollup_build(self.env)
        self._assert_same([], ["channel_id", "start_at:month"], table=ROLLUP_TABLES[0][0])
        self._assert_same([], ["user_id", "start_at:day"], table=ROLLUP_TABLES[2][0])
