"""Call-centre staffing with the Erlang C formula.

Incoming calls form a queueing system M/M/N: callers arrive (roughly
Poisson), each one is handled for the average handling time (talk plus
wrap-up), and a caller who finds every agent busy waits. With an offered
load ``A = arrivals x handling time / interval`` (Erlangs) and ``N`` agents:

* Erlang C, the probability that a caller waits:
  ``C(N, A) = N B(N, A) / (N - A (1 - B(N, A)))`` for ``N > A``, computed
  from the stable Erlang B recurrence of ``pool_sizing.erlang_b`` (no
  factorials, no powers: exact for hundreds of agents);
* the service level, the share answered within ``t`` seconds:
  ``1 - C(N, A) exp(-(N - A) t / AHT)``;
* the average speed of answer: ``C(N, A) AHT / (N - A)``;
* the occupancy ``A / N``.

With ``N <= A`` the queue grows without end: the load *cannot be served*
(:class:`Unservable`), never an infinite or negative number.

Plain functions, no ORM: the staffing model and the tests both call them.
"""

import math
from dataclasses import dataclass

from .pool_sizing import erlang_b

# More agents than this for one interval is a configuration problem.
MAX_AGENTS = 10000


class Unservable(ValueError):
    """The offered load needs at least as many agents as it has Erlangs."""


def offered_load(arrivals, handling_seconds, interval_seconds=3600):
    """Erlangs offered by ``arrivals`` calls per interval of
    ``interval_seconds``, each handled for ``handling_seconds``."""
    if arrivals < 0 or handling_seconds < 0:
        raise ValueError("Arrivals and handling time cannot be negative.")
    if interval_seconds <= 0:
        raise ValueError("The interval must be longer than zero.")
    return arrivals * handling_seconds / interval_seconds


def erlang_c(agents, load):
    """Probability that a caller waits, C(N, A); Unservable for N <= A."""
    if agents < 0 or load < 0 or not math.isfinite(load):
        raise ValueError("The agents and the load must be non-negative and finite.")
    if load == 0:
        return 0.0
    if agents <= load:
        raise Unservable(f"{load:.2f} Erlangs cannot be served by {agents} agents")
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def service_level(agents, load, handling_seconds, answer_seconds):
    """Share of callers answered within ``answer_seconds`` (0 to 1)."""
    if load == 0:
        return 1.0
    wait = erlang_c(agents, load)
    return 1 - wait * math.exp(-(agents - load) * answer_seconds / handling_seconds)


def average_speed_of_answer(agents, load, handling_seconds):
    """Average wait in seconds over all callers."""
    if load == 0:
        return 0.0
    return erlang_c(agents, load) * handling_seconds / (agents - load)


@dataclass(frozen=True)
class Advice:
    agents: int
    load: float
    waiting_probability: float
    service_level: float
    average_speed_of_answer: float
    occupancy: float


def agents_needed(
    arrivals,
    handling_seconds,
    interval_seconds=3600,
    target_level=0.8,
    answer_seconds=20,
    max_occupancy=1.0,
    max_agents=MAX_AGENTS,
):
    """The smallest number of agents that answers ``target_level`` of the
    calls within ``answer_seconds`` with an occupancy at most
    ``max_occupancy``, as an :class:`Advice`; Unservable when even
    ``max_agents`` are not enough."""
    if not 0 < target_level < 1:
        raise ValueError("The service level target must be between 0 and 100%.")
    if not 0 < max_occupancy <= 1:
        raise ValueError("The maximum occupancy must be above 0 and at most 100%.")
    if answer_seconds < 0:
        raise ValueError("The answer time cannot be negative.")
    load = offered_load(arrivals, handling_seconds, interval_seconds)
    if load == 0:
        return Advice(0, 0.0, 0.0, 1.0, 0.0, 0.0)
    if handling_seconds == 0:
        raise ValueError("Calls with a load need a handling time.")
    # the first N above the load that also keeps the occupancy
    agents = max(math.floor(load) + 1, math.ceil(load / max_occupancy))
    while agents <= max_agents:
        level = service_level(agents, load, handling_seconds, answer_seconds)
        if level >= target_level:
            return Advice(
                agents=agents,
                load=load,
                waiting_probability=erlang_c(agents, load),
                service_level=level,
                average_speed_of_answer=average_speed_of_answer(agents, load, handling_seconds),
                occupancy=load / agents,
            )
        agents += 1
    raise Unservable(f"{load:.2f} Erlangs need more than {max_agents} agents")
