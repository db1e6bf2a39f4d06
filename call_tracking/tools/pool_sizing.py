"""Pool sizing with the Erlang B formula.

A dynamic pool behaves like a loss system M/G/N/N: visitors arrive (roughly
Poisson), each one holds a number for a while, and a visitor who arrives when
all N numbers are held sees the fallback number (an *exhaustion*) instead of
waiting. The blocking probability of such a system depends only on the
offered load ``A = arrival rate x mean holding time`` (Erlangs), not on the
distribution of the holding time (insensitivity), and is given by Erlang B.

Plain functions, no ORM: the pool model and the tests both call them.
"""

import math

# A pool bigger than this is a configuration problem, not a sizing result.
MAX_POOL_SIZE = 100000


def offered_load(arrivals_per_hour, hold_minutes, visit_minutes=0.0):
    """Offered load in Erlangs.

    :param arrivals_per_hour: new visitors per hour at the peak hour
    :param hold_minutes: the pool's hold time after the visitor's last activity
    :param visit_minutes: the average visit length (first to last activity);
        a number stays leased for the visit *plus* the hold time
    """
    if arrivals_per_hour < 0 or hold_minutes < 0 or visit_minutes < 0:
        raise ValueError("Arrivals and durations cannot be negative.")
    return arrivals_per_hour / 60.0 * (hold_minutes + visit_minutes)


def erlang_b(servers, load):
    """Blocking probability B(N, A) of an M/G/N/N loss system.

    Stable recurrence: B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)).
    """
    if servers < 0 or load < 0:
        raise ValueError("The pool size and the load cannot be negative.")
    if not math.isfinite(load):
        raise ValueError("The load must be finite.")
    blocking = 1.0
    for n in range(1, int(servers) + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def recommended_pool_size(load, target=0.01, max_size=MAX_POOL_SIZE):
    """Smallest N with B(N, load) <= target.

    :param load: offered load in Erlangs
    :param target: acceptable blocking probability, 0 < target < 1
    :return: the pool size, or ``None`` when even ``max_size`` is not enough
    """
    if not 0 < target < 1:
        raise ValueError("The target blocking probability must be between 0 and 1.")
    if load < 0 or not math.isfinite(load):
        raise ValueError("The load must be a non-negative finite number.")
    if load == 0:
        return 0
    blocking = 1.0
    for n in range(1, max_size + 1):
        blocking = load * blocking / (n + load * blocking)
        if blocking <= target:
            return n
    return None
