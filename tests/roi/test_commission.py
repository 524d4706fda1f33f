"""Commission is a cost of the creator: rate × first and repeat sales, refunds included."""

from __future__ import annotations

from decimal import Decimal

from roi.commission import cost_with_commission

D = Decimal


def test_commission_on_first_and_repeat_sales_is_added_to_the_cost() -> None:
    # 10 % of 100.00 + 40.00 on top of a 50.00 fee.
    assert cost_with_commission(D("50.00"), D("0.10"), D("100.00"), D("40.00")) == D("64.00")


def test_a_creator_without_a_rate_costs_what_was_entered() -> None:
    assert cost_with_commission(D("50.00"), None, D("100.00"), D("40.00")) == D("50.00")
    assert cost_with_commission(D("50.00"), D("0"), D("100.00"), D("40.00")) == D("50.00")


def test_a_refund_shrinks_the_commission_with_the_sales() -> None:
    before = cost_with_commission(D("0.00"), D("0.15"), D("200.00"), D("0.00"))
    after = cost_with_commission(D("0.00"), D("0.15"), D("200.00") - D("80.00"), D("0.00"))
    assert (before, after) == (D("30.00"), D("18.00"))


def test_commission_is_not_rounded_before_it_is_added_up() -> None:
    # 1.25 % of 99.99 is 1.249875: rounding each creator's to cents would drift a group's cost.
    assert cost_with_commission(D("0.00"), D("0.0125"), D("99.99"), D("0.00")) == D("1.249875")
