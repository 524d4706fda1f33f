"""Everything a test builds, in one place: who the test app and its shops are, and where the
fixture files live. Tests import the rest from the module that says what it builds:

    factories.admin     a shop's admin as App Bridge speaks for it: session tokens, auth headers, `Api`
    factories.shopify   fixture files (one loader), the fixtures' ids, webhook signatures, Shopify-shaped
                        orders and refunds, load traffic built from the fixtures
    factories.webhooks  deliveries: POSTed to /webhooks like Shopify, or stored and processed in process
    factories.registry  shops, creators, codes, links, clicks, costs and posts: through the API as a
                        merchant would, or straight in the database when a test needs exact ids and times
    factories.store     what is stored afterwards: deliveries, orders, attributions, rollup cells

Fixtures (app, client, api, run_jobs ...) stay in conftest.py; real processes (a private PostgreSQL,
gunicorn, workers) are in processes.py. Nothing here does I/O at import."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHOPIFY_FIXTURES = FIXTURES / "shopify"
CDNOW_FIXTURES = FIXTURES / "cdnow"

API_KEY = "test-api-key"
# The fixtures' recorded HMAC headers are computed with this secret (fixtures/shopify/headers.json).
API_SECRET = "creator-roi-test-client-secret-not-real"
SHOP = "lumen-skin.myshopify.com"
OTHER_SHOP = "other-store.myshopify.com"
# The shops the fake Shopify installs are in New York (its `ianaTimezone`), so their days are not
# UTC's: from midnight to 5 a.m. UTC the shop's today is still UTC's yesterday.
SHOP_ZONE = ZoneInfo("America/New_York")


def shop_today() -> date:
    """Today in the test shops' time zone, as the app counts days (plans, payouts, ranges)."""
    return datetime.now(SHOP_ZONE).date()


# CI sets these to run the suite on PostgreSQL and Redis; unset, tests use SQLite and inline jobs.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or ""
