"""Synthetic traffic for the attribution simulation, driven through the real
code: every page view goes through ``call.tracking.session._assign_number``
with its own time (``now=``), every call through the attribution of
``call.tracking.call`` at its own time, and the calls that are placed go
through the webhook processing (``call.tracking.replay._replay_call``), so
that leads, the delay model and the pool's figures come out as the product
makes them. Only the traffic is made up here; no business rule is.

The traffic (the issue's scenario):

* visitors arrive as a Poisson process whose rate follows a daily profile,
  each from a Google Ads click (a dynamic channel), and stay a log-normal
  time (median 3 minutes); the website pings every minute while they stay;
* 5% of visitors call: 60% while on the site, 40% after leaving, a
  log-normal delay (median 20 minutes) after their last activity;
* 10% of the requests come from automated clients: crawlers with their
  user agent (AdsBot-Google opens landing pages with their click id) and a
  few addresses draining the pool with fresh keys and click ids.

Every visitor's call is evaluated (the attribution is read-only: what it
would answer had the visitor called), so that a day of traffic measures the
accuracy on all its visitors instead of the 5% who call; the 5% who call
are placed as real calls (they make leads and teach the delay model).

Used by ``tests/bench_attribution.py`` (the bench) and by the Odoo test of
the recommendation (a small run).
"""

import math
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta
from unittest.mock import patch

from odoo.tools import SQL

from ..tools.attribution import (
    DelayModel,
    arrival_levels,
    attribution_shares,
    recommended_attribution_size,
)

CRAWLER_AGENTS = (
    "AdsBot-Google (+http://www.google.com/adsbot.html)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36"
    ),
)
DRAIN_AGENTS = ("curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1")
HUMAN_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SITE = "https://shop.example"
# the bench judges a tenth of the probability range with at least this many
# calls, against the tolerance (points)
CALIBRATION_MIN_CALLS = 30
CALIBRATION_TOLERANCE = 5.0
# relative arrival rate per hour of the day (mean 1.0)
DAILY_PROFILE = tuple(
    0.25 + 0.75 * (1 - math.cos(2 * math.pi * (hour - 2) / 24)) * (1.0 if 8 <= hour <= 21 else 0.5)
    for hour in range(24)
)
_PROFILE_SCALE = 24 / sum(DAILY_PROFILE)
DAILY_PROFILE = tuple(p * _PROFILE_SCALE for p in DAILY_PROFILE)


@dataclass
class Scenario:
    daily_visitors: int = 2000
    days: int = 1
    visit_median: float = 3.0  # minutes
    visit_sigma: float = 0.8
    call_share: float = 0.05
    after_share: float = 0.40
    delay_median: float = 20.0  # minutes after the last activity
    delay_sigma: float = 1.0
    bot_request_share: float = 0.10
    drain_addresses: int = 3
    ping_seconds: int = 60
    hold_minutes: int = 30
    # independent draws of each visitor's call time, all evaluated (the
    # first one placed for the visitors who call): more calls measured per
    # day of traffic, for the same traffic
    draws: int = 1
    # days of traffic replayed at each pool size (after ``days`` of
    # observation)
    trial_days: int = 1


@dataclass
class Visitor:
    label: str
    arrival: object
    leave: object
    call_at: object
    calls: bool  # placed as a real call (else only evaluated)
    after: bool
    address: str = None
    # further independent draws of when the visitor would have called,
    # evaluated read-only like ``call_at``: ``[(time, after)]``
    probes: list = field(default_factory=list)
    key: str = None
    answers: list = field(default_factory=list)  # (time, number, mode)


