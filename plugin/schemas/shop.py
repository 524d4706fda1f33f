from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates

from plugin.schemas.common import InputSchema, Money

EVIDENCE_RULES = ("code", "click", "survey")


class EmvRatesSchema(InputSchema):
    cpm = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))
    like = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))
    comment = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))
    share = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))
    save = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))
    click = fields.Decimal(places=4, as_string=True, validate=validate.Range(min=Decimal("0")))


class SettingsSchema(InputSchema):
    attribution_window_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    repeat_window_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    evidence_order = fields.List(fields.String(validate=validate.OneOf(EVIDENCE_RULES)))
    hourly_rate = Money()
    clv_horizon_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=120))
    emv_rates = fields.Nested(EmvRatesSchema)
    # Pay: days a commission waits before it is approved (refunds inside them reverse it before
    # anything is paid), and the smallest amount a payout sends a creator.
    commission_holding_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=120, error="Enter a number of days from 0 to 120."),
    )
    payout_minimum = Money()

    @validates("evidence_order")
    def _distinct(self, value: list[str], **_: object) -> None:
        if len(set(value)) != len(value) or not value:
            raise ValidationError("Keep at least one rule, each once: code, click, survey.")


class ShopSchema(Schema):
    shop = fields.String()
    name = fields.String(allow_none=True)
    currency = fields.String()
    timezone = fields.String()
    settings = fields.Nested(SettingsSchema)
