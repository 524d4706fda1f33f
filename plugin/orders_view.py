"""One order's evidence as the merchant reads it: which creator it belongs to and by which rule,
every piece of evidence (the code, the click and when it happened, the survey answer, the
customer's first order for a repeat) with what it decided, and the refunds netted out of its sales.

It reads the same attribution the API answers (`reports.order_attribution`), through
`shop_select` only, and words it; nothing here computes a figure: net sales are the engine's.
Buyers are not named: the page shows the order, never the customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Attribution, Influencer, Order, Refund, Shop
from plugin import display, reports
from plugin.database import shop_select

RULE_NAMES = {
    "code": "Discount code",
    "click": "Referral link click",
    "survey": "Post-purchase survey",
    "repeat": "Repeat purchase",
    "eligibility": "Counts as a sale?",
}


def shopify_admin_order_url(shop_domain: str, shopify_order_id: int) -> str:
    """The order in the Shopify admin: admin.shopify.com/store/<handle>/orders/<id>, where the
    handle is the store's myshopify subdomain."""
    handle = shop_domain.split(".", 1)[0]
    return f"https://admin.shopify.com/store/{handle}/orders/{shopify_order_id}"


def order_evidence(session: Session, shop: Shop, order_id: int) -> dict[str, Any] | None:
    """What the order's evidence page shows, or None when the shop has no such order."""
    order = session.scalar(shop_select(Order).where(Order.id == order_id))
    if order is None:
        return None
    attribution = session.scalar(shop_select(Attribution).where(Attribution.order_id == order.id))
    evidence = list(attribution.evidence) if attribution else []
    named = {p.get("influencer_id") for p in evidence if isinstance(p.get("influencer_id"), int)}
    if attribution and attribution.influencer_id:
        named.add(attribution.influencer_id)
    creators = {
        c.id: c for c in session.scalars(shop_select(Influencer).where(Influencer.id.in_(sorted(named or {0}))))
    }
    names = reports.acquiring_order_names(session, shop.id, [evidence])
    creator = creators.get(attribution.influencer_id) if attribution and attribution.influencer_id else None
    view = reports.order_attribution(order, attribution, creator, names)
    refunds = session.scalars(
        shop_select(Refund).where(Refund.shopify_order_id == order.shopify_id).order_by(Refund.processed_at, Refund.id)
    )
    view.update(
        admin_url=shopify_admin_order_url(shop.domain, order.shopify_id),
        subtotal=order.subtotal,
        refunds=[{"at": r.processed_at or r.created_at, "amount": r.merchandise} for r in refunds],
        credited=attribution.net if view["counted"] and attribution else None,
        status=order_status(order),
        pieces=[evidence_piece(p, creators, names, shop) for p in evidence],
        evidence_order=[RULE_NAMES[r].lower() for r in shop.settings.evidence_order if r in RULE_NAMES],
    )
    return view


def order_status(order: Order) -> list[str]:
    """Why an order would not count, in words (empty for an ordinary paid order)."""
    reasons = []
    if order.test:
        reasons.append("a test order: stored, never counted")
    if order.cancelled_at is not None:
        reasons.append("cancelled")
    if order.financial_status == "voided":
        reasons.append("voided")
    if order.flagged:
        reasons.append(f"not read as usual: {order.flagged}")
    return reasons


def evidence_piece(
    piece: dict[str, Any], creators: dict[int, Influencer], order_names: dict[int, str | None], shop: Shop
) -> dict[str, Any]:
    """One piece of evidence as a table row: the rule, what it found, when, and what it decided."""
    rule = str(piece.get("rule") or "")
    creator = creators.get(piece["influencer_id"]) if isinstance(piece.get("influencer_id"), int) else None
    row: dict[str, Any] = {
        "rule": rule,
        "rule_name": RULE_NAMES.get(rule, display.label(rule)),
        "matched": bool(piece.get("matched")),
        "decisive": bool(piece.get("decisive")),
        "creator": {"id": creator.id, "name": creator.name} if creator else None,
        "detail": "",
        "at": None,
        "when_note": "",
        "link_order_id": None,
    }
    if rule == "code":
        row["detail"] = f"code {piece.get('code', '')}"
        row["when_note"] = "entered at checkout"
    elif rule == "click":
        slug = piece.get("slug") or piece.get("ref")
        row["detail"] = f"link /r/{slug}" if slug else "a referral link"
        row["at"] = _instant(piece.get("clicked_at"))
        if row["at"] is not None:
            row["when_note"] = display.evidence_words(piece).removeprefix("click ") + " the order"
    elif rule == "survey":
        answer = str(piece.get("answer") or "")
        row["detail"] = f"answered “{answer}”" + (f", naming @{piece['handle']}" if piece.get("handle") else "")
        row["when_note"] = "after checkout"
    elif rule == "repeat":
        acquiring = piece.get("acquiring_order_id")
        name = order_names.get(acquiring) if isinstance(acquiring, int) else None
        row["detail"] = f"the customer's first order {name or acquiring} was this creator's"
        row["link_order_id"] = acquiring if isinstance(acquiring, int) else None
        row["at"] = _instant(piece.get("acquired_at"))
        days = piece.get("repeat_window_days") or shop.settings.repeat_window_days
        row["when_note"] = f"acquired then; this order is within the {days}-day repeat window"
    elif rule == "eligibility":
        row["detail"] = f"net sales {display.money(piece.get('net'), shop.currency)}"
    row["result"] = _result(piece, row)
    return row


def _result(piece: dict[str, Any], row: dict[str, Any]) -> str:
    if row["decisive"]:
        return "Decided the attribution"
    if row["matched"]:
        who = row["creator"]["name"] if row["creator"] else "a creator"
        return f"Points to {who}, but stronger evidence came first"
    reason = str(piece.get("reason") or "did not match")
    return "Not used: " + reason


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
