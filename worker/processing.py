"""What each webhook topic does, in the caller's transaction.

Orders and refunds are stored (`worker.order_store`), and the orders that changed
are handed to the attribution engine: at once, or with the rest of the batch
when the batch defers them (`worker.batch.Batch.defer`). Customers are stored;
`app/uninstalled` forgets the shop's tokens; the privacy topics are
`worker.compliance`'s, and never touch a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order, Shop, WebhookEvent
from models.webhook import IGNORED
from worker import compliance, engine
from worker.batch import Batch
from worker.installation import mark_uninstalled
from worker.order_store import apply_order_payload, lock_order_key, record_refund, refresh_net_sales, upsert_customer
from worker.payloads import (
    COMPLIANCE_TOPICS,
    CUSTOMER_TOPICS,
    ORDER_TOPICS,
    REDACTED_BODY,
    Outcome,
    parse_body,
    read_refund,
    required_id,
)

# --- attribution after a change -----------------------------------------------------


def orders_changed(session: Session, batch: Batch, shop_id: int, order_ids: list[int]) -> None:
    """Hand changed orders to the attribution engine: now, or with the batch's others at
    `attribute_batch` when the batch defers them."""
    batch.shops_with_changed_orders.add(shop_id)
    if batch.defer:
        batch.orders[shop_id].update(order_ids)
    else:
        engine.orders_changed(session, batch, shop_id, order_ids)


def attribute_batch(session: Session, batch: Batch) -> None:
    """Attribute every order the batch deferred, then refresh the cells its attributions
    changed: now rather than at commit, so a failure is the caller's to handle. Whoever
    commits a batch calls this first. Raises what the engine raises."""
    for shop_id in sorted(batch.orders):
        engine.orders_changed(session, batch, shop_id, sorted(batch.orders[shop_id]))
    batch.orders.clear()
    engine.refresh_cells(session, batch)


# --- topics -----------------------------------------------------------------------


def handle_order(session: Session, batch: Batch, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    applied = apply_order_payload(session, batch, shop, payload)
    body = REDACTED_BODY if applied.customer_redacted else None
    if applied.changed:
        orders_changed(session, batch, shop.id, [applied.id])
        return Outcome(order_ids=[applied.id], body=body)
    return Outcome(note="an older or identical payload: nothing changed", order_ids=[applied.id], body=body)


def handle_refund(session: Session, batch: Batch, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    order_id, refund_id, merchandise, when = read_refund(payload)
    lock_order_key(session, batch, shop.id, order_id)
    order = session.scalars(
        select(Order).where(Order.shop_id == shop.id, Order.shopify_id == order_id).with_for_update()
    ).one_or_none()
    recorded = record_refund(session, batch, shop.id, order_id, refund_id, merchandise, when)
    if order is None:
        # Kept by Shopify's order id; applied when the order lands.
        return Outcome(note="refund kept until its order arrives")
    changed = refresh_net_sales(session, batch, order) or recorded
    if changed:
        session.flush()
        orders_changed(session, batch, shop.id, [order.id])
    return Outcome(order_ids=[order.id])


def handle_customer(
    session: Session, batch: Batch, shop: Shop, event: WebhookEvent, payload: dict[str, Any]
) -> Outcome:
    required_id(payload, "id", "customer")
    _, redacted = upsert_customer(session, shop.id, payload, authoritative=True)
    return Outcome(body=REDACTED_BODY if redacted else None)


def handle_uninstalled(
    session: Session, batch: Batch, shop: Shop, event: WebhookEvent, payload: dict[str, Any]
) -> Outcome:
    if shop.uninstalled_at is not None:
        return Outcome(note="the shop was already uninstalled")
    # Stored before a reinstall and processed after it (workers were behind): not for this install.
    if shop.uninstalled_at is None and event.received_at is not None and shop.installed_at > event.received_at:
        return Outcome(IGNORED, "the shop was installed again after this uninstall")
    mark_uninstalled(session, shop)
    return Outcome()


Handler = Callable[[Session, Batch, Shop, WebhookEvent, dict[str, Any]], Outcome]
# The privacy topics come for shops the app may no longer know, and rewrite or delete rows
# a batch may hold: they take no batch (a drain attributes what it deferred before them).
ComplianceHandler = Callable[[Session, Shop | None, WebhookEvent, dict[str, Any]], Outcome]

HANDLERS: dict[str, Handler] = {
    **{topic: handle_order for topic in ORDER_TOPICS},
    **{topic: handle_customer for topic in CUSTOMER_TOPICS},
    "refunds/create": handle_refund,
    "app/uninstalled": handle_uninstalled,
}
COMPLIANCE_HANDLERS: dict[str, ComplianceHandler] = {
    "customers/data_request": compliance.handle_data_request,
    "customers/redact": compliance.handle_customer_redact,
    "shop/redact": compliance.handle_shop_redact,
}


def process(
    session: Session, batch: Batch, event: WebhookEvent, shop: Shop | None, payload: dict[str, Any] | None = None
) -> Outcome:
    """Apply one inbox event in the caller's transaction; raises on failure. `payload` is
    the event's body already parsed, when the caller has it."""
    if event.topic in COMPLIANCE_TOPICS:
        return COMPLIANCE_HANDLERS[event.topic](session, shop, event, payload or parse_body(event.body))
    handler = HANDLERS.get(event.topic)
    if handler is None:
        return Outcome(IGNORED, f"topic {event.topic} is not handled")
    if shop is None:
        return Outcome(IGNORED, "the shop is no longer known")
    return handler(session, batch, shop, event, payload or parse_body(event.body))
