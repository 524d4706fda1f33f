"""Helpers for the webhook pipeline tests: signed deliveries, fixture bodies, shops,
and a Redis that hangs."""
from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from conftest import API_SECRET, SHOP, SHOPIFY_FIXTURES, fixture_delivery, webhook_headers
from models import Order, WebhookEvent
from worker import installation
from worker.runtime import bind

ORDER_1001 = 6012345678901
ORDER_1002 = 6012349876543
ORDER_1003 = 6087654321098
CUSTOMER_JORDAN = 8123460001234
CUSTOMER_LENA = 8123456789012


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads((SHOPIFY_FIXTURES / name).read_text(), parse_float=Decimal)


def fixture_text(name: str) -> str:
    return (SHOPIFY_FIXTURES / name).read_text()


def deliver(client: Any, topic: str, body: bytes | str | dict, shop: str = SHOP, *,
            webhook_id: str | None = None, secret: str = API_SECRET, **extra_headers: str) -> Any:
    """POST a delivery signed like Shopify signs it."""
    if isinstance(body, dict):
        body = json.dumps(body, default=float)  # Decimal back to a JSON number, as Shopify sends it
    raw = body.encode() if isinstance(body, str) else body
    headers = webhook_headers(topic, raw, shop, secret=secret, webhook_id=webhook_id or str(uuid.uuid4()))
    headers.update(extra_headers)
    return client.post("/webhooks", data=raw, headers=headers)


def deliver_fixture(client: Any, name: str) -> Any:
    body, headers = fixture_delivery(name)
    return client.post("/webhooks", data=body, headers=headers)


def install(runtime: Any, domain: str = SHOP, currency: str = "USD") -> int:
    """A custom-app install (no network): the shop is installed, with a token."""
    with runtime.db.session() as session:
        shop = installation.install_with_access_token(runtime, session, domain, "shpat_test", currency)
        session.flush()
        return shop.id


def sweep_now(runtime: Any, run_jobs: Any) -> dict[str, int]:
    from worker import jobs

    with bind(runtime):
        result = jobs.sweep(runtime)
    run_jobs()
    return result


def events(session: Any, **where: Any) -> list[WebhookEvent]:
    session.expire_all()
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    for key, value in where.items():
        query = query.where(getattr(WebhookEvent, key) == value)
    return list(session.scalars(query))


def order(session: Any, shopify_id: int) -> Order | None:
    session.expire_all()
    return session.scalar(select(Order).where(Order.shopify_id == shopify_id))


def count(session: Any, model: Any, *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def with_ids(text: str, mapping: dict[int, int]) -> str:
    """A fixture body with its ids swapped (a different order, refund or customer)."""
    for old, new in mapping.items():
        text = text.replace(str(old), str(new))
    return text


@contextmanager
def hanging_redis() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def closed_port_url() -> str:
    """A Redis URL on a port nothing listens on: connections are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"redis://127.0.0.1:{port}/0"
