"""The verdict badge's rule: enough range and first orders before "Loses money", which ROI it
judges, and the words for a creator with nothing in the range."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from roi.verdict import (
    LOSES_MONEY,
    LOSES_ON_FIRST_ORDERS,
    NO_ACTIVITY,
    NO_DATA,
    RULE,
    TOO_EARLY,
    Rule,
    judge,
    range_days,
)


def verdict(**figures):  # type: ignore[no-untyped-def]
    given = {
        "days": 30,
        "active": True,
        "ever_active": True,
        "orders": 12,
        "cost": Decimal("500.00"),
        "roi": -0.25,
        "roi_with_repeat": -0.1,
    }
    given.update(figures)
    return judge(**given)


def test_range_days_count_both_ends():
    assert range_days(date(2026, 11, 30), date(2026, 11, 30)) == 1
    assert range_days(date(2026, 11, 24), date(2026, 11, 30)) == 7
    assert range_days(date(2026, 2, 1), date(2026, 2, 28)) == RULE.min_days


def test_a_month_with_enough_orders_that_loses_money_is_judged_on_roi_with_repeats():
    found = verdict()
    assert found is not None and found.kind == LOSES_MONEY
    assert "ROI with repeats −10.0% over 30 days" in found.reason
    assert "first-order ROI −25.0%" in found.reason


def test_first_orders_that_lose_but_repeats_that_pay_back_are_not_losing_money():
    found = verdict(roi=-0.2, roi_with_repeat=0.15)
    assert found is not None and found.kind == LOSES_ON_FIRST_ORDERS
    assert "First-order ROI −20.0%, but ROI with repeats +15.0%" in found.reason


def test_a_creator_that_pays_off_gets_no_badge():
    assert verdict(roi=0.4, roi_with_repeat=0.9) is None
    assert verdict(roi=0.0, roi_with_repeat=0.0) is None


@pytest.mark.parametrize("days", [1, 7, RULE.min_days - 1])
def test_a_short_range_is_too_early_whatever_the_roi(days):
    # A fee booked on the one day shown: ROI −90.9% says nothing about the creator yet.
    found = verdict(days=days, roi=-0.909, roi_with_repeat=-0.909, orders=40)
    assert found is not None and found.kind == TOO_EARLY
    assert f"the range is {days} day" in found.reason and f"needs {RULE.min_days}" in found.reason


@pytest.mark.parametrize("orders", [1, RULE.min_orders - 1])
def test_too_few_first_orders_are_too_early(orders):
    found = verdict(orders=orders, days=90)
    assert found is not None and found.kind == TOO_EARLY
    assert f"it has {orders} first order" in found.reason and "the range is" not in found.reason


def test_enough_range_and_orders_at_the_bounds_is_judged():
    found = verdict(days=RULE.min_days, orders=RULE.min_orders)
    assert found is not None and found.kind == LOSES_MONEY


def test_cost_without_a_single_first_order_over_enough_days_loses_money():
    found = verdict(orders=0, roi=-1.0, roi_with_repeat=-1.0, days=45)
    assert found is not None and found.kind == LOSES_MONEY
    # …but on a week it is still too early: the orders a post brings come over weeks.
    too_early = verdict(orders=0, roi=-1.0, roi_with_repeat=-1.0, days=7)
    assert too_early is not None and too_early.kind == TOO_EARLY


def test_too_early_says_which_roi_is_behind():
    repeats_cover = verdict(days=1, roi=-0.3, roi_with_repeat=0.2)
    assert repeats_cover is not None and repeats_cover.kind == TOO_EARLY
    assert repeats_cover.reason.startswith("First orders are behind cost so far (first-order ROI −30.0%")
    behind = verdict(days=1)
    assert behind is not None and behind.reason.startswith("Cost is ahead of revenue so far (ROI with repeats −10.0%)")


def test_nothing_in_the_range_is_no_activity_for_an_established_creator_and_no_data_for_a_new_one():
    idle = verdict(active=False, ever_active=True, orders=0, cost=Decimal("0.00"), roi=None, roi_with_repeat=None)
    assert idle is not None and idle.kind == NO_ACTIVITY
    new = verdict(active=False, ever_active=False, orders=0, cost=Decimal("0.00"), roi=None, roi_with_repeat=None)
    assert new is not None and new.kind == NO_DATA


def test_without_cost_there_is_nothing_to_judge():
    assert verdict(cost=Decimal("0.00"), roi=None, roi_with_repeat=None) is None


def test_the_rule_can_be_made_stricter():
    strict = Rule(min_days=90, min_orders=20)
    found = judge(
        days=60,
        active=True,
        ever_active=True,
        orders=30,
        cost=Decimal("100.00"),
        roi=-0.5,
        roi_with_repeat=-0.5,
        rule=strict,
    )
    assert found is not None and found.kind == TOO_EARLY and "needs 90" in found.reason
