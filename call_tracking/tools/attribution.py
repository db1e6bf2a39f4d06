"""How likely an attributed call is right, and how big a pool must be for
attribution to be right often enough: plain functions over small values.

The model (the README's "Confidence of an attribution" explains it for
people):

* A visitor who calls either calls while on the site (share ``q``; the
  website pings while the page is active, so the session's last activity
  is at most a ping interval old) or after leaving, ``D`` minutes after
  their last activity, ``D`` log-normal with median ``exp(mu)`` and shape
  ``sigma``.
* A call to a pool number at time ``t`` comes from one of the visitors
  that held the number before ``t`` (within the late-call window), or from
  nobody we know (a stray call: the number written down, passed on). Each
  holder ``i`` calls at ``t`` with an intensity ``w(D_i)``: ``q / visit``
  per minute while active (``D_i <= ACTIVE_MINUTES``), else
  ``(1 - q) * f(D_i)`` with ``f`` the log-normal density, kept flat below
  its mode (a call right after leaving is at least as likely as one at the
  mode). A stray call has the intensity of an after-leaving call at the
  end of the late-call window.
* The call is attributed to the latest holder ``k``; the probability that
  this is right is ``w(D_k) / (stray + sum_i w(D_i))``.

The parameters are learned from the company's own calls on live leases
(their delays are not biased by a re-lease): the share of them made while
active gives ``q``, the delays of the others, between ``ACTIVE_MINUTES``
and the hold time, give ``mu`` and ``sigma`` (maximum likelihood of a
truncated log-normal, with the prior as pseudo-observations). Until
``MIN_SAMPLES`` such calls exist, the prior holds: ``q = 0.6``, a
20-minute median and ``sigma = 1``.

Pool sizing: arrivals are Poisson at the observed hourly rates, each
lease lasts the visit plus the hold. An arrival finds the pool full with
the Erlang B probability (its call is lost). A number freed at the end of
a lease goes to the back of the free numbers (the idle-longest number is
leased first): it is leased again once more arrivals came than numbers
were free before it. With the others' occupancy ``X`` Poisson(``A``)
truncated to the pool, the chance that ``s`` minutes pass without a
re-lease is ``P(Pois(A + rate * s) <= N - 1) / P(Pois(A) <= N - 1)``.
An after-leaving call later than the hold is right when the number was
not re-leased by then, lost when it is later than the late-call window,
wrong otherwise.

The uncertainty of the learned model: the calls on live leases show the
delays up to the hold only, and the share of the pool's calls that come
later than the hold plus the time to a re-lease (the wrong ones) is an
extrapolation of the fitted log-normal's tail. From a few hundred calls it
is uncertain by tens of percent (a day of 6,000 visitors, ~290 calls,
recommends between 0.75 and 1.25 times the size the true delays need). So
the recommendation does not size for the best fit alone: it takes the
smallest pool that reaches the target for every delay model the calls do
not rule out (``plausible``: the models within ``CONFIDENCE_DROP`` of the
maximum log-likelihood, the active share at its lower bound for each): the
lowest right share over them is a profile-likelihood lower bound at one
standard error (84%, one-sided). With more calls the region shrinks to the
best fit; the prior has none.
"""

import math
from dataclasses import dataclass

from .pool_sizing import MAX_POOL_SIZE, erlang_b

# A session whose last activity is this recent is an active visitor: the
# website pings every minute while the page is active.
ACTIVE_MINUTES = 2.0
# Live-lease calls needed before the learned model replaces the prior.
MIN_SAMPLES = 50
# Weight of the prior, in calls, once the model is learned.
PRIOR_WEIGHT = 20
# the drop of the log-likelihood that bounds the plausible delay models:
# half the 68.3% quantile of chi-square with one degree of freedom (one
# standard error), so that the lowest right share over them is an 84%
# one-sided (profile likelihood) lower bound of the right share at a given
# pool size; 1.353 (95% one-sided) would recommend about 465 + 317 numbers for
# the 10x simulation (its learned model), where 355 + 242 reach 97.4% right
CONFIDENCE_DROP = 0.5
_SQRT2PI = math.sqrt(2 * math.pi)


