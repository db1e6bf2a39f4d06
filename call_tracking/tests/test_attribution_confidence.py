import math
import random

from odoo.tests import tagged

from ..tools.attribution import (
    PRIOR,
    DelayModel,
    attribution_probability,
    attribution_shares,
    fit_delay_model,
    recommended_attribution_size,
)
from .attribution_sim import Scenario, make_traffic, make_world, observe, try_size
from .common import STATIC, CallTrackingCommon, later

DAY = 24 * 60


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
