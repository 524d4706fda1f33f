"""What is stored afterwards, read back the way tests compare it. The readers taking a session
expire it first, so they see what other sessions (a drain, a job) committed meanwhile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from models import Attribution, Order, Rollup, RollupMonth, WebhookEvent
from worker import engine


def events(session: Any, **where: Any) -> list[WebhookEvent]:
    """The stored deliveries, oldest first, filtered by column values."""
    session.expire_all()
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    for key, value in where.items():
        query = query.where(getattr(WebhookEvent, key) == value)
    return list(session.scalars(query))


def order(session: Any, shopify_id: int) -> Order | None:
    session.expire_all()
    return session.scalar(select(Order).where(Order.shopify_id == shopify_id))


def count(session: Any, model: Any, *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def attribution_of(runtime: Any, shop_id: int, shopify_id: int) -> Attribution | None:
    with runtime.db.session() as s:
        stored = s.scalar(select(Order).where(Order.shop_id == shop_id, Order.shopify_id == shopify_id))
        if stored is None:
            return None
        return s.scalar(select(Attribution).where(Attribution.order_id == stored.id))


def rollup_cells(runtime: Any, shop_id: int) -> dict[tuple, dict[str, Any]]:
    """Every non-empty rollup row, keyed by what identifies it (ids are not compared)."""
    with runtime.db.session() as s:
        rows = s.scalars(select(Rollup).where(Rollup.shop_id == shop_id)).all()
    found: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        values = {name: getattr(r, name) for name in engine.ALL_COLUMNS}
        if any(values.values()):
            key = (r.kind, r.influencer_id, r.day, r.campaign_id, r.platform, r.content_type)
            assert key not in found, f"two rollup rows for {key}"
            found[key] = values
    return found


def month_cells(runtime: Any, shop_id: int) -> dict[tuple, dict[str, Any]]:
    """Every month row, keyed like `rollup_cells` with the month's first day."""
    with runtime.db.session() as s:
        rows = s.scalars(select(RollupMonth).where(RollupMonth.shop_id == shop_id)).all()
    found: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r.kind, r.influencer_id, r.month, r.campaign_id, r.platform, r.content_type)
        assert key not in found, f"two month rows for {key}"
        found[key] = {name: getattr(r, name) for name in engine.ALL_COLUMNS}
    return found


def months_of(cells: dict[tuple, dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Day cells summed per month: what the month rows must hold."""
    months: dict[tuple, dict[str, Any]] = {}
    for (kind, influencer_id, day, *rest), values in cells.items():
        key = (kind, influencer_id, day.replace(day=1), *rest)
        sums = months.setdefault(key, dict.fromkeys(values, 0))
        for name, value in values.items():
            sums[name] += value
    return {key: sums for key, sums in months.items() if any(sums.values())}


def day_totals(runtime: Any, shop_id: int, influencer_id: int | None = None) -> dict[str, Any]:
    """Column sums of the shop's rollups (one creator's when given)."""
    totals: dict[str, Any] = {}
    for key, values in rollup_cells(runtime, shop_id).items():
        if influencer_id is not None and key[1] != influencer_id:
            continue
        for name, value in values.items():
            totals[name] = totals.get(name, 0) + value
    return totals
