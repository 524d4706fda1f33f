"""Predicted customer lifetime value: BG/NBD × Gamma-Gamma, fitted by maximum likelihood.

* BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way")
  models how many repeat purchase days a customer makes and whether they
  are still "alive".
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's note 025)
  models the mean value of a customer's repeat purchases.

Time is in weeks; ``x`` counts repeat purchase *days* (the first purchase is
not a repeat), ``t_x`` is the time of the last purchase and ``T`` the time to
the end of the observation period, both measured from the first purchase.
The CLV sum follows the ``lifetimes`` package's convention so that its
published CDNOW figures can be used as regression tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1, log_expit

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]

# Log-parameters are kept in this box: exp(±30) covers any plausible shape or
# scale, and keeps exp() and gammaln() finite while the optimizer explores.
_LOG_BOUND = 30.0
# A BG/NBD optimum this far out (a rate or a dropout odds off by e^15 from
# the data's own scale) is a limit the data cannot pin down, not an estimate;
# the closed-form forecasts also lose every digit there (hyp2f1 with b ~ 1e13).
_IDENTIFIED_LOG = 15.0
# The BG/NBD is fitted with a + b at most this; a fit that pushes against it is put at this
# ridge point (see _same_dropout). A Beta(a, b) of this a + b is one dropout chance for every
# customer to within a percentage point, and a log-likelihood within _RIDGE_TOLERANCE of the
# limit's is one the data cannot tell from it (a likelihood-ratio statistic of 1, far below
# the 3.84 of a 5% test).
_SAME_DROPOUT_SUM = 1e4
_RIDGE_TOLERANCE = 0.5
# A fit below the ridge point is an optimum of its own only when it beats the ridge point by
# more than this: less is the optimizer's precision on a slope too gentle to follow (each fit
# is exact to about 1e-8), and a difference no data set could show (a likelihood ratio of 1.0001).
_OWN_OPTIMUM = 1e-4
# When a and b run off together, p = a / (a + b) at the ridge point is the limit's p to within
# this in log-odds (measured: 1e-4 to 2e-4 for a few thousand customers); when only one runs off,
# the limit's p is 0 or 1 and its log-odds grow without bound.
_STABLE_LOG_ODDS = 0.05
_CENT = Decimal("0.01")


class FitError(RuntimeError):
    """The data do not identify the model (the optimizer found no finite optimum)."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    log_likelihood: float


@dataclass(frozen=True)
class CustomerHistory:
    """One customer's RFM summary: weeks, and the mean value of repeat purchases."""

    x: int
    t_x: float
    T: float
    m: float


def _arrays(*values: ArrayLike) -> tuple[FloatArray, ...]:
    arrays = tuple(np.atleast_1d(np.asarray(value, dtype=float)) for value in values)
    if len({array.shape for array in arrays}) > 1:
        raise ValueError("arrays must have equal length")
    return arrays


def _check_rfm(x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
    if x.size == 0:
        raise ValueError("no customers")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        raise ValueError("x, t_x and T must be finite")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T):
        raise ValueError("need x >= 0 and 0 <= t_x <= T")


# --- BG/NBD -----------------------------------------------------------------


