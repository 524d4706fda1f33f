"""What Shopify sends: the recorded fixture files (one loader), the ids in them, the signature on a
webhook, and orders and refunds in Shopify's shapes, built from scratch or from the fixtures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from factories import API_SECRET, SHOP, SHOPIFY_FIXTURES

# Ids in the fixture files (fixtures/shopify/README.md tells their story).
ORDER_1001 = 6012345678901  # ANNA15 code, refunded in part
ORDER_1002 = 6012349876543  # through Anna's link
ORDER_1003 = 6087654321098  # answered the survey
REFUND_1001 = 912345678901
CUSTOMER_JORDAN = 8123460001234
CUSTOMER_LENA = 8123456789012

_ids = iter(range(1, 10_000_000))


# ---- the recorded fixtures ------------------------------------------------------------------


def fixture_bytes(name: str) -> bytes:
    """A fixture body byte for byte as Shopify sent it (its recorded HMAC covers these bytes)."""
    return (SHOPIFY_FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return fixture_bytes(name).decode()


def fixture_json(name: str) -> dict[str, Any]:
    """A fixture parsed as the worker parses a delivery: JSON numbers with a fraction as Decimal."""
    return json.loads(fixture_bytes(name), parse_float=Decimal)


def recorded_delivery(name: str) -> tuple[bytes, dict[str, str]]:
    """A fixture body and the exact headers Shopify sent with it (valid HMAC)."""
    headers = json.loads(fixture_bytes("headers.json"))["deliveries"][name]
    return fixture_bytes(name), dict(headers)


def with_ids(text: str, mapping: dict[int, int]) -> str:
    """A fixture body with its ids swapped (a different order, refund or customer)."""
    for old, new in mapping.items():
        text = text.replace(str(old), str(new))
    return text


def as_json(payload: dict[str, Any]) -> str:
    """A payload as Shopify would send it: a Decimal goes back to a JSON number."""
    return json.dumps(payload, default=float)


# ---- signatures -----------------------------------------------------------------------------


def webhook_headers(
    topic: str, body: bytes, shop: str = SHOP, *, secret: str = API_SECRET, webhook_id: str | None = None
) -> dict[str, str]:
    """The headers Shopify sends with a delivery, signed with `secret` over `body`."""
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-10-14T14:32:10.184224570Z",
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


# ---- orders and refunds from scratch ----------------------------------------------------------


def usd(amount: Decimal | str) -> dict[str, Any]:
    """A `*_set` money pair for a USD shop selling in USD."""
    return {
        "shop_money": {"amount": str(amount), "currency_code": "USD"},
        "presentment_money": {"amount": str(amount), "currency_code": "USD"},
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def order_payload(
    *,
    placed_at: datetime,
    net: str = "50.00",
    customer_id: int | None = None,
    codes: tuple[str, ...] = (),
    landing_site: str | None = None,
    survey: str | None = None,
    order_id: int | None = None,
    name: str | None = None,
    updated_at: datetime | None = None,
    refunds: list[dict[str, Any]] | None = None,
    cancelled_at: datetime | None = None,
    test: bool = False,
    source_name: str = "web",
    financial_status: str = "paid",
) -> dict[str, Any]:
    """A Shopify `orders/create` body with only the fields the app reads, in their real shapes."""
    number = order_id or 7_000_000_000_000 + next(_ids)
    return {
        "id": number,
        "name": name or f"#{number % 100000}",
        "created_at": _iso(placed_at),
        "updated_at": _iso(updated_at or placed_at),
        "processed_at": _iso(placed_at),
        "currency": "USD",
        "presentment_currency": "USD",
        "test": test,
        "source_name": source_name,
        "financial_status": financial_status,
        "cancelled_at": _iso(cancelled_at) if cancelled_at else None,
        "subtotal_price": net,
        "subtotal_price_set": usd(net),
        "total_tax": "4.00",
        "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
        "discount_codes": [{"code": c, "amount": "5.00", "type": "percentage"} for c in codes],
        "discount_applications": [],
        "landing_site": landing_site,
        "note_attributes": [{"name": "how_did_you_hear", "value": survey}] if survey else [],
        "customer": {"id": customer_id, "created_at": _iso(placed_at), "updated_at": _iso(placed_at)}
        if customer_id
        else None,
        "refunds": refunds or [],
    }


def refund_payload(
    order_id: int, amount: str, *, refund_id: int | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """A `refunds/create` body returning `amount` of merchandise, nothing else."""
    when = _iso(at or datetime(2026, 10, 20, tzinfo=UTC))
    return {
        "id": refund_id or 9_000_000_000 + next(_ids),
        "order_id": order_id,
        "created_at": when,
        "processed_at": when,
        "refund_line_items": [{"quantity": 1, "subtotal": float(amount), "subtotal_set": usd(amount)}],
        "transactions": [],
        "order_adjustments": [],
    }


# ---- orders and refunds from the fixtures, for load -------------------------------------------


def order_from_fixture(
    order_id: int, number: int, subtotal: Decimal, customer_id: int, **fields: Any
) -> dict[str, Any]:
    """Order #1001 (orders_create_code.json) as another order: its ids, its subtotal, no refunds yet."""
    template = fixture_json("orders_create_code.json")
    body = dict(
        template,
        id=order_id,
        name=f"#{number}",
        order_number=number,
        refunds=[],
        customer={**template["customer"], "id": customer_id},
        subtotal_price=str(subtotal),
        subtotal_price_set=usd(subtotal),
    )
    body.update(fields)
    return body


def refund_from_fixture(refund_id: int, order_id: int, amount: Decimal) -> dict[str, Any]:
    """The fixture refund (refunds_create_partial.json) as a refund of `amount` merchandise on another order."""
    refund = fixture_json("refunds_create_partial.json")
    refund.update(id=refund_id, order_id=order_id)
    line = refund["refund_line_items"][0]
    line["subtotal_set"] = usd(amount)
    line["subtotal"] = float(amount)
    refund["refund_line_items"] = [line]
    return refund


@dataclass(frozen=True)
class Delivery:
    topic: str
    body: bytes
    webhook_id: str


def order_deliveries(
    count: int, *, first_id: int = 7_000_000_000_000, with_refunds: bool = True
) -> tuple[list[Delivery], dict[str, Any]]:
    """`count` orders with the ANNA15 code (some updated, some partly refunded) and the totals
    a correct pipeline must end with."""
    deliveries: list[Delivery] = []
    revenue = Decimal("0.00")
    for i in range(count):
        order_id = first_id + i
        subtotal = Decimal(20 + (i * 37) % 180) + Decimal("0.45")
        body = order_from_fixture(
            order_id,
            50000 + i,
            subtotal,
            9_000_000_000_000 + i,
            created_at="2026-10-14T10:31:58-04:00",
            updated_at="2026-10-14T10:32:01-04:00",
        )
        deliveries.append(Delivery("orders/create", as_json(body).encode(), f"create-{order_id}"))
        net = subtotal
        if i % 5 == 0:  # the same order again, later: paid
            updated = dict(body, updated_at="2026-10-14T11:00:00-04:00", financial_status="paid")
            deliveries.append(Delivery("orders/updated", as_json(updated).encode(), f"updated-{order_id}"))
        if with_refunds and i % 7 == 0:
            amount = Decimal("5.00")
            refund = refund_from_fixture(8_000_000_000_000 + i, order_id, amount)
            deliveries.append(Delivery("refunds/create", as_json(refund).encode(), f"refund-{order_id}"))
            net -= amount
        revenue += net
    return deliveries, {"orders": count, "revenue": revenue}