@dataclass(frozen=True, slots=True)
class DelayModel:
    """When visitors call: ``active_share`` of the callers call while on the
    site, the others ``D`` minutes after their last activity, log-normal
    (``mu``, ``sigma`` of ``ln D``). ``visit_minutes``: the average visit
    (first to last activity). ``samples``: live-lease calls it was learned
    from (0: the prior). ``plausible``: ``(active_share, mu, sigma)`` of the
    other models the calls do not rule out (see :func:`fit_delay_model`;
    empty for the prior)."""

    active_share: float = 0.6
    mu: float = math.log(20.0)
    sigma: float = 1.0
    visit_minutes: float = 4.0
    samples: int = 0
    plausible: tuple = ()

    def plausible_models(self):
        """This model, then the other plausible ones (same visit length)."""
        return [self] + [
            DelayModel(
                active_share=share,
                mu=mu,
                sigma=sigma,
                visit_minutes=self.visit_minutes,
                samples=self.samples,
            )
            for share, mu, sigma in self.plausible
        ]

    @property
    def median(self):
        return math.exp(self.mu)

    def cdf(self, minutes):
        """Share of after-leaving callers who called within ``minutes``."""
        if minutes <= 0:
            return 0.0
        return _phi((math.log(minutes) - self.mu) / self.sigma)

    def density(self, minutes):
        """Log-normal density of the after-leaving delay, flat below its mode."""
        mode = math.exp(self.mu - self.sigma**2)
        x = max(minutes, mode)
        z = (math.log(x) - self.mu) / self.sigma
        return math.exp(-0.5 * z * z) / (x * self.sigma * _SQRT2PI)

    def weight(self, delay_minutes):
        """Intensity (calls per minute of a calling visitor) at which a
        visitor whose last activity was ``delay_minutes`` ago calls."""
        delay = max(delay_minutes or 0.0, 0.0)
        if delay <= ACTIVE_MINUTES:
            return self.active_share / max(self.visit_minutes, ACTIVE_MINUTES) + (
                1 - self.active_share
            ) * self.density(delay)
        return (1 - self.active_share) * self.density(delay)


PRIOR = DelayModel()


