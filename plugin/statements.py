"""A creator's private statement: the link the merchant sends (made through the API) and the
page it opens, GET /s/<token>, outside the Shopify admin.

The page shows one creator only, found by the SHA-256 of the token: their codes, links with QR
codes, clicks, orders (date, amount, first or repeat; never who bought), every commission line and
their payouts. It needs no session token and loads no App Bridge. A revoked, expired or unknown
token answers the same 404, and every answer is rate-limited per address and per token
(`plugin.rate_limit`), so guessing tokens gets nowhere fast.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import segno
from flask import Blueprint, Response, abort, make_response, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Attribution,
    Click,
    CommissionLine,
    DiscountCode,
    Influencer,
    Order,
    Payout,
    ReferralLink,
    Shop,
    StatementLink,
    utcnow,
)
from plugin import display
from plugin.database import runtime, session
from plugin.rate_limit import FixedWindow
from plugin.statement_tokens import token_hash
from roi import payouts as payout_rules
from roi.money import ZERO
from worker.payouts import rule_lines

log = logging.getLogger("creator_roi.statements")
bp = Blueprint("statements", __name__)

# A creator opens their statement a few times a session; 30 a minute per address is far above
# that and far below what guessing a 256-bit token would need.
PER_ADDRESS = FixedWindow(limit=30, seconds=60, prefix="rl:statement:ip")
PER_TOKEN = FixedWindow(limit=60, seconds=60, prefix="rl:statement:token")
ORDER_ROWS = 50  # the newest; the figures above count them all


def _limited(key: str, limiter: FixedWindow) -> None:
    wait = limiter.hit(key, runtime().redis())
    if wait:
        log.info("event=statement_rate_limited window=%s", limiter.prefix)
        response = make_response("Too many requests. Try again in a minute.", 429)
        response.headers["Retry-After"] = str(wait)
        _private(response)
        abort(response)


def _private(response: Response) -> Response:
    # The token is in the URL: it must not leak through a Referer, a cache or a search engine.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


@bp.get("/s/<token>")
def statement(token: str) -> Any:
    _limited(request.remote_addr or "unknown", PER_ADDRESS)
    if len(token) > 128:
        abort(404)
    hashed = token_hash(token)
    _limited(hashed[:32], PER_TOKEN)
    db = session()
    # The token names no shop: the lookup by its hash is global on purpose (the hash is unique).
    link = db.scalar(select(StatementLink).where(StatementLink.token_hash == hashed))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        abort(404)
    shop = db.get(Shop, link.shop_id)
    creator = db.get(Influencer, link.influencer_id)
    if shop is None or creator is None or creator.shop_id != shop.id:
        abort(404)
    link.last_viewed_at = utcnow()
    db.commit()
    context = statement_context(db, shop, creator)
    return _private(make_response(render_template("statement/statement.html", link=link, **context)))


def statement_context(db: Session, shop: Shop, creator: Influencer) -> dict[str, Any]:
    """Everything the statement shows, read for this shop and this creator only."""
    from plugin.api.codes import share_url
    from plugin.api.links import public_url

    where_creator = (shop.id, creator.id)
    codes = list(
        db.scalars(
            select(DiscountCode)
            .where(DiscountCode.shop_id == where_creator[0], DiscountCode.influencer_id == where_creator[1])
            .order_by(DiscountCode.id)
        )
    )
    links = list(
        db.scalars(
            select(ReferralLink)
            .where(ReferralLink.shop_id == where_creator[0], ReferralLink.influencer_id == where_creator[1])
            .order_by(ReferralLink.id)
        )
    )
    clicks = dict(
        db.execute(
            select(Click.link_id, func.count())
            .where(Click.shop_id == shop.id, Click.influencer_id == creator.id, Click.counted.is_(True))
            .group_by(Click.link_id)
        ).all()
    )
    # Date, amount and first/repeat only: the buyer (name, e-mail, address) never leaves the admin.
    orders = [
        {"placed_at": placed_at, "net": net, "kind": kind}
        for placed_at, net, kind in db.execute(
            select(Order.placed_at, Attribution.net, Attribution.kind)
            .join(Order, Order.id == Attribution.order_id)
            .where(
                Attribution.shop_id == shop.id,
                Attribution.influencer_id == creator.id,
                Attribution.kind.in_(("first", "repeat")),
            )
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(ORDER_ROWS)
        )
    ]
    order_count, order_total = db.execute(
        select(func.count(), func.coalesce(func.sum(Attribution.net), ZERO)).where(
            Attribution.shop_id == shop.id,
            Attribution.influencer_id == creator.id,
            Attribution.kind.in_(("first", "repeat")),
        )
    ).one()
    link_rows = []
    for link in links:
        url = public_url(link.slug)
        qr = segno.make(url, error="m")
        link_rows.append(
            {
                "url": url,
                "slug": link.slug,
                "clicks": int(clicks.get(link.id, 0)),
                "qr_svg": qr.svg_data_uri(scale=4, border=2, dark="#1a1a1a"),
                "qr_png": qr.png_data_uri(scale=10, border=4),
            }
        )
    currency = shop.currency
    return {
        "shop": shop,
        "creator": creator,
        "currency": currency,
        "display": display,
        "money": lambda value: display.money(value, currency),
        "when": lambda value: display.when(value, shop.zone),
        "codes": [{"code": c.code, "percent_off": c.percent_off, "share_url": share_url(shop, c.code)} for c in codes],
        "links": link_rows,
        "clicks": sum(row["clicks"] for row in link_rows),
        "orders": orders,
        "order_count": int(order_count or 0),
        "order_total": order_total,
        **pay_context(db, shop, creator),
    }


def pay_context(db: Session, shop: Shop, creator: Influencer) -> dict[str, Any]:
    """Every commission line of the creator (state, reason, date) and the payouts that paid them,
    each with this creator's own amount, never the payout's total over other creators."""
    lines = list(
        db.scalars(
            select(CommissionLine)
            .where(CommissionLine.shop_id == shop.id, CommissionLine.influencer_id == creator.id)
            .order_by(CommissionLine.created_at.desc(), CommissionLine.id.desc())
        )
    )
    totals = payout_rules.creator_totals(rule_lines(lines, shop))
    mine: dict[int, Decimal] = {}
    for line in lines:
        if line.payout_id is not None:
            mine[line.payout_id] = mine.get(line.payout_id, ZERO) + line.amount
    payouts = []
    if mine:
        for payout in db.scalars(
            select(Payout)
            .where(Payout.shop_id == shop.id, Payout.id.in_(mine), Payout.state != "cancelled")
            .order_by(Payout.period_end.desc(), Payout.id.desc())
        ):
            payouts.append(
                {
                    "period_end": payout.period_end,
                    "state": payout.state,
                    "paid_at": payout.paid_at,
                    "amount": mine[payout.id],
                }
            )
    return {"lines": lines, "payouts": payouts, "pay_totals": totals if lines else {}}
