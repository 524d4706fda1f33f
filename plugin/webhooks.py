"""POST /webhooks: verify, store in the inbox, schedule a drain, answer 200 fast.

The HMAC is checked on the raw body by Shopify's `shopify_app.verify_webhook_req`
(the old secret is accepted during a rotation) before anything is parsed.
Processing happens in the worker (`worker.inbox`); this route only makes sure
that a delivery which gets a 2xx is stored once and will be processed.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from models import Shop, WebhookEvent
from plugin.auth import shopify_app
from plugin.database import runtime, session
from plugin.errors import error_response
from roi.money import parse_shopify_time
from worker import backfill, inbox
from worker.processing import COMPLIANCE_TOPICS, dialect_insert
from worker.shopify_admin import is_valid_shop_domain

log = logging.getLogger("creator_roi.webhooks")
bp = Blueprint("webhooks", __name__)

REQUIRED_HEADERS = {
    "X-Shopify-Topic": 64,
    "X-Shopify-Shop-Domain": 255,
    "X-Shopify-Webhook-Id": 255,
}
OPTIONAL_HEADERS = {"X-Shopify-API-Version": 16, "X-Shopify-Event-Id": 255, "X-Shopify-Triggered-At": 64}
# Where Shopify's bodies name a shop (the Shop object of app/uninstalled, compliance bodies).
BODY_SHOP_KEYS = ("myshopify_domain", "shop_domain")

backfill.register_install_hook()


def _answer(status: str, code: int = 200) -> Response:
    response = jsonify({"status": status})
    response.status_code = code
    return response


def _bad_request(field: str, message: str, **context: Any) -> Response:
    log.warning("event=webhook_rejected status=400 reason=%s %s", field,
                " ".join(f"{k}={v}" for k, v in context.items()))
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
        log.warning("event=webhook_rejected status=%s reason=%s shop=%s topic=%s webhook_id=%s",
                    status, verified.log.code, shop_domain or "-", topic or "-", webhook_id or "-")
        message = "missing X-Shopify-Hmac-Sha256" if status == 400 else "HMAC does not match the body"
        return error_response({"hmac": [message]}, status)

    for name, limit in {**REQUIRED_HEADERS, **OPTIONAL_HEADERS}.items():
        value = (request.headers.get(name) or "").strip()
        if name in REQUIRED_HEADERS and not value:
            return _bad_request("headers", f"{name} is required", shop=shop_domain or "-", topic=topic or "-")
        if len(value) > limit:
            return _bad_request("headers", f"{name} is too long", shop=shop_domain or "-", topic=topic or "-")
    if not is_valid_shop_domain(shop_domain):
        return _bad_request("headers", "X-Shopify-Shop-Domain is not a <name>.myshopify.com domain",
                            topic=topic, webhook_id=webhook_id)
    try:
        payload = json.loads(text)
    except ValueError:
        return _bad_request("body", "the body is not JSON", shop=shop_domain, topic=topic, webhook_id=webhook_id)
    if not isinstance(payload, dict):
        return _bad_request("body", "the body is not a JSON object", shop=shop_domain, topic=topic,
                            webhook_id=webhook_id)
    for key in BODY_SHOP_KEYS:
        named = payload.get(key)
        if isinstance(named, str) and is_valid_shop_domain(named) and named.lower() != shop_domain:
            log.warning("event=webhook_rejected status=401 reason=body_names_another_shop shop=%s topic=%s "
                        "webhook_id=%s", shop_domain, topic, webhook_id)
            return error_response({"shop": ["the body names another shop than X-Shopify-Shop-Domain"]}, 401)

    db = session()
    shop = db.scalar(select(Shop).where(Shop.domain == shop_domain))
    if topic not in COMPLIANCE_TOPICS and (shop is None or not shop.is_installed):
        log.info("event=webhook_dropped reason=%s shop=%s topic=%s webhook_id=%s",
                 "unknown_shop" if shop is None else "uninstalled", shop_domain, topic, webhook_id)
        return _answer("dropped")

    stored = db.execute(
        dialect_insert(db, WebhookEvent)
        .values(
            shop_domain=shop_domain, shop_id=shop.id if shop is not None else None,
            webhook_id=webhook_id, topic=topic,
            api_version=(request.headers.get("X-Shopify-API-Version") or "").strip() or None,
            triggered_at=_triggered_at(request.headers.get("X-Shopify-Triggered-At")),
            event_id=(request.headers.get("X-Shopify-Event-Id") or "").strip() or None,
            body=text, status="pending", attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["shop_domain", "webhook_id"])
        .returning(WebhookEvent.id)
    ).scalar()
    db.commit()
    if stored is None:
        log.info("event=webhook_duplicate shop=%s topic=%s webhook_id=%s", shop_domain, topic, webhook_id)
        return _answer("duplicate")
    log.info("event=webhook_received shop=%s topic=%s webhook_id=%s event_id=%s", shop_domain, topic,
             webhook_id, stored)
    try:
        inbox.schedule_drain(runtime(), shop_domain)
    except Exception as exc:  # stored and committed: the sweeper schedules it later
        log.warning("event=drain_not_scheduled shop=%s topic=%s webhook_id=%s error=%s", shop_domain, topic,
                    webhook_id, type(exc).__name__)
    return _answer("stored")


def _triggered_at(value: str | None) -> Any:
    try:
        return parse_shopify_time((value or "").strip() or None)
    except ValueError:
        return None
