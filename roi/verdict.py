"""The badge a creator (or platform, campaign, content type) earns over a date range: whether
its figures say anything yet, and if so whether it loses money.

A verdict judges **ROI with repeats** ((revenue + repeat revenue − cost) ÷ cost): a creator
whose first orders do not cover the cost but whose customers' repeat purchases do is not
losing money, and is told apart ("Loses on first orders").

It judges only when there is enough to judge (`Rule`):

* the range spans at least `min_days` days. A fee is booked on one day and the orders it
  brings arrive over the following weeks, so a day or a week mostly shows whichever of the
  two fell in it;
* the group has at least `min_orders` attributed first orders in the range: below that,
  one order more or less moves ROI by tens of points. A group with cost and **no** first
  order over the whole `min_days` is judged all the same: nothing came back for its cost,
  and that is not noise.

Otherwise a group whose ROI would read negative is "too early to judge", with the reason;
a group with nothing in the range has "no activity in this range" when it has figures on
other days, and "no data yet" when it has none at all. A group that pays off gets no badge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

NO_DATA = "no_data"
NO_ACTIVITY = "no_activity"
TOO_EARLY = "too_early"
LOSES_MONEY = "loses_money"
LOSES_ON_FIRST_ORDERS = "loses_on_first_orders"


@dataclass(frozen=True)
class Rule:
    """How much range and data a verdict needs. Four weeks holds a creator's usual posting
    cycle and the orders a post brings (most within days, a tail over weeks); five first
    orders keep a single order from turning the verdict around on its own."""

    min_days: int = 28
    min_orders: int = 5


RULE = Rule()


@dataclass(frozen=True)
class Verdict:
    kind: str
    # Why, in the merchant's words (a badge's tooltip): which ROI, over how long, or what is missing.
    reason: str


def range_days(first: date, last: date) -> int:
    """Days in a range, its first and last day included."""
    return (last - first).days + 1


def _pct(value: float) -> str:
    return f"{value * 100:+.1f}%".replace("-", "−")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def judge(
    *,
    days: int,
    active: bool,
    ever_active: bool,
    orders: int,
    cost: Decimal,
    roi: float | None,
    roi_with_repeat: float | None,
    rule: Rule = RULE,
) -> Verdict | None:
    """The badge of one group over a range of `days` days, or None (it pays off, or has no
    cost to judge). `active`: it has a figure in the range; `ever_active`: on any day."""
    if not active:
        if ever_active:
            return Verdict(
                NO_ACTIVITY, "No orders, clicks, costs or posts in this range; it has figures on other days."
            )
        return Verdict(NO_DATA, "No orders, clicks, costs or posts yet.")
    if cost <= 0 or roi is None or roi_with_repeat is None:
        return None  # no cost: nothing to lose
    if roi >= 0 and roi_with_repeat >= 0:
        return None
    short = days < rule.min_days
    few = 0 < orders < rule.min_orders
    if short or few:
        missing = []
        if short:
            missing.append(f"the range is {_plural(days, 'day')} (a verdict needs {rule.min_days})")
        if few:
            missing.append(f"it has {_plural(orders, 'first order')} (a verdict needs {rule.min_orders})")
        behind = (
            f"Cost is ahead of revenue so far (ROI with repeats {_pct(roi_with_repeat)})"
            if roi_with_repeat < 0
            else f"First orders are behind cost so far (first-order ROI {_pct(roi)}, "
            f"with repeats {_pct(roi_with_repeat)})"
        )
        return Verdict(TOO_EARLY, f"{behind}, but {' and '.join(missing)}: too little to judge.")
    if roi_with_repeat < 0:
        return Verdict(
            LOSES_MONEY,
            f"ROI with repeats {_pct(roi_with_repeat)} over {_plural(days, 'day')}: first orders and repeat "
            f"purchases together brought back less than the cost (first-order ROI {_pct(roi)}).",
        )
    return Verdict(
        LOSES_ON_FIRST_ORDERS,
        f"First-order ROI {_pct(roi)}, but ROI with repeats {_pct(roi_with_repeat)} over "
        f"{_plural(days, 'day')}: repeat purchases of acquired customers cover the cost.",
    )
