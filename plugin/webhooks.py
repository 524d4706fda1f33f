"""POST /webhooks: verify, store in the inbox, schedule a drain, answer 200 fast.

The HMAC is checked on the raw body by Shopify's `shopify_app.verify_webhook_req`
(the old secret is accepted during a rotation) before anything is parsed.
The row goes in through `models.inbox_writer` (one statement, shared by deliveries that
arrive together); processing happens in the worker (`worker.jobs.drain_inbox`). This route only
makes sure that a delivery which gets a 2xx is stored once and will be processed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, request

from models import utcnow
from models.inbox_writer import JSON_REFUSED, Delivery
from plugin.auth import shopify_app
from plugin.database import runtime
from plugin.errors import error_response
from roi.money import parse_shopify_time
from worker import jobs
from worker.payloads import COMPLIANCE_TOPICS
from worker.shopify_admin import is_valid_shop_domain

log = logging.getLogger("creator_roi.webhooks")
bp = Blueprint("webhooks", __name__)

REQUIRED_HEADERS = {
    "X-Shopify-Topic": 64,
    "X-Shopify-Shop-Domain": 255,
    "X-Shopify-Webhook-Id": 255,
}
OPTIONAL_HEADERS = {"X-Shopify-API-Version": 16, "X-Shopify-Event-Id": 255, "X-Shopify-Triggered-At": 64}
HEADER_LIMITS = {**REQUIRED_HEADERS, **OPTIONAL_HEADERS}
# Where Shopify's bodies name a shop (the Shop object of app/uninstalled, compliance bodies).
BODY_SHOP_KEYS = ("myshopify_domain", "shop_domain")


# The three answers, serialized once: jsonify per request costs more than the rest of the answer.
_ANSWERS = {
    status: json.dumps({"status": status}, separators=(",", ":")) + "\n"
    for status in ("stored", "duplicate", "dropped")
}


def _answer(status: str) -> Response:
    return Response(_ANSWERS[status], mimetype="application/json")


def _bad_request(field: str, message: str, **context: Any) -> Response:
    log.warning(
        "event=webhook_rejected status=400 reason=%s %s", field, " ".join(f"{k}={v}" for k, v in context.items())
    )
    return error_response({field: [message]}, 400)


@bp.post("/webhooks")
def receive() -> Response:
    raw = request.get_data(cache=True)
    topic = (request.headers.get("X-Shopify-Topic") or "").strip().lower()
    shop_domain = (request.headers.get("X-Shopify-Shop-Domain") or "").strip().lower()
    webhook_id = (request.headers.get("X-Shopify-Webhook-Id") or "").strip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _bad_request("body", "the body must be UTF-8 JSON", shop=shop_domain, topic=topic)
    verified = shopify_app().verify_webhook_req(
        {"method": request.method, "headers": dict(request.headers), "url": request.url, "body": text}
    )
    if not verified.ok:
        status = verified.response.status if verified.response.status in (400, 401, 405) else 401
        log.warning(
            "event=webhook_rejected status=%s reason=%s shop=%s topic=%s webhook_id=%s",
            status,
            verified.log.code,
            shop_domain or "-",
            topic or "-",
            webhook_id or "-",
        )
        message = "missing X-Shopify-Hmac-Sha256" if status == 400 else "HMAC does not match the body"
        return error_response({"hmac": [message]}, status)

    headers = {name: (request.headers.get(name) or "").strip() for name in HEADER_LIMITS}
    for name, limit in HEADER_LIMITS.items():
        if name in REQUIRED_HEADERS and not headers[name]:
            return _bad_request("headers", f"{name} is required", shop=shop_domain or "-", topic=topic or "-")
        if len(headers[name]) > limit:
            return _bad_request("headers", f"{name} is too long", shop=shop_domain or "-", topic=topic or "-")
    if not is_valid_shop_domain(shop_domain):
        return _bad_request(
            "headers", "X-Shopify-Shop-Domain is not a <name>.myshopify.com domain", topic=topic, webhook_id=webhook_id
        )
    # On PostgreSQL the body is parsed here only when it may name a shop: otherwise the
    # database checks that it is a JSON object as it stores it (its json input function takes
    # a few microseconds where json.loads takes ~80), and Python reads it only when no row
    # was kept, to tell a duplicate from a body that is not a JSON object.
    writer = current_app.extensions["creator_roi_inbox"]
    checked = writer.engine.dialect.name != "postgresql" or _may_name_a_shop(text)
    if checked:
        refused = _refuse_body(text, shop_domain, topic, webhook_id)
        if refused is not None:
            return refused
    delivery = Delivery(
        shop_domain=shop_domain,
        webhook_id=webhook_id,
        topic=topic,
        body=text,
        api_version=headers["X-Shopify-API-Version"] or None,
        triggered_at=_triggered_at(headers["X-Shopify-Triggered-At"]),
        event_id=headers["X-Shopify-Event-Id"] or None,
        received_at=utcnow(),
        any_shop=topic in COMPLIANCE_TOPICS,
    )
    stored, shop_state = writer.store(delivery, check_json=not checked)
    if stored is None and not checked:
        refused = _refuse_body(text, shop_domain, topic, webhook_id)
        if refused is not None:
            return refused
        if shop_state == JSON_REFUSED:  # JSON that PostgreSQL refuses and Python (the worker) reads
            stored, shop_state = writer.store(delivery, check_json=False)
    if stored is None and shop_state != "installed":
        log.info(
            "event=webhook_dropped reason=%s shop=%s topic=%s webhook_id=%s", shop_state, shop_domain, topic, webhook_id
        )
        return _answer("dropped")
    if stored is None:
        log.info("event=webhook_duplicate shop=%s topic=%s webhook_id=%s", shop_domain, topic, webhook_id)
        return _answer("duplicate")
    # The inbox row is the record of receipt: at INFO level a line per delivery would cost the
    # busiest path more CPU than its HMAC check (a drain logs each event it processes).
    log.debug(
        "event=webhook_received shop=%s topic=%s webhook_id=%s event_id=%s", shop_domain, topic, webhook_id, stored
    )
    try:
        jobs.schedule_drain(runtime(), shop_domain, remember=True)
    except Exception as exc:  # stored and committed: the sweeper schedules it later
        log.warning(
            "event=drain_not_scheduled shop=%s topic=%s webhook_id=%s error=%s",
            shop_domain,
            topic,
            webhook_id,
            type(exc).__name__,
        )
    return _answer("stored")


def _may_name_a_shop(text: str) -> bool:
    """Whether a body may hold one of BODY_SHOP_KEYS, written out or with escapes (which
    Shopify does not use for ASCII, but JSON allows)."""
    return any(key in text for key in BODY_SHOP_KEYS) or "\\u" in text


def _refuse_body(text: str, shop_domain: str, topic: str, webhook_id: str) -> Response | None:
    """The answer refusing the body, if it must be: 400 when it is not a JSON object, 401 when
    it names another shop than the header (the Shop object of app/uninstalled, compliance bodies)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return _bad_request("body", "the body is not JSON", shop=shop_domain, topic=topic, webhook_id=webhook_id)
    if not isinstance(payload, dict):
        return _bad_request(
            "body", "the body is not a JSON object", shop=shop_domain, topic=topic, webhook_id=webhook_id
        )
    for key in BODY_SHOP_KEYS:
        named = payload.get(key)
        if isinstance(named, str) and is_valid_shop_domain(named) and named.lower() != shop_domain:
            log.warning(
                "event=webhook_rejected status=401 reason=body_names_another_shop shop=%s topic=%s webhook_id=%s",
                shop_domain,
                topic,
                webhook_id,
            )
            return error_response({"shop": ["the body names another shop than X-Shopify-Shop-Domain"]}, 401)
    return None


def _triggered_at(value: str) -> Any:
    try:
        return parse_shopify_time(value or None)
    except ValueError:
        return None
