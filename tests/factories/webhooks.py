"""Deliveries, two ways. `post_webhook` and `post_recorded_webhook` go through HTTP, as Shopify
sends them (signature checked, stored, processed by the jobs the test runs); `store_and_process`
skips HTTP and runs one delivery through the inbox's processing in this process, for tests about
what a delivery does to orders and figures."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from factories import API_SECRET, SHOP
from factories.shopify import as_json, recorded_delivery, webhook_headers
from models import Shop, WebhookEvent
from worker import inbox, jobs
from worker.runtime import bind


def post_webhook(
    client: Any,
    topic: str,
    body: bytes | str | dict,
    shop: str = SHOP,
    *,
    webhook_id: str | None = None,
    secret: str = API_SECRET,
    **extra_headers: str,
) -> Any:
    """POST a delivery to /webhooks, signed like Shopify signs it; the response."""
    if isinstance(body, dict):
        body = as_json(body)
    raw = body.encode() if isinstance(body, str) else body
    headers = webhook_headers(topic, raw, shop, secret=secret, webhook_id=webhook_id or str(uuid.uuid4()))
    headers.update(extra_headers)
    return client.post("/webhooks", data=raw, headers=headers)


def post_recorded_webhook(client: Any, name: str) -> Any:
    """POST a fixture with the exact headers Shopify sent it with; the response."""
    body, headers = recorded_delivery(name)
    return client.post("/webhooks", data=body, headers=headers)


def store_and_process(runtime: Any, domain: str, topic: str, payload: dict[str, Any] | bytes) -> str:
    """Store one delivery in the inbox and process it as a drain would; its status after."""
    body = payload.decode() if isinstance(payload, bytes) else as_json(payload)
    with runtime.db.session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.domain == domain))
        event = WebhookEvent(shop_domain=domain, shop_id=shop_id, webhook_id=str(uuid.uuid4()), topic=topic, body=body)
        s.add(event)
        s.flush()
        event_id = event.id
    with bind(runtime):
        return inbox.process_event(event_id)


def sweep_now(runtime: Any, run_jobs: Any) -> dict[str, int]:
    """The inbox's periodic sweep, now, and the jobs it queued; what it found."""
    with bind(runtime):
        result = jobs.sweep(runtime)
    run_jobs()
    return result


def run_queued_jobs(rt: Any) -> None:
    """Run every job queued on RQ in this process, until none is left (nothing when jobs run
    inline). The worker's wait for its pubsub thread is bounded, as the app's worker's is."""
    if not rt.redis_url:
        return
    from rq import SimpleWorker

    from worker.queue import BoundedUnsubscribe, rq_queue

    class BurstWorker(BoundedUnsubscribe, SimpleWorker):
        pass

    with bind(rt):
        BurstWorker([rq_queue(rt)], connection=rt.redis()).work(burst=True)
