"""The commission ledger read for the API and the pages: lines and their totals per state.

`owed` is `roi.pay.owed`: approved, pending and held, less what was clawed back and not yet
netted by a payout (a clawed-back line with no `payout_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import CommissionLine, PayPlan
from models.pay import LINE_STATES
from roi.pay import owed

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerFilter:
    influencer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def where(self, shop_id: int) -> list[Any]:
        found: list[Any] = [CommissionLine.shop_id == shop_id]
        if self.influencer_id is not None:
            found.append(CommissionLine.influencer_id == self.influencer_id)
        if self.date_from is not None:
            found.append(CommissionLine.earned_on >= self.date_from)
        if self.date_to is not None:
            found.append(CommissionLine.earned_on <= self.date_to)
        return found


def totals(session: Session, shop_id: int, where: LedgerFilter) -> dict[str, Decimal]:
    """Each state's sum, and `owed`."""
    sums = {state: ZERO for state in LINE_STATES}
    for state, amount in session.execute(
        select(CommissionLine.state, func.sum(CommissionLine.amount))
        .where(*where.where(shop_id))
        .group_by(CommissionLine.state)
    ):
        sums[state] = Decimal(amount or 0)
    not_netted = session.scalar(
        select(func.coalesce(func.sum(CommissionLine.amount), 0)).where(
            *where.where(shop_id), CommissionLine.state == "clawed_back", CommissionLine.payout_id.is_(None)
        )
    )
    return {**sums, "owed": owed(sums, Decimal(not_netted or 0))}


def lines(session: Session, shop_id: int, where: LedgerFilter, state: str | None = None) -> Sequence[CommissionLine]:
    query = select(CommissionLine).where(*where.where(shop_id))
    if state is not None:
        query = query.where(CommissionLine.state == state)
    return session.scalars(query.order_by(CommissionLine.earned_on.desc(), CommissionLine.id.desc())).all()


def pending_cost(session: Session, shop_id: int, where: LedgerFilter) -> Decimal:
    """Of the commission counted as cost, what is not yet approved (pending or held)."""
    return Decimal(
        session.scalar(
            select(func.coalesce(func.sum(CommissionLine.amount), 0)).where(
                *where.where(shop_id), CommissionLine.state.in_(("pending", "held"))
            )
        )
        or 0
    )


def plan_summary(plan: PayPlan) -> str:
    """A plan's terms in a sentence, as the creator page shows them."""
    parts = []
    if plan.flat_fee:
        parts.append(f"{plan.flat_fee} a month")
    if plan.fee_per_post:
        parts.append(f"{plan.fee_per_post} a post")
    if plan.commission_percent is not None:
        parts.append(f"{plan.commission_percent.normalize():f} % of each order")
    elif plan.commission_fixed is not None:
        parts.append(f"{plan.commission_fixed} an order")
    if plan.repeat_months == 0:
        parts.append("first orders only")
    else:
        rate = plan.repeat_commission_percent
        what = f"repeat orders at {rate.normalize():f} %" if rate is not None else "repeat orders too"
        parts.append(what + (f" for {plan.repeat_months} months" if plan.repeat_months else ""))
    if plan.tiers:
        parts.append(f"{len(plan.tiers)} bonus tier{'s' if len(plan.tiers) > 1 else ''} ({plan.tier_mode})")
    if plan.cap is not None:
        parts.append(f"at most {plan.cap} a month")
    return ", ".join(parts)


@dataclass(frozen=True)
class CreatorPay:
    plan: PayPlan | None
    shop_default: bool
    totals: dict[str, Decimal]


def creator_pay(session: Session, shop_id: int, influencer_id: int, today: date) -> CreatorPay:
    """The plan in force today (the creator's, else the shop's default) and all-time totals."""
    plans = session.scalars(
        select(PayPlan)
        .where(PayPlan.shop_id == shop_id, or_(PayPlan.influencer_id == influencer_id, PayPlan.influencer_id.is_(None)))
        .order_by(PayPlan.influencer_id.is_(None), PayPlan.starts_on.desc())
    ).all()
    in_force = [p for p in plans if p.starts_on <= today and (p.ends_on is None or today <= p.ends_on)]
    plan = in_force[0] if in_force else None
    return CreatorPay(
        plan, plan is not None and plan.influencer_id is None, totals(session, shop_id, LedgerFilter(influencer_id))
    )
