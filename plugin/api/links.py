"""Referral links (/api/v1/influencers/<id>/links, /api/v1/links) and their QR codes."""

from __future__ import annotations

import io
import re
import secrets
from typing import Any

import segno
from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import func, select

from models import Click, DiscountCode, Influencer, ReferralLink
from plugin.activity import activity_changed, schedule_reattribution
from plugin.api import bp, json_body
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, runtime, session, shop_select
from plugin.errors import ApiError, Conflict
from plugin.schemas.registry import (
    CreatorFilterSchema,
    QrQuerySchema,
    ReferralLinkInputSchema,
    ReferralLinkListSchema,
    ReferralLinkSchema,
    ReferralLinkUpdateSchema,
)

# No 0/o, 1/l/i: a slug is read aloud, printed and typed from a poster.
_SLUG_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def public_url(slug: str) -> str:
    return f"{current_app.config['SHOPIFY_APP_URL'].rstrip('/')}/r/{slug}"


def link_dict(link: ReferralLink, clicks: int, code: str | None) -> dict[str, Any]:
    return {
        "id": link.id,
        "slug": link.slug,
        "url": public_url(link.slug),
        "qr_svg_url": url_for("api.link_qr_svg", link_id=link.id),
        "qr_png_url": url_for("api.link_qr_png", link_id=link.id),
        "destination": link.destination,
        "influencer_id": link.influencer_id,
        "discount_code_id": link.discount_code_id,
        "discount_code": code,
        "clicks": clicks,
        "created_at": link.created_at,
    }


def _slug_taken(slug: str) -> bool:
    # /r/<slug> names no shop, so a slug is unique across every shop: this check is global on purpose.
    return session().scalar(select(ReferralLink.id).where(ReferralLink.slug == slug)) is not None


