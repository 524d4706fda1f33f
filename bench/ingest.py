"""Webhook ingest throughput: `POST /webhooks` behind gunicorn, against a bare Flask endpoint
that only checks the HMAC, same gunicorn flags, same load, same run.

    python -m bench.ingest [--requests 2000] [--concurrency 16] [--rounds 6]
                           [--database-url URL] [--redis-url URL]

The real endpoint verifies the HMAC (shopify_app), has PostgreSQL check the body is a JSON
object as it inserts the inbox row (ON CONFLICT on the webhook id; deliveries that arrive
together share one INSERT), commits, and makes sure the shop has a drain waiting (Redis);
no worker runs, so events stay pending. The baseline does the same verification and
nothing else. Every request carries the 13 KB `orders/create` fixture with a fresh webhook
id. Each round runs both endpoints one right after the other (in alternating order); the
ratio printed is the median of the rounds' paired ratios (target >= 0.5x), the table the
medians of requests/s, p50/p99 latency and CPU.

A third baseline is the inbox INSERT alone, one row per statement (autocommit, as many
connections as gunicorn has threads, no web server). Each run also reads the machine's busy
CPU time, so every line carries CPU ms per request (load generator, server, PostgreSQL and
Redis together): what the bare endpoint plus one such INSERT per delivery would reach on
the same cores is printed beside what /webhooks spends beyond them. The machine's context
switches per request are counted too: a delivery's commit is a blocking round trip, and
each switch it causes costs CPU the bare endpoint never spends.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, free_port, fresh_store

SHOP = "bench-store.myshopify.com"
SECRET = "creator-roi-bench-secret"
FIXTURE = ROOT / "tests" / "fixtures" / "shopify" / "orders_create_code.json"
RECONNECT_EVERY = 20
GUNICORN_FLAGS = os.environ.get("BENCH_GUNICORN_FLAGS", "--workers 2 --threads 4").split()


def bare_app() -> Any:
    """The baseline: verify the webhook HMAC as /webhooks does, answer 200, nothing more."""
    from flask import Flask, request
    from shopify_app import ShopifyApp

    app = Flask("bare_webhook")
    verifier = ShopifyApp(os.environ.get("SHOPIFY_API_KEY", "bench"), os.environ["SHOPIFY_API_SECRET"])

    @app.post("/webhooks")
    def webhooks() -> Any:
        raw = request.get_data()
        result = verifier.verify_webhook_req(
            {"method": "POST", "headers": dict(request.headers), "url": request.url, "body": raw.decode("utf-8")}
        )
        return ("", 200) if result.ok else ("", result.response.status)

    @app.get("/healthz")
    def healthz() -> Any:
        return "ok"

    return app


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        APP_ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SHOPIFY_API_KEY="bench",
        SHOPIFY_API_SECRET=SECRET,
        SECRET_KEY="bench",
        PYTHONPATH=str(ROOT),
    )
    return env


class Server:
    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [gunicorn, "--bind", f"127.0.0.1:{self.port}", *GUNICORN_FLAGS, target],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{target} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _client(args: tuple[int, str, int, int]) -> tuple[list[float], int]:
    """One load process: `threads` keep-alive connections sending `count` requests each."""
    port, prefix, threads, count = args
    body = FIXTURE.read_bytes()
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(thread: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        for number in range(count):
            if number and number % RECONNECT_EVERY == 0:
                # A fresh connection now and then, as from many senders, so that every
                # gunicorn worker gets its share (a long-lived one sticks to one worker).
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": digest,
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-API-Version": "2026-10",
                "X-Shopify-Webhook-Id": f"{prefix}-{thread}-{number}",
                "X-Shopify-Triggered-At": "2026-10-14T14:32:10.184224570Z",
            }
            started = time.perf_counter()
            conn.request("POST", "/webhooks", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, errors[0]


def load(pool: Any, port: int, prefix: str, requests: int, concurrency: int, processes: int) -> dict[str, float]:
    threads = max(1, concurrency // processes)
    per_thread = max(1, requests // (threads * processes))
    started = time.perf_counter()
    results = pool.map(_client, [(port, f"{prefix}-{p}", threads, per_thread) for p in range(processes)])
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    errors = sum(e for _, e in results)
    return {
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "sent": len(latencies),
    }


def context_switches() -> int:
    """Context switches the whole machine has made (every process and thread)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                return int(line.split()[1])
    return 0


