"""Payouts (/api/v1/payouts): made from approved commission lines, exported for PayPal, Wise or a
spreadsheet, marked paid (or paid as Shopify store credit), cancelled.

A creator without a payout e-mail is never in an export: the file leaves them out, the answer's
`X-Payout-Left-Out` header lists their ids, and the generic file closes with a note row naming
them (the PayPal and Wise files cannot hold a note: every row there is a payment).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, request

from models import Influencer, Payout, Shop, StoreCredit, utcnow
from plugin.api import bp, json_body
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, runtime, session, shop_select
from plugin.errors import ApiError, Conflict
from plugin.schemas.payouts import (
    PayoutExportQuerySchema,
    PayoutInputSchema,
    PayoutListSchema,
    PayoutPaidInputSchema,
    PayoutSchema,
)
from roi import payout_files
from worker import installation, payouts, shopify_admin

log = logging.getLogger("creator_roi.payouts")

LEFT_OUT_HEADER = "X-Payout-Left-Out"


def _creators(ids: set[int]) -> dict[int, Influencer]:
    if not ids:
        return {}
    return {c.id: c for c in session().scalars(shop_select(Influencer).where(Influencer.id.in_(ids)))}


def _credits(payout: Payout) -> dict[int, StoreCredit]:
    rows = session().scalars(shop_select(StoreCredit).where(StoreCredit.payout_id == payout.id))
    return {credit.influencer_id: credit for credit in rows}


def payout_dict(payout: Payout, below_minimum: list[Any] | None = None) -> dict[str, Any]:
    db, shop = session(), current_shop()
    parts = payouts.shares(db, payout)
    creators = _creators({p.influencer_id for p in parts} | {r.influencer_id for r in below_minimum or []})
    held = payouts.held_by_creator(db, shop.id, [p.influencer_id for p in parts])
    credits = _credits(payout)

    def who(influencer_id: int) -> dict[str, Any]:
        creator = creators.get(influencer_id)
        return {
            "influencer_id": influencer_id,
            "name": creator.name if creator else "",
            "payout_email": creator.payout_email if creator else None,
        }

    rows = [
        {
            **who(part.influencer_id),
            "amount": part.amount,
            "earned": part.earned,
            "clawed_back": part.clawed_back,
            "held": held.get(part.influencer_id, payouts.ZERO),
            "lines": [
                {
                    "id": line.id,
                    "kind": line.kind,
                    "amount": line.amount,
                    "state": line.state,
                    "reason": line.reason,
                    "order_id": line.order_id,
                    "created_at": line.created_at,
                }
                for line in part.lines
            ],
            "store_credit_transaction_id": (
                credits[part.influencer_id].shopify_transaction_id if part.influencer_id in credits else None
            ),
        }
        for part in parts
    ]
    method = None
    if payout.state == "paid":
        method = "store_credit" if credits else "export"
    return {
        "id": payout.id,
        "state": payout.state,
        "period_end": payout.period_end,
        "currency": shop.currency,
        "total": payout.total,
        "method": method,
        "created_at": payout.created_at,
        "paid_at": payout.paid_at,
        "cancelled_at": payout.cancelled_at,
        "rows": rows,
        "below_minimum": [{**who(r.influencer_id), "amount": str(r.amount)} for r in below_minimum or []],
        "without_payout_email": [
            {"influencer_id": r["influencer_id"], "name": r["name"]}
            for r in rows
            if not (r["payout_email"] or "").strip()
        ],
    }


def _answer(payout: Payout, status: int = 200, below_minimum: list[Any] | None = None) -> Any:
    return jsonify(PayoutSchema().dump(payout_dict(payout, below_minimum))), status


@bp.post("/payouts")
@documented(body=PayoutInputSchema, response=PayoutSchema, status=201)
def create_payout() -> Any:
    """Make a payout of every creator owed the shop's minimum in commissions approved by `period_end`."""
    data = PayoutInputSchema().load(json_body())
    db, shop = session(), current_shop()
    today = shop.local_day(utcnow())
    if data["period_end"] > today:
        raise ApiError({"period_end": [f"must be today ({today}) or earlier"]}, 422)
    try:
        made = payouts.make_payout(db, shop, data["period_end"])
    except payouts.PayoutRefused as exc:
        raise ApiError({exc.field: [exc.message]}, 422) from exc
    db.commit()
    return _answer(made.payout, 201, made.below_minimum)


@bp.get("/payouts")
@documented(response=PayoutListSchema)
def list_payouts() -> Any:
    """Every payout of the shop, newest first."""
    found = session().scalars(shop_select(Payout).order_by(Payout.period_end.desc(), Payout.id.desc()))
    items = [payout_dict(p) for p in found]
    return jsonify(PayoutListSchema().dump({"currency": current_shop().currency, "payouts": items}))


@bp.get("/payouts/<int:payout_id>")
@documented(response=PayoutSchema)
def get_payout(payout_id: int) -> Any:
    """One payout: each creator's amount, what was earned and clawed back, and the lines."""
    return _answer(get_owned(Payout, payout_id))


@bp.post("/payouts/<int:payout_id>/paid")
@documented(body=PayoutPaidInputSchema, response=PayoutSchema, errors=(409, 502))
def pay_payout(payout_id: int) -> Any:
    """Mark the payout paid (its lines become paid); paying twice changes nothing. With
    `method: store_credit`, first credit each creator's Shopify customer account."""
    payout = get_owned(Payout, payout_id)
    data = PayoutPaidInputSchema().load(request.get_json(silent=True) or {})
    db = session()
    if payout.state == "open" and data["method"] == "store_credit":
        _pay_in_store_credit(payout)
    try:
        changed = payouts.mark_paid(db, payout)
    except payouts.PayoutRefused as exc:
        raise Conflict({exc.field: [exc.message]}) from exc
    db.commit()
    if not changed:
        log.info("event=payout_paid_again shop=%s payout_id=%s", current_shop().domain, payout.id)
    return _answer(payout)


