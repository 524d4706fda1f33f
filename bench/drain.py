"""Worker drain rate on PostgreSQL: pending `orders/create` events processed per second by
`creator-roi worker --burst`, with 1 and with 2 workers, beside two baselines measured in
the same run:

- RQ's one-job-per-event ceiling: the same number of no-op jobs through the same worker
  class (`creator-roi worker --burst`, RQ's forking Worker);
- a bare PostgreSQL upsert of an order plus its rollup row, one transaction each (psycopg,
  no ORM, one connection per worker).

    python -m bench.drain [--orders 10000] [--workers 1,2] [--database-url URL] [--redis-url URL] [--pay]

`--pay`: every creator is paid under a plan (10 %, repeats 5 %), so each attributed order also
writes its commission line and the ledger's month settle runs (the cost of the pay ledger).

The events are the `orders/create` fixture with fresh order and customer ids, spread over
60 days, 40 % of them carrying one of 15 creators' codes, so the drain also runs the
attribution engine (worker.engine.orders_changed) the way production does.
Target: >= 2x the RQ no-op ceiling, and as close to the bare PostgreSQL rate as possible.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench._common import ROOT, fresh_store

SHOP = "bench-store.myshopify.com"
FIXTURE = ROOT / "tests" / "fixtures" / "shopify" / "orders_create_code.json"
CREATORS = 15


def noop() -> None:
    """The job RQ runs for the ceiling: nothing."""


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        APP_ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SHOPIFY_API_KEY="bench",
        SHOPIFY_API_SECRET="bench-secret",
        SECRET_KEY="bench",
        PYTHONPATH=str(ROOT),
    )
    return env


def fresh_database(url: str, pay: bool = False) -> int:
    from datetime import date

    from models import DiscountCode, Influencer, PayPlan
    from worker.runtime import Runtime

    shop_id = fresh_store(url, SHOP)
    rt = Runtime.from_env({"DATABASE_URL": url})
    with rt.db.session() as session:
        for number in range(CREATORS):
            creator = Influencer(
                shop_id=shop_id, name=f"Creator {number}", handle=f"creator{number}", platform="instagram"
            )
            session.add(creator)
            session.flush()
            session.add(DiscountCode(shop_id=shop_id, influencer_id=creator.id, code=f"CREATOR{number}"))
            if pay:
                session.add(
                    PayPlan(
                        shop_id=shop_id,
                        influencer_id=creator.id,
                        starts_on=date(2026, 1, 1),
                        commission_percent=Decimal("10"),
                        repeat_commission_percent=Decimal("5"),
                    )
                )
    rt.db.dispose()
    return shop_id


def order_bodies(count: int, seed: int = 7) -> list[str]:
    template = json.loads(FIXTURE.read_text())
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 12, tzinfo=timezone.utc)
    bodies = []
    for number in range(count):
        payload = dict(template)
        placed = start + timedelta(minutes=rng.randrange(60 * 24 * 60))
        payload["id"] = 7000000000000 + number
        payload["name"] = f"#{10000 + number}"
        payload["created_at"] = payload["processed_at"] = placed.isoformat()
        payload["updated_at"] = (placed + timedelta(seconds=2)).isoformat()
        payload["customer"] = dict(template["customer"], id=8000000000000 + number)
        if rng.random() < 0.4:
            code = f"CREATOR{rng.randrange(CREATORS)}"
            payload["discount_codes"] = [dict(template["discount_codes"][0], code=code)]
            payload["discount_applications"] = [dict(template["discount_applications"][0], code=code)]
        else:
            payload["discount_codes"], payload["discount_applications"] = [], []
        bodies.append(json.dumps(payload, separators=(",", ":")))
    return bodies


def _reset(database_url: str) -> None:
    from sqlalchemy import text

    from models.db import make_engine

    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE webhook_events, attributions, refunds, orders, customers, rollups RESTART IDENTITY CASCADE")
        )
    engine.dispose()


def _flush_redis(redis_url: str) -> Any:
    from redis import Redis

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    return connection


def _run_workers(workers: int, env: dict[str, str], command: list[str] | None = None) -> float:
    """Start `workers` burst workers together; seconds until the last one exits."""
    command = command or [str(Path(sys.executable).parent / "creator-roi"), "worker", "--burst"]
    logs = [tempfile.TemporaryFile() for _ in range(workers)]  # a pipe left unread would stall a worker
    started = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log) for log in logs]
    for process, log in zip(processes, logs):
        process.wait(timeout=3600)
        if process.returncode:
            log.seek(0)
            raise SystemExit(f"worker failed: {log.read().decode()[-2000:]}")
    elapsed = time.perf_counter() - started
    for log in logs:
        log.close()
    return elapsed


def rq_noop_rate(count: int, workers: int, redis_url: str, env: dict[str, str], simple: bool = False) -> float:
    """No-op jobs through `creator-roi worker --burst`, or (simple=True, for reference only)
    through RQ's non-forking SimpleWorker, which is what "about 4 ms a job" describes."""
    from rq import Queue

    connection = _flush_redis(redis_url)
    queue = Queue("default", connection=connection)
    for offset in range(0, count, 1000):
        queue.enqueue_many([Queue.prepare_data(noop, result_ttl=0) for _ in range(min(1000, count - offset))])
    command = (
        [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--burst",
            "--url",
            redis_url,
            "-w",
            "rq.worker.SimpleWorker",
        ]
        if simple
        else None
    )
    return count / _run_workers(workers, env, command)


