"""The attribution engine as the worker applies it: stored verdicts, evidence and rollups,
whatever order deliveries arrive in (orders go through the inbox's processing)."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from factories import OTHER_SHOP, SHOP
from factories.admin import Api
from factories.registry import make_click, make_creator, shop_id_of
from factories.shopify import fixture_json, order_payload, refund_payload
from factories.store import attribution_of, day_totals, month_cells, rollup_cells
from factories.webhooks import store_and_process
from models import Click, Cost, Customer, DiscountCode, Order, Post, Refund, Rollup, RollupMonth, ShopSettings
from plugin import reports
from worker import engine

T0 = datetime(2026, 9, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def shop_id(api, runtime) -> int:  # type: ignore[no-untyped-def]
    return shop_id_of(runtime, SHOP)


@pytest.fixture
def anna(runtime, shop_id) -> int:  # type: ignore[no-untyped-def]
    """The fixtures' creator: code ANNA15, link anna-lee, handle anna.lee."""
    return make_creator(runtime, shop_id, "anna.lee", codes=("ANNA15",), slug="anna-lee", name="Anna Lee")


def fixture_click(runtime, shop_id) -> None:  # type: ignore[no-untyped-def]
    # #1002 landed at 19:47 EDT on Oct 15 (23:47 UTC) through click 01JD3K8Q2W a few minutes earlier.
    make_click(runtime, shop_id, "anna-lee", "01JD3K8Q2W", datetime(2026, 10, 15, 23, 40, tzinfo=UTC))


FIXTURE_STORY = [
    ("orders/create", "orders_create_code.json"),
    ("refunds/create", "refunds_create_partial.json"),
    ("orders/updated", "orders_updated_cancelled.json"),
    ("orders/create", "orders_create_link.json"),
    ("orders/create", "orders_create_survey.json"),
]


# --- the fixtures' worked figures ------------------------------------------------------


def test_1001_by_code_then_partial_refund_then_cancellation(runtime, shop_id, anna) -> None:
    assert store_and_process(runtime, SHOP, "orders/create", fixture_json("orders_create_code.json")) == "processed"
    a = attribution_of(runtime, shop_id, 6012345678901)
    assert (a.influencer_id, a.kind, a.rule, a.net) == (anna, "first", "code", Decimal("95.91"))
    assert a.evidence[0]["code"] == "ANNA15" and a.evidence[0]["decisive"]
    # Placed 10:32 EDT on Oct 14: the shop-local day.
    assert rollup_cells(runtime, shop_id)[("day", anna, date(2026, 10, 14), None, None, None)]["revenue"] == Decimal(
        "95.91"
    )

    store_and_process(runtime, SHOP, "refunds/create", fixture_json("refunds_create_partial.json"))
    assert attribution_of(runtime, shop_id, 6012345678901).net == Decimal("59.02")
    assert day_totals(runtime, shop_id, anna)["revenue"] == Decimal("59.02")

    # The update repeats the partial refund next to the cancellation refund: each counts once.
    store_and_process(runtime, SHOP, "orders/updated", fixture_json("orders_updated_cancelled.json"))
    a = attribution_of(runtime, shop_id, 6012345678901)
    assert (a.influencer_id, a.kind, a.net) == (None, None, Decimal("0.00"))
    assert a.evidence[0]["code"] == "ANNA15"
    assert "not a conversion" in a.evidence[-1]["reason"]
    assert day_totals(runtime, shop_id, anna).get("orders", 0) == 0
    assert rollup_cells(runtime, shop_id) == {}


