"""How sure each creator's figures are: empirical-Bayes intervals for conversion rate, orders per
dollar and ROI, and where a creator may rank.

Micro-creators have a handful of orders each, so a creator's own ratio is mostly luck. Each
figure borrows strength from the shop's other creators: a prior is fitted by maximum likelihood
across them, and each creator's posterior is that prior updated by their own counts.

* Conversion rate (creators with clicks): orders ~ Binomial(clicks, θ), θ ~ Beta(α₀, β₀); the
  prior is fitted on the beta-binomial marginal (`scipy.stats.betabinom`), the posterior is
  Beta(α₀ + orders, β₀ + clicks − orders).
* Orders per dollar (code-only creators, no clicks to divide by): orders ~ Poisson(λ · cost),
  λ ~ Gamma(a, rate b); the prior is fitted on the negative-binomial marginal, the posterior is
  Gamma(a + orders, b + cost).
* Average order value: a creator's order values ~ Gamma(p, ν), ν ~ Gamma(q, rate γ), the
  Gamma-Gamma of `roi.clv` (its v is γ); the posterior is ν ~ Gamma(q + p · orders, γ + revenue)
  and AOV = p / ν. Without a fitted Gamma-Gamma the same form is used with p = 1 (order values
  as spread as their mean, a wide and so cautious assumption) and q = 3, γ = 2 × the shop's
  pooled AOV: a prior worth about two orders, centred on the shop's AOV.
* ROI: (expected orders × AOV − cost) ÷ cost in each of `DRAWS` seeded joint draws, where the
  expected orders are θ × clicks or λ × cost: the creator's true ROI at the clicks and cost they
  had, without the luck of which visitors happened to buy.

Invariant: a figure is an interval only when a prior could be fitted from at least
`MIN_CREATORS` creators with something to compare (clicks, or cost); otherwise it says
`NOT_ENOUGH_CREATORS`, never a made-up interval. The same inputs and seed give the same
figures to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, log_expit
from scipy.stats import beta as beta_distribution
from scipy.stats import betabinom
from scipy.stats import gamma as gamma_distribution

from roi.clv import GammaGammaParams

FloatArray: TypeAlias = npt.NDArray[np.float64]

NOT_ENOUGH_CREATORS = "not enough creators to compare"
NO_ORDERS_YET = "no orders yet to compare"
NO_COST = "no cost in this range"
# A prior fitted on two creators is one of them compared with the other: three is the least
# that says anything about how creators vary.
MIN_CREATORS = 3
# 4,000 draws put a 10th percentile within about ±0.5 percentile points of its exact value
# (binomial error of 0.1 over 4,000) and a probability within ±0.5 points.
DRAWS = 4000
# Draws are made this many at a time: a chunk's working arrays for 9,600 creators stay near 20 MB
# each, beside what is kept of every draw (ROI as float32, rank as uint16: 6 bytes a creator a
# draw, 230 MB for 9,600 creators; about 360 MB at the peak, measured). The same chunking always
# gives the same draws.
_CHUNK = 250
# logit(mean) and log(α + β) (or log mean and log shape) are kept in this box. e^±30 covers any
# rate a shop can show; a concentration of 1e7 is a prior worth ten million clicks, where every
# creator has the pooled rate and the data cannot tell a larger one from it.
_LOGIT_BOUND = 30.0
_LOG_CONCENTRATION = (-10.0, float(np.log(1e7)))
_INTERVAL = (10.0, 50.0, 90.0)
# Without a Gamma-Gamma fit (see the module's docstring).
_AOV_SHAPE = 1.0
_AOV_PRIOR_WEIGHT = 3.0


@dataclass(frozen=True)
class NotEnoughData:
    """A figure that cannot be given yet, and why, in the merchant's words."""

    reason: str = NOT_ENOUGH_CREATORS


@dataclass(frozen=True)
class BetaPrior:
    """Conversion rate across the shop's creators: Beta(alpha, beta), fitted on `creators`."""

    alpha: float
    beta: float
    creators: int
    log_likelihood: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class GammaPrior:
    """Orders per dollar across code-only creators: Gamma(shape, rate), fitted on `creators`."""

    shape: float
    rate: float
    creators: int
    log_likelihood: float

    @property
    def mean(self) -> float:
        return self.shape / self.rate


@dataclass(frozen=True)
class Interval:
    """The 80% interval (10th and 90th percentiles) and the median."""

    p10: float
    p50: float
    p90: float

    @property
    def too_early(self) -> bool:
        """Wider than twice the median's size: the figure cannot yet say which way it goes."""
        return self.p90 - self.p10 > 2 * abs(self.p50)


