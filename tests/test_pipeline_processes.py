"""The pipeline as separate processes: gunicorn ingesting, RQ workers draining, a worker
killed with SIGKILL mid-batch, and the worker's periodic sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from factories import SHOP
from factories.registry import install_shop
from factories.shopify import (
    CUSTOMER_JORDAN,
    ORDER_1001,
    ORDER_1002,
    REFUND_1001,
    fixture_text,
    recorded_delivery,
    with_ids,
)
from models import Order, WebhookEvent
from processes import free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _env(app_config: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    for key in (
        "APP_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "SHOPIFY_API_KEY",
        "SHOPIFY_API_SECRET",
        "SHOPIFY_ADMIN_BASE_URL",
        "SHOPIFY_APP_URL",
    ):
        env[key] = str(app_config[key])
    env["REDIS_URL"] = app_config.get("REDIS_URL") or ""
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cli(app_config: dict[str, Any], *args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "creator-roi"), *args],
        cwd=ROOT,
        env=_env(app_config),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _status_counts(runtime: Any) -> dict[str, int]:
    with runtime.db.session() as session:
        rows = session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all()
    return {status: n for status, n in rows}


def _totals(runtime: Any) -> tuple[int, Decimal]:
    with runtime.db.session() as session:
        number, net = session.execute(select(func.count(Order.id), func.sum(Order.net_sales))).one()
    return number, Decimal(net or 0)


def _store_pending_story(runtime: Any, shop_id: int, orders: int) -> tuple[int, Decimal]:
    """Orders, duplicate deliveries and refunds (some before their order) left pending;
    returns the totals a correct run must reach."""
    order_body = fixture_text("orders_create_link.json")  # subtotal 70.00
    refund_body = fixture_text("refunds_create_partial.json")  # 36.89 of order #1001
    rows = []
    for number in range(orders):
        order_id = 6300000000000 + number
        body = with_ids(order_body, {ORDER_1002: order_id, CUSTOMER_JORDAN: 8300000000000 + number})
        if number % 3 == 0:  # a refund, arriving before its order every other time
            refund = with_ids(refund_body, {ORDER_1001: order_id, REFUND_1001: 9300000000000 + number})
            rows.append(("refunds/create", refund) if number % 2 else None)
            rows.append(("orders/create", body))
            rows.append(None if number % 2 else ("refunds/create", refund))
        else:
            rows.append(("orders/create", body))
        if number % 5 == 0:
            rows.append(("orders/paid", body))
    rows = [r for r in rows if r is not None]
    with runtime.db.session() as session:
        session.execute(
            WebhookEvent.__table__.insert(),
            [
                {
                    "shop_domain": SHOP,
                    "shop_id": shop_id,
                    "webhook_id": f"story-{n}",
                    "topic": topic,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                }
                for n, (topic, body) in enumerate(rows)
            ],
        )
    refunded = len(range(0, orders, 3))
    return orders, Decimal("70.00") * orders - Decimal("36.89") * refunded


def _wait_for(condition, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def _no_dangling_transactions(runtime: Any) -> bool:
    if runtime.db.is_sqlite:
        return True
    with runtime.db.engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            ).scalar()
            == 0
        )


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(app_config, runtime, tmp_path):
    shop_id = install_shop(runtime)
    expected = _store_pending_story(runtime, shop_id, orders=1500)
    total_events = sum(_status_counts(runtime).values())
    log = tmp_path / "worker.log"
    if runtime.redis_url:
        first = _cli(app_config, "worker", log=log)
        from worker import jobs
        from worker.runtime import bind

        with bind(runtime):
            jobs.sweep(runtime)
    else:  # no Redis: the sweep drains inline, in its own process
        first = _cli(app_config, "sweep", log=log)
    try:
        assert _wait_for(lambda: _status_counts(runtime).get("processed", 0) > 0, timeout=60), log.read_text()
    finally:
        _kill(first)
    interrupted = _status_counts(runtime)
    assert interrupted.get("pending", 0) > 0, "the worker finished before it could be killed"

    assert _wait_for(lambda: _no_dangling_transactions(runtime), timeout=10)
    if runtime.redis_url:
        rerun = subprocess.run(
            [str(BIN / "creator-roi"), "worker", "--burst"],
            cwd=ROOT,
            env=_env(app_config),
            capture_output=True,
            timeout=300,
        )
    else:
        rerun = subprocess.run(
            [str(BIN / "creator-roi"), "sweep"], cwd=ROOT, env=_env(app_config), capture_output=True, timeout=300
        )
    assert rerun.returncode == 0, rerun.stdout.decode()[-3000:] + rerun.stderr.decode()[-3000:]

    assert _status_counts(runtime) == {"processed": total_events}
    assert _totals(runtime) == expected
    with runtime.db.session() as session:
        assert set(session.scalars(select(WebhookEvent.attempts).distinct())) == {1}


@pytest.fixture
def gunicorn(app_config, tmp_path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "plugin:create_app()",
        ],
        cwd=ROOT,
        env=_env(app_config),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert _wait_for(up, timeout=30, interval=0.1), log.read_text()
        yield url
    finally:
        _kill(process)


def test_gunicorn_stores_each_delivery_once_under_concurrent_retries(gunicorn, runtime, run_jobs):
    install_shop(runtime)
    deliveries = [
        recorded_delivery(name)
        for name in ("orders_create_code.json", "refunds_create_partial.json", "orders_updated_cancelled.json")
    ]
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()

    def post(body: bytes, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=10) as client:
            started = time.monotonic()
            status = client.post(f"{gunicorn}/webhooks", content=body, headers=headers).status_code
            with lock:
                answers.append((status, time.monotonic() - started))

    threads = [threading.Thread(target=post, args=delivery) for delivery in deliveries for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_jobs()

    assert [status for status, _ in answers] == [200] * 24
    assert max(seconds for _, seconds in answers) < 5
    assert _status_counts(runtime) == {"processed": 3}
    assert _totals(runtime) == (1, Decimal("0.00"))
    with runtime.db.session() as session:
        assert session.scalar(select(Order.cancelled_at).where(Order.shopify_id == ORDER_1001)) is not None


def test_a_running_worker_sweeps_on_its_own(app_config, runtime, tmp_path):
    if not runtime.redis_url:
        pytest.skip("the worker needs Redis (TEST_REDIS_URL)")
    shop_id = install_shop(runtime)
    worker = _cli(app_config, "worker", "--sweep-interval", "5", log=tmp_path / "worker.log")
    try:
        time.sleep(1)  # the first sweep finds nothing
        expected = _store_pending_story(runtime, shop_id, orders=30)  # stored, but no drain scheduled
        assert _wait_for(lambda: set(_status_counts(runtime)) == {"processed"}, timeout=40, interval=0.2), (
            tmp_path / "worker.log"
        ).read_text()[-3000:]
    finally:
        _kill(worker)
    assert _totals(runtime) == expected
