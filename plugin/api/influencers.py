"""Creators (influencers): /api/v1/influencers. DELETE archives; followers history is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import FollowerSnapshot, Influencer, utcnow
from plugin.api import bp, json_body
from plugin.api.campaigns import campaign_named
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.errors import Conflict
from plugin.schemas.registry import (
    InfluencerInputSchema,
    InfluencerListSchema,
    InfluencerQuerySchema,
    InfluencerSchema,
    InfluencerUpdateSchema,
)

GROWTH_WINDOW = timedelta(days=30)


def follower_growth(influencer_ids: list[int], current: dict[int, int]) -> dict[int, tuple[int, float | None]]:
    """(change, growth) of followers over the last 30 days, from the history: the baseline is
    the count in force 30 days ago, or the first one recorded for a newer creator."""
    if not influencer_ids:
        return {}
    cutoff = utcnow() - GROWTH_WINDOW
    baseline: dict[int, int] = {}
    for snapshot in session().scalars(
        select(FollowerSnapshot)
        .where(FollowerSnapshot.influencer_id.in_(influencer_ids))
        .order_by(FollowerSnapshot.recorded_at, FollowerSnapshot.id)
    ):
        if snapshot.recorded_at <= cutoff or snapshot.influencer_id not in baseline:
            baseline[snapshot.influencer_id] = snapshot.followers
    growth = {}
    for influencer_id in influencer_ids:
        base = baseline.get(influencer_id, current[influencer_id])
        change = current[influencer_id] - base
        growth[influencer_id] = (change, change / base if base else None)
    return growth


def influencer_dict(
    influencer: Influencer,
    history: list[FollowerSnapshot] | None = None,
    growth: tuple[int, float | None] | None = None,
) -> dict[str, Any]:
    if growth is None:
        growth = follower_growth([influencer.id], {influencer.id: influencer.followers})[influencer.id]
    data = {
        "id": influencer.id,
        "name": influencer.name,
        "handle": influencer.handle,
        "platform": influencer.platform,
        "followers": influencer.followers,
        "email": influencer.email,
        "campaign": influencer.campaign.name if influencer.campaign else None,
        "campaign_id": influencer.campaign_id,
        "notes": influencer.notes,
        "commission_rate": influencer.commission_rate,
        "payout_email": influencer.payout_email,
        "shopify_customer_id": influencer.shopify_customer_id,
        "archived": influencer.archived_at is not None,
        "archived_at": influencer.archived_at,
        "created_at": influencer.created_at,
        "updated_at": influencer.updated_at,
        "followers_change_30d": growth[0],
        "followers_growth_30d": growth[1],
    }
    if history is not None:
        data["followers_history"] = [{"followers": s.followers, "recorded_at": s.recorded_at} for s in history]
    return data


def _history(influencer: Influencer) -> list[FollowerSnapshot]:
    return list(
        session().scalars(
            select(FollowerSnapshot)
            .where(FollowerSnapshot.influencer_id == influencer.id)
            .order_by(FollowerSnapshot.recorded_at, FollowerSnapshot.id)
        )
    )


def _refuse_taken_handle(handle: str, except_id: int | None = None) -> None:
    query = shop_select(Influencer).where(func.lower(Influencer.handle) == func.lower(handle))
    if except_id is not None:
        query = query.where(Influencer.id != except_id)
    holder = session().scalar(query)
    if holder is not None:
        raise Conflict({"handle": [f"@{handle} is already the handle of {holder.name}"]})


def _apply(influencer: Influencer, data: dict[str, Any]) -> None:
    for key in ("name", "handle", "platform", "email", "notes", "commission_rate"):
        if key in data:
            value = data[key]
            setattr(influencer, key, value.strip() if key == "name" else value)
    for key in ("payout_email", "shopify_customer_id"):  # where payouts go
        if key in data:
            setattr(influencer, key, data[key])
    if "campaign" in data:
        campaign = campaign_named(data["campaign"])
        influencer.campaign = campaign
        influencer.campaign_id = campaign.id if campaign else None
    if "archived" in data:
        influencer.archived_at = (influencer.archived_at or utcnow()) if data["archived"] else None
    if "followers" in data and data["followers"] != influencer.followers:
        influencer.followers = data["followers"]
        session().add(FollowerSnapshot(influencer_id=influencer.id, followers=data["followers"]))


@bp.post("/influencers")
@documented(body=InfluencerInputSchema, response=InfluencerSchema, status=201, errors=(409,))
def create_influencer() -> Any:
    """Add a creator."""
    data = InfluencerInputSchema().load(json_body())
    _refuse_taken_handle(data["handle"])
    db = session()
    influencer = Influencer(
        shop_id=current_shop().id,
        name=data["name"].strip(),
        handle=data["handle"],
        platform=data["platform"],
        followers=data.get("followers", 0),
    )
    db.add(influencer)
    db.flush()
    db.add(FollowerSnapshot(influencer_id=influencer.id, followers=influencer.followers))
    _apply(influencer, {k: v for k, v in data.items() if k not in ("name", "handle", "platform", "followers")})
    db.commit()
    return jsonify(InfluencerSchema().dump(influencer_dict(influencer, _history(influencer)))), 201


@bp.get("/influencers")
@documented(query=InfluencerQuerySchema, response=InfluencerListSchema)
def list_influencers() -> Any:
    """The shop's creators (active ones unless ?archived=true or all)."""
    args = InfluencerQuerySchema().load(request.args)
    query = shop_select(Influencer).order_by(func.lower(Influencer.name), Influencer.id)
    if args["archived"] == "false":
        query = query.where(Influencer.archived_at.is_(None))
    elif args["archived"] == "true":
        query = query.where(Influencer.archived_at.is_not(None))
    if "campaign_id" in args:
        query = query.where(Influencer.campaign_id == args["campaign_id"])
    if "platform" in args:
        query = query.where(Influencer.platform == args["platform"])
    influencers = list(session().scalars(query.options(selectinload(Influencer.campaign))).all())
    growth = follower_growth([i.id for i in influencers], {i.id: i.followers for i in influencers})
    if args["sort"] == "rising":
        influencers.sort(key=lambda i: (growth[i.id][1] is None, -(growth[i.id][1] or 0), -growth[i.id][0]))
    return jsonify(
        InfluencerListSchema().dump({"influencers": [influencer_dict(i, growth=growth[i.id]) for i in influencers]})
    )