@dataclass(frozen=True)
class CreatorEvidence:
    """One creator's counts over the range. `clicks` > 0 with `orders` ≤ `clicks` makes the
    creator's orders a conversion rate of their clicks; otherwise (codes only, or more orders
    than their link's clicks explain) their orders are counted per dollar of `cost`."""

    influencer_id: int
    orders: int
    cost: Decimal
    revenue: Decimal
    clicks: int = 0

    @property
    def by_clicks(self) -> bool:
        return 0 < self.clicks and self.orders <= self.clicks


@dataclass(frozen=True)
class CreatorRoi:
    """What the page shows about how sure a creator's figures are; `reason` says why a figure
    is None (`NOT_ENOUGH_CREATORS`, `NO_ORDERS_YET` or `NO_COST`)."""

    influencer_id: int
    orders: int
    conversion_rate: Interval | None
    roi: Interval | None
    p_roi_positive: float | None
    rank_low: int | None
    rank_high: int | None
    p_top3: float | None
    p_best: float | None
    reason: str | None

    @property
    def too_early(self) -> bool | None:
        return None if self.roi is None else self.roi.too_early


# --- Beta-binomial: conversion rate -----------------------------------------------------------


def _counts(first: npt.ArrayLike, second: npt.ArrayLike, names: tuple[str, str]) -> tuple[FloatArray, FloatArray]:
    a = np.atleast_1d(np.asarray(first, dtype=float))
    b = np.atleast_1d(np.asarray(second, dtype=float))
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"{names[0]} and {names[1]} must be lists of equal length")
    for name, values in zip(names, (a, b)):
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{name} must be finite and not negative")
    return a, b