def _bgnbd_log_likelihoods(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """Per-customer log-likelihood, FHL (2005) eq. 6, in log space."""
    log_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    log_a2 = betaln(a, b + x) - betaln(a, b)
    log_a3 = -(r + x) * np.log(alpha + T)
    repeaters = x > 0
    # The second term only exists for x > 0 (b + x - 1 > 0 there); elsewhere
    # it is -inf so that logaddexp leaves the first term alone.
    safe = np.where(repeaters, b + x - 1, 1.0)
    log_a4 = np.where(
        repeaters,
        np.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return np.asarray(log_a1 + log_a2 + np.logaddexp(log_a3, log_a4), dtype=np.float64)


def _same_dropout_log_likelihoods(
    r: float,
    alpha: float,
    dropout_logit: float,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    """Eq. 6 in the limit a, b → ∞ with a / (a + b) = p held: every customer drops out after a
    purchase with the one chance p. B(a, b + x) / B(a, b) becomes (1 − p)^x and a / (b + x − 1)
    becomes p / (1 − p); p is given by its log-odds so that p and 1 − p both keep their digits."""
    log_p, log_stay = log_expit(dropout_logit), log_expit(-dropout_logit)
    log_a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    log_a3 = -(r + x) * np.log(alpha + T)
    log_a4 = np.where(x > 0, log_p - log_stay - (r + x) * np.log(alpha + t_x), -np.inf)
    return np.asarray(log_a1 + x * log_stay + np.logaddexp(log_a3, log_a4), dtype=np.float64)


def bgnbd_log_likelihood(params_tuple: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> float:
    """Log-likelihood of (r, alpha, a, b), summed over customers, on weeks as given."""
    r, alpha, a, b = (float(value) for value in params_tuple)
    xs, txs, Ts = _arrays(x, t_x, T)
    return float(np.sum(_bgnbd_log_likelihoods(r, alpha, a, b, xs, txs, Ts)))


@dataclass(frozen=True)
class _Candidate:
    """A BG/NBD fitted on rescaled time, its Beta(a, b) given by a + b (`total`) and the log-odds
    of its mean p = a / (a + b), so that a and b both keep their digits when one is tiny."""

    r: float
    alpha: float
    dropout_logit: float
    total: float
    log_likelihood: float

    @property
    def log_a(self) -> float:
        return float(np.log(self.total) + log_expit(self.dropout_logit))

    @property
    def log_b(self) -> float:
        return float(np.log(self.total) + log_expit(-self.dropout_logit))


Customers: TypeAlias = tuple[FloatArray, FloatArray, FloatArray]


def fit_bgnbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    start: tuple[float, float, float, float] | None = None,
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for the given customers.

    The answer is a property of the data: the best fit with a + b at most
    _SAME_DROPOUT_SUM, and when that best fit is the ridge point itself (a and b pushed up
    together, see _same_dropout) the ridge point fitted from fixed starting values. `start`
    is (r, alpha, a, b), alpha in the unit of T, where the optimizer begins; any start gives
    the same answer to the optimizer's precision (1, 1, 1, 1 on rescaled time by default).
    """
    xs, txs, Ts = _arrays(x, t_x, T)
    _check_rfm(xs, txs, Ts)
    # Time is rescaled to [0, 1] while fitting so that all four parameters
    # start near 1 whatever the unit; only alpha carries the time unit.
    scale = float(np.max(Ts)) or 1.0
    customers = (xs, txs / scale, Ts / scale)
    below = _fit_below_ridge(customers, _starting_point(start, scale))
    ridge = _fit_ridge_point(customers)
    # On the ridge nothing below the ridge point fits better than it does. Where the optimizer
    # stopped on the way up cannot say which case this is (it stops wherever the slope gets
    # too gentle to follow); the two fits' log-likelihoods can.
    if below.log_likelihood > ridge.log_likelihood + _OWN_OPTIMUM:
        best = below
    else:
        best = _same_dropout(customers, ridge)
    logs = (np.log(best.r), np.log(best.alpha), best.log_a, best.log_b)
    if max(abs(value) for value in logs) > _IDENTIFIED_LOG:
        raise FitError("the data do not identify the BG/NBD (a parameter ran off to a limit)")
    r, alpha, a, b = best.r, best.alpha * scale, float(np.exp(best.log_a)), float(np.exp(best.log_b))
    log_likelihood = bgnbd_log_likelihood((r, alpha, a, b), xs, txs, Ts)
    if not np.isfinite(log_likelihood):
        raise FitError("BG/NBD log-likelihood is not finite at the optimum")
    return BgNbdParams(r, alpha, a, b, log_likelihood)


def _starting_point(start: tuple[float, float, float, float] | None, scale: float) -> FloatArray:
    """(log r, log alpha, log-odds of p, log(a + b)) on rescaled time, inside the fitting box."""
    r, alpha, a, b = start if start is not None else (1.0, scale, 1.0, 1.0)
    if min(r, alpha, a, b) <= 0:
        raise ValueError("starting values must be positive")
    point = np.log([r, alpha / scale, a / b, min(a + b, _SAME_DROPOUT_SUM)])
    return np.clip(point, -_LOG_BOUND, _LOG_BOUND)


def _fit_below_ridge(customers: Customers, start: FloatArray) -> _Candidate:
    """The best fit with a + b at most _SAME_DROPOUT_SUM. On (log r, log alpha, log-odds of p,
    log(a + b)) the same-dropout ridge is one coordinate, bounded at the ridge point."""

    def objective(point: FloatArray) -> float:
        return _negated_bgnbd(point, customers)

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 3 + [(-_LOG_BOUND, float(np.log(_SAME_DROPOUT_SUM)))]
    point = _minimize(objective, start, bounds)
    r, alpha, total = (float(value) for value in np.exp(point[[0, 1, 3]]))
    return _Candidate(r, alpha, float(point[2]), total, -objective(point))


def _fit_ridge_point(customers: Customers) -> _Candidate:
    """The best fit with a + b = _SAME_DROPOUT_SUM (r, alpha and p free), from fixed starting
    values: a well-posed fit of three parameters that owes nothing to where the first fit began."""
    log_total = float(np.log(_SAME_DROPOUT_SUM))

    def objective(point: FloatArray) -> float:
        return _negated_bgnbd(np.append(point, log_total), customers)

    point = _minimize(objective, np.zeros(3))
    r, alpha = (float(value) for value in np.exp(point[:2]))
    return _Candidate(r, alpha, float(point[2]), _SAME_DROPOUT_SUM, -objective(point))


def _negated_bgnbd(point: FloatArray, customers: Customers) -> float:
    """−log-likelihood at (log r, log alpha, log-odds of p, log(a + b))."""
    log_a = point[3] + log_expit(point[2])
    log_b = point[3] + log_expit(-point[2])
    r, alpha, a, b = np.exp([point[0], point[1], log_a, log_b])
    return _negated(_bgnbd_log_likelihoods(r, alpha, a, b, *customers))


def _same_dropout(customers: Customers, ridge: _Candidate) -> _Candidate:
    """The data push a and b up together: they say every customer drops out after a purchase
    with one chance, p = a / (a + b), and cannot tell how much that chance varies from
    customer to customer (the likelihood flattens as a + b grows, p held). The fit is then the
    ridge point, where forecasts keep their digits, provided it is that limit's: p there is the
    limit's p to _STABLE_LOG_ODDS, and its log-likelihood is within _RIDGE_TOLERANCE of the
    limit's. When a or b alone runs off, p runs to 0 or 1 in the limit and the fit is refused."""

    def objective(point: FloatArray) -> float:
        r, alpha = (float(value) for value in np.exp(point[:2]))
        return _negated(_same_dropout_log_likelihoods(r, alpha, float(point[2]), *customers))

    point = _minimize(objective, np.zeros(3))
    limit_log_likelihood = -objective(point)
    if abs(point[2] - ridge.dropout_logit) > _STABLE_LOG_ODDS:
        raise FitError("the data do not identify the BG/NBD (a or b alone ran off to a limit)")
    if limit_log_likelihood - ridge.log_likelihood > _RIDGE_TOLERANCE:
        raise FitError("the data tell the BG/NBD's same-dropout limit from its ridge point")
    return ridge


def _negated(log_likelihoods: FloatArray) -> float:
    """What the optimizer minimises; a non-finite sum becomes a wall it turns back from."""
    with np.errstate(all="ignore"):
        value = -np.sum(log_likelihoods)
    return float(value) if np.isfinite(value) else 1e300


def _minimize(
    objective: Callable[[FloatArray], float],
    start: FloatArray,
    bounds: Sequence[tuple[float, float]] | None = None,
) -> FloatArray:
    box = list(bounds) if bounds is not None else [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    result = minimize(
        objective, start, method="L-BFGS-B", bounds=box, options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000}
    )
    # A second pass from the first optimum polishes a flat valley that L-BFGS-B sometimes
    # stops in early. It wanders where the data pin nothing down (a rate and a scale running
    # off together), hence the cap: five times the 100 to 200 steps a well-posed fit takes.
    result = minimize(
        objective,
        result.x,
        method="Nelder-Mead",
        bounds=box,
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 1000, "initial_simplex": _simplex_inside(result.x, box)},
    )
    if not np.all(np.isfinite(result.x)) or result.fun >= 1e300:
        raise FitError("the optimizer found no finite optimum")
    low, high = np.asarray(box, dtype=np.float64).T
    return np.clip(np.asarray(result.x, dtype=np.float64), low, high)


def _simplex_inside(start: FloatArray, box: Sequence[tuple[float, float]]) -> FloatArray:
    """Nelder-Mead's usual first simplex (5% of each coordinate, 0.00025 from zero), with a
    step that would leave the box taken the other way: a step cut at the bound flattens the
    simplex, which then never converges (an optimum on the bound is the ridge point's)."""
    steps = np.where(start != 0, 0.05 * np.abs(start), 0.00025)
    steps = np.where(start + steps > np.asarray(box, dtype=np.float64)[:, 1], -steps, steps)
    return np.vstack([start, start + np.diag(steps)])


def _alive_odds(p: BgNbdParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """a/(b+x−1)·((α+T)/(α+t_x))^(r+x) for x > 0, else 0: the odds of having dropped out."""
    repeaters = x > 0
    safe = np.where(repeaters, p.b + x - 1, 1.0)
    log_odds = np.log(p.a) - np.log(safe) + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))
    return np.where(repeaters, np.exp(log_odds), 0.0)


def probability_alive(p: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray | float:
    """P(the customer is still active | x, t_x, T); 1 for customers with no repeats."""
    xs, txs, Ts = _arrays(x, t_x, T)
    return _maybe_scalar(1.0 / (1.0 + _alive_odds(p, xs, txs, Ts)), x, t_x, T)


def expected_purchases(p: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray | float:
    """E[X(t) | x, t_x, T]: expected repeat purchases in the next t weeks (FHL eq. 10)."""
    ts, xs, txs, Ts = _arrays(*np.broadcast_arrays(t, x, t_x, T))
    rx = p.r + xs
    z = ts / (p.alpha + Ts + ts)
    survive = np.exp(rx * (np.log(p.alpha + Ts) - np.log(p.alpha + Ts + ts)))
    numerator = (p.a + p.b + xs - 1) / (p.a - 1) * (1 - survive * hyp2f1(rx, p.b + xs, p.a + p.b + xs - 1, z))
    return _maybe_scalar(numerator / (1 + _alive_odds(p, xs, txs, Ts)), t, x, t_x, T)


def expected_purchases_unconditional(p: BgNbdParams, t: ArrayLike) -> FloatArray | float:
    """E[X(t)] for a customer just acquired: repeat purchases in t weeks (FHL eq. 9)."""
    (ts,) = _arrays(t)
    survive = np.exp(p.r * (np.log(p.alpha) - np.log(p.alpha + ts)))
    value = (p.a + p.b - 1) / (p.a - 1) * (1 - survive * hyp2f1(p.r, p.b, p.a + p.b - 1, ts / (p.alpha + ts)))
    return _maybe_scalar(value, t)


def _maybe_scalar(values: FloatArray, *inputs: ArrayLike) -> FloatArray | float:
    """Scalars in, scalar out: callers asking about one customer get a float."""
    if all(np.ndim(value) == 0 for value in inputs):
        return float(values.reshape(-1)[0])
    return values


# --- Gamma-Gamma ------------------------------------------------------------


def _gamma_gamma_log_likelihoods(p: float, q: float, v: float, x: FloatArray, m: FloatArray) -> FloatArray:
    """Per-repeater log-density of the mean spend m over x purchases (note 025, eq. 3)."""
    px = p * x
    log_density = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )
    return np.asarray(log_density, dtype=np.float64)


def gamma_gamma_log_likelihood(params_tuple: Sequence[float], x: ArrayLike, m: ArrayLike) -> float:
    """Log-likelihood of (p, q, v) summed over repeaters (x > 0, m > 0) only."""
    p, q, v = (float(value) for value in params_tuple)
    xs, ms = _repeaters(x, m)
    return float(np.sum(_gamma_gamma_log_likelihoods(p, q, v, xs, ms)))


def _repeaters(x: ArrayLike, m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs, ms = _arrays(x, m)
    # The model describes repeat spend: one-time buyers carry no information,
    # and a zero mean (free orders) has no density.
    keep = (xs > 0) & (ms > 0)
    return xs[keep], ms[keep]


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters; non-repeaters are left out."""
    xs, ms = _repeaters(x, m)
    if xs.size == 0:
        raise ValueError("no repeat customers with spend to fit")
    # Spend is rescaled like time in the BG/NBD: only v carries the currency unit.
    scale = float(np.mean(ms))

    def objective(log_params: FloatArray) -> float:
        p, q, v = np.exp(log_params)
        return _negated(_gamma_gamma_log_likelihoods(p, q, v, xs, ms / scale))

    p, q, v_s = (float(value) for value in np.exp(_minimize(objective, np.zeros(3))))
    v = v_s * scale
    log_likelihood = float(np.sum(_gamma_gamma_log_likelihoods(p, q, v, xs, ms)))
    if not np.isfinite(log_likelihood):
        raise FitError("Gamma-Gamma log-likelihood is not finite at the optimum")
    return GammaGammaParams(p, q, v, log_likelihood)


def expected_average_spend(g: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> FloatArray | float:
    """E[M | x, m]: a weighted mean of the population mean p·v/(q−1) and the customer's m.

    Customers without repeats get the population mean. Needs q > 1 (a finite mean).
    """
    xs, ms = _arrays(x, m)
    ms = np.where(xs > 0, ms, 0.0)
    value = g.p * (g.v + xs * ms) / (g.p * xs + g.q - 1)
    return _maybe_scalar(value, x, m)


# --- CLV --------------------------------------------------------------------


def customer_lifetime_value(
    p: BgNbdParams,
    g: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    months: int = 12,
    discount_rate: float = 0.01,
    weeks_per_month: float = 4.345,
) -> FloatArray | float:
    """Σ over months i of E[M] × (E[X(i months)] − E[X(i−1 months)]) ÷ (1 + d)^i.

    This is ``lifetimes``' ``customer_lifetime_value(..., freq="W")``: months
    of 4.345 weeks, each discounted at the end of the month.
    """
    xs, txs, Ts, ms = _arrays(x, t_x, T, m)
    spend = np.asarray(expected_average_spend(g, xs, ms), dtype=float)
    value = np.zeros_like(xs)
    before = np.zeros_like(xs)
    for month in range(1, months + 1):
        after = np.asarray(expected_purchases(p, month * weeks_per_month, xs, txs, Ts), dtype=float)
        value += spend * (after - before) / (1 + discount_rate) ** month
        before = after
    return _maybe_scalar(value, x, t_x, T, m)


def summarize_purchases(purchase_days: Sequence[tuple[date, Decimal]], end: date) -> CustomerHistory:
    """A customer's RFM summary at ``end`` from their (shop-local day, amount) purchases.

    Purchases on one calendar day merge into one purchase (the CDNOW rule);
    purchases after ``end`` are ignored. ``m`` is the mean of the repeat
    days' amounts, the first day excluded, 0 without repeats.
    """
    days: dict[date, Decimal] = {}
    for day, amount in purchase_days:
        if isinstance(day, datetime):
            # A datetime's calendar day depends on the shop's timezone, which
            # only the caller knows.
            raise TypeError("pass shop-local dates, not datetimes")
        if day <= end:
            days[day] = days.get(day, Decimal(0)) + Decimal(amount)
    if not days:
        raise ValueError("no purchase on or before the end date")
    ordered = sorted(days)
    first, last = ordered[0], ordered[-1]
    repeats = [days[day] for day in ordered[1:]]
    mean = float(sum(repeats, Decimal(0)) / len(repeats)) if repeats else 0.0
    return CustomerHistory(
        x=len(repeats),
        t_x=(last - first).days / 7,
        T=(end - first).days / 7,
        m=mean,
    )


def predicted_clv(
    histories: Sequence[CustomerHistory],
    months: int = 12,
    min_customers: int = 30,
    min_repeaters: int = 10,
) -> list[Decimal] | None:
    """Per-customer CLV over ``months``, in cents, or None without enough data.

    Both models are fitted on the histories given. None when there are fewer
    than ``min_customers`` customers or ``min_repeaters`` repeaters with
    spend, when a fit fails, or when the fitted spend has no finite mean.
    Impossible histories (t_x > T, negative values) raise ValueError.
    """
    if len(histories) < min_customers:
        return None
    x = np.array([h.x for h in histories], dtype=float)
    t_x = np.array([h.t_x for h in histories], dtype=float)
    T = np.array([h.T for h in histories], dtype=float)
    m = np.array([h.m for h in histories], dtype=float)
    # At least one repeater: the spend model has nothing to fit without one.
    if int(np.sum((x > 0) & (m > 0))) < max(min_repeaters, 1):
        return None
    try:
        bgnbd = fit_bgnbd(x, t_x, T)
        spend = fit_gamma_gamma(x, m)
    except FitError:
        return None
    # q ≤ 1 means an infinite mean spend; a = 1 is a pole of E[X(t)].
    if spend.q <= 1 or abs(bgnbd.a - 1) < 1e-9:
        return None
    values = np.asarray(customer_lifetime_value(bgnbd, spend, x, t_x, T, m, months=months))
    # A value below zero can only be lost precision; say "no prediction"
    # rather than show a made-up figure.
    if not np.all(np.isfinite(values)) or np.any(values < -0.005):
        return None
    return [Decimal(repr(max(float(value), 0.0))).quantize(_CENT, rounding=ROUND_HALF_UP) for value in values]
