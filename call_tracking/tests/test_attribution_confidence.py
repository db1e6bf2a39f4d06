import math
import random

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from ..tools.attribution import (
    PRIOR,
    DelayModel,
    attribution_probability,
    attribution_shares,
    fit_delay_model,
    recommended_attribution_size,
)
from .attribution_sim import Scenario, make_traffic, make_world, observe, try_size
from .common import CALLER, STATIC, CallTrackingCommon, later

DAY = 24 * 60


@tagged("post_install", "-at_install")
class TestLateCallWindow(CallTrackingCommon):
    def test_call_within_and_after_the_window(self):
        session = self._create_session(
            later(self.call_time, hours=-30), later(self.call_time, hours=-23)
        )
        call = self._process(self._event(call_id="within"))
        self.assertEqual(call.attribution_method, "session_expired")
        self.assertEqual(call.session_id, session)
        self.assertGreater(call.attribution_probability, 0.0)

        late = self._event(call_id="late", start=later(self.call_time, hours=2).isoformat() + "Z")
        call = self._process(late)
        self.assertEqual(call.attribution_method, "session_late")
        self.assertFalse(call.session_id)
        self.assertEqual(call.channel_id, self.channel_ads, "the pool's channel, without a visit")
        self.assertEqual(call.attribution_probability, 0.0)
        self.assertEqual(call.attribution_confidence, "none")
        self.assertTrue(call.lead_id, "an unattributed call still makes its lead")

        # a longer window: the same late call is attributed
        self.company.call_tracking_late_call_hours = 48
        call = self._process(dict(late, call_id="late-2"))
        self.assertEqual(call.session_id, session)


@tagged("post_install", "-at_install")
class TestSpamCalls(CallTrackingCommon):
    def _short_call(self, call_id, minutes, caller=CALLER):
        return self._event(
            call_id=call_id,
            start=later(self.call_time, minutes=minutes).isoformat() + "Z",
            duration=3,
            talk_duration=0,
            status="missed",
            **{"from": caller},
        )

    def test_blocklist_and_not_spam(self):
        blocked = self.env["call.tracking.blocked.number"].create(
            {"number": "+380 50 111 22 33", "note": "robocaller"}
        )
        self.assertEqual(blocked.number, CALLER, "stored in E.164")
        call = self._process(self._event())
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "blocklist")
        self.assertFalse(call.lead_id, "a spam call creates no lead")
        self.assertFalse(self.env["crm.lead"].search([("phone", "=", CALLER)]))

        # a manager's verdict: not spam, the lead is made then
        call.with_user(self.ct_admin).action_mark_not_spam()
        self.assertFalse(call.is_spam)
        self.assertTrue(call.spam_cleared)
        self.assertTrue(call.lead_id)
        self.assertEqual(call.lead_id.tracking_channel_id, call.channel_id)
        self.assertEqual(call.lead_id.phone, CALLER)
        # a later event of the call keeps its verdict and lead
        lead = call.lead_id
        self._process(self._event(talk_duration=120, duration=130))
        self.assertFalse(call.is_spam)
        self.assertEqual(call.lead_id, lead)

        # an archived entry no longer blocks
        blocked.active = False
        call = self._process(self._event(call_id="after-unblock"))
        self.assertFalse(call.is_spam)

    def test_block_caller(self):
        call = self._process(self._event())
        self.assertFalse(call.is_spam)
        lead = call.lead_id
        self.assertTrue(lead)
        # salespeople read the blocklist, they do not write it
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            call.with_user(self.salesman).action_block_caller()
        self.assertFalse(call.is_spam)

        call.with_user(self.ct_admin).action_block_caller()
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "blocklist")
        self.assertEqual(call.lead_id, lead, "the lead already made stays, for sales to close")
        blocked = self.env["call.tracking.blocked.number"].search([("number", "=", CALLER)])
        self.assertEqual(blocked.company_id, call.company_id)
        # the caller's next call is spam: no lead
        self.assertFalse(self._process(self._event(call_id="next")).lead_id)
        # an archived entry comes back rather than a second one
        blocked.active = False
        call.with_user(self.ct_admin).action_mark_not_spam()
        call.with_user(self.ct_admin).action_block_caller()
        self.assertTrue(blocked.active)
        self.assertEqual(
            self.env["call.tracking.blocked.number"]
            .with_context(active_test=False)
            .search_count([("number", "=", CALLER)]),
            1,
        )
        # nothing to block without a caller number
        hidden = self._process(self._event(call_id="hidden", **{"from": "anonymous"}))
        with self.assertRaises(UserError):
            hidden.with_user(self.ct_admin).action_block_caller()

    def test_repeated_short_calls(self):
        self.company.write(
            {"call_tracking_spam_repeat_count": 3, "call_tracking_spam_repeat_minutes": 10}
        )
        first = self._process(self._short_call("r1", 0))
        second = self._process(self._short_call("r2", 2))
        third = self._process(self._short_call("r3", 4))
        self.assertFalse(first.is_spam)
        self.assertFalse(second.is_spam)
        self.assertTrue(third.is_spam)
        self.assertEqual(third.spam_reason, "repeat")
        self.assertFalse(third.lead_id)
        # outside the window, or after a real conversation: not spam
        later_call = self._process(self._short_call("r4", 30))
        self.assertFalse(later_call.is_spam)
        other = "+380501114455"
        self._process(self._event(call_id="t1", **{"from": other}))  # 80 s of talk
        self._process(self._short_call("t2", 1, caller=other))
        self.assertFalse(self._process(self._short_call("t3", 2, caller=other)).is_spam)
        # the rule off
        self.company.call_tracking_spam_repeat_count = 0
        self.assertFalse(self._process(self._short_call("r5", 31)).is_spam)

    def test_no_caller_id(self):
        call = self._process(self._event(call_id="anon-1", **{"from": "anonymous"}))
        self.assertFalse(call.is_spam, "off by default")
        self.company.call_tracking_spam_no_caller_id = True
        call = self._process(self._event(call_id="anon-2", **{"from": "anonymous"}))
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "no_caller_id")
        self.assertFalse(call.lead_id)

    def test_spam_batched_decision(self):
        self.env["call.tracking.blocked.number"].create({"number": CALLER})
        reasons = self.env["call.tracking.call"]._get_spam_reasons(
            [
                (0, self.company.id, CALLER, self.call_time),
                (0, self.company_2.id, CALLER, self.call_time),  # another company's list
            ]
        )
        self.assertEqual(reasons, {0: "blocklist"})

    @users("ct_admin")
    def test_reports_leave_spam_out(self):
        self.env["call.tracking.blocked.number"].create({"number": CALLER})
        spam = self._process(self._event(call_id="spam", to=STATIC))
        fine = self._process(self._event(call_id="fine", to=STATIC, **{"from": "+380501119999"}))
        self.assertTrue(spam.is_spam)
        self.assertFalse(fine.is_spam)
        self.env.flush_all()
        Report = self.env["call.tracking.call.report"]
        ours = [("call_id", "in", (spam | fine).ids)]
        self.assertEqual(Report.search(ours).call_id, fine)
        [[count]] = Report._read_group(ours, aggregates=["call_count:sum"])
        self.assertEqual(count, 1)
        self.assertEqual(Report.search([*ours, ("is_spam", "=", True)]).call_id, spam)
        # the calls menu hides them, the Spam filter shows them; code sees all
        Call = self.env["call.tracking.call"]
        hidden = Call.with_context(call_tracking_hide_spam=True)
        ours = [("provider_call_id", "in", ("spam", "fine"))]
        self.assertEqual(hidden.search(ours), fine)
        self.assertEqual(hidden.search([*ours, ("is_spam", "=", True)]), spam)
        self.assertEqual(Call.search(ours), spam | fine)
        # records asked for by id are read (a form, a link)
        self.assertEqual(hidden.search([("id", "in", (spam | fine).ids)]), spam | fine)
        # cost per channel: the spam call is not a call of the channel
        cost = self.env["call.tracking.cost.report"].search(
            [("channel_id", "=", self.channel_static.id)]
        )
        self.assertEqual(sum(cost.mapped("call_count")), 1)


