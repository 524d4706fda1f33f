"""ROI at scale on PostgreSQL: the report's p95, the worker's attribution rate, the demo's memory.

    python -m bench.roi [--scale 64] [--jobs 2] [--requests 200] [--database-url URL] [--reseed]

Every figure is printed beside a baseline measured in the same run:

1. memory: peak resident memory of `creator-roi demo --scale K` (all its processes), against
   `--scale 1` (one copy: 15 creators, 1,560 first orders). Bounded memory means the two
   are close. The store is seeded through the webhook processing path into its own database,
   kept between runs (K=64 takes a long while; --reseed seeds again and measures again).
2. GET /api/v1/roi?group_by=influencer over the whole period, p50/p95 (in-process WSGI, warm),
   with 1,005 creators (K=64 plus three copies more) and more than 100,000 first orders;
   baseline GET /api/v1/shop (the same session-token check, one shop row). Target: p95 < 100 ms.
   Timed as served (reports kept while the figures stand still) and with the report cache
   off (every request computes: what the first read after a change of figures costs).
   The other groupings and the CSV export are timed the same way.
3. attribution throughput: one copy's 2,754 deliveries (2,543 orders) drained by the worker
   (`worker.jobs.drain_inbox`, in process), orders/s; baselines: the same deliveries drained
   with the engine's entry point swapped for a no-op (the pipeline's own cost), and the
   engine's rebuild (`reattribute_shop`) of the same orders.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench._common import ROOT, build_app, create_database, create_schema, percentile, server_times, vacuum_analyze

SHOP = "bench-roi-store.myshopify.com"
EXTRA_COPIES = 3


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/status") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def run_demo(url: str, shop: str, scale: int, jobs: int) -> tuple[int, float, str]:
    """(peak RSS of the process tree, seconds, first line of output) of `creator-roi demo`."""
    env = dict(os.environ, APP_ENV="development", DATABASE_URL=url)
    env.pop("REDIS_URL", None)
    command = [
        str(Path(sys.executable).parent / "creator-roi"),
        "demo",
        "--shop",
        shop,
        "--scale",
        str(scale),
        "--jobs",
        str(jobs),
        "--reset",
    ]
    started = time.perf_counter()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        log.seek(0)
        raise SystemExit(f"demo --scale {scale} failed:\n{output}\n{log.read()[-3000:]}")
    log.close()
    return peak[0], time.perf_counter() - started, output.splitlines()[0]


def counts(app: Any, shop: str) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from models import Attribution, Influencer, Order
    from worker import installation

    rt = app.extensions["creator_roi"]
    with rt.db.session() as db:
        found = installation.find_shop(db, shop)
        if found is None:
            return 0, 0, 0
        creators = db.scalar(select(func.count()).select_from(Influencer).where(Influencer.shop_id == found.id))
        orders = db.scalar(select(func.count()).select_from(Order).where(Order.shop_id == found.id))
        firsts = db.scalar(
            select(func.count())
            .select_from(Attribution)
            .where(Attribution.shop_id == found.id, Attribution.kind == "first")
        )
    return creators, orders, firsts


def add_copies(app: Any, shop: str, first_copy: int, how_many: int) -> None:
    """More copies of the case study in the same store, through the same path as the demo."""
    from demo.seed import CopySeeder
    from worker import installation

    rt = app.extensions["creator_roi"]
    with rt.db.session() as db:
        found = installation.find_shop(db, shop)
        seeder = CopySeeder(rt, shop, found.id, 2026, date.today() - timedelta(days=1), found.timezone, found.currency)
    for copy in range(first_copy, first_copy + how_many):
        seeder(copy)


def session_headers(app: Any, shop: str) -> dict[str, str]:
    import jwt

    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": app.config["SHOPIFY_API_KEY"],
        "sub": "bench",
        "exp": now + 3600,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode(claims, app.config["SHOPIFY_API_SECRET"], algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def report_range(app: Any, shop: str) -> tuple[str, str]:
    from sqlalchemy import func, select

    from models import Rollup
    from worker import installation

    rt = app.extensions["creator_roi"]
    with rt.db.session() as db:
        found = installation.find_shop(db, shop)
        first, last = db.execute(
            select(func.min(Rollup.day), func.max(Rollup.day)).where(Rollup.shop_id == found.id)
        ).one()
    return first.isoformat(), last.isoformat()


def drain_rate(app: Any, shop: str, noop_engine: bool) -> tuple[int, int, float]:
    """(deliveries, orders, seconds) of one copy's deliveries drained by the worker, in process."""
    from demo import seed as demo
    from models import WebhookEvent
    from worker import engine, installation, jobs
    from worker.runtime import bind

    rt = app.extensions["creator_roi"]
    with rt.db.session() as db:
        found = installation.find_shop(db, shop)
        if found is not None:
            db.delete(found)
            db.execute(WebhookEvent.__table__.delete().where(WebhookEvent.shop_domain == shop))
    with rt.db.session() as db:
        found = installation.install_with_access_token(rt, db, shop, "bench-no-access")
        found.timezone = "America/New_York"
        db.flush()
        shop_id = found.id
    seeder = demo.CopySeeder(rt, shop, shop_id, 7, date(2026, 10, 31), "America/New_York", "USD")
    plan = seeder.plan(0)
    with rt.db.session() as db:
        demo.ensure_campaigns(db, shop_id)
        engine.refresh_activity(db, shop_id, demo.write_registry(db, shop_id, plan))
        db.execute(WebhookEvent.__table__.insert(), demo.inbox_rows(shop, shop_id, plan.deliveries))
    orders = sum(1 for d in plan.deliveries if d.topic == "orders/create")
    real = engine.orders_changed
    if noop_engine:
        engine.orders_changed = lambda *args, **kwargs: None
    try:
        started = time.perf_counter()
        with bind(rt):
            jobs.drain_inbox(shop)
        seconds = time.perf_counter() - started
    finally:
        engine.orders_changed = real
    return len(plan.deliveries), orders, seconds


