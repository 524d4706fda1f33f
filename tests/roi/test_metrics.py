"""ROI metrics: DESIGN.md's reference case study, zero denominators, additivity; EMV."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.emv import EmvRates, emv
from roi.metrics import Totals, compute_metrics

METRIC_FIELDS = {
    "cost",
    "orders",
    "new_customers",
    "revenue",
    "repeat_orders",
    "repeat_revenue",
    "repeat_customers",
    "repeat_purchase_rate",
    "clicks",
    "impressions",
    "reach",
    "engagements",
    "followers",
    "engagement_rate",
    "effective_reach_rate",
    "ctr",
    "conversion_rate",
    "cac",
    "roas",
    "roi",
    "roi_with_repeat",
    "emv",
    "emv_ratio",
    "clv_historical",
    "clv_cohort",
    "clv_predicted",
}
MONEY = {"cost", "revenue", "repeat_revenue", "cac", "emv", "clv_historical", "clv_cohort", "clv_predicted"}
RATIOS = {
    "repeat_purchase_rate",
    "engagement_rate",
    "effective_reach_rate",
    "ctr",
    "conversion_rate",
    "roas",
    "roi",
    "roi_with_repeat",
    "emv_ratio",
}

CASE_STUDY = Totals(
    cost=Decimal("22500.00"),
    orders=1560,
    new_customers=1560,
    revenue=Decimal("156000.00"),
    repeat_orders=620,
    repeat_revenue=Decimal("31200.00"),
    repeat_customers=499,  # 32 % of 1,560 is 499.2 customers
    cohort_repeat_revenue=Decimal("31200.00"),  # over the whole history: the same repeats
    clicks=38_400,
    impressions=2_800_000,
)


def test_clv_to_date_is_what_the_groups_own_customers_spent() -> None:
    """Repeats placed in the group's days by earlier customers move repeat revenue and ROI with
    repeats, not CLV; the later repeats of its own customers move CLV."""
    day = Totals(
        cost=Decimal("10.00"),
        orders=2,
        new_customers=2,
        revenue=Decimal("60.00"),
        repeat_orders=1,
        repeat_revenue=Decimal("500.00"),
        cohort_repeat_revenue=Decimal("25.00"),
    )
    metrics = compute_metrics(day, EmvRates())
    assert (metrics["repeat_revenue"], metrics["clv_cohort"]) == (Decimal("500.00"), Decimal("42.50"))
    # The contract's clv_historical is the row's own (revenue + repeat revenue) ÷ new customers.
    assert metrics["clv_historical"] == Decimal("280.00")
    assert metrics["roi_with_repeat"] == 55.0


def test_reference_case_study() -> None:
    metrics = compute_metrics(CASE_STUDY, EmvRates())
    assert metrics["ctr"] == 0.0137
    assert metrics["conversion_rate"] == 0.0406
    assert metrics["cac"] == Decimal("14.42")
    assert round(metrics["roas"], 2) == 6.93
    assert round(metrics["roi"], 2) == 5.93
    assert round(metrics["roi_with_repeat"], 2) == 7.32
    assert metrics["repeat_purchase_rate"] == pytest.approx(0.32, abs=0.001)
    assert metrics["clv_historical"] == metrics["clv_cohort"] == Decimal("120.00")
    # 2.8M impressions at a 5.00 CPM, plus 38,400 clicks at 0.50.
    assert metrics["emv"] == Decimal("33200.00")
    assert metrics["emv_ratio"] == 1.4756


def test_fifteen_creator_rows_add_up_to_the_case_study() -> None:
    share = Totals(
        cost=Decimal("1500.00"),
        orders=104,
        new_customers=104,
        revenue=Decimal("10400.00"),
        repeat_revenue=Decimal("2080.00"),
        clicks=2560,
        impressions=186_667,
    )
    rows = [share] * 15
    total = sum(rows, Totals())
    assert total.cost == CASE_STUDY.cost and total.revenue == CASE_STUDY.revenue
    assert sum(rows) == total  # sum() starting from 0 works as well
    assert compute_metrics(total, EmvRates())["cac"] == Decimal("14.42")


def test_every_metrics_table_field_with_its_type() -> None:
    posts = Totals.from_post(
        reach=900_000, followers=1_200_000, likes=60_000, comments=4_000, shares=2_500, saves=3_500
    )
    metrics = compute_metrics(CASE_STUDY + posts, EmvRates(), clv_predicted=Decimal("141.236"))
    assert set(metrics) == METRIC_FIELDS
    for name, value in metrics.items():
        if name in MONEY:
            assert isinstance(value, Decimal) and value == value.quantize(Decimal("0.01"))
        elif name in RATIOS:
            assert isinstance(value, float)
        else:
            assert isinstance(value, int)
    assert metrics["clv_predicted"] == Decimal("141.24")


def test_empty_group_has_no_ratios_and_does_not_raise() -> None:
    metrics = compute_metrics(Totals(), EmvRates())
    assert {name for name in RATIOS if metrics[name] is not None} == set()
    assert metrics["cac"] is None and metrics["clv_historical"] is None
    assert metrics["clv_predicted"] is None
    assert metrics["cost"] == metrics["revenue"] == metrics["emv"] == Decimal("0.00")


def test_engagement_ratios_use_posts_sums() -> None:
    post = Totals.from_post(
        impressions=10_000, reach=8_000, followers=20_000, likes=700, comments=50, shares=30, saves=20
    )
    metrics = compute_metrics(post, EmvRates())
    assert metrics["engagements"] == 800
    assert metrics["engagement_rate"] == 0.04
    assert metrics["effective_reach_rate"] == 0.1
    # A creator with posts but no cost yet: EMV is known, its ratio is not.
    # 50.00 CPM + 70.00 likes + 25.00 comments + 30.00 shares + 15.00 saves.
    assert metrics["emv"] == Decimal("190.00")
    assert metrics["emv_ratio"] is None


def test_losing_campaign_has_negative_roi() -> None:
    metrics = compute_metrics(
        Totals(cost=Decimal("1000.00"), revenue=Decimal("250.00"), new_customers=5, orders=5), EmvRates()
    )
    assert metrics["roi"] == -0.75 and metrics["cac"] == Decimal("200.00")


# --- EMV -----------------------------------------------------------------------


def test_emv_at_the_product_defaults() -> None:
    # 1,000 impressions at 5.00 CPM + 10 likes, 2 comments, 1 share, 4 saves, 20 clicks.
    assert emv(1000, 10, 2, 1, 4, 20, EmvRates()) == Decimal("21.00")


def test_emv_rounds_half_up_to_cents() -> None:
    assert emv(1, 0, 0, 0, 0, 0, EmvRates()) == Decimal("0.01")  # 0.005


def test_emv_uses_the_shop_rates() -> None:
    rates = EmvRates(cpm=Decimal("12.00"), like=Decimal(0), click=Decimal("1.25"))
    assert emv(50_000, 100, 0, 0, 0, 10, rates) == Decimal("612.50")


# --- properties ----------------------------------------------------------------

_MONEY = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
_COUNT = st.integers(min_value=0, max_value=10**9)


def _totals() -> st.SearchStrategy[Totals]:
    kinds = {f.name: (_MONEY if f.name in MONEY else _COUNT) for f in fields(Totals)}
    return st.builds(Totals, **kinds)


@given(_totals(), st.one_of(st.none(), _MONEY))
def test_compute_metrics_never_raises(totals: Totals, clv: Decimal | None) -> None:
    metrics = compute_metrics(totals, EmvRates(), clv)
    assert set(metrics) == METRIC_FIELDS
    for name in RATIOS:
        assert metrics[name] is None or isinstance(metrics[name], float)


@given(_totals(), _totals(), _totals())
def test_totals_addition_is_associative(a: Totals, b: Totals, c: Totals) -> None:
    assert (a + b) + c == a + (b + c)
    assert a + Totals() == a
    assert compute_metrics((a + b) + c, EmvRates()) == compute_metrics(a + (b + c), EmvRates())