@tagged("post_install", "-at_install")
class TestAttributionProbability(CallTrackingCommon):
    def test_longer_delay_lower_probability(self):
        window = DAY
        values = [
            attribution_probability(PRIOR, [delay], window)
            for delay in (0.5, 15, 45, 120, 360, 1000)
        ]
        self.assertEqual(values, sorted(values, reverse=True))
        self.assertGreater(values[0], values[-1])
        # with an earlier holder as well
        values = [
            attribution_probability(PRIOR, [delay, delay + 60], window)
            for delay in (0.5, 15, 45, 120, 360)
        ]
        self.assertEqual(values, sorted(values, reverse=True))
        self.assertGreater(values[0], values[-1])

    def test_more_holders_lower_probability(self):
        window = DAY
        holders = [40, 75, 110, 150, 200]
        values = [attribution_probability(PRIOR, holders[:count], window) for count in range(1, 6)]
        self.assertEqual(values, sorted(values, reverse=True))
        self.assertGreater(values[0] - values[-1], 0.05)

    def test_probability_of_calls(self):
        # a single live holder, the visitor still active
        first = self._create_session(
            later(self.call_time, minutes=-10),
            later(self.call_time, minutes=20),
            last_seen_at=later(self.call_time, seconds=-30),
        )
        alone = self._process(self._event(call_id="alone"))
        self.assertGreater(alone.attribution_probability, 0.95)
        self.assertEqual(alone.lead_id.call_attribution_probability, alone.attribution_probability)
        # a lapsed lease, and another visitor held the number before
        first.unlink()
        self._create_session(
            later(self.call_time, hours=-3), later(self.call_time, hours=-2), visitor_key="a"
        )
        self._create_session(
            later(self.call_time, minutes=-100), later(self.call_time, minutes=-50),
            visitor_key="b",
            last_seen_at=later(self.call_time, minutes=-80),
        )  # fmt: skip
        shared = self._process(self._event(call_id="shared", **{"from": "+380501110000"}))
        self.assertEqual(shared.attribution_method, "session_expired")
        self.assertEqual(shared.attribution_delay, 80.0)
        self.assertLess(shared.attribution_probability, alone.attribution_probability)
        self.assertGreater(shared.attribution_probability, 0.0)
        # static channel: its number is the channel's own
        static = self._process(self._event(call_id="static", to=STATIC))
        self.assertEqual(static.attribution_probability, 1.0)

    def test_delay_model_learned(self):
        rng = random.Random(7)
        truth = DelayModel(mu=math.log(45), sigma=0.8)
        delays = []
        while len(delays) < 300:
            delay = rng.lognormvariate(truth.mu, truth.sigma)
            if 2 < delay <= 90:  # seen on live leases: within the hold
                delays.append((delay, 90))
        model = fit_delay_model(150, delays, 5.0)
        self.assertGreater(model.median, 35)
        self.assertLess(model.median, 60)
        self.assertEqual(model.visit_minutes, 5.0)
        # too few calls: the prior
        self.assertEqual(fit_delay_model(3, delays[:5], 5.0), PRIOR)

    def test_recommended_size_properties(self):
        levels = [(120, 8), (40, 16)]
        size = recommended_attribution_size(levels, 30, PRIOR, 0.97)
        right, wrong, lost = attribution_shares(size, levels, 30, PRIOR)
        self.assertGreaterEqual(right, 0.97)
        self.assertAlmostEqual(right + wrong + lost, 1.0, places=6)
        self.assertLess(attribution_shares(size - 1, levels, 30, PRIOR)[0], 0.97)
        # longer call delays need a bigger pool
        slow = DelayModel(mu=math.log(60))
        self.assertGreater(recommended_attribution_size(levels, 30, slow, 0.97), size)


