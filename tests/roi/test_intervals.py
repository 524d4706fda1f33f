"""How sure each figure is: the empirical-Bayes priors recover what simulated creators were drawn
from, 80% intervals hold the truth about 80% of the time, and too little data says so."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import betabinom

from roi.clv import GammaGammaParams
from roi.intervals import (
    NO_COST,
    NO_ORDERS_YET,
    NOT_ENOUGH_CREATORS,
    BetaPrior,
    CreatorEvidence,
    GammaPrior,
    Interval,
    NotEnoughData,
    beta_binomial_log_likelihood,
    conversion_rate_intervals,
    fit_beta_binomial,
    fit_gamma_poisson,
    gamma_poisson_log_likelihood,
    orders_per_dollar_intervals,
    roi_intervals,
)

D = Decimal


def simulated_creators(rng: np.random.Generator, count: int, alpha: float, beta: float, clicks: tuple[int, int]):
    n = rng.integers(clicks[0], clicks[1], count)
    rate = rng.beta(alpha, beta, count)
    return n, rng.binomial(n, rate), rate


def test_the_fitted_prior_recovers_the_rates_creators_were_drawn_from() -> None:
    # 4,000 creators with 200 to 2,000 clicks each, conversion rates from Beta(2, 60) (3.2% on
    # average): the fit lands within 10% of both shapes.
    n, k, _ = simulated_creators(np.random.default_rng(20), 4000, 2.0, 60.0, (200, 2000))
    prior = fit_beta_binomial(n, k)
    assert isinstance(prior, BetaPrior)
    assert prior.alpha == pytest.approx(2.0, rel=0.10)
    assert prior.beta == pytest.approx(60.0, rel=0.10)
    assert prior.creators == 4000


def test_the_fit_is_the_maximum_of_scipys_beta_binomial_likelihood() -> None:
    n, k, _ = simulated_creators(np.random.default_rng(3), 15, 1.5, 40.0, (30, 800))
    prior = fit_beta_binomial(n, k)
    assert isinstance(prior, BetaPrior)
    assert prior.log_likelihood == pytest.approx(float(np.sum(betabinom.logpmf(k, n, prior.alpha, prior.beta))))
    for da, db in [(1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95), (1.05, 1.05), (0.95, 0.95)]:
        assert beta_binomial_log_likelihood(prior.alpha * da, prior.beta * db, n, k) < prior.log_likelihood


def test_the_fit_does_not_depend_on_the_order_of_creators() -> None:
    n, k, _ = simulated_creators(np.random.default_rng(4), 15, 2.0, 50.0, (50, 1000))
    one, other = fit_beta_binomial(n, k), fit_beta_binomial(n[::-1], k[::-1])
    assert isinstance(one, BetaPrior) and isinstance(other, BetaPrior)
    assert one.alpha == pytest.approx(other.alpha, rel=1e-4)
    assert one.beta == pytest.approx(other.beta, rel=1e-4)


def test_creators_converting_alike_get_a_tight_prior_at_the_pooled_rate() -> None:
    # Every creator converts 2% of 1,000 clicks: the data show no spread between creators, and the
    # prior says every creator converts about 2%.
    prior = fit_beta_binomial([1000] * 10, [20] * 10)
    assert isinstance(prior, BetaPrior)
    assert prior.mean == pytest.approx(0.02, rel=1e-3)
    assert prior.alpha + prior.beta > 1e4


def test_eighty_percent_intervals_hold_the_true_rate_about_eighty_percent_of_the_time() -> None:
    # 200 simulated shops of 30 creators each, their prior fitted from the shop's own creators.
    # (With 15 creators a shop's prior is itself uncertain and the intervals hold the truth about
    # 77% of the time: the plug-in prior leaves that uncertainty out.)
    rng = np.random.default_rng(80)
    inside = total = 0
    for _ in range(200):
        n, k, rate = simulated_creators(rng, 30, 2.0, 60.0, (20, 1500))
        prior = fit_beta_binomial(n, k)
        assert isinstance(prior, BetaPrior)
        intervals = conversion_rate_intervals(n, k, prior)
        inside += sum(i.p10 <= r <= i.p90 for i, r in zip(intervals, rate))
        total += len(rate)
    assert 0.75 <= inside / total <= 0.85


def test_a_creator_with_few_clicks_is_pulled_towards_the_shops_rate() -> None:
    prior = BetaPrior(alpha=2.0, beta=98.0, creators=15, log_likelihood=0.0)  # 2% on average
    few, many = conversion_rate_intervals([10, 10_000], [5, 5_000], prior)
    # Five orders of ten clicks say little: the median stays near the shop's 2%, well below 50%.
    assert prior.mean < few.p50 < 0.1
    assert many.p50 == pytest.approx(0.5, abs=0.01)
    assert few.p10 < few.p50 < few.p90
    assert many.p90 - many.p10 < 0.02


@pytest.mark.parametrize(
    ("clicks", "orders", "reason"),
    [
        ([], [], NOT_ENOUGH_CREATORS),
        ([100, 200], [3, 4], NOT_ENOUGH_CREATORS),
        ([100, 200, 0, 0], [3, 4, 0, 0], NOT_ENOUGH_CREATORS),  # creators without clicks do not count
        ([100, 200, 300], [0, 0, 0], NO_ORDERS_YET),
    ],
)
def test_too_little_data_says_so_instead_of_an_interval(clicks: list[int], orders: list[int], reason: str) -> None:
    assert fit_beta_binomial(clicks, orders) == NotEnoughData(reason)


@pytest.mark.parametrize(
    ("clicks", "orders", "message"),
    [([10, 10, 10], [1, 2, 11], "orders must not exceed clicks"), ([10, -1, 10], [1, 0, 1], "clicks")],
)
def test_impossible_counts_are_refused_naming_the_field(clicks: list[int], orders: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_beta_binomial(clicks, orders)


# --- Orders per dollar ------------------------------------------------------------------------


def test_the_gamma_poisson_prior_recovers_orders_per_dollar() -> None:
    rng = np.random.default_rng(7)
    cost = rng.uniform(100, 2000, 3000)
    per_dollar = rng.gamma(3.0, 1 / 300.0, 3000)  # one order per $100 on average
    orders = rng.poisson(per_dollar * cost)
    prior = fit_gamma_poisson(orders, cost)
    assert isinstance(prior, GammaPrior)
    assert prior.shape == pytest.approx(3.0, rel=0.10)
    assert prior.rate == pytest.approx(300.0, rel=0.10)
    assert prior.mean == pytest.approx(0.01, rel=0.05)
    for ds, dr in [(1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95)]:
        assert gamma_poisson_log_likelihood(prior.shape * ds, prior.rate * dr, orders, cost) < prior.log_likelihood


def test_the_fit_does_not_depend_on_the_currency_unit() -> None:
    orders, cost = [3, 0, 7, 12, 1], [400.0, 250.0, 900.0, 1200.0, 300.0]
    dollars = fit_gamma_poisson(orders, cost)
    cents = fit_gamma_poisson(orders, [c * 100 for c in cost])
    assert isinstance(dollars, GammaPrior) and isinstance(cents, GammaPrior)
    assert cents.shape == pytest.approx(dollars.shape, rel=1e-4)
    assert cents.rate == pytest.approx(dollars.rate * 100, rel=1e-4)


def test_orders_per_dollar_posterior_adds_the_creators_own_orders_and_cost() -> None:
    prior = GammaPrior(shape=2.0, rate=200.0, creators=5, log_likelihood=0.0)
    (interval,) = orders_per_dollar_intervals([8], [600.0], prior)
    # Gamma(10, 800): median just under 10 / 800.
    assert interval.p50 == pytest.approx(0.01208, rel=1e-3)
    assert interval.p10 < 10 / 800 < interval.p90


@pytest.mark.parametrize(
    ("orders", "cost", "reason"),
    [
        ([1, 2], [100.0, 100.0], NOT_ENOUGH_CREATORS),
        ([1, 2, 3], [100.0, 0.0, 100.0], NOT_ENOUGH_CREATORS),
        ([0, 0, 0], [100.0, 200.0, 300.0], NO_ORDERS_YET),
    ],
)
def test_too_few_code_only_creators_say_so(orders: list[int], cost: list[float], reason: str) -> None:
    assert fit_gamma_poisson(orders, cost) == NotEnoughData(reason)


# --- ROI --------------------------------------------------------------------------------------


def shop(seed: int = 1, count: int = 15) -> list[CreatorEvidence]:
    rng = np.random.default_rng(seed)
    creators = []
    for i in range(count):
        clicks = int(rng.integers(50, 1500))
        orders = int(rng.binomial(clicks, rng.beta(2, 60)))
        creators.append(CreatorEvidence(i + 1, orders, D(int(rng.integers(100, 800))), D(orders) * D("55.00"), clicks))
    return creators


def test_roi_intervals_are_reproducible_and_a_new_seed_moves_them_only_a_little() -> None:
    creators = shop()
    first, again, other = roi_intervals(creators), roi_intervals(creators), roi_intervals(creators, seed=9)
    assert first == again
    for a, b in zip(first, other):
        assert a.roi is not None and b.roi is not None
        assert b.roi.p50 == pytest.approx(a.roi.p50, rel=0.05, abs=0.02)


def test_roi_figures_are_consistent_across_creators() -> None:
    rows = roi_intervals(shop())
    assert [r.influencer_id for r in rows] == list(range(1, 16))
    for row in rows:
        assert row.reason is None and row.roi is not None and row.conversion_rate is not None
        assert row.roi.p10 <= row.roi.p50 <= row.roi.p90
        assert 1 <= row.rank_low <= row.rank_high <= 15  # type: ignore[operator]
        assert row.too_early == (row.roi.p90 - row.roi.p10 > 2 * abs(row.roi.p50))
    assert sum(r.p_best for r in rows) == pytest.approx(1.0)  # type: ignore[misc]
    assert sum(r.p_top3 for r in rows) == pytest.approx(3.0)  # type: ignore[misc]
    # The creator with the best median ROI is the likeliest to be the best.
    best = max(rows, key=lambda r: r.roi.p50)  # type: ignore[union-attr]
    assert best.p_best == max(r.p_best for r in rows)  # type: ignore[type-var]


def test_roi_matches_its_definition_for_a_creator_with_plenty_of_data() -> None:
    # 10,000 clicks at 3%, a fitted order value of about $50, $5,000 cost: ROI near
    # 300 × 50 / 5,000 − 1 = 2, known to within a few points.
    creators = [
        CreatorEvidence(1, 300, D("5000"), D("15000"), 10_000),
        CreatorEvidence(2, 20, D("500"), D("1000"), 800),
        CreatorEvidence(3, 5, D("300"), D("250"), 400),
    ]
    order_values = GammaGammaParams(p=6.0, q=4.0, v=25.0, log_likelihood=0.0)
    big = roi_intervals(creators, order_values=order_values)[0]
    assert big.roi is not None
    assert big.roi.p50 == pytest.approx(2.0, abs=0.15)
    assert big.p_roi_positive == 1.0
    assert not big.too_early


def test_a_creator_on_few_orders_is_too_early_to_tell() -> None:
    # One order from 60 clicks for $100: at the shop's 3% and $55 an order, about break-even,
    # and the data cannot say which side.
    creators = shop()
    creators.append(CreatorEvidence(99, 1, D("100"), D("55"), 60))
    row = roi_intervals(creators)[-1]
    assert row.roi is not None and row.too_early
    assert row.roi.p10 < 0 < row.roi.p90
    assert row.rank_high - row.rank_low >= 3  # type: ignore[operator]


def test_a_creator_sure_to_lose_money_is_not_too_early() -> None:
    # 60 clicks cannot bring back $400 at any conversion rate the shop has seen.
    creators = shop()
    creators.append(CreatorEvidence(99, 1, D("400"), D("55"), 60))
    row = roi_intervals(creators)[-1]
    assert row.roi is not None and row.roi.p90 < 0 and not row.too_early
    assert row.p_roi_positive is not None and row.p_roi_positive < 0.05


def test_code_only_creators_get_roi_from_orders_per_dollar() -> None:
    creators = shop(count=4) + [
        CreatorEvidence(10, 12, D("600"), D("660"), 0),
        CreatorEvidence(11, 3, D("300"), D("150"), 0),
        CreatorEvidence(12, 0, D("200"), D("0"), 0),
    ]
    rows = roi_intervals(creators)
    for row in rows[4:]:
        assert row.roi is not None and row.conversion_rate is None and row.reason is None
    assert rows[6].p_roi_positive is not None and rows[6].p_roi_positive < 0.5


def test_without_enough_creators_the_roi_says_so() -> None:
    creators = [CreatorEvidence(1, 4, D("100"), D("200"), 300), CreatorEvidence(2, 1, D("100"), D("50"), 80)]
    for row in roi_intervals(creators):
        assert row.reason == NOT_ENOUGH_CREATORS
        assert row.roi is None and row.conversion_rate is None and row.rank_low is None and row.too_early is None


def test_a_creator_without_cost_has_no_roi_but_keeps_a_conversion_rate() -> None:
    creators = shop(count=5) + [CreatorEvidence(50, 3, D("0"), D("150"), 100)]
    free = roi_intervals(creators)[-1]
    assert free.reason == NO_COST and free.roi is None and free.p_best is None
    assert isinstance(free.conversion_rate, Interval)


def test_negative_money_is_refused() -> None:
    with pytest.raises(ValueError, match="creator 7"):
        roi_intervals([CreatorEvidence(7, 1, D("-1"), D("0"), 10)])


def test_without_an_order_value_fit_a_creator_with_many_orders_keeps_their_own_order_value() -> None:
    # 400 orders at $80 each for $8,000 from 12,000 clicks: ROI 400 × 80 / 8,000 − 1 = 3,
    # whatever the other creators' order values.
    creators = shop() + [CreatorEvidence(99, 400, D("8000"), D("32000"), 12_000)]
    row = roi_intervals(creators)[-1]
    assert row.roi is not None
    assert row.roi.p50 == pytest.approx(3.0, abs=0.25)
    assert row.roi.p90 - row.roi.p10 < 1 and not row.too_early


def test_two_code_only_creators_are_not_compared_but_the_linked_ones_are() -> None:
    creators = shop() + [CreatorEvidence(20, 5, D("300"), D("250"), 0), CreatorEvidence(21, 9, D("500"), D("450"), 0)]
    rows = roi_intervals(creators)
    assert all(r.roi is not None for r in rows[:15])
    assert [r.reason for r in rows[15:]] == [NOT_ENOUGH_CREATORS, NOT_ENOUGH_CREATORS]
    assert max(r.rank_high for r in rows[:15]) <= 15  # type: ignore[type-var]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 60), st.integers(0, 2000), st.integers(0, 200)),
        min_size=0,
        max_size=20,
    ),
    st.integers(0, 2**32 - 1),
)
def test_any_shop_gets_consistent_figures_or_says_why_not(rows: list[tuple[int, int, int, int]], seed: int) -> None:
    creators = [
        CreatorEvidence(i, orders, D(cost), D(orders * value), clicks)
        for i, (clicks, orders, cost, value) in enumerate(rows)
    ]
    figures = roi_intervals(creators, draws=400, seed=seed)
    assert figures == roi_intervals(creators, draws=400, seed=seed)
    compared = [f for f in figures if f.roi is not None]
    for f in figures:
        if f.roi is None:
            assert f.reason in (NOT_ENOUGH_CREATORS, NO_ORDERS_YET, NO_COST)
            assert f.p_best is None and f.rank_low is None
        else:
            assert f.reason is None
            assert f.roi.p10 <= f.roi.p50 <= f.roi.p90 and f.roi.p10 >= -1
            assert 1 <= f.rank_low <= f.rank_high <= len(compared)  # type: ignore[operator]
    if compared:
        assert sum(f.p_best for f in compared) == pytest.approx(1.0)  # type: ignore[misc]
