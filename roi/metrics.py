"""The ROI metrics of one group (creator, platform, content type, campaign, total).

Every figure is derived from additive sums (``Totals``), so rollup rows add
up to the total row and ratios are never averaged. Definitions are DESIGN.md's
"Metrics" table; a ratio whose denominator is zero is None, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from operator import add, attrgetter
from typing import Any, cast

from roi.emv import EmvRates, emv

_CENT = Decimal("0.01")
_RATIO_PLACES = Decimal("0.0001")
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    """Additive sums for one group; ``a + b`` is the group made of both."""

    cost: Decimal = _ZERO
    orders: int = 0
    new_customers: int = 0
    revenue: Decimal = _ZERO
    repeat_orders: int = 0
    repeat_revenue: Decimal = _ZERO
    repeat_customers: int = 0
    # Repeat revenue of the customers acquired in the group's days, whenever it was placed.
    cohort_repeat_revenue: Decimal = _ZERO
    clicks: int = 0
    impressions: int = 0
    reach: int = 0
    engagements: int = 0
    followers: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0

    @classmethod
    def from_post(
        cls,
        *,
        impressions: int = 0,
        reach: int = 0,
        followers: int = 0,
        likes: int = 0,
        comments: int = 0,
        shares: int = 0,
        saves: int = 0,
    ) -> Totals:
        """A post's sums, with engagements = likes + comments + shares + saves."""
        return cls(
            impressions=impressions,
            reach=reach,
            followers=followers,
            engagements=likes + comments + shares + saves,
            likes=likes,
            comments=comments,
            shares=shares,
            saves=saves,
        )

    @classmethod
    def of(cls, figures: Mapping[str, Any]) -> Totals:
        """Totals from every one of its fields by name: ``Totals(**figures)`` at a tenth of the
        cost. A report builds thousands per request, and a frozen dataclass's ``__init__`` sets
        each field through ``object.__setattr__``; this stores them at once."""
        if figures.keys() != _FIELDS:
            raise TypeError(f"Totals.of needs exactly the fields of Totals, not {sorted(figures)}")
        totals = object.__new__(cls)
        totals.__dict__.update(figures)
        return totals

    def __add__(self, other: object) -> Totals:
        if not isinstance(other, Totals):
            return NotImplemented
        return Totals(*map(add, _figures(self), _figures(other)))

    def __radd__(self, other: object) -> Totals:
        # Lets sum(rows) start from the integer 0.
        if other == 0:
            return self
        return NotImplemented


_FIELDS = frozenset(f.name for f in fields(Totals))
_figures = attrgetter(*(f.name for f in fields(Totals)))  # every field, in declaration order


def add_up(parts: Iterable[Totals]) -> Totals:
    """The group made of all `parts`: their sum, added field by field (Totals() for none)."""
    found = list(parts)
    if len(found) == 1:  # most groups of a report by creator: nothing to add
        return found[0]
    sums: list[Any] = [sum(column) for column in zip(*map(_figures, found))]
    return Totals(*sums) if sums else Totals()


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


# Below this bound a quotient of counts rounded to 4 places in integers equals the decimal
# division's (28 digits, then half up): no quotient of such counts falls near enough to a
# half ten-thousandth for the 28-digit rounding to move it across.
_EXACT_COUNTS = 10**11


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> float | None:
    """numerator ÷ denominator to 4 places (half up, in decimal), None on 0."""
    if denominator == 0:
        return None
    if (
        type(numerator) is int
        and type(denominator) is int
        and 0 <= numerator < _EXACT_COUNTS
        and 0 < denominator < _EXACT_COUNTS
    ):
        # Counts (a ratio per row of a thousand-row report): the same figure without Decimal.
        return (numerator * 20000 + denominator) // (2 * denominator) / 10000
    if type(numerator) is not Decimal and type(denominator) is not Decimal:
        numerator = Decimal(numerator)
    value = cast(Decimal, numerator / denominator)  # one of them is a Decimal by now
    return float(value.quantize(_RATIO_PLACES, rounding=ROUND_HALF_UP))


def _per(amount: Decimal, count: int) -> Decimal | None:
    """Money per unit in cents, None on 0 units."""
    return None if count == 0 else _money(amount / count)


def compute_metrics(
    t: Totals, rates: EmvRates, clv_predicted: Decimal | None = None, earned: Decimal | None = None
) -> dict[str, Any]:
    """Every field of the metrics table for one group; `earned`: its EMV as a row of a report
    whose rows add up to the total (`roi.allocation.emv_by_part`), else computed here."""
    if earned is None:
        earned = emv(t.impressions, t.likes, t.comments, t.shares, t.saves, t.clicks, rates)
    return {
        "cost": _money(t.cost),
        "orders": t.orders,
        "new_customers": t.new_customers,
        "revenue": _money(t.revenue),
        "repeat_orders": t.repeat_orders,
        "repeat_revenue": _money(t.repeat_revenue),
        "repeat_customers": t.repeat_customers,
        "repeat_purchase_rate": _ratio(t.repeat_customers, t.new_customers),
        "clicks": t.clicks,
        "impressions": t.impressions,
        "reach": t.reach,
        "engagements": t.engagements,
        "followers": t.followers,
        "engagement_rate": _ratio(t.engagements, t.followers),
        "effective_reach_rate": _ratio(t.engagements, t.reach),
        "ctr": _ratio(t.clicks, t.impressions),
        "conversion_rate": _ratio(t.orders, t.clicks),
        "cac": _per(t.cost, t.new_customers),
        "roas": _ratio(t.revenue, t.cost),
        "roi": _ratio(t.revenue - t.cost, t.cost),
        "roi_with_repeat": _ratio(t.revenue + t.repeat_revenue - t.cost, t.cost),
        "emv": earned,
        "emv_ratio": _ratio(earned, t.cost),
        # The contract's figure, from the row's own columns: over a range it mixes the range's
        # customers with repeats of customers acquired before it, so the pages show clv_cohort.
        "clv_historical": _per(t.revenue + t.repeat_revenue, t.new_customers),
        # A cohort figure: the customers acquired, and all they spent so far (repeats placed
        # after the range included, repeats of customers acquired before it left out). Over all
        # time it equals clv_historical.
        "clv_cohort": _per(t.revenue + t.cohort_repeat_revenue, t.new_customers),
        "clv_predicted": None if clv_predicted is None else _money(clv_predicted),
    }
