"""BG/NBD and Gamma-Gamma reproduce every CDNOW figure in tests/fixtures/cdnow/README.md."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories import CDNOW_FIXTURES
from roi.clv import (
    BgNbdParams,
    CustomerHistory,
    FitError,
    GammaGammaParams,
    bgnbd_log_likelihood,
    customer_lifetime_value,
    expected_average_spend,
    expected_purchases,
    expected_purchases_unconditional,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    predicted_clv,
    probability_alive,
    summarize_purchases,
)

PUBLISHED = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"))

# (x, t_x, T) of customers 1, 2, 3 and the README's illustrative point.
ID1, ID2, ID3, POINT = (2, 30.43, 38.86), (1, 1.71, 38.86), (0, 0.0, 38.86), (7, 35.14, 38.86)


def read_columns(name: str, *columns: str) -> tuple[np.ndarray, ...]:
    # Some of these files end lines with CRLF; the csv module reads both.
    with (CDNOW_FIXTURES / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(np.array([float(row[column]) for row in rows]) for column in columns)


X, T_X, T = read_columns("cdnow_customers_summary.csv", "frequency", "recency", "T")
X_M, T_X_M, T_M, ZBAR = read_columns("cdnow_customers_summary_with_transactions.csv", "x", "t_x", "T", "zbar")


@pytest.fixture(scope="module")
def bgnbd() -> BgNbdParams:
    return fit_bgnbd(X, T_X, T)


@pytest.fixture(scope="module")
def gamma_gamma() -> GammaGammaParams:
    return fit_gamma_gamma(X_M, ZBAR)


def test_data_is_the_calibration_sample() -> None:
    assert len(X) == 2357 and X.sum() == 2457 and (X > 0).sum() == 946
    assert np.array_equal(X, X_M) and np.array_equal(T_X, T_X_M) and np.array_equal(T, T_M)


# --- BG/NBD --------------------------------------------------------------------


def test_bgnbd_parameters(bgnbd: BgNbdParams) -> None:
    assert bgnbd.r == pytest.approx(0.24259292827982148, abs=0.001)
    assert bgnbd.alpha == pytest.approx(4.413532265271809, abs=0.005)
    assert bgnbd.a == pytest.approx(0.7928859664406578, abs=0.002)
    assert bgnbd.b == pytest.approx(2.4257523826257374, abs=0.005)
    # and the paper's published values, within the same tolerances
    assert (bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=0.001)


def test_bgnbd_log_likelihood(bgnbd: BgNbdParams) -> None:
    assert bgnbd.log_likelihood == pytest.approx(-9582.425560567368, abs=0.05)
    at_published = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), X, T_X, T)
    assert at_published == pytest.approx(-9582.426831182365, abs=0.05)
    assert at_published <= bgnbd.log_likelihood


def test_customer_1_at_published_parameters() -> None:
    assert expected_purchases(PUBLISHED, 39, *ID1) == pytest.approx(1.226028174767135, abs=1e-6)
    assert probability_alive(PUBLISHED, *ID1) == pytest.approx(0.726578570080673, abs=1e-6)


@pytest.mark.parametrize(
    ("history", "expected", "alive"),
    [
        (ID1, 1.2259104241744068, 0.7266091367990596),
        (ID2, 0.20325062425618798, 0.21222738807220765),
        (ID3, 0.19478085793947836, 1.0),
        (POINT, 4.404975602290018, 0.847142086670791),
    ],
)
def test_conditional_expectation_and_alive(
    bgnbd: BgNbdParams, history: tuple[float, float, float], expected: float, alive: float
) -> None:
    assert expected_purchases(bgnbd, 39, *history) == pytest.approx(expected, abs=0.001)
    assert probability_alive(bgnbd, *history) == pytest.approx(alive, abs=0.001)


def test_unconditional_expectation(bgnbd: BgNbdParams) -> None:
    weeks = [0.1429, 1, 3, 31.8571, 32, 78]
    got = expected_purchases_unconditional(bgnbd, weeks)
    reproduced = [0.007816071, 0.053184737, 0.150631919, 1.040494243, 1.043737166, 1.857971704]
    hardie = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    assert got == pytest.approx(reproduced, abs=0.001)
    assert got == pytest.approx(hardie, abs=0.001)


def test_holdout_forecast_total(bgnbd: BgNbdParams) -> None:
    total = float(np.sum(expected_purchases(bgnbd, 39, X, T_X, T)))
    assert total == pytest.approx(1653.423283330691, abs=0.5)


def test_scalar_in_scalar_out(bgnbd: BgNbdParams) -> None:
    assert isinstance(expected_purchases(bgnbd, 39, *ID1), float)
    assert isinstance(probability_alive(bgnbd, *ID1), float)
    assert np.shape(expected_purchases(bgnbd, 39, X[:5], T_X[:5], T[:5])) == (5,)


@given(
    st.integers(min_value=0, max_value=30),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0.1, max_value=80),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0.01, max_value=100),
)
def test_forecast_is_a_probability_weighted_count(x: int, recency: float, T_: float, t: float, dt: float) -> None:
    t_x = recency * T_ if x > 0 else 0.0
    alive = probability_alive(PUBLISHED, x, t_x, T_)
    assert 0 < alive <= 1
    sooner = expected_purchases(PUBLISHED, t, x, t_x, T_)
    later = expected_purchases(PUBLISHED, t + dt, x, t_x, T_)
    assert 0 <= sooner <= later + 1e-9


def test_bgnbd_refuses_impossible_histories() -> None:
    with pytest.raises(ValueError):
        fit_bgnbd([1, 2], [5.0, 9.0], [4.0, 10.0])  # last purchase after the end
    with pytest.raises(ValueError):
        fit_bgnbd([1, 2], [1.0], [4.0, 10.0])
    with pytest.raises(ValueError):
        fit_bgnbd(X, T_X, T, start=(0.2, 4.0, 0.0, 2.0))  # a Beta(0, b) is no distribution


# --- Gamma-Gamma ---------------------------------------------------------------


def test_gamma_gamma_parameters(gamma_gamma: GammaGammaParams) -> None:
    assert gamma_gamma.p == pytest.approx(6.24880249607099, abs=0.01)
    assert gamma_gamma.q == pytest.approx(3.7445884609237634, abs=0.01)
    assert gamma_gamma.v == pytest.approx(15.447748064943575, abs=0.02)
    # published (lifetimes docs; Hardie note 025)
    assert (gamma_gamma.p, gamma_gamma.q) == pytest.approx((6.25, 3.74), abs=0.01)
    assert gamma_gamma.v == pytest.approx(15.44, abs=0.02)


def test_gamma_gamma_log_likelihood(gamma_gamma: GammaGammaParams) -> None:
    assert gamma_gamma.log_likelihood == pytest.approx(-4055.9232435028644, abs=0.05)
    at_published = gamma_gamma_log_likelihood((6.25, 3.74, 15.44), X_M, ZBAR)
    assert at_published == pytest.approx(-4055.9247127301687, abs=0.05)


def test_population_mean_spend(gamma_gamma: GammaGammaParams) -> None:
    mean = gamma_gamma.p * gamma_gamma.v / (gamma_gamma.q - 1)
    assert mean == pytest.approx(35.17100215250688, abs=0.01)
    assert expected_average_spend(gamma_gamma, 0, 0.0) == pytest.approx(mean)


def test_expected_spend_of_customers_1_to_10(gamma_gamma: GammaGammaParams) -> None:
    got = expected_average_spend(gamma_gamma, X_M[:10], ZBAR[:10])
    reproduced = [24.6586, 18.9115, 35.1710, 35.1710, 35.1710, 71.4629, 18.9115, 35.1710, 27.2824, 35.1710]
    hardie = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    assert got == pytest.approx(reproduced, abs=0.01)
    assert got == pytest.approx(hardie, abs=0.01)


def test_gamma_gamma_ignores_one_time_buyers() -> None:
    repeaters = X_M > 0
    fitted = fit_gamma_gamma(X_M[repeaters], ZBAR[repeaters])
    assert fitted == fit_gamma_gamma(X_M, ZBAR)


# --- CLV -----------------------------------------------------------------------


def test_clv_of_customers_1_to_3(bgnbd: BgNbdParams, gamma_gamma: GammaGammaParams) -> None:
    got = customer_lifetime_value(
        bgnbd, gamma_gamma, X_M[:3], T_X_M[:3], T_M[:3], ZBAR[:3], months=12, discount_rate=0.01
    )
    assert got == pytest.approx([36.278495763627944, 4.637466328570688, 8.34409312180974], abs=0.01)


def test_predicted_clv_fits_both_models_and_returns_cents() -> None:
    histories = [CustomerHistory(int(x), t_x, t, m) for x, t_x, t, m in zip(X_M, T_X_M, T_M, ZBAR, strict=True)]
    values = predicted_clv(histories)
    assert values is not None and len(values) == len(histories)
    assert values[:3] == [Decimal("36.28"), Decimal("4.64"), Decimal("8.34")]
    assert all(value >= 0 for value in values)


def test_predicted_clv_needs_enough_data() -> None:
    histories = [CustomerHistory(int(x), t_x, t, m) for x, t_x, t, m in zip(X_M, T_X_M, T_M, ZBAR, strict=True)]
    assert predicted_clv(histories[:29]) is None
    one_timers = [h for h in histories if h.x == 0][:500]
    assert predicted_clv(one_timers + [h for h in histories if h.x > 0][:9]) is None


# --- summaries -----------------------------------------------------------------


def test_purchases_on_one_day_merge_into_one() -> None:
    purchases = [
        (date(1997, 1, 1), Decimal("10.00")),
        (date(1997, 1, 1), Decimal("5.00")),  # same day: still the first purchase
        (date(1997, 3, 5), Decimal("20.00")),
        (date(1997, 3, 5), Decimal("10.00")),  # one repeat day worth 30.00
        (date(1997, 8, 1), Decimal("12.00")),
        (date(1997, 11, 1), Decimal("99.00")),  # after calibration: ignored
    ]
    history = summarize_purchases(purchases, end=date(1997, 9, 30))
    assert history == CustomerHistory(x=2, t_x=212 / 7, T=272 / 7, m=21.0)


def test_one_time_buyer_summary() -> None:
    history = summarize_purchases([(date(1997, 3, 25), Decimal("40.00"))], end=date(1997, 9, 30))
    assert history == CustomerHistory(x=0, t_x=0.0, T=189 / 7, m=0.0)
    assert round(history.T, 2) == 27.0  # the shortest T in the CDNOW sample


def test_summary_refuses_datetimes_and_empty_histories() -> None:
    with pytest.raises(TypeError):
        summarize_purchases([(datetime(1997, 1, 1, 12), Decimal("1.00"))], end=date(1997, 9, 30))
    with pytest.raises(ValueError):
        summarize_purchases([(date(1997, 10, 1), Decimal("1.00"))], end=date(1997, 9, 30))


def test_predicted_clv_declines_data_that_do_not_identify_the_model() -> None:
    # Nobody has had time to drop out or to show their pace: the BG/NBD optimum
    # runs off to a limit, where its forecasts would be made-up figures.
    just_joined = [CustomerHistory(0, 0.0, 0.0, 0.0)] * 20
    fast_repeaters = [CustomerHistory(2, 3.0, 4.0, 10.0 + i) for i in range(20)]
    assert predicted_clv(just_joined + fast_repeaters) is None


def simulate(
    rng: np.random.Generator, n: int, weeks: float, same_dropout: float | None = None
) -> list[CustomerHistory]:
    """Customers from a BG/NBD (r=0.5, alpha=5, a=1.5, b=3) and Gamma-Gamma (4, 3, 20);
    with `same_dropout`, every customer drops out after a purchase with that chance."""
    histories = []
    for _ in range(n):
        rate = rng.gamma(0.5, 1 / 5)
        dropout = rng.beta(1.5, 3) if same_dropout is None else same_dropout
        x, t_x, now = 0, 0.0, 0.0
        while True:
            now += rng.exponential(1 / rate)
            if now > weeks:
                break
            x, t_x = x + 1, now
            if rng.random() < dropout:
                break
        # Each purchase ~ Gamma(p, nu) with nu ~ Gamma(q, gamma); the mean of x
        # purchases is then Gamma(p x, x nu).
        nu = rng.gamma(3, 1 / 20)
        spend = float(rng.gamma(4 * x, 1 / (x * nu))) if x else 0.0
        histories.append(CustomerHistory(x, t_x, weeks, spend))
    return histories


def test_fit_recovers_the_parameters_that_generated_the_data() -> None:
    histories = simulate(np.random.default_rng(2005), 4000, weeks=52)
    fitted = fit_bgnbd([h.x for h in histories], [h.t_x for h in histories], [h.T for h in histories])
    assert fitted.r == pytest.approx(0.5, rel=0.2)
    assert fitted.alpha == pytest.approx(5, rel=0.3)
    assert fitted.a == pytest.approx(1.5, rel=0.3)
    assert fitted.b == pytest.approx(3, rel=0.3)
    spend = fit_gamma_gamma([h.x for h in histories], [h.m for h in histories])
    assert (spend.p, spend.q, spend.v) == pytest.approx((4, 3, 20), rel=0.3)
    values = predicted_clv(histories)
    assert values is not None and all(value >= 0 for value in values)


def columns(histories: list[CustomerHistory]) -> tuple[list[float], list[float], list[float]]:
    return [h.x for h in histories], [h.t_x for h in histories], [h.T for h in histories]


@pytest.fixture(scope="module")
def one_dropout_chance() -> list[CustomerHistory]:
    """Every customer drops out after a purchase with the same chance, 0.3: the BG/NBD's a and
    b run off together (a Beta of no spread), a limit the data identify through a / (a + b)."""
    return simulate(np.random.default_rng(2005), 4000, weeks=52, same_dropout=0.3)


@pytest.fixture(scope="module")
def on_the_ridge(one_dropout_chance: list[CustomerHistory]) -> BgNbdParams:
    return fit_bgnbd(*columns(one_dropout_chance))


def test_one_dropout_chance_for_everyone_is_fitted_not_declined(
    one_dropout_chance: list[CustomerHistory], on_the_ridge: BgNbdParams
) -> None:
    histories, fitted = one_dropout_chance, on_the_ridge

    assert fitted.a + fitted.b == pytest.approx(1e4)  # the point of the ridge it is put at
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(0.3, rel=0.05)
    assert (fitted.r, fitted.alpha) == pytest.approx((0.5, 5), rel=0.1)
    # Its forecasts are the limit's: a hundred times the a + b changes them by a hair.
    further = BgNbdParams(fitted.r, fitted.alpha, fitted.a * 100, fitted.b * 100, 0.0)
    for weeks in (4.345, 52, 104):
        assert expected_purchases_unconditional(fitted, weeks) == pytest.approx(
            expected_purchases_unconditional(further, weeks), rel=1e-3
        )
    values = predicted_clv(histories)
    assert values is not None and all(value >= 0 for value in values) and sum(values) > 0


# Below the optimum, beyond it and, for the ridge, past the ridge point (a + b = 2,000,000).
STARTS = [(0.1, 1.0, 0.5, 5.0), (3.0, 50.0, 20.0, 2.0), (1.0, 1.0, 1e6, 1e6)]


@pytest.mark.parametrize("start", STARTS)
def test_the_same_customers_get_the_same_fit_from_any_start(
    bgnbd: BgNbdParams,
    one_dropout_chance: list[CustomerHistory],
    on_the_ridge: BgNbdParams,
    start: tuple[float, float, float, float],
) -> None:
    # An optimizer stops on the ridge wherever its slope gets too gentle to follow (left to
    # itself, a + b anywhere from hundreds of thousands to millions); the fit is a property
    # of the data, not of where the optimizer began.
    ridge = fit_bgnbd(*columns(one_dropout_chance), start=start)
    assert ridge.a + ridge.b == pytest.approx(1e4)
    assert (ridge.r, ridge.alpha, ridge.a, ridge.b) == pytest.approx(
        (on_the_ridge.r, on_the_ridge.alpha, on_the_ridge.a, on_the_ridge.b), rel=1e-6
    )
    # An optimum of its own (CDNOW's, a + b = 3.2) is found from each start too.
    cdnow = fit_bgnbd(X, T_X, T, start=start)
    assert (cdnow.r, cdnow.alpha, cdnow.a, cdnow.b) == pytest.approx((bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b), rel=1e-6)


def test_nobody_ever_dropping_out_is_declined() -> None:
    # b runs off alone (a / (a + b) goes to 0 with a + b): nothing in the data says when a
    # customer stops buying, so there is no lifetime to predict.
    histories = simulate(np.random.default_rng(1), 500, weeks=52, same_dropout=0.0)
    with pytest.raises(FitError, match="alone"):
        fit_bgnbd(*columns(histories))
    assert predicted_clv(histories) is None
