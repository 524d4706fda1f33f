"""Fixtures: a fresh app per test with its own database (PostgreSQL when
TEST_DATABASE_URL is set, else SQLite), real Redis when TEST_REDIS_URL is set,
and a local fake Shopify for the Admin API."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import text

import models
from fake_shopify import FakeShopify
from models.db import make_engine
from plugin import create_app
from worker.runtime import bind

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_FIXTURES = FIXTURES / "shopify"
API_KEY = "test-api-key"
# The fixtures' HMAC headers are computed with this secret (tests/fixtures/shopify/headers.json).
API_SECRET = "creator-roi-test-client-secret-not-real"
SHOP = "lumen-skin.myshopify.com"
OTHER_SHOP = "other-store.myshopify.com"

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or ""


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
def app(app_config: dict[str, Any]):
    application = create_app(app_config)
    yield application
    application.extensions["creator_roi"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def runtime(app):
    return app.extensions["creator_roi"]


@pytest.fixture
def db_session(runtime):
    session = runtime.db.sessionmaker()
    yield session
    session.close()


def session_token(shop: str = SHOP, *, secret: str = API_SECRET, aud: str = API_KEY,
                  exp_in: int = 60, **claims: Any) -> str:
    """A session token as App Bridge mints it (HS256, signed with the app secret)."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": aud, "sub": "42",
        "exp": now + exp_in, "nbf": now - 1, "iat": now - 1, "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def auth_headers(shop: str = SHOP, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop, **kwargs)}"}


class Api:
    """A test client speaking for one shop's admin, with a fresh session token per call."""

    def __init__(self, client: Any, shop: str) -> None:
        self.client, self.shop = client, shop

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**auth_headers(self.shop), **kwargs.pop("headers", {})}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any) -> Any: return self._call("get", path, **kw)
    def post(self, path: str, **kw: Any) -> Any: return self._call("post", path, **kw)
    def patch(self, path: str, **kw: Any) -> Any: return self._call("patch", path, **kw)
    def delete(self, path: str, **kw: Any) -> Any: return self._call("delete", path, **kw)


@pytest.fixture
def api(client) -> Api:
    """Shop A's admin; its first call installs the shop through token exchange."""
    api = Api(client, SHOP)
    assert api.get("/api/v1/shop").status_code == 200
    return api


@pytest.fixture
def other_api(client) -> Api:
    api = Api(client, OTHER_SHOP)
    assert api.get("/api/v1/shop").status_code == 200
    return api


def webhook_headers(topic: str, body: bytes, shop: str = SHOP, *, secret: str = API_SECRET,
                    webhook_id: str | None = None) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-10-14T14:32:10.184224570Z",
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def fixture_delivery(name: str) -> tuple[bytes, dict[str, str]]:
    """A fixture body and the exact headers Shopify sent with it (valid HMAC)."""
    body = (SHOPIFY_FIXTURES / name).read_bytes()
    headers = json.loads((SHOPIFY_FIXTURES / "headers.json").read_text())["deliveries"][name]
    return body, dict(headers)


@pytest.fixture
def run_jobs(runtime):
    """Process every queued job (RQ burst in this process); inline mode has nothing queued."""
    def _run() -> None:
        if not runtime.redis_url:
            return
        from rq import SimpleWorker

        from worker.queue import rq_queue

        with bind(runtime):
            SimpleWorker([rq_queue(runtime)], connection=runtime.redis()).work(burst=True)
    return _run
