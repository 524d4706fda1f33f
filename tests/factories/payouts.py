"""Commission lines written straight in the ledger, for tests of what payouts do with them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from models import CommissionLine, Influencer, ShopSettings

_keys = iter(range(1, 10_000_000))


def make_line(
    session: Any,
    shop_id: int,
    influencer_id: int,
    amount: str,
    state: str = "approved",
    *,
    approved: datetime | None = None,
    kind: str | None = None,
    reason: str = "",
    order_id: int | None = None,
) -> CommissionLine:
    """One ledger line (approved yesterday unless told); committed."""
    approved_at = approved or datetime.now(timezone.utc) - timedelta(days=1)
    negative = Decimal(amount) < 0
    line = CommissionLine(
        shop_id=shop_id,
        influencer_id=influencer_id,
        kind=kind or ("clawback" if negative else "commission"),
        amount=Decimal(amount),
        state=state,
        reason=reason or ("refund after payout" if negative else "10% of an order"),
        event_key=f"test:{next(_keys)}",
        earned_on=approved_at.date(),
        approved_at=approved_at if state in ("approved", "in_payout", "paid") else None,
        order_id=order_id,
    )
    session.add(line)
    session.commit()
    return line


def set_minimum(session: Any, shop_id: int, minimum: str) -> None:
    settings = session.get(ShopSettings, shop_id)
    settings.payout_minimum = Decimal(minimum)
    session.commit()


def set_payee(session: Any, influencer_id: int, *, email: str | None = None, customer_id: int | None = None) -> None:
    creator = session.scalar(select(Influencer).where(Influencer.id == influencer_id))
    creator.payout_email = email
    creator.shopify_customer_id = customer_id
    session.commit()


def line_states(session: Any, shop_id: int) -> dict[int, tuple[str, int | None]]:
    """Every line's (state, payout id), by line id, as stored now."""
    session.expire_all()
    return {
        line.id: (line.state, line.payout_id)
        for line in session.scalars(select(CommissionLine).where(CommissionLine.shop_id == shop_id))
    }
