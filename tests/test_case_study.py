"""The reference case study end to end: Shopify-format orders (tax, shipping, 15% codes, a EUR
presentment currency, partial refunds, cancellations, test orders, codes of no creator,
forged and stale click ids, an unreadable money shape) POSTed to /webhooks with their HMAC,
processed by the worker, and read back from GET /api/v1/roi as a merchant would."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import SHOP, webhook_headers
from engine_helpers import shop_id_of
from models import Order, Shop
from worker import demo, engine

END = date(2026, 10, 31)


@pytest.fixture
def plan(api, runtime):  # type: ignore[no-untyped-def]
    """Copy 0 of the case study for the installed shop, its creators, clicks, costs and posts stored."""
    shop_id = shop_id_of(runtime, SHOP)
    with runtime.db.session() as s:
        shop = s.get(Shop, shop_id)
        seeder = demo.CopySeeder(runtime, SHOP, shop_id, 2026, END, shop.timezone, shop.currency)
    plan = seeder.plan(0)
    with runtime.db.session() as s:
        engine.refresh_activity(s, shop_id, demo.write_registry(s, shop_id, plan))
    return plan


def test_the_deliveries_are_what_shopify_sends(plan) -> None:
    demo.check_roster()
    orders = [json.loads(d.body) for d in plan.deliveries if d.topic == "orders/create"]
    assert sum(o["presentment_currency"] == "EUR" for o in orders) > len(orders) // 5
    assert all(Decimal(o["total_tax"]) > 0 for o in orders if "subtotal_price" in o)
    assert any(Decimal(o["total_shipping_price_set"]["shop_money"]["amount"]) > 0 for o in orders)
    assert any(o["source_name"] == "pos" for o in orders)
    topics = {d.topic for d in plan.deliveries}
    assert topics == {"orders/create", "orders/updated", "orders/cancelled", "refunds/create"}
    # The same refund arrives twice: alone, then inside the order.
    refunds = [json.loads(d.body)["id"] for d in plan.deliveries if d.topic == "refunds/create"]
    inside = [r["id"] for d in plan.deliveries if d.topic == "orders/updated" for r in json.loads(d.body)["refunds"]]
    assert set(inside) <= set(refunds) and len(inside) > 100


def test_case_study_through_http_webhooks(client, api, runtime, run_jobs, plan) -> None:
    for delivery in plan.deliveries:
        body = delivery.body.encode()
        response = client.post("/webhooks", data=body,
                               headers=webhook_headers(delivery.topic, body, SHOP, webhook_id=delivery.webhook_id))
        assert response.status_code == 200
    run_jobs()
    assert api.get("/api/v1/sync").get_json()["failed"] == 0

    start = END - timedelta(days=demo.PERIOD_DAYS)
    report = api.get(f"/api/v1/roi?from={start}&to={END}").get_json()
    t = report["totals"]
    assert report["currency"] == "USD"
    assert (t["cost"], t["impressions"], t["engagement_rate"], t["clicks"]) == ("22500.00", 2_800_000, 0.047, 38_400)
    assert (t["orders"], t["new_customers"], t["revenue"]) == (1560, 1560, "156000.00")
    assert (t["repeat_customers"], round(t["repeat_purchase_rate"], 2), t["repeat_revenue"]) == (499, 0.32, "31200.00")
    assert (t["ctr"], t["conversion_rate"], t["cac"]) == (0.0137, 0.0406, "14.42")
    assert (round(t["roas"], 2), round(t["roi"], 2), t["roi_with_repeat"]) == (6.93, 5.93, 7.32)

    creators = [r for r in report["rows"] if r["key"] is not None]
    assert len(creators) == 15
    losing = [r["label"] for r in creators if r["roi_with_repeat"] < 0]
    assert 3 <= len(losing) <= 6, losing
    assert max(r["roi"] for r in creators) > 8
    shop_wide = next(r for r in report["rows"] if r["key"] is None)
    assert shop_wide["cost"] == "850.00"

    # Everything a real store also gets was stored, and counted nowhere.
    with runtime.db.session() as s:
        shop_id = shop_id_of(runtime, SHOP)
        stored = s.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id))
        flagged = s.scalar(select(func.count()).select_from(Order).where(
            Order.shop_id == shop_id, Order.flagged.is_not(None)))
        tests = s.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id, Order.test.is_(True)))
    assert stored == 1560 + 624 + sum(demo.NOISE.values())
    assert (flagged, tests) == (demo.NOISE["unreadable"], demo.NOISE["test"])

    # Every view adds up to the same totals.
    for group in ("platform", "campaign", "content_type"):
        grouped = api.get(f"/api/v1/roi?from={start}&to={END}&group_by={group}").get_json()
        assert grouped["totals"] == t
        assert sum(Decimal(r["revenue"]) for r in grouped["rows"]) == Decimal("156000.00")
        assert sum(r["clicks"] for r in grouped["rows"]) == 38_400
