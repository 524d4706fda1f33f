"""What a webhook delivery says: its topics, its body read leniently, and what processing it did.

Payloads are read leniently: every shape Shopify has published since API
2023-07 is accepted, unknown fields are ignored and an optional field may be
missing or null. Only what the app cannot do without (an order's id and its
creation time, a refund's id and order) fails an event, with the reason
(`PayloadError`: retrying the same body cannot help).

Nothing here touches the database: `worker.order_store` stores what is read,
`worker.processing` says which topic does what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from models.webhook import PROCESSED
from roi import money

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


def parse_body(body: str) -> dict[str, Any]:
    """The JSON object of a webhook body; numbers with a fraction become Decimal, never float."""
    try:
        payload = json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg}") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts (4,300 digits)
        raise PayloadError(f"body is not JSON this app reads: {exc}") from None
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
class OrderPayload:
    """An order as one payload states it."""

    shopify_id: int
    placed_at: datetime
    updated_at: datetime | None
    # The order row's columns the payload carries: a key it does not carry keeps what is stored.
    values: dict[str, Any]
    customer: Mapping[str, Any] | None
    refunds: list[tuple[int, Decimal, datetime | None]]


def read_order(payload: Mapping[str, Any]) -> OrderPayload:
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
    # Beside the shop money, never instead of it: a missing or malformed set is None, not a failure.
    shown = money.order_presentment(payload)
    values["presentment_currency"], values["presentment_subtotal"] = shown if shown is not None else (None, None)
    return OrderPayload(
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
        merchandise = money.refund_merchandise(
            {**payload, "refund_line_items": _dicts(payload.get("refund_line_items"))}
        )
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
    when = optional_time(payload.get("processed_at")) or optional_time(payload.get("created_at"))
    return order_id, refund_id, merchandise, when


def order_ids_named(topic: str, payload: Mapping[str, Any]) -> list[int]:
    """The Shopify order an order or refund delivery is about ([] when it names none)."""
    if topic not in ORDER_TOPICS and topic != "refunds/create":
        return []
    found = optional_id(payload.get("id" if topic in ORDER_TOPICS else "order_id"))
    return [] if found is None else [found]
