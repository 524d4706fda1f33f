"""The ledger's work outside a drain: a shop's pay settled again under its plans as they are
now (a plan was created or changed), and the sweep's part (fees due, lines past the holding
period approved). Each refreshes the rollup cells whose commission cost its lines moved."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from models.db import utcnow
from worker import engine, ledger
from worker.batch import Cell, shop_context


def _refresh(session: Session, shop_id: int, cells: set[Cell]) -> None:
    if cells:
        engine.refresh_sales(session, shop_context(session, shop_id), cells)


def settle_shop(session: Session, shop_id: int, today: date | None = None) -> int:
    """Every order's pay and every fee due; how many creator-day cells changed."""
    ctx = shop_context(session, shop_id)
    cells = ledger.settle_all_orders(session, shop_id)
    cells |= ledger.settle_fees(session, shop_id, today or ctx.day(utcnow()))
    _refresh(session, shop_id, cells)
    return len(cells)


def sweep_pay(session: Session, now: datetime | None = None) -> int:
    """Fees due in every shop with plans, then approvals; how many lines were approved."""
    now = now or utcnow()
    for shop_id in ledger.shops_with_plans(session):
        ctx = shop_context(session, shop_id)
        _refresh(session, shop_id, ledger.settle_fees(session, shop_id, ctx.day(now)))
    return ledger.approve_due(session, now)
