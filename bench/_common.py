"""What the benchmarks share: the app, a PostgreSQL database of their own, a store installed in it,
in-process request timings and their percentiles, a free port."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def create_database(url: str, *, drop: bool = False) -> None:
    """The PostgreSQL database `url` names: dropped first with `drop`, created when missing."""
    from sqlalchemy import text

    from models.db import make_engine

    base, name = url.rsplit("/", 1)
    admin = make_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if drop:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def create_schema(url: str) -> None:
    """The models' tables, where missing."""
    import models
    from models.db import make_engine

    engine = make_engine(url)
    models.Base.metadata.create_all(engine)
    engine.dispose()


def build_app(url: str, cache: bool = True) -> Any:
    """The app as `make demo` configures it, without Redis (jobs run inline), logging warnings
    only (a line per webhook is noise here); `cache=False`: without the report cache, so every
    request computes its figures."""
    import logging

    from plugin import create_app

    config = {"APP_ENV": "development", "DATABASE_URL": url, "REDIS_URL": None}
    app = create_app(config if cache else {**config, "REPORT_CACHE_ROWS": 0})
    logging.getLogger().setLevel(logging.WARNING)
    return app


def vacuum_analyze(url: str) -> None:
    """Fresh statistics and visibility maps after seeding, as autovacuum would leave them in a
    while (reads are timed on a settled database, not one seconds after a bulk load)."""
    from models.db import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def fresh_store(url: str, shop: str) -> int:
    """A new database with the schema and `shop` installed (a custom-app token); its id."""
    from worker import installation
    from worker.runtime import Runtime

    create_database(url, drop=True)
    create_schema(url)
    rt = Runtime.from_env({"DATABASE_URL": url})
    with rt.db.session() as session:
        shop_id = installation.install_with_access_token(rt, session, shop, "shpat_bench").id
    rt.db.dispose()
    return shop_id


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


def server_times(app: Any, path: str, count: int, headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds of `count` GETs of `path` through the app in process, after five to warm
    up (imports, caches, the connection pool); every answer must be a 200."""
    client = app.test_client()
    headers = headers or {}
    for _ in range(5):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