def test_link_then_survey_is_a_repeat_purchase(runtime, shop_id, anna) -> None:
    fixture_click(runtime, shop_id)
    store_and_process(runtime, SHOP, "orders/create", fixture_json("orders_create_link.json"))
    store_and_process(runtime, SHOP, "orders/create", fixture_json("orders_create_survey.json"))
    first = attribution_of(runtime, shop_id, 6012349876543)
    repeat = attribution_of(runtime, shop_id, 6087654321098)
    assert (first.kind, first.rule, first.net) == ("first", "click", Decimal("70.00"))
    assert (repeat.kind, repeat.rule, repeat.influencer_id, repeat.net) == ("repeat", "repeat", anna, Decimal("96.00"))
    # The survey still names her: shown, though the binding decided.
    assert any(p["rule"] == "survey" and p["matched"] for p in repeat.evidence)
    cells = rollup_cells(runtime, shop_id)
    acquired = cells[("day", anna, date(2026, 10, 15), None, None, None)]
    assert (acquired["orders"], acquired["revenue"], acquired["clicks"], acquired["repeat_customers"]) == (
        1,
        Decimal("70.00"),
        1,
        1,
    )
    # The repeat is placed in November but its revenue also follows the October customer.
    assert (acquired["repeat_revenue"], acquired["cohort_repeat_revenue"]) == (0, Decimal("96.00"))
    later = cells[("day", anna, date(2026, 11, 20), None, None, None)]
    assert (later["repeat_orders"], later["repeat_revenue"], later["orders"]) == (1, Decimal("96.00"), 0)
    assert later["cohort_repeat_revenue"] == 0


def test_the_whole_story_gives_the_same_figures_in_any_delivery_order(runtime, shop_id, anna) -> None:
    seen = []
    # Five deliveries, every order of arrival would be 120 runs; the reversed and a few shuffles
    # cover "refund before its order", "update before create" and "repeat before the first".
    orders = [
        FIXTURE_STORY,
        FIXTURE_STORY[::-1],
        [FIXTURE_STORY[i] for i in (4, 1, 2, 0, 3)],
        [FIXTURE_STORY[i] for i in (2, 4, 0, 3, 1)],
    ]
    for run, story in enumerate(orders):
        if run:
            with runtime.db.session() as s:  # start over: a fresh shop history
                for model in (Order, Refund, Customer, Click, Rollup):
                    s.execute(model.__table__.delete().where(model.shop_id == shop_id))
        fixture_click(runtime, shop_id)
        for topic, name in story:
            assert store_and_process(runtime, SHOP, topic, fixture_json(name)) == "processed"
        verdicts = {
            sid: (a.influencer_id, a.kind, a.rule, a.net)
            for sid in (6012345678901, 6012349876543, 6087654321098)
            for a in [attribution_of(runtime, shop_id, sid)]
        }
        seen.append((verdicts, rollup_cells(runtime, shop_id)))
    assert seen[0][0] == {
        6012345678901: (None, None, None, Decimal("0.00")),
        6012349876543: (anna, "first", "click", Decimal("70.00")),
        6087654321098: (anna, "repeat", "repeat", Decimal("96.00")),
    }
    assert all(s == seen[0] for s in seen[1:])


# --- rules and windows -----------------------------------------------------------------


def test_orders_placed_in_the_same_second_go_by_shopify_order_id_whatever_the_delivery_order(
    runtime, shop_id, anna
) -> None:
    """Shopify's order ids grow with creation; the order the deliveries come in says nothing."""
    verdicts = []
    for customer, delivered in ((801, ("coded", "plain")), (802, ("plain", "coded"))):
        bodies = {
            "plain": order_payload(placed_at=T0, customer_id=customer, order_id=7_100_000_000_000 + customer * 10),
            "coded": order_payload(
                placed_at=T0, customer_id=customer, codes=("ANNA15",), order_id=7_100_000_000_000 + customer * 10 + 5
            ),
        }
        for name in delivered:
            assert store_and_process(runtime, SHOP, "orders/create", bodies[name]) == "processed"
        found = {name: attribution_of(runtime, shop_id, body["id"]) for name, body in bodies.items()}
        verdicts.append({name: (a.influencer_id, a.kind, a.rule) for name, a in found.items()})
    # The plain order has the lower id: it came first, before the code bound the customer.
    assert verdicts[0] == verdicts[1] == {"plain": (None, None, None), "coded": (anna, "first", "code")}


