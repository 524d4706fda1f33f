"""What a creator earns under a pay plan: pure arithmetic on plain values.

* An order's commission: a percent of its commission base (net merchandise in shop
  currency, before refunds) or a fixed amount; a repeat order of a customer the
  creator brought earns the repeat percent (the first-order terms when none is set),
  and only within `repeat_months` of the customer's first order (0: never; None: always).
* A refund reverses the commission in proportion to the merchandise refunded, whether
  or not items were restocked, never more than what is left: the $100 order at 10 %
  with a $30 refund leaves $7.00. Reversals are the differences of the rounded
  commission left before and after each refund, so however refunds are split or
  ordered, the total reversed is the rounded proportional share of everything refunded.
* Tier bonuses per month on net revenue or new customers: marginal (a percent tier pays
  on the part above its threshold, up to the next tier's) or retroactive (the highest
  tier reached pays on everything); an amount tier pays its amount once reached
  (marginal: every tier reached; retroactive: the highest).
* A cap per month on performance pay (commissions and bonuses).
* Flat fees per month, prorated to the days of the month a plan is in force.
* Presentment money beside an order's lines: each line's amount in the buyer's currency,
  in the order's own proportion (amount × presentment base ÷ shop base, to the cent; no
  exchange rate is looked up). None when the order has no presentment money, is sold in
  the shop's currency (the amount already is it), or has no base to take a proportion of.
  Each line is rounded on its own, so an order's lines may add up a cent apart from its
  proportional total; the shop-currency amount is the one paid.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    metric: str  # "net_revenue" | "new_customers"
    threshold: Decimal
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Terms:
    """The money terms of a plan (dates aside)."""

    commission_percent: Decimal | None = None
    commission_fixed: Decimal | None = None
    repeat_commission_percent: Decimal | None = None
    repeat_months: int | None = None
    tiers: tuple[Tier, ...] = ()
    tier_mode: str = "marginal"
    cap: Decimal | None = None
    flat_fee: Decimal | None = None
    fee_per_post: Decimal | None = None


@dataclass(frozen=True)
class Dated:
    """A plan's id and the days it is in force (ends_on included; None: open-ended)."""

    id: int
    starts_on: date
    ends_on: date | None


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def repeat_is_paid(repeat_months: int | None, acquired_at: datetime | None, placed_at: datetime) -> bool:
    """Whether a repeat order placed at `placed_at` still earns: within `repeat_months` of
    the customer's first order with the creator (0: never; None: for life)."""
    if repeat_months is None:
        return True
    if repeat_months <= 0 or acquired_at is None:
        return False
    return placed_at < add_months(acquired_at, repeat_months)


def order_commission(terms: Terms, base: Decimal, *, repeat: bool) -> Decimal:
    """The commission of one order with `base` (net merchandise before refunds), in cents.
    A repeat order earns the repeat percent when set; the caller checks `repeat_is_paid`."""
    if base <= 0:
        return ZERO
    if repeat and terms.repeat_commission_percent is not None:
        return to_cents(base * terms.repeat_commission_percent / HUNDRED)
    if terms.commission_percent is not None:
        return to_cents(base * terms.commission_percent / HUNDRED)
    if terms.commission_fixed is not None:
        return to_cents(terms.commission_fixed)
    return ZERO


@dataclass(frozen=True)
class OrderMoney:
    """An order's commission base in shop currency and, beside it, as the buyer was shown it."""

    base: Decimal
    currency: str | None  # the shop currency of the order; None: unknown
    presentment_base: Decimal | None
    presentment_currency: str | None


def presentment_amount(amount: Decimal, money: OrderMoney) -> tuple[Decimal, str] | None:
    """A line's `amount` (shop currency) in the order's presentment currency, with that
    currency, in the order's own proportion; None when there is nothing to show beside."""
    shown, currency = money.presentment_base, money.presentment_currency
    if shown is None or currency is None or currency == money.currency or money.base <= 0 or shown < 0:
        return None
    return to_cents(amount * shown / money.base), currency


def refund_reversals(commission: Decimal, base: Decimal, refunds: Sequence[Decimal]) -> list[Decimal]:
    """Each refund's reversal (≤ 0) of an order's `commission`, refunds in the given order:
    in proportion to the merchandise refunded, capped at what is left of the base (a refund
    larger than that reverses only the rest)."""
    if base <= 0 or commission == 0:
        return [ZERO for _ in refunds]
    reversals = []
    refunded = ZERO
    for refund in refunds:
        before = to_cents(commission * min(refunded, base) / base)
        refunded += max(refund, ZERO)
        after = to_cents(commission * min(refunded, base) / base)
        reversals.append(before - after)
    return reversals