def rebuild_rate(app: Any, shop: str) -> tuple[int, float]:
    from sqlalchemy import func, select

    from models import Order
    from worker import engine, installation

    rt = app.extensions["creator_roi"]
    with rt.db.session() as db:
        found = installation.find_shop(db, shop)
        orders = db.scalar(select(func.count()).select_from(Order).where(Order.shop_id == found.id))
        started = time.perf_counter()
        engine.reattribute_shop(db, found.id)
        seconds = time.perf_counter() - started
    return orders, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=2, help="processes seeding copies side by side")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--database-url", default=None, help="default: PostgreSQL on 127.0.0.1, database creator_roi_bench_roi_k<scale>"
    )
    parser.add_argument("--reseed", action="store_true", help="drop the benchmark database and seed again")
    args = parser.parse_args()
    url = args.database_url or f"postgresql://postgres@127.0.0.1:5432/creator_roi_bench_roi_k{args.scale}"
    create_database(url, drop=args.reseed)
    create_schema(url)
    app = build_app(url)

    print("1. memory of `creator-roi demo` (peak RSS of all its processes)")
    small_peak, small_seconds, _ = run_demo(url, "bench-roi-baseline.myshopify.com", 1, 1)
    print(f"   baseline --scale 1: {small_peak / 2**20:.0f} MiB, {small_seconds:.0f} s")
    creators, orders, _ = counts(app, SHOP)
    if creators < 15 * args.scale:
        peak, seconds, line = run_demo(url, SHOP, args.scale, args.jobs)
        print(
            f"   --scale {args.scale} --jobs {args.jobs}: {peak / 2**20:.0f} MiB "
            f"({peak / small_peak:.2f}x the baseline; {args.jobs} worker processes), {seconds / 60:.1f} min: {line}"
        )
    else:
        print(f"   --scale {args.scale}: seeded by an earlier run (--reseed measures again)")
    creators, orders, firsts = counts(app, SHOP)
    if creators < 1000:
        add_copies(app, SHOP, args.scale, EXTRA_COPIES)
        creators, orders, firsts = counts(app, SHOP)
    print(f"   store: {creators:,} creators, {orders:,} orders ({firsts:,} first orders)")
    vacuum_analyze(url)

    print(f"2. GET /api/v1/roi at {creators:,} creators, {orders:,} orders ({args.requests} requests each, ms)")
    headers = session_headers(app, SHOP)
    date_from, date_to = report_range(app, SHOP)
    base = server_times(app, "/api/v1/shop", args.requests, headers)
    print(f"   baseline GET /api/v1/shop: p50 {statistics.median(base):.1f}, p95 {percentile(base, 95):.1f}")
    cold_app = build_app(url, cache=False)
    for group in ("influencer", "platform", "campaign", "content_type"):
        path = f"/api/v1/roi?from={date_from}&to={date_to}&group_by={group}"
        times = server_times(app, path, args.requests, headers)
        p95 = percentile(times, 95)
        verdict = f" (target < 100: {'met' if p95 < 100 else 'MISSED'})" if group == "influencer" else ""
        print(
            f"   group_by={group}: p50 {statistics.median(times):.1f}, p95 {p95:.1f}"
            f" = {p95 / percentile(base, 95):.1f}x the baseline{verdict}"
        )
        cold = server_times(cold_app, path, max(20, args.requests // 2), headers)
        print(
            f"     computed on every request (report cache off): p50 {statistics.median(cold):.1f}, "
            f"p95 {percentile(cold, 95):.1f}"
        )
    times = server_times(app, f"/api/v1/roi.csv?from={date_from}&to={date_to}", max(20, args.requests // 4), headers)
    print(f"   roi.csv by influencer: p50 {statistics.median(times):.1f}, p95 {percentile(times, 95):.1f}")

    print("3. attribution in the worker (one copy's deliveries, drained in process)")
    deliveries, order_count, with_engine = drain_rate(app, "bench-roi-drain.myshopify.com", noop_engine=False)
    _, _, without = drain_rate(app, "bench-roi-drain-noop.myshopify.com", noop_engine=True)
    print(
        f"   {deliveries:,} deliveries, {order_count:,} orders: {order_count / with_engine:.0f} orders/s "
        f"({deliveries / with_engine:.0f} deliveries/s) with attribution and rollups"
    )
    print(
        f"   baseline, the pipeline alone (engine swapped for a no-op): {order_count / without:.0f} orders/s; "
        f"the engine costs {with_engine / without:.2f}x the pipeline's time"
    )
    rebuilt, seconds = rebuild_rate(app, "bench-roi-drain.myshopify.com")
    print(f"   rebuild (reattribute_shop) of the same {rebuilt:,} orders: {rebuilt / seconds:.0f} orders/s")
    app.extensions["creator_roi"].db.dispose()
    cold_app.extensions["creator_roi"].db.dispose()


if __name__ == "__main__":
    main()