def test_click_window_edges(runtime, shop_id, anna) -> None:
    placed = T0
    make_click(runtime, shop_id, "anna-lee", "EDGE-IN", placed - timedelta(days=30))
    make_click(runtime, shop_id, "anna-lee", "EDGE-OUT", placed - timedelta(days=30, seconds=1))
    make_click(runtime, shop_id, "anna-lee", "AFTER", placed + timedelta(seconds=1))
    results = {}
    for crid in ("EDGE-IN", "EDGE-OUT", "AFTER"):
        body = order_payload(
            placed_at=placed, customer_id=None, landing_site=f"/?ref=anna-lee&crid={crid}&utm_source=instagram"
        )
        store_and_process(runtime, SHOP, "orders/create", body)
        results[crid] = attribution_of(runtime, shop_id, body["id"])
    assert (results["EDGE-IN"].influencer_id, results["EDGE-IN"].rule) == (anna, "click")
    assert results["EDGE-OUT"].influencer_id is None
    assert results["EDGE-OUT"].evidence[0]["reason"] == "click older than the 30-day window"
    assert results["AFTER"].influencer_id is None
    assert results["AFTER"].evidence[0]["reason"] == "click after the order"


def test_forged_unknown_or_foreign_click_ids_are_not_attributed(runtime, client, shop_id, anna) -> None:
    Api(client, OTHER_SHOP).get("/api/v1/shop")
    other = shop_id_of(runtime, OTHER_SHOP)
    make_creator(runtime, other, "otto", slug="otto-link")
    make_click(runtime, other, "otto-link", "OTHERSHOP1", T0 - timedelta(days=1))
    make_click(runtime, shop_id, "anna-lee", "ANNACLICK", T0 - timedelta(days=1))
    cases = {
        "forged": "/?ref=anna-lee&crid=NOSUCHCLICK",
        "foreign": "/?ref=otto-link&crid=OTHERSHOP1",
        "mismatched ref": "/?ref=someone-else&crid=ANNACLICK",
        "bare ref": "/?ref=anna-lee",
    }
    reasons = {}
    for case, landing in cases.items():
        body = order_payload(placed_at=T0, landing_site=landing)
        store_and_process(runtime, SHOP, "orders/create", body)
        a = attribution_of(runtime, shop_id, body["id"])
        assert a.influencer_id is None and a.kind is None, case
        reasons[case] = a.evidence[0]["reason"]
    assert reasons == {
        "forged": "unknown click id",
        "foreign": "unknown click id",
        "mismatched ref": "click belongs to another link than ref",
        "bare ref": "ref without a click id",
    }


def test_code_of_no_creator_is_shown_as_evidence_and_not_attributed(runtime, shop_id, anna) -> None:
    body = order_payload(placed_at=T0, codes=("WELCOME10",), customer_id=501)
    store_and_process(runtime, SHOP, "orders/create", body)
    a = attribution_of(runtime, shop_id, body["id"])
    assert a.influencer_id is None
    assert a.evidence == [
        {
            "rule": "code",
            "matched": False,
            "decisive": False,
            "reason": "code does not belong to a creator",
            "code": "WELCOME10",
        }
    ]


def test_codes_match_in_any_case_and_pos_orders_count(runtime, shop_id, anna) -> None:
    body = order_payload(placed_at=T0, codes=("anna15",), source_name="pos", customer_id=None, net="42.00")
    store_and_process(runtime, SHOP, "orders/create", body)
    a = attribution_of(runtime, shop_id, body["id"])
    assert (a.influencer_id, a.rule, a.net) == (anna, "code", Decimal("42.00"))
    assert day_totals(runtime, shop_id, anna)["revenue"] == Decimal("42.00")


def test_survey_answer_naming_a_handle(runtime, shop_id, anna) -> None:
    body = order_payload(placed_at=T0, survey="saw @Anna.Lee's reel", customer_id=777)
    store_and_process(runtime, SHOP, "orders/create", body)
    a = attribution_of(runtime, shop_id, body["id"])
    assert (a.influencer_id, a.rule) == (anna, "survey")


