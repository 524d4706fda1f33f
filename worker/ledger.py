"""The commission ledger kept in step with stored orders, refunds and attributions.

Invariant: for every order, the lines of each creator add up (states `reversed`
aside) to what `roi.pay` says the creator is owed for it now, computed from the
stored rows — the order, its refunds, its attribution and the plan in force on
its day — never from the delivery at hand. A line once written keeps its amount;
what changed since is a new line (a refund's reversal, a clawback, an adjustment),
each under a key unique per shop, so a retried delivery writes nothing twice and
replaying the same deliveries in any order leaves the same sums per creator and
state (tests/test_ledger_property.py holds it).

Where a new line lands: a refund or a correction of money not yet paid out is a
`reversal` in the state of the order's commission line (pending, approved or held:
each state's sum is then what is owed in it); of money already in a payout or paid
it is a `clawback`, state `clawed_back`, until a payout nets it. A cancelled order's
unpaid lines become `reversed`; what of it was paid out is clawed back. Test orders,
and orders whose money could not be read, never pay.

Months: a plan's tier bonus and cap are settled per (creator, month) by the same
rule, a month's `bonus` and `cap` lines kept equal to what the month's stored lines
and sales say (`settle_months`). Flat fees per month and per post, and approving
lines past the shop's holding period, are the sweep's (`settle_fees`, `approve_due`).

Lines land in the rollups as the creator's cost on the order's day (`earned_on`):
the cells of every line written go to the batch, refreshed with its other cells.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Attribution, CommissionLine, Order, PayPlan, Post, Refund, ShopSettings
from models.db import dialect_insert, utcnow
from models.pay import OWED_STATES, PAID_OUT_STATES
from roi import pay
from worker.batch import Batch, Cell, ShopContext, shop_context

log = logging.getLogger("creator_roi.ledger")

ZERO = Decimal("0.00")
ORDER_KINDS = ("commission", "repeat_commission", "reversal", "clawback", "adjustment")
MONTH_KINDS = ("bonus", "cap")
DEFAULT_HOLDING_DAYS = 30


# --- plans ----------------------------------------------------------------------------


def terms_of(plan: PayPlan) -> pay.Terms:
    return pay.Terms(
        commission_percent=plan.commission_percent,
        commission_fixed=plan.commission_fixed,
        repeat_commission_percent=plan.repeat_commission_percent,
        repeat_months=plan.repeat_months,
        tiers=tuple(
            pay.Tier(
                metric=t["metric"],
                threshold=Decimal(str(t["threshold"])),
                percent=None if t.get("percent") is None else Decimal(str(t["percent"])),
                amount=None if t.get("amount") is None else Decimal(str(t["amount"])),
            )
            for t in plan.tiers or ()
        ),
        tier_mode=plan.tier_mode or "marginal",
        cap=plan.cap,
        flat_fee=plan.flat_fee,
        fee_per_post=plan.fee_per_post,
    )


def dated(plan: PayPlan) -> pay.Dated:
    return pay.Dated(plan.id, plan.starts_on, plan.ends_on)


@dataclass
class ShopPay:
    """A shop's plans and holding period, read once per batch."""

    ctx: ShopContext
    holding_days: int
    plans: dict[int, PayPlan]
    own: dict[int, list[pay.Dated]] = field(default_factory=dict)
    default: list[pay.Dated] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, ctx: ShopContext) -> ShopPay:
        holding = session.scalar(select(ShopSettings.holding_days).where(ShopSettings.shop_id == ctx.shop_id))
        plans = {p.id: p for p in session.scalars(select(PayPlan).where(PayPlan.shop_id == ctx.shop_id))}
        found = cls(ctx, DEFAULT_HOLDING_DAYS if holding is None else holding, plans)
        for plan in sorted(plans.values(), key=lambda p: (p.starts_on, p.id)):
            if plan.influencer_id is None:
                found.default.append(dated(plan))
            else:
                found.own.setdefault(plan.influencer_id, []).append(dated(plan))
        return found

    def plan_on(self, influencer_id: int, day: date) -> PayPlan | None:
        chosen = pay.plan_for_day(self.own.get(influencer_id, []), self.default, day)
        return None if chosen is None else self.plans[chosen.id]

    def approves_at(self, moment: datetime) -> datetime:
        return moment + timedelta(days=self.holding_days)


