"""Factories for the engine tests: registry rows straight in the database, orders through the
webhook inbox's processing (the path every delivery takes), and Shopify-format order bodies."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from models import (
    Attribution,
    Click,
    DiscountCode,
    Influencer,
    Order,
    ReferralLink,
    Rollup,
    RollupMonth,
    Shop,
    WebhookEvent,
)
from worker import engine
from worker.inbox import process_event
from worker.runtime import bind

SHOPIFY_FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
_ids = iter(range(1, 10_000_000))


def fixture(name: str) -> dict[str, Any]:
    return json.loads((SHOPIFY_FIXTURES / name).read_text())


def shop_id_of(runtime: Any, domain: str) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(Shop.id).where(Shop.domain == domain))


def make_creator(runtime: Any, shop_id: int, handle: str, *, codes: tuple[str, ...] = (),
                 slug: str | None = None, platform: str = "instagram", campaign_id: int | None = None,
                 commission_rate: Decimal | None = None, name: str | None = None) -> int:
    with runtime.db.session() as s:
        creator = Influencer(shop_id=shop_id, name=name or handle.title(), handle=handle, platform=platform,
                             campaign_id=campaign_id, commission_rate=commission_rate)
        s.add(creator)
        s.flush()
        for code in codes:
            s.add(DiscountCode(shop_id=shop_id, influencer_id=creator.id, code=code))
        if slug:
            s.add(ReferralLink(shop_id=shop_id, influencer_id=creator.id, slug=slug))
        return creator.id


def make_click(runtime: Any, shop_id: int, slug: str, click_id: str, clicked_at: datetime,
               *, counted: bool = True, bot: bool = False) -> None:
    """A click as the redirect stores it, then the engine told, as the registry does."""
    with runtime.db.session() as s:
        link = s.scalar(select(ReferralLink).where(ReferralLink.slug == slug))
        s.add(Click(click_id=click_id, shop_id=shop_id, link_id=link.id, influencer_id=link.influencer_id,
                    clicked_at=clicked_at, counted=counted, bot=bot))
        s.flush()
        ctx = engine.shop_context(s, shop_id)
        engine.activity_changed(s, shop_id, link.influencer_id, ctx.day(clicked_at))


def deliver(runtime: Any, domain: str, topic: str, payload: dict[str, Any] | bytes) -> str:
    """Store one delivery in the inbox and process it as a drain would; its status after."""
    body = payload.decode() if isinstance(payload, bytes) else json.dumps(payload)
    with runtime.db.session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.domain == domain))
        event = WebhookEvent(shop_domain=domain, shop_id=shop_id, webhook_id=str(uuid.uuid4()),
                             topic=topic, body=body)
        s.add(event)
        s.flush()
        event_id = event.id
    with bind(runtime):
        return process_event(event_id)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def order_payload(*, placed_at: datetime, net: str = "50.00", customer_id: int | None = None,
                  codes: tuple[str, ...] = (), landing_site: str | None = None,
                  survey: str | None = None, order_id: int | None = None, name: str | None = None,
                  updated_at: datetime | None = None, refunds: list[dict[str, Any]] | None = None,
                  cancelled_at: datetime | None = None, test: bool = False,
                  source_name: str = "web", financial_status: str = "paid") -> dict[str, Any]:
    """A Shopify `orders/create` body (the fields the app reads, in their real shapes)."""
    number = order_id or 7_000_000_000_000 + next(_ids)
    money = {"shop_money": {"amount": net, "currency_code": "USD"},
             "presentment_money": {"amount": net, "currency_code": "USD"}}
    return {
        "id": number, "name": name or f"#{number % 100000}", "created_at": iso(placed_at),
        "updated_at": iso(updated_at or placed_at), "processed_at": iso(placed_at),
        "currency": "USD", "presentment_currency": "USD", "test": test, "source_name": source_name,
        "financial_status": financial_status, "cancelled_at": iso(cancelled_at) if cancelled_at else None,
        "subtotal_price": net, "subtotal_price_set": money,
        "total_tax": "4.00", "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
        "discount_codes": [{"code": c, "amount": "5.00", "type": "percentage"} for c in codes],
        "discount_applications": [], "landing_site": landing_site,
        "note_attributes": [{"name": "how_did_you_hear", "value": survey}] if survey else [],
        "customer": {"id": customer_id, "created_at": iso(placed_at), "updated_at": iso(placed_at)} if customer_id else None,
        "refunds": refunds or [],
    }


def refund_payload(order_id: int, amount: str, *, refund_id: int | None = None,
                   at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": refund_id or 9_000_000_000 + next(_ids), "order_id": order_id,
        "created_at": iso(at or datetime(2026, 10, 20, tzinfo=UTC)),
        "processed_at": iso(at or datetime(2026, 10, 20, tzinfo=UTC)),
        "refund_line_items": [{"quantity": 1, "subtotal": float(amount),
                               "subtotal_set": {"shop_money": {"amount": amount, "currency_code": "USD"},
                                                "presentment_money": {"amount": amount, "currency_code": "USD"}}}],
        "transactions": [], "order_adjustments": [],
    }


def attribution_of(runtime: Any, shop_id: int, shopify_id: int) -> Attribution | None:
    with runtime.db.session() as s:
        order = s.scalar(select(Order).where(Order.shop_id == shop_id, Order.shopify_id == shopify_id))
        if order is None:
            return None
        return s.scalar(select(Attribution).where(Attribution.order_id == order.id))


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


def local_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def days(n: float) -> timedelta:
    return timedelta(days=n)
