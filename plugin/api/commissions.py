"""The commission ledger: /api/v1/commissions. Every line (an order's commission, a refund's
reversal, a clawback, a fee, a bonus, a cap) with its state, and the totals per state; the
totals follow the creator and period asked for, whatever `state` the lines are filtered by."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from plugin import commissions
from plugin.api import bp
from plugin.api.codes import owned_influencer
from plugin.api.openapi import documented
from plugin.database import current_shop, session
from plugin.schemas.pay import CommissionQuerySchema, CommissionsSchema


@bp.get("/commissions")
@documented(query=CommissionQuerySchema, response=CommissionsSchema)
def list_commissions() -> Any:
    """Ledger lines, newest day first; filter by influencer_id, state, from and to (the day earned)."""
    args = CommissionQuerySchema().load(request.args)
    if "influencer_id" in args:
        owned_influencer(args["influencer_id"])
    shop = current_shop()
    where = commissions.LedgerFilter(args.get("influencer_id"), args.get("from_"), args.get("to"))
    db = session()
    body = {
        "currency": shop.currency,
        "totals": commissions.totals(db, shop.id, where),
        "lines": commissions.lines(db, shop.id, where, args.get("state")),
    }
    return jsonify(CommissionsSchema().dump(body))
