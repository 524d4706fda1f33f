"""The webhook inbox: draining a shop's events in batches, and what is due.

DESIGN.md "Data flow": the webhook schedules a drain only when none is waiting
for the shop (`SET NX` on a per-shop key, set by `worker.jobs.schedule_drain`,
cleared here when the drain starts); a drain claims pending events oldest first in batches (`FOR UPDATE SKIP LOCKED`
on PostgreSQL; SQLite has one writer and takes it up front) and processes each
in its own savepoint, all in the batch's transaction. A worker that dies
mid-batch therefore leaves its events pending, and the sweeper schedules them
again: every event that got a 2xx is processed, once.

A batch's shared state (orders locked up front, orders waiting for one engine
pass, cells to refresh before the commit) is a `worker.batch.Batch` the batch
creates and hands to processing.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from models import Database, Shop, WebhookEvent, utcnow
from models.webhook import FAILED, IGNORED, PENDING, PROCESSED
from worker import processing
from worker.batch import Batch
from worker.order_store import prepare_orders
from worker.payloads import COMPLIANCE_TOPICS, Outcome, PayloadError, order_ids_named, parse_body
from worker.runtime import Runtime, current
from worker.shopify_admin import ShopifyUnavailable

log = logging.getLogger("creator_roi.inbox")

DRAIN_KEY = "creator-roi:drain:{shop}"
# Long enough for a drain to wait its turn in the queue; short enough that a key whose
# job was lost (Redis flushed, enqueue failed half-way) stops blocking within a minute.
DRAIN_KEY_TTL = 60
DRAIN_JOB_TIMEOUT = 600
# A drain hands over to a fresh job after this long, so one shop never holds a worker.
DRAIN_TIME_BUDGET = 120.0
BATCH_SIZE = {"postgresql": 50, "sqlite": 25}
LOCK_TIMEOUT_MS = 300
PROCESS_EVENT_TRIES = 20
# A batch that met another drain's locks is tried whole this many times before event by event.
FAST_RETRIES_ON_CONFLICT = 3
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600
# A web process that saw a shop's drain key held (or set it) this recently takes the drain
# as still waiting and does not ask Redis again: under a burst that spares each delivery a
# Redis round trip. It is safe because a drain never ends sooner than DRAIN_MIN_LIFE after
# it cleared its key: the key was cleared after the process last saw it, so any event the
# process committed while trusting that sight was committed before the drain's last look.
DRAIN_SEEN_WINDOW = 0.05
DRAIN_MIN_LIFE = 2 * DRAIN_SEEN_WINDOW


# --- database in a job ---------------------------------------------------------------

_engine_pids: dict[int, int] = {}


def job_database(rt: Runtime) -> Database:
    """The runtime's database, safe in a forked RQ work horse: connections opened by the
    parent process are never reused in the child (SQLAlchemy's multiprocessing recipe)."""
    db = rt.db
    pid = os.getpid()
    if _engine_pids.setdefault(id(db.engine), pid) != pid:
        db.engine.dispose(close=False)
        _engine_pids[id(db.engine)] = pid
    return db


@contextmanager
def write_session(db: Database) -> Iterator[Session]:
    """A unit of work that writes. On SQLite it takes the write lock first (BEGIN IMMEDIATE),
    so two drains never read the same pending rows; PostgreSQL locks rows as it claims them."""
    session = db.sessionmaker()
    try:
        if db.is_sqlite:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A batch holds its locks until it commits. Rather than wait long for another
            # drain's batch (or for deadlock detection), an event gives up quickly and is
            # taken again in the next batch (see run_event).
            session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_job_id() -> str:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # outside a worker
        job = None
    return job.id if job is not None else "inline"


# --- what is due ------------------------------------------------------------------------


def drain_key(shop_domain: str) -> str:
    """The Redis key held while a drain of the shop is waiting (worker.jobs.schedule_drain)."""
    return DRAIN_KEY.format(shop=shop_domain)


def _due(now: datetime) -> Any:
    return or_(WebhookEvent.status == PENDING, and_(WebhookEvent.status == FAILED, WebhookEvent.next_attempt_at <= now))


def due_shops(session: Session) -> list[str]:
    """The shops with events left pending, or failed and due a retry."""
    return list(
        session.scalars(
            select(WebhookEvent.shop_domain).where(_due(utcnow())).distinct().order_by(WebhookEvent.shop_domain)
        )
    )


# --- draining ---------------------------------------------------------------------------


@dataclass
class DrainResult:
    shop: str
    batches: int = 0
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    shops_with_changed_orders: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "batches": self.batches,
            "processed": self.processed,
            "ignored": self.ignored,
            "failed": self.failed,
        }

    def add(self, status: str) -> None:
        if status == PROCESSED:
            self.processed += 1
        elif status == IGNORED:
            self.ignored += 1
        else:
            self.failed += 1


