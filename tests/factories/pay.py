"""Pay plans and the ledger as tests read and set them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from models import CommissionLine, PayPlan


def make_plan(runtime: Any, shop_id: int, influencer_id: int | None, *, starts_on: date, **terms: Any) -> int:
    """A plan stored as the API stores it; its id. Settle orders yourself if they came before."""
    with runtime.db.session() as s:
        plan = PayPlan(shop_id=shop_id, influencer_id=influencer_id, starts_on=starts_on, **terms)
        s.add(plan)
        s.flush()
        return plan.id


def ledger(runtime: Any, shop_id: int, influencer_id: int | None = None) -> list[CommissionLine]:
    with runtime.db.session() as s:
        query = select(CommissionLine).where(CommissionLine.shop_id == shop_id).order_by(CommissionLine.id)
        if influencer_id is not None:
            query = query.where(CommissionLine.influencer_id == influencer_id)
        return list(s.scalars(query))


def by_state(lines: list[CommissionLine]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        sums[line.state] += line.amount
    return {state: amount for state, amount in sums.items()}


def pay_out(runtime: Any, shop_id: int) -> int:
    """What a paid payout leaves: every pending or approved line paid (payouts are built
    elsewhere; the ledger only needs the states). How many lines."""
    with runtime.db.session() as s:
        return s.execute(
            update(CommissionLine)
            .where(CommissionLine.shop_id == shop_id, CommissionLine.state.in_(("pending", "approved")))
            .values(state="paid")
        ).rowcount
