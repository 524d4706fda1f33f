"""The commission ledger over scripted histories: each plan kind, refunds before and after
payout, cancellations, test orders, a plan change mid-period, fees, approvals and the cost it
puts on the creator."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from factories import SHOP
from factories.pay import by_state, ledger, make_plan, pay_out
from factories.registry import install_shop, make_creator, store_activity
from factories.shopify import fixture_json, order_payload, refund_payload
from factories.store import day_totals
from factories.webhooks import post_webhook, store_and_process
from models import CommissionLine, Order, Post
from worker import engine
from worker import ledger as pay_ledger

D = Decimal
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def shop(runtime):  # type: ignore[no-untyped-def]
    shop_id = install_shop(runtime)
    anna = make_creator(runtime, shop_id, "anna", codes=("ANNA10",))
    return shop_id, anna


def deliver(runtime, topic, body):  # type: ignore[no-untyped-def]
    assert store_and_process(runtime, SHOP, topic, body) == "processed"


def order(runtime, n, net="100.00", at=T0, customer=None, code="ANNA10", **fields):  # type: ignore[no-untyped-def]
    body = order_payload(
        placed_at=at, net=net, codes=(code,) if code else (), order_id=n, customer_id=customer, **fields
    )
    deliver(runtime, "orders/create", body)
    return body


def refund(runtime, order_id, amount, refund_id, at=None):  # type: ignore[no-untyped-def]
    deliver(
        runtime,
        "refunds/create",
        refund_payload(order_id, amount, refund_id=refund_id, at=at or T0 + timedelta(days=3)),
    )


def test_the_100_dollar_order_at_10_percent_with_a_30_dollar_refund_owes_7_through_real_webhooks(
    client, runtime, run_jobs
):
    shop_id = install_shop(runtime)
    anna = make_creator(runtime, shop_id, "anna", codes=("ANNA10",))
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    body = order_payload(placed_at=T0, net="100.00", codes=("ANNA10",), order_id=501)
    assert post_webhook(client, "orders/create", body).status_code == 200
    restocked = refund_payload(501, "30.00", refund_id=601, at=T0 + timedelta(days=2))
    restocked["refund_line_items"][0]["restock_type"] = "return"
    assert post_webhook(client, "refunds/create", restocked).status_code == 200
    run_jobs()
    lines = ledger(runtime, shop_id, anna)
    assert [(line.kind, line.amount, line.state) for line in lines] == [
        ("commission", D("10.00"), "pending"),
        ("reversal", D("-3.00"), "pending"),
    ]
    assert by_state(lines) == {"pending": D("7.00")}
    # The same refund delivered again (a retry) adds nothing.
    assert post_webhook(client, "refunds/create", restocked).status_code == 200
    run_jobs()
    assert by_state(ledger(runtime, shop_id, anna)) == {"pending": D("7.00")}


def test_a_refund_after_payout_is_clawed_back_and_the_paid_line_stays_paid(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1)
    assert pay_out(runtime, shop_id) == 1
    refund(runtime, 1, "30.00", 11)
    lines = ledger(runtime, shop_id, anna)
    assert [(line.kind, line.amount, line.state) for line in lines] == [
        ("commission", D("10.00"), "paid"),
        ("clawback", D("-3.00"), "clawed_back"),
    ]
    assert lines[1].refund_id is not None and lines[1].payout_id is None  # the next payout nets it


def test_cancelled_before_payout_reverses_all_after_payout_claws_back_what_was_paid(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    early = order(runtime, 1)
    refund(runtime, 1, "20.00", 11)
    deliver(
        runtime,
        "orders/cancelled",
        {
            **early,
            "cancelled_at": (T0 + timedelta(days=4)).isoformat(),
            "updated_at": (T0 + timedelta(days=4)).isoformat(),
        },
    )
    assert by_state(ledger(runtime, shop_id, anna)) == {"reversed": D("8.00")}

    late = order(runtime, 2, net="50.00")
    pay_out(runtime, shop_id)
    deliver(
        runtime,
        "orders/cancelled",
        {
            **late,
            "cancelled_at": (T0 + timedelta(days=9)).isoformat(),
            "updated_at": (T0 + timedelta(days=9)).isoformat(),
        },
    )
    mine = [
        line for line in ledger(runtime, shop_id, anna) if line.order_id and line.amount and line.kind != "reversal"
    ]
    assert by_state([line for line in mine if line.event_key.startswith(f"order:{mine[-1].order_id}")]) == {
        "paid": D("5.00"),
        "clawed_back": D("-5.00"),
    }


def test_test_orders_never_pay(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1, test=True)
    assert ledger(runtime, shop_id) == []


def test_a_refund_larger_than_what_is_left_is_capped_and_logged(runtime, shop, caplog):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1)
    refund(runtime, 1, "80.00", 11)
    with caplog.at_level(logging.INFO, logger="creator_roi.ledger"):
        refund(runtime, 1, "50.00", 12)
    assert by_state(ledger(runtime, shop_id, anna)) == {"pending": D("0.00")}
    assert [line.amount for line in ledger(runtime, shop_id, anna)] == [D("10.00"), D("-8.00"), D("-2.00")]
    assert "event=refund_over_order" in caplog.text


def test_a_fixed_commission_per_order(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_fixed=D("4.00"))
    order(runtime, 1, net="80.00")
    refund(runtime, 1, "40.00", 11)  # half the merchandise back: half the fixed commission
    assert by_state(ledger(runtime, shop_id, anna)) == {"pending": D("2.00")}


def test_repeat_orders_earn_the_repeat_rate_for_n_months_only(runtime, shop):
    shop_id, anna = shop
    make_plan(
        runtime,
        shop_id,
        anna,
        starts_on=date(2026, 1, 1),
        commission_percent=D("20"),
        repeat_commission_percent=D("5"),
        repeat_months=2,
    )
    order(runtime, 1, customer=77)  # first order: 20 %
    order(runtime, 2, customer=77, code=None, at=T0 + timedelta(days=30))  # repeat within 2 months: 5 %
    order(runtime, 3, customer=77, code=None, at=T0 + timedelta(days=75))  # after 2 months: nothing
    lines = ledger(runtime, shop_id, anna)
    assert [(line.kind, line.amount) for line in lines] == [
        ("commission", D("20.00")),
        ("repeat_commission", D("5.00")),
    ]


def test_first_orders_only_when_repeat_months_is_0(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"), repeat_months=0)
    order(runtime, 1, customer=77)
    order(runtime, 2, customer=77, code=None, at=T0 + timedelta(days=3))
    assert [line.amount for line in ledger(runtime, shop_id, anna)] == [D("10.00")]


def test_each_order_is_paid_under_the_plan_in_force_when_it_was_placed(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 14), commission_percent=D("10"))
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 3, 15), commission_percent=D("20"))
    order(runtime, 1, at=datetime(2026, 3, 14, 12, tzinfo=UTC))
    order(runtime, 2, at=datetime(2026, 3, 16, 12, tzinfo=UTC))
    refund(runtime, 2, "50.00", 21, at=datetime(2026, 3, 20, tzinfo=UTC))
    assert [line.amount for line in ledger(runtime, shop_id, anna)] == [D("10.00"), D("20.00"), D("-10.00")]


def test_the_shops_default_plan_pays_creators_without_one(runtime, shop):
    shop_id, anna = shop
    ben = make_creator(runtime, shop_id, "ben", codes=("BEN5",))
    make_plan(runtime, shop_id, None, starts_on=date(2026, 1, 1), commission_percent=D("5"))
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1)
    order(runtime, 2, code="BEN5")
    assert by_state(ledger(runtime, shop_id, anna)) == {"pending": D("10.00")}
    assert by_state(ledger(runtime, shop_id, ben)) == {"pending": D("5.00")}


def test_marginal_bonus_tiers_and_the_cap_per_month(runtime, shop):
    shop_id, anna = shop
    tiers = [
        {"metric": "net_revenue", "threshold": "200.00", "percent": "5"},
        {"metric": "net_revenue", "threshold": "400.00", "percent": "10"},
    ]
    make_plan(
        runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"), tiers=tiers, cap=D("60.00")
    )
    for n in range(1, 6):
        order(runtime, n, at=T0 + timedelta(days=n))  # 500.00 in March: commissions 50.00
    lines = ledger(runtime, shop_id, anna)
    bonus = sum((line.amount for line in lines if line.kind == "bonus"), D("0"))
    cap = sum((line.amount for line in lines if line.kind == "cap"), D("0"))
    # Bonus: 5 % of 200..400 (10.00) + 10 % of 400..500 (10.00) = 20.00; 70.00 capped at 60.00.
    assert (bonus, cap) == (D("20.00"), D("-10.00"))
    refund(runtime, 5, "100.00", 51)  # back to 400.00: bonus 10.00, commissions 40.00, under the cap
    lines = ledger(runtime, shop_id, anna)
    assert sum((line.amount for line in lines if line.kind == "bonus"), D("0")) == D("10.00")
    assert sum((line.amount for line in lines if line.kind == "cap"), D("0")) == D("0.00")
    assert by_state(lines) == {"pending": D("50.00")}


def test_monthly_and_per_post_fees_then_approval_after_the_holding_period(runtime, shop):
    shop_id, anna = shop
    make_plan(
        runtime,
        shop_id,
        anna,
        starts_on=date(2026, 3, 17),  # 15 of March's 31 days
        flat_fee=D("310.00"),
        flat_fee_period="month",
        fee_per_post=D("25.00"),
        commission_percent=D("10"),
    )
    store_activity(
        runtime,
        shop_id,
        Post(
            shop_id=shop_id,
            influencer_id=anna,
            platform="tiktok",
            content_type="video",
            posted_at=datetime(2026, 3, 16, tzinfo=UTC),
        ),  # before the plan: no fee
        Post(
            shop_id=shop_id,
            influencer_id=anna,
            platform="tiktok",
            content_type="video",
            posted_at=datetime(2026, 3, 20, tzinfo=UTC),
        ),
    )
    order(runtime, 1, at=datetime(2026, 3, 20, tzinfo=UTC))
    with runtime.db.session() as s:
        cells = pay_ledger.settle_fees(s, shop_id, date(2026, 4, 10))
        engine.refresh_sales(s, engine.shop_context(s, shop_id), cells)
    with runtime.db.session() as s:  # twice: nothing more
        assert pay_ledger.settle_fees(s, shop_id, date(2026, 4, 10)) == set()
    lines = ledger(runtime, shop_id, anna)
    assert sorted((line.kind, line.amount) for line in lines) == [
        ("commission", D("10.00")),
        ("flat_fee", D("150.00")),
        ("flat_fee", D("310.00")),
        ("post_fee", D("25.00")),
    ]
    with runtime.db.session() as s:
        approved = pay_ledger.approve_due(s, datetime(2026, 4, 15, tzinfo=UTC))
    states = {(line.kind, line.amount): line.state for line in ledger(runtime, shop_id, anna)}
    # The order's 30 days are over on April 19; March's fee and the post's are due.
    assert approved == 2
    assert states[("commission", D("10.00"))] == "pending"
    assert states[("flat_fee", D("150.00"))] == "approved" and states[("flat_fee", D("310.00"))] == "pending"
    # Everything the creator earns is her cost, on the day it belongs to.
    assert day_totals(runtime, shop_id, anna)["cost"] == D("495.00")


def test_the_holding_period_is_the_shops(runtime, shop):
    shop_id, anna = shop
    with runtime.db.session() as s:
        from models import ShopSettings

        s.get(ShopSettings, shop_id).holding_days = 0
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1)
    with runtime.db.session() as s:
        assert pay_ledger.approve_due(s, T0 + timedelta(seconds=1)) == 1


def test_commission_is_the_creators_cost_net_of_refunds_and_a_rebuild_keeps_it(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    order(runtime, 1)
    refund(runtime, 1, "30.00", 11)
    assert day_totals(runtime, shop_id, anna)["cost"] == D("7.00")
    with runtime.db.session() as s:
        engine.reattribute_shop(s, shop_id)
    assert day_totals(runtime, shop_id, anna)["cost"] == D("7.00")
    with runtime.db.session() as s:
        assert s.scalar(select(CommissionLine.id).where(CommissionLine.kind == "adjustment")) is None


def test_plans_set_after_the_orders_pay_them_when_the_ledger_is_settled(runtime, shop):
    shop_id, anna = shop
    order(runtime, 1)
    assert ledger(runtime, shop_id) == []
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    with runtime.db.session() as s:
        engine.reattribute_shop(s, shop_id)
    assert by_state(ledger(runtime, shop_id, anna)) == {"pending": D("10.00")}
    assert day_totals(runtime, shop_id, anna)["cost"] == D("10.00")


def test_the_sweep_approves_lines_past_the_holding_period_and_writes_fees(runtime, shop, run_jobs):
    from factories.webhooks import sweep_now

    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 3, 1), commission_percent=D("10"), flat_fee=D("100.00"))
    order(runtime, 1)  # placed in March 2026: its 30 days are long over
    result = sweep_now(runtime, run_jobs)
    lines = ledger(runtime, shop_id, anna)
    assert result["lines_approved"] >= 2
    assert {line.kind for line in lines if line.state == "approved"} >= {"commission", "flat_fee"}
    assert sweep_now(runtime, run_jobs)["lines_approved"] == 0  # a second sweep finds nothing new to approve


# --- presentment money beside --------------------------------------------------------------


def test_an_order_sold_in_euros_shows_each_line_in_euros_beside_the_dollars_paid(runtime):
    # The fixtures' order #1001: a USD shop, the buyer shown EUR; $95.91 (€88.40) of merchandise,
    # then a partial refund of $36.89 (€34.00).
    shop_id = install_shop(runtime)
    anna = make_creator(runtime, shop_id, "anna", codes=("ANNA15",))
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    deliver(runtime, "orders/create", fixture_json("orders_create_code.json"))
    deliver(runtime, "refunds/create", fixture_json("refunds_create_partial.json"))
    with runtime.db.session() as s:
        stored = s.scalars(select(Order).where(Order.shop_id == shop_id)).one()
        assert (stored.currency, stored.subtotal) == ("USD", D("95.91"))
        assert (stored.presentment_currency, stored.presentment_subtotal) == ("EUR", D("88.40"))
    lines = ledger(runtime, shop_id, anna)
    assert [(line.kind, line.amount, line.presentment_amount, line.presentment_currency) for line in lines] == [
        ("commission", D("9.59"), D("8.84"), "EUR"),
        # 10 % of the €34.00 refunded, as the buyer's refund shows it.
        ("reversal", D("-3.69"), D("-3.40"), "EUR"),
    ]
    assert by_state(lines) == {"pending": D("5.90")}  # what is paid stays the shop's dollars


def test_an_order_without_money_sets_still_pays_and_shows_no_presentment(runtime, shop):
    shop_id, anna = shop
    make_plan(runtime, shop_id, anna, starts_on=date(2026, 1, 1), commission_percent=D("10"))
    bare = order_payload(placed_at=T0, net="100.00", codes=("ANNA10",), order_id=1)
    del bare["subtotal_price_set"], bare["presentment_currency"]
    deliver(runtime, "orders/create", bare)  # the plain subtotal_price still says the money
    broken = order_payload(placed_at=T0, net="40.00", codes=("ANNA10",), order_id=2)
    broken["subtotal_price_set"]["presentment_money"] = {"amount": "lots", "currency_code": 978}
    deliver(runtime, "orders/create", broken)
    order(runtime, 3, net="60.00")  # sold in the shop's own dollars: nothing to show beside
    lines = ledger(runtime, shop_id, anna)
    assert sorted(line.amount for line in lines) == [D("4.00"), D("6.00"), D("10.00")]
    assert {(line.presentment_amount, line.presentment_currency) for line in lines} == {(None, None)}
    with runtime.db.session() as s:
        stored = s.execute(select(Order.presentment_currency, Order.presentment_subtotal).order_by(Order.shopify_id))
        assert stored.all() == [(None, None), (None, None), ("USD", D("60.00"))]