def pipeline_rate(
    bodies: list[str], shop_id: int, workers: int, database_url: str, redis_url: str, env: dict[str, str]
) -> tuple[float, dict[str, int]]:
    from rq import Queue
    from sqlalchemy import func, select

    from models import Database, Order, WebhookEvent
    from worker import inbox, jobs

    _reset(database_url)
    db = Database(database_url)
    with db.session() as session:
        for offset in range(0, len(bodies), 2000):
            session.execute(
                WebhookEvent.__table__.insert(),
                [
                    {
                        "shop_domain": SHOP,
                        "shop_id": shop_id,
                        "webhook_id": f"bench-{offset + n}",
                        "topic": "orders/create",
                        "body": body,
                        "status": "pending",
                        "attempts": 0,
                        "received_at": datetime.now(timezone.utc),
                    }
                    for n, body in enumerate(bodies[offset : offset + 2000])
                ],
            )
    connection = _flush_redis(redis_url)
    # The CLV refit a drain asks for is a job of its own, not the drain's cost: held off here
    # as a refit scheduled within the hour would hold it off.
    connection.set(jobs.CLV_PENDING_KEY.format(shop_id=shop_id), 1)
    queue = Queue("default", connection=connection)
    for _ in range(workers):  # one drain waiting per worker, as a busy shop's webhooks leave them
        queue.enqueue(jobs.drain_inbox, SHOP, job_timeout=inbox.DRAIN_JOB_TIMEOUT)
    elapsed = _run_workers(workers, env)
    with db.session() as session:
        statuses = dict(session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all())
        orders = session.scalar(select(func.count()).select_from(Order))
    db.dispose()
    return len(bodies) / elapsed, {**statuses, "orders": orders}


ORDER_UPSERT = """
INSERT INTO orders (shop_id, shopify_id, name, shopify_customer_id, placed_at, shopify_updated_at, currency,
                    subtotal, net_sales, financial_status, test, source_name, landing_site, codes,
                    note_attributes, created_at, updated_at)
VALUES (%(shop_id)s, %(shopify_id)s, %(name)s, %(customer)s, %(placed_at)s, %(updated_at)s, 'USD',
        %(subtotal)s, %(subtotal)s, 'paid', false, 'web', %(landing)s, %(codes)s, '[]', now(), now())
ON CONFLICT (shop_id, shopify_id) DO UPDATE SET
    subtotal = excluded.subtotal, net_sales = excluded.net_sales, shopify_updated_at = excluded.shopify_updated_at,
    updated_at = now()
WHERE orders.shopify_updated_at < excluded.shopify_updated_at
"""
ROLLUP_UPSERT = """
INSERT INTO rollups (shop_id, day, kind, influencer_id, orders, new_customers, revenue, repeat_orders,
                     repeat_revenue, repeat_customers, cohort_repeat_revenue, clicks, cost, posts, impressions,
                     reach, followers, likes, comments, shares, saves)
VALUES (%(shop_id)s, %(day)s, 'day', %(influencer_id)s, 1, 1, %(subtotal)s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
ON CONFLICT (shop_id, influencer_id, day) WHERE kind = 'day' DO UPDATE SET
    orders = rollups.orders + 1, new_customers = rollups.new_customers + 1,
    revenue = rollups.revenue + excluded.revenue
"""


