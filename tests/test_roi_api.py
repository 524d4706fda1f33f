"""GET /api/v1/roi, /api/v1/roi.csv and the order attribution endpoints, as a merchant's
admin (and a script) calls them; figures worked out by hand from the seeded history."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from factories import SHOP
from factories.registry import make_click, make_creator, shop_id_of, store_activity
from factories.shopify import order_payload, refund_payload
from factories.store import rollup_cells
from factories.webhooks import store_and_process
from models import Campaign, Cost, Post, Shop
from plugin import reports

T0 = datetime(2026, 9, 10, 15, 0, tzinfo=UTC)
SEPT = "from=2026-09-01&to=2026-09-30"


@pytest.fixture
def story(api, runtime):  # type: ignore[no-untyped-def]
    """Anna (Instagram, Spring campaign) sells by code; Ben (TikTok, no campaign) by link."""
    shop_id = shop_id_of(runtime, SHOP)
    with runtime.db.session() as s:
        spring = Campaign(shop_id=shop_id, name="Spring")
        s.add(spring)
        s.flush()
        spring_id = spring.id
    anna = make_creator(runtime, shop_id, "anna.lee", codes=("ANNA15",), name="Anna Lee", campaign_id=spring_id)
    ben = make_creator(runtime, shop_id, "ben", slug="ben-link", name="Ben Ortiz", platform="tiktok")
    for n in range(4):
        make_click(runtime, shop_id, "ben-link", f"BEN{n}", T0 - timedelta(hours=n + 1))
    orders = {
        "a1": order_payload(placed_at=T0, codes=("ANNA15",), net="100.00", customer_id=1, name="#2001"),
        "a2": order_payload(placed_at=T0 + timedelta(days=5), net="40.00", customer_id=1, name="#2002"),
        "b1": order_payload(
            placed_at=T0, landing_site="/?ref=ben-link&crid=BEN0", net="30.00", customer_id=2, name="#2003"
        ),
        "none": order_payload(placed_at=T0, codes=("WELCOME10",), net="55.00", customer_id=3, name="#2004"),
        "august": order_payload(
            placed_at=datetime(2026, 8, 20, 15, tzinfo=UTC),
            codes=("ANNA15",),
            net="999.00",
            customer_id=4,
            name="#1999",
        ),
    }
    for body in orders.values():
        assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
    store_activity(
        runtime,
        shop_id,
        Cost(
            shop_id=shop_id, influencer_id=anna, category="fee", amount=Decimal("50.00"), incurred_on=date(2026, 9, 2)
        ),
        Cost(
            shop_id=shop_id,
            influencer_id=ben,
            category="product",
            amount=Decimal("60.00"),
            incurred_on=date(2026, 9, 3),
        ),
        Cost(
            shop_id=shop_id,
            influencer_id=None,
            category="tools",
            amount=Decimal("10.00"),
            incurred_on=date(2026, 9, 3),
            campaign_id=spring_id,
        ),
        Post(
            shop_id=shop_id,
            influencer_id=anna,
            platform="instagram",
            content_type="reel",
            posted_at=T0 - timedelta(days=2),
            followers=10000,
            impressions=20000,
            reach=15000,
            likes=250,
            comments=30,
            shares=10,
            saves=10,
        ),
        Post(
            shop_id=shop_id,
            influencer_id=anna,
            platform="youtube",
            content_type="video",
            posted_at=T0 - timedelta(days=1),
            followers=5000,
            impressions=10000,
            reach=8000,
            likes=80,
            comments=10,
            shares=5,
            saves=5,
        ),
    )
    return {"shop_id": shop_id, "anna": anna, "ben": ben, "spring": spring_id, "orders": orders}


def test_an_empty_shop_reports_zeros_and_null_ratios(api) -> None:
    response = api.get("/api/v1/roi")
    assert response.status_code == 200
    body = response.get_json()
    assert body["currency"] == "USD" and body["group_by"] == "influencer" and body["rows"] == []
    assert date.fromisoformat(body["to"]) - date.fromisoformat(body["from"]) == timedelta(days=29)
    totals = body["totals"]
    assert (totals["cost"], totals["revenue"], totals["orders"]) == ("0.00", "0.00", 0)
    for ratio in ("roi", "roas", "ctr", "conversion_rate", "repeat_purchase_rate", "emv_ratio"):
        assert totals[ratio] is None
    assert totals["cac"] is None and totals["clv_historical"] is None


def test_per_creator_figures(api, story) -> None:
    body = api.get(f"/api/v1/roi?{SEPT}").get_json()
    assert (body["from"], body["to"]) == ("2026-09-01", "2026-09-30")
    rows = {row["key"]: row for row in body["rows"]}
    anna, ben = rows[story["anna"]], rows[story["ben"]]
    assert anna["label"] == "Anna Lee"
    assert (anna["orders"], anna["revenue"], anna["repeat_orders"], anna["repeat_revenue"]) == (1, "100.00", 1, "40.00")
    assert (anna["cost"], anna["roas"], anna["roi"], anna["roi_with_repeat"]) == ("50.00", 2.0, 1.0, 1.8)
    assert (anna["repeat_customers"], anna["repeat_purchase_rate"], anna["clv_cohort"]) == (1, 1.0, "140.00")
    assert (anna["impressions"], anna["engagements"], anna["engagement_rate"]) == (30000, 400, round(400 / 15000, 4))
    assert (ben["orders"], ben["revenue"], ben["clicks"], ben["conversion_rate"]) == (1, "30.00", 4, 0.25)
    assert (ben["cost"], ben["roi"], ben["cac"]) == ("60.00", -0.5, "60.00")
    # Shop-wide costs have no creator; the order with someone else's code counts nowhere.
    assert rows[None]["cost"] == "10.00" and rows[None]["label"] == "Shop-wide (no creator)"
    totals = body["totals"]
    assert (totals["orders"], totals["revenue"], totals["repeat_revenue"], totals["cost"]) == (
        2,
        "130.00",
        "40.00",
        "120.00",
    )
    assert totals["roi_with_repeat"] == round((170 - 120) / 120, 4)
    # EMV at the default rates: 30,000 impressions / 1000 × 5.00 + 330 likes × 0.10 + 40 comments
    # × 0.50 + 15 shares × 1.00 + 15 saves × 0.75 = 229.25; Ben's 4 clicks × 0.50 add 2.00.
    assert anna["emv"] == "229.25" and totals["emv"] == "231.25"


def test_clv_to_date_of_a_range_follows_the_customers_it_acquired(api, runtime, story) -> None:
    """Anna's customer of Sept 10 ($100) buys again on Sept 15 ($40), when Anna acquires
    another customer ($20). CLV to date of a range is what the range's own customers spent,
    repeats placed later included; repeat revenue stays what was placed in the range."""
    new = order_payload(placed_at=T0 + timedelta(days=5), codes=("ANNA15",), net="20.00", customer_id=5)
    assert store_and_process(runtime, SHOP, "orders/create", new) == "processed"

    def anna_on(first: str, last: str) -> dict:
        rows = api.get(f"/api/v1/roi?from={first}&to={last}").get_json()["rows"]
        return next(r for r in rows if r["key"] == story["anna"])

    # Sept 15: one new customer ($20); the $40 repeat is an earlier customer's, not in her CLV.
    repeat_day = anna_on("2026-09-15", "2026-09-15")
    assert (repeat_day["new_customers"], repeat_day["revenue"], repeat_day["repeat_revenue"]) == (1, "20.00", "40.00")
    assert repeat_day["clv_cohort"] == "20.00"
    # The contract's clv_historical stays (revenue + repeat_revenue) ÷ new_customers of the row.
    assert repeat_day["clv_historical"] == "60.00"
    # Sept 10: the customer acquired that day, with the repeat placed five days later.
    acquiring_day = anna_on("2026-09-10", "2026-09-10")
    assert (acquiring_day["new_customers"], acquiring_day["repeat_revenue"]) == (1, "0.00")
    assert (acquiring_day["repeat_customers"], acquiring_day["clv_cohort"]) == (1, "140.00")
    # September holds both customers and the repeat: ($100 + $20 + $40) ÷ 2.
    assert anna_on("2026-09-01", "2026-09-30")["clv_cohort"] == "80.00"
    # All time (August's $999 customer too) agrees with the creator page's CLV to date.
    all_time = anna_on("2026-08-01", "2026-09-30")
    with runtime.db.session() as s:
        page = reports.creator_clv(s, s.get(Shop, story["shop_id"]), story["anna"])
    assert all_time["clv_cohort"] == all_time["clv_historical"] == str(page["historical"]) == "386.33"


def test_group_by_platform_and_campaign(api, story) -> None:
    by_platform = {r["key"]: r for r in api.get(f"/api/v1/roi?{SEPT}&group_by=platform").get_json()["rows"]}
    # Sales follow the creator's platform; a post counts where it was posted.
    assert by_platform["instagram"]["revenue"] == "100.00" and by_platform["instagram"]["impressions"] == 20000
    assert by_platform["youtube"]["revenue"] == "0.00" and by_platform["youtube"]["impressions"] == 10000
    assert by_platform["tiktok"]["revenue"] == "30.00" and by_platform["instagram"]["label"] == "Instagram"
    by_campaign = {r["key"]: r for r in api.get(f"/api/v1/roi?{SEPT}&group_by=campaign").get_json()["rows"]}
    spring = by_campaign[story["spring"]]
    assert (spring["label"], spring["revenue"], spring["cost"]) == ("Spring", "100.00", "60.00")
    assert (by_campaign[None]["label"], by_campaign[None]["cost"]) == ("No campaign", "60.00")


def test_group_by_content_type_allocates_sales_by_engagement_and_adds_up(api, story) -> None:
    body = api.get(f"/api/v1/roi?{SEPT}&group_by=content_type").get_json()
    rows = {r["key"]: r for r in body["rows"]}
    # Anna's posts: reel 300 engagements, video 100: her 100.00 + 40.00 and 50.00 cost split 3:1.
    assert (rows["reel"]["revenue"], rows["reel"]["repeat_revenue"], rows["reel"]["cost"]) == (
        "75.00",
        "30.00",
        "37.50",
    )
    assert (rows["video"]["revenue"], rows["video"]["cost"]) == ("25.00", "12.50")
    assert rows["reel"]["orders"] + rows["video"]["orders"] == 1
    # Ben posted nothing: his figures and the shop-wide cost stay unallocated.
    assert (rows[None]["revenue"], rows[None]["cost"], rows[None]["clicks"]) == ("30.00", "70.00", 4)
    for name in ("revenue", "repeat_revenue", "cost"):
        assert sum(Decimal(r[name]) for r in body["rows"]) == Decimal(body["totals"][name])
    for name in ("orders", "clicks", "impressions", "new_customers"):
        assert sum(r[name] for r in body["rows"]) == body["totals"][name]


def test_filters_and_date_range(api, story) -> None:
    only_spring = api.get(f"/api/v1/roi?{SEPT}&campaign_id={story['spring']}").get_json()
    assert {r["key"] for r in only_spring["rows"]} == {story["anna"], None}
    assert only_spring["totals"]["cost"] == "60.00"
    tiktok = api.get(f"/api/v1/roi?{SEPT}&platform=tiktok").get_json()
    assert [r["key"] for r in tiktok["rows"]] == [story["ben"]]
    august = api.get("/api/v1/roi?from=2026-08-01&to=2026-08-31").get_json()
    assert august["totals"]["revenue"] == "999.00"
    one_day = api.get("/api/v1/roi?from=2026-09-15&to=2026-09-15").get_json()
    assert (one_day["totals"]["repeat_revenue"], one_day["totals"]["revenue"]) == ("40.00", "0.00")


@pytest.mark.parametrize(
    "query, field",
    [
        ("group_by=creator", "group_by"),
        ("from=2026-09-30&to=2026-09-01", "to"),
        ("from=yesterday", "from"),
        ("from=1969-12-31", "from"),
        ("to=10000-01-01", "to"),
        ("platform=myspace", "platform"),
        ("campaign_id=abc", "campaign_id"),
    ],
)
def test_invalid_queries_answer_422_naming_the_field(api, query, field) -> None:
    response = api.get(f"/api/v1/roi?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_year_no_store_can_have_is_refused_in_words(api) -> None:
    errors = api.get("/api/v1/roi?from=0202-01-01&to=2026-09-30").get_json()["errors"]
    assert errors == {"from": ["Enter a date between 1970-01-01 and 9999-12-31, as YYYY-MM-DD."]}


def test_any_long_range_is_answered_with_the_same_figures(api, story) -> None:
    """ "Since we started working with creators": twenty years and more are one question."""
    today = date.today().isoformat()
    since = api.get(f"/api/v1/roi?from=2005-01-01&to={today}")
    assert since.status_code == 200, since.get_json()
    widest = api.get("/api/v1/roi?from=1970-01-01&to=9999-12-31").get_json()
    september = api.get(f"/api/v1/roi?{SEPT}").get_json()
    august = api.get("/api/v1/roi?from=2026-08-01&to=2026-08-31").get_json()
    expected = Decimal(september["totals"]["revenue"]) + Decimal(august["totals"]["revenue"])
    assert Decimal(widest["totals"]["revenue"]) >= expected > 0
    assert widest["totals"]["revenue"] == since.get_json()["totals"]["revenue"] or date.today() < T0.date()
    assert widest["from"] == "1970-01-01" and widest["to"] == "9999-12-31"
    csv_export = api.get(f"/api/v1/roi.csv?from=2005-01-01&to={today}")
    assert csv_export.status_code == 200


def test_without_a_session_token_401(client) -> None:
    response = client.get("/api/v1/roi")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_another_shop_sees_none_of_it(story, other_api) -> None:
    body = other_api.get(f"/api/v1/roi?{SEPT}").get_json()
    assert body["rows"] == [] and body["totals"]["revenue"] == "0.00"


def test_csv_export(api, runtime, story) -> None:
    make_creator(runtime, story["shop_id"], "evil", name='=HYPERLINK("http://x")', codes=("EVIL",))
    store_and_process(runtime, SHOP, "orders/create", order_payload(placed_at=T0, codes=("EVIL",), net="1.00"))
    response = api.get(f"/api/v1/roi.csv?{SEPT}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, rows, total = table[0], table[1:-1], table[-1]
    assert header[:4] == ["influencer", "label", "cost", "orders"]
    by_label = {row[1]: dict(zip(header, row)) for row in rows}
    assert by_label["Anna Lee"]["revenue"] == "100.00" and by_label["Anna Lee"]["roi"] == "1.0"
    assert by_label['\'=HYPERLINK("http://x")']["revenue"] == "1.00"
    assert (by_label["Shop-wide (no creator)"]["roas"], by_label["Shop-wide (no creator)"]["cac"]) == ("0.0", "")
    assert total[:2] == ["total", "Total"] and dict(zip(header, total))["revenue"] == "131.00"


def test_csv_export_says_what_it_holds(api, story) -> None:
    """The API's CSV has the JSON's field names and values, so a script reads the same figures
    from either (the overview's own export marks fractions for people: test_dashboard); a
    missing value is an empty cell, and the file name carries the grouping, range and filter."""
    response = api.get(f"/api/v1/roi.csv?{SEPT}")
    name = "creator-roi-influencer-2026-09-01_2026-09-30.csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = table[0]
    body = api.get(f"/api/v1/roi?{SEPT}").get_json()
    assert header[2:] == [name for name in body["totals"] if name in header[2:]]
    assert {"roi", "roi_with_repeat", "ctr", "conversion_rate", "followers", "clv_cohort"} <= set(header)
    rows = {row[1]: dict(zip(header, row)) for row in table[1:]}
    json_anna = {r["key"]: r for r in body["rows"]}[story["anna"]]
    anna = rows["Anna Lee"]
    assert (anna["followers"], anna["engagement_rate"]) == (
        str(json_anna["followers"]),
        str(json_anna["engagement_rate"]),
    )
    assert anna["revenue"] == json_anna["revenue"] and anna["roi"] == str(json_anna["roi"])
    shop_wide = rows["Shop-wide (no creator)"]  # no clicks, no customers: no ratio, an empty cell
    assert (shop_wide["conversion_rate"], shop_wide["cac"]) == ("", "")
    assert not any(cell == "—" for row in table for cell in row)

    filtered = api.get(f"/api/v1/roi.csv?{SEPT}&group_by=platform&platform=tiktok")
    assert filtered.headers["Content-Disposition"] == (
        'attachment; filename="creator-roi-platform-2026-09-01_2026-09-30-tiktok.csv"'
    )
    by_campaign = api.get(f"/api/v1/roi.csv?{SEPT}&group_by=campaign&campaign_id={story['spring']}")
    assert by_campaign.headers["Content-Disposition"] == (
        'attachment; filename="creator-roi-campaign-2026-09-01_2026-09-30-spring.csv"'
    )


def test_order_attribution_shows_the_evidence(api, runtime, story) -> None:
    listed = api.get(f"/api/v1/orders?shopify_id={story['orders']['a2']['id']}").get_json()["orders"]
    assert len(listed) == 1 and listed[0]["name"] == "#2002"
    body = api.get(f"/api/v1/orders/{listed[0]['order_id']}/attribution").get_json()
    assert (body["kind"], body["rule"], body["counted"], body["net"]) == ("repeat", "repeat", True, "40.00")
    assert body["influencer"] == {"id": story["anna"], "name": "Anna Lee", "handle": "anna.lee"}
    assert body["summary"] == "repeat of #2001"
    assert body["evidence"][0]["rule"] == "repeat"
    first = api.get(f"/api/v1/orders?shopify_id={story['orders']['a1']['id']}").get_json()["orders"][0]
    assert first["summary"] == "code ANNA15"
    stray = api.get(f"/api/v1/orders?shopify_id={story['orders']['none']['id']}").get_json()["orders"][0]
    body = api.get(f"/api/v1/orders/{stray['order_id']}/attribution").get_json()
    assert (body["influencer"], body["counted"]) == (None, False)
    assert body["evidence"][0]["reason"] == "code does not belong to a creator"
    assert body["summary"] == "not attributed: code does not belong to a creator"


def test_order_attribution_of_another_shop_is_404(story, api, other_api) -> None:
    listed = api.get("/api/v1/orders?limit=1").get_json()["orders"]
    assert other_api.get(f"/api/v1/orders/{listed[0]['order_id']}/attribution").status_code == 404
    assert api.get("/api/v1/orders/999999/attribution").status_code == 404
    assert other_api.get(f"/api/v1/orders?shopify_id={story['orders']['a1']['id']}").get_json() == {"orders": []}


# --- the reads the dashboard uses ---------------------------------------------------------


def test_dashboard_reads(app, runtime, story) -> None:
    with app.app_context(), runtime.db.session() as s:
        shop = s.get(Shop, story["shop_id"])
        series = reports.money_series(s, shop, date_from=date(2026, 9, 9), date_to=date(2026, 9, 16))
        assert [d["day"] for d in series] == [date(2026, 9, 9) + timedelta(days=n) for n in range(8)]
        by_day = {d["day"]: d for d in series}
        assert (by_day[date(2026, 9, 10)]["revenue"], by_day[date(2026, 9, 10)]["orders"]) == (Decimal("130.00"), 2)
        assert by_day[date(2026, 9, 15)]["repeat_revenue"] == Decimal("40.00")
        orders = reports.creator_orders(s, shop, story["anna"])
        assert [(o["name"], o["summary"]) for o in orders] == [
            ("#2002", "repeat of #2001"),
            ("#2001", "code ANNA15"),
            ("#1999", "code ANNA15"),
        ]
        ben_orders = reports.creator_orders(s, shop, story["ben"])
        assert ben_orders[0]["summary"] == "click 1 hour before"
        clv = reports.creator_clv(s, shop, story["anna"])
        # All time: 100 + 40 + 999 over two customers. Two customers are too few to fit a model.
        assert clv == {
            "historical": Decimal("569.50"),
            "predicted": None,
            "horizon_months": 12,
            "customers": 2,
            "fitted_at": None,
        }
        assert reports.default_range(shop, today=date(2026, 10, 1)) == (date(2026, 8, 20), date(2026, 10, 1))


def test_refund_after_the_report_corrects_it(api, runtime, story) -> None:
    store_and_process(runtime, SHOP, "refunds/create", refund_payload(story["orders"]["b1"]["id"], "10.00"))
    rows = {r["key"]: r for r in api.get(f"/api/v1/roi?{SEPT}").get_json()["rows"]}
    assert rows[story["ben"]]["revenue"] == "20.00"


def test_the_fast_encoding_is_the_documented_schema(app, runtime, story) -> None:
    from plugin.schemas.roi import RoiReportSchema, encode_report

    with app.app_context(), runtime.db.session() as s:
        shop = s.get(Shop, story["shop_id"])
        for group in reports.GROUPS:
            report = reports.roi_report(s, shop, date_from=date(2026, 8, 1), date_to=date(2026, 9, 30), group_by=group)
            documented = RoiReportSchema().dump({**report, "date_from": report["from"], "date_to": report["to"]})
            assert encode_report(report) == documented


@pytest.mark.parametrize(
    "first, last",
    [
        ("2026-08-01", "2026-09-30"),
        ("2026-08-15", "2026-09-12"),
        ("2026-08-31", "2026-09-01"),
        ("2026-09-10", "2026-09-10"),
        ("2026-07-20", "2026-12-31"),
        ("2026-09-01", "2026-09-14"),
        # Ends whose months hold nothing else (read from the month rows) and a span across a month end.
        ("2026-08-02", "2026-09-20"),
        ("2026-08-20", "2026-10-15"),
        ("2026-08-25", "2026-09-03"),
    ],
)
def test_whole_months_and_the_days_around_them_add_up_to_the_days(api, runtime, story, first, last) -> None:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days = [v for (kind, _, day, *_), v in rollup_cells(runtime, story["shop_id"]).items() if start <= day <= end]
    totals = api.get(f"/api/v1/roi?from={first}&to={last}").get_json()["totals"]
    assert Decimal(totals["revenue"]) == sum((v["revenue"] for v in days), Decimal("0.00"))
    assert Decimal(totals["cost"]) == sum((v["cost"] for v in days), Decimal("0.00"))
    assert totals["clicks"] == sum(v["clicks"] for v in days)
    assert totals["impressions"] == sum(v["impressions"] for v in days)
    assert totals["repeat_orders"] == sum(v["repeat_orders"] for v in days)
