"""Load: realistic webhook traffic with concurrent dashboard and API reads, then reconciliation.

    python -m bench.load [--orders 3000] [--concurrency 16] [--readers 4] [--max-seconds 300]
                         [--database-url URL] [--redis-url URL]

Starts gunicorn (2 workers × 4 threads) and two `creator-roi worker` processes against
PostgreSQL and Redis on this machine (loopback only), sets up 20 creators with codes and
referral links, clicks the links through /r/<slug> to get real click ids, then sends
orders/create deliveries (half by code, half by link), orders/updated for one in five,
refunds for one in ten and a re-delivery (same webhook id) for one in twenty, while
readers poll /api/v1/roi and /app. Bounded in count (--orders ≤ 20,000) and time.

Prints: webhook throughput and p50/p95/p99, read p50/p95/p99, errors, worker lag (time from
the last acknowledged delivery until the inbox is drained) and the reconciliation: orders
sent = orders stored and revenue sent = revenue reported by /api/v1/roi.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
from sqlalchemy import text

from bench._common import ROOT, create_database, percentile

sys.path.insert(0, str(ROOT / "tests"))

import models
from factories import SHOP
from factories.admin import auth_headers
from factories.shopify import as_json, order_from_fixture, refund_from_fixture, webhook_headers
from models.db import make_engine
from processes import AppProcesses, process_env

CREATORS = 20
TODAY = time.gmtime()
ROI_PATH = f"/api/v1/roi?group_by=influencer&from={TODAY.tm_year - 1}-01-01&to={TODAY.tm_year + 1}-12-31"


def stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(seconds))


def percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "n/a"
    return ", ".join(f"p{p} {percentile(seconds, p) * 1000:.1f} ms" for p in (50, 95, 99))


def fresh_database(url: str) -> str:
    url = url.rsplit("/", 1)[0] + "/creator_roi_load"
    create_database(url, drop=True)
    return url


def set_up_store(procs: AppProcesses, database_url: str) -> list[tuple[str, str]]:
    procs.cli("db", "upgrade")
    procs.cli("shop", "add", SHOP, "--token", "shpat_load_test")
    db = models.Database(database_url)
    creators: list[tuple[str, str]] = []
    with db.session() as session:
        shop = session.query(models.Shop).one()
        for i in range(CREATORS):
            creator = models.Influencer(
                shop_id=shop.id,
                name=f"Creator {i}",
                handle=f"creator.{i}",
                platform=random.choice(["instagram", "tiktok", "youtube"]),
            )
            session.add(creator)
            session.flush()
            session.add(models.DiscountCode(shop_id=shop.id, influencer_id=creator.id, code=f"LOAD{i}"))
            session.add(models.ReferralLink(shop_id=shop.id, influencer_id=creator.id, slug=f"load-{i}"))
            creators.append((f"LOAD{i}", f"load-{i}"))
    db.dispose()
    return creators


def click(base_url: str, slug: str) -> str:
    response = httpx.get(f"{base_url}/r/{slug}", headers={"User-Agent": "Mozilla/5.0 (load test)"})
    location = httpx.URL(response.headers["location"])
    return location.params["crid"]


def deliveries(
    orders: int, creators: list[tuple[str, str]], base_url: str, rng: random.Random
) -> tuple[list[tuple[str, bytes, str]], Decimal]:
    out: list[tuple[str, bytes, str]] = []
    revenue = Decimal("0.00")
    for i in range(orders):
        code, slug = creators[i % len(creators)]
        crid = click(base_url, slug) if i % 2 else None
        # Each order a second after its click (preparing thousands of clicks takes a while).
        now = time.time() + 1
        order_id = 5_100_000_000_000 + i
        subtotal = Decimal(rng.randint(1500, 25000)) / 100
        body = order_from_fixture(
            order_id,
            70000 + i,
            subtotal,
            6_100_000_000_000 + i,
            created_at=stamp(now + 1),
            processed_at=stamp(now + 1),
            updated_at=stamp(now + 2),
        )
        if crid is not None:
            body.update(
                discount_codes=[], discount_applications=[], landing_site=f"/?ref={slug}&crid={crid}&utm_medium=creator"
            )
        else:
            body["discount_codes"] = [{"code": code, "amount": "1.00", "type": "percentage"}]
        out.append(("orders/create", as_json(body).encode(), f"load-create-{i}"))
        if i % 5 == 0:
            updated = dict(body, updated_at=stamp(now + 60), financial_status="paid")
            out.append(("orders/updated", as_json(updated).encode(), f"load-updated-{i}"))
        net = subtotal
        if i % 10 == 3:
            amount = Decimal("4.00")
            refund = refund_from_fixture(5_200_000_000_000 + i, order_id, amount)
            out.append(("refunds/create", as_json(refund).encode(), f"load-refund-{i}"))
            net -= amount
        if i % 20 == 7:
            out.append(out[-1])  # Shopify re-delivers: same webhook id
        revenue += net
    rng.shuffle(out)
    return out, revenue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    orders = min(args.orders, 20_000)
    deadline = time.monotonic() + args.max_seconds
    rng = random.Random(42)

    database_url = fresh_database(args.database_url)
    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    procs = AppProcesses(process_env(database_url, args.redis_url))
    try:
        creators = set_up_store(procs, database_url)
        procs.start_web()
        procs.start_worker()
        procs.start_worker()
        base = procs.base_url
        print(f"load: preparing {orders} orders (half by code, half by clicked link)...", flush=True)
        batch, revenue_sent = deliveries(orders, creators, base, rng)

        hook_latency: list[float] = []
        read_latency: list[float] = []
        errors: dict[str, int] = {"webhook_non_2xx": 0, "webhook_5xx": 0}
        lock = threading.Lock()
        sending = threading.Event()
        sending.set()
        client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64))

        def send(item: tuple[str, bytes, str]) -> None:
            topic, body, webhook_id = item
            headers = webhook_headers(topic, body, SHOP, webhook_id=webhook_id)
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status = client.post(f"{base}/webhooks", content=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = 599
                with lock:
                    hook_latency.append(time.perf_counter() - started)
                    if not 200 <= status < 300:
                        errors["webhook_non_2xx"] += 1
                        errors["webhook_5xx"] += status >= 500
                if 200 <= status < 300:
                    return
                time.sleep(0.2)  # Shopify retries

        def read() -> None:
            paths = [ROI_PATH, "/app", "/api/v1/sync"]
            i = 0
            while sending.is_set() and time.monotonic() < deadline:
                path = paths[i % len(paths)]
                i += 1
                started = time.perf_counter()
                try:
                    status = client.get(f"{base}{path}", headers=auth_headers(SHOP)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    read_latency.append(time.perf_counter() - started)
                    if status != 200:
                        key = f"read {path.split('?')[0]} {status}"
                        errors[key] = errors.get(key, 0) + 1

        readers = [threading.Thread(target=read, daemon=True) for _ in range(args.readers)]
        for thread in readers:
            thread.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(send, batch))
        sent_seconds = time.perf_counter() - started
        sending.clear()
        for thread in readers:
            thread.join()

        engine = make_engine(database_url)
        lag_started = time.perf_counter()
        max_pending = 0
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(
                    text("SELECT count(*) FROM webhook_events WHERE status NOT IN ('processed', 'ignored')")
                ).scalar()
            max_pending = max(max_pending, pending or 0)
            if not pending:
                break
            time.sleep(0.25)
        lag = time.perf_counter() - lag_started
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM orders")).scalar()
            events = conn.execute(text("SELECT count(*) FROM webhook_events")).scalar()
        engine.dispose()
        report = client.get(f"{base}{ROI_PATH}", headers=auth_headers(SHOP)).json()
        revenue_reported = Decimal(report["totals"]["revenue"]) + Decimal(report["totals"]["repeat_revenue"])
        client.close()

        print(
            f"deliveries: {len(batch)} ({events} distinct stored) in {sent_seconds:.1f} s = "
            f"{len(batch) / sent_seconds:.0f}/s; webhook latency {percentiles(hook_latency)}"
        )
        print(f"reads: {len(read_latency)} during ingest; latency {percentiles(read_latency)}")
        print(f"errors: {errors}")
        print(f"worker lag after the last 2xx: {lag:.1f} s (events still waiting then: {max_pending})")
        print(
            f"reconciliation: orders sent {orders}, stored {stored}, attributed first orders "
            f"{report['totals']['orders']}; revenue sent {revenue_sent}, reported {revenue_reported} -> "
            f"{'OK' if stored == orders and revenue_reported == revenue_sent else 'MISMATCH'}"
        )
    finally:
        procs.stop()


if __name__ == "__main__":
    main()
