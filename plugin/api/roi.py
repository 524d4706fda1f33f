"""GET /api/v1/roi (and .csv), and why an order belongs to a creator."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from flask import Response, jsonify, request

from models import Attribution, Campaign, Influencer, Order
from plugin import exports, report_cache, reports
from plugin.api import bp
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.schemas.roi import (
    OrderAttributionSchema,
    OrderListSchema,
    OrderQuerySchema,
    RoiQuerySchema,
    RoiReportSchema,
    encode_report,
)

log = logging.getLogger("creator_roi.api.roi")


def _report() -> dict[str, Any]:
    query = RoiQuerySchema().load(request.args.to_dict())
    shop = current_shop()
    date_from, date_to = query.get("date_from"), query.get("date_to")
    if date_from is None or date_to is None:
        default_from, default_to = reports.default_range(shop)
        date_to = date_to or max(default_to, date_from or default_to)
        date_from = date_from or min(default_from, date_to)
        # The range check once more, now that both ends are known.
        RoiQuerySchema().load({"from": date_from.isoformat(), "to": date_to.isoformat()})
    return report_cache.roi_report(
        session(),
        shop,
        date_from=date_from,
        date_to=date_to,
        group_by=query["group_by"],
        campaign_id=query.get("campaign_id"),
        platform=query.get("platform"),
    )


@bp.get("/roi")
@documented(query=RoiQuerySchema, response=RoiReportSchema, errors=(422,))
def get_roi() -> Any:
    """ROI figures per creator, platform, content type or campaign, with totals."""
    # json.dumps straight: Flask's provider would sort the keys of every row first.
    return Response(json.dumps(encode_report(_report()), separators=(",", ":")), mimetype="application/json")


@bp.get("/roi.csv")
@documented(query=RoiQuerySchema, response_type="text/csv", errors=(422,))
def get_roi_csv() -> Any:
    """The same report as CSV: one row per group, then the total, with the JSON's field names
    and values (ratios as fractions, money to the cent, an empty cell for null); the file name
    says the grouping, range and filter. The overview's own export marks fractions for people."""
    report = _report()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report["group_by"], "label", *exports.api_metric_header()])
    for row in report["rows"]:
        writer.writerow(
            [exports.text_cell(row["key"]), exports.text_cell(row["label"]), *exports.api_metric_cells(row)]
        )
    writer.writerow(["total", "Total", *exports.api_metric_cells(report["totals"])])
    query = RoiQuerySchema().load(request.args.to_dict())
    campaign = (
        session().scalar(
            shop_select(Campaign).where(Campaign.id == query["campaign_id"]).with_only_columns(Campaign.name)
        )
        if "campaign_id" in query
        else None
    )
    name = exports.report_filename(report["group_by"], report["from"], report["to"], query.get("platform"), campaign)
    return Response(out.getvalue(), mimetype="text/csv", headers=exports.attachment(name))


def _creators(ids: set[int]) -> dict[int, Influencer]:
    if not ids:
        return {}
    return {c.id: c for c in session().scalars(shop_select(Influencer).where(Influencer.id.in_(sorted(ids))))}


@bp.get("/orders/<int:order_id>/attribution")
@documented(response=OrderAttributionSchema, errors=(404,))
def get_order_attribution(order_id: int) -> Any:
    """Which creator the order belongs to, by which rule, and every piece of evidence."""
    order = get_owned(Order, order_id)
    attribution = session().scalar(shop_select(Attribution).where(Attribution.order_id == order.id))
    creators = _creators({attribution.influencer_id} if attribution and attribution.influencer_id else set())
    names = reports.acquiring_order_names(session(), current_shop().id, [attribution.evidence] if attribution else [])
    creator = creators.get(attribution.influencer_id) if attribution and attribution.influencer_id else None
    return jsonify(OrderAttributionSchema().dump(reports.order_attribution(order, attribution, creator, names)))


@bp.get("/orders")
@documented(query=OrderQuerySchema, response=OrderListSchema, errors=(422,))
def list_orders() -> Any:
    """Latest orders with their attribution; `?shopify_id=` finds one by Shopify's id."""
    query = OrderQuerySchema().load(request.args.to_dict())
    statement = shop_select(Order).order_by(Order.placed_at.desc(), Order.id.desc()).limit(query["limit"])
    if "shopify_id" in query:
        statement = statement.where(Order.shopify_id == query["shopify_id"])
    orders = list(session().scalars(statement))
    attributions = (
        {
            a.order_id: a
            for a in session().scalars(shop_select(Attribution).where(Attribution.order_id.in_([o.id for o in orders])))
        }
        if orders
        else {}
    )
    creators = _creators({a.influencer_id for a in attributions.values() if a.influencer_id})
    names = reports.acquiring_order_names(session(), current_shop().id, [a.evidence for a in attributions.values()])
    body = []
    for order in orders:
        attribution = attributions.get(order.id)
        creator = creators.get(attribution.influencer_id) if attribution and attribution.influencer_id else None
        body.append(reports.order_attribution(order, attribution, creator, names))
    return jsonify(OrderListSchema().dump({"orders": body}))
