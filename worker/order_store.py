"""Orders, refunds and customers stored from what payloads say (`worker.payloads`).

Every write is an upsert that is safe against a concurrent one (INSERT ... ON
CONFLICT, then a row lock), and the result does not depend on the order in
which deliveries arrive: the payload with the newest `updated_at` is the
order's state, and each refund counts once by its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, select
from sqlalchemy.orm import Session

from models import Customer, Order, Refund, Shop, utcnow
from models.db import dialect_insert
from roi import money
from worker import engine
from worker.batch import Batch
from worker.payloads import CUSTOMER_FIELDS, optional_id, optional_text, optional_time, read_order

_statements: dict[tuple[str, str], Any] = {}


def _prepared(session: Session, name: str) -> Any:
    """Statements built once per database kind (values are bound per call): building and
    caching a statement costs more Python than sending it, at a few per event."""
    dialect = session.get_bind().dialect.name
    key = (dialect, name)
    if key not in _statements:
        _statements[key] = _BUILDERS[name](dialect)
    return _statements[key]


def _new_row_insert(model: Any, dialect: str) -> Any:
    """INSERT of a row keyed by (shop, Shopify id) that keeps the stored one on conflict."""
    table = model.__table__
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=["shop_id", "shopify_id"])
        .returning(table.c.id)
    )


def _customer_insert(dialect: str) -> Any:
    return _new_row_insert(Customer, dialect)


def _order_insert(dialect: str) -> Any:
    return _new_row_insert(Order, dialect)


def _refund_upsert(dialect: str) -> Any:
    table = Refund.__table__
    stmt = dialect_insert(dialect, table)
    larger = stmt.excluded.merchandise > table.c.merchandise
    return stmt.on_conflict_do_update(
        index_elements=["shop_id", "shopify_id"],
        set_={"merchandise": case((larger, stmt.excluded.merchandise), else_=table.c.merchandise)},
        where=larger,
    ).returning(table.c.id)


def _refunds_select(dialect: str) -> Any:
    table = Refund.__table__
    return select(table.c.shopify_id, table.c.merchandise).where(
        table.c.shop_id == bindparam("shop_id"), table.c.shopify_order_id == bindparam("order_id")
    )


_BUILDERS = {
    "customer_insert": _customer_insert,
    "order_insert": _order_insert,
    "refund_upsert": _refund_upsert,
    "refunds_select": _refunds_select,
}
# What a new order row holds for keys its payload did not carry.
ORDER_DEFAULTS: dict[str, Any] = {
    "name": None,
    "currency": None,
    "cancelled_at": None,
    "financial_status": None,
    "test": False,
    "source_name": None,
    "landing_site": None,
    "codes": [],
    "note_attributes": [],
    "customer_id": None,
    "shopify_customer_id": None,
}


# --- locks ---------------------------------------------------------------------------


def _order_lock_key(shop_id: int, shopify_order_id: int) -> int:
    return engine.lock_key("order", shop_id, shopify_order_id)


def lock_order_key(session: Session, batch: Batch, shop_id: int, shopify_order_id: int) -> None:
    """Serialise all work on one order, even before its row exists (a refund can come first).

    SQLite has a single writer and needs nothing; PostgreSQL takes a transaction-scoped
    advisory lock on the (shop, order) pair, in the same place on every path (a batch
    prepared by `prepare_orders` already holds the locks of its orders).
    """
    if batch.prepared_refunds(shop_id, shopify_order_id) is not None:
        return
    engine.lock(session, [_order_lock_key(shop_id, shopify_order_id)])


def prepare_orders(session: Session, batch: Batch, shop_id: int, shopify_order_ids: set[int]) -> None:
    """Lock the orders a batch is about in one statement (sorted, as every locker of many
    does) and read their stored refunds in another, into the batch."""
    if not shopify_order_ids:
        return
    ids = sorted(shopify_order_ids)
    engine.lock(session, (_order_lock_key(shop_id, i) for i in ids))
    refunds: dict[int, dict[int, Decimal]] = {i: {} for i in ids}
    table = Refund.__table__
    for at in range(0, len(ids), 1000):
        for order_id, refund_id, merchandise in session.execute(
            select(table.c.shopify_order_id, table.c.shopify_id, table.c.merchandise).where(
                table.c.shop_id == shop_id, table.c.shopify_order_id.in_(ids[at : at + 1000])
            )
        ):
            refunds[order_id][refund_id] = merchandise
    batch.prepared_shop_id, batch.refunds = shop_id, refunds


# --- customers and refunds -------------------------------------------------------------


def upsert_customer(
    session: Session,
    shop_id: int,
    data: Mapping[str, Any],
    *,
    seen_at: datetime | None = None,
    authoritative: bool = False,
) -> tuple[int | None, bool]:
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
    inserted = session.execute(
        _prepared(session, "customer_insert"),
        {
            "shop_id": shop_id,
            "shopify_id": shopify_id,
            "first_seen_at": first_seen,
            "shopify_updated_at": updated,
            "redacted_at": None,
            "created_at": utcnow(),
            **personal,
        },
    ).scalar()
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


def record_refund(
    session: Session,
    batch: Batch,
    shop_id: int,
    order_id: int,
    refund_id: int,
    merchandise: Decimal,
    when: datetime | None,
) -> bool:
    """Store a refund once by its id; True when this changed what is stored.

    Shopify refunds are immutable; should two deliveries disagree, the larger amount
    stays (roi.money.merge_refunds), so arrival order never matters.
    """
    changed = (
        session.execute(
            _prepared(session, "refund_upsert"),
            {
                "shop_id": shop_id,
                "shopify_id": refund_id,
                "shopify_order_id": order_id,
                "merchandise": merchandise,
                "processed_at": when,
                "created_at": utcnow(),
            },
        ).scalar()
        is not None
    )
    prepared = batch.prepared_refunds(shop_id, order_id)
    if changed and prepared is not None:
        prepared[refund_id] = merchandise  # stored: the larger of the two
    return changed


def refunds_of(session: Session, batch: Batch, shop_id: int, shopify_order_id: int) -> dict[int, Decimal]:
    prepared = batch.prepared_refunds(shop_id, shopify_order_id)
    if prepared is not None:
        return dict(prepared)
    return dict(
        session.execute(_prepared(session, "refunds_select"), {"shop_id": shop_id, "order_id": shopify_order_id}).all()
    )


def net_sales_of(subtotal: Decimal | None, refunds: Mapping[int, Decimal]) -> Decimal:
    """The newest subtotal less each distinct refund, never below zero (0.00 without a subtotal)."""
    return money.ZERO if subtotal is None else money.net_sales(subtotal, refunds)


def refresh_net_sales(session: Session, batch: Batch, order: Order) -> bool:
    net = net_sales_of(order.subtotal, refunds_of(session, batch, order.shop_id, order.shopify_id))
    if order.net_sales is not None and Decimal(order.net_sales) == net:
        return False
    order.net_sales = net
    return True


# --- orders ----------------------------------------------------------------------------


@dataclass
class AppliedOrder:
    id: int
    changed: bool
    # The buyer asked to be forgotten: the delivery's stored body must go too.
    customer_redacted: bool = False


def apply_order_payload(session: Session, batch: Batch, shop: Shop, payload: Mapping[str, Any]) -> AppliedOrder:
    """Upsert one order from a REST-shaped payload (webhook, backfill, demo).

    Refunds the payload carries are recorded whatever its age; the order's own fields
    only from a payload newer than the stored one.
    """
    facts = read_order(payload)
    lock_order_key(session, batch, shop.id, facts.shopify_id)
    customer_id, redacted = None, False
    if facts.customer is not None:
        customer_id, redacted = upsert_customer(session, shop.id, facts.customer, seen_at=facts.placed_at)
    refunds_changed = False
    for refund_id, merchandise, when in facts.refunds:
        refunds_changed = (
            record_refund(session, batch, shop.id, facts.shopify_id, refund_id, merchandise, when) or refunds_changed
        )
    refunds = refunds_of(session, batch, shop.id, facts.shopify_id)
    row = {
        "placed_at": facts.placed_at,
        "shopify_updated_at": facts.updated_at,
        **facts.values,
    }
    if "customer" in payload:
        row["customer_id"] = customer_id
        row["shopify_customer_id"] = optional_id(facts.customer.get("id")) if facts.customer else None
    now = utcnow()
    inserted = session.execute(
        _prepared(session, "order_insert"),
        {
            **ORDER_DEFAULTS,
            **row,
            "shop_id": shop.id,
            "shopify_id": facts.shopify_id,
            "net_sales": net_sales_of(facts.values["subtotal"], refunds),
            "created_at": now,
            "updated_at": now,
        },
    ).scalar()
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
