"""Commission: a creator's rate × the net sales attributed to them, first and repeat orders.

It is a cost of the creator, so refunds, which shrink the sales, shrink it with them. It is
not rounded here: a group's cost is rounded once, after its creators' costs are added.
"""

from __future__ import annotations

from decimal import Decimal


def cost_with_commission(
    cost: Decimal, commission_rate: Decimal | None, revenue: Decimal, repeat_revenue: Decimal
) -> Decimal:
    """The creator's cost plus commission on `revenue` and `repeat_revenue`; `cost` as it
    is when the creator earns none (no rate, or 0)."""
    if not commission_rate:
        return cost
    return cost + commission_rate * (revenue + repeat_revenue)
