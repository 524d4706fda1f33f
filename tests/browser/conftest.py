"""The browser tests' fixtures: Chromium, and the demo store seeded once per test module (as
`make demo` runs it) behind a live server; `fresh` serves the test's own empty store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from browsing import CHROMIUM, CHROMIUM_ARGS, LiveServer, answer, drain_jobs
from sqlalchemy import text

from factories import API_KEY, API_SECRET, TEST_DATABASE_URL, TEST_REDIS_URL
from fake_shopify import FakeShopify


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (`make chromium` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory, worker_id) -> Iterator[str]:
    """One database for this module: seeding the case study takes a while, so it is done once."""
    import models
    from models.db import make_engine

    if not TEST_DATABASE_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
        engine = make_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    name = f"creator_roi_browser_{worker_id}_{os.getpid()}"
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


@pytest.fixture(scope="module")
def demo_fake() -> Iterator[FakeShopify]:
    fake = FakeShopify(api_key=API_KEY, api_secret=API_SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def dev_app(demo_database, demo_fake):
    """The app as `make demo` runs it: development mode, so the demo login is on."""
    from plugin import create_app

    redis_url = None
    if TEST_REDIS_URL:
        redis_url = TEST_REDIS_URL.rsplit("/", 1)[0] + f"/{1 + os.getpid() % 15}"  # as conftest picks
    application = create_app(
        {
            "APP_ENV": "development",
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": demo_database,
            "REDIS_URL": redis_url,
            "SHOPIFY_API_KEY": API_KEY,
            "SHOPIFY_API_SECRET": API_SECRET,
            "SHOPIFY_ADMIN_BASE_URL": demo_fake.base_url,
            "SHOPIFY_APP_URL": "https://creator-roi.test",
        }
    )
    yield application
    application.extensions["creator_roi"].db.dispose()


@pytest.fixture(scope="module")
def demo_shop(dev_app, demo_fake) -> str:
    """The seeded case-study store, installed with a token the fake Shopify honours."""
    if "demo" not in dev_app.cli.commands:
        pytest.skip("`creator-roi demo` (the case-study seeding) is not available in this build")
    shop = dev_app.config["DEMO_SHOP"]
    if dev_app.extensions["creator_roi"].redis_url:
        dev_app.extensions["creator_roi"].redis().flushdb()
    runner = dev_app.test_cli_runner()
    added = runner.invoke(args=["shop", "add", shop, "--token", demo_fake.issue_token(shop)])
    assert added.exit_code == 0, added.output
    seeded = runner.invoke(args=["demo", "--shop", shop])
    assert seeded.exit_code == 0, seeded.output
    drain_jobs(dev_app)
    return shop


@pytest.fixture(scope="module")
def live(dev_app, demo_shop) -> Iterator[LiveServer]:
    with LiveServer(dev_app) as server:
        yield server


@pytest.fixture
def page(browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.route("https://cdn.shopify.com/**", lambda route: route.abort())  # offline, as in CI
    failures: list[str] = []
    tab.on("pageerror", lambda exc: failures.append(f"script error: {exc}"))
    tab.on("dialog", lambda dialog: answer(dialog, failures))
    yield tab
    context.close()
    assert not failures, failures


@pytest.fixture
def fresh(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
