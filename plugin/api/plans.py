"""Pay plans: /api/v1/plans. A creator's plan (or, with no creator, the shop's default) says
how orders placed while it is in force are paid; a creator has one plan in force a day at
most, and none before the creator was added. Creating or changing a plan settles the
shop's ledger again, after commit (`worker.jobs.settle_pay_job`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select

from models import PayPlan
from plugin.activity import schedule_pay_settlement
from plugin.api import bp, json_body
from plugin.api.codes import owned_influencer
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, runtime, session, shop_select
from plugin.errors import ApiError
from plugin.schemas.pay import PlanInputSchema, PlanListSchema, PlanQuerySchema, PlanSchema, check_plan
from roi.pay import Dated, plans_overlap

FIELDS = (
    "influencer_id",
    "starts_on",
    "ends_on",
    "flat_fee",
    "flat_fee_period",
    "fee_per_post",
    "commission_percent",
    "commission_fixed",
    "repeat_commission_percent",
    "repeat_months",
    "tiers",
    "tier_mode",
    "cap",
)


def plan_dict(plan: PayPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        **{name: getattr(plan, name) for name in FIELDS},
        "tiers": [_loaded_tier(t) for t in plan.tiers or []],
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def _stored_tiers(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tiers as JSON keeps them: decimal strings, the unused reward left out."""
    return [{key: str(value) for key, value in tier.items() if value is not None} for tier in tiers]


def _check_in_force(data: dict[str, Any], except_id: int | None = None, *, new_start: bool = True) -> None:
    """422 on starts_on: before the creator was added, or overlapping another of their plans.
    (A change that keeps the start and the creator is not refused for a start it already had.)"""
    starts: date = data["starts_on"]
    influencer_id = data.get("influencer_id")
    if influencer_id is not None and new_start:
        creator = owned_influencer(influencer_id)
        added = current_shop().local_day(creator.created_at)
        if starts < added:
            raise ApiError({"starts_on": [f"the creator was added on {added.isoformat()}: not before"]}, 422)
    query = shop_select(PayPlan).where(
        PayPlan.influencer_id.is_(None) if influencer_id is None else PayPlan.influencer_id == influencer_id
    )
    if except_id is not None:
        query = query.where(PayPlan.id != except_id)
    mine = Dated(0, starts, data.get("ends_on"))
    for other in session().scalars(query):
        if plans_overlap(mine, Dated(other.id, other.starts_on, other.ends_on)):
            raise ApiError({"starts_on": [_overlap_words(other)]}, 422)


def _overlap_words(other: PayPlan) -> str:
    """Why the days are taken, as the merchant reads it at the form: which plan, and what to do."""
    until = f"until {other.ends_on.isoformat()}" if other.ends_on else "with no end date"
    return (
        f"Plan {other.id} (from {other.starts_on.isoformat()}, {until}) is in force on some of these days. "
        "End that plan first (its ends_on, the day before this one starts), or start this one after it ends."
    )


def _apply(plan: PayPlan, data: dict[str, Any]) -> None:
    for name in FIELDS:
        setattr(plan, name, data.get(name))
    plan.tiers = _stored_tiers(data.get("tiers") or [])
    plan.tier_mode = data.get("tier_mode") or "marginal"
    if plan.flat_fee is not None and plan.flat_fee_period is None:
        plan.flat_fee_period = "month"


def _saved(plan: PayPlan) -> None:
    db = session()
    db.flush()
    db.commit()
    schedule_pay_settlement(runtime(), current_shop().id)


@bp.post("/plans")
@documented(body=PlanInputSchema, response=PlanSchema, status=201, errors=(404,))
def create_plan() -> Any:
    """A pay plan for a creator (influencer_id), or the shop's default (influencer_id null)."""
    data = PlanInputSchema().load(json_body())
    _check_in_force(data)
    plan = PayPlan(shop_id=current_shop().id)
    _apply(plan, data)
    session().add(plan)
    _saved(plan)
    return jsonify(PlanSchema().dump(plan_dict(plan))), 201


@bp.get("/plans")
@documented(query=PlanQuerySchema, response=PlanListSchema)
def list_plans() -> Any:
    """The shop's plans, by creator then start; filter by influencer_id."""
    args = PlanQuerySchema().load(request.args)
    query = shop_select(PayPlan).order_by(PayPlan.influencer_id, PayPlan.starts_on, PayPlan.id)
    if "influencer_id" in args:
        query = query.where(PayPlan.influencer_id == args["influencer_id"])
    return jsonify(PlanListSchema().dump({"plans": [plan_dict(p) for p in session().scalars(query)]}))


@bp.get("/plans/<int:plan_id>")
@documented(response=PlanSchema)
def get_plan(plan_id: int) -> Any:
    return jsonify(PlanSchema().dump(plan_dict(get_owned(PayPlan, plan_id))))


@bp.patch("/plans/<int:plan_id>")
@documented(body=PlanInputSchema(partial=True), response=PlanSchema, errors=(404,))
def update_plan(plan_id: int) -> Any:
    """Change a plan (any field); orders in its days are paid again under it, by new lines."""
    plan = get_owned(PayPlan, plan_id)
    patch = PlanInputSchema().load(json_body(), partial=True)
    stored = plan_dict(plan)
    merged = {name: stored.get(name) for name in FIELDS} | patch
    try:
        check_plan(merged)
    except ValidationError as exc:
        raise ApiError(exc.normalized_messages(), 422) from None
    _check_in_force(merged, except_id=plan.id, new_start=bool({"starts_on", "influencer_id"} & set(patch)))
    _apply(plan, merged)
    _saved(plan)
    return jsonify(PlanSchema().dump(plan_dict(plan)))


def _loaded_tier(tier: dict[str, Any]) -> dict[str, Any]:
    return {
        "metric": tier["metric"],
        "threshold": tier["threshold"],
        "percent": tier.get("percent"),
        "amount": tier.get("amount"),
    }


def plans_of(influencer_id: int) -> list[PayPlan]:
    """A creator's own plans, oldest first (for the creator page)."""
    return list(
        session().scalars(
            select(PayPlan)
            .where(PayPlan.shop_id == current_shop().id, PayPlan.influencer_id == influencer_id)
            .order_by(PayPlan.starts_on)
        )
    )