def _bare_upserts(args: tuple[str, int, list[dict[str, Any]]]) -> None:
    import psycopg

    url, _, rows = args
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for row in rows:
            with conn.transaction():
                conn.execute(ORDER_UPSERT, row)
                conn.execute(ROLLUP_UPSERT, row)


def bare_rate(bodies: list[str], shop_id: int, workers: int, database_url: str) -> float:
    from sqlalchemy import select

    from models import Database, Influencer

    _reset(database_url)
    db = Database(database_url)
    with db.session() as session:
        creators = list(session.scalars(select(Influencer.id).order_by(Influencer.id)))
    db.dispose()
    rows = []
    for number, body in enumerate(bodies):
        payload = json.loads(body)
        placed = datetime.fromisoformat(payload["created_at"])
        rows.append(
            {
                "shop_id": shop_id,
                "shopify_id": payload["id"],
                "name": payload["name"],
                "customer": payload["customer"]["id"],
                "placed_at": placed,
                "updated_at": datetime.fromisoformat(payload["updated_at"]),
                "subtotal": Decimal(payload["subtotal_price_set"]["shop_money"]["amount"]),
                "landing": payload.get("landing_site"),
                "codes": json.dumps([c["code"] for c in payload["discount_codes"]]),
                "day": placed.date(),
                "influencer_id": creators[number % len(creators)],
            }
        )
    shares = [(database_url, n, rows[n::workers]) for n in range(workers)]
    started = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:
        pool.map(_bare_upserts, shares)
    return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/creator_roi_bench_drain")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--pay", action="store_true", help="creators paid under plans: the ledger writes lines")
    args = parser.parse_args()

    shop_id = fresh_database(args.database_url, pay=args.pay)
    env = _env(args.database_url, args.redis_url)
    bodies = order_bodies(args.orders)
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        noop_rate = rq_noop_rate(args.orders, workers, args.redis_url, env)
        simple_rate = rq_noop_rate(args.orders, workers, args.redis_url, env, simple=True)
        rate, outcome = pipeline_rate(bodies, shop_id, workers, args.database_url, args.redis_url, env)
        if outcome.get("processed") != args.orders or outcome["orders"] != args.orders:
            raise SystemExit(f"the drain did not process every event: {outcome}")
        bare = bare_rate(bodies, shop_id, workers, args.database_url)
        rows.append((workers, rate, noop_rate, simple_rate, bare))

    print(
        f"drain: {args.orders} pending orders/create on PostgreSQL, `creator-roi worker --burst` "
        f"(RQ forking Worker), attribution engine included{', creators on pay plans' if args.pay else ''}"
    )
    print(
        f"  {'workers':>7}{'pipeline/s':>12}{'rq no-op/s':>12}{'x no-op':>9}{'simple/s':>10}{'x simple':>10}"
        f"{'bare pg/s':>11}{'x bare':>8}"
    )
    for workers, rate, noop_rate, simple_rate, bare in rows:
        print(
            f"  {workers:>7}{rate:>12.0f}{noop_rate:>12.0f}{rate / noop_rate:>9.2f}{simple_rate:>10.0f}"
            f"{rate / simple_rate:>10.2f}{bare:>11.0f}{rate / bare:>8.2f}"
        )
    print("  rq no-op: the same worker class (forking Worker, one fork per job); simple: RQ's SimpleWorker,")
    print("  for reference only (no fork per job)")
    print("  target: >= 2x the RQ no-op ceiling; as close to the bare PostgreSQL rate as possible")


if __name__ == "__main__":
    main()
