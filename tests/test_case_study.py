"""The reference case study end to end: Shopify-format orders (tax, shipping, 15% codes, a EUR
presentment currency, partial refunds, cancellations, test orders, codes of no creator,
forged and stale click ids, an unreadable money shape) POSTed to /webhooks with their HMAC,
processed by the worker, and read back from GET /api/v1/roi as a merchant would."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from demo.plan import NOISE, PERIOD_DAYS, check_roster
from demo.seed import CopySeeder, write_registry
from factories import SHOP
from factories.admin import Api
from factories.registry import make_creator, shop_id_of
from factories.shopify import webhook_headers
from models import Order, Shop
from worker import engine, lifetime_value

# The day the case study's history ends, fixed: the same orders, clicks and customers whatever
# the day the tests run (test_the_demo_on_todays_date_seeds_and_shows_figures runs today's).
END = date(2026, 11, 30)


@pytest.fixture
def plan(api, runtime):
    """Copy 0 of the case study for the installed shop, its creators, clicks, costs and posts stored."""
    shop_id = shop_id_of(runtime, SHOP)
    with runtime.db.session() as s:
        shop = s.get(Shop, shop_id)
        seeder = CopySeeder(runtime, SHOP, shop_id, 2026, END, shop.timezone, shop.currency)
    plan = seeder.plan(0)
    with runtime.db.session() as s:
        engine.refresh_activity(s, shop_id, write_registry(s, shop_id, plan))
    return plan


def test_the_deliveries_are_what_shopify_sends(plan) -> None:
    check_roster()
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
        response = client.post(
            "/webhooks", data=body, headers=webhook_headers(delivery.topic, body, SHOP, webhook_id=delivery.webhook_id)
        )
        assert response.status_code == 200
    run_jobs()
    assert api.get("/api/v1/sync").get_json()["failed"] == 0

    start = END - timedelta(days=PERIOD_DAYS)
    report = api.get(f"/api/v1/roi?from={start}&to={END}").get_json()
    t = report["totals"]
    assert report["currency"] == "USD"
    assert (t["cost"], t["impressions"], t["engagement_rate"], t["clicks"]) == ("22500.00", 2_800_000, 0.047, 38_400)
    assert (t["orders"], t["new_customers"], t["revenue"]) == (1560, 1560, "156000.00")
    assert (t["repeat_customers"], round(t["repeat_purchase_rate"], 2), t["repeat_revenue"]) == (499, 0.32, "31200.00")
    assert (t["ctr"], t["conversion_rate"], t["cac"]) == (0.0137, 0.0406, "14.42")
    assert (round(t["roas"], 2), round(t["roi"], 2), t["roi_with_repeat"]) == (6.93, 5.93, 7.32)
    # Over the whole history the customers acquired are those who repeat: $187,200 ÷ 1,560.
    assert t["clv_historical"] == "120.00"

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
        flagged = s.scalar(
            select(func.count()).select_from(Order).where(Order.shop_id == shop_id, Order.flagged.is_not(None))
        )
        tests = s.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id, Order.test.is_(True)))
    assert stored == len(plan.orders) > 1560 + 624 + sum(NOISE.values())
    assert (flagged, tests) == (NOISE["unreadable"], NOISE["test"])

    # Every view adds up to the same totals.
    for group in ("platform", "campaign", "content_type"):
        grouped = api.get(f"/api/v1/roi?from={start}&to={END}&group_by={group}").get_json()
        assert grouped["totals"] == t
        assert sum(Decimal(r["revenue"]) for r in grouped["rows"]) == Decimal("156000.00")
        assert sum(r["clicks"] for r in grouped["rows"]) == 38_400


def test_predicted_clv_per_creator_once_there_is_repeat_data(client, api, runtime, run_jobs, plan) -> None:
    for delivery in plan.deliveries:
        body = delivery.body.encode()
        client.post(
            "/webhooks", data=body, headers=webhook_headers(delivery.topic, body, SHOP, webhook_id=delivery.webhook_id)
        )
    run_jobs()
    # Fitted as of the history's last day, as the demo seeds it (the refit a job runs on the day
    # the tests run would count the weeks up to that day).
    with runtime.db.session() as s:
        assert lifetime_value.refresh_clv(s, shop_id_of(runtime, SHOP), today=END) == 15
    start = END - timedelta(days=PERIOD_DAYS)
    report = api.get(f"/api/v1/roi?from={start}&to={END}").get_json()
    assert report["clv_fitted_at"] is not None
    rows = [r for r in report["rows"] if r["key"] is not None]
    top = max(rows, key=lambda r: r["new_customers"])
    assert Decimal(top["clv_predicted"]) > 0
    # Historical CLV is what the creator's customers spent so far.
    assert Decimal(top["clv_historical"]) == (
        (Decimal(top["revenue"]) + Decimal(top["repeat_revenue"])) / top["new_customers"]
    ).quantize(Decimal("0.01"))


def test_the_demo_on_todays_date_seeds_and_shows_figures(runner, client, runtime) -> None:
    domain = "cli-demo.myshopify.com"
    result = runner.invoke(args=["demo", "--shop", domain])
    assert result.exit_code == 0, result.output
    # Its history ends yesterday in the store's time zone: figures reach up to today.
    start, end = (
        date.fromisoformat(day)
        for day in re.search(r"webhook deliveries, (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", result.output).groups()
    )
    yesterday = datetime.now(ZoneInfo("America/New_York")).date() - timedelta(days=1)
    assert end in (yesterday - timedelta(days=1), yesterday)  # a run across midnight
    assert (
        "15 creators, cost 22500.00, 2800000 impressions, engagement rate 0.047, 38400 clicks, "
        "1560 first orders, revenue 156000.00" in result.output
    )
    assert (
        "ctr 0.0137, conversion rate 0.0406, cac 14.42, roas 6.9333, roi 5.9333, roi with repeats 7.32" in result.output
    )
    rows = Api(client, domain).get(f"/api/v1/roi?from={start}&to={end}").get_json()["rows"]
    top = max((r for r in rows if r["key"] is not None), key=lambda r: r["new_customers"])
    assert Decimal(top["clv_predicted"]) > 0
    # Six creators are paid under plans: their commission is in the ledger (and in the cost
    # above), approved once past the holding period, some of it reversed by refunds.
    ledger = Api(client, domain).get("/api/v1/commissions").get_json()
    assert len({line["influencer_id"] for line in ledger["lines"]}) == 6
    assert Decimal(ledger["totals"]["approved"]) > 0 and Decimal(ledger["totals"]["reversed"]) >= 0
    assert any(line["kind"] == "reversal" for line in ledger["lines"])
    again = runner.invoke(args=["demo", "--shop", domain])
    assert again.exit_code == 0 and "already holds data" in again.output
    with runtime.db.session() as s:
        assert s.scalar(
            select(func.count()).select_from(Order).where(Order.shop_id == shop_id_of(runtime, domain))
        ) > 1560 + 624 + sum(NOISE.values())


def test_demo_reset_refuses_a_store_it_did_not_install(runner, api, runtime) -> None:
    make_creator(runtime, shop_id_of(runtime, SHOP), "kept")
    result = runner.invoke(args=["demo", "--shop", SHOP, "--reset"])
    assert result.exit_code != 0 and "refuses to erase" in result.output
    with runtime.db.session() as s:
        assert s.get(Shop, shop_id_of(runtime, SHOP)) is not None


@pytest.mark.parametrize("group", ["influencer", "platform", "campaign", "content_type"])
def test_emv_rows_add_up_to_the_total_in_every_grouping(api, plan, group) -> None:
    """EMV is rounded once, for the total, and split over the rows like the other money columns:
    a column that sums to a cent more or less than its total row reads as an error."""
    # Ranges over the case study's posts (each rounded alone, these rows summed a cent over).
    for start, end in ((date(2026, 1, 3), date(2026, 1, 20)), (date(2026, 2, 3), date(2026, 2, 20)), (None, END)):
        start = start or END - timedelta(days=PERIOD_DAYS)
        report = api.get(f"/api/v1/roi?from={start}&to={end}&group_by={group}").get_json()
        rows = [Decimal(r["emv"]) for r in report["rows"]]
        assert Decimal(report["totals"]["emv"]) > 0
        assert sum(rows) == Decimal(report["totals"]["emv"]), (group, start)
