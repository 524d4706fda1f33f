"""What the webhook health and privacy-request routes return."""

from __future__ import annotations

from marshmallow import Schema, fields


class LastErrorSchema(Schema):
    topic = fields.String()
    webhook_id = fields.String()
    error = fields.String()
    at = fields.DateTime()


class SyncSchema(Schema):
    """The shop's webhook inbox: how many deliveries arrived and where they stand."""

    received = fields.Integer()
    pending = fields.Integer(metadata={"description": "stored, not processed yet"})
    processed = fields.Integer(metadata={"description": "processed, or ignored (topics the app does not use)"})
    failed = fields.Integer(metadata={"description": "failed; retried with backoff unless the payload is unusable"})
    last_received_at = fields.DateTime(allow_none=True)
    last_error = fields.Nested(LastErrorSchema, allow_none=True)


class DataExportSummarySchema(Schema):
    id = fields.Integer()
    request_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True, attribute="shopify_customer_id")
    created_at = fields.DateTime()
