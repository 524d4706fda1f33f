"""What the registry tells the engine when creator activity or tracking instruments change.

Clicks, costs and posts refresh one rollup cell (creator, shop-local day) in the
request's own transaction; a discount code that appears, moves or disappears can
change which creator earlier orders belong to, so the whole shop is re-attributed
by a job, after commit.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from worker import engine
from worker.queue import enqueue
from worker.registry_jobs import reattribute_job
from worker.runtime import Runtime

log = logging.getLogger("creator_roi.registry")


def local_day(moment: datetime, timezone_name: str | None) -> date:
    """The shop-local calendar day of an instant (rollups are kept per shop-local day)."""
    try:
        zone = ZoneInfo(timezone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def activity_changed(db: Session, shop_id: int, cells: set[tuple[int | None, date]]) -> None:
    """Refresh each touched (influencer, day) rollup cell, before the caller commits."""
    for influencer_id, day in sorted(cells, key=lambda c: (c[0] or 0, c[1])):
        engine.activity_changed(db, shop_id, influencer_id, day)


def schedule_reattribution(rt: Runtime, shop_id: int) -> None:
    """After commit: re-attribute the shop's orders. A failure to schedule is logged, not
    raised: the merchant's change is saved, and the next re-attribution picks it up."""
    try:
        enqueue(rt, reattribute_job, shop_id)
    except Exception as exc:
        log.warning("event=reattribute_not_scheduled shop_id=%s error=%s", shop_id, type(exc).__name__)
