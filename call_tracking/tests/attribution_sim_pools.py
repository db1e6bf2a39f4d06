"""The attribution simulation at ten times the traffic: several paid
channels, each on its own pool, and visitors who come back on later days.

The single-pool simulation (``attribution_sim.py``) runs one Google Ads
pool at 600 visitors a day. This one drives the same real code (the number
assignment at each request's time, the attribution of every visitor's call,
the webhook processing of the 5% who call) with:

* ``daily_visitors`` split over the channels by their ``share`` (6,000 a
  day over Google Ads and Meta Ads by default), each channel dynamic on a
  pool of its own, sized separately from its own observation;
* returning visitors: a share of the visitors come back one to
  ``return_days`` days later, from the same browser (their visitor key and
  address), through a new ad click of either channel; their call may follow
  either visit. A call attributed to any session of the same visitor key is
  right (it is the same person), to another visitor's session wrong;
* the same crawlers and draining addresses (10% of the requests), on the
  landing pages of both channels.

The traffic of the observation and of the trial is generated in one go and
split at the trial's start, so that visitors of the observation days come
back during the trial with the keys the observation gave them.

Used by ``tests/bench_attribution.py`` (the 10x run of ``make bench``).
"""

import math
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from .attribution_sim import (
    CALIBRATION_MIN_CALLS,
    DAILY_PROFILE,
    SITE,
    RealCode,
    Result,
    _call_time,
    add_bot_requests,
    classify,
    expected_shares,
    pool_figures,
    print_calibration,
    set_pool_size,
)


@dataclass
class PaidChannel:
    name: str
    utm_source: str
    utm_medium: str
    click_param: str
    share: float
    referrer: str


PAID_CHANNELS = (
    PaidChannel(
        "Google Ads (simulation)", "google", "cpc", "gclid", 0.6, "https://www.google.com/"
    ),
    PaidChannel(
        "Meta Ads (simulation)", "facebook", "paid", "fbclid", 0.4, "https://m.facebook.com/"
    ),
)


@dataclass
class PoolsScenario:
    daily_visitors: int = 6000
    channels: tuple = PAID_CHANNELS
    days: int = 1  # observation
    trial_days: int = 1
    draws: int = 1
    # visitors coming back on a later day (same browser), and how many days
    # later at most
    return_share: float = 0.25
    return_days: int = 3
    visit_median: float = 3.0
    visit_sigma: float = 0.8
    call_share: float = 0.05
    after_share: float = 0.40
    delay_median: float = 20.0
    delay_sigma: float = 1.0
    bot_request_share: float = 0.10
    drain_addresses: int = 3
    ping_seconds: int = 60
    hold_minutes: int = 30


@dataclass
class Person:
    """One browser: its visitor key is kept across its visits."""

    label: str
    address: str
    key: str = None
    answers: list = field(default_factory=list)  # (time, number)


@dataclass
class Visit:
    person: Person
    channel: int
    arrival: object
    leave: object
    returning: bool = False


