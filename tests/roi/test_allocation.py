"""Largest-remainder splits and sales by content type: parts add up to the whole, to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.allocation import by_content_type, emv_by_part, largest_remainder, split_totals
from roi.emv import EmvRates, emv, emv_exact
from roi.metrics import Totals, add_up

D = Decimal


def test_a_hundred_dollars_in_thirds_gives_the_odd_cent_to_the_first() -> None:
    assert largest_remainder(D("100.00"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]


def test_left_over_units_go_to_the_largest_remainders_not_the_largest_weights() -> None:
    # Exactly 4.2, 2.1 and 0.7 orders: the order left after rounding down goes to the 0.7.
    assert largest_remainder(7, [6, 3, 1]) == [4, 2, 1]
    # 6.666… and 3.333…: the cent goes to the share that lost two thirds of one.
    assert largest_remainder(D("10.00"), [2, 1]) == [D("6.67"), D("3.33")]


def test_a_share_without_weight_gets_nothing() -> None:
    assert largest_remainder(D("10.00"), [1, 0, 1]) == [D("5.00"), D("0.00"), D("5.00")]
    assert largest_remainder(D("0.01"), [0, 1, 1]) == [D("0.00"), D("0.01"), D("0.00")]
    assert largest_remainder(5, [0, 0, 3]) == [0, 0, 5]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_nothing_to_split_by_is_refused(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        largest_remainder(D("10.00"), weights)


def test_a_refund_splits_like_a_sale_and_adds_up() -> None:
    parts = largest_remainder(D("-10.00"), [1, 1, 1])
    assert parts == [D("-3.33"), D("-3.33"), D("-3.34")]
    assert sum(parts) == D("-10.00")


def test_money_finer_than_a_cent_stays_whole_with_the_largest_share() -> None:
    # Commission of 1.005: a third is 0.335, two thirds 0.67; the half cent goes to the larger.
    assert largest_remainder(D("1.005"), [1, 2]) == [D("0.33"), D("0.675")]


def test_counts_split_by_float_weights_are_whole_and_add_up() -> None:
    # Exactly 1.666…, 5 and 3.333… clicks (as the demo store draws its weights).
    parts = largest_remainder(10, [0.5, 1.5, 1.0])
    assert parts == [2, 5, 3] and all(type(p) is int for p in parts)


@given(
    st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)
)
def test_parts_add_up_and_stay_within_a_cent_of_the_exact_share(cents: int, weights: list[int]) -> None:
    whole = D(cents) / 100
    parts = largest_remainder(whole, weights)
    assert sum(parts) == whole
    for part, weight in zip(parts, weights):
        exact = Fraction(cents, 100) * weight / sum(weights)
        assert part == part.quantize(D("0.01")) and abs(Fraction(part) - exact) < Fraction(1, 100)
        if weight == 0:
            assert part == 0


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**4), min_size=1, max_size=12).filter(lambda w: sum(w) > 0))
def test_whole_counts_add_up(whole: int, weights: list[int]) -> None:
    parts = largest_remainder(whole, weights)
    assert sum(parts) == whole
    assert all(abs(p - Fraction(whole * w, sum(weights))) < 1 for p, w in zip(parts, weights))


def test_every_figure_of_a_group_is_split_and_the_parts_add_up() -> None:
    totals = Totals(
        cost=D("50.00"), orders=1, new_customers=1, revenue=D("100.00"), repeat_revenue=D("40.00"), clicks=7
    )
    reel, video = split_totals(totals, [300, 100])
    assert (reel.revenue, reel.repeat_revenue, reel.cost, reel.clicks, reel.orders) == (
        D("75.00"),
        D("30.00"),
        D("37.50"),
        5,
        1,
    )
    assert (video.revenue, video.cost, video.clicks, video.orders) == (D("25.00"), D("12.50"), 2, 0)
    assert reel + video == totals


@dataclass(frozen=True)
class Figures:
    influencer_id: int | None
    content_type: str | None
    posts: int
    totals: Totals


ANNA, BEN = 1, 2
SALES = Totals(cost=D("50.00"), orders=1, new_customers=1, revenue=D("100.00"), repeat_revenue=D("40.00"))
REEL = Totals.from_post(impressions=20_000, likes=250, comments=30, shares=10, saves=10)
VIDEO = Totals.from_post(impressions=10_000, likes=80, comments=10, shares=5, saves=5)


def test_a_creators_sales_follow_the_engagements_of_their_posts() -> None:
    groups = by_content_type(
        [
            Figures(ANNA, "reel", 1, REEL),
            Figures(ANNA, "video", 1, VIDEO),
            Figures(ANNA, None, 0, SALES),
            Figures(BEN, None, 0, Totals(revenue=D("30.00"), cost=D("60.00"), clicks=4)),
            Figures(None, None, 0, Totals(cost=D("10.00"))),
        ]
    )
    reel, video, unallocated = groups["reel"], groups["video"], groups[None]
    assert (reel.revenue, reel.repeat_revenue, reel.cost, reel.orders) == (D("75.00"), D("30.00"), D("37.50"), 1)
    assert (video.revenue, video.cost, video.orders) == (D("25.00"), D("12.50"), 0)
    # Posts keep their own figures; Ben posted nothing and shop-wide costs have no creator.
    assert (reel.impressions, reel.engagements, video.impressions) == (20_000, 300, 10_000)
    assert (unallocated.revenue, unallocated.cost, unallocated.clicks) == (D("30.00"), D("70.00"), 4)


def test_posts_without_engagements_split_by_their_number() -> None:
    groups = by_content_type(
        [
            Figures(ANNA, "story", 2, Totals()),
            Figures(ANNA, "reel", 1, Totals()),
            Figures(ANNA, None, 0, Totals(revenue=D("90.00"), orders=3)),
        ]
    )
    assert (groups["story"].revenue, groups["story"].orders) == (D("60.00"), 2)
    assert (groups["reel"].revenue, groups["reel"].orders) == (D("30.00"), 1)
    assert None not in groups


def test_the_groups_add_up_to_the_figures() -> None:
    figures = [
        Figures(ANNA, "reel", 3, REEL),
        Figures(ANNA, "video", 1, VIDEO),
        Figures(ANNA, None, 0, Totals(revenue=D("100.01"), cost=D("33.3333"), orders=7, clicks=11)),
        Figures(BEN, "reel", 1, Totals.from_post(likes=1)),
        Figures(BEN, None, 0, Totals(revenue=D("-5.00"))),
    ]
    groups = by_content_type(figures)
    assert sum(groups.values(), Totals()) == sum((f.totals for f in figures), Totals())
    assert by_content_type([]) == {}


# --- EMV of a report's rows ---------------------------------------------------------------


def test_emv_rows_add_up_to_the_total_where_each_rounded_alone_would_not() -> None:
    # Three creators' 1,001 impressions each at CPM 5.00: 5.005 each, 15.015 together.
    parts = [Totals(impressions=1001)] * 3
    alone = [emv(1001, 0, 0, 0, 0, 0)] * 3
    assert sum(alone) == Decimal("15.03") != emv(3003, 0, 0, 0, 0, 0) == Decimal("15.02")
    assert emv_by_part(parts, EmvRates()) == [Decimal("5.01"), Decimal("5.01"), Decimal("5.00")]


def test_emv_of_parts_without_posts_or_clicks_is_zero() -> None:
    assert emv_by_part([Totals(), Totals()], EmvRates()) == [Decimal("0.00"), Decimal("0.00")]
    assert emv_by_part([], EmvRates()) == []


@given(
    st.lists(
        st.tuples(*(st.integers(min_value=0, max_value=10**6) for _ in range(6))),
        min_size=1,
        max_size=12,
    )
)
def test_emv_parts_add_up_and_stay_within_a_cent_of_their_own(figures: list[tuple[int, ...]]) -> None:
    rates = EmvRates(cpm=Decimal("7.35"), like=Decimal("0.13"), comment=Decimal("0.5"), click=Decimal("0.33"))
    parts = [
        Totals(impressions=i, likes=li, comments=c, shares=sh, saves=sa, clicks=cl) for i, li, c, sh, sa, cl in figures
    ]
    split = emv_by_part(parts, rates)
    total = add_up(parts)
    assert sum(split) == emv(
        total.impressions, total.likes, total.comments, total.shares, total.saves, total.clicks, rates
    )
    for part, value in zip(parts, split):
        exact = emv_exact(part.impressions, part.likes, part.comments, part.shares, part.saves, part.clicks, rates)
        assert abs(value - exact) < Decimal("0.01")
