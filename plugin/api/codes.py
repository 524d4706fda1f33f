"""Discount codes: registered, or created in Shopify with `discountCodeBasicCreate`.

A code is unique per shop whatever its case. Creating, moving or deleting one
changes which creator past orders belong to, so the shop is re-attributed
after commit.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from flask import jsonify, request
from sqlalchemy import func, update

from models import DiscountCode, Influencer, ReferralLink, Shop, utcnow
from plugin.activity import schedule_reattribution
from plugin.api import bp, json_body
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, runtime, session, shop_select
from plugin.errors import ApiError, Conflict
from plugin.schemas.registry import (
    CreatorFilterSchema,
    DiscountCodeInputSchema,
    DiscountCodeListSchema,
    DiscountCodeSchema,
    DiscountCodeUpdateSchema,
)
from worker import installation, shopify_admin

log = logging.getLogger("creator_roi.registry")

# Shopify's input fields, as the merchant knows them in our API.
_SHOPIFY_FIELDS = {
    "code": "code",
    "percentage": "percent_off",
    "startsAt": "starts_at",
    "usageLimit": "usage_limit",
    "appliesOncePerCustomer": "once_per_customer",
}


def share_url(shop: Shop, code: str, redirect: str = "/") -> str:
    """Shopify's shareable discount link: opening it applies the code at checkout."""
    return f"https://{shop.domain}/discount/{quote(code, safe='')}?redirect={quote(redirect, safe='/')}"


def code_dict(code: DiscountCode, influencer: Influencer) -> dict[str, Any]:
    return {
        "id": code.id,
        "code": code.code,
        "influencer_id": code.influencer_id,
        "influencer": influencer.name,
        "percent_off": code.percent_off,
        "shopify_discount_id": code.shopify_discount_id,
        "share_url": share_url(current_shop(), code.code),
        "created_at": code.created_at,
    }


def owned_influencer(influencer_id: int, field: str = "influencer_id") -> Influencer:
    """The shop's creator named in a body, or 404 on that field (another shop's id looks unknown)."""
    influencer = session().scalar(shop_select(Influencer).where(Influencer.id == influencer_id))
    if influencer is None:
        raise ApiError({field: ["That creator does not exist (or was deleted): choose another."]}, 404)
    return influencer


def _refuse_taken(code: str, except_id: int | None = None) -> None:
    query = shop_select(DiscountCode).where(func.lower(DiscountCode.code) == func.lower(code))
    if except_id is not None:
        query = query.where(DiscountCode.id != except_id)
    taken = session().scalar(query)
    if taken is not None:
        holder = session().get(Influencer, taken.influencer_id)
        name = holder.name if holder else "another creator"
        raise Conflict({"code": [f"{taken.code} already belongs to {name}: choose another code."]})


# What the merchant can do when Shopify does not create the code, by what went wrong. The box
# they can untick is named as the form names it.
REGISTER_INSTEAD = (
    "To use a code made in the Shopify admin (Discounts), untick “Create this code in Shopify” "
    "and add it again: it is registered here without a call to Shopify."
)
TAKEN = "This code already exists in your Shopify store. " + REGISTER_INSTEAD
NO_SCOPE = (
    "The app may not create discounts in this store (the “write_discounts” permission is missing). "
    "Open the app from your Shopify admin and approve the new permission, or create the code there. " + REGISTER_INSTEAD
)
UNAVAILABLE = (
    "Shopify did not answer, so nothing was saved here. The code may exist in Shopify anyway: look "
    "under Discounts in your Shopify admin. If it is there, untick “Create this code in Shopify” and "
    "add it again; if not, Shopify may be down or slow: try again in a few minutes."
)
REFUSED = (
    "Shopify refused to create the code (answer {status}). Create it in your Shopify admin under "
    "Discounts instead. " + REGISTER_INSTEAD
)


def _user_errors(exc: shopify_admin.UserErrors) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        path = error["field"] or []
        field = next((_SHOPIFY_FIELDS[p] for p in reversed(path) if p in _SHOPIFY_FIELDS), "shopify")
        message = TAKEN if error.get("code") == "TAKEN" else error["message"] or "Shopify refused this value."
        errors.setdefault(field, []).append(message)
    return errors


def _failure(exc: shopify_admin.ShopifyAdminError) -> str:
    """Shopify's failure as what the merchant can do about it."""
    if exc.status == 403 or "access denied" in exc.message.lower():
        return NO_SCOPE
    if isinstance(exc, shopify_admin.ShopifyUnavailable):
        return UNAVAILABLE
    return REFUSED.format(status=exc.status or "none")


def _create_in_shopify(influencer: Influencer, code: str, data: dict[str, Any]) -> str:
    rt, db, shop = runtime(), session(), current_shop()
    try:
        token = installation.access_token_for(rt, db, shop)
        # A refreshed token must be kept even if Shopify then refuses the code.
        db.commit()
        return shopify_admin.create_discount_code(
            rt.admin,
            shop.domain,
            token,
            code=code,
            title=f"{code} ({influencer.name}, Creator ROI)",
            percent_off=data["percent_off"],
            starts_at=data.get("starts_at") or utcnow(),
            usage_limit=data.get("usage_limit"),
            once_per_customer=data.get("once_per_customer", False),
        )
    except shopify_admin.UserErrors as exc:
        raise ApiError(_user_errors(exc), 422) from exc
    except shopify_admin.AccessRevoked as exc:
        db.rollback()
        log.warning("event=discount_create_failed shop=%s reason=access_revoked", shop.domain)
        raise ApiError(
            {
                "shopify": [
                    "The app's access to the store was revoked: open the app from your Shopify admin to reconnect it."
                ]
            },
            502,
        ) from exc
    except shopify_admin.ShopifyAdminError as exc:
        db.rollback()
        log.warning("event=discount_create_failed shop=%s status=%s", shop.domain, exc.status)
        raise ApiError({"shopify": [_failure(exc)]}, 502) from exc


