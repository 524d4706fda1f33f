"""The ledger is rebuilt-equal: the same deliveries (orders, refunds, cancellations, edits,
test orders, returning customers) replayed in any order leave the same sum of lines per creator
and state, and the same commission cost in the rollups; a rebuild of the shop changes neither."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from factories.pay import ledger, make_plan
from factories.store import rollup_cells
from factories.webhooks import store_and_process
from test_rollups_property import clicks_strategy, deliveries, new_shop, orders_strategy
from worker import engine

D = Decimal


def with_plans(runtime: Any, shop_id: int, creators: dict[str, int]) -> None:
    """One plan of each kind: a percent with repeats, bonus tiers and a cap; a fixed amount
    with a plan change in the middle; and the shop's default for the third creator."""
    make_plan(
        runtime,
        shop_id,
        creators["anna"],
        starts_on=date(2026, 1, 1),
        commission_percent=D("10"),
        repeat_commission_percent=D("5"),
        repeat_months=2,
        tiers=[
            {"metric": "net_revenue", "threshold": "150.00", "percent": "4"},
            {"metric": "new_customers", "threshold": "2", "amount": "15.00"},
        ],
        cap=D("40.00"),
    )
    make_plan(
        runtime,
        shop_id,
        creators["ben"],
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 4, 14),
        commission_fixed=D("3.00"),
    )
    make_plan(
        runtime,
        shop_id,
        creators["ben"],
        starts_on=date(2026, 4, 15),
        commission_percent=D("12.5"),
        tier_mode="retroactive",
        tiers=[{"metric": "net_revenue", "threshold": "100.00", "percent": "2"}],
    )
    make_plan(runtime, shop_id, None, starts_on=date(2026, 1, 1), commission_percent=D("7"), repeat_months=None)


def sums(runtime: Any, shop_id: int, creators: dict[str, int]) -> tuple[dict, dict]:
    handle = {v: k for k, v in creators.items()}
    by_state: dict[tuple[str, str], Decimal] = defaultdict(lambda: D("0.00"))
    for line in ledger(runtime, shop_id):
        by_state[(handle[line.influencer_id], line.state)] += line.amount
    cost: dict[str, Decimal] = defaultdict(lambda: D("0.00"))
    for (kind, influencer_id, *_), values in rollup_cells(runtime, shop_id).items():
        if kind == "day" and influencer_id is not None:
            cost[handle[influencer_id]] += values["cost"]
    return (
        {key: amount for key, amount in by_state.items() if amount},
        {key: amount for key, amount in cost.items() if amount},
    )


@settings(
    max_examples=int(os.environ.get("LEDGER_EXAMPLES", "30")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(clicks=clicks_strategy, orders=orders_strategy, data=st.data())
def test_the_ledger_replayed_in_any_order_gives_the_same_sums_per_creator_and_state(runtime, clicks, orders, data):
    results = []
    for run in range(2):
        shop_id, domain, creators, click_ids = new_shop(runtime, clicks)
        with_plans(runtime, shop_id, creators)
        sent = deliveries(orders, click_ids)
        if run:
            sent = data.draw(st.permutations(sent))
        for topic, body in sent:
            assert store_and_process(runtime, domain, topic, body) == "processed"
        incremental = sums(runtime, shop_id, creators)
        event(f"states: {sorted({state for _, state in incremental[0]})}")
        with runtime.db.session() as s:
            engine.reattribute_shop(s, shop_id)
        assert sums(runtime, shop_id, creators) == incremental
        results.append(incremental)
    assert results[0] == results[1]
