"""What the registry tells the engine when creator activity, tracking instruments or
attribution settings change.

Clicks, costs and posts refresh one rollup cell (creator, shop-local day) in the
request's own transaction; a discount code that appears, moves or disappears (or
a new attribution window or evidence order) can change which creator earlier
orders belong to, so the whole shop is re-attributed by a job, after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from datetime import date

from sqlalchemy.orm import Session

from worker import engine, jobs
from worker.queue import enqueue
from worker.runtime import Runtime

log = logging.getLogger("creator_roi.registry")


def activity_changed(db: Session, shop_id: int, cells: AbstractSet[tuple[int | None, date]]) -> None:
    """Refresh each touched (influencer, day) rollup cell, before the caller commits."""
    for influencer_id, day in sorted(cells, key=lambda c: (c[0] or 0, c[1])):
        engine.activity_changed(db, shop_id, influencer_id, day)


def schedule_reattribution(rt: Runtime, shop_id: int) -> None:
    """After commit: re-attribute the shop's orders (and refit its CLV on them). A failure to
    schedule is logged, not raised: the merchant's change is saved, and `creator-roi
    reattribute` or the next change catches up."""
    try:
        enqueue(rt, jobs.reattribute_job, shop_id)
    except Exception as exc:
        log.warning("event=reattribute_not_scheduled shop_id=%s error=%s", shop_id, type(exc).__name__)


def schedule_clv_refit(rt: Runtime, shop_id: int) -> None:
    """After commit: refit the shop's predicted CLV (its horizon changed). A failure to
    schedule is logged: the sweeper refits figures stored for another horizon."""
    try:
        enqueue(rt, jobs.clv_job, shop_id)
    except Exception as exc:
        log.warning("event=clv_not_scheduled shop_id=%s error=%s", shop_id, type(exc).__name__)


def schedule_pay_settlement(rt: Runtime, shop_id: int) -> None:
    """After commit: settle every order's pay under the plans as they now are (a plan was
    created or changed). A failure to schedule is logged: the next change, or `creator-roi
    reattribute`, settles the ledger again."""
    try:
        enqueue(rt, jobs.settle_pay_job, shop_id)
    except Exception as exc:
        log.warning("event=settle_pay_not_scheduled shop_id=%s error=%s", shop_id, type(exc).__name__)
