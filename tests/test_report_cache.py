"""Reports are kept between requests, and never outlive the figures they were made from:
whatever changes a figure (an order, a cost, a post, a creator, a campaign, a setting, a
write from outside the app), the next read shows it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from factories import OTHER_SHOP, SHOP
from factories.admin import session_token
from factories.registry import make_creator, shop_id_of
from factories.shopify import order_payload
from factories.webhooks import store_and_process
from models import Campaign, FigureVersion, Rollup, RollupMonth, Shop
from plugin import report_cache

SEPT = "from=2026-09-01&to=2026-09-30"
T0 = datetime(2026, 9, 10, 15, 0, tzinfo=UTC)


def report(api, query: str = SEPT) -> dict:
    response = api.get(f"/api/v1/roi?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def row_of(body: dict, key: object) -> dict:
    return next(r for r in body["rows"] if r["key"] == key)


@pytest.fixture
def anna(api, runtime):
    shop_id = shop_id_of(runtime, SHOP)
    creator = make_creator(runtime, shop_id, "anna.lee", codes=("ANNA15",), name="Anna Lee")
    assert (
        store_and_process(
            runtime,
            SHOP,
            "orders/create",
            order_payload(placed_at=T0, codes=("ANNA15",), net="100.00", customer_id=1, name="#2001"),
        )
        == "processed"
    )
    return creator


def test_a_repeated_read_is_served_from_memory_and_says_the_same(api, app, anna) -> None:
    cache = app.extensions["creator_roi_reports"]
    report(api)  # the first read fits the creators' CLV (inline without Redis), a change of figures
    first = report(api)
    misses = cache.misses
    assert report(api) == first
    assert cache.misses == misses and cache.hits >= 1
    assert row_of(first, anna)["revenue"] == "100.00"


def test_every_change_to_the_figures_shows_on_the_next_read(api, app, runtime, anna) -> None:
    shop_id = shop_id_of(runtime, SHOP)
    assert row_of(report(api), anna)["revenue"] == "100.00"

    # An order drained by the worker.
    assert (
        store_and_process(
            runtime,
            SHOP,
            "orders/create",
            order_payload(placed_at=T0, codes=("ANNA15",), net="25.00", customer_id=2, name="#2002"),
        )
        == "processed"
    )
    assert row_of(report(api), anna)["revenue"] == "125.00"

    # A cost entered in the admin, then corrected, then deleted.
    created = api.post(
        "/api/v1/costs", json={"influencer_id": anna, "category": "fee", "amount": "50.00", "incurred_on": "2026-09-02"}
    )
    assert created.status_code == 201, created.get_json()
    assert row_of(report(api), anna)["cost"] == "50.00"
    cost_id = created.get_json()["id"]
    assert api.patch(f"/api/v1/costs/{cost_id}", json={"amount": "80.00"}).status_code == 200
    assert row_of(report(api), anna)["cost"] == "80.00"
    assert api.delete(f"/api/v1/costs/{cost_id}").status_code in (200, 204)
    assert row_of(report(api), anna)["cost"] == "0.00"

    # A post's metrics.
    assert (
        api.post(
            "/api/v1/posts",
            json={
                "influencer_id": anna,
                "platform": "instagram",
                "content_type": "reel",
                "posted_at": "2026-09-05T12:00:00Z",
                "followers": 1000,
                "impressions": 5000,
                "reach": 4000,
                "likes": 90,
                "comments": 5,
                "shares": 3,
                "saves": 2,
            },
        ).status_code
        == 201
    )
    assert row_of(report(api), anna)["impressions"] == 5000

    # The creator renamed, given a commission.
    assert (
        api.patch(f"/api/v1/influencers/{anna}", json={"name": "Anna L.", "commission_rate": "0.10"}).status_code == 200
    )
    row = row_of(report(api), anna)
    assert row["label"] == "Anna L." and row["cost"] == "12.50"

    # A campaign renamed (grouped by campaign).
    assert api.patch(f"/api/v1/influencers/{anna}", json={"campaign": "Spring"}).status_code == 200
    campaign = api.get(f"/api/v1/influencers/{anna}").get_json()["campaign_id"]
    assert row_of(report(api, SEPT + "&group_by=campaign"), campaign)["label"] == "Spring"
    assert api.patch(f"/api/v1/campaigns/{campaign}", json={"name": "Spring sale"}).status_code == 200
    assert row_of(report(api, SEPT + "&group_by=campaign"), campaign)["label"] == "Spring sale"

    # A setting the figures depend on (EMV's CPM).
    before = Decimal(row_of(report(api), anna)["emv"])
    assert api.patch("/api/v1/shop/settings", json={"emv_rates": {"cpm": "100.00"}}).status_code == 200
    assert Decimal(row_of(report(api), anna)["emv"]) > before

    # A write from outside the app (a console, a script): the database moves the version itself.
    with runtime.db.session() as s:
        for model in (Rollup, RollupMonth):  # a day row and its month row, as the engine keeps them
            s.execute(
                update(model)
                .where(model.shop_id == shop_id, model.influencer_id == anna, model.kind == "day")
                .values(revenue=model.revenue + 1)
            )
    assert row_of(report(api), anna)["revenue"] == "126.00"


def test_the_dashboard_page_shows_a_change_at_once(client, api, app, anna) -> None:
    def page() -> str:
        response = client.get(
            f"/app?from=2026-09-01&to=2026-09-30&shop={SHOP}&host=aG9zdA&id_token={session_token(SHOP)}"
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "Anna Lee" in page()
    page()  # without Redis the first view fitted the CLV inline: a change of figures
    cache = app.extensions["creator_roi_reports"]
    misses = cache.misses
    assert "Anna Lee" in page()  # the table and the chart's series are served from memory
    assert cache.misses == misses
    assert api.patch(f"/api/v1/influencers/{anna}", json={"name": "Anna Renamed"}).status_code == 200
    html = page()
    assert "Anna Renamed" in html and "Anna Lee" not in html


def test_figures_written_in_the_reading_transaction_are_not_kept(app, runtime, anna) -> None:
    """A transaction that wrote reads its own figures, which are not cached: rolled back, they
    never reach anyone."""
    shop_id = shop_id_of(runtime, SHOP)
    with app.app_context():
        with runtime.db.session() as s:
            shop = s.get(Shop, shop_id)
            before = report_cache.roi_report(s, shop, date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))
        s = runtime.db.sessionmaker()
        try:
            for model in (Rollup, RollupMonth):
                s.execute(
                    update(model)
                    .where(model.shop_id == shop_id, model.kind == "day")
                    .values(revenue=model.revenue + 500)
                )
            shop = s.get(Shop, shop_id)
            inside = report_cache.roi_report(s, shop, date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))
            assert inside["totals"]["revenue"] == Decimal("600.00")
            s.rollback()
        finally:
            s.close()
        with runtime.db.session() as s:
            shop = s.get(Shop, shop_id)
            after = report_cache.roi_report(s, shop, date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))
    assert after["totals"]["revenue"] == before["totals"]["revenue"] == Decimal("100.00")


def versions(runtime) -> dict[int, int]:
    with runtime.db.session() as s:
        return dict(s.execute(select(FigureVersion.shop_id, FigureVersion.version)).all())


def test_the_version_moves_once_per_transaction_per_shop_and_goes_with_the_shop(runtime, api, other_api) -> None:
    shop_id, other_id = shop_id_of(runtime, SHOP), shop_id_of(runtime, OTHER_SHOP)
    start = versions(runtime)
    with runtime.db.session() as s:
        s.add_all([Campaign(shop_id=shop_id, name=f"C{n}") for n in range(3)])
    moved = versions(runtime)
    assert moved[shop_id] > start.get(shop_id, 0)
    assert moved.get(other_id) == start.get(other_id)  # another shop's figures are untouched
    with runtime.db.session() as s:
        s.execute(update(Campaign).where(Campaign.shop_id == shop_id).values(name=Campaign.name + "x"))
    again = versions(runtime)
    assert again[shop_id] > moved[shop_id]
    with runtime.db.session() as s:
        s.delete(s.get(Shop, shop_id))
    assert shop_id not in versions(runtime)
