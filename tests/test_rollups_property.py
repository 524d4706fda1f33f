"""Rollups (days, and the months summing them) kept up to date one delivery at a time equal
rollups rebuilt from scratch, on random histories (codes, clicks in and out of the window, survey
answers, returning customers, partial and full refunds, cancellations, test orders), whatever
order the deliveries arrive in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factories.registry import install_shop, make_click, make_creator, store_activity
from factories.shopify import order_payload, refund_payload
from factories.store import month_cells, months_of, rollup_cells
from factories.webhooks import store_and_process
from models import Attribution, Cost, Order, Post
from worker import engine

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
HANDLES = ("anna", "ben", "cleo")

clicks_strategy = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 150 * 24)), max_size=6)
orders_strategy = st.lists(
    st.fixed_dictionaries(
        {
            # Few customers over four months: returning customers inside and outside the repeat window.
            "customer": st.one_of(st.none(), st.integers(1, 3), st.integers(1, 3)),
            "hours": st.integers(0, 120 * 24),
            "code": st.sampled_from([None, "ANNA1", "ANNA1", "ben1", "CLEO1", "NOBODY"]),
            "click": st.one_of(st.none(), st.integers(0, 5), st.just("forged")),
            "survey": st.sampled_from([None, "@anna", "cleo on tiktok", "a friend"]),
            "cents": st.integers(0, 30000),
            "refunds": st.lists(st.integers(1, 9000), max_size=2),
            "cancel": st.integers(0, 5).map(lambda n: n == 0),
            "test": st.integers(0, 9).map(lambda n: n == 0),
            "updated": st.booleans(),
        }
    ),
    min_size=2,
    max_size=8,
)
activity_strategy = st.lists(
    st.tuples(
        st.sampled_from(["cost", "post", "shop_cost"]), st.integers(0, 2), st.integers(0, 150), st.integers(1, 50000)
    ),
    max_size=4,
)


def new_shop(runtime: Any, clicks: list[tuple[int, int]]) -> tuple[int, str, dict[str, int], list[tuple[str, str]]]:
    """A fresh store with three creators (a code and a link each) and the given clicks."""
    domain = f"prop-{uuid.uuid4().hex[:12]}.myshopify.com"
    shop_id = install_shop(runtime, domain, zone="America/New_York")
    creators = {
        handle: make_creator(runtime, shop_id, handle, codes=(f"{handle.upper()}1",), slug=f"{handle}-{domain[5:17]}")
        for handle in HANDLES
    }
    click_ids = []
    for n, (who, hours) in enumerate(clicks):
        click_id, slug = f"{domain[5:17]}{n}", f"{HANDLES[who]}-{domain[5:17]}"
        make_click(runtime, shop_id, slug, click_id, T0 + timedelta(hours=hours))
        click_ids.append((click_id, slug))
    return shop_id, domain, creators, click_ids


def deliveries(orders: list[dict[str, Any]], click_ids: list[tuple[str, str]]) -> list[tuple[str, dict]]:
    """Every delivery Shopify would make for these orders, in the order they happened."""
    found = []
    for n, spec in enumerate(orders):
        placed = T0 + timedelta(hours=spec["hours"])
        landing = None
        if spec["click"] == "forged":
            landing = "/?ref=anna&crid=FORGED"
        elif spec["click"] is not None and click_ids:
            click_id, slug = click_ids[spec["click"] % len(click_ids)]
            landing = f"/?ref={slug}&crid={click_id}"
        body = order_payload(
            placed_at=placed,
            net=f"{Decimal(spec['cents']) / 100:.2f}",
            customer_id=spec["customer"],
            codes=(spec["code"],) if spec["code"] else (),
            landing_site=landing,
            survey=spec["survey"],
            test=spec["test"],
            order_id=n + 1,
        )
        found.append(("orders/create", body))
        refunds = []
        left = spec["cents"]
        for k, amount in enumerate(spec["refunds"]):
            amount = min(amount, left)
            if amount <= 0:
                break
            left -= amount
            at = placed + timedelta(days=k + 1)
            refund = refund_payload(body["id"], f"{Decimal(amount) / 100:.2f}", refund_id=body["id"] * 10 + k, at=at)
            refunds.append(refund)
            found.append(("refunds/create", refund))
            if spec["updated"]:
                found.append(
                    (
                        "orders/updated",
                        {**body, "refunds": list(refunds), "updated_at": (at + timedelta(minutes=1)).isoformat()},
                    )
                )
        if spec["cancel"]:
            at = placed + timedelta(days=5)
            found.append(
                (
                    "orders/cancelled",
                    {**body, "refunds": refunds, "cancelled_at": at.isoformat(), "updated_at": at.isoformat()},
                )
            )
    return found


def add_activity(runtime: Any, shop_id: int, creators: dict[str, int], activity: list[tuple]) -> None:
    rows: list[Cost | Post] = []
    for kind, who, day, amount in activity:
        creator = None if kind == "shop_cost" else creators[HANDLES[who]]
        if kind == "post":
            rows.append(
                Post(
                    shop_id=shop_id,
                    influencer_id=creator,
                    platform="tiktok",
                    content_type="video",
                    posted_at=T0 + timedelta(days=day),
                    followers=amount,
                    impressions=amount * 3,
                    likes=amount // 10,
                )
            )
        else:
            rows.append(
                Cost(
                    shop_id=shop_id,
                    influencer_id=creator,
                    category="fee",
                    amount=Decimal(amount) / 100,
                    incurred_on=date(2026, 3, 1) + timedelta(days=day),
                )
            )
    store_activity(runtime, shop_id, *rows)


def snapshot(runtime: Any, shop_id: int, creators: dict[str, int]) -> tuple[dict, dict]:
    """Verdicts by Shopify order id and rollups, with creators named by handle (ids differ per shop)."""
    handle = {v: k for k, v in creators.items()}
    with runtime.db.session() as s:
        verdicts = {
            shopify_id: (handle.get(a.influencer_id), a.kind, a.rule, a.net)
            for shopify_id, a in s.execute(
                select(Order.shopify_id, Attribution)
                .join(Attribution, Attribution.order_id == Order.id)
                .where(Order.shop_id == shop_id)
            )
        }
    days = rollup_cells(runtime, shop_id)
    months = month_cells(runtime, shop_id)
    assert months == months_of(days), "month rows are not the sums of their days"
    # Each repeat is booked twice: on the day it was placed, and for its customer's cohort.
    for who in creators.values():
        placed = sum(v["repeat_revenue"] for (kind, i, *_), v in days.items() if kind == "day" and i == who)
        cohort = sum(v["cohort_repeat_revenue"] for (kind, i, *_), v in days.items() if kind == "day" and i == who)
        assert placed == cohort, "a creator's repeat revenue over all days differs from its cohorts'"
    return verdicts, {(kind, handle.get(i), *rest): values for (kind, i, *rest), values in days.items()}


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(clicks=clicks_strategy, orders=orders_strategy, activity=activity_strategy, data=st.data())
def test_incremental_rollups_equal_a_rebuild_whatever_the_delivery_order(
    runtime, clicks, orders, activity, data
) -> None:
    results = []
    for run in range(2):  # two stores: the same history, delivered in two orders
        shop_id, domain, creators, click_ids = new_shop(runtime, clicks)
        sent = deliveries(orders, click_ids)
        if run:
            sent = data.draw(st.permutations(sent))
        add_activity(runtime, shop_id, creators, activity)
        for topic, body in sent:
            assert store_and_process(runtime, domain, topic, body) == "processed"
        incremental = snapshot(runtime, shop_id, creators)
        event(f"repeat orders: {sum(v[1] == 'repeat' for v in incremental[0].values()) > 0}")
        with runtime.db.session() as s:
            engine.reattribute_shop(s, shop_id)
        assert snapshot(runtime, shop_id, creators) == incremental
        results.append(incremental)
    assert results[0] == results[1]
