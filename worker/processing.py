"""What each webhook topic does to the stored orders, refunds and customers.

Payloads are read leniently: every shape Shopify has published since API
2023-07 is accepted, unknown fields are ignored and an optional field may be
missing or null. Only what the app cannot do without (an order's id and its
creation time, a refund's id and order) fails an event, with the reason.

Every write is an upsert that is safe against a concurrent one (INSERT ... ON
CONFLICT, then a row lock), and the result does not depend on the order in
which deliveries arrive: the payload with the newest `updated_at` is the
order's state, and each refund counts once by its id.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, case, select
from sqlalchemy.orm import Session

from models import Customer, Order, Refund, Shop, WebhookEvent, utcnow
from models.webhook import IGNORED, PROCESSED
from roi import money
from worker import engine

log = logging.getLogger("creator_roi.processing")

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
CUSTOMER_TOPICS = frozenset({"customers/create", "customers/update"})
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
CUSTOMER_FIELDS = {"email": 254, "first_name": 255, "last_name": 255, "phone": 64}
# What stays of a stored body that named a customer who asked to be forgotten.
REDACTED_BODY = json.dumps({"redacted": True})


class PayloadError(ValueError):
    """The payload lacks something the worker needs: retrying the same body cannot help."""


@dataclass
class Outcome:
    """What processing one event did."""

    status: str = PROCESSED
    note: str | None = None
    order_ids: list[int] = field(default_factory=list)
    # A replacement for the stored body, when the original holds data we must not keep.
    body: str | None = None
    # Nothing after this event in the same batch may run (its shop was erased).
    stop_batch: bool = False


# --- reading payloads ------------------------------------------------------------


def parse_body(body: str) -> dict[str, Any]:
    """The JSON object of a webhook body; numbers with a fraction become Decimal, never float."""
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg}") from None
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    return payload


def optional_id(value: Any) -> int | None:
    """A Shopify id as an integer: JSON integers and digit strings; anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, str) and value.startswith("gid://"):
        tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
        return int(tail) if tail.isdigit() else None
    return None


def required_id(payload: Mapping[str, Any], key: str, what: str) -> int:
    value = optional_id(payload.get(key))
    if value is None:
        raise PayloadError(f"{what} has no usable `{key}`")
    return value


def optional_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return money.parse_shopify_time(value)
    except ValueError:
        return None


def optional_text(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:limit]


def _note_attributes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    kept = []
    for item in value:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            raw = item.get("value")
            kept.append({"name": item["name"], "value": None if raw is None else str(raw)})
    return kept


@dataclass
class OrderFacts:
    shopify_id: int
    placed_at: datetime
    updated_at: datetime | None
    values: dict[str, Any]
    customer: Mapping[str, Any] | None
    refunds: list[tuple[int, Decimal, datetime | None]]


def read_order(payload: Mapping[str, Any]) -> OrderFacts:
    shopify_id = required_id(payload, "id", "order")
    placed_at = optional_time(payload.get("created_at")) or optional_time(payload.get("processed_at"))
    if placed_at is None:
        raise PayloadError(f"order {shopify_id} has no usable `created_at`")
    customer = payload.get("customer")
    values: dict[str, Any] = {}
    # A key the payload does not carry keeps what is stored; a key it carries is the state.
    if "name" in payload:
        values["name"] = optional_text(payload.get("name"), 64)
    if "currency" in payload:
        values["currency"] = optional_text(payload.get("currency"), 3)
    if "cancelled_at" in payload:
        values["cancelled_at"] = optional_time(payload.get("cancelled_at"))
    if "financial_status" in payload:
        values["financial_status"] = optional_text(payload.get("financial_status"), 32)
    if "test" in payload:
        values["test"] = money.is_test(payload)
    if "source_name" in payload:
        values["source_name"] = optional_text(payload.get("source_name"), 64)
    if payload.get("landing_site"):  # the first page of the visit never changes; null is "unknown"
        values["landing_site"] = optional_text(payload.get("landing_site"), 8192)
    if "discount_codes" in payload or "discount_applications" in payload:
        values["codes"] = list(money.order_codes(_lists_only(payload)))
    if "note_attributes" in payload:
        values["note_attributes"] = _note_attributes(payload.get("note_attributes"))
    subtotal = money.order_subtotal(payload)
    values["subtotal"] = subtotal
    values["flagged"] = None if subtotal is not None else "no subtotal in the order payload"
    return OrderFacts(
        shopify_id=shopify_id,
        placed_at=placed_at,
        updated_at=optional_time(payload.get("updated_at")),
        values=values,
        customer=customer if isinstance(customer, Mapping) else None,
        refunds=[read_refund(r, shopify_id)[1:] for r in _dicts(payload.get("refunds"))],
    )


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _lists_only(payload: Mapping[str, Any]) -> dict[str, Any]:
    """discount_codes / discount_applications as lists of objects, whatever was sent."""
    return {key: _dicts(payload.get(key)) for key in ("discount_codes", "discount_applications")}