@bp.post("/payouts/<int:payout_id>/cancel")
@documented(response=PayoutSchema, errors=(409,))
def cancel_payout(payout_id: int) -> Any:
    """Cancel an open payout: its lines go back to approved for a later payout."""
    payout = get_owned(Payout, payout_id)
    db = session()
    if _credits(payout):
        raise Conflict({"state": ["Some creators were already paid in store credit; mark the payout paid instead."]})
    try:
        payouts.cancel(db, payout)
    except payouts.PayoutRefused as exc:
        raise Conflict({exc.field: [exc.message]}) from exc
    db.commit()
    return _answer(payout)


@bp.get("/payouts/<int:payout_id>.csv")
@documented(query=PayoutExportQuerySchema, response_type="text/csv", errors=(409,))
def export_payout(payout_id: int) -> Any:
    """The payout as a file to upload: `paypal` (Payouts Web), `wise` (batch, send by e-mail) or
    `generic`. Creators without a payout e-mail are left out and listed in X-Payout-Left-Out."""
    payout = get_owned(Payout, payout_id)
    args = PayoutExportQuerySchema().load(request.args)
    if payout.state == "cancelled":
        raise Conflict({"state": ["This payout was cancelled: there is nothing to pay."]})
    shop = current_shop()
    parts = payouts.shares(session(), payout)
    creators = _creators({p.influencer_id for p in parts})
    payees = [
        payout_files.Payee(
            influencer_id=p.influencer_id,
            name=creators[p.influencer_id].name if p.influencer_id in creators else "",
            payout_email=creators[p.influencer_id].payout_email if p.influencer_id in creators else None,
            amount=p.amount,
            lines=len(p.lines),
        )
        for p in parts
    ]
    reference = f"payout-{payout.id}"
    file = _export(args["format"], payees, payout, shop, reference)
    name = f"creator-roi-payout-{payout.id}-{payout.period_end}-{args['format']}.csv"
    response = Response(
        file.text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
    response.headers[LEFT_OUT_HEADER] = ",".join(str(p.influencer_id) for p in file.left_out)
    if file.left_out:
        log.info(
            "event=payout_export_left_out shop=%s payout_id=%s creators=%d", shop.domain, payout.id, len(file.left_out)
        )
    return response


def _export(
    kind: str, payees: list[payout_files.Payee], payout: Payout, shop: Shop, reference: str
) -> payout_files.PayoutFile:
    label = shop.name or shop.domain
    if kind == "paypal":
        note = f"{label}: creator payout to {payout.period_end}"
        return payout_files.paypal_csv(payees, currency=shop.currency, reference=reference, note=note)
    if kind == "wise":
        return payout_files.wise_csv(payees, currency=shop.currency, reference=f"Payout {payout.id}")
    return payout_files.generic_csv(
        payees, payout_id=payout.id, period_end=payout.period_end.isoformat(), currency=shop.currency
    )


# --- store credit ----------------------------------------------------------------------------

NO_CUSTOMER = (
    "Store credit goes to the creator's Shopify customer account: set shopify_customer_id on {names} "
    "(or pay this payout by export)."
)
CREDIT_UNAVAILABLE = (
    "Shopify did not answer; {done} of {count} creators were credited and are kept. "
    "Mark the payout paid with store credit again to credit the others."
)
CREDIT_NO_SCOPE = (
    "The app may not give store credit in this store (the “write_store_credit_account_transactions” "
    "permission is missing). Open the app from your Shopify admin and approve it, or pay by export."
)


def _pay_in_store_credit(payout: Payout) -> None:
    """Credit every creator of the payout not credited yet; each credit is kept as soon as
    Shopify confirms it, so a failure halfway is finished by asking again."""
    rt, db, shop = runtime(), session(), current_shop()
    parts = [p for p in payouts.shares(db, payout) if p.amount > 0]
    creators = _creators({p.influencer_id for p in parts})
    missing = [creators[p.influencer_id].name for p in parts if not creators[p.influencer_id].shopify_customer_id]
    if missing:
        raise ApiError({"method": [NO_CUSTOMER.format(names=", ".join(missing))]}, 422)
    done = _credits(payout)
    try:
        token = installation.access_token_for(rt, db, shop)
        db.commit()
        for part in parts:
            if part.influencer_id in done:
                continue
            creator = creators[part.influencer_id]
            transaction = shopify_admin.credit_store_credit(
                rt.admin,
                shop.domain,
                token,
                customer_id=creator.shopify_customer_id,  # type: ignore[arg-type]
                amount=part.amount,
                currency=shop.currency,
            )
            credit = StoreCredit(
                shop_id=shop.id,
                payout_id=payout.id,
                influencer_id=creator.id,
                amount=part.amount,
                currency=shop.currency,
                shopify_transaction_id=transaction.id,
            )
            db.add(credit)
            db.commit()
            done[creator.id] = credit
    except shopify_admin.UserErrors as exc:
        messages = "; ".join(e["message"] for e in exc.errors)
        raise ApiError({"method": [f"Shopify refused the store credit: {messages}"]}, 422) from exc
    except shopify_admin.ShopifyAdminError as exc:
        if exc.status == 403 or "access denied" in exc.message.lower():
            raise ApiError({"method": [CREDIT_NO_SCOPE]}, 502) from exc
        raise ApiError({"method": [CREDIT_UNAVAILABLE.format(done=len(done), count=len(parts))]}, 502) from exc
