"""Predicted customer lifetime value per creator (BG/NBD × Gamma-Gamma, `roi.clv`).

Both models are fitted once per shop on every customer a creator acquired,
from the acquisition on: a creator rarely brings enough customers for a fit of
their own, and the shop's population is what the models describe. A creator's
figure is the mean expected value of their acquired customers over the shop's
horizon (`clv_horizon_months`, default 12), discounted monthly as
`roi.clv.customer_lifetime_value` does. It is None while the shop lacks the
repeat data `roi.clv.predicted_clv` asks for. Fitting is a job (after
re-attribution, the demo seed, or when the stored figures are a day old),
never a request.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models import Attribution, CreatorClv, Order, Shop, utcnow
from roi.clv import CustomerHistory, predicted_clv, summarize_purchases
from worker.engine import is_countable, shop_context

log = logging.getLogger("creator_roi.clv")

CENT = Decimal("0.01")
MAX_AGE = timedelta(hours=24)
PENDING_KEY = "creator_roi:clv_pending:{shop_id}"
RETRY_AFTER = timedelta(hours=1)


def _acquisitions(session: Session, shop_id: int) -> list[tuple[int, int, datetime]]:
    """(creator, Shopify customer id, acquired at) of every acquisition with a known customer."""
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(Attribution.influencer_id, Order.shopify_customer_id, Attribution.acquired_at)
        .join(Order, Order.id == Attribution.order_id)
        .where(Attribution.shop_id == shop_id, Attribution.kind == "first",
               Attribution.influencer_id.is_not(None), Order.shopify_customer_id.is_not(None)))]


def _purchases(session: Session, shop_id: int, customers: set[int]) -> dict[int, list[tuple[datetime, Decimal]]]:
    """Countable purchases (time, net sales) of the given customers."""
    found: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    rows = select(Order.shopify_customer_id, Order.placed_at, Order.net_sales, Order.subtotal,
                  Order.flagged, Order.cancelled_at, Order.financial_status, Order.test).where(
        Order.shop_id == shop_id, Order.shopify_customer_id.is_not(None))
    for row in session.execute(rows.execution_options(yield_per=10000)):
        if row.shopify_customer_id in customers and is_countable(row):
            found[row.shopify_customer_id].append((row.placed_at, row.net_sales))
    return found


def refresh_clv(session: Session, shop_id: int, today: date | None = None) -> int:
    """Refit the shop's models and store each creator's predicted CLV; the creators stored."""
    ctx = shop_context(session, shop_id)
    shop = session.get(Shop, shop_id)
    assert shop is not None
    horizon = shop.settings.clv_horizon_months if shop.settings else 12
    end = today or datetime.now(ctx.zone).date()
    acquisitions = _acquisitions(session, shop_id)
    purchases = _purchases(session, shop_id, {customer for _, customer, _ in acquisitions})
    owners: list[int] = []
    histories: list[CustomerHistory] = []
    customers: dict[int, int] = defaultdict(int)
    for influencer_id, customer, acquired_at in acquisitions:
        customers[influencer_id] += 1
        days = [(ctx.day(placed_at), net) for placed_at, net in purchases.get(customer, ())
                if placed_at >= acquired_at]
        try:
            histories.append(summarize_purchases(days, end))
        except ValueError:  # nothing on or before `end` (a clock ahead of the shop's)
            continue
        owners.append(influencer_id)
    values = predicted_clv(histories, months=horizon) if histories else None
    per_creator: dict[int, list[Decimal]] = defaultdict(list)
    for influencer_id, value in zip(owners, values or ()):
        per_creator[influencer_id].append(value)
    now = utcnow()
    session.execute(delete(CreatorClv).where(CreatorClv.shop_id == shop_id))
    rows: list[dict[str, Any]] = [{
        "shop_id": shop_id, "influencer_id": influencer_id, "customers": count,
        "predicted": _mean(per_creator.get(influencer_id)), "horizon_months": horizon,
        "computed_at": now,
    } for influencer_id, count in sorted(customers.items())]
    if rows:
        session.execute(insert(CreatorClv), rows)
    log.info("event=clv_refreshed shop_id=%s customers=%s fitted=%s creators=%s",
             shop_id, len(histories), values is not None, len(rows))
    return len(rows)


def _mean(values: list[Decimal] | None) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def is_stale(rows: Sequence[Any], horizon_months: int, now: datetime | None = None) -> bool:
    if not rows:
        return True
    now = now or utcnow()
    return any(r.horizon_months != horizon_months or now - r.computed_at > MAX_AGE for r in rows)


def clv_job(shop_id: int) -> None:
    """Job: refit the shop's CLV models; idempotent."""
    from rq import get_current_job

    from worker.runtime import current

    job = get_current_job()
    with current().db.session() as session:
        if session.get(Shop, shop_id) is None:
            return
        refresh_clv(session, shop_id)
    log.info("event=clv_job_done shop_id=%s job_id=%s", shop_id, job.id if job else "inline")


# Inline mode (no Redis: the demo, a single small store) keeps its throttle here.
_last_inline: dict[tuple[str, int], float] = {}


def schedule_clv(rt: Any, shop_id: int) -> None:
    """Enqueue `clv_job` at most once an hour per shop (inline: run it now).

    Stale figures ask for a refit on every read; a shop whose refit stores nothing (no
    acquired customer with an id yet) would otherwise ask again at once.
    """
    from worker.queue import enqueue

    redis = rt.redis()
    if redis is not None:
        if not redis.set(PENDING_KEY.format(shop_id=shop_id), 1, nx=True, ex=int(RETRY_AFTER.total_seconds())):
            return
    else:
        key, now = (rt.database_url, shop_id), time.monotonic()
        if now - _last_inline.get(key, -1e9) < RETRY_AFTER.total_seconds():
            return
        _last_inline[key] = now
    enqueue(rt, clv_job, shop_id)
