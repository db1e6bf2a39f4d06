import random
from collections import deque

from odoo.tests.common import BaseCase

from ..tools.pool_sizing import erlang_b, offered_load, recommended_pool_size


def simulate_blocking(servers, arrivals_per_minute, hold_minutes, arrivals, seed):
    """Loss system with Poisson arrivals and *fixed* holds: the share of
    arrivals that find every number leased."""
    rng = random.Random(seed)
    busy_until = deque()  # fixed holds end in arrival order
    now = 0.0
    blocked = 0
    for _index in range(arrivals):
        now += rng.expovariate(arrivals_per_minute)
        while busy_until and busy_until[0] <= now:
            busy_until.popleft()
        if len(busy_until) < servers:
            busy_until.append(now + hold_minutes)
        else:
            blocked += 1
    return blocked / arrivals


class TestPoolSizing(BaseCase):
    def test_erlang_b_known_values(self):
        # published Erlang B table values
        self.assertAlmostEqual(erlang_b(10, 5), 0.01838, places=5)
        self.assertAlmostEqual(erlang_b(5, 2), 0.03670, places=5)
        self.assertAlmostEqual(erlang_b(20, 15), 0.04559, places=5)
        self.assertAlmostEqual(erlang_b(1, 1), 0.5)
        self.assertAlmostEqual(erlang_b(2, 1), 0.2)
        self.assertEqual(erlang_b(0, 3), 1.0)
        self.assertEqual(erlang_b(4, 0), 0.0)
        # the recurrence stays stable for big pools and loads
        self.assertLess(erlang_b(1100, 1000), 0.01)
        self.assertGreater(erlang_b(900, 1000), 0.05)

    def test_recommended_size(self):
        self.assertEqual(recommended_pool_size(5, 0.01), 11)  # B(10)=1.8%, B(11)=0.83%
        self.assertEqual(recommended_pool_size(5, 0.05), 9)  # B(8)=7.0%, B(9)=3.7%
        self.assertEqual(recommended_pool_size(0, 0.01), 0)
        size = recommended_pool_size(1000, 0.01)
        self.assertLessEqual(erlang_b(size, 1000), 0.01)
        self.assertGreater(erlang_b(size - 1, 1000), 0.01)
        self.assertIsNone(recommended_pool_size(1000, 0.01, max_size=500))
        with self.assertRaises(ValueError):
            recommended_pool_size(5, 0)
        with self.assertRaises(ValueError):
            recommended_pool_size(-1, 0.01)

    def test_offered_load(self):
        # 120 arrivals per hour, 30 min hold + 5 min average visit: 2/min x 35 min
        self.assertAlmostEqual(offered_load(120, 30, 5), 70.0)
        self.assertAlmostEqual(offered_load(0, 30, 5), 0.0)
        with self.assertRaises(ValueError):
            offered_load(10, -1)

    def test_monte_carlo(self):
        """Erlang B holds for fixed holds too (insensitivity), and the
        recommended size keeps the simulated exhaustion under the target."""
        rate, hold = 2.0, 2.5  # A = 5 Erlangs
        for servers in (7, 8, 9):
            with self.subTest(servers=servers):
                simulated = simulate_blocking(servers, rate, hold, 200_000, seed=servers)
                self.assertAlmostEqual(simulated, erlang_b(servers, rate * hold), delta=0.006)
        size = recommended_pool_size(rate * hold, 0.05)
        self.assertLessEqual(simulate_blocking(size, rate, hold, 200_000, seed=1), 0.05)
        self.assertGreater(simulate_blocking(size - 1, rate, hold, 200_000, seed=2), 0.05)
