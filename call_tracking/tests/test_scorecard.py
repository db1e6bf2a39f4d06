"""Quality scorecards: the arithmetic, suggestions from the transcript, the
report's averages per salesperson and week, and who may read or score."""

from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestScorecard(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Criterion = cls.env["call.tracking.score.criterion"]
        # the company's own checklist (the shipped one archived)
        Criterion.search([]).active = False
        cls.greeting, cls.need, cls.offer, cls.next_step = Criterion.create(
            [
                {
                    "name": "Greeting CT",
                    "sequence": 1,
                    "weight": 1,
                    "phrase_ids": [(0, 0, {"name": "good morning", "lang": "en"})],
                },
                {"name": "Need CT", "sequence": 2, "weight": 2},
                {
                    "name": "Offer CT",
                    "sequence": 3,
                    "weight": 3,
                    "phrase_ids": [
                        (0, 0, {"name": "we can offer", "lang": "en"}),
                        (0, 0, {"name": "можемо запропонувати", "lang": "uk"}),
                    ],
                },
                {"name": "Next step CT", "sequence": 4, "weight": 4},
            ]
        )
        cls.criterion_2 = Criterion.create(
            {"name": "Greeting 2", "weight": 1, "company_id": cls.company_2.id}
        )
        Call = cls.env["call.tracking.call"]
        rows = [
            # salesperson, start (weeks 2 and 3 of 2026), status, talk
            (cls.salesman, datetime(2026, 1, 5, 10), "answered", 60),
            (cls.salesman, datetime(2026, 1, 6, 10), "answered", 120),
            (cls.salesman, datetime(2026, 1, 13, 10), "missed", 0),
            (cls.salesman2, datetime(2026, 1, 7, 10), "answered", 30),
            (cls.salesman2, datetime(2026, 1, 8, 10), "answered", 90),
        ]
        cls.calls = Call.create(
            [
                {
                    "provider_id": cls.provider.id,
                    "provider_call_id": f"score-{index}",
                    "company_id": cls.company.id,
                    "caller_number": f"+38050111000{index}",
                    "start_at": start,
                    "status": status,
                    "talk_duration": talk,
                    "user_id": user.id,
                }
                for index, (user, start, status, talk) in enumerate(rows)
            ]
        )
        cls.call_2 = Call.create(
            {
                "provider_id": cls.provider.id,
                "provider_call_id": "score-company-2",
                "company_id": cls.company_2.id,
                "caller_number": "+380501119999",
                "status": "answered",
            }
        )

    def _score(self, call, ticked, done=True):
        call.with_user(self.manager).action_score()
        scorecard = call.scorecard_id
        for line in scorecard.line_ids:
            line.with_user(self.manager).checked = line.criterion_id in ticked
        if done:
            scorecard.with_user(self.manager).action_done()
        return scorecard

    def test_score_arithmetic(self):
        call = self.calls[0]
        scorecard = self._score(call, self.greeting | self.offer, done=False)
        self.assertEqual(
            scorecard.line_ids.criterion_id, self.greeting | self.need | self.offer | self.next_step
        )
        self.assertEqual(scorecard.line_ids.mapped("weight"), [1, 2, 3, 4])
        # (1 + 3) / (1 + 2 + 3 + 4)
        self.assertAlmostEqual(scorecard.score, 40.0)
        # the call's score counts once marked scored
        self.assertFalse(call.score)
        scorecard.with_user(self.manager).action_done()
        self.assertAlmostEqual(call.score, 40.0)
        self.assertEqual(scorecard.scorer_id, self.manager)
        # a later change of the checklist leaves the given score alone
        self.offer.weight = 10
        self.assertAlmostEqual(scorecard.score, 40.0)
        # scoring again keeps the scorecard
        call.with_user(self.manager).action_score()
        self.assertEqual(call.scorecard_ids, scorecard)
        self._score(self.calls[1], self.greeting | self.need | self.offer | self.next_step)
        self.assertAlmostEqual(self.calls[1].score, 100.0)
        self._score(self.calls[3], self.env["call.tracking.score.criterion"])
        self.assertEqual(self.calls[3].score, 0.0)

    def test_suggestions_pre_tick_and_the_manager_decides(self):
        call = self.calls[0]
        call.write(
            {
                "transcript_state": "done",
                "transcript_lang": "en",
                "transcript": "good morning thank you for calling we can offer you a discount",
            }
        )
        call.with_user(self.manager).action_score()
        lines = {line.criterion_id: line for line in call.scorecard_id.line_ids}
        self.assertTrue(lines[self.greeting].suggested)
        self.assertTrue(lines[self.greeting].checked)
        self.assertEqual(lines[self.offer].suggested_phrase, "we can offer")
        self.assertFalse(lines[self.need].suggested or lines[self.need].checked)
        # the manager disagrees: their answer counts, the suggestion stays visible
        lines[self.offer].with_user(self.manager).checked = False
        self.assertTrue(lines[self.offer].suggested)
        self.assertAlmostEqual(call.scorecard_id.score, 10.0)
        # a new transcript refreshes suggestions, never the manager's ticks
        call.write(
            {"transcript": "доброго дня, можемо запропонувати знижку", "transcript_lang": "uk"}
        )
        call.scorecard_ids._refresh_suggestions()
        self.assertFalse(lines[self.greeting].suggested)
        self.assertTrue(lines[self.greeting].checked)
        self.assertTrue(lines[self.offer].suggested)
        self.assertFalse(lines[self.offer].checked)

    def test_report_average_per_salesperson_and_week(self):
        # salesman: 40 and 100 in week 2, missed call in week 3; salesman2: 0, and a draft
        self._score(self.calls[0], self.greeting | self.offer)
        self._score(self.calls[1], self.greeting | self.need | self.offer | self.next_step)
        self._score(self.calls[3], self.env["call.tracking.score.criterion"])
        self._score(self.calls[4], self.greeting, done=False)
        Report = self.env["call.tracking.call.report"].with_user(self.manager)
        domain = [("call_id", "in", self.calls.ids)]
        groups = Report._read_group(
            domain,
            ["user_id"],
            [
                "score:avg",
                "scored_count:sum",
                "call_count:sum",
                "missed_count:sum",
                "talk_duration:sum",
            ],
        )
        by_user = {user: values for user, *values in groups}
        self.assertEqual(by_user[self.salesman], [70.0, 2, 3, 1, 180])
        self.assertEqual(by_user[self.salesman2], [0.0, 1, 2, 0, 120])
        # per week: a ratio of sums in every cell, not an average of averages
        weeks = Report._read_group(domain, ["start_at:week"], ["score:avg", "scored_count:sum"])
        self.assertEqual([values for __, *values in weeks], [[(40 + 100 + 0) / 3, 3], [False, 0]])
        # the pivot and graph read the same way
        pivot = Report.read_group(domain, ["score:avg"], ["user_id"], lazy=False)
        self.assertEqual(
            {group["user_id"][0]: group["score"] for group in pivot},
            {self.salesman.id: 70.0, self.salesman2.id: 0.0},
        )

    def test_access(self):
        scorecard = self._score(self.calls[0], self.greeting)
        # the salesperson reads the score of their own call
        own = self.calls[0].with_user(self.salesman)
        self.assertAlmostEqual(own.score, 10.0)
        self.assertEqual(own.scorecard_line_ids.filtered("checked").criterion_id, self.greeting)
        # but does not score
        with self.assertRaises(AccessError):
            own.action_score()
        with self.assertRaises(AccessError):
            scorecard.line_ids[1].with_user(self.salesman).checked = True
        with self.assertRaises(AccessError):
            scorecard.with_user(self.salesman).action_done()
        with self.assertRaises(AccessError):
            self.env["call.tracking.score.criterion"].with_user(self.salesman).create(
                {"name": "Mine", "weight": 1}
            )
        # nor reads another salesperson's scorecard
        with self.assertRaises(AccessError):
            scorecard.with_user(self.salesman2).read(["score"])
        # another company's manager sees neither the scorecard nor the checklist
        with self.assertRaises(AccessError):
            scorecard.with_user(self.manager_2).read(["score"])
        self.assertNotIn(
            self.greeting,
            self.env["call.tracking.score.criterion"].with_user(self.manager_2).search([]),
        )
        # a call is scored against its own company's checklist
        self.call_2.with_user(self.manager_2).with_company(self.company_2).action_score()
        self.assertEqual(self.call_2.scorecard_id.line_ids.criterion_id, self.criterion_2)

    def test_keyword_tag_report(self):
        """Tags as a pivot dimension: one row per call and tag; the Call Analysis filters by tag."""
        Tag = self.env["call.tracking.tag"]
        price, delivery = Tag.create([{"name": "Price R"}, {"name": "Delivery R"}])
        self.calls[0].tag_ids = price | delivery
        self.calls[2].tag_ids = price
        self.calls[3].tag_ids = delivery
        self._score(self.calls[0], self.greeting | self.offer)
        self._score(self.calls[3], self.need)
        report = self.env["call.tracking.tag.report"].with_user(self.manager)
        groups = report._read_group(
            [("call_id", "in", self.calls.ids)],
            ["tag_id"],
            ["call_count:sum", "missed_count:sum", "missed_rate:avg", "score:avg"],
        )
        self.assertEqual(
            {tag: values for tag, *values in groups},
            {
                # calls 0 (answered, 40 %) and 2 (missed)
                price: [2, 1, 50.0, 40.0],
                # calls 0 (40 %) and 3 (20 %), both answered
                delivery: [2, 0, 0.0, 30.0],
            },
        )
        self.assertEqual((price.call_count, delivery.call_count), (2, 2))
        self.assertEqual(
            self.env["call.tracking.call"].search(price.action_open_calls()["domain"]),
            self.calls[0] | self.calls[2],
        )
        analysis = self.env["call.tracking.call.report"].with_user(self.manager)
        self.assertEqual(
            analysis.search([("tag_ids", "in", price.ids)]).call_id, self.calls[0] | self.calls[2]
        )
