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
from scipy.special import betaln, gammaln, hyp2f1

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]

# Log-parameters are kept in this box: exp(±30) covers any plausible shape or
# scale, and keeps exp() and gammaln() finite while the optimizer explores.
_LOG_BOUND = 30.0
# A BG/NBD optimum this far out (a rate or a dropout odds off by e^15 from
# the data's own scale) is a limit the data cannot pin down, not an estimate;
# the closed-form forecasts also lose every digit there (hyp2f1 with b ~ 1e13).
_IDENTIFIED_LOG = 15.0
# Where a BG/NBD whose a and b both ran off is put (see _same_dropout): a Beta(a, b) of this
# a + b is one dropout chance for every customer to within a percentage point, and a log-
# likelihood this close to the optimum's is one the data cannot tell from it (a likelihood-
# ratio statistic of 1, far below the 3.84 of a 5% test).
_SAME_DROPOUT_SUM = 1e4
_RIDGE_TOLERANCE = 0.5
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
    r: float, alpha: float, a: float, b: float,
    x: FloatArray, t_x: FloatArray, T: FloatArray,
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


def bgnbd_log_likelihood(
    params_tuple: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> float:
    """Log-likelihood of (r, alpha, a, b), summed over customers, on weeks as given."""
    r, alpha, a, b = (float(value) for value in params_tuple)
    xs, txs, Ts = _arrays(x, t_x, T)
    return float(np.sum(_bgnbd_log_likelihoods(r, alpha, a, b, xs, txs, Ts)))


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for the given customers."""
    xs, txs, Ts = _arrays(x, t_x, T)
    _check_rfm(xs, txs, Ts)
    # Time is rescaled to [0, 1] while fitting so that all four parameters
    # start near 1 whatever the unit; only alpha carries the time unit.
    scale = float(np.max(Ts)) or 1.0
    txs_s, Ts_s = txs / scale, Ts / scale

    def objective(log_params: FloatArray) -> float:
        r, alpha, a, b = np.exp(log_params)
        with np.errstate(all="ignore"):  # a non-finite value is handled just below
            value = -np.sum(_bgnbd_log_likelihoods(r, alpha, a, b, xs, txs_s, Ts_s))
        return float(value) if np.isfinite(value) else 1e300

    log_params = _minimize(objective, np.zeros(4))
    if np.any(np.abs(log_params[2:]) > _IDENTIFIED_LOG):
        log_params = _same_dropout(objective, log_params)
    if np.any(np.abs(log_params) > _IDENTIFIED_LOG):
        raise FitError("the data do not identify the BG/NBD (a parameter ran off to a limit)")
    r, alpha_s, a, b = (float(value) for value in np.exp(log_params))
    alpha = alpha_s * scale
    log_likelihood = bgnbd_log_likelihood((r, alpha, a, b), xs, txs, Ts)
    if not np.isfinite(log_likelihood):
        raise FitError("BG/NBD log-likelihood is not finite at the optimum")
    return BgNbdParams(r, alpha, a, b, log_likelihood)


def _same_dropout(objective: Callable[[FloatArray], float], log_params: FloatArray) -> FloatArray:
    """The BG/NBD's a and b ran off together: the data say every customer drops out after a
    purchase with one chance, p = a / (a + b), and cannot tell how much that chance varies
    from customer to customer (the likelihood is flat as a + b grows, p held). Such an
    optimum is the point of that ridge where a + b = _SAME_DROPOUT_SUM, with r and alpha
    fitted again there, provided its log-likelihood is within _RIDGE_TOLERANCE of the
    optimum's: forecasts keep their digits there and the data cannot tell it from the limit.
    Anything else (a or b alone running off) is returned unchanged, to be refused."""
    log_a, log_b = (float(value) for value in log_params[2:])
    if min(log_a, log_b) <= np.log(_SAME_DROPOUT_SUM):
        return log_params
    p = 1.0 / (1.0 + np.exp(log_b - log_a))
    fixed = np.log([p * _SAME_DROPOUT_SUM, (1.0 - p) * _SAME_DROPOUT_SUM])

    def on_ridge(log_rate: FloatArray) -> float:
        return objective(np.concatenate([log_rate, fixed]))

    log_rate = _minimize(on_ridge, np.asarray(log_params[:2], dtype=np.float64))
    if on_ridge(log_rate) - objective(log_params) > _RIDGE_TOLERANCE:
        return log_params
    return np.concatenate([log_rate, fixed])


def _minimize(objective: Callable[[FloatArray], float], start: FloatArray) -> FloatArray:
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    result = minimize(objective, start, method="L-BFGS-B", bounds=bounds,
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
    # A second pass from the first optimum polishes a flat valley that
    # L-BFGS-B sometimes stops in early.
    result = minimize(objective, result.x, method="Nelder-Mead",
                      options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    if not np.all(np.isfinite(result.x)) or result.fun >= 1e300:
        raise FitError("the optimizer found no finite optimum")
    return np.clip(np.asarray(result.x, dtype=np.float64), -_LOG_BOUND, _LOG_BOUND)


def _alive_odds(p: BgNbdParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """a/(b+x−1)·((α+T)/(α+t_x))^(r+x) for x > 0, else 0: the odds of having dropped out."""
    repeaters = x > 0
    safe = np.where(repeaters, p.b + x - 1, 1.0)
    log_odds = (np.log(p.a) - np.log(safe)
                + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x)))
    return np.where(repeaters, np.exp(log_odds), 0.0)


def probability_alive(
    p: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray | float:
    """P(the customer is still active | x, t_x, T); 1 for customers with no repeats."""
    xs, txs, Ts = _arrays(x, t_x, T)
    return _maybe_scalar(1.0 / (1.0 + _alive_odds(p, xs, txs, Ts)), x, t_x, T)


def expected_purchases(
    p: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray | float:
    """E[X(t) | x, t_x, T]: expected repeat purchases in the next t weeks (FHL eq. 10)."""
    ts, xs, txs, Ts = _arrays(*np.broadcast_arrays(t, x, t_x, T))
    rx = p.r + xs
    z = ts / (p.alpha + Ts + ts)
    survive = np.exp(rx * (np.log(p.alpha + Ts) - np.log(p.alpha + Ts + ts)))
    numerator = ((p.a + p.b + xs - 1) / (p.a - 1)
                 * (1 - survive * hyp2f1(rx, p.b + xs, p.a + p.b + xs - 1, z)))
    return _maybe_scalar(numerator / (1 + _alive_odds(p, xs, txs, Ts)), t, x, t_x, T)


def expected_purchases_unconditional(p: BgNbdParams, t: ArrayLike) -> FloatArray | float:
    """E[X(t)] for a customer just acquired: repeat purchases in t weeks (FHL eq. 9)."""
    (ts,) = _arrays(t)
    survive = np.exp(p.r * (np.log(p.alpha) - np.log(p.alpha + ts)))
    value = ((p.a + p.b - 1) / (p.a - 1)
             * (1 - survive * hyp2f1(p.r, p.b, p.a + p.b - 1, ts / (p.alpha + ts))))
    return _maybe_scalar(value, t)


def _maybe_scalar(values: FloatArray, *inputs: ArrayLike) -> FloatArray | float:
    """Scalars in, scalar out: callers asking about one customer get a float."""
    if all(np.ndim(value) == 0 for value in inputs):
        return float(values.reshape(-1)[0])
    return values


# --- Gamma-Gamma ------------------------------------------------------------


def _gamma_gamma_log_likelihoods(
    p: float, q: float, v: float, x: FloatArray, m: FloatArray
) -> FloatArray:
    """Per-repeater log-density of the mean spend m over x purchases (note 025, eq. 3)."""
    px = p * x
    log_density = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                   + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m))
    return np.asarray(log_density, dtype=np.float64)


def gamma_gamma_log_likelihood(
    params_tuple: Sequence[float], x: ArrayLike, m: ArrayLike
) -> float:
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
        with np.errstate(all="ignore"):  # a non-finite value is handled just below
            value = -np.sum(_gamma_gamma_log_likelihoods(p, q, v, xs, ms / scale))
        return float(value) if np.isfinite(value) else 1e300

    p, q, v_s = (float(value) for value in np.exp(_minimize(objective, np.zeros(3))))
    v = v_s * scale
    log_likelihood = float(np.sum(_gamma_gamma_log_likelihoods(p, q, v, xs, ms)))
    if not np.isfinite(log_likelihood):
        raise FitError("Gamma-Gamma log-likelihood is not finite at the optimum")
    return GammaGammaParams(p, q, v, log_likelihood)


def expected_average_spend(
    g: GammaGammaParams, x: ArrayLike, m: ArrayLike
) -> FloatArray | float:
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
        after = np.asarray(
            expected_purchases(p, month * weeks_per_month, xs, txs, Ts), dtype=float
        )
        value += spend * (after - before) / (1 + discount_rate) ** month
        before = after
    return _maybe_scalar(value, x, t_x, T, m)


def summarize_purchases(
    purchase_days: Sequence[tuple[date, Decimal]], end: date
) -> CustomerHistory:
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
    return [
        Decimal(repr(max(float(value), 0.0))).quantize(_CENT, rounding=ROUND_HALF_UP)
        for value in values
    ]
