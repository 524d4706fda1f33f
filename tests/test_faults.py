"""Faults, with real processes: gunicorn, `creator-roi worker`, a private PostgreSQL cluster and
Redis server. Whatever fails mid-burst, every delivery Shopify got a 2xx for is processed once,
and the final totals equal those of a clean run."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

import models
from factories.shopify import order_deliveries
from models.db import make_engine
from processes import (
    AppProcesses,
    PrivatePostgres,
    PrivateRedis,
    can_run_private_services,
    process_env,
    send_like_shopify,
    wait_until,
)

pytestmark = [pytest.mark.slow]
REASON = can_run_private_services()
if REASON:
    pytestmark.append(pytest.mark.skip(reason=REASON))


@pytest.fixture
def stack():  # type: ignore[no-untyped-def]
    """A migrated private database with the shop, its creator and code; Redis; web and 2 workers."""
    pg, redis = PrivatePostgres(), PrivateRedis()
    pg.start()
    redis.start()
    procs = AppProcesses(process_env(pg.url, redis.url))
    try:
        procs.cli("db", "upgrade")
        procs.cli("shop", "add", "lumen-skin.myshopify.com", "--token", "shpat_fault_tests")
        engine = make_engine(pg.url)
        with engine.begin() as conn:
            shop_id = conn.execute(text("SELECT id FROM shops")).scalar_one()
        with models.Database(pg.url).session() as session:
            creator = models.Influencer(shop_id=shop_id, name="Anna Lee", handle="anna.lee", platform="instagram")
            session.add(creator)
            session.flush()
            session.add(models.DiscountCode(shop_id=shop_id, influencer_id=creator.id, code="ANNA15"))
        engine.dispose()
        procs.start_web()
        procs.start_worker()
        procs.start_worker()
        yield pg, redis, procs
    finally:
        procs.stop()
        redis.stop()
        pg.destroy()


def settle(pg: PrivatePostgres, procs: AppProcesses, expected_events: int, timeout: float = 180) -> None:
    """Wait until every stored delivery is processed (the workers' sweep picks up strays)."""
    engine = make_engine(pg.url)

    def done() -> bool:
        procs.cli("sweep", check=False)
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT status, count(*) FROM webhook_events GROUP BY status")).all())
        return rows.get("processed", 0) == expected_events and sum(rows.values()) == expected_events

    try:
        wait_until(done, timeout, interval=2, what="the inbox to drain")
    finally:
        engine.dispose()


def totals(pg: PrivatePostgres) -> dict[str, object]:
    with models.Database(pg.url).session() as session:
        orders = session.scalar(select(func.count()).select_from(models.Order)) or 0
        revenue = session.scalar(select(func.coalesce(func.sum(models.Order.net_sales), 0)))
        attributed = (
            session.scalar(
                select(func.count()).select_from(models.Attribution).where(models.Attribution.kind == "first")
            )
            or 0
        )
        refunds = session.scalar(select(func.count()).select_from(models.Refund)) or 0
    return {
        "orders": orders,
        "revenue": Decimal(revenue).quantize(Decimal("0.01")),
        "attributed_first": attributed,
        "refunds": refunds,
    }


def test_postgres_restart_during_a_webhook_burst(stack):
    pg, _redis, procs = stack
    deliveries, expected = order_deliveries(240)
    restarted = threading.Event()

    def on_progress(done: int) -> None:
        if done == 60 and not restarted.is_set():
            restarted.set()
            threading.Thread(target=pg.restart, daemon=True).start()

    stats = send_like_shopify(procs.base_url, deliveries, on_progress=on_progress)
    assert restarted.is_set()
    assert stats["acknowledged"] == len(deliveries)
    print(f"postgres restart: {len(deliveries)} deliveries, {stats['retries']} answers Shopify would retry")
    settle(pg, procs, len(deliveries))
    got = totals(pg)
    assert got["orders"] == expected["orders"]
    assert got["revenue"] == expected["revenue"]
    assert got["attributed_first"] == expected["orders"]


def test_redis_stopped_and_started_during_ingest(stack):
    pg, redis, procs = stack
    deliveries, expected = order_deliveries(200)
    half = len(deliveries) // 2
    send_like_shopify(procs.base_url, deliveries[:half])
    redis.stop()
    # Without Redis every delivery is still answered 2xx and kept pending.
    stats = send_like_shopify(procs.base_url, deliveries[half:], give_up_after=30)
    assert stats["retries"] == 0
    redis.start()
    settle(pg, procs, len(deliveries))
    got = totals(pg)
    assert (got["orders"], got["revenue"]) == (expected["orders"], expected["revenue"])


def test_worker_sigkilled_mid_batch_then_restarted(stack):
    pg, _redis, procs = stack
    for proc in list(procs.workers):
        procs.kill_worker(proc)
    deliveries, expected = order_deliveries(400)
    send_like_shopify(procs.base_url, deliveries)
    worker = procs.start_worker()
    engine = make_engine(pg.url)

    def some_processed() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM webhook_events WHERE status = 'processed'")).scalar() > 20

    wait_until(some_processed, 60, interval=0.05, what="the worker to start draining")
    procs.kill_worker(worker)  # mid-batch: its claimed events stay unfinished
    engine.dispose()
    procs.start_worker()
    settle(pg, procs, len(deliveries))
    got = totals(pg)
    assert (got["orders"], got["revenue"]) == (expected["orders"], expected["revenue"])


def test_same_deliveries_replayed_twice_shuffled_equal_a_clean_run(stack):
    pg, _redis, procs = stack
    deliveries, expected = order_deliveries(745)  # 1,000 deliveries with updates and refunds
    assert len(deliveries) >= 1000
    shuffled = deliveries[:]
    random.Random(7).shuffle(shuffled)
    send_like_shopify(procs.base_url, shuffled)
    random.Random(8).shuffle(shuffled)
    send_like_shopify(procs.base_url, shuffled)
    settle(pg, procs, len(deliveries))
    got = totals(pg)
    assert got["orders"] == expected["orders"]
    assert got["revenue"] == expected["revenue"]
    assert got["attributed_first"] == expected["orders"]
    assert got["refunds"] == sum(1 for d in deliveries if d.topic == "refunds/create")