def _clicks_and_orders(clicks: npt.ArrayLike, orders: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    n, k = _counts(clicks, orders, ("clicks", "orders"))
    if np.any(k > n):
        raise ValueError("orders must not exceed clicks")
    return n, k


def beta_binomial_log_likelihood(alpha: float, beta: float, clicks: npt.ArrayLike, orders: npt.ArrayLike) -> float:
    """Log-likelihood of Beta(alpha, beta) for creators' (clicks, orders), summed.

    The fit maximises this less its binomial coefficients, written out with `betaln`: the same
    function of (α, β) without scipy's per-call argument checks, which would take most of the
    time of a fit on a shop's 15 creators (a test holds the two equal)."""
    n, k = _clicks_and_orders(clicks, orders)
    return float(np.sum(betabinom.logpmf(k, n, alpha, beta)))


def fit_beta_binomial(clicks: npt.ArrayLike, orders: npt.ArrayLike) -> BetaPrior | NotEnoughData:
    """The maximum-likelihood Beta prior of conversion rate across creators with clicks.

    Fewer than `MIN_CREATORS` creators with clicks: `NOT_ENOUGH_CREATORS`; no order at all (or
    every click an order): `NO_ORDERS_YET`, where the likelihood has no finite optimum.
    """
    n, k = _clicks_and_orders(clicks, orders)
    keep = n > 0
    n, k = n[keep], k[keep]
    if n.size < MIN_CREATORS:
        return NotEnoughData(NOT_ENOUGH_CREATORS)
    if not np.any(k > 0) or np.all(k == n):
        return NotEnoughData(NO_ORDERS_YET)

    # The binomial coefficients do not depend on (α, β): left out of what the optimizer sees.
    def negated(point: FloatArray) -> float:
        log_alpha, log_beta = _log_shapes(point)
        alpha, beta = float(np.exp(log_alpha)), float(np.exp(log_beta))
        return _negated(betaln(k + alpha, n - k + beta) - betaln(alpha, beta))

    pooled = float(np.sum(k) / np.sum(n))
    # Method of moments on the creators' own rates gives the concentration when they vary more
    # than binomial noise would; a ladder of concentrations covers the cases where it does not.
    starts = [np.array([_logit(pooled), np.log(c)]) for c in (_moments_concentration(n, k), 1.0, 1e2, 1e4)]
    point = _best_fit(negated, starts, [(-_LOGIT_BOUND, _LOGIT_BOUND), _LOG_CONCENTRATION])
    log_alpha, log_beta = _log_shapes(point)
    alpha, beta = float(np.exp(log_alpha)), float(np.exp(log_beta))
    return BetaPrior(alpha, beta, int(n.size), beta_binomial_log_likelihood(alpha, beta, n, k))


def _log_shapes(point: FloatArray) -> tuple[float, float]:
    """(log α, log β) from (logit of the mean, log(α + β)), each keeping its digits."""
    return float(point[1] + log_expit(point[0])), float(point[1] + log_expit(-point[0]))


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(np.log(p) - np.log1p(-p))


def _moments_concentration(n: FloatArray, k: FloatArray) -> float:
    rates = k / n
    mean = float(np.mean(rates))
    spread = float(np.var(rates)) - float(np.mean(mean * (1 - mean) / n))
    if spread <= 0 or mean in (0.0, 1.0):
        return 1e3
    return float(np.clip(mean * (1 - mean) / spread - 1, 1e-2, 1e6))


def conversion_rate_intervals(clicks: npt.ArrayLike, orders: npt.ArrayLike, prior: BetaPrior) -> list[Interval]:
    """Each creator's posterior Beta(α₀ + orders, β₀ + clicks − orders): median and 80% interval."""
    n, k = _clicks_and_orders(clicks, orders)
    a, b = prior.alpha + k, prior.beta + n - k
    low, mid, high = (np.atleast_1d(np.asarray(beta_distribution.ppf(q / 100, a, b))) for q in _INTERVAL)
    return [Interval(float(x), float(y), float(z)) for x, y, z in zip(low, mid, high)]


# --- Gamma-Poisson: orders per dollar ---------------------------------------------------------


def _orders_and_cost(orders: npt.ArrayLike, cost: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    return _counts(orders, cost, ("orders", "cost"))


def _gamma_poisson_log_likelihoods(shape: float, rate: float, y: FloatArray, c: FloatArray) -> FloatArray:
    """Negative-binomial log-pmf of y orders at cost c, λ ~ Gamma(shape, rate) integrated out."""
    log_total = np.logaddexp(np.log(rate), np.log(c))
    values = (
        gammaln(shape + y)
        - gammaln(shape)
        - gammaln(y + 1)
        + shape * (np.log(rate) - log_total)
        + y * (np.log(c) - log_total)
    )
    return np.asarray(values, dtype=np.float64)


def gamma_poisson_log_likelihood(shape: float, rate: float, orders: npt.ArrayLike, cost: npt.ArrayLike) -> float:
    """Log-likelihood of Gamma(shape, rate) orders per dollar for creators' (orders, cost > 0)."""
    y, c = _orders_and_cost(orders, cost)
    keep = c > 0
    return float(np.sum(_gamma_poisson_log_likelihoods(shape, rate, y[keep], c[keep])))


def fit_gamma_poisson(orders: npt.ArrayLike, cost: npt.ArrayLike) -> GammaPrior | NotEnoughData:
    """The maximum-likelihood Gamma prior of orders per dollar across creators with cost.

    Fewer than `MIN_CREATORS` creators with cost: `NOT_ENOUGH_CREATORS`; no order at all:
    `NO_ORDERS_YET`. Cost is a float of the currency unit here (a ratio's denominator).
    """
    y, c = _orders_and_cost(orders, cost)
    keep = c > 0
    y, c = y[keep], c[keep]
    if y.size < MIN_CREATORS:
        return NotEnoughData(NOT_ENOUGH_CREATORS)
    if not np.any(y > 0):
        return NotEnoughData(NO_ORDERS_YET)
    # Cost is rescaled to a mean of 1 while fitting, so the mean rate starts near the data's;
    # only the rate parameter carries the currency unit.
    scale = float(np.mean(c))
    cs = c / scale

    def negated(point: FloatArray) -> float:
        log_mean, log_shape = float(point[0]), float(point[1])
        shape = np.exp(log_shape)
        return _negated(_gamma_poisson_log_likelihoods(shape, float(np.exp(log_shape - log_mean)), y, cs))

    pooled = float(np.log(np.sum(y) / np.sum(cs)))
    starts = [np.array([pooled, np.log(s)]) for s in (0.5, 2.0, 20.0, 1e3)]
    point = _best_fit(negated, starts, [(-_LOGIT_BOUND, _LOGIT_BOUND), _LOG_CONCENTRATION])
    shape = float(np.exp(point[1]))
    rate = float(np.exp(point[1] - point[0])) * scale
    return GammaPrior(shape, rate, int(y.size), gamma_poisson_log_likelihood(shape, rate, y, c))


def orders_per_dollar_intervals(orders: npt.ArrayLike, cost: npt.ArrayLike, prior: GammaPrior) -> list[Interval]:
    """Each creator's posterior Gamma(a + orders, b + cost) of orders per dollar."""
    y, c = _orders_and_cost(orders, cost)
    shape, rate = prior.shape + y, prior.rate + c
    low, mid, high = (
        np.atleast_1d(np.asarray(gamma_distribution.ppf(q / 100, shape, scale=1 / rate))) for q in _INTERVAL
    )
    return [Interval(float(x), float(y), float(z)) for x, y, z in zip(low, mid, high)]


# --- Fitting ----------------------------------------------------------------------------------


def _negated(log_likelihoods: FloatArray) -> float:
    """What the optimizer minimises; a non-finite sum becomes a wall it turns back from."""
    with np.errstate(all="ignore"):
        value = -float(np.sum(log_likelihoods))
    return value if np.isfinite(value) else 1e300


def _best_fit(
    objective: Callable[[FloatArray], float], starts: Sequence[FloatArray], bounds: list[tuple[float, float]]
) -> FloatArray:
    """L-BFGS-B from each start, the best optimum polished by Nelder-Mead: one start can stop on
    the flat ridge where a concentration grows without changing the fit."""
    low, high = np.asarray(bounds, dtype=np.float64).T
    results = [
        minimize(objective, np.clip(start, low, high), method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-12})
        for start in starts
    ]
    best = min(results, key=lambda r: float(r.fun))
    polished = minimize(objective, best.x, method="Nelder-Mead", bounds=bounds, options={"xatol": 1e-7, "fatol": 1e-9})
    chosen = polished if float(polished.fun) <= float(best.fun) else best
    return np.clip(np.asarray(chosen.x, dtype=np.float64), low, high)


# --- ROI draws --------------------------------------------------------------------------------


def roi_intervals(
    creators: Sequence[CreatorEvidence],
    *,
    order_values: GammaGammaParams | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> list[CreatorRoi]:
    """Every creator's conversion-rate and ROI intervals, P(ROI > 0), rank interval (80%, 1 the
    best ROI), P(top 3) and P(best ROI), from `draws` joint draws seeded by `seed`.

    Creators are compared among those with an ROI interval: creators by clicks against a prior
    fitted on creators by clicks, code-only ones against a prior of their own; a creator
    without cost has no ROI (`NO_COST`). `order_values` is a Gamma-Gamma fit of order values
    (`roi.clv.fit_gamma_gamma`), or None for the simple prior of the module's docstring.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    for creator in creators:
        if creator.orders < 0 or creator.clicks < 0 or creator.cost < 0 or creator.revenue < 0:
            raise ValueError(f"creator {creator.influencer_id}: counts and money must not be negative")
    by_clicks = [c for c in creators if c.by_clicks]
    by_cost = [c for c in creators if not c.by_clicks]
    beta_prior = fit_beta_binomial([c.clicks for c in by_clicks], [c.orders for c in by_clicks])
    gamma_prior = fit_gamma_poisson([c.orders for c in by_cost], [float(c.cost) for c in by_cost])

    rates: list[Interval] = []
    if isinstance(beta_prior, BetaPrior):
        rates = conversion_rate_intervals([c.clicks for c in by_clicks], [c.orders for c in by_clicks], beta_prior)
    conversion = iter(rates)

    def reason(creator: CreatorEvidence) -> str | None:
        prior = beta_prior if creator.by_clicks else gamma_prior
        if isinstance(prior, NotEnoughData):
            return prior.reason
        return NO_COST if creator.cost <= 0 else None

    reasons = [reason(c) for c in creators]
    compared = [c for c, why in zip(creators, reasons) if why is None]
    figures = iter(
        _roi_figures(compared, beta_prior, gamma_prior, _order_value_prior(creators, order_values), draws, seed)
    )
    rows = []
    for creator, why in zip(creators, reasons):
        found = next(figures) if why is None else None
        rows.append(
            CreatorRoi(
                influencer_id=creator.influencer_id,
                orders=creator.orders,
                conversion_rate=next(conversion) if creator.by_clicks and rates else None,
                roi=found.roi if found else None,
                p_roi_positive=found.p_positive if found else None,
                rank_low=found.rank_low if found else None,
                rank_high=found.rank_high if found else None,
                p_top3=found.p_top3 if found else None,
                p_best=found.p_best if found else None,
                reason=why,
            )
        )
    return rows


@dataclass(frozen=True)
class _Figures:
    roi: Interval
    p_positive: float
    rank_low: int
    rank_high: int
    p_top3: float
    p_best: float


def _order_value_prior(
    creators: Sequence[CreatorEvidence], fitted: GammaGammaParams | None
) -> tuple[float, float, float]:
    """(p, q, γ) of the order-value model: the fit's, or the module docstring's simple prior."""
    if fitted is not None:
        return fitted.p, fitted.q, fitted.v
    orders = sum(c.orders for c in creators)
    revenue = float(sum((c.revenue for c in creators), Decimal(0)))
    pooled = revenue / orders if orders and revenue > 0 else 1.0
    return _AOV_SHAPE, _AOV_PRIOR_WEIGHT, (_AOV_PRIOR_WEIGHT - 1) * pooled / _AOV_SHAPE


def _roi_figures(
    creators: Sequence[CreatorEvidence],
    beta_prior: BetaPrior | NotEnoughData,
    gamma_prior: GammaPrior | NotEnoughData,
    order_value: tuple[float, float, float],
    draws: int,
    seed: int,
) -> list[_Figures]:
    """The figures of `creators`, in their order, from joint draws across them."""
    if not creators:
        return []
    n = len(creators)
    clicks = np.array([c.clicks if c.by_clicks else 0 for c in creators], dtype=float)
    orders = np.array([c.orders for c in creators], dtype=float)
    cost = np.array([float(c.cost) for c in creators])
    revenue = np.array([float(c.revenue) for c in creators])
    linked = clicks > 0
    # Posterior of each creator's rate: conversion per click (Beta) or orders per dollar (Gamma).
    first = np.ones(n)
    second = np.ones(n)
    if isinstance(beta_prior, BetaPrior):
        first[linked] = beta_prior.alpha + orders[linked]
        second[linked] = beta_prior.beta + clicks[linked] - orders[linked]
    if isinstance(gamma_prior, GammaPrior):
        first[~linked] = gamma_prior.shape + orders[~linked]
        second[~linked] = gamma_prior.rate + cost[~linked]
    # Expected orders per dollar = rate × exposure, exposure clicks ÷ cost or 1.
    exposure = np.where(linked, clicks / cost, 1.0)
    p, q, gamma = order_value
    value_shape, value_rate = q + p * orders, gamma + revenue

    rng = np.random.default_rng(seed)
    roi = np.empty((draws, n), dtype=np.float32)
    ranks = np.empty((draws, n), dtype=np.uint16 if n < 2**16 else np.uint32)
    best = np.zeros(n, dtype=np.int64)
    positions = np.arange(1, n + 1)
    for start in range(0, draws, _CHUNK):
        size = min(_CHUNK, draws - start)
        rate = np.empty((size, n))
        rate[:, linked] = rng.beta(first[linked], second[linked], size=(size, int(linked.sum())))
        rate[:, ~linked] = rng.gamma(first[~linked], 1 / second[~linked], size=(size, int((~linked).sum())))
        order_value_draw = p / rng.gamma(value_shape, 1 / value_rate, size=(size, n))
        chunk = (rate * exposure * order_value_draw - 1.0).astype(np.float32)
        roi[start : start + size] = chunk
        # Ranked on the stored float32 figures, so a rank and its ROI never disagree.
        order = np.argsort(-chunk, axis=1)
        rank_chunk = np.empty_like(order)
        np.put_along_axis(rank_chunk, order, np.broadcast_to(positions, order.shape), axis=1)
        ranks[start : start + size] = rank_chunk
        best += np.bincount(order[:, 0], minlength=n)

    figures: list[_Figures] = []
    for low in range(0, n, 1000):
        high = min(n, low + 1000)
        quantiles = np.percentile(roi[:, low:high], _INTERVAL, axis=0)
        positive = np.mean(roi[:, low:high] > 0, axis=0)
        rank_low = np.percentile(ranks[:, low:high], 10, axis=0, method="lower")
        rank_high = np.percentile(ranks[:, low:high], 90, axis=0, method="higher")
        top3 = np.mean(ranks[:, low:high] <= 3, axis=0)
        for j in range(low, high):
            i = j - low
            figures.append(
                _Figures(
                    roi=Interval(float(quantiles[0, i]), float(quantiles[1, i]), float(quantiles[2, i])),
                    p_positive=float(positive[i]),
                    rank_low=int(rank_low[i]),
                    rank_high=int(rank_high[i]),
                    p_top3=float(top3[i]),
                    p_best=float(best[j] / draws),
                )
            )
    return figures
