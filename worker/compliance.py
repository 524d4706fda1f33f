"""Shopify's mandatory privacy topics: customers/data_request, customers/redact, shop/redact.

Compliance bodies may carry a placeholder shop domain (`{shop}.myshopify.com`) and
64-bit ids; the shop is always the one in the verified `X-Shopify-Shop-Domain`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Attribution, Click, Customer, DataExport, Order, Refund, Shop, WebhookEvent, utcnow
from models.webhook import IGNORED
from roi import money
from worker.payloads import REDACTED_BODY, Outcome, optional_id

log = logging.getLogger("creator_roi.compliance")

# Topics whose bodies can carry a customer's personal data.
PERSONAL_TOPICS = ("orders/%", "customers/%", "refunds/%")


def _ids(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [i for i in (optional_id(v) for v in values) if i is not None]


def _requested(payload: Mapping[str, Any], key: str) -> tuple[int | None, list[int]]:
    customer = payload.get("customer")
    customer_id = optional_id(customer.get("id")) if isinstance(customer, Mapping) else None
    return customer_id, _ids(payload.get(key))


def _minimal_body(payload: Mapping[str, Any], key: str) -> str:
    """The request without the e-mail and phone it carries: ids are all we need to keep."""
    customer_id, order_ids = _requested(payload, key)
    kept: dict[str, Any] = {"customer": {"id": customer_id}, key: order_ids}
    if isinstance(payload.get("data_request"), Mapping):
        kept["data_request"] = {"id": optional_id(payload["data_request"].get("id"))}
    return json.dumps(kept)


def _customer_orders(session: Session, shop_id: int, customer_id: int | None, order_ids: Iterable[int]) -> list[Order]:
    conditions = []
    if customer_id is not None:
        conditions.append(Order.shopify_customer_id == customer_id)
    order_ids = list(order_ids)
    if order_ids:
        conditions.append(Order.shopify_id.in_(order_ids))
    if not conditions:
        return []
    return list(
        session.scalars(
            select(Order).where(Order.shop_id == shop_id, or_(*conditions)).order_by(Order.placed_at, Order.id)
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value), "f")


def customer_export(session: Session, shop: Shop, customer_id: int | None, order_ids: list[int]) -> dict[str, Any]:
    """Everything the app holds about one customer, as JSON-ready values."""
    customer = None
    if customer_id is not None:
        customer = session.scalar(
            select(Customer).where(Customer.shop_id == shop.id, Customer.shopify_id == customer_id)
        )
    orders = _customer_orders(session, shop.id, customer_id, order_ids)
    refunds = (
        list(
            session.scalars(
                select(Refund).where(
                    Refund.shop_id == shop.id, Refund.shopify_order_id.in_([o.shopify_id for o in orders])
                )
            )
        )
        if orders
        else []
    )
    attributions = (
        {
            a.order_id: a
            for a in session.scalars(
                select(Attribution).where(
                    Attribution.shop_id == shop.id, Attribution.order_id.in_([o.id for o in orders])
                )
            )
        }
        if orders
        else {}
    )
    return {
        "shop": shop.domain,
        "customer": None
        if customer is None
        else {
            "id": customer.shopify_id,
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "phone": customer.phone,
            "first_seen_at": _iso(customer.first_seen_at),
            "redacted_at": _iso(customer.redacted_at),
        },
        "orders": [
            {
                "id": o.shopify_id,
                "name": o.name,
                "placed_at": _iso(o.placed_at),
                "currency": o.currency,
                "subtotal": _money(o.subtotal),
                "net_sales": _money(o.net_sales),
                "cancelled_at": _iso(o.cancelled_at),
                "financial_status": o.financial_status,
                "landing_site": o.landing_site,
                "discount_codes": list(o.codes or []),
                "note_attributes": list(o.note_attributes or []),
                "refunds": [
                    {"id": r.shopify_id, "merchandise": _money(r.merchandise), "processed_at": _iso(r.processed_at)}
                    for r in refunds
                    if r.shopify_order_id == o.shopify_id
                ],
                "attribution": None
                if o.id not in attributions
                else {
                    "influencer_id": attributions[o.id].influencer_id,
                    "kind": attributions[o.id].kind,
                    "rule": attributions[o.id].rule,
                    "evidence": attributions[o.id].evidence,
                },
            }
            for o in orders
        ],
    }


def handle_data_request(session: Session, shop: Shop | None, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    customer_id, order_ids = _requested(payload, "orders_requested")
    request = payload.get("data_request")
    request_id = optional_id(request.get("id")) if isinstance(request, Mapping) else None
    body = _minimal_body(payload, "orders_requested")
    if shop is None:
        log.info(
            "event=data_request shop=%s request_id=%s customer_id=%s held=nothing",
            event.shop_domain,
            request_id,
            customer_id,
        )
        return Outcome(note="the app holds nothing for this shop", body=body)
    data = customer_export(session, shop, customer_id, order_ids)
    export = DataExport(shop_id=shop.id, request_id=request_id, shopify_customer_id=customer_id, data=data)
    session.add(export)
    session.flush()
    log.info(
        "event=data_request shop=%s request_id=%s customer_id=%s export_id=%s customer_found=%s orders=%d",
        shop.domain,
        request_id,
        customer_id,
        export.id,
        data["customer"] is not None,
        len(data["orders"]),
    )
    return Outcome(note=f"export {export.id} ready for the merchant", body=body)


def _survey_only(attributes: Any) -> list[Mapping[str, Any]]:
    """Keep the "how did you hear" answer (it names a creator, not the buyer); drop the rest."""
    return [
        a
        for a in attributes or []
        if isinstance(a, Mapping) and str(a.get("name", "")).strip().lower() == money.SURVEY_ATTRIBUTE
    ]


def handle_customer_redact(
    session: Session, shop: Shop | None, event: WebhookEvent, payload: dict[str, Any]
) -> Outcome:
    """Erase the customer's personal data; orders stay as anonymous totals for the reports."""
    customer_id, order_ids = _requested(payload, "orders_to_redact")
    body = _minimal_body(payload, "orders_to_redact")
    if shop is None:
        return Outcome(note="the app holds nothing for this shop", body=body)
    now = utcnow()
    if customer_id is not None:
        customer = session.scalars(
            select(Customer).where(Customer.shop_id == shop.id, Customer.shopify_id == customer_id).with_for_update()
        ).one_or_none()
        if customer is None:
            # A tombstone, so that a late delivery cannot bring the personal data back.
            customer = Customer(shop_id=shop.id, shopify_id=customer_id)
            session.add(customer)
        customer.email = customer.first_name = customer.last_name = customer.phone = None
        customer.redacted_at = now
    orders = _customer_orders(session, shop.id, customer_id, order_ids)
    click_ids = []
    for order in orders:
        order.note_attributes = _survey_only(order.note_attributes)
        crid = money.landing_params(order.landing_site).get("crid")
        if crid:
            click_ids.append(crid)
    if click_ids:
        session.execute(
            update(Click)
            .where(Click.shop_id == shop.id, Click.click_id.in_(click_ids))
            .values(ip_hash=None, user_agent=None, visitor_id=None, referrer=None)
        )
    session.execute(
        delete(DataExport).where(DataExport.shop_id == shop.id, DataExport.shopify_customer_id == customer_id)
    )
    scrubbed = scrub_event_bodies(session, event, [customer_id, *[o.shopify_id for o in orders], *order_ids])
    session.flush()
    log.info(
        "event=customer_redacted shop=%s customer_id=%s orders=%d clicks=%d bodies=%d",
        shop.domain,
        customer_id,
        len(orders),
        len(click_ids),
        scrubbed,
    )
    return Outcome(order_ids=[o.id for o in orders], body=body)


