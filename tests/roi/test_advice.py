"""Budget advice: shares by the chance of the best ROI, new creators kept, nobody over the cap,
amounts to the cent, the same advice for the same data."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roi.advice import MAX_SHARE, NEW_CREATOR_ORDERS, NEW_CREATORS_SHARE, advise_budget
from roi.intervals import NOT_ENOUGH_CREATORS, CreatorEvidence, CreatorRoi, Interval, roi_intervals

D = Decimal


def creator(influencer_id: int, p_best: float, orders: int = 20) -> CreatorRoi:
    return CreatorRoi(
        influencer_id=influencer_id,
        orders=orders,
        conversion_rate=None,
        roi=Interval(-0.2, 0.5, 1.4),
        p_roi_positive=0.7,
        rank_low=1,
        rank_high=4,
        p_top3=0.5,
        p_best=p_best,
        reason=None,
    )


def test_shares_follow_the_chance_of_the_best_roi() -> None:
    advice = advise_budget(D("1000.00"), [creator(1, 0.3), creator(2, 0.3), creator(3, 0.2), creator(4, 0.2)])
    assert [line.amount for line in advice.lines] == [D("300.00"), D("300.00"), D("200.00"), D("200.00")]
    assert advice.lines[0].reason == "ROI between -20% and +140% (80% sure), 30% chance of being the best per dollar"


def test_no_creator_gets_more_than_the_cap_and_the_rest_goes_by_share() -> None:
    advice = advise_budget(D("1000.00"), [creator(1, 0.9), creator(2, 0.06), creator(3, 0.04)])
    assert [line.amount for line in advice.lines] == [D("350.00"), D("350.00"), D("300.00")]
    assert "capped at 35% of the budget" in advice.lines[0].reason
    advice = advise_budget(D("1000.00"), [creator(1, 0.8), creator(2, 0.1), creator(3, 0.05), creator(4, 0.05)])
    # The 450 over the cap goes to the others by their shares, 2 : 1 : 1.
    assert [line.amount for line in advice.lines] == [D("350.00"), D("325.00"), D("162.50"), D("162.50")]
    advice = advise_budget(D("1000.00"), [creator(1, 0.7), creator(2, 0.2), creator(3, 0.05), creator(4, 0.05)])
    # 350 over the cap, by 4 : 1 : 1, puts 2 over in turn, and its extra 83.33 goes to 3 and 4.
    assert [line.amount for line in advice.lines] == [D("350.00"), D("350.00"), D("150.00"), D("150.00")]


def test_new_creators_keep_five_percent_between_them() -> None:
    creators = [
        creator(1, 0.34),
        creator(2, 0.33),
        creator(3, 0.33),
        creator(4, 0.0, orders=1),
        creator(5, 0, orders=3),
    ]
    advice = advise_budget(D("1000.00"), creators)
    # The others give up 5% of their shares: 34% becomes 32.3%.
    assert [line.amount for line in advice.lines] == [D("323.00"), D("313.50"), D("313.50"), D("25.00"), D("25.00")]
    assert "kept to try creators with few orders" in advice.lines[3].reason
    assert sum(line.amount for line in advice.lines) == D("1000.00")


def test_new_creators_already_over_five_percent_keep_their_share() -> None:
    advice = advise_budget(D("100.00"), [creator(1, 0.3), creator(2, 0.3), creator(3, 0.3), creator(4, 0.1, orders=0)])
    assert advice.lines[3].amount == D("10.00")
    assert "kept" not in advice.lines[3].reason


@pytest.mark.parametrize("budget", [D("0"), D("-5.00"), D("NaN")])
def test_a_budget_of_zero_or_less_is_refused_naming_the_budget(budget: Decimal) -> None:
    with pytest.raises(ValueError, match="budget"):
        advise_budget(budget, [creator(1, 0.5), creator(2, 0.3), creator(3, 0.2)])


def test_fewer_than_three_creators_to_compare_get_no_split() -> None:
    unfit = CreatorRoi(5, 2, None, None, None, None, None, None, None, NOT_ENOUGH_CREATORS)
    advice = advise_budget(D("500.00"), [creator(1, 0.6), creator(2, 0.4), unfit])
    assert advice.lines == [] and advice.reason == NOT_ENOUGH_CREATORS


def evidence(seed: int) -> list[CreatorEvidence]:
    rng = np.random.default_rng(seed)
    creators = []
    for i in range(12):
        clicks = int(rng.integers(30, 1500))
        orders = int(rng.binomial(clicks, rng.beta(2, 60)))
        creators.append(CreatorEvidence(i + 1, orders, D(int(rng.integers(100, 800))), D(orders) * D("48.50"), clicks))
    return creators


def test_the_same_data_give_the_same_advice() -> None:
    creators = evidence(5)
    first = advise_budget(D("2500.00"), roi_intervals(creators))
    again = advise_budget(D("2500.00"), roi_intervals(list(creators)))
    assert first == again
    assert len(first.lines) == 12 and sum(line.amount for line in first.lines) == D("2500.00")


@settings(max_examples=150, deadline=None)
@given(
    p_best=st.lists(st.floats(0, 1), min_size=3, max_size=25).filter(lambda ps: sum(ps) > 0),
    orders=st.lists(st.integers(0, 40), min_size=25, max_size=25),
    cents=st.integers(1, 10**9),
)
def test_every_split_keeps_its_caps_and_adds_up(p_best: list[float], orders: list[int], cents: int) -> None:
    total = sum(p_best)
    creators = [creator(i, p / total, orders=o) for i, (p, o) in enumerate(zip(p_best, orders))]
    budget = D(cents) / 100
    advice = advise_budget(budget, creators)
    shares = [line.share for line in advice.lines]
    assert sum(shares) == pytest.approx(1.0, abs=1e-9)
    assert max(shares) <= MAX_SHARE + 1e-12
    assert min(shares) >= 0
    assert sum(line.amount for line in advice.lines) == budget
    assert all(line.amount <= budget * D(str(MAX_SHARE)) + D("0.01") for line in advice.lines)
    new = [line.share for line, c in zip(advice.lines, creators) if c.orders <= NEW_CREATOR_ORDERS]
    if new and len(new) < len(creators):
        assert sum(new) >= NEW_CREATORS_SHARE - 1e-9
    assert advise_budget(budget, creators) == advice