def make_traffic(scenario, start, seed):
    """The visitors and the page-view requests of ``scenario.days`` days
    from ``start`` (a naive UTC datetime at midnight): ``(visitors,
    requests)``, requests sorted by time as ``(time, order, kind, data)``."""
    rng = random.Random(seed)
    visitors, requests = [], []
    mean_rate = scenario.daily_visitors / (24 * 60.0)  # per minute
    peak = max(DAILY_PROFILE)
    minutes = scenario.days * 24 * 60
    t = 0.0
    index = 0
    while True:
        # thinning: Poisson arrivals at the profile's rate
        t += rng.expovariate(mean_rate * peak)
        if t >= minutes:
            break
        if rng.random() > DAILY_PROFILE[int(t // 60) % 24] / peak:
            continue
        index += 1
        visit = rng.lognormvariate(math.log(scenario.visit_median), scenario.visit_sigma)
        arrival = start + timedelta(minutes=t)
        leave = arrival + timedelta(minutes=visit)
        draws = [_call_time(rng, scenario, arrival, leave) for _draw in range(scenario.draws)]
        visitor = Visitor(
            label=f"v{index}",
            arrival=arrival,
            leave=leave,
            call_at=draws[0][0],
            calls=rng.random() < scenario.call_share,
            after=draws[0][1],
            # one address per visitor, from the seeded generator (a run is
            # reproducible); their networks are spread like the Internet's
            address=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            probes=draws[1:],
        )
        visitors.append(visitor)
        gclid = f"sim{seed}x{index}"
        url = f"{SITE}/plumbing?utm_source=google&utm_medium=cpc&gclid={gclid}"
        requests.append((arrival, 0, "visit", (visitor, url, "https://www.google.com/")))
        ping = arrival + timedelta(seconds=scenario.ping_seconds)
        while ping < leave:
            requests.append((ping, 1, "visit", (visitor, f"{SITE}/contactus", None)))
            ping += timedelta(seconds=scenario.ping_seconds)
        if leave > arrival:
            requests.append((leave, 1, "visit", (visitor, f"{SITE}/contactus", None)))
    add_bot_requests(
        rng,
        scenario,
        start,
        scenario.days,
        requests,
        lambda bot: f"{SITE}/plumbing?utm_source=google&utm_medium=cpc&gclid=bot{seed}x{bot}",
    )
    for visitor in visitors:
        requests.append((visitor.call_at, 3, "call", (visitor, visitor.call_at, visitor.after)))
        for call_at, after in visitor.probes:
            requests.append((call_at, 4, "probe", (visitor, call_at, after)))
    requests.sort(key=lambda r: (r[0], r[1]))
    return visitors, requests


def add_bot_requests(rng, scenario, start, days, requests, url_of):
    """Add the automated requests to the visitors' ``requests``: their share
    of all requests, over ``days`` from ``start`` by the daily profile,
    half crawlers (own user agents), half draining addresses with HTTP
    libraries; ``url_of(index)``: the landing URL with a click id."""
    human = len(requests)
    bots = round(human * scenario.bot_request_share / (1 - scenario.bot_request_share))
    for bot in range(bots):
        hour = rng.choices(range(24 * days), weights=DAILY_PROFILE * days)[0]
        at = start + timedelta(minutes=hour * 60 + rng.uniform(0, 60))
        url = url_of(bot)
        if bot % 2:
            agent, addr = rng.choice(CRAWLER_AGENTS), f"66.249.66.{rng.randrange(1, 250)}"
        else:
            agent = rng.choice(DRAIN_AGENTS)
            addr = f"203.0.113.{1 + bot % scenario.drain_addresses}"
        requests.append((at, 2, "bot", (url, agent, addr)))


def _call_time(rng, scenario, arrival, leave):
    """When a visitor would call: ``(time, after leaving)``."""
    after = rng.random() < scenario.after_share
    if after:
        delay = rng.lognormvariate(math.log(scenario.delay_median), scenario.delay_sigma)
        call_at = leave + timedelta(minutes=delay)
    else:
        call_at = arrival + (leave - arrival) * rng.random()
    # the replay truncates every request to its second: a call in the
    # visit's first second still comes after its first page view
    return call_at, after


@dataclass
class Result:
    size: int
    right: int = 0
    wrong: int = 0
    lost: int = 0
    placed: list = field(default_factory=list)  # (right, wrong, lost) of placed calls
    probabilities: list = field(default_factory=list)  # (probability, right)
    human_requests: int = 0
    bot_requests: int = 0
    # (visitor, after leaving, call time, method, probability, 0 right / 1 wrong / 2 lost)
    outcomes: list = field(default_factory=list)

    @property
    def total(self):
        return self.right + self.wrong + self.lost

    def share(self, what):
        return 100.0 * getattr(self, what) / self.total if self.total else 0.0


def run_traffic(world, visitors, requests, size, seed):
    """Replay ``requests`` through the real code with a pool of ``size``
    numbers (the first ones of ``world``'s pool; the others inactive) and
    measure the attribution of every visitor's call. Leaves its rows in the
    database (run it in a savepoint to try another size)."""
    env = world["env"]
    set_pool_size(env, world["pool"], size)
    result = Result(size=size)
    outcomes = []  # (visitor, (visitor, after, time), placed, session id, method, probability)
    with RealCode(world, world["pool"]) as real:
        for index, (at, _order, kind, data) in enumerate(requests):
            real.tick(index)
            at = at.replace(microsecond=0)
            if kind == "visit":
                visitor, url, referrer = data
                answer = real.page_view(visitor, url, referrer, at)
                visitor.answers.append((at, answer["number"], answer["mode"]))
                result.human_requests += 1
            elif kind == "bot":
                real.crawler(data, at)
                result.bot_requests += 1
            else:
                visitor, _call_at, after = data
                shown = [a for a in visitor.answers if a[0] <= at] or visitor.answers[:1]
                number = shown[-1][1] if shown else None
                placed = kind == "call" and visitor.calls
                if placed:
                    match = real.place(
                        {
                            "call_id": f"sim-{seed}-{size}-{visitor.label}",
                            "caller": f"+1212{seed % 10}{int(visitor.label[1:]):06d}",
                            "to": number,
                        },
                        at,
                    )
                else:
                    match = real.probe(number, at)
                outcomes.append((visitor, (visitor, after, at), placed, *match))
    classify(env, result, outcomes)
    for visitor in visitors:
        visitor.key = None
        visitor.answers = []
    return result


class RealCode:
    """The real code a simulated request goes through, as a block (the
    delay model memo, :class:`DelayModelMemo`, lives within it): the number
    assignment of a page view or an automated client, the webhook processing
    of a placed call, the read-only session match of an evaluated one."""

    def __init__(self, world, pools):
        env = self.env = world["env"]
        self.company, self.provider = world["company"], world["provider"]
        self.sessions = env["call.tracking.session"]
        self.calls = env["call.tracking.call"].sudo()
        self.replay = env["call.tracking.replay"].with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
            mail_notify_force_send=False,
        )
        self.numbers = {
            n.number: n
            for n in env["call.tracking.number"]
            .with_context(active_test=False)
            .search([("pool_id", "in", pools.ids)])
        }
        self.memo = DelayModelMemo(self.calls)

    def __enter__(self):
        self.memo.__enter__()
        return self

    def __exit__(self, *exc):
        return self.memo.__exit__(*exc)

    def tick(self, index):
        if index % 1000 == 0:
            # the rows of this transaction, for the planner, as autovacuum
            # keeps them in production: the indexes get used
            self.env.flush_all()
            self.env.cr.execute(SQL("ANALYZE call_tracking_session, call_tracking_number"))

    def page_view(self, who, url, referrer, at):
        """A visitor's page view (``who``: its ``key`` and ``address``, the
        key updated from the answer); the answer."""
        answer = self.sessions._assign_number(
            self.company,
            visitor_key=who.key,
            url=url,
            referrer=referrer,
            user_agent=HUMAN_AGENT,
            remote_addr=who.address,
            now=at,
        )
        who.key = answer["visitor"]
        return answer

    def crawler(self, data, at):
        url, agent, addr = data
        self.sessions._assign_number(
            self.company, url=url, referrer=None, user_agent=agent, remote_addr=addr, now=at
        )

    def place(self, event, at):
        """A call placed through the webhook processing: ``(session id,
        method, probability)``."""
        self.memo.clear()
        call = self.replay._replay_call(
            self.provider, dict(event, ring=5, talk=90, status="answered"), at, {}
        )
        self.memo.clear()
        return call.session_id.id, call.attribution_method, call.attribution_probability

    def probe(self, number, at):
        """The attribution's session match and probability of a call to
        ``number`` at ``at``, read-only (what the call's attribution would
        store)."""
        probe = self.calls.new({"company_id": self.company.id, "provider_id": self.provider.id})
        vals = {"session_id": False, "attribution_method": "default",
                "attribution_probability": 0.0}  # fmt: skip
        if number in self.numbers:
            vals.update(probe._get_session_match(self.numbers[number], at))
        return vals["session_id"], vals["attribution_method"], vals["attribution_probability"]


def classify(env, result, outcomes):
    """Count ``outcomes`` into ``result``: ``[(who, record, placed, session
    id, method, probability)]``, right when the attributed session has the
    visitor key of ``who``. Returns each one's 0 right / 1 wrong / 2 lost."""
    env.flush_all()
    session_ids = [o[3] for o in outcomes if o[3]]
    keys = dict(
        env.execute_query(
            SQL("SELECT id, visitor_key FROM call_tracking_session WHERE id = ANY(%s)", session_ids)
        )
    )
    placed_outcomes = [0, 0, 0]
    codes = []
    for who, record, placed, session_id, method, probability in outcomes:
        if method in ("session", "session_expired"):
            right = keys.get(session_id) == who.key
            outcome = 0 if right else 1
            result.probabilities.append((probability, right))
        else:
            outcome = 2
        result.outcomes.append((*record, method, probability, outcome))
        result.right += outcome == 0
        result.wrong += outcome == 1
        result.lost += outcome == 2
        if placed:
            placed_outcomes[outcome] += 1
        codes.append(outcome)
    result.placed = placed_outcomes
    return codes


class DelayModelMemo:
    """Within the block, ``call.tracking.call._get_delay_model`` answers
    from a memo, computed by the real method at its first use after each
    ``clear()``. The delay model only changes when a call is placed (the
    simulation clears the memo before and after each one), so the values are
    those of the real method; the thousands of read-only evaluations in
    between are spared its grouped query each."""

    def __init__(self, calls):
        self.cls = type(calls)
        self.models = {}

    def clear(self):
        self.models.clear()

    def __enter__(self):
        original = self.cls._get_delay_model
        models = self.models

        def memoized(model_self, company):
            if company.id not in models:
                models[company.id] = original(model_self, company)
            return models[company.id]

        self.patcher = patch.object(self.cls, "_get_delay_model", memoized)
        self.patcher.start()
        return self

    def __exit__(self, *exc):
        self.patcher.stop()
        self.clear()
        return False


def set_pool_size(env, pool, size):
    """Keep the first ``size`` numbers of ``pool`` active, the others not."""
    env.flush_all()
    env.execute_query(
        SQL(
            """
        UPDATE call_tracking_number n SET active = r.rank <= %(size)s
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS rank
                  FROM call_tracking_number WHERE pool_id = %(pool)s) r
         WHERE n.id = r.id
            """,
            size=size,
            pool=pool.id,
        )
    )
    env.invalidate_all()


def make_world(env, max_size, hold_minutes=30):
    """A company with a Google Ads channel on a pool of ``max_size`` numbers
    and a generic provider, for the simulation alone."""
    company = env["res.company"].create(
        {
            "name": "Attribution Simulation",
            "country_id": env.ref("base.us").id,
            "call_tracking_default_number": "+12125550100",
        }
    )
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    pool = env["call.tracking.pool"].create(
        {
            "name": "Simulation pool",
            "company_id": company.id,
            "hold_minutes": hold_minutes,
            "default_number": "+12125550101",
        }
    )
    provider = env["call.tracking.provider"].create(
        {
            "name": "Simulation provider",
            "kind": "generic",
            "company_id": company.id,
            "secret": "simulation-secret",
        }
    )
    env["call.tracking.number"].create(
        [
            {
                "number": f"+1212600{index:04d}",
                "pool_id": pool.id,
                "company_id": company.id,
                "provider_id": provider.id,
            }
            for index in range(max_size)
        ]
    )
    channel = env["call.tracking.channel"].create(
        {
            "name": "Google Ads (simulation)",
            "company_id": company.id,
            "tracking_type": "dynamic",
            "pool_id": pool.id,
            "rule_ids": [
                (0, 0, {"utm_source": "google", "utm_medium": "cpc"}),
                (0, 0, {"landing_param": "gclid"}),
            ],
        }
    )
    return {
        "env": env,
        "company": company,
        "pool": pool,
        "provider": provider,
        "channel": channel,
    }


def pool_figures(env, pool, now):
    """The pool form's figures after a run: refresh the hourly statistics up
    to ``now`` and read the computed recommendation. Also the learned delay
    model and, for comparison, the size its best fit alone would recommend
    (without the other plausible models, ``tools/attribution.py``)."""
    env["call.tracking.pool.stat"]._refresh(pool, now=now)
    env.invalidate_all()
    pool = pool.with_env(env)
    company = pool.company_id
    model = env["call.tracking.call"].sudo()._get_delay_model(company)
    hours = env["call.tracking.pool.stat"]._read_group(
        [("pool_id", "=", pool.id)], ["hour:hour"], ["arrivals:sum"]
    )
    model = replace(model, visit_minutes=pool.health_visit_minutes or model.visit_minutes)
    levels = arrival_levels([arrivals for _hour, arrivals in hours])
    window = company.call_tracking_late_call_hours or 24
    best_fit_size = recommended_attribution_size(
        levels,
        pool.hold_minutes,
        replace(model, plausible=()),
        (company.call_tracking_attribution_target or 97.0) / 100.0,
        window,
    )
    return {
        "attribution_size": pool.attribution_size,
        "erlang_size": pool.recommended_size,
        "right_current": pool.attribution_right_current,
        "lost_current": pool.attribution_lost_current,
        "peak_arrivals": pool.health_peak_arrivals,
        "delay_median": pool.attribution_delay_median,
        "delay_model": model,
        "best_fit_size": best_fit_size,
        "levels": levels,
        "hold": pool.hold_minutes,
        "window": window,
    }


def expected_shares(figures, sizes, scenario):
    """The right share (percent) the model expects at ``sizes`` (one per
    pool of ``figures``, weighed by the pools' arrivals): ``(best fit,
    lowest over the plausible models, with the scenario's own delays)``.
    The last one tells the model from its learning: what it would expect
    had it learned the delays the traffic was made with."""
    truth = DelayModel(
        active_share=1 - scenario.after_share,
        mu=math.log(scenario.delay_median),
        sigma=scenario.delay_sigma,
    )
    sums, total = [0.0, 0.0, 0.0], 0.0
    for figure, size in zip(figures, sizes, strict=True):
        model, levels = figure["delay_model"], figure["levels"]
        weight = sum(arrivals * hours for arrivals, hours in levels)

        def right(candidate, size=size, figure=figure, levels=levels):
            return attribution_shares(size, levels, figure["hold"], candidate, figure["window"])[0]

        values = (
            right(replace(model, plausible=())),
            min(right(candidate) for candidate in model.plausible_models()),
            right(replace(truth, visit_minutes=model.visit_minutes)),
        )
        sums = [old + weight * value for old, value in zip(sums, values, strict=True)]
        total += weight
    return tuple(100.0 * value / total if total else 0.0 for value in sums)


def print_calibration(result, out=print):
    """The calibration table of ``result``, each tenth judged against the
    tolerance, with the sampling error of its right share."""
    out(f"{'probability':>12} {'calls':>7} {'mean':>7} {'right':>7} {'+/-':>6} {'gap':>7}  verdict")
    for low, high, count, mean, share in calibration(result):
        if not count:
            out(f"{low:>5.1f}-{high:<5.1f} {0:>7}")
            continue
        gap = 100 * (share - mean)
        # the sampling error of the right share if the tenth were calibrated:
        # the half-width of its 95% interval
        margin = 196 * math.sqrt(max(mean * (1 - mean), 1e-9) / count)
        if count < CALIBRATION_MIN_CALLS:
            verdict = "too few to judge"
        elif abs(gap) <= CALIBRATION_TOLERANCE:
            verdict = "ok"
        elif abs(gap) <= margin:
            verdict = "off, within the sampling error"
        else:
            verdict = "off"
        out(f"{low:>5.1f}-{high:<5.1f} {count:>7} {100 * mean:>6.1f}% {100 * share:>6.1f}% "
            f"{margin:>6.1f} {gap:>+6.1f}  {verdict}")  # fmt: skip


def expected_right(world, sizes, current):
    """The right share (percent) the pool form expects at each size, from
    the observation's figures; the pool is left at ``current`` numbers."""
    env, pool = world["env"], world["pool"]
    expected = {}
    for size in sizes:
        set_pool_size(env, pool, size)
        expected[size] = pool.with_env(env).attribution_right_current
    set_pool_size(env, pool, current)
    return expected


def calibration(result, bins=10):
    """``[(low, high, calls, mean probability, right share)]`` per tenth."""
    rows = []
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [
            (p, r)
            for p, r in result.probabilities
            if low <= p < high or (index == bins - 1 and p == 1.0)
        ]
        if inside:
            mean = sum(p for p, _r in inside) / len(inside)
            share = sum(1 for _p, r in inside if r) / len(inside)
            rows.append((low, high, len(inside), mean, share))
        else:
            rows.append((low, high, 0, None, None))
    return rows


def observe(world, scenario, start, seed, size):
    """An observation period at ``size`` numbers, kept in the database (its
    calls teach the delay model, its sessions give the pool's figures):
    the pool form's figures at its end."""
    env = world["env"]
    visitors, requests = make_traffic(scenario, start, seed)
    run_traffic(world, visitors, requests, size, seed)
    set_pool_size(env, world["pool"], size)
    end = start + timedelta(days=scenario.days)
    return pool_figures(env, world["pool"], end), visitors


def try_size(world, visitors, requests, size, seed):
    """One trial of ``size`` numbers, rolled back afterwards."""
    env = world["env"]
    env.flush_all()
    with env.cr.savepoint() as savepoint:
        result = run_traffic(world, visitors, requests, size, seed)
        env.flush_all()
        # a savepoint left normally is kept: this trial's rows must go
        savepoint.close(rollback=True)
    env.invalidate_all()
    return result


def run_bench(env, scenario, seed=20261201, out=print, extra_sizes=()):
    """The whole simulation: ``scenario.days`` of observation at the
    rule-of-thumb size, then the next ``scenario.trial_days`` of traffic at
    each pool size to compare. Prints the table (with the right share the
    pool form expects at each size) and the calibration; returns
    ``{size: Result}`` and the recommendation."""
    import time

    started = time.monotonic()
    today = env.cr.now().replace(hour=0, minute=0, second=0, microsecond=0)
    observe_start = today - timedelta(days=scenario.days + scenario.trial_days + 1)
    rule_of_thumb = max(math.ceil(scenario.daily_visitors / 20), 1)
    world = make_world(env, max_size=max(4 * rule_of_thumb, 40), hold_minutes=scenario.hold_minutes)
    figures, _visitors = observe(world, scenario, observe_start, seed, rule_of_thumb)
    recommended = figures["attribution_size"]
    erlang = figures["erlang_size"]
    out(
        f"observation: {scenario.daily_visitors} visitors/day x {scenario.days} day(s), "
        f"peak {figures['peak_arrivals']} arrivals/h (bots included), hold "
        f"{scenario.hold_minutes} min, learned median call delay "
        f"{figures['delay_median']:.1f} min; recommended {recommended}, Erlang B 1% {erlang}, "
        f"one per 20 daily visitors {rule_of_thumb}"
    )
    sizes = {recommended, erlang, rule_of_thumb, *extra_sizes}
    for factor in (0.9, 1.1):
        sizes.add(max(round(recommended * factor), 1))
    sizes = sorted(s for s in sizes if 0 < s <= max(4 * rule_of_thumb, 40))
    expected = expected_right(world, sizes, rule_of_thumb)
    trial_start = observe_start + timedelta(days=scenario.days)
    trial = replace(scenario, days=scenario.trial_days)
    visitors, requests = make_traffic(trial, trial_start, seed + 1)
    results = {}
    out("")
    out(
        f"trial: {scenario.trial_days} day(s) of the next traffic at each size, every "
        f"visitor's call evaluated ({scenario.draws} draw(s) of its time), "
        f"{round(100 * scenario.call_share)}% of them placed through the webhook"
    )
    out(f"{'numbers':>8} {'right %':>8} {'wrong %':>8} {'lost %':>8} {'calls':>7} "
        f"{'expected':>9}  placed calls r/w/l  note")  # fmt: skip
    for size in sizes:
        result = try_size(world, visitors, requests, size, seed + 1)
        results[size] = result
        notes = []
        if size == recommended:
            notes.append("recommended")
        if size == rule_of_thumb:
            notes.append("1 per 20 daily visitors")
        if size == erlang:
            notes.append("Erlang B 1%")
        out(
            f"{size:>8} {result.share('right'):>8.1f} {result.share('wrong'):>8.1f} "
            f"{result.share('lost'):>8.1f} {result.total:>7} {expected[size]:>8.1f}%  "
            f"{'/'.join(str(n) for n in result.placed):>18}  {', '.join(notes)}"
        )
    target = world["company"].call_tracking_attribution_target
    reaching = [s for s, r in sorted(results.items()) if r.share("right") >= target]
    smallest = reaching[0] if reaching else None
    out("")
    out(
        f"smallest size tried reaching {target:.0f}% right: {smallest}; recommended "
        f"{recommended} ({100.0 * (recommended - smallest) / smallest:+.1f}%)"
        if smallest
        else f"no size tried reaches {target:.0f}% right"
    )
    rec = results[recommended]
    out("")
    out(
        f"calibration at {recommended} numbers (attributed calls by probability; a tenth "
        f"with fewer than {CALIBRATION_MIN_CALLS} calls is too few to judge):"
    )
    print_calibration(rec, out)
    # the probability must hold at any pool size: the same table over every
    # size tried, for the rarer tenths (the same traffic, other leases)
    pooled = Result(size=0)
    for result in results.values():
        pooled.probabilities.extend(result.probabilities)
    out("")
    out(f"calibration over all {len(results)} sizes tried:")
    print_calibration(pooled, out)
    out(f"requests per trial: {rec.human_requests} visitor page views and pings, "
        f"{rec.bot_requests} automated ({time.monotonic() - started:.0f} s in all)")  # fmt: skip
    out(
        f"attribution accuracy: {rec.share('right'):.1f}% right, {rec.share('wrong'):.1f}% "
        f"wrong, {rec.share('lost'):.1f}% lost at {recommended} numbers (recommended)"
    )
    return results, recommended