def cpu_busy() -> float:
    """Seconds of CPU the whole machine has spent busy (all processes: load, server, database)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def bare_inserts(database_url: str, count: int, threads: int) -> dict[str, float]:
    """The third baseline: the inbox INSERT of /webhooks alone (the same statement, body and
    autocommit), from `threads` psycopg connections, with no web server and no HMAC."""
    import psycopg

    from models.db import utcnow
    from models.inbox_writer import Delivery, group_insert_sql, row_params

    sql = group_insert_sql(1)
    body = FIXTURE.read_text()
    per_thread = max(1, count // threads)
    url = database_url.replace("postgresql+psycopg://", "postgresql://")

    def run(thread: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for number in range(per_thread):
                conn.execute(
                    sql,
                    row_params(
                        [
                            Delivery(
                                shop_domain=SHOP,
                                webhook_id=f"bare-insert-{time.time_ns()}-{thread}-{number}",
                                topic="orders/create",
                                body=body,
                                api_version="2026-10",
                                triggered_at=None,
                                event_id=None,
                                received_at=utcnow(),
                                any_shop=False,
                            )
                        ]
                    ),
                ).fetchone()

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    started, busy, switches = time.perf_counter(), cpu_busy(), context_switches()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, busy = time.perf_counter() - started, cpu_busy() - busy
    count = per_thread * threads
    return {"rate": count / elapsed, "cpu_ms": busy * 1000 / count, "switches": (context_switches() - switches) / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/creator_roi_bench_ingest")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    fresh_store(args.database_url, SHOP)
    from redis import Redis

    Redis.from_url(args.redis_url).flushdb()
    env = _env(args.database_url, args.redis_url)
    targets = {"bare": "bench.ingest:bare_app()", "webhooks": "plugin:create_app()"}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    ratios: list[float] = []
    sent = 0
    with multiprocessing.Pool(args.processes) as pool:
        for round_number in range(args.rounds):
            # Each round runs both, one right after the other, in alternating order: this
            # machine's speed drifts by a third over minutes, so only a pair run together
            # compares like with like.
            order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
            for name in order:
                server = Server(targets[name], env)
                try:
                    warm = load(pool, server.port, f"warm-{round_number}-{name}", 200, args.concurrency, args.processes)
                    busy, switches = cpu_busy(), context_switches()
                    figures = load(
                        pool, server.port, f"r{round_number}-{name}", args.requests, args.concurrency, args.processes
                    )
                    figures["cpu_ms"] = (cpu_busy() - busy) * 1000 / figures["sent"]
                    figures["switches"] = (context_switches() - switches) / figures["sent"]
                finally:
                    server.stop()
                if name == "webhooks":
                    sent += figures["sent"] + warm["sent"]
                if figures["errors"]:
                    raise SystemExit(f"{name}: {figures['errors']} requests did not answer 200")
                runs[name].append(figures)
            ratios.append(runs["webhooks"][-1]["rate"] / runs["bare"][-1]["rate"])
    typical = {
        name: {key: statistics.median(run[key] for run in runs[name]) for key in runs[name][0]} for name in targets
    }

    # As many connections as gunicorn has threads: the most inserts /webhooks runs at once.
    flags = dict(zip(GUNICORN_FLAGS[::2], GUNICORN_FLAGS[1::2]))
    threads = int(flags.get("--workers", 1)) * int(flags.get("--threads", 1))
    inserts = max((bare_inserts(args.database_url, args.requests, threads) for _ in range(2)), key=lambda f: f["rate"])

    from sqlalchemy import func, select

    from models import Database, WebhookEvent

    db = Database(args.database_url)
    with db.session() as session:
        stored = session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.webhook_id.not_like("bare-insert-%"))
        )
    db.dispose()
    ratio = statistics.median(ratios)
    print(
        f"ingest: POST /webhooks under gunicorn {' '.join(GUNICORN_FLAGS)}, {args.concurrency} concurrent "
        f"keep-alive clients, 13 KB orders/create bodies, PostgreSQL + Redis, medians of {args.rounds} rounds"
    )
    print(f"  {'endpoint':<38}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'switches/req':>14}")
    for name, label in (("bare", "bare Flask, HMAC check only"), ("webhooks", "/webhooks (verify, store, schedule)")):
        f = typical[name]
        print(
            f"  {label:<38}{f['rate']:>9.0f}{f['p50']:>9.1f}{f['p99']:>9.1f}{f['cpu_ms']:>12.2f}{f['switches']:>14.1f}"
        )
    print(
        f"  {f'the inbox INSERT alone, {threads} conns':<38}{inserts['rate']:>9.0f}{'':>18}{inserts['cpu_ms']:>12.2f}"
        f"{inserts['switches']:>14.1f}"
    )
    print(
        f"  ratio /webhooks : bare = {ratio:.2f}x, median of the rounds' paired ratios "
        f"({', '.join(f'{r:.2f}' for r in ratios)})  (target >= 0.5x)"
    )
    # CPU ms per request is the whole machine's (load generator, gunicorn, PostgreSQL, Redis):
    # with every core busy, /webhooks can go no faster than the bare endpoint plus the insert.
    ceiling = typical["bare"]["cpu_ms"] / (typical["bare"]["cpu_ms"] + inserts["cpu_ms"])
    print(
        f"  bare endpoint + one single-row INSERT per delivery, on the same cores: {ceiling:.2f}x; "
        f"/webhooks spends {typical['webhooks']['cpu_ms'] - typical['bare']['cpu_ms'] - inserts['cpu_ms']:+.2f} "
        f"CPU ms/req beyond the two"
    )
    print(f"  inbox rows stored by /webhooks: {stored} (deliveries sent, warm-up included: {sent})")


if __name__ == "__main__":
    main()
