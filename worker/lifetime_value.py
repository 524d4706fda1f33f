"""Predicted customer lifetime value per creator (BG/NBD × Gamma-Gamma, `roi.clv`).

Both models are fitted once per shop on every customer a creator acquired,
from the acquisition on: a creator rarely brings enough customers for a fit of
their own, and the shop's population is what the models describe. A creator's
figure is the mean expected value of their acquired customers over the shop's
horizon (`clv_horizon_months`, default 12), discounted monthly as
`roi.clv.customer_lifetime_value` does. It is None while the shop lacks the
repeat data `roi.clv.predicted_clv` asks for.

Fitting is a job (`worker.jobs`), never a request: after a drain or an import
that changed orders (at most once per RETRY_AFTER a shop), after a
re-attribution or a change of horizon, after the demo seed, and from the
sweeper once the stored figures are stale (`stale_shops`). Reports show when
the figures were fitted (their `computed_at`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, exists, insert, or_, select
from sqlalchemy.orm import Session

from models import Attribution, CreatorClv, Order, Rollup, Shop, ShopSettings, utcnow
from roi.clv import CustomerHistory, predicted_clv, summarize_purchases

log = logging.getLogger("creator_roi.clv")

CENT = Decimal("0.01")
# Stored figures older than this are refitted by the sweeper even if no drain asked.
MAX_AGE = timedelta(hours=24)


def _acquisitions(session: Session, shop_id: int) -> list[tuple[int, int, datetime]]:
    """(creator, Shopify customer id, acquired at) of every acquisition with a known customer."""
    return [
        tuple(row)  # type: ignore[misc]
        for row in session.execute(
            select(Attribution.influencer_id, Order.shopify_customer_id, Attribution.acquired_at)
            .join(Order, Order.id == Attribution.order_id)
            .where(
                Attribution.shop_id == shop_id,
                Attribution.kind == "first",
                Attribution.influencer_id.is_not(None),
                Order.shopify_customer_id.is_not(None),
            )
        )
    ]


def _purchases(session: Session, shop_id: int, customers: set[int]) -> dict[int, list[tuple[datetime, Decimal]]]:
    """Countable purchases (time, net sales) of the given customers."""
    found: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    rows = select(Order.shopify_customer_id, Order.placed_at, Order.net_sales).where(
        Order.shop_id == shop_id, Order.shopify_customer_id.is_not(None), Order.is_countable
    )
    for customer, placed_at, net_sales in session.execute(rows.execution_options(yield_per=10000)):
        if customer in customers:
            found[customer].append((placed_at, net_sales))
    return found


def refresh_clv(session: Session, shop_id: int, today: date | None = None) -> int:
    """Refit the shop's models and store each creator's predicted CLV; the creators stored."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    horizon = shop.settings.clv_horizon_months if shop.settings else 12
    end = today or datetime.now(shop.zone).date()
    acquisitions = _acquisitions(session, shop_id)
    purchases = _purchases(session, shop_id, {customer for _, customer, _ in acquisitions})
    owners: list[int] = []
    histories: list[CustomerHistory] = []
    customers: dict[int, int] = defaultdict(int)
    for influencer_id, customer, acquired_at in acquisitions:
        customers[influencer_id] += 1
        days = [
            (shop.local_day(placed_at), net)
            for placed_at, net in purchases.get(customer, ())
            if placed_at >= acquired_at
        ]
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
    rows: list[dict[str, Any]] = [
        {
            "shop_id": shop_id,
            "influencer_id": influencer_id,
            "customers": count,
            "predicted": _mean(per_creator.get(influencer_id)),
            "horizon_months": horizon,
            "computed_at": now,
        }
        for influencer_id, count in sorted(customers.items())
    ]
    if rows:
        session.execute(insert(CreatorClv), rows)
    log.info(
        "event=clv_refreshed shop_id=%s customers=%s fitted=%s creators=%s",
        shop_id,
        len(histories),
        values is not None,
        len(rows),
    )
    return len(rows)


def _mean(values: list[Decimal] | None) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def stale_shops(session: Session, now: datetime | None = None) -> list[int]:
    """Installed shops whose stored figures are due a refit: fitted over MAX_AGE ago or for
    another horizon, or never fitted although a creator has acquired customers."""
    old = (now or utcnow()) - MAX_AGE
    stored = select(CreatorClv.shop_id).where(CreatorClv.shop_id == Shop.id)
    outdated = stored.where(
        or_(CreatorClv.computed_at < old, CreatorClv.horizon_months != ShopSettings.clv_horizon_months)
    )
    acquired = select(Rollup.shop_id).where(Rollup.shop_id == Shop.id, Rollup.kind == "day", Rollup.new_customers > 0)
    return list(
        session.scalars(
            select(Shop.id)
            .join(ShopSettings, ShopSettings.shop_id == Shop.id)
            .where(
                Shop.uninstalled_at.is_(None),
                Shop.access_token_enc.is_not(None),
                or_(exists(outdated), ~exists(stored) & exists(acquired)),
            )
            .order_by(Shop.id)
        )
    )
