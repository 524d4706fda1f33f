"""The Payouts page of the embedded admin (/app/payouts) and the pay summary on a creator's page.

Its routes join the admin blueprint (so its headers, helpers and navigation apply); create_app
imports this module before registering that blueprint. Figures come from `roi.payouts` over the
ledger's lines; every button writes through the JSON API (/api/v1/payouts...), as the other pages do.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import CommissionLine, Influencer, Payout, PayPlan, Shop, utcnow
from plugin import commissions
from plugin.admin import bp, page
from plugin.auth import page_auth_required
from plugin.database import current_shop, session, shop_select
from roi import pay
from roi import payouts as rules
from worker.ledger import dated
from worker.payouts import rule_lines

HISTORY = 50


def next_payout(db: Session, shop: Shop, period_end: date) -> rules.Batch:
    """Who a payout made now for `period_end` would pay, and who would wait (nothing is written)."""
    lines = list(
        db.scalars(shop_select(CommissionLine).where(CommissionLine.state.in_(("approved", "clawed_back", "held"))))
    )
    return rules.gather(rule_lines(lines, shop), period_end, shop.settings.payout_minimum)


@bp.get("/app/payouts")
@page_auth_required
def payouts_page() -> Any:
    from plugin.api.payouts import payout_dict

    db, shop = session(), current_shop()
    today = shop.local_day(utcnow())
    recent = list(db.scalars(shop_select(Payout).order_by(Payout.created_at.desc(), Payout.id.desc()).limit(HISTORY)))
    open_payouts = [payout_dict(p) for p in recent if p.state == "open"]
    history = [p for p in recent if p.state != "open"]
    counts = dict(
        db.execute(
            select(CommissionLine.payout_id, func.count(func.distinct(CommissionLine.influencer_id)))
            .where(CommissionLine.shop_id == shop.id, CommissionLine.payout_id.in_([p.id for p in history] or [0]))
            .group_by(CommissionLine.payout_id)
        ).all()
    )
    preview = next_payout(db, shop, today)
    names = dict(db.execute(shop_select(Influencer).with_only_columns(Influencer.id, Influencer.name)).all())
    return page(
        "admin/payouts.html",
        open_payouts=open_payouts,
        history=history,
        creators_paid=counts,
        preview=preview,
        names=names,
        minimum=shop.settings.payout_minimum,
        holding_days=shop.settings.holding_days,
        today=today.isoformat(),
        title="Payouts",
    )


# --- the creator page's pay summary ----------------------------------------------------------------


def plan_in_force(db: Session, shop: Shop, influencer_id: int, day: date) -> PayPlan | None:
    """The creator's own plan in force on `day`, else the shop's default: the rule the ledger
    pays orders under (`roi.pay.plan_for_day`)."""
    plans = {
        plan.id: plan
        for plan in db.scalars(
            shop_select(PayPlan).where((PayPlan.influencer_id == influencer_id) | PayPlan.influencer_id.is_(None))
        )
    }
    own = [dated(p) for p in plans.values() if p.influencer_id is not None]
    default = [dated(p) for p in plans.values() if p.influencer_id is None]
    chosen = pay.plan_for_day(own, default, day)
    return None if chosen is None else plans[chosen.id]


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def plan_words(plan: PayPlan | None, money: Any) -> list[str]:
    """The plan as the merchant set it, one phrase per part ("10% of net sales", "$200.00 a month")."""
    if plan is None:
        return []
    words = []
    if plan.commission_percent is not None:
        words.append(f"{_percent(plan.commission_percent)} of each order's net merchandise")
    if plan.commission_fixed is not None:
        words.append(f"{money(plan.commission_fixed)} per order")
    if plan.repeat_commission_percent is not None:
        months = "for life" if plan.repeat_months is None else f"for {plan.repeat_months} months"
        words.append(f"{_percent(plan.repeat_commission_percent)} on repeat orders {months}")
    elif plan.repeat_months == 0:
        words.append("first orders only")
    if plan.flat_fee is not None:
        words.append(f"{money(plan.flat_fee)} a month")
    if plan.fee_per_post is not None:
        words.append(f"{money(plan.fee_per_post)} per approved post")
    if plan.tiers:
        words.append(f"{len(plan.tiers)} bonus tier{'s' if len(plan.tiers) != 1 else ''} ({plan.tier_mode})")
    if plan.cap is not None:
        words.append(f"capped at {money(plan.cap)} a month")
    return words


@bp.app_template_global("creator_pay")
def creator_pay(influencer_id: int) -> dict[str, Any]:
    """For the creator page's pay block (admin/creator_pay.html), read when it is drawn."""
    from plugin import display

    shop = current_shop()
    return pay_summary(session(), shop, influencer_id, lambda value: display.money(value, shop.currency))


def pay_summary(db: Session, shop: Shop, influencer_id: int, money: Any) -> dict[str, Any]:
    """The creator page's pay block: the plan in force, owed, held and paid."""
    today = shop.local_day(utcnow())
    plan = plan_in_force(db, shop, influencer_id, today)
    from plugin.statement_tokens import live_link

    link = live_link(db, shop.id, influencer_id)
    return {
        "plan": plan,
        "plan_is_default": plan is not None and plan.influencer_id is None,
        "plan_words": plan_words(plan, money),
        "own_plan": plan if plan is not None and plan.influencer_id is not None else None,
        "today": today,
        # Ending the creator's plan the day before a plan starting today takes over (not before its start).
        "end_default": max(today - timedelta(days=1), plan.starts_on) if plan is not None else today,
        # The same sums as GET /api/v1/commissions?influencer_id=…
        "totals": commissions.totals(db, shop.id, commissions.LedgerFilter(influencer_id)),
        "statement_expires_at": link.expires_at if link else None,
        "statement_viewed_at": link.last_viewed_at if link else None,
    }