def read_refund(payload: Mapping[str, Any], order_id: int | None = None) -> tuple[int, int, Decimal, datetime | None]:
    """(order id, refund id, merchandise refunded, when)."""
    refund_id = required_id(payload, "id", "refund")
    if order_id is None:
        order_id = required_id(payload, "order_id", f"refund {refund_id}")
    try:
        merchandise = money.refund_merchandise({**payload, "refund_line_items": _dicts(payload.get("refund_line_items"))})
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    when = optional_time(payload.get("processed_at")) or optional_time(payload.get("created_at"))
    return order_id, refund_id, merchandise, when


# --- upserts ----------------------------------------------------------------------


def dialect_insert(bind: Session | Connection, model: type) -> Any:
    """INSERT with ON CONFLICT for the database at hand (PostgreSQL or SQLite)."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


_statements: dict[tuple[str, str], Any] = {}


def _prepared(session: Session, name: str) -> Any:
    """Statements built once per database kind (values are bound per call): building and
    caching a statement costs more Python than sending it, at a few per event."""
    dialect = session.get_bind().dialect.name
    key = (dialect, name)
    if key not in _statements:
        _statements[key] = _BUILDERS[name](session)
    return _statements[key]


def _customer_insert(session: Session) -> Any:
    table = Customer.__table__
    return (dialect_insert(session, table).on_conflict_do_nothing(index_elements=["shop_id", "shopify_id"])
            .returning(table.c.id))


def _order_insert(session: Session) -> Any:
    table = Order.__table__
    return (dialect_insert(session, table).on_conflict_do_nothing(index_elements=["shop_id", "shopify_id"])
            .returning(table.c.id))


def _refund_upsert(session: Session) -> Any:
    table = Refund.__table__
    stmt = dialect_insert(session, table)
    larger = stmt.excluded.merchandise > table.c.merchandise
    return stmt.on_conflict_do_update(
        index_elements=["shop_id", "shopify_id"],
        set_={"merchandise": case((larger, stmt.excluded.merchandise), else_=table.c.merchandise)},
        where=larger,
    ).returning(table.c.id)


def _refunds_select(session: Session) -> Any:
    table = Refund.__table__
    return select(table.c.shopify_id, table.c.merchandise).where(
        table.c.shop_id == bindparam("shop_id"), table.c.shopify_order_id == bindparam("order_id"))


_BUILDERS = {"customer_insert": _customer_insert, "order_insert": _order_insert,
             "refund_upsert": _refund_upsert, "refunds_select": _refunds_select}
# What a new order row holds for keys its payload did not carry.
ORDER_DEFAULTS = {"name": None, "currency": None, "cancelled_at": None, "financial_status": None, "test": False,
                  "source_name": None, "landing_site": None, "codes": [], "note_attributes": [],
                  "customer_id": None, "shopify_customer_id": None}


def _order_lock_key(shop_id: int, shopify_order_id: int) -> int:
    return engine.lock_key("order", shop_id, shopify_order_id)


def lock_order_key(session: Session, shop_id: int, shopify_order_id: int) -> None:
    """Serialise all work on one order, even before its row exists (a refund can come first).

    SQLite has a single writer and needs nothing; PostgreSQL takes a transaction-scoped
    advisory lock on the (shop, order) pair, in the same place on every path (a batch
    prepared by `prepare_orders` already holds the locks of its orders).
    """
    prepared = _prepared_orders(session, shop_id)
    if prepared is not None and shopify_order_id in prepared.refunds:
        return
    engine.lock(session, [_order_lock_key(shop_id, shopify_order_id)])


# Set by a drain for its batch: the batch's orders locked up front, their stored refunds
# read in one query (nobody else can change them while the locks are held).
PREPARED_ORDERS = "creator_roi.prepared_orders"


@dataclass
class PreparedOrders:
    shop_id: int
    refunds: dict[int, dict[int, Decimal]]  # Shopify order id -> refund id -> merchandise


def _prepared_orders(session: Session, shop_id: int) -> PreparedOrders | None:
    prepared = session.info.get(PREPARED_ORDERS)
    return prepared if prepared is not None and prepared.shop_id == shop_id else None


def batch_order_ids(topic: str, payload: Mapping[str, Any]) -> list[int]:
    """The Shopify order an order or refund delivery is about ([] when it names none)."""
    if topic not in ORDER_TOPICS and topic != "refunds/create":
        return []
    found = optional_id(payload.get("id" if topic in ORDER_TOPICS else "order_id"))
    return [] if found is None else [found]


def prepare_orders(session: Session, shop_id: int, shopify_order_ids: set[int]) -> None:
    """Lock the orders a batch is about in one statement (sorted, as every locker of many
    does) and read their stored refunds in another; `stop_preparing` ends it."""
    if not shopify_order_ids:
        return
    ids = sorted(shopify_order_ids)
    engine.lock(session, (_order_lock_key(shop_id, i) for i in ids))
    refunds: dict[int, dict[int, Decimal]] = {i: {} for i in ids}
    table = Refund.__table__
    for at in range(0, len(ids), 1000):
        for order_id, refund_id, merchandise in session.execute(
                select(table.c.shopify_order_id, table.c.shopify_id, table.c.merchandise)
                .where(table.c.shop_id == shop_id, table.c.shopify_order_id.in_(ids[at:at + 1000]))):
            refunds[order_id][refund_id] = merchandise
    session.info[PREPARED_ORDERS] = PreparedOrders(shop_id, refunds)


def stop_preparing(session: Session) -> None:
    session.info.pop(PREPARED_ORDERS, None)


def upsert_customer(session: Session, shop_id: int, data: Mapping[str, Any], *,
                    seen_at: datetime | None = None, authoritative: bool = False) -> tuple[int | None, bool]:
    """(the customer's row id, whether the customer was redacted), created or brought up to date.

    `authoritative` payloads (customers/*) are the whole customer: a newer one overwrites,
    nulls included. A customer embedded in an order may lack fields the app was not granted,
    so it only fills in. A redacted customer never gets personal data back.
    """
    shopify_id = optional_id(data.get("id"))
    if shopify_id is None:
        return None, False
    updated = optional_time(data.get("updated_at"))
    first_seen = min((t for t in (optional_time(data.get("created_at")), seen_at) if t is not None), default=None)
    personal = {name: optional_text(data.get(name), limit) for name, limit in CUSTOMER_FIELDS.items()}
    inserted = session.execute(_prepared(session, "customer_insert"), {
        "shop_id": shop_id, "shopify_id": shopify_id, "first_seen_at": first_seen,
        "shopify_updated_at": updated, "redacted_at": None, "created_at": utcnow(), **personal,
    }).scalar()
    if inserted is not None:
        return inserted, False
    customer = session.scalars(
        select(Customer).where(Customer.shop_id == shop_id, Customer.shopify_id == shopify_id).with_for_update()
    ).one()
    if first_seen is not None and (customer.first_seen_at is None or first_seen < customer.first_seen_at):
        customer.first_seen_at = first_seen
    if customer.redacted_at is not None:
        return customer.id, True
    newer = updated is not None and (customer.shopify_updated_at is None or updated > customer.shopify_updated_at)
    for name, value in personal.items():
        carried = name in data
        if newer and authoritative and carried:
            setattr(customer, name, value)
        elif value is not None and (newer or getattr(customer, name) is None):
            setattr(customer, name, value)
    if newer:
        customer.shopify_updated_at = updated
    return customer.id, False


def record_refund(session: Session, shop_id: int, order_id: int, refund_id: int,
                  merchandise: Decimal, when: datetime | None) -> bool:
    """Store a refund once by its id; True when this changed what is stored.

    Shopify refunds are immutable; should two deliveries disagree, the larger amount
    stays (roi.money.merge_refunds), so arrival order never matters.
    """
    changed = session.execute(_prepared(session, "refund_upsert"), {
        "shop_id": shop_id, "shopify_id": refund_id, "shopify_order_id": order_id,
        "merchandise": merchandise, "processed_at": when, "created_at": utcnow(),
    }).scalar() is not None
    prepared = _prepared_orders(session, shop_id)
    if changed and prepared is not None and order_id in prepared.refunds:
        prepared.refunds[order_id][refund_id] = merchandise  # stored: the larger of the two
    return changed


def refunds_of(session: Session, shop_id: int, shopify_order_id: int) -> dict[int, Decimal]:
    prepared = _prepared_orders(session, shop_id)
    if prepared is not None and shopify_order_id in prepared.refunds:
        return dict(prepared.refunds[shopify_order_id])
    return dict(session.execute(_prepared(session, "refunds_select"),
                                {"shop_id": shop_id, "order_id": shopify_order_id}).all())


def net_sales_of(subtotal: Decimal | None, refunds: Mapping[int, Decimal]) -> Decimal:
    """The newest subtotal less each distinct refund, never below zero (0.00 without a subtotal)."""
    return money.ZERO if subtotal is None else money.net_sales(subtotal, refunds)


def refresh_net_sales(session: Session, order: Order) -> bool:
    net = net_sales_of(order.subtotal, refunds_of(session, order.shop_id, order.shopify_id))
    if order.net_sales is not None and Decimal(order.net_sales) == net:
        return False
    order.net_sales = net
    return True


@dataclass
class AppliedOrder:
    id: int
    changed: bool
    # The buyer asked to be forgotten: the delivery's stored body must go too.
    customer_redacted: bool = False


def apply_order_payload(session: Session, shop: Shop, payload: Mapping[str, Any]) -> AppliedOrder:
    """Upsert one order from a REST-shaped payload (webhook, backfill, demo).

    Refunds the payload carries are recorded whatever its age; the order's own fields
    only from a payload newer than the stored one.
    """
    facts = read_order(payload)
    lock_order_key(session, shop.id, facts.shopify_id)
    customer_id, redacted = None, False
    if facts.customer is not None:
        customer_id, redacted = upsert_customer(session, shop.id, facts.customer, seen_at=facts.placed_at)
    refunds_changed = False
    for refund_id, merchandise, when in facts.refunds:
        refunds_changed = record_refund(session, shop.id, facts.shopify_id, refund_id, merchandise, when) \
            or refunds_changed
    refunds = refunds_of(session, shop.id, facts.shopify_id)
    row = {
        "placed_at": facts.placed_at, "shopify_updated_at": facts.updated_at,
        **facts.values,
    }
    if "customer" in payload:
        row["customer_id"] = customer_id
        row["shopify_customer_id"] = optional_id(facts.customer.get("id")) if facts.customer else None
    now = utcnow()
    inserted = session.execute(_prepared(session, "order_insert"), {
        **ORDER_DEFAULTS, **row, "shop_id": shop.id, "shopify_id": facts.shopify_id,
        "net_sales": net_sales_of(facts.values["subtotal"], refunds), "created_at": now, "updated_at": now,
    }).scalar()
    if inserted is not None:
        return AppliedOrder(inserted, True, redacted)
    order = session.scalars(
        select(Order).where(Order.shop_id == shop.id, Order.shopify_id == facts.shopify_id).with_for_update()
    ).one()
    changed = refunds_changed
    if _is_newer(facts.updated_at, order.shopify_updated_at):
        for key, value in row.items():
            setattr(order, key, value)
        changed = True
    net = net_sales_of(order.subtotal, refunds)
    if order.net_sales is None or Decimal(order.net_sales) != net:
        order.net_sales = net
        changed = True
    if changed:
        session.flush()
    return AppliedOrder(order.id, changed, redacted)


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool:
    if incoming is None:
        return False
    return stored is None or incoming > stored


# --- attribution after a change -----------------------------------------------------

# Set by a drain for its batch: order changes are collected here and attributed together
# when the batch's events are done (one engine pass for the batch instead of one per event).
DEFERRED_ORDERS = "creator_roi.deferred_orders"


def orders_changed(session: Session, shop_id: int, order_ids: list[int]) -> None:
    """Hand changed orders to the attribution engine: now, or with the batch's others when
    the caller collects them (`collect_changes`)."""
    deferred = session.info.get(DEFERRED_ORDERS)
    if deferred is None:
        engine.orders_changed(session, shop_id, order_ids)
    else:
        deferred.setdefault(shop_id, set()).update(order_ids)


def collect_changes(session: Session) -> None:
    """From now on, orders_changed keeps the orders for `attribute_collected`."""
    session.info[DEFERRED_ORDERS] = {}


def attribute_collected(session: Session) -> None:
    """Attribute every order collected since `collect_changes` (and keep collecting).
    Raises what the engine raises: the caller decides what fails."""
    deferred = session.info.get(DEFERRED_ORDERS) or {}
    for shop_id in sorted(deferred):
        engine.orders_changed(session, shop_id, sorted(deferred[shop_id]))
    deferred.clear()
    engine.refresh_pending(session)  # now rather than at commit, so a failure is the caller's to handle


def stop_collecting(session: Session) -> None:
    session.info.pop(DEFERRED_ORDERS, None)


# --- topics -----------------------------------------------------------------------


def handle_order(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    applied = apply_order_payload(session, shop, payload)
    body = REDACTED_BODY if applied.customer_redacted else None
    if applied.changed:
        orders_changed(session, shop.id, [applied.id])
        return Outcome(order_ids=[applied.id], body=body)
    return Outcome(note="an older or identical payload: nothing changed", order_ids=[applied.id], body=body)


def handle_refund(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    order_id, refund_id, merchandise, when = read_refund(payload)
    lock_order_key(session, shop.id, order_id)
    order = session.scalars(
        select(Order).where(Order.shop_id == shop.id, Order.shopify_id == order_id).with_for_update()
    ).one_or_none()
    recorded = record_refund(session, shop.id, order_id, refund_id, merchandise, when)
    if order is None:
        # Kept by Shopify's order id; applied when the order lands.
        return Outcome(note="refund kept until its order arrives")
    changed = refresh_net_sales(session, order) or recorded
    if changed:
        session.flush()
        orders_changed(session, shop.id, [order.id])
    return Outcome(order_ids=[order.id])


def handle_customer(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    required_id(payload, "id", "customer")
    _, redacted = upsert_customer(session, shop.id, payload, authoritative=True)
    return Outcome(body=REDACTED_BODY if redacted else None)


def handle_uninstalled(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    from worker.installation import mark_uninstalled

    if shop.uninstalled_at is not None:
        return Outcome(note="the shop was already uninstalled")
    # Stored before a reinstall and processed after it (workers were behind): not for this install.
    if shop.uninstalled_at is None and event.received_at is not None and shop.installed_at > event.received_at:
        return Outcome(IGNORED, "the shop was installed again after this uninstall")
    mark_uninstalled(session, shop)
    return Outcome()


Handler = Callable[[Session, Shop, WebhookEvent, dict[str, Any]], Outcome]


@functools.cache
def handlers() -> dict[str, Handler]:
    from worker import compliance

    table: dict[str, Handler] = {topic: handle_order for topic in ORDER_TOPICS}
    table.update({topic: handle_customer for topic in CUSTOMER_TOPICS})
    table["refunds/create"] = handle_refund
    table["app/uninstalled"] = handle_uninstalled
    table["customers/data_request"] = compliance.handle_data_request
    table["customers/redact"] = compliance.handle_customer_redact
    table["shop/redact"] = compliance.handle_shop_redact
    return table


def process(session: Session, event: WebhookEvent, shop: Shop | None,
            payload: dict[str, Any] | None = None) -> Outcome:
    """Apply one inbox event in the caller's transaction; raises on failure. `payload` is
    the event's body already parsed, when the caller has it."""
    handler = handlers().get(event.topic)
    if handler is None:
        return Outcome(IGNORED, f"topic {event.topic} is not handled")
    if shop is None and event.topic not in COMPLIANCE_TOPICS:
        return Outcome(IGNORED, "the shop is no longer known")
    if payload is None:
        payload = parse_body(event.body)
    return handler(session, shop, event, payload)  # type: ignore[arg-type]