def make_traffic(scenario, start, seed):
    """``(visits, requests)`` of ``scenario.days + scenario.trial_days``
    days from ``start``; requests sorted by time as ``(time, order, kind,
    data)``. A returning visit falls one to ``return_days`` days after the
    first one (dropped past the end)."""
    rng = random.Random(seed)
    days = scenario.days + scenario.trial_days
    end = start + timedelta(days=days)
    mean_rate = scenario.daily_visitors / (24 * 60.0)
    peak = max(DAILY_PROFILE)
    weights = [c.share for c in scenario.channels]
    visits, requests = [], []
    t, index = 0.0, 0
    while True:
        t += rng.expovariate(mean_rate * peak)
        if t >= days * 24 * 60:
            break
        if rng.random() > DAILY_PROFILE[int(t // 60) % 24] / peak:
            continue
        index += 1
        person = Person(
            label=f"p{index}",
            address=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        )
        arrival = start + timedelta(minutes=t)
        own = [(arrival, False)]
        if rng.random() < scenario.return_share:
            back = arrival + timedelta(days=rng.randint(1, scenario.return_days))
            back += timedelta(minutes=rng.uniform(-120, 120))
            if back < end:
                own.append((back, True))
        for at, returning in own:
            stay = rng.lognormvariate(math.log(scenario.visit_median), scenario.visit_sigma)
            channel = rng.choices(range(len(scenario.channels)), weights=weights)[0]
            visits.append(Visit(person, channel, at, at + timedelta(minutes=stay), returning))
    for number, visit in enumerate(visits):
        paid = scenario.channels[visit.channel]
        click = f"{paid.click_param}=sim{seed}x{number}"
        url = f"{SITE}/plumbing?utm_source={paid.utm_source}&utm_medium={paid.utm_medium}&{click}"
        requests.append((visit.arrival, 0, "visit", (visit, url, paid.referrer)))
        ping = visit.arrival + timedelta(seconds=scenario.ping_seconds)
        while ping < visit.leave:
            requests.append((ping, 1, "visit", (visit, f"{SITE}/contactus", None)))
            ping += timedelta(seconds=scenario.ping_seconds)
        requests.append((visit.leave, 1, "visit", (visit, f"{SITE}/contactus", None)))

    def bot_url(bot):
        paid = scenario.channels[bot % len(scenario.channels)]
        return (
            f"{SITE}/plumbing?utm_source={paid.utm_source}&utm_medium={paid.utm_medium}"
            f"&{paid.click_param}=bot{seed}x{bot}"
        )

    add_bot_requests(rng, scenario, start, days, requests, bot_url)
    # each visit's call: the first draw placed for the callers, the others
    # evaluated read-only
    for visit in visits:
        calls = rng.random() < scenario.call_share
        for draw in range(scenario.draws):
            call_at, after = _call_time(rng, scenario, visit.arrival, visit.leave)
            kind = "call" if draw == 0 and calls else "probe"
            requests.append((call_at, 3 if kind == "call" else 4, kind, (visit, after)))
    requests.sort(key=lambda r: (r[0], r[1]))
    return visits, requests


def make_world(env, scenario, max_sizes):
    """A company with one dynamic channel per paid channel, each on a pool
    of ``max_sizes[i]`` numbers, and a generic provider."""
    company = env["res.company"].create(
        {
            "name": "Attribution Simulation (pools)",
            "country_id": env.ref("base.us").id,
            "call_tracking_default_number": "+12125550100",
        }
    )
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    provider = env["call.tracking.provider"].create(
        {
            "name": "Simulation provider",
            "kind": "generic",
            "company_id": company.id,
            "secret": "simulation-secret",
        }
    )
    pools = env["call.tracking.pool"]
    for index, (paid, max_size) in enumerate(zip(scenario.channels, max_sizes, strict=True)):
        pool = env["call.tracking.pool"].create(
            {
                "name": f"Simulation pool {paid.name}",
                "company_id": company.id,
                "hold_minutes": scenario.hold_minutes,
                "default_number": f"+121255502{index:02d}",
            }
        )
        env["call.tracking.number"].create(
            [
                {
                    "number": f"+1212{610 + index}{n:04d}",
                    "pool_id": pool.id,
                    "company_id": company.id,
                    "provider_id": provider.id,
                }
                for n in range(max_size)
            ]
        )
        env["call.tracking.channel"].create(
            {
                "name": paid.name,
                "company_id": company.id,
                "tracking_type": "dynamic",
                "pool_id": pool.id,
                "rule_ids": [
                    (0, 0, {"utm_source": paid.utm_source, "utm_medium": paid.utm_medium}),
                    (0, 0, {"landing_param": paid.click_param}),
                ],
            }
        )
        pools |= pool
    return {"env": env, "company": company, "pools": pools, "provider": provider}


def set_sizes(world, sizes):
    for pool, size in zip(world["pools"], sizes, strict=True):
        set_pool_size(world["env"], pool, size)


def run_traffic(world, requests, sizes, seed, reset=True):
    """Replay ``requests`` with the pools at ``sizes``; measure every call.
    Keeps the visitors' keys when ``reset`` is false (the observation, whose
    visitors come back during the trial)."""
    set_sizes(world, sizes)
    result = Result(size=sum(sizes))
    outcomes = []  # (person, (visit, after, time), placed, session id, method, probability)
    people = {}
    with RealCode(world, world["pools"]) as real:
        for index, (at, _order, kind, data) in enumerate(requests):
            real.tick(index)
            at = at.replace(microsecond=0)
            if kind == "visit":
                visit, url, referrer = data
                person = visit.person
                people[person.label] = person
                answer = real.page_view(person, url, referrer, at)
                person.answers.append((at, answer["number"]))
                result.human_requests += 1
                continue
            if kind == "bot":
                real.crawler(data, at)
                result.bot_requests += 1
                continue
            visit, after = data
            person = visit.person
            shown = [a for a in person.answers if a[0] <= at] or person.answers[:1]
            number = shown[-1][1] if shown else None
            if kind == "call":
                match = real.place(
                    {
                        "call_id": f"sim10-{seed}-{'-'.join(map(str, sizes))}-{index}",
                        "caller": f"+1213{int(person.label[1:]):07d}",
                        "to": number,
                    },
                    at,
                )
            else:
                match = real.probe(number, at)
            outcomes.append((person, (visit, after, at), kind == "call", *match))
    codes = classify(world["env"], result, outcomes)
    returning = [0, 0]  # calls after a return visit: right, all
    for (_person, (visit, _after, _at), *_match), outcome in zip(outcomes, codes, strict=True):
        if visit.returning:
            returning[0] += outcome == 0
            returning[1] += 1
    result.returning = returning
    if reset:
        for person in people.values():
            person.answers = []
    return result


def _snapshot(requests):
    """The visitors' keys and shown numbers before a trial (each trial
    starts from the observation's state)."""
    people = {}
    for _at, _order, kind, data in requests:
        if kind in ("visit", "call", "probe"):
            person = data[0].person
            people[person.label] = person
    return {label: (p.key, list(p.answers)) for label, p in people.items()}, people


def _restore(snapshot, people):
    for label, (key, answers) in snapshot.items():
        people[label].key, people[label].answers = key, list(answers)


def try_sizes(world, requests, sizes, seed, snapshot):
    env = world["env"]
    env.flush_all()
    _restore(*snapshot)
    with env.cr.savepoint() as savepoint:
        result = run_traffic(world, requests, sizes, seed)
        env.flush_all()
        savepoint.close(rollback=True)
    env.invalidate_all()
    return result


def run_bench(env, scenario, seed=20261205, out=print, factors=(0.9, 1.1)):
    """Observe ``scenario.days`` at one number per 20 daily visitors of each
    channel, read each pool's recommendation, then replay the next
    ``trial_days`` at the recommended sizes, at the rule of thumb, at Erlang
    B 1% and at the recommended sizes scaled by ``factors``. Ends with the
    ``attribution accuracy:`` line of the 10x run."""
    started = time.monotonic()
    today = env.cr.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=scenario.days + scenario.trial_days + 1)
    trial_start = start + timedelta(days=scenario.days)
    daily = [scenario.daily_visitors * c.share for c in scenario.channels]
    thumb = tuple(max(math.ceil(d / 20), 1) for d in daily)
    max_sizes = tuple(max(4 * t, 40) for t in thumb)
    world = make_world(env, scenario, max_sizes)
    visits, requests = make_traffic(scenario, start, seed)
    observation = [r for r in requests if r[0] < trial_start]
    trial = [r for r in requests if r[0] >= trial_start]
    run_traffic(world, observation, thumb, seed, reset=False)
    set_sizes(world, thumb)
    figures = [pool_figures(env, pool, trial_start) for pool in world["pools"]]
    recommended = tuple(f["attribution_size"] for f in figures)
    erlang = tuple(f["erlang_size"] for f in figures)
    returning = sum(1 for v in visits if v.returning)
    out(
        f"10x run: {scenario.daily_visitors} visitors/day over {len(scenario.channels)} pools, "
        f"{round(100 * scenario.return_share)}% of the visitors coming back 1 to "
        f"{scenario.return_days} days later ({returning} return visits in "
        f"{scenario.days + scenario.trial_days} days), hold {scenario.hold_minutes} min"
    )
    model = figures[0]["delay_model"]
    out(
        f"  learned from {model.samples} calls on live leases: {100 * model.active_share:.1f}% "
        f"call while on the site, the others a median {model.median:.1f} min after leaving "
        f"(shape {model.sigma:.2f}); {len(model.plausible)} plausible models around it"
    )
    for paid, figure, size, rule in zip(
        scenario.channels, figures, recommended, thumb, strict=True
    ):
        out(
            f"  {paid.name}: {round(100 * paid.share)}% of the visitors, peak "
            f"{figure['peak_arrivals']} arrivals/h; recommended {size} (the best fit alone "
            f"{figure['best_fit_size']}), Erlang B 1% {figure['erlang_size']}, one per 20 daily "
            f"visitors {rule}"
        )
    configs = {recommended: ["recommended"]}
    configs.setdefault(thumb, []).append("1 per 20 daily visitors")
    configs.setdefault(erlang, []).append("Erlang B 1%")
    for factor in factors:
        scaled = tuple(max(round(s * factor), 1) for s in recommended)
        configs.setdefault(scaled, []).append(f"recommended x {factor}")
    if any(s > m for s, m in zip(recommended, max_sizes, strict=True)):
        raise ValueError(f"the recommended sizes {recommended} exceed the pools {max_sizes}")
    configs = {
        sizes: notes
        for sizes, notes in configs.items()
        if all(0 < s <= m for s, m in zip(sizes, max_sizes, strict=True))
    }
    snapshot = _snapshot(requests)
    out("")
    out(
        f"trial: {scenario.trial_days} day(s) of the next traffic at each size, every "
        f"visitor's call evaluated ({scenario.draws} draw(s) of its time), "
        f"{round(100 * scenario.call_share)}% of them placed through the webhook"
    )
    out(
        "the model's expected right share at each size: with its best fit, the lowest over "
        "its plausible models (what the recommendation sizes for), and with the delays the "
        "traffic was made with"
    )
    out(f"{'numbers':>11} {'right %':>8} {'wrong %':>8} {'lost %':>8} {'calls':>7} "
        f"{'returning':>10}  placed r/w/l {'fit':>6} {'bound':>6} {'truth':>6}  note")  # fmt: skip
    results = {}
    for sizes in sorted(configs, key=sum):
        result = try_sizes(world, trial, sizes, seed, snapshot)
        results[sizes] = result
        back_right, back_all = result.returning
        back = f"{100.0 * back_right / back_all:.1f}%" if back_all else "-"
        expected = " ".join(f"{e:>6.1f}" for e in expected_shares(figures, sizes, scenario))
        out(
            f"{'+'.join(map(str, sizes)):>11} {result.share('right'):>8.1f} "
            f"{result.share('wrong'):>8.1f} {result.share('lost'):>8.1f} {result.total:>7} "
            f"{back:>10}  {'/'.join(map(str, result.placed)):>12} {expected}  "
            f"{', '.join(configs[sizes])}"
        )
    target = world["company"].call_tracking_attribution_target
    rec = results[recommended]
    out("")
    out(
        f"calibration at {'+'.join(map(str, recommended))} numbers (attributed calls by "
        f"probability; a tenth with fewer than {CALIBRATION_MIN_CALLS} calls is too few to judge):"
    )
    print_calibration(rec, out)
    pooled = Result(size=0)
    for result in results.values():
        pooled.probabilities.extend(result.probabilities)
    out("")
    out(f"calibration over all {len(results)} size pairs tried:")
    print_calibration(pooled, out)
    out(
        f"requests per trial: {rec.human_requests} visitor page views and pings, "
        f"{rec.bot_requests} automated; target {target:.0f}% right "
        f"({time.monotonic() - started:.0f} s in all)"
    )
    out(
        f"attribution accuracy: {rec.share('right'):.1f}% right, {rec.share('wrong'):.1f}% "
        f"wrong, {rec.share('lost'):.1f}% lost at {'+'.join(map(str, recommended))} numbers "
        f"(recommended; 10x run: {scenario.daily_visitors} visitors/day, "
        f"{len(scenario.channels)} pools, returning visitors)"
    )
    return results, recommended