def scrub_event_bodies(session: Session, current: WebhookEvent, ids: Iterable[int | None]) -> int:
    """Blank stored bodies that mention any of these ids (processed ones only: the others
    still have work to do, and are blanked when processed if they name a redacted customer)."""
    needles = sorted({str(i) for i in ids if i is not None})
    if not needles:
        return 0
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.shop_domain == current.shop_domain,
                WebhookEvent.id != current.id,
                WebhookEvent.status.in_(("processed", IGNORED)),
                or_(*[WebhookEvent.topic.like(t) for t in PERSONAL_TOPICS]),
                or_(*[WebhookEvent.body.contains(n, autoescape=True) for n in needles]),
            )
            .values(body=REDACTED_BODY)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount or 0


def handle_shop_redact(session: Session, shop: Shop | None, event: WebhookEvent, payload: dict[str, Any]) -> Outcome:
    """Delete everything of the shop (48 h after uninstall): its rows cascade from the shop."""
    if shop is not None and shop.is_installed:
        return Outcome(IGNORED, "the shop has installed the app again")
    removed = (
        cast(
            "CursorResult[Any]",
            session.execute(
                delete(WebhookEvent)
                .where(WebhookEvent.shop_domain == event.shop_domain, WebhookEvent.id != event.id)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        or 0
    )
    if shop is not None:
        session.execute(delete(Shop).where(Shop.id == shop.id).execution_options(synchronize_session=False))
    log.info(
        "event=shop_redacted shop=%s events_deleted=%d shop_found=%s", event.shop_domain, removed, shop is not None
    )
    return Outcome(stop_batch=True)
