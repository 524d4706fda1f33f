"""`creator-roi worker | sweep | events | backfill`: running and watching the webhook pipeline."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from worker.runtime import Runtime, bind

DEFAULT_SWEEP_INTERVAL = 60


def _runtime() -> Runtime:
    return current_app.extensions["creator_roi"]


def worker_class() -> type:
    """RQ's forking worker that also keeps the periodic sweep alive.

    The sweep is a self-renewing scheduled job; should its chain break (a worker killed
    mid-sweep), the next maintenance pass of any worker starts a new one.
    """
    from rq import Worker

    from worker import jobs
    from worker.queue import BoundedUnsubscribe

    class PipelineWorker(BoundedUnsubscribe, Worker):
        runtime: Runtime | None = None
        sweep_interval: int | None = None

        def run_maintenance_tasks(self) -> None:
            super().run_maintenance_tasks()
            if self.runtime is not None and self.sweep_interval:
                try:
                    jobs.schedule_sweep(self.runtime, self.sweep_interval, delay=0)
                except Exception as exc:  # Redis trouble: the worker loop reports and retries it
                    self.log.warning("event=sweep_not_scheduled error=%s", type(exc).__name__)

    return PipelineWorker


@click.command("worker")
@click.option("--burst", is_flag=True, help="drain what is queued (after one sweep), then exit")
@click.option(
    "--sweep-interval",
    default=DEFAULT_SWEEP_INTERVAL,
    show_default=True,
    type=click.IntRange(min=5),
    help="seconds between sweeps of the inbox",
)
@with_appcontext
def worker_command(burst: bool, sweep_interval: int) -> None:
    """Run an RQ worker (with its scheduler) for the jobs of worker.jobs: drains, sweeps, refits, imports."""
    from redis import Redis

    from worker import inbox, jobs
    from worker.queue import rq_queue

    rt = _runtime()
    if not rt.redis_url:
        raise click.UsageError("REDIS_URL is not set: without Redis, jobs run inline and no worker is needed")
    cls = worker_class()
    # Its own connection: RQ lengthens the socket timeout for its blocking dequeue.
    connection = Redis.from_url(rt.redis_url)
    worker = cls([rq_queue(rt)], connection=connection)
    if burst:
        rq_queue(rt).enqueue(jobs.sweep_job, job_timeout=inbox.DRAIN_JOB_TIMEOUT)
    else:
        worker.runtime, worker.sweep_interval = rt, sweep_interval
    with bind(rt):  # work horses are forked from here and inherit the binding
        worker.work(burst=burst, with_scheduler=not burst, logging_level="INFO")


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Schedule drains for every inbox event left pending or due a retry, and refits of stale
    predicted CLV (runs them now without Redis)."""
    from worker import jobs

    rt = _runtime()
    with bind(rt):
        result = jobs.sweep(rt)
    click.echo(
        f"shops with events due: {result['shops_due']}, drains scheduled: {result['drains_scheduled']}, "
        f"CLV refits scheduled: {result['clv_scheduled']}"
    )


@click.command("events")
@click.option(
    "--status",
    "status",
    default="failed",
    show_default=True,
    type=click.Choice(["pending", "processed", "ignored", "failed", "all"]),
)
@click.option("--shop", "shop_domain", default=None, help="only this shop's events")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--retry", is_flag=True, help="process the listed events again now")
@with_appcontext
def events_command(status: str, shop_domain: str | None, limit: int, retry: bool) -> None:
    """List inbox events (failed ones by default) and optionally re-run them."""
    from models import WebhookEvent
    from worker import inbox

    rt = _runtime()
    query = select(WebhookEvent).order_by(WebhookEvent.id).limit(limit)
    if status != "all":
        query = query.where(WebhookEvent.status == status)
    if shop_domain:
        query = query.where(WebhookEvent.shop_domain == shop_domain.lower())
    with rt.db.session() as session:
        events = list(session.scalars(query))
    if not events:
        click.echo("no events")
        return
    for event in events:
        click.echo(_event_line(event))
    if not retry:
        return
    outcomes: dict[str, int] = {}
    with bind(rt):
        for event in events:
            outcome = inbox.process_event(event.id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            click.echo(f"retried id={event.id} webhook_id={event.webhook_id} status={outcome}")
    click.echo("retried " + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())))


def _event_line(event: Any) -> str:
    parts = [
        f"id={event.id}",
        f"shop={event.shop_domain}",
        f"topic={event.topic}",
        f"webhook_id={event.webhook_id}",
        f"status={event.status}",
        f"attempts={event.attempts}",
        f"received_at={event.received_at.isoformat()}",
    ]
    if event.next_attempt_at:
        parts.append(f"retry_at={event.next_attempt_at.isoformat()}")
    if event.error:
        parts.append(f"error={event.error!r}")
    return " ".join(parts)


@click.command("backfill")
@click.argument("domain")
@click.option(
    "--days",
    default=None,
    type=click.IntRange(min=1),
    help="how far back (default 60, the reach of read_orders; more needs read_all_orders)",
)
@with_appcontext
def backfill_command(domain: str, days: int | None) -> None:
    """Import DOMAIN's past orders and refunds from the Admin API, through the webhook upsert."""
    from worker import backfill, installation, jobs

    rt = _runtime()
    days = days or backfill.DEFAULT_DAYS
    with rt.db.session() as session:
        shop = installation.find_shop(session, domain)
        if shop is None or not shop.is_installed:
            raise click.UsageError(f"{domain} is not an installed shop")
        if not backfill.reachable(shop.scopes, days):
            raise click.UsageError(
                f"{days} days reach further back than read_orders (60 days); "
                f"the shop has not granted {backfill.ALL_ORDERS_SCOPE}"
            )
        shop_id = shop.id
    from worker.shopify_admin import ShopifyAdminError

    try:
        with bind(rt):
            result = jobs.backfill_shop(shop_id, days)
    except ShopifyAdminError as exc:
        raise click.ClickException(f"{domain}: Shopify refused or failed the import: {exc.message}") from exc
    if "skipped" in result:
        raise click.ClickException(f"{domain}: {result['skipped']}")
    if "stopped" in result:
        raise click.ClickException(f"{domain}: stopped after {result['fetched']} orders: {result['stopped']}")
    click.echo(
        f"{result['shop']}: {result['fetched']} orders fetched over {result['days']} days, "
        f"{result['changed']} stored or updated, {result['failed']} failed"
    )
