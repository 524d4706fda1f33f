"""Every job the queue runs, and how each is scheduled: one module to read.

A job is a thin entry point. It takes ids, opens what it needs, calls the
module that does the work and logs one `key=value` line with its `job_id`.
Every job is idempotent (RQ delivers at least once) and looks up the current
state rather than trusting what it was handed.

| job                            | does                                              | scheduled by                                   |
|--------------------------------|---------------------------------------------------|------------------------------------------------|
| `drain_inbox(shop)`            | `worker.inbox.drain`; then a CLV refit when the   | `schedule_drain`: the webhook, the sweeper, a  |
|                                | drain changed orders                              | drain with more than a batch waiting           |
| `sweep_job(interval)`          | `sweep`: drains for due events, refits for stale  | `schedule_sweep`: the worker, every interval   |
|                                | CLV                                               |                                                |
| `clv_job(shop_id)`             | `worker.lifetime_value.refresh_clv`               | `schedule_clv`; a change of CLV horizon        |
| `reattribute_job(shop_id)`     | `worker.engine.reattribute_shop`, then            | a discount code, link or attribution setting   |
|                                | `refresh_clv`                                     | changed; `creator-roi reattribute`             |
| `backfill_shop(shop_id, days)` | `worker.backfill.import_orders`; then a CLV refit | `schedule_backfill`: installing a shop;        |
|                                | when orders changed                               | `creator-roi backfill` (in process)            |
| `settle_pay_job(shop_id)`      | `worker.pay.settle_shop`: every order's pay       | a plan created or changed                      |
|                                | under the plans as they are now, fees             |                                                |

The sweep also writes plans' fees and approves commission lines past the shop's holding
period (`worker.pay.sweep_pay`), in its own transaction.

Without Redis, `worker.queue.enqueue` runs a job at once in the caller's
process. Then no refit follows a drain or an import: the drain is a webhook's
request, which must answer within Shopify's 5 s, and a fit takes seconds; the
sweep (`creator-roi sweep`) refits what is stale.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from models import Shop
from worker import backfill, engine, inbox, lifetime_value, pay
from worker.inbox import current_job_id, job_database
from worker.queue import enqueue, rq_queue
from worker.runtime import Runtime, current

log = logging.getLogger("creator_roi.jobs")

SWEEP_KEY = "creator-roi:sweep-scheduled"
CLV_PENDING_KEY = "creator_roi:clv_pending:{shop_id}"
# A shop is refitted at most this often after its orders change: a fit takes seconds and
# predicted CLV moves slowly, while a busy shop's drains end every few seconds.
CLV_RETRY_AFTER = timedelta(hours=1)
BACKFILL_TIMEOUT = 3 * 3600


# --- draining the inbox ---------------------------------------------------------------


def schedule_drain(rt: Runtime, shop_domain: str, *, remember: bool = False) -> bool:
    """Make sure a drain of the shop's inbox is waiting; False when one already was.

    Without Redis the drain runs now, in this process. Redis errors propagate: the
    caller's events stay pending and the sweeper schedules them later. With `remember`
    (the webhook), a drain this process saw waiting less than DRAIN_SEEN_WINDOW ago is
    taken as still waiting, without a round trip to Redis.
    """
    if not rt.redis_url:
        enqueue(rt, drain_inbox, shop_domain)
        return True
    # Taken before Redis answers: the key was held (or set) no earlier than this.
    asked = time.monotonic()
    if remember and asked < rt.drains_waiting_until.get(shop_domain, 0.0):
        return False
    scheduled = bool(rt.redis().set(inbox.drain_key(shop_domain), "1", nx=True, ex=inbox.DRAIN_KEY_TTL))
    if scheduled:
        enqueue(
            rt,
            drain_inbox,
            shop_domain,
            job_timeout=inbox.DRAIN_JOB_TIMEOUT,
            description=f"drain_inbox shop={shop_domain}",
        )
    if remember:
        rt.drains_waiting_until[shop_domain] = asked + inbox.DRAIN_SEEN_WINDOW
    return scheduled


def drain_inbox(shop: str | int) -> dict[str, Any]:
    """Job: process the shop's due webhook events; a drain that changed orders asks for a
    refit of the shop's predicted CLV (with a queue: see the module's docstring)."""
    rt = current()
    job_id = current_job_id()
    result = inbox.drain(rt, shop, job_id, schedule_helper=lambda domain: schedule_drain(rt, domain))
    if rt.redis_url:
        for shop_id in sorted(result.shops_with_changed_orders):
            _refit_after_change(rt, shop_id, job_id)
    return result.as_dict()


# --- the sweeper ------------------------------------------------------------------------


def sweep(rt: Runtime) -> dict[str, int]:
    """Schedule a drain for every shop with events left pending or failed and due a retry,
    then a refit for every shop whose predicted CLV is stale (inline: run them now)."""
    with job_database(rt).session() as session:
        shops = inbox.due_shops(session)
        stale = lifetime_value.stale_shops(session)
    with job_database(rt).session() as session:
        approved = pay.sweep_pay(session)
    drains = sum(1 for shop in shops if schedule_drain(rt, shop))
    refits = sum(1 for shop_id in stale if schedule_clv(rt, shop_id))
    log.info(
        "event=sweep job_id=%s shops_due=%d drains_scheduled=%d clv_stale=%d clv_scheduled=%d lines_approved=%d",
        current_job_id(),
        len(shops),
        drains,
        len(stale),
        refits,
        approved,
    )
    return {
        "shops_due": len(shops),
        "drains_scheduled": drains,
        "clv_stale": len(stale),
        "clv_scheduled": refits,
        "lines_approved": approved,
    }


def schedule_sweep(rt: Runtime, interval: int, delay: int | None = None) -> bool:
    """Keep one self-renewing chain of sweep jobs (run by the worker's scheduler)."""
    if not rt.redis().set(SWEEP_KEY, "1", nx=True, ex=interval * 2 + 60):
        return False
    rq_queue(rt).enqueue_in(
        timedelta(seconds=interval if delay is None else delay),
        sweep_job,
        interval,
        job_timeout=inbox.DRAIN_JOB_TIMEOUT,
    )
    return True


def sweep_job(interval: int | None = None) -> dict[str, int]:
    """Job: one sweep; with an interval, the next one is scheduled after it."""
    rt = current()
    try:
        return sweep(rt)
    finally:
        if interval and rt.redis_url:
            rt.redis().delete(SWEEP_KEY)
            schedule_sweep(rt, interval)


# --- predicted CLV -------------------------------------------------------------------------


def schedule_clv(rt: Runtime, shop_id: int) -> bool:
    """Enqueue `clv_job` unless one was scheduled for the shop less than CLV_RETRY_AFTER ago
    (a shop whose refit stores nothing stays stale, and would ask again on every sweep);
    without Redis, run it now. True when a refit was scheduled."""
    redis = rt.redis()
    key = CLV_PENDING_KEY.format(shop_id=shop_id)
    if redis is not None and not redis.set(key, 1, nx=True, ex=int(CLV_RETRY_AFTER.total_seconds())):
        return False
    enqueue(rt, clv_job, shop_id, description=f"clv_job shop_id={shop_id}")
    return True


def clv_job(shop_id: int) -> None:
    """Job: refit the shop's CLV models and store each creator's predicted CLV."""
    job_id = current_job_id()
    with job_database(current()).session() as session:
        if session.get(Shop, shop_id) is None:
            log.info("event=clv_skipped shop_id=%s job_id=%s reason=no_shop", shop_id, job_id)
            return
        creators = lifetime_value.refresh_clv(session, shop_id)
    log.info("event=clv_job_done shop_id=%s job_id=%s creators=%d", shop_id, job_id, creators)


def _refit_after_change(rt: Runtime, shop_id: int, job_id: str) -> None:
    """After the job's own work is committed: a failure to schedule is logged, not raised
    (the sweeper refits stale figures later)."""
    try:
        schedule_clv(rt, shop_id)
    except Exception as exc:
        log.warning("event=clv_not_scheduled shop_id=%s job_id=%s error=%s", shop_id, job_id, type(exc).__name__)


# --- re-attribution ----------------------------------------------------------------------


def reattribute_job(shop_id: int) -> None:
    """Job: rebuild the shop's attributions and rollups from its stored orders (after a code,
    link or attribution setting changed), then refit its predicted CLV on them."""
    job_id = current_job_id()
    with job_database(current()).session() as session:
        if session.get(Shop, shop_id) is None:
            log.info("event=reattribute_skipped shop_id=%s job_id=%s reason=no_shop", shop_id, job_id)
            return
        engine.reattribute_shop(session, shop_id)
        lifetime_value.refresh_clv(session, shop_id)
    log.info("event=reattribute_done shop_id=%s job_id=%s", shop_id, job_id)


# --- pay ---------------------------------------------------------------------------------


def settle_pay_job(shop_id: int) -> None:
    """Job: settle every order's pay, and the plans' fees, under the shop's plans as they are
    now (a plan was created or changed)."""
    job_id = current_job_id()
    with job_database(current()).session() as session:
        if session.get(Shop, shop_id) is None:
            log.info("event=settle_pay_skipped shop_id=%s job_id=%s reason=no_shop", shop_id, job_id)
            return
        cells = pay.settle_shop(session, shop_id)
    log.info("event=settle_pay_done shop_id=%s job_id=%s cells=%d", shop_id, job_id, cells)


# --- history import ----------------------------------------------------------------------


def schedule_backfill(rt: Runtime, shop_id: int, days: int = backfill.DEFAULT_DAYS) -> Any:
    """Import the shop's past orders, retried a few times should Shopify or the worker fail."""
    from rq import Retry

    return enqueue(
        rt,
        backfill_shop,
        shop_id,
        days,
        job_timeout=BACKFILL_TIMEOUT,
        retry=Retry(max=3, interval=[60, 300, 900]),
        description=f"backfill_shop shop_id={shop_id} days={days}",
    )


def backfill_shop(shop_id: int, days: int = backfill.DEFAULT_DAYS) -> dict[str, Any]:
    """Job: import the shop's orders of the last `days` days (see worker.backfill)."""
    rt = current()
    job_id = current_job_id()
    result = backfill.import_orders(rt, shop_id, days, job_id)
    if result.get("changed") and rt.redis_url:
        _refit_after_change(rt, shop_id, job_id)
    return result
