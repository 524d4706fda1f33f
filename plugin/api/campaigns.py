"""Campaigns: /api/v1/campaigns. Creators and costs name a campaign; it is created on first use.
DELETE archives: the campaign leaves the lists, its creators, costs and figures keep it."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import func, select

from models import Campaign, Influencer, utcnow
from plugin.api import bp, json_body
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.errors import Conflict
from plugin.schemas.registry import (
    CampaignInputSchema,
    CampaignListSchema,
    CampaignQuerySchema,
    CampaignSchema,
    CampaignUpdateSchema,
)


def campaign_named(name: str | None) -> Campaign | None:
    """The shop's campaign of that name (any case), created if new; None for no name."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    db = session()
    found = db.scalar(shop_select(Campaign).where(func.lower(Campaign.name) == func.lower(name)))
    if found is None:
        found = Campaign(shop_id=current_shop().id, name=name)
        db.add(found)
        db.flush()
    return found


def _members(campaign_ids: list[int]) -> dict[int | None, int]:
    if not campaign_ids:
        return {}
    rows = session().execute(
        select(Influencer.campaign_id, func.count())
        .where(
            Influencer.shop_id == current_shop().id,
            Influencer.campaign_id.in_(campaign_ids),
            Influencer.archived_at.is_(None),
        )
        .group_by(Influencer.campaign_id)
    )
    return {campaign_id: count for campaign_id, count in rows}


def campaign_dict(campaign: Campaign, members: int) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "influencers": members,
        "archived": campaign.archived_at is not None,
        "archived_at": campaign.archived_at,
        "created_at": campaign.created_at,
    }


def _refuse_duplicate(name: str, except_id: int | None = None) -> None:
    query = shop_select(Campaign).where(func.lower(Campaign.name) == func.lower(name))
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    if session().scalar(query) is not None:
        raise Conflict({"name": [f"A campaign named “{name}” already exists: choose another name."]})


@bp.post("/campaigns")
@documented(body=CampaignInputSchema, response=CampaignSchema, status=201, errors=(409,))
def create_campaign() -> Any:
    """Create a campaign."""
    name = CampaignInputSchema().load(json_body())["name"].strip()
    _refuse_duplicate(name)
    campaign = Campaign(shop_id=current_shop().id, name=name)
    db = session()
    db.add(campaign)
    db.commit()
    return jsonify(CampaignSchema().dump(campaign_dict(campaign, 0))), 201


@bp.get("/campaigns")
@documented(query=CampaignQuerySchema, response=CampaignListSchema)
def list_campaigns() -> Any:
    """The shop's campaigns, by name (active ones unless ?archived=true or all)."""
    args = CampaignQuerySchema().load(request.args)
    query = shop_select(Campaign).order_by(func.lower(Campaign.name))
    if args["archived"] == "false":
        query = query.where(Campaign.archived_at.is_(None))
    elif args["archived"] == "true":
        query = query.where(Campaign.archived_at.is_not(None))
    campaigns = session().scalars(query).all()
    members = _members([c.id for c in campaigns])
    return jsonify(
        CampaignListSchema().dump({"campaigns": [campaign_dict(c, members.get(c.id, 0)) for c in campaigns]})
    )


@bp.get("/campaigns/<int:campaign_id>")
@documented(response=CampaignSchema)
def get_campaign(campaign_id: int) -> Any:
    """One campaign."""
    campaign = get_owned(Campaign, campaign_id)
    return jsonify(CampaignSchema().dump(campaign_dict(campaign, _members([campaign.id]).get(campaign.id, 0))))


@bp.patch("/campaigns/<int:campaign_id>")
@documented(body=CampaignUpdateSchema, response=CampaignSchema, errors=(409,))
def update_campaign(campaign_id: int) -> Any:
    """Rename a campaign, or archive or restore it."""
    campaign = get_owned(Campaign, campaign_id)
    data = CampaignUpdateSchema().load(json_body())
    if "name" in data:
        name = data["name"].strip()
        _refuse_duplicate(name, except_id=campaign.id)
        campaign.name = name
    if "archived" in data:
        campaign.archived_at = (campaign.archived_at or utcnow()) if data["archived"] else None
    session().commit()
    return _respond(campaign)


@bp.delete("/campaigns/<int:campaign_id>")
@documented(response=CampaignSchema)
def archive_campaign(campaign_id: int) -> Any:
    """Archive a campaign: out of the lists; its creators, costs and figures keep it."""
    campaign = get_owned(Campaign, campaign_id)
    if campaign.archived_at is None:
        campaign.archived_at = utcnow()
    session().commit()
    return _respond(campaign)


def _respond(campaign: Campaign) -> Any:
    return jsonify(CampaignSchema().dump(campaign_dict(campaign, _members([campaign.id]).get(campaign.id, 0))))
