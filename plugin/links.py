"""GET /r/<slug>: a creator's referral link. Redirects to the store with `ref`, a new click id
(`crid`) and UTM parameters, and records the click.

A click counts once per visitor per link per 30 minutes (the visitor is a
first-party cookie; without one, the same hashed IP and user agent); known bots
and link previewers are recorded but never counted. The visitor's IP is kept
only as an HMAC keyed with the app's SECRET_KEY. Behind a proxy, the client IP
comes from X-Forwarded-For as far as TRUSTED_PROXY_HOPS allows (ProxyFix).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from crawlerdetect import CrawlerDetect
from flask import Blueprint, abort, current_app, redirect, request
from sqlalchemy import or_, select

from models import Campaign, Click, DiscountCode, Influencer, ReferralLink, Shop, utcnow
from plugin.database import session
from plugin.schemas.registry import is_store_path
from worker import engine

log = logging.getLogger("creator_roi.links")
bp = Blueprint("links", __name__)

VISITOR_COOKIE = "croi_vid"
VISITOR_RE = re.compile(r"^[a-z2-7]{26}$")
COUNT_WINDOW = timedelta(minutes=30)
TRACKING_PARAMS = ("ref", "crid", "utm_source", "utm_medium", "utm_campaign")


@lru_cache(maxsize=1)
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()  # compiles its pattern list once per process


def is_bot(user_agent: str) -> bool:
    """Crawlers, link previewers (Slack, X, Facebook, WhatsApp...) and HTTP tools; an empty agent too."""
    return not user_agent.strip() or bool(_crawler_detect().isCrawler(user_agent))


def new_token(nbytes: int) -> str:
    """Unguessable, URL-safe, lower case base32 (10 bytes -> 16 chars, 16 bytes -> 26 chars)."""
    return base64.b32encode(secrets.token_bytes(nbytes)).decode().rstrip("=").lower()


def ip_hash(ip: str | None) -> str | None:
    if not ip:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def landing_url(
    shop: Shop,
    link: ReferralLink,
    code: DiscountCode | None,
    influencer: Influencer,
    campaign: Campaign | None,
    click_id: str | None,
) -> str:
    """https://<shop><destination>?ref=..&crid=..&utm_..., through /discount/<CODE> when the link has one."""
    destination = link.destination if is_store_path(link.destination) else "/"
    parts = urlsplit(destination)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in TRACKING_PARAMS]
    params.append(("ref", link.slug))
    if click_id:
        params.append(("crid", click_id))
    params += [("utm_source", influencer.platform), ("utm_medium", "creator")]
    if campaign is not None:
        params.append(("utm_campaign", campaign.name))
    target = f"{parts.path}?{urlencode(params)}" + (f"#{parts.fragment}" if parts.fragment else "")
    if code is not None:
        return f"https://{shop.domain}/discount/{quote(code.code, safe='')}?redirect={quote(target, safe='')}"
    return f"https://{shop.domain}{target}"


def _seen_recently(link: ReferralLink, visitor: str | None, hashed_ip: str | None, user_agent: str) -> bool:
    same_visitor = [Click.visitor_id == visitor] if visitor else []
    if visitor is None and hashed_ip:
        same_visitor.append((Click.ip_hash == hashed_ip) & (Click.user_agent == user_agent))
    if not same_visitor:
        return False
    return (
        session().scalar(
            select(Click.id)
            .where(
                Click.link_id == link.id,
                Click.counted.is_(True),
                Click.clicked_at > utcnow() - COUNT_WINDOW,
                or_(*same_visitor),
            )
            .limit(1)
        )
        is not None
    )


@bp.get("/r/<slug>")
def follow(slug: str) -> Any:
    """Public: no session token. Only the store's own host is ever a redirect target."""
    db = session()
    # A slug is global (the URL names no shop), so this lookup is not shop-scoped by design.
    link = db.scalar(select(ReferralLink).where(ReferralLink.slug == slug.lower()))
    if link is None:
        abort(404)
    shop = db.get(Shop, link.shop_id)
    influencer = db.get(Influencer, link.influencer_id)
    campaign = db.get(Campaign, influencer.campaign_id) if influencer and influencer.campaign_id else None
    code = db.get(DiscountCode, link.discount_code_id) if link.discount_code_id else None
    if shop is None or influencer is None:
        abort(404)
    if request.method == "HEAD":  # link checkers: answer, record nothing
        return _redirect(landing_url(shop, link, code, influencer, campaign, None))

    user_agent = (request.headers.get("User-Agent") or "")[:512]
    bot = is_bot(user_agent)
    cookie = request.cookies.get(VISITOR_COOKIE) or ""
    visitor = cookie if VISITOR_RE.match(cookie) else None
    hashed_ip = ip_hash(request.remote_addr)
    counted = not bot and not _seen_recently(link, visitor, hashed_ip, user_agent)
    if visitor is None and not bot:
        visitor = new_token(16)
    click = Click(
        click_id=new_token(10),
        shop_id=shop.id,
        link_id=link.id,
        influencer_id=influencer.id,
        clicked_at=utcnow(),
        ip_hash=hashed_ip,
        user_agent=user_agent or None,
        referrer=(request.referrer or "")[:2048] or None,
        visitor_id=visitor,
        counted=counted,
        bot=bot,
    )
    db.add(click)
    db.flush()
    if counted:
        engine.click_counted(db, shop.id, influencer.id, shop.local_day(click.clicked_at))
    db.commit()
    log.info(
        "event=click shop=%s link_id=%s click_id=%s counted=%s bot=%s",
        shop.domain,
        link.id,
        click.click_id,
        counted,
        bot,
    )

    response = _redirect(landing_url(shop, link, code, influencer, campaign, click.click_id))
    if visitor is not None:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=int(timedelta(days=365).total_seconds()),
            path="/r/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def _redirect(location: str) -> Any:
    response = redirect(location, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