def claim_batch(session: Session, shop_domain: str, size: int) -> list[WebhookEvent]:
    """The oldest due events of the shop that no other drain holds, locked until commit."""
    base = select(WebhookEvent).where(WebhookEvent.shop_domain == shop_domain)
    events = list(
        session.scalars(
            base.where(WebhookEvent.status == PENDING)
            .order_by(WebhookEvent.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
    )
    if len(events) < size:
        events += session.scalars(
            base.where(WebhookEvent.status == FAILED, WebhookEvent.next_attempt_at <= utcnow())
            .order_by(WebhookEvent.id)
            .limit(size - len(events))
            .with_for_update(skip_locked=True)
        )
    return events


# Called with the shop's domain when more than a batch is waiting, so that another worker
# may share the shop (worker.jobs.drain_inbox passes its scheduler; in process, nothing).
ScheduleHelper = Callable[[str], object]


def drain(rt: Runtime, shop: str | int, job_id: str, schedule_helper: ScheduleHelper | None = None) -> DrainResult:
    """Process the shop's due events, batch after batch, until none is left."""
    db = job_database(rt)
    shop_domain = shop if isinstance(shop, str) else _domain_of(db, shop)
    helper = _best_effort(schedule_helper, shop_domain, job_id) if rt.redis_url and schedule_helper else None
    if rt.redis_url:
        try:  # from now on an arriving event schedules the next drain
            rt.redis().delete(drain_key(shop_domain))
        except Exception as exc:
            log.warning(
                "event=drain_key_not_cleared shop=%s job_id=%s error=%s", shop_domain, job_id, type(exc).__name__
            )
    cleared = time.monotonic()
    size = BATCH_SIZE.get(db.engine.dialect.name, 50)
    result = DrainResult(shop_domain)
    started = time.monotonic()
    fast, conflicts = True, 0
    while True:
        try:
            done = _drain_batch(db, shop_domain, size, job_id, helper, fast=fast)
        except _FastBatchFailed as failure:
            # Rolled back whole. Another drain held what the batch needed: the same way again,
            # a moment later. Anything else: the same events each in its own savepoint and
            # attributed on its own, so the one that cannot be processed fails alone.
            conflicts = conflicts + 1 if failure.lock_conflict else FAST_RETRIES_ON_CONFLICT
            fast = conflicts < FAST_RETRIES_ON_CONFLICT
            log.info(
                "event=batch_retried shop=%s job_id=%s event_by_event=%s reason=%s",
                shop_domain,
                job_id,
                not fast,
                failure.reason,
            )
            if fast:
                time.sleep(random.uniform(0.02, 0.1) * conflicts)
            continue
        fast, conflicts = True, 0
        if done is None:
            # Nothing due. A web process may still take this drain as waiting for a moment
            # (DRAIN_SEEN_WINDOW): look once more when that moment has surely passed.
            wait = cleared + DRAIN_MIN_LIFE - time.monotonic()
            if rt.redis_url and wait > 0:
                time.sleep(wait)
                continue
            break
        result.batches += 1
        for status in done.statuses:
            result.add(status)
        result.shops_with_changed_orders |= done.shops_with_changed_orders
        if done.deferred_first:
            time.sleep(0.2)  # the event at the head waits for another transaction's commit
        if helper is not None and time.monotonic() - started > DRAIN_TIME_BUDGET:
            helper()
            break
    log.info(
        "event=drain_done shop=%s job_id=%s batches=%d processed=%d ignored=%d failed=%d seconds=%.3f",
        shop_domain,
        job_id,
        result.batches,
        result.processed,
        result.ignored,
        result.failed,
        time.monotonic() - started,
    )
    return result


class _FastBatchFailed(Exception):
    def __init__(self, reason: str, lock_conflict: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lock_conflict = lock_conflict


@dataclass
class _BatchDone:
    statuses: list[str]
    deferred_first: bool
    shops_with_changed_orders: set[int]


def _drain_batch(
    db: Database, shop_domain: str, size: int, job_id: str, helper: Callable[[], None] | None, *, fast: bool
) -> _BatchDone | None:
    """Claim and process one batch in one transaction; None when nothing was due.

    Fast (the usual case): the events run one after another without savepoints and the
    orders they change are attributed in one engine pass at the end, a few statements per
    event in all. Should anything raise, the batch is rolled back whole and
    `_FastBatchFailed` raised, for the caller to run the same events again the safe way:
    each in its own savepoint and attributed on its own, so a poison event fails alone.
    """
    with write_session(db) as session:
        events = claim_batch(session, shop_domain, size)
        if not events:
            return None
        if len(events) == size and helper is not None:
            helper()
        batch = Batch(defer=fast)
        shops: dict[Any, Shop | None] = {}
        done: list[tuple[WebhookEvent, dict[str, Any]]] = []
        statuses: list[str] = []
        deferred_first = False
        payloads: dict[int, dict[str, Any]] = {}
        try:
            if fast:
                payloads = _prepare_orders(session, batch, events, shops)
            for number, event in enumerate(events):
                if event.topic in COMPLIANCE_TOPICS:
                    # They may rewrite or delete inbox rows, orders and the shop itself.
                    processing.attribute_batch(session, batch)
                    write_outcomes(session, done)
                    done = []
                outcome, values = run_event(
                    session, batch, event, job_id, shops, isolated=not fast, payload=payloads.get(event.id)
                )
                done.append((event, values))
                if "status" in values:
                    statuses.append(values["status"])
                if outcome is not None and outcome.stop_batch:
                    deferred_first = number == 0 and outcome.status == PENDING
                    break
            processing.attribute_batch(session, batch)
        except Exception as exc:
            if not fast or not session.is_active:
                raise
            raise _FastBatchFailed(error_text(exc), is_lock_conflict(exc)) from exc
        write_outcomes(session, done)
    return _BatchDone(statuses, deferred_first, batch.shops_with_changed_orders)


def _prepare_orders(
    session: Session, batch: Batch, events: list[WebhookEvent], shops: dict[Any, Shop | None]
) -> dict[int, dict[str, Any]]:
    """Lock the orders the batch is about and read their refunds, a statement each; the
    bodies parsed on the way, by event id, for processing to use (an unreadable one is left
    to fail there)."""
    payloads: dict[int, dict[str, Any]] = {}
    for event in events:
        try:
            payloads[event.id] = parse_body(event.body)
        except PayloadError:
            pass
    shop = _shop_of(session, events[0], shops)
    if shop is not None:
        ids = {
            order_id
            for event in events
            if event.shop_id in (None, shop.id) and event.id in payloads
            for order_id in order_ids_named(event.topic, payloads[event.id])
        }
        prepare_orders(session, batch, shop.id, ids)
    return payloads


def _best_effort(schedule_helper: ScheduleHelper, shop_domain: str, job_id: str) -> Callable[[], None]:
    """More than a batch is waiting: let another worker share the shop, should the queue
    take the job (a failure is logged: this drain goes on alone)."""

    def schedule() -> None:
        try:
            schedule_helper(shop_domain)
        except Exception as exc:
            log.warning("event=drain_not_scheduled shop=%s job_id=%s error=%s", shop_domain, job_id, type(exc).__name__)

    return schedule


def _domain_of(db: Database, shop_id: int) -> str:
    with db.session() as session:
        domain = session.scalar(select(Shop.domain).where(Shop.id == shop_id))
    if domain is None:
        raise LookupError(f"no shop with id {shop_id}")
    return domain


def process_event(event_id: int) -> str:
    """Process one inbox event now, whatever its status but processed (tests, retries, the CLI).

    Returns the event's status afterwards, or "locked" / "missing".
    """
    rt = current()
    db = job_database(rt)
    for attempt in range(PROCESS_EVENT_TRIES):
        with write_session(db) as session:
            event = session.scalars(
                select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update(skip_locked=True)
            ).one_or_none()
            if event is None:
                return "locked" if session.get(WebhookEvent, event_id) is not None else "missing"
            if event.status in (PROCESSED, IGNORED):
                return event.status
            batch = Batch()
            outcome, values = run_event(session, batch, event, current_job_id(), {})
            processing.attribute_batch(session, batch)
            write_outcomes(session, [(event, values)])
            if not (outcome is not None and outcome.status == PENDING):
                return event.status
        time.sleep(0.05 * (attempt + 1))  # another worker held what it needs: after its commit
    return event.status  # type: ignore[union-attr]  # the last try's event (None returned above)


# --- one event --------------------------------------------------------------------------


def _shop_of(session: Session, event: WebhookEvent, shops: dict[Any, Shop | None]) -> Shop | None:
    # Held here for the batch: the session's identity map only keeps objects someone holds.
    key = event.shop_id or event.shop_domain
    if key not in shops:
        shop = session.get(Shop, event.shop_id) if event.shop_id is not None else None
        if shop is None:
            shop = session.scalar(select(Shop).where(Shop.domain == event.shop_domain))
        shops[key] = shop
    return shops[key]


def run_event(
    session: Session,
    batch: Batch,
    event: WebhookEvent,
    job_id: str,
    shops: dict[Any, Shop | None],
    *,
    isolated: bool = True,
    payload: dict[str, Any] | None = None,
) -> tuple[Outcome | None, dict[str, Any]]:
    """Apply one event in the caller's transaction; returns the outcome and the inbox row's
    new values (written for the whole batch at once by `write_outcomes`).

    `isolated`, the event runs in a savepoint: a failure rolls back only the event, which
    is marked failed with its reason (and a retry time when retrying can help), and the
    batch goes on. Not isolated, a failure propagates (the caller rolls back the batch).
    """
    try:
        if not isolated:
            outcome = processing.process(session, batch, event, _shop_of(session, event, shops), payload)
        else:
            with session.begin_nested():
                outcome = processing.process(session, batch, event, _shop_of(session, event, shops), payload)
    except Exception as exc:
        if not isolated or not session.is_active:
            raise  # the transaction itself is gone (connection lost): the batch stays pending
        if is_lock_conflict(exc):
            # Another drain holds what this event needs and waits for what this batch holds:
            # end the batch (releasing our locks) and take the event again in the next one.
            reason = error_text(exc)
            log.info(
                "event=webhook_deferred shop=%s topic=%s webhook_id=%s job_id=%s reason=%s",
                event.shop_domain,
                event.topic,
                event.webhook_id,
                job_id,
                reason,
            )
            return Outcome(PENDING, stop_batch=True), {"error": reason}
        return None, failure_values(event, exc, job_id)
    values: dict[str, Any] = {
        "attempts": (event.attempts or 0) + 1,
        "status": outcome.status,
        "error": outcome.note if outcome.status == IGNORED else None,
        "processed_at": utcnow(),
        "next_attempt_at": None,
    }
    if outcome.body is not None:
        values["body"] = outcome.body
    log.info(
        "event=webhook_processed shop=%s topic=%s webhook_id=%s job_id=%s status=%s attempts=%d",
        event.shop_domain,
        event.topic,
        event.webhook_id,
        job_id,
        outcome.status,
        values["attempts"],
    )
    return outcome, values


def write_outcomes(session: Session, done: list[tuple[WebhookEvent, dict[str, Any]]]) -> None:
    """Set the events' new values; the flush sends them as a few executemany UPDATEs
    rather than one round trip per event."""
    for event, values in done:
        for name, value in values.items():
            setattr(event, name, value)
    session.flush()


def error_text(exc: BaseException) -> str:
    """A reason to keep and show, without the statement parameters a database error carries."""
    if isinstance(exc, sa_exc.StatementError) and exc.orig is not None:
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return f"{type(exc.orig).__name__}: {first_line}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


LOCK_CONFLICTS = {"40P01", "55P03", "40001"}  # deadlock, lock not available, serialization failure


def is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) in LOCK_CONFLICTS


def is_transient(exc: BaseException) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover
        RedisError = ()  # type: ignore[assignment,misc]
    return isinstance(exc, (sa_exc.OperationalError, ShopifyUnavailable, RedisError, TimeoutError, ConnectionError))


def failure_values(event: WebhookEvent, exc: BaseException, job_id: str) -> dict[str, Any]:
    """The failed event's new values: its reason, attempt count and, when retrying can help,
    when to try again."""
    now = utcnow()
    attempts = (event.attempts or 0) + 1
    # A payload that lacks what we need fails the same way every time; anything else
    # (database, Shopify, a bug fixed by the next deploy) is retried with backoff.
    retry = not isinstance(exc, PayloadError) and attempts < MAX_ATTEMPTS
    delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    values: dict[str, Any] = {
        "attempts": attempts,
        "status": FAILED,
        "error": error_text(exc),
        "processed_at": now,
        "next_attempt_at": now + timedelta(seconds=delay) if retry else None,
    }
    logger = log.warning if retry or isinstance(exc, PayloadError) else log.error
    logger(
        "event=webhook_failed shop=%s topic=%s webhook_id=%s job_id=%s attempts=%d retry_at=%s error=%s",
        event.shop_domain,
        event.topic,
        event.webhook_id,
        job_id,
        attempts,
        values["next_attempt_at"].isoformat() if values["next_attempt_at"] else "never",
        values["error"],
    )
    return values
