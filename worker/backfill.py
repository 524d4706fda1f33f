"""History import: past orders and refunds through the Admin GraphQL API, so ROI covers
codes that were in use before the app was installed.

Orders come through `worker.shopify_admin.fetch_orders` (the paginated `orders`
query) already in the REST webhook shape, and go through the same upsert as
webhooks: a payload older than what a webhook stored changes nothing.
Installing a shop schedules an import (`worker.jobs.schedule_backfill`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models import Database, Shop, utcnow
from worker import engine, installation, shopify_admin
from worker.batch import Batch
from worker.inbox import job_database, write_session
from worker.order_store import apply_order_payload
from worker.payloads import optional_id
from worker.runtime import Runtime

log = logging.getLogger("creator_roi.backfill")

# `read_orders` reaches the last 60 days; older orders need the `read_all_orders` scope.
DEFAULT_DAYS = 60
ALL_ORDERS_SCOPE = "read_all_orders"
ORDERS_PER_TRANSACTION = 50


class BackfillNotAllowed(ValueError):
    """More history than the shop's scopes reach."""


def reachable(scopes: str | None, days: int) -> bool:
    granted = {s.strip() for s in (scopes or "").split(",")}
    return days <= DEFAULT_DAYS or ALL_ORDERS_SCOPE in granted


@dataclass
class BackfillResult:
    shop: str
    days: int
    fetched: int = 0
    changed: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_orders(rt: Runtime, shop_id: int, days: int, job_id: str) -> dict[str, Any]:
    """Import the shop's orders of the last `days` days (idempotent), a transaction per page."""
    db = job_database(rt)
    with db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.is_installed:
            log.info("event=backfill_skipped shop_id=%s job_id=%s reason=not_installed", shop_id, job_id)
            return {"shop_id": shop_id, "skipped": "not installed"}
        if not reachable(shop.scopes, days):
            log.info(
                "event=backfill_limited shop=%s job_id=%s days=%d reach=%d", shop.domain, job_id, days, DEFAULT_DAYS
            )
            days = DEFAULT_DAYS
        token = installation.access_token_for(rt, session, shop)
        domain = shop.domain
    result = BackfillResult(domain, days)
    log.info("event=backfill_started shop=%s job_id=%s days=%d", domain, job_id, days)
    since = utcnow() - timedelta(days=days)
    page: list[Mapping[str, Any]] = []
    try:
        for payload in shopify_admin.fetch_orders(rt.admin, domain, token, since=since):
            page.append(payload)
            if len(page) >= ORDERS_PER_TRANSACTION:
                _store(db, shop_id, page, result, job_id)
                page = []
        _store(db, shop_id, page, result, job_id)
    except shopify_admin.AccessRevoked:
        log.warning(
            "event=backfill_stopped shop=%s job_id=%s reason=access_revoked fetched=%d", domain, job_id, result.fetched
        )
        return {**result.as_dict(), "stopped": "Shopify revoked the access token (app uninstalled?)"}
    log.info(
        "event=backfill_done shop=%s job_id=%s days=%d fetched=%d changed=%d failed=%d",
        domain,
        job_id,
        days,
        result.fetched,
        result.changed,
        result.failed,
    )
    return result.as_dict()


def _store(db: Database, shop_id: int, payloads: list[Mapping[str, Any]], result: BackfillResult, job_id: str) -> None:
    if not payloads:
        return
    with write_session(db) as session:
        shop = session.get(Shop, shop_id)
        if shop is None:  # erased meanwhile (shop/redact)
            return
        batch = Batch()
        for payload in payloads:
            result.fetched += 1
            try:
                with session.begin_nested():
                    applied = apply_order_payload(session, batch, shop, payload)
                    if applied.changed:
                        engine.orders_changed(session, batch, shop.id, [applied.id])
            except Exception as exc:
                if not session.is_active:
                    raise
                result.failed += 1
                log.warning(
                    "event=backfill_order_failed shop=%s job_id=%s order_id=%s error=%s",
                    shop.domain,
                    job_id,
                    optional_id(payload.get("id")),
                    type(exc).__name__,
                )
                continue
            result.changed += int(applied.changed)
        engine.refresh_cells(session, batch)