@bp.post("/influencers/<int:influencer_id>/codes")
@documented(body=DiscountCodeInputSchema, response=DiscountCodeSchema, status=201, errors=(409, 502))
def create_code(influencer_id: int) -> Any:
    """Give a creator a discount code: register an existing one, or create it in Shopify."""
    influencer = get_owned(Influencer, influencer_id)
    data = DiscountCodeInputSchema().load(json_body())
    code = data["code"].strip()
    _refuse_taken(code)
    discount_id = _create_in_shopify(influencer, code, data) if data["create_in_shopify"] else None
    db = session()
    row = DiscountCode(
        shop_id=current_shop().id,
        influencer_id=influencer.id,
        code=code,
        shopify_discount_id=discount_id,
        percent_off=data.get("percent_off"),
    )
    db.add(row)
    db.commit()
    log.info(
        "event=discount_code_added shop=%s code_id=%s influencer_id=%s in_shopify=%s",
        current_shop().domain,
        row.id,
        influencer.id,
        discount_id is not None,
    )
    schedule_reattribution(runtime(), current_shop().id)
    return jsonify(DiscountCodeSchema().dump(code_dict(row, influencer))), 201


def _codes(query: Any) -> Any:
    rows = (
        session()
        .execute(
            query.join(Influencer, Influencer.id == DiscountCode.influencer_id)
            .add_columns(Influencer)
            .order_by(func.lower(DiscountCode.code))
        )
        .all()
    )
    return jsonify(DiscountCodeListSchema().dump({"codes": [code_dict(c, i) for c, i in rows]}))


@bp.get("/influencers/<int:influencer_id>/codes")
@documented(response=DiscountCodeListSchema)
def list_creator_codes(influencer_id: int) -> Any:
    """A creator's discount codes."""
    influencer = get_owned(Influencer, influencer_id)
    return _codes(shop_select(DiscountCode).where(DiscountCode.influencer_id == influencer.id))


@bp.get("/codes")
@documented(query=CreatorFilterSchema, response=DiscountCodeListSchema)
def list_codes() -> Any:
    """Every discount code of the shop (?influencer_id= for one creator's)."""
    args = CreatorFilterSchema().load(request.args)
    query = shop_select(DiscountCode)
    if "influencer_id" in args:
        query = query.where(DiscountCode.influencer_id == args["influencer_id"])
    return _codes(query)


@bp.get("/codes/<int:code_id>")
@documented(response=DiscountCodeSchema)
def get_code(code_id: int) -> Any:
    """One discount code."""
    code = get_owned(DiscountCode, code_id)
    creator = session().get(Influencer, code.influencer_id)  # a code always has its creator
    return jsonify(DiscountCodeSchema().dump(code_dict(code, creator)))  # type: ignore[arg-type]


@bp.patch("/codes/<int:code_id>")
@documented(body=DiscountCodeUpdateSchema, response=DiscountCodeSchema)
def move_code(code_id: int) -> Any:
    """Move a code to another creator; the shop's orders are re-attributed."""
    code = get_owned(DiscountCode, code_id)
    data = DiscountCodeUpdateSchema().load(json_body())
    influencer = owned_influencer(data["influencer_id"])
    moved = code.influencer_id != influencer.id
    if moved:
        code.influencer_id = influencer.id
        # Another creator's link must not apply a code that is no longer theirs.
        session().execute(
            update(ReferralLink)
            .where(
                ReferralLink.shop_id == current_shop().id,
                ReferralLink.discount_code_id == code.id,
                ReferralLink.influencer_id != influencer.id,
            )
            .values(discount_code_id=None)
        )
    session().commit()
    if moved:
        log.info(
            "event=discount_code_moved shop=%s code_id=%s influencer_id=%s",
            current_shop().domain,
            code.id,
            influencer.id,
        )
        schedule_reattribution(runtime(), current_shop().id)
    return jsonify(DiscountCodeSchema().dump(code_dict(code, influencer)))


@bp.delete("/codes/<int:code_id>")
@documented(status=204)
def delete_code(code_id: int) -> Any:
    """Forget a code (the discount itself stays in Shopify); the shop's orders are re-attributed."""
    code = get_owned(DiscountCode, code_id)
    db = session()
    db.execute(
        update(ReferralLink)
        .where(ReferralLink.discount_code_id == code.id, ReferralLink.shop_id == current_shop().id)
        .values(discount_code_id=None)
    )
    db.delete(code)
    db.commit()
    log.info("event=discount_code_deleted shop=%s code_id=%s", current_shop().domain, code_id)
    schedule_reattribution(runtime(), current_shop().id)
    return "", 204