def test_test_voided_and_unreadable_orders_never_count(runtime, shop_id, anna) -> None:
    test_order = order_payload(placed_at=T0, codes=("ANNA15",), test=True)
    voided = order_payload(placed_at=T0, codes=("ANNA15",), financial_status="voided")
    unreadable = order_payload(placed_at=T0, codes=("ANNA15",))
    del unreadable["subtotal_price_set"], unreadable["subtotal_price"]
    for body in (test_order, voided, unreadable):
        assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
        assert attribution_of(runtime, shop_id, body["id"]).kind is None
    flagged = attribution_of(runtime, shop_id, unreadable["id"])
    assert flagged.evidence[-1]["rule"] == "money" and "flagged" in flagged.evidence[-1]["reason"]
    assert rollup_cells(runtime, shop_id) == {}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"cancelled_at": T0},
        {"financial_status": "voided"},
        {"financial_status": None},
        {"test": True},
        {"net_sales": Decimal("0.00")},
        {"subtotal": None},
        {"flagged": "no subtotal in the order payload"},
        {"flagged": ""},
    ],
)
def test_which_orders_count_is_one_rule_in_python_and_in_sql(runtime, shop_id, changes) -> None:
    with runtime.db.session() as s:
        order = Order(
            **{
                "shop_id": shop_id,
                "shopify_id": 1,
                "placed_at": T0,
                "subtotal": Decimal("70.00"),
                "net_sales": Decimal("70.00"),
                "financial_status": "paid",
                "test": False,
                **changes,
            }
        )
        s.add(order)
        s.flush()
        in_sql = s.scalar(select(Order.id).where(Order.id == order.id, Order.is_countable)) is not None
        assert in_sql is order.is_countable is (changes in ({}, {"financial_status": None}, {"flagged": ""}))


def test_repeat_window_edges_and_rebinding(runtime, shop_id, anna) -> None:
    ben = make_creator(runtime, shop_id, "ben", codes=("BEN10",))
    first = order_payload(placed_at=T0, codes=("ANNA15",), customer_id=42)
    inside = order_payload(placed_at=T0 + timedelta(days=90), customer_id=42)
    outside = order_payload(placed_at=T0 + timedelta(days=90, seconds=1), customer_id=42)
    with_code = order_payload(placed_at=T0 + timedelta(days=95), customer_id=42, codes=("BEN10",))
    for body in (with_code, outside, inside, first):  # newest first: the history decides, not arrival
        store_and_process(runtime, SHOP, "orders/create", body)
    verdicts = [
        (a.influencer_id, a.kind)
        for body in (first, inside, outside, with_code)
        for a in [attribution_of(runtime, shop_id, body["id"])]
    ]
    assert verdicts == [(anna, "first"), (anna, "repeat"), (None, None), (ben, "first")]
    assert attribution_of(runtime, shop_id, inside["id"]).evidence[0]["acquiring_order_id"] is not None


def test_cancelling_the_acquiring_order_releases_the_customer(runtime, shop_id, anna) -> None:
    first = order_payload(placed_at=T0, codes=("ANNA15",), customer_id=43)
    later = order_payload(placed_at=T0 + timedelta(days=10), customer_id=43)
    store_and_process(runtime, SHOP, "orders/create", first)
    store_and_process(runtime, SHOP, "orders/create", later)
    assert attribution_of(runtime, shop_id, later["id"]).kind == "repeat"
    cancelled = {
        **first,
        "cancelled_at": (T0 + timedelta(days=1)).isoformat(),
        "updated_at": (T0 + timedelta(days=11)).isoformat(),
    }
    store_and_process(runtime, SHOP, "orders/cancelled", cancelled)
    assert attribution_of(runtime, shop_id, later["id"]).kind is None
    assert rollup_cells(runtime, shop_id) == {}


def test_a_refund_that_arrives_before_its_order(runtime, shop_id, anna) -> None:
    body = order_payload(placed_at=T0, codes=("ANNA15",), net="80.00")
    assert store_and_process(runtime, SHOP, "refunds/create", refund_payload(body["id"], "30.00")) == "processed"
    store_and_process(runtime, SHOP, "orders/create", body)
    assert attribution_of(runtime, shop_id, body["id"]).net == Decimal("50.00")
    assert day_totals(runtime, shop_id)["revenue"] == Decimal("50.00")


