"""The creator registry, two ways. `make_influencer`, `make_code`, `make_link`, `make_cost` and
`make_post` go through the API as a merchant would (each asserts the 201 and returns the JSON).
`install_shop`, `make_creator`, `make_click` and `store_activity` write rows straight in the database
and tell the engine, as the registry does, for tests that need exact ids, days and times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from factories import SHOP, shop_today
from models import Click, Cost, DiscountCode, Influencer, Post, ReferralLink, Shop
from worker import engine, installation

_counter = iter(range(1, 1_000_000))


# ---- through the API ------------------------------------------------------------------------


def _created(response: Any) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_influencer(api: Any, **fields: Any) -> dict:
    n = next(_counter)
    body = {"name": f"Creator {n}", "handle": f"creator_{n}", "platform": "instagram", "followers": 12000}
    body.update(fields)
    return _created(api.post("/api/v1/influencers", json=body))


def make_code(api: Any, influencer_id: int, code: str | None = None, **fields: Any) -> dict:
    body = {"code": code or f"CODE{next(_counter)}", "create_in_shopify": False}
    body.update(fields)
    return _created(api.post(f"/api/v1/influencers/{influencer_id}/codes", json=body))


def make_link(api: Any, influencer_id: int, **fields: Any) -> dict:
    return _created(api.post(f"/api/v1/influencers/{influencer_id}/links", json=fields))


def make_cost(api: Any, **fields: Any) -> dict:
    body = {"category": "fee", "incurred_on": "2026-09-01"}
    if fields.get("category", "fee") != "management_time":
        body["amount"] = "250.00"
    body.update(fields)
    return _created(api.post("/api/v1/costs", json=body))


def make_plan(api: Any, influencer_id: int | None, **fields: Any) -> dict:
    """A pay plan through the API, in force from today (a creator's plan cannot start before them)."""
    body = {"influencer_id": influencer_id, "starts_on": shop_today().isoformat(), **fields}
    return _created(api.post("/api/v1/plans", json=body))


def past(days: float = 1) -> str:
    """A moment `days` ago, as the API takes it (ISO 8601, UTC, whole seconds)."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0).isoformat()


def make_post(api: Any, influencer_id: int, **fields: Any) -> dict:
    body = {
        "influencer_id": influencer_id,
        "platform": "instagram",
        "content_type": "reel",
        "posted_at": past(2),
        "impressions": 40000,
        "reach": 30000,
        "likes": 1200,
        "comments": 80,
        "shares": 40,
        "saves": 60,
    }
    body.update(fields)
    return _created(api.post("/api/v1/posts", json=body))


# ---- straight in the database ---------------------------------------------------------------


def install_shop(runtime: Any, domain: str = SHOP, currency: str = "USD", *, zone: str | None = None) -> int:
    """A custom-app install (no network): the shop is installed, with a token; its id."""
    with runtime.db.session() as session:
        shop = installation.install_with_access_token(runtime, session, domain, "shpat_test", currency)
        if zone is not None:
            shop.timezone = zone
        session.flush()
        return shop.id


def shop_id_of(runtime: Any, domain: str) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(Shop.id).where(Shop.domain == domain))


def make_creator(
    runtime: Any,
    shop_id: int,
    handle: str,
    *,
    codes: tuple[str, ...] = (),
    slug: str | None = None,
    platform: str = "instagram",
    campaign_id: int | None = None,
    commission_rate: Decimal | None = None,
    name: str | None = None,
) -> int:
    """A creator with her codes and link; her id."""
    with runtime.db.session() as s:
        creator = Influencer(
            shop_id=shop_id,
            name=name or handle.title(),
            handle=handle,
            platform=platform,
            campaign_id=campaign_id,
            commission_rate=commission_rate,
        )
        s.add(creator)
        s.flush()
        for code in codes:
            s.add(DiscountCode(shop_id=shop_id, influencer_id=creator.id, code=code))
        if slug:
            s.add(ReferralLink(shop_id=shop_id, influencer_id=creator.id, slug=slug))
        return creator.id


def make_click(
    runtime: Any,
    shop_id: int,
    slug: str,
    click_id: str,
    clicked_at: datetime,
    *,
    counted: bool = True,
    bot: bool = False,
) -> None:
    """A click as the redirect stores it, then the engine told, as the registry does."""
    with runtime.db.session() as s:
        link = s.scalar(select(ReferralLink).where(ReferralLink.slug == slug))
        s.add(
            Click(
                click_id=click_id,
                shop_id=shop_id,
                link_id=link.id,
                influencer_id=link.influencer_id,
                clicked_at=clicked_at,
                counted=counted,
                bot=bot,
            )
        )
        s.flush()
        ctx = engine.shop_context(s, shop_id)
        engine.activity_changed(s, shop_id, link.influencer_id, ctx.day(clicked_at))


def store_activity(runtime: Any, shop_id: int, *rows: Cost | Post) -> None:
    """Costs and posts as the registry stores them, then the engine told about their cells."""
    with runtime.db.session() as s:
        s.add_all(rows)
        s.flush()
        ctx = engine.shop_context(s, shop_id)
        for row in rows:
            day = row.incurred_on if isinstance(row, Cost) else ctx.day(row.posted_at)
            engine.activity_changed(s, shop_id, row.influencer_id, day)
