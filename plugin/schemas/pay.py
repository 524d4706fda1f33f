"""What the pay API accepts and returns: plans and the commission ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.pay import FLAT_FEE_PERIODS, LINE_STATES, TIER_METRICS, TIER_MODES
from plugin.schemas.common import InputSchema, Money
from plugin.schemas.registry import QuerySchema
from roi.pay import Tier, overlapping_tiers


def _percent(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        places=4, as_string=True, allow_none=True, validate=validate.Range(min=Decimal(0), max=Decimal(100)), **kwargs
    )


class TierSchema(InputSchema):
    metric = fields.String(required=True, validate=validate.OneOf(TIER_METRICS))
    threshold = fields.Decimal(
        places=2,
        as_string=True,
        required=True,
        validate=validate.Range(min=Decimal(0)),
        metadata={"description": "net revenue (money) or new customers (a count) in the month"},
    )
    percent = _percent(metadata={"description": "percent of the month's net revenue"})
    amount = Money(allow_none=True, metadata={"description": "a bonus once the threshold is reached"})

    @validates_schema
    def _one_reward(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("percent") is None) == (data.get("amount") is None):
            raise ValidationError("give either percent or amount", "percent")


class PlanInputSchema(InputSchema):
    influencer_id = fields.Integer(
        strict=True, allow_none=True, metadata={"description": "null: the shop's default plan"}
    )
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True, metadata={"description": "the last day in force; null: open-ended"})
    flat_fee = Money(allow_none=True)
    flat_fee_period = fields.String(allow_none=True, validate=validate.OneOf(FLAT_FEE_PERIODS))
    fee_per_post = Money(allow_none=True)
    commission_percent = _percent(metadata={"description": "percent of the order's net merchandise"})
    commission_fixed = Money(allow_none=True, metadata={"description": "a fixed amount per order"})
    repeat_commission_percent = _percent(metadata={"description": "repeat orders of customers the creator brought"})
    repeat_months = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=1200),
        metadata={"description": "repeats paid this many months after the first order; 0: none; null: lifetime"},
    )
    tiers = fields.List(fields.Nested(TierSchema), load_default=list)
    tier_mode = fields.String(load_default="marginal", validate=validate.OneOf(TIER_MODES))
    cap = Money(allow_none=True, metadata={"description": "most paid in commissions and bonuses per month"})

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        check_plan(data)


def check_plan(data: dict[str, Any]) -> None:
    """What no single field says: one commission kind, an end after the start, distinct tiers."""
    if data.get("commission_percent") is not None and data.get("commission_fixed") is not None:
        raise ValidationError(
            "Give a percent or a fixed amount per order, not both (commission_percent or commission_fixed).",
            "commission_fixed",
        )
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts is not None and ends is not None and ends < starts:
        raise ValidationError("Pick a last day on or after the start day (starts_on).", "ends_on")
    tiers = data.get("tiers") or []
    if overlapping_tiers([Tier(t["metric"], Decimal(t["threshold"])) for t in tiers]):
        raise ValidationError("two tiers of one metric at the same threshold overlap", "tiers")


class PlanSchema(Schema):
    id = fields.Integer()
    influencer_id = fields.Integer(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    flat_fee = Money(allow_none=True)
    flat_fee_period = fields.String(allow_none=True)
    fee_per_post = Money(allow_none=True)
    commission_percent = fields.Decimal(places=4, as_string=True, allow_none=True)
    commission_fixed = Money(allow_none=True)
    repeat_commission_percent = fields.Decimal(places=4, as_string=True, allow_none=True)
    repeat_months = fields.Integer(allow_none=True)
    tiers = fields.List(fields.Nested(TierSchema))
    tier_mode = fields.String()
    cap = Money(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PlanListSchema(Schema):
    plans = fields.List(fields.Nested(PlanSchema))


class PlanQuerySchema(QuerySchema):
    influencer_id = fields.Integer()


class CommissionQuerySchema(QuerySchema):
    influencer_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(LINE_STATES))
    from_ = fields.Date(data_key="from", metadata={"description": "lines earned on or after this day"})
    to = fields.Date(metadata={"description": "lines earned on or before this day"})

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if "from_" in data and "to" in data and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class CommissionTotalsSchema(Schema):
    pending = Money()
    approved = Money()
    held = Money()
    in_payout = Money()
    paid = Money()
    reversed = Money()
    clawed_back = Money()
    owed = Money(
        metadata={"description": "approved + pending + held, less what was clawed back and no payout netted yet"},
    )


class CommissionLineSchema(Schema):
    id = fields.Integer()
    influencer_id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    refund_id = fields.Integer(allow_none=True)
    payout_id = fields.Integer(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    post_id = fields.Integer(allow_none=True)
    kind = fields.String()
    amount = fields.Decimal(places=2, as_string=True)
    base = fields.Decimal(places=2, as_string=True, allow_none=True)
    presentment_amount = fields.Decimal(
        places=2,
        as_string=True,
        allow_none=True,
        metadata={
            "description": "the amount in the buyer's currency, in the order's own proportion (shown, never paid); "
            "null when the order was sold in the shop's currency or its presentment money is unknown"
        },
    )
    presentment_currency = fields.String(allow_none=True)
    state = fields.String()
    reason = fields.String()
    earned_on = fields.Date()
    approves_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CommissionsSchema(Schema):
    currency = fields.String()
    totals = fields.Nested(CommissionTotalsSchema, metadata={"description": "of every state, whatever `state` asks"})
    lines = fields.List(fields.Nested(CommissionLineSchema))
