"""A group's predicted CLV is its creators' weighted by the customers each acquired."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from roi.group_clv import customer_weighted_clv

D = Decimal


@dataclass(frozen=True)
class Prediction:
    predicted: Decimal | None
    customers: int


def test_a_creator_with_more_customers_weighs_more() -> None:
    # (100.00 × 30 + 200.00 × 10) ÷ 40, not the plain mean 150.00.
    assert customer_weighted_clv([Prediction(D("100.00"), 30), Prediction(D("200.00"), 10)]) == D("125.00")


def test_creators_without_a_prediction_or_customers_carry_no_weight() -> None:
    creators = [Prediction(D("80.00"), 4), Prediction(None, 50), Prediction(D("999.00"), 0)]
    assert customer_weighted_clv(creators) == D("80.00")


def test_a_group_where_no_creator_has_a_prediction_has_none() -> None:
    assert customer_weighted_clv([Prediction(None, 12)]) is None
    assert customer_weighted_clv([]) is None