@tagged("post_install", "-at_install")
class TestRecommendationSimulation(CallTrackingCommon):
    def test_recommended_size_against_simulation(self):
        """A small run of the bench's simulation through the real assignment
        and attribution: the recommended size reaches the target share (a
        small sample: within 2 points), a clearly smaller pool does not."""
        scenario = Scenario(daily_visitors=200, draws=4)
        world = make_world(self.env, max_size=60)
        start = self.env.cr.now().replace(hour=0, minute=0, second=0, microsecond=0)
        start = later(start, days=-3)
        figures, _visitors = observe(world, scenario, start, seed=11, size=10)
        recommended = figures["attribution_size"]
        self.assertGreater(recommended, 0)
        self.assertLessEqual(recommended, 60)
        visitors, requests = make_traffic(scenario, later(start, days=1), seed=12)
        at_recommended = try_size(world, visitors, requests, recommended, seed=12)
        smaller = max(recommended * 6 // 10, 1)
        at_smaller = try_size(world, visitors, requests, smaller, seed=12)
        target = self.company.call_tracking_attribution_target
        self.assertGreater(at_recommended.total, 600, "every visitor's call, four draws each")
        self.assertGreaterEqual(at_recommended.share("right"), target - 2.0)
        # nothing is lost at the recommended size: its pool is not exhausted,
        # and every call comes after the page view that showed its number
        self.assertEqual(at_recommended.lost, 0)
        self.assertLess(at_smaller.share("right"), target - 2.0)
        self.assertGreater(at_smaller.share("wrong") + at_smaller.share("lost"), 5.0)

    def test_simulated_traffic(self):
        """The simulation's visitors: reproducible from the seed, each call
        time after the visitor's arrival, the draws independent."""
        scenario = Scenario(daily_visitors=300, draws=3)
        start = self.env.cr.now().replace(hour=0, minute=0, second=0, microsecond=0)
        visitors, requests = make_traffic(scenario, start, seed=5)
        again, _requests = make_traffic(scenario, start, seed=5)
        self.assertEqual(
            [(v.address, v.call_at) for v in visitors], [(v.address, v.call_at) for v in again]
        )
        self.assertGreater(len({v.address for v in visitors}), 0.95 * len(visitors))
        for visitor in visitors:
            self.assertEqual(len(visitor.probes), 2)
            for call_at, after in [(visitor.call_at, visitor.after), *visitor.probes]:
                self.assertGreaterEqual(call_at, visitor.arrival)
                if after:
                    self.assertGreater(call_at, visitor.leave)
                else:
                    self.assertLessEqual(call_at, visitor.leave)
        calls = [r for r in requests if r[2] in ("call", "probe")]
        self.assertEqual(len(calls), 3 * len(visitors))
        after = sum(1 for r in calls if r[3][2]) / len(calls)
        self.assertAlmostEqual(after, scenario.after_share, delta=0.05)
        self.assertEqual(requests, sorted(requests, key=lambda r: (r[0], r[1])))
