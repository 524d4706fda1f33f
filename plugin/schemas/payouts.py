"""What the payout and statement-link routes accept and return (DESIGN.md, "Pay, trust,
decisions, lift"): money as decimal strings, ids as integers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugin.schemas.common import Money
from plugin.schemas.registry import QuerySchema

PAYOUT_STATES = ("open", "paid", "cancelled")
EXPORT_FORMATS = ("paypal", "wise", "generic")
PAY_METHODS = ("export", "store_credit")


class StatementLinkSchema(Schema):
    url = fields.String(metadata={"description": "the creator's private statement, <app>/s/<token>; shown once"})
    expires_at = fields.DateTime()


class StatementLinkStatusSchema(Schema):
    active = fields.Boolean(metadata={"description": "a link that still opens exists"})
    created_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    last_viewed_at = fields.DateTime(allow_none=True)


class PayoutInputSchema(Schema):
    period_end = fields.Date(
        required=True, metadata={"description": "gathers approved lines approved on or before this day"}
    )


class PayoutLineSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    amount = Money(validate=None)
    state = fields.String()
    reason = fields.String(allow_none=True)
    order_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class PayoutRowSchema(Schema):
    influencer_id = fields.Integer()
    name = fields.String()
    payout_email = fields.String(allow_none=True)
    amount = Money(validate=None, metadata={"description": "earned less clawed back: what this creator is paid"})
    earned = Money(metadata={"description": "approved commissions and fees in this payout"})
    clawed_back = Money(validate=None, metadata={"description": "refunds after an earlier payout, netted here (≤ 0)"})
    held = Money(metadata={"description": "this creator's held lines, not in this payout"})
    lines = fields.List(fields.Nested(PayoutLineSchema))
    store_credit_transaction_id = fields.String(allow_none=True)


class PayoutSchema(Schema):
    id = fields.Integer()
    state = fields.String(metadata={"enum": list(PAYOUT_STATES)})
    period_end = fields.Date()
    currency = fields.String()
    total = Money(validate=None)
    method = fields.String(allow_none=True, metadata={"enum": list(PAY_METHODS)})
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    rows = fields.List(fields.Nested(PayoutRowSchema))
    below_minimum = fields.List(
        fields.Dict(),
        metadata={"description": "creators with approved lines whose total is under the shop's minimum (not paid)"},
    )
    without_payout_email = fields.List(
        fields.Dict(), metadata={"description": "creators in this payout without a payout e-mail (left out of exports)"}
    )


class PayoutListSchema(Schema):
    currency = fields.String()
    payouts = fields.List(fields.Nested(PayoutSchema))


class PayoutPaidInputSchema(Schema):
    method = fields.String(
        load_default="export",
        validate=validate.OneOf(PAY_METHODS),
        metadata={"description": "`export`: paid outside the app (PayPal, Wise, bank); `store_credit`: credited now"},
    )


class PayoutExportQuerySchema(QuerySchema):
    format = fields.String(load_default="generic", validate=validate.OneOf(EXPORT_FORMATS))
