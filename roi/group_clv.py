"""Predicted CLV of a group of creators (a platform, a campaign, the whole shop).

A creator's predicted CLV is per customer they acquired, so a group's is the mean of its
creators' weighted by those customers: what the group's average acquired customer is
expected to spend. Creators without a prediction, or without customers, carry no weight;
a group where none has one has no predicted CLV (None), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol


class CreatorPrediction(Protocol):
    @property
    def predicted(self) -> Decimal | None: ...
    @property
    def customers(self) -> int: ...


def customer_weighted_clv(creators: Iterable[CreatorPrediction]) -> Decimal | None:
    """Σ predicted × customers ÷ Σ customers over the creators that have a prediction."""
    weighted, customers = Decimal(0), 0
    for creator in creators:
        if creator.predicted is not None and creator.customers:
            weighted += creator.predicted * creator.customers
            customers += creator.customers
    return weighted / customers if customers else None