@bp.get("/influencers/<int:influencer_id>")
@documented(response=InfluencerSchema)
def get_influencer(influencer_id: int) -> Any:
    """One creator, with the history of their followers."""
    influencer = get_owned(Influencer, influencer_id)
    return jsonify(InfluencerSchema().dump(influencer_dict(influencer, _history(influencer))))


@bp.patch("/influencers/<int:influencer_id>")
@documented(body=InfluencerUpdateSchema(partial=True), response=InfluencerSchema, errors=(409,))
def update_influencer(influencer_id: int) -> Any:
    """Change a creator; a new follower count is added to their history."""
    influencer = get_owned(Influencer, influencer_id)
    data = InfluencerUpdateSchema().load(json_body(), partial=True)
    if "handle" in data:
        _refuse_taken_handle(data["handle"], except_id=influencer.id)
    _apply(influencer, data)
    db = session()
    db.commit()
    return jsonify(InfluencerSchema().dump(influencer_dict(influencer, _history(influencer))))


@bp.delete("/influencers/<int:influencer_id>")
@documented(response=InfluencerSchema)
def archive_influencer(influencer_id: int) -> Any:
    """Archive a creator: hidden from the list, history and attributions kept, links still redirect."""
    influencer = get_owned(Influencer, influencer_id)
    if influencer.archived_at is None:
        influencer.archived_at = utcnow()
    session().commit()
    return jsonify(InfluencerSchema().dump(influencer_dict(influencer)))
