"""History import: past orders through the Admin API, on install and by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from factories import SHOP
from factories.admin import Api
from factories.shopify import ORDER_1001, fixture_json
from factories.store import count, order
from factories.webhooks import post_webhook
from models import Order, Refund


def _ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def _history(fake):
    fake.add_order(
        SHOP,
        id=6200000000001,
        created_at=_ago(10),
        subtotal="100.00",
        discount_codes=["ANNA15"],
        customer_id=8200000000001,
        landing_page="https://lumen-skin.example/?ref=anna-lee&crid=01ABC",
    )
    fake.add_order(
        SHOP,
        id=6200000000002,
        created_at=_ago(20),
        subtotal="80.00",
        refunds=[{"id": 9200000000001, "subtotals": ["20.00", "10.00"]}],
    )
    fake.add_order(SHOP, id=6200000000003, created_at=_ago(90), subtotal="50.00")


def _install(client, run_jobs) -> Api:
    api = Api(client, SHOP)
    assert api.get("/api/v1/shop").status_code == 200
    run_jobs()
    return api


def test_installing_a_shop_imports_the_last_60_days_of_orders(client, fake_shopify, db_session, run_jobs):
    _history(fake_shopify)

    _install(client, run_jobs)

    orders = {o.shopify_id: o for o in db_session.scalars(select(Order))}
    assert set(orders) == {6200000000001, 6200000000002}
    coded = orders[6200000000001]
    assert (coded.net_sales, coded.codes, coded.landing_site) == (
        Decimal("100.00"),
        ["ANNA15"],
        "/?ref=anna-lee&crid=01ABC",
    )
    assert coded.shopify_customer_id == 8200000000001
    assert orders[6200000000002].net_sales == Decimal("50.00")
    assert count(db_session, Refund) == 1


def test_backfill_command_reaches_further_only_with_read_all_orders(client, runner, fake_shopify, db_session, run_jobs):
    _install(client, run_jobs)
    _history(fake_shopify)

    refused = runner.invoke(args=["backfill", SHOP, "--days", "120"])
    assert refused.exit_code != 0
    assert "read_all_orders" in refused.output

    within = runner.invoke(args=["backfill", SHOP, "--days", "15"])
    assert within.exit_code == 0, within.output
    assert "1 orders fetched over 15 days" in within.output
    assert {o.shopify_id for o in db_session.scalars(select(Order))} == {6200000000001}


def test_with_read_all_orders_the_whole_history_comes_in(client, runner, fake_shopify, db_session, run_jobs):
    fake_shopify.scope = "read_orders,read_all_orders,read_customers,write_discounts"
    _install(client, run_jobs)
    _history(fake_shopify)

    result = runner.invoke(args=["backfill", SHOP, "--days", "365"])

    assert result.exit_code == 0, result.output
    assert count(db_session, Order) == 3


def test_backfill_is_idempotent_and_never_overrides_a_newer_webhook(client, runner, fake_shopify, db_session, run_jobs):
    _install(client, run_jobs)
    cancelled = fixture_json("orders_updated_cancelled.json")
    created, updated = _ago(5), _ago(3)
    cancelled.update(created_at=created.isoformat(), updated_at=updated.isoformat())
    post_webhook(client, "orders/updated", cancelled)
    run_jobs()
    # Shopify's copy as the API returned it before the cancellation (older updatedAt).
    fake_shopify.add_order(
        SHOP, id=ORDER_1001, created_at=created, updated_at=_ago(4), subtotal="95.91", discount_codes=["ANNA15"]
    )
    _history(fake_shopify)

    for _ in range(2):
        result = runner.invoke(args=["backfill", SHOP])
        assert result.exit_code == 0, result.output

    kept = order(db_session, ORDER_1001)
    assert (kept.net_sales, kept.financial_status) == (Decimal("0.00"), "refunded")
    assert kept.cancelled_at is not None
    assert count(db_session, Order) == 3
    assert count(db_session, Refund) == 3
    assert order(db_session, 6200000000002).net_sales == Decimal("50.00")
    assert "0 stored or updated" in result.output


def test_backfill_of_an_unknown_shop_or_a_revoked_token_says_so(client, runner, fake_shopify, db_session, run_jobs):
    unknown = runner.invoke(args=["backfill", "nobody.myshopify.com"])
    assert unknown.exit_code != 0 and "not an installed shop" in unknown.output

    _install(client, run_jobs)
    _history(fake_shopify)
    fake_shopify.revoke(SHOP)

    revoked = runner.invoke(args=["backfill", SHOP])

    assert revoked.exit_code != 0
    assert "revoked" in revoked.output
    assert count(db_session, Order) == 0