# --- re-attribution ---------------------------------------------------------------------


def test_moving_a_code_to_another_creator_and_reattributing(runtime, shop_id, anna) -> None:
    ben = make_creator(runtime, shop_id, "ben")
    body = order_payload(placed_at=T0, codes=("ANNA15",), net="60.00")
    store_and_process(runtime, SHOP, "orders/create", body)
    assert day_totals(runtime, shop_id, anna)["revenue"] == Decimal("60.00")
    with runtime.db.session() as s:
        s.execute(update(DiscountCode).where(DiscountCode.code == "ANNA15").values(influencer_id=ben))
    with runtime.db.session() as s:
        engine.reattribute_shop(s, shop_id)
    assert attribution_of(runtime, shop_id, body["id"]).influencer_id == ben
    assert day_totals(runtime, shop_id, anna) == {}
    assert day_totals(runtime, shop_id, ben)["revenue"] == Decimal("60.00")


def test_a_settings_change_reattributes_the_shop(api, runtime, run_jobs, shop_id, anna) -> None:
    make_click(runtime, shop_id, "anna-lee", "TENDAYS", T0 - timedelta(days=10))
    body = order_payload(placed_at=T0, landing_site="/?ref=anna-lee&crid=TENDAYS")
    store_and_process(runtime, SHOP, "orders/create", body)
    assert attribution_of(runtime, shop_id, body["id"]).influencer_id == anna
    response = api.patch("/api/v1/shop/settings", json={"attribution_window_days": 7})
    assert response.status_code == 200
    run_jobs()
    a = attribution_of(runtime, shop_id, body["id"])
    assert a.influencer_id is None and a.evidence[0]["reason"] == "click older than the 7-day window"
    assert day_totals(runtime, shop_id).get("orders", 0) == 0


# --- activity, commission, days ----------------------------------------------------------


def test_costs_posts_and_clicks_land_in_their_cells(runtime, shop_id, anna) -> None:
    day = date(2026, 9, 1)
    with runtime.db.session() as s:
        s.add_all(
            [
                Cost(shop_id=shop_id, influencer_id=anna, category="fee", amount=Decimal("300.00"), incurred_on=day),
                Cost(shop_id=shop_id, influencer_id=None, category="tools", amount=Decimal("49.00"), incurred_on=day),
                Post(
                    shop_id=shop_id,
                    influencer_id=anna,
                    platform="tiktok",
                    content_type="video",
                    posted_at=T0,
                    followers=1000,
                    impressions=5000,
                    reach=4000,
                    likes=40,
                    comments=5,
                    shares=3,
                    saves=2,
                ),
            ]
        )
        s.flush()
        engine.activity_changed(s, shop_id, anna, day)
        engine.activity_changed(s, shop_id, None, day)
    make_click(runtime, shop_id, "anna-lee", "C1", T0)
    make_click(runtime, shop_id, "anna-lee", "C2", T0, counted=False)
    make_click(runtime, shop_id, "anna-lee", "C3", T0, bot=True)
    cells = rollup_cells(runtime, shop_id)
    assert cells[("cost", anna, day, None, None, None)]["cost"] == Decimal("300.00")
    assert cells[("cost", None, day, None, None, None)]["cost"] == Decimal("49.00")
    post = cells[("post", anna, day, None, "tiktok", "video")]
    assert (post["posts"], post["impressions"], post["likes"]) == (1, 5000, 40)
    assert cells[("day", anna, day, None, None, None)]["clicks"] == 1
    with runtime.db.session() as s:  # deleting the cost: the cell empties
        s.execute(Cost.__table__.delete().where(Cost.influencer_id == anna))
        engine.activity_changed(s, shop_id, anna, day)
    assert ("cost", anna, day, None, None, None) not in rollup_cells(runtime, shop_id)


def september(app, runtime, shop_id):  # type: ignore[no-untyped-def]
    with app.app_context(), runtime.db.session() as s:
        shop = s.get(ShopSettings, shop_id).shop
        return reports.roi_report(s, shop, date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))