def _phi(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def attribution_probability(model, delays, window_minutes):
    """Probability that a call belongs to the latest of the number's holders.

    :param model: :class:`DelayModel`
    :param delays: minutes between each holder's last activity and the call,
        the attributed (latest) holder first, then the earlier holders
        whose lease lapsed within the late-call window
    :param window_minutes: the late-call window after a lease lapses
    :return: a float in [0, 1]
    """
    if not delays:
        return 0.0
    weights = [model.weight(d) for d in delays]
    stray = (1 - model.active_share) * model.density(max(window_minutes, 1.0))
    return weights[0] / (stray + sum(weights))


def fit_delay_model(active, delays, visit_minutes, prior=PRIOR):
    """The delay model of a company's live-lease calls.

    :param int active: live-lease calls made while the visitor was active
    :param delays: ``(delay, hold)`` of the other live-lease calls, in
        minutes: the delay after the last activity, and the hold time of
        the pool, which truncates it (a later call was not on a live lease)
    :param visit_minutes: their visitors' average visit, or None
    """
    delays = [(d, h) for d, h in delays if ACTIVE_MINUTES < d <= h]
    samples = active + len(delays)
    if samples < MIN_SAMPLES:
        return prior
    # sufficient statistics per hold time: count, sum and sum of squares of ln D
    groups = {}
    for d, h in delays:
        x = math.log(d)
        n, sx, sxx = groups.get(h, (0, 0.0, 0.0))
        groups[h] = (n + 1, sx + x, sxx + x * x)
    low = math.log(ACTIVE_MINUTES)

    def loglik(mu, sigma):
        total = 0.0
        for hold, (n, sx, sxx) in groups.items():
            mass = _phi((math.log(hold) - mu) / sigma) - _phi((low - mu) / sigma)
            squares = sxx - 2 * mu * sx + n * mu * mu
            total += -0.5 * squares / sigma**2 - n * math.log(sigma)
            total -= n * math.log(max(mass, 1e-12))
        # the prior as PRIOR_WEIGHT pseudo-observations on mu and sigma
        total -= PRIOR_WEIGHT * (
            0.5 * ((mu - prior.mu) / prior.sigma) ** 2 + (math.log(sigma / prior.sigma)) ** 2
        )
        return total

    values = {(prior.mu, prior.sigma): loglik(prior.mu, prior.sigma)}
    best = (prior.mu, prior.sigma)
    for mu_step in range(-30, 31):
        for sigma_step in range(-6, 7):
            point = (prior.mu + mu_step * 0.05, prior.sigma * math.exp(sigma_step * 0.08))
            values[point] = loglik(*point)
            if values[point] > values[best]:
                best = point

    def active_share(mu, sigma, active_calls):
        """The share of callers calling while active, when ``active_calls``
        of the live-lease calls were (fractional for a bound)."""
        model = DelayModel(mu=mu, sigma=sigma)
        # expected share of after-leaving callers seen between ACTIVE and hold
        seen = sum(
            n * (model.cdf(h) - model.cdf(ACTIVE_MINUTES)) for h, (n, _sx, _sxx) in groups.items()
        ) / max(len(delays), 1)
        after = (samples - active_calls) / max(seen, 1e-6) if delays else 0.0
        share = (active_calls + PRIOR_WEIGHT * prior.active_share) / (
            active_calls + after + PRIOR_WEIGHT
        )
        return min(max(share, 0.01), 0.99)

    plausible = []
    for (mu, sigma), value in values.items():
        slack = CONFIDENCE_DROP - (values[best] - value)
        if slack >= 0:
            low = _active_lower_bound(active, samples, slack)
            plausible.append((active_share(mu, sigma, low), mu, sigma))
    mu, sigma = best
    return DelayModel(
        active_share=active_share(mu, sigma, active),
        mu=mu,
        sigma=sigma,
        visit_minutes=visit_minutes or prior.visit_minutes,
        samples=samples,
        plausible=tuple(plausible),
    )


def _active_lower_bound(active, samples, slack):
    """The fewest calls made while active (of ``samples`` live-lease calls,
    ``active`` of them observed so) whose binomial log-likelihood is within
    ``slack`` of the observed count's."""
    if active <= 0 or slack <= 0:
        return float(active) if slack <= 0 else 0.0
    observed = active / samples

    def loglik(share):
        others = samples - active
        return active * math.log(share) + (others * math.log(1 - share) if others else 0.0)

    top = loglik(observed) if observed < 1 else 0.0
    low, high = 1e-9, min(observed, 1 - 1e-9)
    for _step in range(50):
        middle = (low + high) / 2
        if top - loglik(middle) > slack:
            low = middle
        else:
            high = middle
    return high * samples


# ----------------------------------------------------------------------
# Pool sizing for attribution
# ----------------------------------------------------------------------


def poisson_cdf(k, mean):
    """P(Poisson(mean) <= k): exact for small ``k``, else Wilson-Hilferty."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    if k < 40:
        term = total = math.exp(-mean)
        for i in range(1, int(k) + 1):
            term *= mean / i
            total += term
        return min(total, 1.0)
    nu = 2.0 * (k + 1)
    z = ((2.0 * mean / nu) ** (1 / 3) - (1 - 2 / (9 * nu))) / math.sqrt(2 / (9 * nu))
    return 1.0 - _phi(z)


def attribution_shares(size, hourly_arrivals, hold_minutes, model, window_hours=24.0):
    """Expected ``(right, wrong, lost)`` shares of the calls of a pool of
    ``size`` numbers.

    :param hourly_arrivals: ``[(arrivals in an hour, weight)]``: the
        observed hours (the calls follow the arrivals, so each hour weighs
        its arrivals times ``weight``, the hours of that level)
    :param hold_minutes: the pool's hold time
    :param model: :class:`DelayModel` (its visit length lengthens a lease)
    """
    window = window_hours * 60.0
    total_weight = sum(a * w for a, w in hourly_arrivals)
    if size <= 0 or not total_weight:
        return (0.0, 0.0, 1.0) if total_weight else (1.0, 0.0, 0.0)
    after = 1 - model.active_share
    late = after * (1 - model.cdf(hold_minutes + window))
    # quadrature over ln D from the hold to the end of the window
    low, high = math.log(max(hold_minutes, 0.5)), math.log(hold_minutes + window)
    steps = 60
    width = (high - low) / steps
    points = []
    for i in range(steps):
        u = low + (i + 0.5) * width
        mass = _phi((u + width / 2 - model.mu) / model.sigma) - _phi(
            (u - width / 2 - model.mu) / model.sigma
        )
        points.append((math.exp(u) - hold_minutes, mass))
    right = wrong = lost = 0.0
    for arrivals, weight in hourly_arrivals:
        if not arrivals:
            continue
        rate = arrivals / 60.0
        load = rate * (hold_minutes + model.visit_minutes)
        blocked = erlang_b(size, load)
        base = poisson_cdf(size - 1, load)
        kept = sum(mass * poisson_cdf(size - 1, load + rate * s) for s, mass in points)
        kept = after * kept / base if base > 0 else 0.0
        served_right = model.active_share + after * model.cdf(hold_minutes) + kept
        served_right = min(served_right, 1.0 - late)
        share = arrivals * weight / total_weight
        right += share * (1 - blocked) * served_right
        lost += share * (blocked + (1 - blocked) * late)
        wrong += share * (1 - blocked) * max(1.0 - late - served_right, 0.0)
    return right, wrong, lost


def recommended_attribution_size(
    hourly_arrivals, hold_minutes, model, target=0.97, window_hours=24.0, max_size=MAX_POOL_SIZE
):
    """Smallest pool whose expected right share reaches ``target`` under
    every plausible delay model (:meth:`DelayModel.plausible_models`), or
    None when ``max_size`` numbers are not enough (the delays are too long
    for the traffic: no pool size can reach the target)."""
    if not 0 < target < 1:
        raise ValueError("The target share must be between 0 and 1.")
    if not any(a for a, _w in hourly_arrivals):
        return 0

    # the model that failed last is tried first (it usually fails again)
    models = model.plausible_models()

    def reaches(size):
        for index, candidate in enumerate(models):
            right = attribution_shares(
                size, hourly_arrivals, hold_minutes, candidate, window_hours
            )[0]
            if right < target:
                models.insert(0, models.pop(index))
                return False
        return True

    high = 1
    while not reaches(high):
        if high >= max_size:
            return None
        high = min(high * 2, max_size)
    low = high // 2  # reaches(low) is False (or low == 0)
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def arrival_levels(hourly_counts, levels=12):
    """Compress observed hourly arrivals into at most ``levels`` values with
    their number of hours: ``[(arrivals, hours)]``."""
    counts = sorted(c for c in hourly_counts if c > 0)
    if not counts:
        return []
    chunk = max(math.ceil(len(counts) / levels), 1)
    result = []
    for start in range(0, len(counts), chunk):
        part = counts[start : start + chunk]
        result.append((sum(part) / len(part), len(part)))
    return result
