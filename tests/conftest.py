"""Fixtures: a fresh app per test with its own database (PostgreSQL when TEST_DATABASE_URL is
set, else SQLite), real Redis when TEST_REDIS_URL is set, and a local fake Shopify for the Admin
API. What tests build (tokens, deliveries, payloads, rows) is in factories/; real processes are in
processes.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import models
from factories import API_KEY, API_SECRET, OTHER_SHOP, SHOP, TEST_DATABASE_URL, TEST_REDIS_URL
from factories.admin import Api
from factories.webhooks import run_queued_jobs
from fake_shopify import FakeShopify
from models.db import make_engine
from plugin import create_app


@pytest.fixture(scope="session")
def pg_database_url(worker_id: str) -> Iterator[str]:
    """One PostgreSQL database per xdist worker, schema from the models; emptied after each test."""
    if not TEST_DATABASE_URL:
        yield ""
        return
    name = f"creator_roi_test_{worker_id}_{os.getpid()}"
    admin = make_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(pg_database_url: str, tmp_path: Path) -> Iterator[str]:
    if not pg_database_url:
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        engine = make_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    yield pg_database_url
    engine = make_engine(pg_database_url)
    tables = ", ".join(f'"{t.name}"' for t in models.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str | None]:
    if not TEST_REDIS_URL:
        yield None
        return
    from redis import Redis

    # One Redis database per test process, so parallel runs never flush each other.
    url = TEST_REDIS_URL.rsplit("/", 1)[0] + f"/{1 + os.getpid() % 15}"
    client = Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def fake_shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify(api_key=API_KEY, api_secret=API_SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(database_url: str, redis_url: str | None, fake_shopify: FakeShopify) -> dict[str, Any]:
    return {
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_ADMIN_BASE_URL": fake_shopify.base_url,
        "SHOPIFY_APP_URL": "https://creator-roi.test",
    }


@pytest.fixture
def app(app_config: dict[str, Any]):  # type: ignore[no-untyped-def]
    application = create_app(app_config)
    yield application
    application.extensions["creator_roi"].db.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def runtime(app):  # type: ignore[no-untyped-def]
    return app.extensions["creator_roi"]


@pytest.fixture
def db_session(runtime):  # type: ignore[no-untyped-def]
    session = runtime.db.sessionmaker()
    yield session
    session.close()


@pytest.fixture
def api(client) -> Api:  # type: ignore[no-untyped-def]
    """Shop A's admin; its first call installs the shop through token exchange."""
    api = Api(client, SHOP)
    assert api.get("/api/v1/shop").status_code == 200
    return api


@pytest.fixture
def other_api(client) -> Api:  # type: ignore[no-untyped-def]
    api = Api(client, OTHER_SHOP)
    assert api.get("/api/v1/shop").status_code == 200
    return api


@pytest.fixture
def run_jobs(runtime):  # type: ignore[no-untyped-def]
    """Process every queued job (RQ burst in this process); inline mode has nothing queued."""

    def _run() -> None:
        run_queued_jobs(runtime)

    return _run
