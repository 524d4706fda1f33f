"""Campaigns: /api/v1/campaigns. Creators and costs name a campaign; it is created on first use."""
from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from models import Campaign, Cost, Influencer
from plugin.activity import activity_changed
from plugin.api import bp, json_body
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.errors import Conflict
from plugin.schemas.registry import CampaignInputSchema, CampaignListSchema, CampaignSchema


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


def _members(campaign_ids: list[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = session().execute(
        select(Influencer.campaign_id, func.count())
        .where(Influencer.shop_id == current_shop().id, Influencer.campaign_id.in_(campaign_ids),
               Influencer.archived_at.is_(None))
        .group_by(Influencer.campaign_id))
    return {campaign_id: count for campaign_id, count in rows}


def campaign_dict(campaign: Campaign, members: int) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "influencers": members,
            "created_at": campaign.created_at}


def _refuse_duplicate(name: str, except_id: int | None = None) -> None:
    query = shop_select(Campaign).where(func.lower(Campaign.name) == func.lower(name))
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    if session().scalar(query) is not None:
        raise Conflict({"name": [f"the shop already has a campaign named {name!r}"]})


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
@documented(response=CampaignListSchema)
def list_campaigns() -> Any:
    """The shop's campaigns, by name."""
    campaigns = session().scalars(shop_select(Campaign).order_by(func.lower(Campaign.name))).all()
    members = _members([c.id for c in campaigns])
    return jsonify(CampaignListSchema().dump(
        {"campaigns": [campaign_dict(c, members.get(c.id, 0)) for c in campaigns]}))


@bp.get("/campaigns/<int:campaign_id>")
@documented(response=CampaignSchema)
def get_campaign(campaign_id: int) -> Any:
    """One campaign."""
    campaign = get_owned(Campaign, campaign_id)
    return jsonify(CampaignSchema().dump(campaign_dict(campaign, _members([campaign.id]).get(campaign.id, 0))))


@bp.patch("/campaigns/<int:campaign_id>")
@documented(body=CampaignInputSchema, response=CampaignSchema, errors=(409,))
def rename_campaign(campaign_id: int) -> Any:
    """Rename a campaign."""
    campaign = get_owned(Campaign, campaign_id)
    name = CampaignInputSchema().load(json_body())["name"].strip()
    _refuse_duplicate(name, except_id=campaign.id)
    campaign.name = name
    session().commit()
    return jsonify(CampaignSchema().dump(campaign_dict(campaign, _members([campaign.id]).get(campaign.id, 0))))


@bp.delete("/campaigns/<int:campaign_id>")
@documented(status=204)
def delete_campaign(campaign_id: int) -> Any:
    """Delete a campaign; its creators and costs stay, without a campaign."""
    campaign = get_owned(Campaign, campaign_id)
    db = session()
    # Cost rollups are kept per campaign: refresh the cells whose costs lose theirs.
    cells = {(influencer_id, day) for influencer_id, day in db.execute(
        select(Cost.influencer_id, Cost.incurred_on).where(
            Cost.shop_id == current_shop().id, Cost.campaign_id == campaign.id))}
    db.delete(campaign)
    db.flush()
    activity_changed(db, current_shop().id, cells)
    db.commit()
    return "", 204
