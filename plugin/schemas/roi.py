"""What the ROI report and the attribution endpoints accept and return."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from models import PLATFORMS
from plugin.reports import GROUPS
from plugin.schemas.common import Money

# Any range is answered (whole months come from month rollups); only a date no store can
# have is refused, so a typo like 0202 or 20266 gets an answer that names the field.
EARLIEST = date(1970, 1, 1)
DATE_BOUNDS = "Enter a date between 1970-01-01 and 9999-12-31, as YYYY-MM-DD."
MONEY_METRICS = ("cost", "revenue", "repeat_revenue", "cac", "emv", "clv_historical", "clv_cohort", "clv_predicted")
COUNT_METRICS = (
    "orders",
    "new_customers",
    "repeat_orders",
    "repeat_customers",
    "clicks",
    "impressions",
    "reach",
    "engagements",
    "followers",
)
RATIO_METRICS = (
    "repeat_purchase_rate",
    "engagement_rate",
    "effective_reach_rate",
    "ctr",
    "conversion_rate",
    "roas",
    "roi",
    "roi_with_repeat",
    "emv_ratio",
)
# Column order of the CSV export: as DESIGN.md's metrics table lists them.
METRICS = (
    "cost",
    "orders",
    "new_customers",
    "revenue",
    "repeat_orders",
    "repeat_revenue",
    "repeat_customers",
    "repeat_purchase_rate",
    "clicks",
    "impressions",
    "reach",
    "engagements",
    "followers",
    "engagement_rate",
    "effective_reach_rate",
    "ctr",
    "conversion_rate",
    "cac",
    "roas",
    "roi",
    "roi_with_repeat",
    "emv",
    "emv_ratio",
    "clv_historical",
    "clv_cohort",
    "clv_predicted",
)


class RoiQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the session token may ride along as ?id_token=

    date_from = fields.Date(
        data_key="from",
        validate=validate.Range(min=EARLIEST, error=DATE_BOUNDS),
        error_messages={"invalid": DATE_BOUNDS},
        metadata={"description": "first day (shop-local), default: see default_range"},
    )
    date_to = fields.Date(
        data_key="to",
        validate=validate.Range(min=EARLIEST, error=DATE_BOUNDS),
        error_messages={"invalid": DATE_BOUNDS},
        metadata={"description": "last day, inclusive; any range is answered"},
    )
    group_by = fields.String(load_default="influencer", validate=validate.OneOf(GROUPS))
    campaign_id = fields.Integer(strict=False, validate=validate.Range(min=1))
    platform = fields.String(validate=validate.OneOf(PLATFORMS))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and end < start:
            raise ValidationError("The end date is before the start date.", "to")


def _metric_fields() -> dict[str, fields.Field]:
    found: dict[str, fields.Field] = {}
    for name in MONEY_METRICS:
        found[name] = Money(allow_none=True)
    for name in COUNT_METRICS:
        found[name] = fields.Integer()
    for name in RATIO_METRICS:
        found[name] = fields.Float(allow_none=True)
    return found


MetricsSchema = Schema.from_dict(_metric_fields(), name="MetricsSchema")
RoiRowSchema = Schema.from_dict(
    {
        "key": fields.Raw(
            allow_none=True, metadata={"description": "creator or campaign id, platform, content type; null: ungrouped"}
        ),
        "label": fields.String(),
        **_metric_fields(),
    },
    name="RoiRowSchema",
)


class RoiReportSchema(Schema):
    currency = fields.String()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    group_by = fields.String()
    totals = fields.Nested(MetricsSchema)
    rows = fields.List(fields.Nested(RoiRowSchema))
    clv_fitted_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "when predicted CLV was last fitted (a job refits it); null: not fitted yet"},
    )
    commission_pending = Money(
        metadata={"description": "of the commission in cost, what is still pending (within the holding period)"}
    )


def _encode_metrics(values: dict[str, Any]) -> dict[str, Any]:
    # compute_metrics gives money quantized to cents, so str() is the "156000.00" form.
    encoded = dict(values)
    for name in MONEY_METRICS:
        if encoded.get(name) is not None:
            encoded[name] = str(encoded[name])
    return encoded


def encode_report(report: dict[str, Any]) -> dict[str, Any]:
    """What `RoiReportSchema().dump` gives, built directly: at a thousand rows marshmallow's
    field-by-field dump costs more than the report itself (tests check both agree)."""
    return {
        "currency": report["currency"],
        "from": report["from"].isoformat(),
        "to": report["to"].isoformat(),
        "group_by": report["group_by"],
        "totals": _encode_metrics(report["totals"]),
        "rows": [_encode_metrics(row) for row in report["rows"]],
        "clv_fitted_at": None if report["clv_fitted_at"] is None else report["clv_fitted_at"].isoformat(),
        "commission_pending": str(report["commission_pending"]),
    }


class CreatorRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    handle = fields.String()


class OrderAttributionSchema(Schema):
    order_id = fields.Integer()
    shopify_id = fields.Integer()
    name = fields.String(allow_none=True)
    placed_at = fields.AwareDateTime()
    currency = fields.String(allow_none=True)
    net = Money()
    counted = fields.Boolean(metadata={"description": "whether the order counts in the figures"})
    flagged = fields.String(allow_none=True)
    influencer = fields.Nested(CreatorRefSchema, allow_none=True)
    kind = fields.String(allow_none=True, metadata={"description": "first | repeat | null"})
    rule = fields.String(allow_none=True, metadata={"description": "code | click | survey | repeat | null"})
    acquired_at = fields.AwareDateTime(allow_none=True)
    summary = fields.String()
    evidence = fields.List(fields.Dict())


class OrderQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    shopify_id = fields.Integer(strict=False, validate=validate.Range(min=1))
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=250))


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderAttributionSchema(exclude=("evidence",))))