def _generated_slug(handle: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", handle.lower()).strip("-")[:40] or "link"
    for _ in range(8):
        slug = f"{stem}-{''.join(secrets.choice(_SLUG_ALPHABET) for _ in range(5))}"
        if not _slug_taken(slug):
            return slug
    raise Conflict({"slug": ["No free slug could be made from the name: enter one."]})


def _code_for(influencer: Influencer, code_id: int | None) -> DiscountCode | None:
    if code_id is None:
        return None
    code = session().scalar(shop_select(DiscountCode).where(DiscountCode.id == code_id))
    if code is None:
        raise ApiError(
            {"discount_code_id": ["That discount code does not exist (or was forgotten): choose another."]}, 404
        )
    if code.influencer_id != influencer.id:
        raise ApiError(
            {"discount_code_id": ["That code belongs to another creator: choose one of this creator's codes."]}, 422
        )
    return code


def _respond(links: list[ReferralLink], status: int = 200, one: bool = False) -> Any:
    ids = [link.id for link in links]
    counts: dict[int, int] = {}
    codes: dict[int, str] = {}
    if ids:
        counts = dict(
            session()
            .execute(
                select(Click.link_id, func.count())
                .where(Click.link_id.in_(ids), Click.counted.is_(True))
                .group_by(Click.link_id)
            )
            .all()
        )
        code_ids = {link.discount_code_id for link in links if link.discount_code_id}
        if code_ids:
            codes = dict(
                session().execute(select(DiscountCode.id, DiscountCode.code).where(DiscountCode.id.in_(code_ids))).all()
            )
    rows = [link_dict(link, counts.get(link.id, 0), codes.get(link.discount_code_id or 0)) for link in links]
    if one:
        return jsonify(ReferralLinkSchema().dump(rows[0])), status
    return jsonify(ReferralLinkListSchema().dump({"links": rows})), status


@bp.post("/influencers/<int:influencer_id>/links")
@documented(body=ReferralLinkInputSchema, response=ReferralLinkSchema, status=201, errors=(409,))
def create_link(influencer_id: int) -> Any:
    """Give a creator a referral link (/r/<slug>) to a path on the store."""
    influencer = get_owned(Influencer, influencer_id)
    data = ReferralLinkInputSchema().load(json_body())
    code = _code_for(influencer, data.get("discount_code_id"))
    if data.get("slug"):
        slug = data["slug"].lower()
        if _slug_taken(slug):
            raise Conflict({"slug": [f"The slug {slug} is taken: choose another."]})
    else:
        slug = _generated_slug(influencer.handle)
    link = ReferralLink(
        shop_id=current_shop().id,
        influencer_id=influencer.id,
        slug=slug,
        destination=data["destination"],
        discount_code_id=code.id if code else None,
    )
    db = session()
    db.add(link)
    db.commit()
    return _respond([link], 201, one=True)


@bp.get("/influencers/<int:influencer_id>/links")
@documented(response=ReferralLinkListSchema)
def list_creator_links(influencer_id: int) -> Any:
    """A creator's referral links with their counted clicks."""
    influencer = get_owned(Influencer, influencer_id)
    links = (
        session()
        .scalars(shop_select(ReferralLink).where(ReferralLink.influencer_id == influencer.id).order_by(ReferralLink.id))
        .all()
    )
    return _respond(list(links))


@bp.get("/links")
@documented(query=CreatorFilterSchema, response=ReferralLinkListSchema)
def list_links() -> Any:
    """Every referral link of the shop (?influencer_id= for one creator's)."""
    args = CreatorFilterSchema().load(request.args)
    query = shop_select(ReferralLink).order_by(ReferralLink.id)
    if "influencer_id" in args:
        query = query.where(ReferralLink.influencer_id == args["influencer_id"])
    return _respond(list(session().scalars(query).all()))


@bp.get("/links/<int:link_id>")
@documented(response=ReferralLinkSchema)
def get_link(link_id: int) -> Any:
    """One referral link."""
    return _respond([get_owned(ReferralLink, link_id)], one=True)


@bp.patch("/links/<int:link_id>")
@documented(body=ReferralLinkUpdateSchema, response=ReferralLinkSchema)
def update_link(link_id: int) -> Any:
    """Point a link elsewhere on the store, or attach or detach its discount code."""
    link = get_owned(ReferralLink, link_id)
    data = ReferralLinkUpdateSchema().load(json_body())
    if "destination" in data:
        link.destination = data["destination"]
    if "discount_code_id" in data:
        influencer = session().get(Influencer, link.influencer_id)
        code = _code_for(influencer, data["discount_code_id"])  # type: ignore[arg-type]
        link.discount_code_id = code.id if code else None
    session().commit()
    return _respond([link], one=True)


@bp.delete("/links/<int:link_id>")
@documented(status=204)
def delete_link(link_id: int) -> Any:
    """Delete a link; /r/<slug> stops redirecting and its clicks go with it (figures and
    click attributions are recomputed)."""
    link = get_owned(ReferralLink, link_id)
    db = session()
    shop = current_shop()
    clicked = db.scalars(select(Click.clicked_at).where(Click.link_id == link.id, Click.counted.is_(True)))
    cells = {(link.influencer_id, shop.local_day(moment)) for moment in clicked}
    had_clicks = db.scalar(select(Click.id).where(Click.link_id == link.id).limit(1)) is not None
    db.delete(link)
    db.flush()
    activity_changed(db, shop.id, cells)
    db.commit()
    if had_clicks:
        schedule_reattribution(runtime(), shop.id)
    return "", 204


def _qr(link: ReferralLink) -> tuple[segno.QRCode, dict[str, Any]]:
    args = QrQuerySchema().load(request.args)
    return segno.make(public_url(link.slug), error="m", micro=False), args


def _image(body: bytes, mimetype: str, slug: str, ext: str, download: bool) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=3600"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{slug}-qr.{ext}"'
    return response


@bp.get("/links/<int:link_id>/qr.svg")
@documented(query=QrQuerySchema, response_type="image/svg+xml")
def link_qr_svg(link_id: int) -> Any:
    """The link as a QR code, SVG (print, stickers, packaging inserts)."""
    link = get_owned(ReferralLink, link_id)
    qr, args = _qr(link)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=args["scale"], border=4, title=f"QR code for {public_url(link.slug)}")
    return _image(out.getvalue(), "image/svg+xml", link.slug, "svg", args["download"])


@bp.get("/links/<int:link_id>/qr.png")
@documented(query=QrQuerySchema, response_type="image/png")
def link_qr_png(link_id: int) -> Any:
    """The link as a QR code, PNG."""
    link = get_owned(ReferralLink, link_id)
    qr, args = _qr(link)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=args["scale"], border=4)
    return _image(out.getvalue(), "image/png", link.slug, "png", args["download"])