def test_commission_is_a_cost_that_refunds_shrink(app, runtime, shop_id) -> None:
    maya = make_creator(runtime, shop_id, "maya", codes=("MAYA",), commission_rate=Decimal("0.1000"))
    body = order_payload(placed_at=T0, codes=("MAYA",), net="120.00")
    store_and_process(runtime, SHOP, "orders/create", body)
    assert september(app, runtime, shop_id)["totals"]["cost"] == Decimal("12.00")
    store_and_process(runtime, SHOP, "refunds/create", refund_payload(body["id"], "20.00"))
    row = next(r for r in september(app, runtime, shop_id)["rows"] if r["key"] == maya)
    assert (row["revenue"], row["cost"], row["roi"]) == (Decimal("100.00"), Decimal("10.00"), 9.0)


def test_orders_land_on_the_shop_local_day(runtime, shop_id, anna) -> None:
    # 23:30 in New York on Sept 1 is already Sept 2 in UTC.
    late = datetime(2026, 9, 2, 3, 30, tzinfo=UTC)
    store_and_process(runtime, SHOP, "orders/create", order_payload(placed_at=late, codes=("ANNA15",)))
    assert [key[2] for key in rollup_cells(runtime, shop_id)] == [date(2026, 9, 1)]


def test_incremental_rollups_equal_a_rebuild_after_the_story(runtime, shop_id, anna) -> None:
    fixture_click(runtime, shop_id)
    for topic, name in FIXTURE_STORY:
        store_and_process(runtime, SHOP, topic, fixture_json(name))
    incremental = rollup_cells(runtime, shop_id)
    with runtime.db.session() as s:
        engine.reattribute_shop(s, shop_id)
    assert rollup_cells(runtime, shop_id) == incremental


def test_the_migration_books_stored_repeats_on_their_customers_acquisition_day(runtime, shop_id, anna) -> None:
    """A store upgraded with figures already stored gets the cohort repeat revenue the engine
    would have booked: on the day and month of each repeat customer's acquisition."""
    migration = importlib.import_module("migrations.versions.0004_cohort_repeat_revenue")
    for body in (
        order_payload(placed_at=T0, codes=("ANNA15",), net="50.00", customer_id=61),
        order_payload(placed_at=T0 + timedelta(days=32), net="30.00", customer_id=61),
        order_payload(placed_at=T0 + timedelta(days=40), net="12.50", customer_id=61),
        order_payload(placed_at=T0 + timedelta(days=2), codes=("ANNA15",), net="20.00", customer_id=62),
    ):
        store_and_process(runtime, SHOP, "orders/create", body)
    days, months = rollup_cells(runtime, shop_id), month_cells(runtime, shop_id)
    assert days[("day", anna, date(2026, 9, 1), None, None, None)]["cohort_repeat_revenue"] == Decimal("42.50")
    with runtime.db.session() as s:
        for model in (Rollup, RollupMonth):
            s.execute(update(model).values(cohort_repeat_revenue=0))
        migration.backfill(s.connection())
    assert (rollup_cells(runtime, shop_id), month_cells(runtime, shop_id)) == (days, months)


def test_reattribute_command_rebuilds_a_store(runner, runtime, shop_id, anna) -> None:
    ben = make_creator(runtime, shop_id, "ben")
    body = order_payload(placed_at=T0, codes=("ANNA15",), net="25.00")
    store_and_process(runtime, SHOP, "orders/create", body)
    with runtime.db.session() as s:
        s.execute(update(DiscountCode).where(DiscountCode.code == "ANNA15").values(influencer_id=ben))
    result = runner.invoke(args=["reattribute", SHOP])
    assert result.exit_code == 0, result.output
    assert attribution_of(runtime, shop_id, body["id"]).influencer_id == ben
    assert day_totals(runtime, shop_id, ben)["revenue"] == Decimal("25.00")
    assert runner.invoke(args=["reattribute", "nobody.myshopify.com"]).exit_code != 0