def refunds_over_base(base: Decimal, refunds: Iterable[Decimal]) -> Decimal:
    """How much the refunds exceed the order's base (0 when they fit): logged, not paid back."""
    return max(ZERO, sum(refunds, ZERO) - max(base, ZERO))


def tier_bonus(tiers: Sequence[Tier], mode: str, net_revenue: Decimal, new_customers: int) -> Decimal:
    """A month's bonus from its net revenue and new customers, in cents."""
    total = ZERO
    for metric in ("net_revenue", "new_customers"):
        value = net_revenue if metric == "net_revenue" else Decimal(new_customers)
        ladder = sorted((t for t in tiers if t.metric == metric), key=lambda t: t.threshold)
        reached = [t for t in ladder if value >= t.threshold]
        if not reached:
            continue
        if mode == "retroactive":
            top = reached[-1]
            if top.percent is not None:
                total += net_revenue * top.percent / HUNDRED
            else:
                total += top.amount or ZERO
            continue
        for i, tier in enumerate(reached):
            if tier.percent is None:
                total += tier.amount or ZERO
            elif metric == "net_revenue":
                upper = ladder[i + 1].threshold if i + 1 < len(ladder) else None
                part = (min(value, upper) if upper is not None else value) - tier.threshold
                total += max(part, ZERO) * tier.percent / HUNDRED
            else:  # a percent on a count of customers: of the month's net revenue, once reached
                total += net_revenue * tier.percent / HUNDRED
    return to_cents(max(total, ZERO))


def cap_cut(performance_pay: Decimal, cap: Decimal | None) -> Decimal:
    """What a month's performance pay goes over the cap (≤ 0, to add as a line); 0 uncapped."""
    if cap is None or performance_pay <= cap:
        return ZERO
    return cap - performance_pay


def overlapping_tiers(tiers: Sequence[Tier]) -> bool:
    """Two tiers of one metric at the same threshold: which would pay is ambiguous."""
    seen: set[tuple[str, Decimal]] = set()
    for tier in tiers:
        key = (tier.metric, tier.threshold)
        if key in seen:
            return True
        seen.add(key)
    return False


def in_force(plan: Dated, day: date) -> bool:
    return plan.starts_on <= day and (plan.ends_on is None or day <= plan.ends_on)


def plans_overlap(a: Dated, b: Dated) -> bool:
    """Whether two plans are in force on some common day."""
    a_end = a.ends_on or date.max
    b_end = b.ends_on or date.max
    return a.starts_on <= b_end and b.starts_on <= a_end


def plan_for_day(own: Sequence[Dated], default: Sequence[Dated], day: date) -> Dated | None:
    """The plan an order placed on `day` is paid under: the creator's own in force, else the
    shop's default in force, else none."""
    for plans in (own, default):
        for plan in plans:
            if in_force(plan, day):
                return plan
    return None


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def flat_fee_for_month(fee: Decimal, plan: Dated, month: date) -> Decimal:
    """The plan's monthly fee for the month starting `month`, prorated to its days in force."""
    first, last = month_start(month), month_end(month)
    start = max(first, plan.starts_on)
    end = min(last, plan.ends_on or last)
    if end < start or fee <= 0:
        return ZERO
    days = (end - start).days + 1
    return to_cents(fee * days / ((last - first).days + 1))


def months_in_force(plan: Dated, until: date) -> list[date]:
    """First days of the months the plan is in force on some day, up to `until`'s month."""
    months = []
    month = month_start(plan.starts_on)
    last = min(until, plan.ends_on or until)
    while month <= last:
        months.append(month)
        month = month_start(month_end(month) + timedelta(days=1))
    return months


def owed(totals: Mapping[str, Decimal], clawed_back_not_netted: Decimal) -> Decimal:
    """Approved, pending and held, less what was clawed back and not yet netted by a payout
    (`clawed_back_not_netted` is the sum of those negative lines)."""
    return (
        totals.get("approved", ZERO) + totals.get("pending", ZERO) + totals.get("held", ZERO) + clawed_back_not_netted
    )
