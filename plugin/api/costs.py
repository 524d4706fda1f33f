"""Costs: /api/v1/costs. Per creator, per campaign or shop-wide; management time is
priced as hours × rate (the entry's rate, else the shop's hourly_rate)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import jsonify, request

from models import Campaign, Cost
from plugin.activity import activity_changed
from plugin.api import bp, json_body
from plugin.api.campaigns import campaign_named
from plugin.api.codes import owned_influencer
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.schemas.registry import (
    CostInputSchema,
    CostListSchema,
    CostQuerySchema,
    CostSchema,
    check_cost_pricing,
)

CENT = Decimal("0.01")


def cost_dict(cost: Cost, campaign_name: str | None) -> dict[str, Any]:
    return {
        "id": cost.id,
        "category": cost.category,
        "amount": cost.amount,
        "hours": cost.hours,
        "hourly_rate": cost.hourly_rate,
        "incurred_on": cost.incurred_on,
        "influencer_id": cost.influencer_id,
        "campaign": campaign_name,
        "campaign_id": cost.campaign_id,
        "note": cost.note,
        "created_at": cost.created_at,
    }


def _campaign_name(cost: Cost) -> str | None:
    if cost.campaign_id is None:
        return None
    campaign = session().get(Campaign, cost.campaign_id)
    return campaign.name if campaign else None


def _fields(cost: Cost) -> dict[str, Any]:
    return {
        "category": cost.category,
        "amount": cost.amount,
        "hours": cost.hours,
        "hourly_rate": cost.hourly_rate,
        "incurred_on": cost.incurred_on,
        "influencer_id": cost.influencer_id,
        "note": cost.note,
    }


def _apply(cost: Cost, data: dict[str, Any], given: set[str]) -> None:
    """Validate the combination, then write it: management_time's amount is always computed."""
    check_cost_pricing(data, given)
    if data.get("influencer_id") is not None and "influencer_id" in given:
        owned_influencer(data["influencer_id"])
    cost.category = data["category"]
    cost.incurred_on = data["incurred_on"]
    cost.influencer_id = data.get("influencer_id")
    cost.note = data.get("note")
    if "campaign" in given:
        campaign = campaign_named(data["campaign"])
        cost.campaign_id = campaign.id if campaign else None
    if cost.category == "management_time":
        rate = data.get("hourly_rate")
        if rate is None:
            rate = current_shop().settings.hourly_rate
        cost.hours = data["hours"]
        cost.hourly_rate = rate
        cost.amount = (Decimal(data["hours"]) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        cost.amount = data["amount"]
        cost.hours = None
        cost.hourly_rate = None


@bp.post("/costs")
@documented(body=CostInputSchema, response=CostSchema, status=201)
def create_cost() -> Any:
    """Record a cost: a fee, seeded product, content rights, management time, tools, commission..."""
    data = CostInputSchema().load(json_body())
    cost = Cost(shop_id=current_shop().id)
    _apply(cost, data, set(data))
    db = session()
    db.add(cost)
    db.flush()
    activity_changed(db, current_shop().id, {(cost.influencer_id, cost.incurred_on)})
    db.commit()
    return jsonify(CostSchema().dump(cost_dict(cost, _campaign_name(cost)))), 201


@bp.get("/costs")
@documented(query=CostQuerySchema, response=CostListSchema)
def list_costs() -> Any:
    """The shop's costs, newest first; filter by influencer_id, campaign_id, category, from, to."""
    args = CostQuerySchema().load(request.args)
    query = shop_select(Cost).order_by(Cost.incurred_on.desc(), Cost.id.desc())
    for key, column in (
        ("influencer_id", Cost.influencer_id),
        ("campaign_id", Cost.campaign_id),
        ("category", Cost.category),
    ):
        if key in args:
            query = query.where(column == args[key])
    if "from_" in args:
        query = query.where(Cost.incurred_on >= args["from_"])
    if "to" in args:
        query = query.where(Cost.incurred_on <= args["to"])
    costs = session().scalars(query).all()
    names = {c.id: c.name for c in session().scalars(shop_select(Campaign))}
    return jsonify(
        CostListSchema().dump(
            {
                "costs": [cost_dict(c, names.get(c.campaign_id or 0)) for c in costs],
                "total": sum((c.amount for c in costs), Decimal("0.00")),
            }
        )
    )


@bp.get("/costs/<int:cost_id>")
@documented(response=CostSchema)
def get_cost(cost_id: int) -> Any:
    """One cost entry."""
    cost = get_owned(Cost, cost_id)
    return jsonify(CostSchema().dump(cost_dict(cost, _campaign_name(cost))))


@bp.patch("/costs/<int:cost_id>")
@documented(body=CostInputSchema(partial=True), response=CostSchema)
def update_cost(cost_id: int) -> Any:
    """Change a cost entry (any field; management time is re-priced)."""
    cost = get_owned(Cost, cost_id)
    patch = CostInputSchema().load(json_body(), partial=True)
    before = (cost.influencer_id, cost.incurred_on)
    merged = {**_fields(cost), **patch}
    if merged["category"] == "management_time" and "amount" not in patch:
        merged["amount"] = None
    if merged["category"] != "management_time" and "hours" not in patch:
        merged["hours"] = merged["hourly_rate"] = None
    _apply(cost, merged, set(patch))
    db = session()
    db.flush()
    activity_changed(db, current_shop().id, {before, (cost.influencer_id, cost.incurred_on)})
    db.commit()
    return jsonify(CostSchema().dump(cost_dict(cost, _campaign_name(cost))))


@bp.delete("/costs/<int:cost_id>")
@documented(status=204)
def delete_cost(cost_id: int) -> Any:
    """Delete a cost entry."""
    cost = get_owned(Cost, cost_id)
    db = session()
    cell = (cost.influencer_id, cost.incurred_on)
    db.delete(cost)
    db.flush()
    activity_changed(db, current_shop().id, {cell})
    db.commit()
    return "", 204
