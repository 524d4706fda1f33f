"""/api/v1/plans and /api/v1/commissions as a merchant (or an outside script) uses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories import SHOP, SHOP_ZONE, shop_today
from factories.admin import session_token
from factories.registry import make_code, make_influencer
from factories.shopify import fixture_json, order_payload, refund_payload
from factories.webhooks import post_webhook

TODAY = shop_today()


@pytest.fixture
def anna(api):  # type: ignore[no-untyped-def]
    creator = make_influencer(api, name="Anna", handle="anna")
    make_code(api, creator["id"], "ANNA10")
    return creator


def plan(api, **fields):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/plans", json={"starts_on": TODAY.isoformat(), **fields})


def test_a_plan_is_created_read_listed_and_changed(api, anna):
    tiers = [
        {"metric": "net_revenue", "threshold": "1000.00", "percent": "5"},
        {"metric": "new_customers", "threshold": "10", "amount": "50.00"},
    ]
    created = plan(
        api,
        influencer_id=anna["id"],
        flat_fee="300.00",
        commission_percent="12.5",
        repeat_commission_percent="5",
        repeat_months=6,
        tiers=tiers,
        cap="800.00",
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["flat_fee"] == "300.00" and body["flat_fee_period"] == "month"
    assert body["commission_percent"] == "12.5000" and body["tier_mode"] == "marginal"
    assert body["tiers"][0] == {"metric": "net_revenue", "threshold": "1000.00", "percent": "5.0000", "amount": None}
    assert api.get(f"/api/v1/plans/{body['id']}").get_json()["cap"] == "800.00"
    changed = api.patch(f"/api/v1/plans/{body['id']}", json={"tier_mode": "retroactive", "ends_on": None})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["tier_mode"] == "retroactive" and changed.get_json()["tiers"][1]["amount"] == "50.00"
    default = plan(api, influencer_id=None, commission_fixed="3.00")
    assert default.status_code == 201 and default.get_json()["influencer_id"] is None
    listed = api.get(f"/api/v1/plans?influencer_id={anna['id']}").get_json()["plans"]
    assert [p["id"] for p in listed] == [body["id"]]
    assert len(api.get("/api/v1/plans").get_json()["plans"]) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"flat_fee": "-1.00"}, "flat_fee"),
        ({"fee_per_post": "-5"}, "fee_per_post"),
        ({"cap": "-0.01"}, "cap"),
        ({"commission_percent": "100.01"}, "commission_percent"),
        ({"repeat_commission_percent": "-1"}, "repeat_commission_percent"),
        ({"commission_percent": "10", "commission_fixed": "2.00"}, "commission_fixed"),
        ({"repeat_months": -1}, "repeat_months"),
        ({"tier_mode": "sideways"}, "tier_mode"),
        ({"flat_fee_period": "week"}, "flat_fee_period"),
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on"),
        ({"starts_on": None}, "starts_on"),
        (
            {
                "tiers": [
                    {"metric": "net_revenue", "threshold": "500", "percent": "5"},
                    {"metric": "net_revenue", "threshold": "500.00", "amount": "20"},
                ]
            },
            "tiers",
        ),
        ({"tiers": [{"metric": "net_revenue", "threshold": "500", "percent": "5", "amount": "1"}]}, "tiers"),
        ({"tiers": [{"metric": "clicks", "threshold": "5", "amount": "1"}]}, "tiers"),
    ],
)
def test_bad_plans_are_refused_naming_the_field(api, anna, fields, field):
    response = plan(api, influencer_id=anna["id"], **fields)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_two_plans_in_force_on_one_day_for_one_creator_are_refused(api, anna):
    first = plan(
        api, influencer_id=anna["id"], commission_percent="10", ends_on=(TODAY + timedelta(days=30)).isoformat()
    )
    assert first.status_code == 201
    overlapping = plan(
        api, influencer_id=anna["id"], commission_percent="20", starts_on=(TODAY + timedelta(days=30)).isoformat()
    )
    assert overlapping.status_code == 422 and "starts_on" in overlapping.get_json()["errors"]
    after = plan(
        api, influencer_id=anna["id"], commission_percent="20", starts_on=(TODAY + timedelta(days=31)).isoformat()
    )
    assert after.status_code == 201
    # Stretching the first over the second is refused too.
    stretched = api.patch(f"/api/v1/plans/{first.get_json()['id']}", json={"ends_on": None})
    assert stretched.status_code == 422 and "starts_on" in stretched.get_json()["errors"]
    # Two shop defaults overlap the same way.
    assert plan(api, commission_percent="5").status_code == 201
    assert plan(api, commission_percent="6").status_code == 422


def test_a_plan_cannot_start_before_the_creator_exists(api, anna):
    response = plan(api, influencer_id=anna["id"], starts_on=(TODAY - timedelta(days=2)).isoformat())
    assert response.status_code == 422
    assert "starts_on" in response.get_json()["errors"]


def test_another_shops_plans_and_creators_are_out_of_reach(api, other_api, anna):
    mine = plan(api, influencer_id=anna["id"], commission_percent="10").get_json()
    assert other_api.get(f"/api/v1/plans/{mine['id']}").status_code == 404
    assert other_api.patch(f"/api/v1/plans/{mine['id']}", json={"cap": "1.00"}).status_code == 404
    assert (
        other_api.post("/api/v1/plans", json={"influencer_id": anna["id"], "starts_on": TODAY.isoformat()}).status_code
        == 404
    )
    assert other_api.get(f"/api/v1/commissions?influencer_id={anna['id']}").status_code == 404
    assert other_api.get("/api/v1/plans").get_json()["plans"] == []


def test_the_100_dollar_order_10_percent_30_refund_shows_7_owed(api, client, anna, run_jobs):
    assert plan(api, influencer_id=anna["id"], commission_percent="10").status_code == 201
    placed = datetime.now(UTC).replace(microsecond=0)
    body = order_payload(placed_at=placed, net="100.00", codes=("ANNA10",), order_id=801)
    assert post_webhook(client, "orders/create", body).status_code == 200
    run_jobs()
    refund = refund_payload(801, "30.00", refund_id=901, at=placed + timedelta(minutes=5))
    assert post_webhook(client, "refunds/create", refund).status_code == 200
    run_jobs()
    answer = api.get(f"/api/v1/commissions?influencer_id={anna['id']}").get_json()
    assert answer["currency"] == "USD"
    assert answer["totals"] == {
        "pending": "7.00",
        "approved": "0.00",
        "held": "0.00",
        "in_payout": "0.00",
        "paid": "0.00",
        "reversed": "0.00",
        "clawed_back": "0.00",
        "owed": "7.00",
    }
    lines = answer["lines"]
    assert sorted((line["kind"], line["amount"], line["state"]) for line in lines) == [
        ("commission", "10.00", "pending"),
        ("reversal", "-3.00", "pending"),
    ]
    for line in lines:
        assert set(line) >= {
            "id",
            "influencer_id",
            "order_id",
            "refund_id",
            "payout_id",
            "kind",
            "amount",
            "state",
            "reason",
            "created_at",
        }
        assert line["influencer_id"] == anna["id"] and line["order_id"] is not None and line["payout_id"] is None
    assert [line["refund_id"] is not None for line in lines if line["kind"] == "reversal"] == [True]
    # Filters: the state narrows the lines, not the totals; a period without lines has none.
    reversals = api.get(f"/api/v1/commissions?influencer_id={anna['id']}&state=approved").get_json()
    assert reversals["lines"] == [] and reversals["totals"]["owed"] == "7.00"
    later = (TODAY + timedelta(days=400)).isoformat()
    assert api.get(f"/api/v1/commissions?from={later}").get_json()["lines"] == []


def test_an_order_sold_in_euros_lists_each_line_in_euros_beside_the_dollars(api, client, anna, run_jobs):
    assert plan(api, influencer_id=anna["id"], commission_percent="10").status_code == 201
    placed = datetime.now(UTC).replace(microsecond=0)
    # The fixtures' order and partial refund (USD shop, EUR buyer), placed today with Anna's code.
    body = {
        **fixture_json("orders_create_code.json"),
        "id": 803,
        "created_at": placed.isoformat(),
        "updated_at": placed.isoformat(),
        "processed_at": placed.isoformat(),
        "discount_codes": [{"code": "ANNA10", "amount": "16.93", "type": "percentage"}],
    }
    assert post_webhook(client, "orders/create", body).status_code == 200
    later = (placed + timedelta(minutes=5)).isoformat()
    refund = {
        **fixture_json("refunds_create_partial.json"),
        "order_id": 803,
        "processed_at": later,
        "created_at": later,
    }
    assert post_webhook(client, "refunds/create", refund).status_code == 200
    run_jobs()
    answer = api.get(f"/api/v1/commissions?influencer_id={anna['id']}").get_json()
    assert answer["currency"] == "USD" and answer["totals"]["pending"] == "5.90"
    assert sorted(
        (line["kind"], line["amount"], line["presentment_amount"], line["presentment_currency"])
        for line in answer["lines"]
    ) == [("commission", "9.59", "8.84", "EUR"), ("reversal", "-3.69", "-3.40", "EUR")]
    # An order in the shop's own currency shows nothing beside.
    usd = order_payload(placed_at=placed, net="50.00", codes=("ANNA10",), order_id=804)
    assert post_webhook(client, "orders/create", usd).status_code == 200
    run_jobs()
    lines = api.get(f"/api/v1/commissions?influencer_id={anna['id']}").get_json()["lines"]
    assert [
        (line["presentment_amount"], line["presentment_currency"]) for line in lines if line["amount"] == "5.00"
    ] == [(None, None)]
    # The OpenAPI document names the fields.
    line_schema = api.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["CommissionLine"]
    assert {"presentment_amount", "presentment_currency"} <= set(line_schema["properties"])


def test_a_plan_set_after_the_orders_pays_them(api, client, anna, run_jobs):
    placed = datetime.now(UTC).replace(microsecond=0)
    body = order_payload(placed_at=placed, net="80.00", codes=("ANNA10",), order_id=802)
    assert post_webhook(client, "orders/create", body).status_code == 200
    run_jobs()
    assert api.get("/api/v1/commissions").get_json()["lines"] == []
    assert plan(api, influencer_id=anna["id"], commission_fixed="6.00").status_code == 201
    run_jobs()
    assert api.get("/api/v1/commissions").get_json()["totals"]["pending"] == "6.00"


@pytest.mark.parametrize(
    ("query", "field"),
    [("state=lost", "state"), ("from=yesterday", "from"), ("from=2026-05-02&to=2026-05-01", "to")],
)
def test_bad_commission_filters_are_refused_naming_the_field(api, query, field):
    response = api.get(f"/api/v1/commissions?{query}")
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_roi_counts_the_ledger_for_creators_on_a_plan_and_the_estimate_for_the_others(api, client, anna, run_jobs):
    # Both creators carry a 20 % rate; only Ben has no plan, so only his commission is estimated.
    api.patch(f"/api/v1/influencers/{anna['id']}", json={"commission_rate": "0.2"})
    ben = make_influencer(api, name="Ben", handle="ben", commission_rate="0.2")
    make_code(api, ben["id"], "BEN10")
    assert plan(api, influencer_id=anna["id"], commission_percent="10").status_code == 201
    placed = datetime.now(UTC).replace(microsecond=0)
    for number, code in ((811, "ANNA10"), (812, "BEN10")):
        body = order_payload(placed_at=placed, net="100.00", codes=(code,), order_id=number)
        assert post_webhook(client, "orders/create", body).status_code == 200
    run_jobs()
    day = placed.astimezone(SHOP_ZONE).date().isoformat()
    report = api.get(f"/api/v1/roi?from={day}&to={day}").get_json()
    cost = {row["key"]: row["cost"] for row in report["rows"]}
    assert cost == {anna["id"]: "10.00", ben["id"]: "20.00"}
    # The 10.00 is still within the holding period: the dashboard says so.
    assert report["commission_pending"] == "10.00"
    token = session_token(SHOP)
    overview = client.get(f"/app?from={day}&to={day}&shop={SHOP}&host=aG9zdA&id_token={token}")
    assert overview.status_code == 200
    assert "$10.00 of commission still pending" in overview.get_data(as_text=True)


def test_the_creator_page_shows_the_plan_and_what_is_owed(api, client, anna, run_jobs):
    assert plan(api, influencer_id=anna["id"], commission_percent="10", repeat_months=0).status_code == 201
    placed = datetime.now(UTC).replace(microsecond=0)
    body = order_payload(placed_at=placed, net="100.00", codes=("ANNA10",), order_id=821)
    assert post_webhook(client, "orders/create", body).status_code == 200
    refund = refund_payload(821, "30.00", refund_id=921, at=placed + timedelta(minutes=5))
    assert post_webhook(client, "refunds/create", refund).status_code == 200
    run_jobs()
    token = session_token(SHOP)
    text = client.get(f"/app/creators/{anna['id']}?shop={SHOP}&host=aG9zdA&id_token={token}").get_data(as_text=True)
    assert f"since {TODAY.isoformat()}: 10% of each order&#39;s net merchandise; first orders only." in text
    for key, amount in (("owed", "7.00"), ("pending", "7.00"), ("held", "0.00"), ("paid", "0.00")):
        assert f'data-metric="pay-{key}" data-value="{amount}"' in text


def test_a_plan_that_started_before_the_creator_was_added_can_still_be_changed(api, anna, runtime):
    # Plans stored otherwise (the demo's, an import) may start before the creator was added.
    created = plan(api, influencer_id=anna["id"], commission_percent="10").get_json()
    with runtime.db.session() as s:
        from models import PayPlan

        s.get(PayPlan, created["id"]).starts_on = TODAY - timedelta(days=90)
    assert api.patch(f"/api/v1/plans/{created['id']}", json={"cap": "50.00"}).status_code == 200
    moved = api.patch(f"/api/v1/plans/{created['id']}", json={"starts_on": (TODAY - timedelta(days=80)).isoformat()})
    assert moved.status_code == 422 and "starts_on" in moved.get_json()["errors"]
