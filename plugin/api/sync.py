"""GET /api/v1/sync (webhook health) and the answers to customers' data requests."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify
from sqlalchemy import func

from models import DataExport, WebhookEvent
from models.webhook import FAILED, IGNORED, PENDING, PROCESSED, PROCESSING
from plugin.api import bp
from plugin.database import get_owned, session, shop_select
from plugin.schemas.sync import DataExportSummarySchema, SyncSchema

BUCKETS = {PENDING: "pending", PROCESSING: "pending", PROCESSED: "processed", IGNORED: "processed", FAILED: "failed"}


@bp.get("/sync")
def get_sync() -> Any:
    """The shop's webhook health: deliveries received, pending, processed and failed."""
    db = session()
    counts = {"pending": 0, "processed": 0, "failed": 0}
    rows = db.execute(
        shop_select(WebhookEvent)
        .with_only_columns(WebhookEvent.status, func.count(), func.max(WebhookEvent.received_at))
        .group_by(WebhookEvent.status)
    ).all()
    last_received = None
    for status, count, received_at in rows:
        counts[BUCKETS.get(status, "pending")] += count
        if received_at is not None and (last_received is None or received_at > last_received):
            last_received = received_at
    failed = db.scalar(
        shop_select(WebhookEvent)
        .where(WebhookEvent.status == FAILED)
        .order_by(WebhookEvent.processed_at.desc(), WebhookEvent.id.desc())
        .limit(1)
    )
    last_error = (
        None
        if failed is None
        else {
            "topic": failed.topic,
            "webhook_id": failed.webhook_id,
            "error": failed.error or "",
            "at": failed.processed_at or failed.received_at,
        }
    )
    return jsonify(
        SyncSchema().dump(
            {
                "received": sum(counts.values()),
                **counts,
                "last_received_at": _utc(last_received),
                "last_error": last_error,
            }
        )
    )


def _utc(value: Any) -> Any:
    # SQLite's MAX() hands back text, not the column type.
    if isinstance(value, str):
        from datetime import datetime, timezone

        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return value


@bp.get("/data-requests")
def list_data_requests() -> Any:
    """Customers' data requests (customers/data_request) answered for this shop, newest first."""
    exports = session().scalars(shop_select(DataExport).order_by(DataExport.id.desc()))
    return jsonify({"data_requests": DataExportSummarySchema(many=True).dump(exports)})


@bp.get("/data-requests/<int:export_id>")
def download_data_request(export_id: int) -> Response:
    """The data held about the customer, as a JSON file for the merchant to send on."""
    export = get_owned(DataExport, export_id)
    body = json.dumps(
        {
            "request_id": export.request_id,
            "customer_id": export.shopify_customer_id,
            "created_at": export.created_at.isoformat(),
            **export.data,
        },
        indent=2,
    )
    name = f"data-request-{export.request_id or export.id}.json"
    return Response(
        body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
