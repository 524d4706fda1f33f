"""What creators are paid: their plans, the commission ledger, and payouts.

A `PayPlan` says how a creator (or, with no creator, every creator of the shop
without a plan of their own) is paid from `starts_on` to `ends_on`; an order is
paid under the plan in force on the shop-local day it was placed.

A `CommissionLine` is one event's money for one creator: an order's commission,
a refund's reversal, a clawback, a month's flat fee or bonus, a cap. Its amount
never changes once written (a correction is a new line); only its state moves:

    pending --(holding period over)--> approved --(put in a payout)--> in_payout --(paid)--> paid
    pending | approved | held --(order cancelled)--> reversed
    in_payout --(payout cancelled)--> approved

A refund before payout is a negative `reversal` line in the state of the line it
reverses (so each state's sum is what is really owed in it); a refund after payout
(the line `in_payout` or `paid`) is a negative `clawback` line in state
`clawed_back`, netted against the next payout (which sets its `payout_id`).

`event_key` is unique per shop: a retried or replayed delivery finds its line
already written and adds nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, BigId, utcnow

FLAT_FEE_PERIODS = ("month",)
TIER_METRICS = ("net_revenue", "new_customers")
TIER_MODES = ("marginal", "retroactive")

LINE_STATES = ("pending", "approved", "held", "in_payout", "paid", "reversed", "clawed_back")
# States whose lines are still owed (clawed_back lines not yet netted are subtracted).
OWED_STATES = ("pending", "approved", "held")
# Lines already handed to the creator (or on their way): a refund claws these back.
PAID_OUT_STATES = ("in_payout", "paid")
LINE_KINDS = (
    "commission",  # an order's commission (first order of a customer the creator brought)
    "repeat_commission",  # a repeat order of such a customer, within the plan's repeat months
    "reversal",  # a refund or a change before payout: negative, in the state of what it reverses
    "clawback",  # a refund after payout: negative, clawed_back until a payout nets it
    "adjustment",  # the order's commission recomputed (edited order, attribution moved)
    "flat_fee",  # the plan's fee for a month
    "post_fee",  # the plan's fee for one post
    "bonus",  # a month's tier bonus (kept equal to the tiers' bonus by adjustments)
    "cap",  # negative: what the month's commissions went over the plan's cap
)
PAYOUT_STATES = ("open", "paid", "cancelled")

PERCENT = Numeric(7, 4, asdecimal=True)


class PayPlan(Base):
    __tablename__ = "pay_plans"
    __table_args__ = (Index("ix_pay_plans_shop_influencer_starts", "shop_id", "influencer_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # None: the shop's default, for creators without a plan in force.
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]  # the last day in force; None: open-ended
    flat_fee: Mapped[Decimal | None]
    flat_fee_period: Mapped[str | None] = mapped_column(String(10))  # "month"
    fee_per_post: Mapped[Decimal | None]
    # Percent of the order's commission base (0-100), or a fixed amount per order.
    commission_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    commission_fixed: Mapped[Decimal | None]
    # Repeat orders of customers the creator brought: this percent (None: the first-order
    # rule), for this many months after the customer's first order (0: none; None: lifetime).
    repeat_commission_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    repeat_months: Mapped[int | None] = mapped_column(Integer)
    # [{"metric": "net_revenue" | "new_customers", "threshold": "1000.00", "percent": "5" | "amount": "50.00"}]
    tiers: Mapped[list[Any]] = mapped_column(default=list)
    tier_mode: Mapped[str] = mapped_column(String(12), default="marginal")
    cap: Mapped[Decimal | None]  # most paid in commissions per month
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Payout(Base):
    """A batch paying creators their approved lines up to `period_end`."""

    __tablename__ = "payouts"
    __table_args__ = (Index("ix_payouts_shop_period", "shop_id", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    period_end: Mapped[date]
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | paid | cancelled
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class CommissionLine(Base):
    __tablename__ = "commission_lines"
    __table_args__ = (
        UniqueConstraint("shop_id", "event_key", name="uq_commission_lines_shop_event"),
        Index("ix_commission_lines_shop_influencer_state", "shop_id", "influencer_id", "state"),
        Index("ix_commission_lines_shop_state_approves", "shop_id", "state", "approves_at"),
        Index("ix_commission_lines_shop_order", "shop_id", "order_id"),
        Index("ix_commission_lines_shop_earned", "shop_id", "earned_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("pay_plans.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id", ondelete="SET NULL"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]  # shop currency, signed
    # The order's commission base it was computed from, and the presentment amount beside.
    base: Mapped[Decimal | None]
    presentment_amount: Mapped[Decimal | None]
    presentment_currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str] = mapped_column(String(255), default="")
    # e.g. "order:123:commission", "refund:456", "fee:7:2026-12"; unique per shop.
    event_key: Mapped[str] = mapped_column(String(120))
    # The shop-local day the money belongs to (the order's day, the month's first day):
    # where it lands as cost, and which month's cap and tiers it counts towards.
    earned_on: Mapped[date]
    approves_at: Mapped[datetime | None]  # when a pending line becomes approved
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