def creators_on_plans(session: Session, shop_id: int) -> set[int] | None:
    """Creators whose commission the ledger pays (the ones with a plan of their own); None
    when the shop has a default plan, which covers every creator."""
    rows = session.execute(select(PayPlan.influencer_id).where(PayPlan.shop_id == shop_id).distinct()).scalars()
    found: set[int] = set()
    for influencer_id in rows:
        if influencer_id is None:
            return None
        found.add(influencer_id)
    return found


# --- writing lines ----------------------------------------------------------------------


@dataclass
class Writer:
    """Lines to insert and states to change, gathered then written in two statements."""

    shop_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    reversed_ids: list[int] = field(default_factory=list)
    cells: set[Cell] = field(default_factory=set)

    def add(self, influencer_id: int, earned_on: date, *, money: pay.OrderMoney | None = None, **values: Any) -> None:
        """A line to insert; `money`: the order's, to show the amount in the buyer's currency beside."""
        now = utcnow()
        row: dict[str, Any] = {
            "shop_id": self.shop_id,
            "influencer_id": influencer_id,
            "earned_on": earned_on,
            "plan_id": None,
            "order_id": None,
            "refund_id": None,
            "payout_id": None,
            "post_id": None,
            "base": None,
            "presentment_amount": None,
            "presentment_currency": None,
            "approves_at": None,
            "approved_at": None,
            "reason": "",
            "created_at": now,
            "updated_at": now,
            **values,
        }
        shown = pay.presentment_amount(row["amount"], money) if money is not None else None
        if shown is not None:
            row["presentment_amount"], row["presentment_currency"] = shown
        self.rows.append(row)
        self.cells.add((influencer_id, earned_on))

    def reverse(self, line: CommissionLine) -> None:
        self.reversed_ids.append(line.id)
        self.cells.add((line.influencer_id, line.earned_on))

    def flush(self, session: Session) -> int:
        if self.reversed_ids:
            session.execute(
                update(CommissionLine)
                .where(CommissionLine.id.in_(self.reversed_ids))
                .values(state="reversed", updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        if self.rows:
            statement = dialect_insert(session.get_bind().dialect.name, CommissionLine.__table__)
            session.execute(statement.on_conflict_do_nothing(index_elements=["shop_id", "event_key"]), self.rows)
        written = len(self.rows) + len(self.reversed_ids)
        self.rows, self.reversed_ids = [], []
        return written


def _net(lines: Iterable[CommissionLine]) -> Decimal:
    return sum((line.amount for line in lines if line.state != "reversed"), ZERO)


def _take_back(
    writer: Writer,
    lines: Sequence[CommissionLine],
    amount: Decimal,
    key: str,
    reason: str,
    *,
    influencer_id: int,
    earned_on: date,
    state: str,
    approves_at: datetime | None,
    **values: Any,
) -> list[CommissionLine]:
    """Write `amount` (< 0) against the creator's lines of one order or month: as a `reversal`
    in `state` from what is not paid out, the rest as a `clawback` the next payout nets.
    Stand-ins for the lines written."""
    written = []
    paid_out = sum((line.amount for line in lines if line.state in (*PAID_OUT_STATES, "clawed_back")), ZERO)
    not_paid = sum((line.amount for line in lines), ZERO) - paid_out
    from_unpaid = max(amount, -max(not_paid, ZERO))
    rest = amount - from_unpaid
    if from_unpaid:
        writer.add(
            influencer_id,
            earned_on,
            kind="reversal",
            amount=from_unpaid,
            state=state,
            approves_at=approves_at,
            approved_at=utcnow() if state == "approved" else None,
            event_key=key,
            reason=reason,
            **values,
        )
        written.append(_written(influencer_id, from_unpaid, state))
    if rest:
        writer.add(
            influencer_id,
            earned_on,
            kind="clawback",
            amount=rest,
            state="clawed_back",
            event_key=key + ":clawback",
            reason=reason + " (after payout)",
            **values,
        )
        written.append(_written(influencer_id, rest, "clawed_back"))
    return written


def _written(influencer_id: int, amount: Decimal, state: str) -> CommissionLine:
    """A stand-in for a line written in this pass, so the steps after it count it."""
    return CommissionLine(influencer_id=influencer_id, amount=amount, state=state, event_key="")


# --- orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPay:
    """What an order pays, as stored now."""

    influencer_id: int | None
    plan: PayPlan | None
    kind: str  # commission | repeat_commission
    commission: Decimal
    base: Decimal
    cancelled: bool


def _order_pay(
    session: Session, shop_pay: ShopPay, order: Order, attribution: Attribution | None, lines: Sequence[CommissionLine]
) -> OrderPay:
    base = order.subtotal if order.subtotal is not None else ZERO
    cancelled = order.cancelled_at is not None or order.financial_status == "voided"
    # Test orders and orders whose money could not be read never pay.
    if order.test or order.flagged or order.subtotal is None or attribution is None:
        return OrderPay(None, None, "commission", ZERO, base, cancelled)
    if attribution.kind in ("first", "repeat") and attribution.influencer_id is not None:
        creator, repeat, acquired_at = attribution.influencer_id, attribution.kind == "repeat", attribution.acquired_at
    else:
        # Cancelled or refunded in full, the order converts no more, yet what it earned is
        # what its reversals start from: the creator it would have gone to, judged from the
        # stored rows as the engine judges (so however the deliveries were ordered).
        would_be = _would_be(session, shop_pay.ctx, order, attribution)
        if would_be is None:
            return OrderPay(None, None, "commission", ZERO, base, cancelled)
        creator, repeat, acquired_at = would_be
    kind = "repeat_commission" if repeat else "commission"
    plan = shop_pay.plan_on(creator, shop_pay.ctx.day(order.placed_at))
    if plan is None:
        return OrderPay(creator, None, kind, ZERO, base, cancelled)
    terms = terms_of(plan)
    if repeat and not pay.repeat_is_paid(terms.repeat_months, acquired_at, order.placed_at):
        return OrderPay(creator, plan, kind, ZERO, base, cancelled)
    return OrderPay(creator, plan, kind, pay.order_commission(terms, base, repeat=repeat), base, cancelled)


def _would_be(
    session: Session, ctx: ShopContext, order: Order, attribution: Attribution
) -> tuple[int, bool, datetime | None] | None:
    """(creator, repeat, acquired at) an order that no longer converts would have had, as the
    engine judges: a repeat of the customer's creator inside the repeat window, else the
    evidence that matched first."""
    if order.shopify_customer_id is not None:
        before = session.execute(
            select(Attribution.influencer_id, Attribution.acquired_at)
            .join(Order, Order.id == Attribution.order_id)
            .where(
                Order.shop_id == order.shop_id,
                Order.shopify_customer_id == order.shopify_customer_id,
                Order.placed_at < order.placed_at,
                Attribution.kind.in_(("first", "repeat")),
                Attribution.influencer_id.is_not(None),
            )
            .order_by(Order.placed_at.desc(), Order.shopify_id.desc())
            .limit(1)
        ).first()
        if before is not None and before.acquired_at is not None:
            window = timedelta(days=ctx.settings.repeat_window_days)
            if timedelta(0) <= order.placed_at - before.acquired_at <= window:
                return int(before.influencer_id), True, before.acquired_at
    decisive = next((e for e in attribution.evidence or () if e.get("matched") and e.get("influencer_id")), None)
    if decisive is None:
        return None
    return int(decisive["influencer_id"]), False, order.placed_at


def _refund_key(refund: Refund) -> tuple[datetime, int]:
    return (refund.processed_at or refund.created_at or datetime.min.replace(tzinfo=UTC), refund.shopify_id)


def _settle_creator(
    writer: Writer,
    shop_pay: ShopPay,
    order: Order,
    influencer_id: int,
    target: OrderPay,
    refunds: Sequence[Refund],
    lines: list[CommissionLine],
) -> None:
    """Bring one creator's lines of one order to what the order pays them now."""
    day = shop_pay.ctx.day(order.placed_at)
    keys = {line.event_key for line in lines}
    ours = target.influencer_id == influencer_id
    commission = target.commission if ours else ZERO
    prefix = f"order:{order.id}:{influencer_id}"
    common: dict[str, Any] = {
        "order_id": order.id,
        "plan_id": target.plan.id if ours and target.plan else None,
        "money": pay.OrderMoney(target.base, order.currency, order.presentment_subtotal, order.presentment_currency),
    }
    anchor = next((line for line in lines if line.event_key == prefix), None)
    holding_ends = anchor.approves_at if anchor is not None else shop_pay.approves_at(order.placed_at)

    if commission > 0 and anchor is None:
        state = "reversed" if target.cancelled else "pending"
        writer.add(
            influencer_id,
            day,
            kind=target.kind,
            amount=commission,
            base=target.base,
            state=state,
            approves_at=holding_ends,
            event_key=prefix,
            reason=_commission_reason(target),
            **common,
        )
        anchor = _written(influencer_id, commission, state)
        lines = [*lines, anchor]

    # Money not paid out is taken back in the commission line's state (reversed once cancelled).
    if target.cancelled:
        state = "reversed"
    else:
        state = anchor.state if anchor is not None and anchor.state in OWED_STATES else "pending"

    # Refunds not yet reversed, in the order Shopify processed them, after those already reversed.
    if commission > 0:
        done = [r for r in refunds if f"refund:{r.id}:{influencer_id}" in keys]
        new = [r for r in refunds if f"refund:{r.id}:{influencer_id}" not in keys]
        before = sum((r.merchandise for r in done), ZERO)
        amounts = pay.refund_reversals(commission, target.base, [before, *(r.merchandise for r in new)])[1:]
        for refund, amount in zip(new, amounts):
            if not amount:
                continue
            lines = lines + _take_back(
                writer,
                lines,
                amount,
                f"refund:{refund.id}:{influencer_id}",
                f"refund: {refund.merchandise} of {target.base} refunded",
                influencer_id=influencer_id,
                earned_on=day,
                state=state,
                approves_at=holding_ends,
                refund_id=refund.id,
                **common,
            )

    if target.cancelled:
        for line in lines:
            if line.state in OWED_STATES and line.id is not None:
                writer.reverse(line)
        # What is reversed is what the order earned and was not paid out: a cancelled order
        # whose creator changed since (a moved attribution) moves its reversed amount too.
        refunded = sum((r.merchandise for r in refunds), ZERO)
        due = commission + pay.refund_reversals(commission, target.base, [refunded])[0]
        handed = sum((line.amount for line in lines if line.state in PAID_OUT_STATES), ZERO)
        now_reversed = sum((line.amount for line in lines if line.state in (*OWED_STATES, "reversed")), ZERO)
        moved = (max(due - handed, ZERO) if ours else ZERO) - now_reversed
        if moved:
            writer.add(
                influencer_id,
                day,
                kind="adjustment",
                amount=moved,
                state="reversed",
                event_key=f"{prefix}:adjust:{_count(keys, prefix + ':adjust')}",
                reason="cancelled order's commission recomputed",
                **common,
            )
        paid_out = sum((line.amount for line in lines if line.state in (*PAID_OUT_STATES, "clawed_back")), ZERO)
        if paid_out > 0:
            writer.add(
                influencer_id,
                day,
                kind="clawback",
                amount=-paid_out,
                state="clawed_back",
                event_key=f"{prefix}:cancelled:{_count(keys, prefix + ':cancelled')}",
                reason="order cancelled after payout",
                **common,
            )
        return

    # Whatever is still off (an edited order, a moved attribution, a changed plan): one adjustment.
    refunded = sum((r.merchandise for r in refunds), ZERO)
    due = commission + pay.refund_reversals(commission, target.base, [refunded])[0]
    delta = due - _net(lines)
    if delta == 0:
        return
    key = f"{prefix}:adjust:{_count(keys, prefix + ':adjust')}"
    if delta > 0:
        writer.add(
            influencer_id,
            day,
            kind="adjustment",
            amount=delta,
            base=target.base,
            state="pending",
            approves_at=holding_ends,
            event_key=key,
            reason="commission recomputed",
            **common,
        )
    else:
        _take_back(
            writer,
            lines,
            delta,
            key,
            "commission recomputed" if ours else "order no longer attributed to this creator",
            influencer_id=influencer_id,
            earned_on=day,
            state=state,
            approves_at=holding_ends,
            **common,
        )


def _count(keys: set[str], prefix: str) -> int:
    return sum(1 for key in keys if key.startswith(prefix))


def _commission_reason(target: OrderPay) -> str:
    plan = target.plan
    if plan is None:
        return ""
    what = "repeat order" if target.kind == "repeat_commission" else "order"
    if target.kind == "repeat_commission" and plan.repeat_commission_percent is not None:
        return f"{what}: {plan.repeat_commission_percent.normalize():f} % of {target.base}"
    if plan.commission_percent is not None:
        return f"{what}: {plan.commission_percent.normalize():f} % of {target.base}"
    return f"{what}: fixed {plan.commission_fixed}"


def settle_orders(session: Session, ctx: ShopContext, order_ids: Iterable[int], *, every: bool = False) -> set[Cell]:
    """Bring the ledger lines of the given orders in step with the stored rows; the cells
    (creator, day) whose lines changed. `every`: their months too, whatever the plan."""
    ids = sorted(set(order_ids))
    if not ids:
        return set()
    shop_pay = ShopPay.load(session, ctx)
    existing = _lines_of_orders(session, ctx.shop_id, ids)
    if not shop_pay.plans and not existing:
        return set()  # nothing was ever owed, and nothing can be
    rows = session.execute(
        select(Order, Attribution)
        .outerjoin(Attribution, Attribution.order_id == Order.id)
        .where(Order.shop_id == ctx.shop_id, Order.id.in_(ids))
    ).all()
    refunds = _refunds_of(session, ctx.shop_id, [order.shopify_id for order, _ in rows])
    writer = Writer(ctx.shop_id)
    months: set[tuple[int, date]] = set()
    for order, attribution in rows:
        lines = existing.get(order.id, [])
        target = _order_pay(session, shop_pay, order, attribution, lines)
        by_creator: dict[int, list[CommissionLine]] = defaultdict(list)
        for line in lines:
            by_creator[line.influencer_id].append(line)
        creators = set(by_creator) | ({target.influencer_id} if target.influencer_id is not None else set())
        order_refunds = sorted(refunds.get(order.shopify_id, []), key=_refund_key)
        over = pay.refunds_over_base(target.base, (r.merchandise for r in order_refunds))
        if over and target.commission:
            log.info("event=refund_over_order shop_id=%s order_id=%s over=%s", ctx.shop_id, order.id, over)
        for influencer_id in sorted(creators):
            _settle_creator(writer, shop_pay, order, influencer_id, target, order_refunds, by_creator[influencer_id])
            months.add((influencer_id, pay.month_start(ctx.day(order.placed_at))))
    cells = set(writer.cells)
    written = writer.flush(session)
    if written:
        session.flush()
    cells |= settle_months(session, shop_pay, months, every=every)
    if written:
        log.info("event=ledger_settled shop_id=%s orders=%s lines=%s", ctx.shop_id, len(ids), written)
    return cells


def _lines_of_orders(session: Session, shop_id: int, ids: Sequence[int]) -> dict[int, list[CommissionLine]]:
    found: dict[int, list[CommissionLine]] = defaultdict(list)
    for start in range(0, len(ids), 1000):
        for line in session.scalars(
            select(CommissionLine).where(
                CommissionLine.shop_id == shop_id, CommissionLine.order_id.in_(ids[start : start + 1000])
            )
        ):
            found[line.order_id or 0].append(line)
    return found


def _refunds_of(session: Session, shop_id: int, shopify_order_ids: Sequence[int]) -> dict[int, list[Refund]]:
    found: dict[int, list[Refund]] = defaultdict(list)
    ids = sorted(set(shopify_order_ids))
    for start in range(0, len(ids), 1000):
        for refund in session.scalars(
            select(Refund).where(Refund.shop_id == shop_id, Refund.shopify_order_id.in_(ids[start : start + 1000]))
        ):
            found[refund.shopify_order_id].append(refund)
    return found


def settle_batch(session: Session, batch: Batch) -> None:
    """Settle the orders the batch's attributions looked at; their cells join the batch's."""
    pending, batch.pay_orders = batch.pay_orders, defaultdict(set)
    for shop_id, order_ids in sorted(pending.items()):
        batch.cells[shop_id] |= settle_orders(session, batch.context(session, shop_id), order_ids)


# --- months: tier bonuses and caps --------------------------------------------------------


def _month_bounds(ctx: ShopContext, month: date) -> tuple[datetime, datetime]:
    return ctx.bounds(month)[0], ctx.bounds(pay.month_end(month))[1]


def settle_months(
    session: Session, shop_pay: ShopPay, months: Iterable[tuple[int, date]], *, every: bool = False
) -> set[Cell]:
    """Keep each (creator, month)'s bonus and cap lines equal to what its plan's tiers and
    cap say of the month's stored sales and commission lines. A drain settles only months
    whose plan has tiers or a cap (the others have nothing to settle, and a drain is hot);
    `every` (a settle of the whole shop, after a plan changed) settles them all."""
    ctx = shop_pay.ctx
    writer = Writer(ctx.shop_id)
    for influencer_id, month in sorted(set(months)):
        plan = shop_pay.plan_on(influencer_id, pay.month_end(month)) or shop_pay.plan_on(influencer_id, month)
        if not every and (plan is None or not (plan.tiers or plan.cap is not None)):
            continue
        lines = list(
            session.scalars(
                select(CommissionLine).where(
                    CommissionLine.shop_id == ctx.shop_id,
                    CommissionLine.influencer_id == influencer_id,
                    CommissionLine.earned_on >= month,
                    CommissionLine.earned_on <= pay.month_end(month),
                    CommissionLine.kind.in_((*ORDER_KINDS, *MONTH_KINDS)),
                )
            )
        )
        month_lines = [line for line in lines if line.kind in MONTH_KINDS]
        if plan is None and not month_lines:
            continue
        terms = terms_of(plan) if plan is not None else pay.Terms()
        bonus = ZERO
        if terms.tiers:
            start, end = _month_bounds(ctx, month)
            revenue, customers = session.execute(
                select(
                    func.coalesce(func.sum(Attribution.net), 0),
                    func.count().filter(Attribution.kind == "first"),
                ).where(
                    Attribution.shop_id == ctx.shop_id,
                    Attribution.influencer_id == influencer_id,
                    Attribution.kind.in_(("first", "repeat")),
                    Attribution.placed_at >= start,
                    Attribution.placed_at < end,
                )
            ).one()
            bonus = pay.tier_bonus(terms.tiers, terms.tier_mode, Decimal(revenue), int(customers or 0))
        commissions = _net(line for line in lines if line.kind in ORDER_KINDS)
        cut = pay.cap_cut(commissions + bonus, terms.cap)
        label = month.strftime("%Y-%m")
        approves = shop_pay.approves_at(_month_bounds(ctx, month)[1])
        # On the month's first day in force: a plan starting mid-month keeps its month's lines
        # inside its own days (and inside a report that starts with it).
        earned = max(month, plan.starts_on) if plan is not None else month
        for kind, due in (("bonus", bonus), ("cap", cut)):
            mine = [line for line in month_lines if line.kind == kind]
            delta = due - _net(mine)
            if not delta:
                continue
            key = f"{kind}:{influencer_id}:{label}:{len(mine)}"
            reason = f"{label} tier bonus" if kind == "bonus" else f"{label} over the cap of {terms.cap}"
            unpaid = sum((line.amount for line in mine if line.state in OWED_STATES), ZERO)
            paid_out = kind == "bonus" and delta < 0 and unpaid < -delta
            writer.add(
                influencer_id,
                earned,
                kind=kind,
                amount=delta,
                state="clawed_back" if paid_out else "pending",
                approves_at=None if paid_out else approves,
                plan_id=plan.id if plan is not None else None,
                event_key=key,
                reason=reason,
            )
    cells = set(writer.cells)
    if writer.flush(session):
        session.flush()
    return cells


# --- the sweep: fees and approvals ----------------------------------------------------------


def settle_fees(session: Session, shop_id: int, today: date) -> set[Cell]:
    """Write each plan's monthly fee (prorated to its days in force) for every month begun
    up to `today`, and its fee for every post made while it was in force."""
    ctx = shop_context(session, shop_id)
    shop_pay = ShopPay.load(session, ctx)
    writer = Writer(shop_id)
    keys = set(
        session.scalars(
            select(CommissionLine.event_key).where(
                CommissionLine.shop_id == shop_id, CommissionLine.kind.in_(("flat_fee", "post_fee"))
            )
        )
    )
    for plan in shop_pay.plans.values():
        if plan.influencer_id is None:
            continue  # a default plan's fees would pay every creator: fees are per creator
        if plan.flat_fee:
            for month in pay.months_in_force(dated(plan), today):
                key = f"fee:{plan.id}:{month:%Y-%m}"
                amount = pay.flat_fee_for_month(plan.flat_fee, dated(plan), month)
                if key in keys or not amount:
                    continue
                earned = max(month, plan.starts_on)
                writer.add(
                    plan.influencer_id,
                    earned,
                    kind="flat_fee",
                    amount=amount,
                    state="pending",
                    approves_at=_month_bounds(ctx, month)[1],
                    plan_id=plan.id,
                    event_key=key,
                    reason=f"{month:%Y-%m} fee",
                )
        if plan.fee_per_post:
            start = ctx.bounds(plan.starts_on)[0]
            posts = select(Post.id, Post.posted_at).where(
                Post.shop_id == shop_id, Post.influencer_id == plan.influencer_id, Post.posted_at >= start
            )
            if plan.ends_on is not None:
                posts = posts.where(Post.posted_at < ctx.bounds(plan.ends_on)[1])
            for post_id, posted_at in session.execute(posts):
                key = f"post:{post_id}"
                if key in keys or ctx.day(posted_at) > today:
                    continue
                keys.add(key)
                writer.add(
                    plan.influencer_id,
                    ctx.day(posted_at),
                    kind="post_fee",
                    amount=plan.fee_per_post,
                    state="pending",
                    approves_at=posted_at,
                    plan_id=plan.id,
                    post_id=post_id,
                    event_key=key,
                    reason="fee per post",
                )
    cells = set(writer.cells)
    writer.flush(session)
    return cells


def approve_due(session: Session, now: datetime, shop_id: int | None = None) -> int:
    """Pending lines past their holding period become approved; how many."""
    statement = (
        update(CommissionLine)
        .where(CommissionLine.state == "pending", CommissionLine.approves_at <= now)
        .values(state="approved", approved_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if shop_id is not None:
        statement = statement.where(CommissionLine.shop_id == shop_id)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def shops_with_plans(session: Session) -> list[int]:
    return list(session.scalars(select(PayPlan.shop_id).distinct().order_by(PayPlan.shop_id)))


def settle_all_orders(session: Session, shop_id: int) -> set[Cell]:
    """Every order of the shop (a rebuild, or plans set after the orders came)."""
    ctx = shop_context(session, shop_id)
    ids = list(session.scalars(select(Order.id).where(Order.shop_id == shop_id).order_by(Order.id)))
    cells: set[Cell] = set()
    for start in range(0, len(ids), 2000):
        cells |= settle_orders(session, ctx, ids[start : start + 2000], every=True)
    return cells
