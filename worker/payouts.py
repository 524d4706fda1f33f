"""Payout batches in the database: made from the ledger, marked paid, cancelled.

`roi.payouts.gather` decides which lines a payout takes; this module moves them. Made, a payout's
approved lines go `in_payout` and its clawbacks are netted (their `payout_id` set); paid, those
lines go `paid`; cancelled, they go back to `approved` and the clawbacks wait for the next
payout. Every move is a state change, never a new amount, and paying or cancelling twice changes
nothing. A creator's amount in a payout is always the sum of the lines carrying its id.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import CommissionLine, Payout, Shop, utcnow
from roi import payouts as rules

log = logging.getLogger("creator_roi.payouts")

ZERO = Decimal("0.00")


class PayoutRefused(Exception):
    """The payout cannot make this move (e.g. cancel a paid payout); `field` names why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Made:
    payout: Payout
    below_minimum: list[rules.Row] = field(default_factory=list)


def rule_lines(lines: Iterable[CommissionLine], shop: Shop) -> list[rules.Line]:
    """Ledger lines as `roi.payouts` reads them: the day each was approved is the shop's day."""
    return [
        rules.Line(
            id=line.id,
            influencer_id=line.influencer_id,
            amount=line.amount,
            state=line.state,
            approved_on=shop.local_day(line.approved_at) if line.approved_at else None,
            netted=line.payout_id is not None,
        )
        for line in lines
    ]


def _ledger_lines(db: Session, shop: Shop) -> list[CommissionLine]:
    query = select(CommissionLine).where(
        CommissionLine.shop_id == shop.id,
        CommissionLine.state.in_(("approved", "clawed_back", "held")),
    )
    if db.get_bind().dialect.name == "postgresql":
        # Two payouts made at once must not take the same lines.
        query = query.with_for_update()
    return list(db.scalars(query))


def make_payout(db: Session, shop: Shop, period_end: date, now: datetime | None = None) -> Made:
    """A payout of every creator owed the shop's minimum for lines approved by `period_end`.
    Nothing is written when no creator reaches the minimum (PayoutRefused on `period_end`)."""
    lines = _ledger_lines(db, shop)
    by_id = {line.id: line for line in lines}
    batch = rules.gather(rule_lines(lines, shop), period_end, shop.settings.payout_minimum)
    if not batch.rows:
        raise PayoutRefused(
            "period_end",
            f"No creator is owed {shop.settings.payout_minimum} or more in approved commissions up to {period_end}.",
        )
    payout = Payout(shop_id=shop.id, period_end=period_end, state="open", total=batch.total, created_at=now or utcnow())
    db.add(payout)
    db.flush()
    for line_id in batch.line_ids:
        line = by_id[line_id]
        line.payout_id = payout.id
        if line.state == "approved":
            line.state = "in_payout"
    db.flush()
    log.info(
        "event=payout_made shop=%s payout_id=%s period_end=%s creators=%d total=%s",
        shop.domain,
        payout.id,
        period_end,
        len(batch.rows),
        batch.total,
    )
    return Made(payout, batch.below_minimum)


def _locked(db: Session, payout: Payout) -> None:
    """The payout as stored now, locked until commit: two clicks on "Mark paid" (or a pay and a
    cancel) at once are taken one after the other, the second seeing what the first did."""
    if db.get_bind().dialect.name == "postgresql":
        db.refresh(payout, with_for_update=True)


def mark_paid(db: Session, payout: Payout, now: datetime | None = None) -> bool:
    """The payout's lines become `paid`. False (and nothing changes) when it was paid already."""
    _locked(db, payout)
    if payout.state == "paid":
        return False
    if payout.state == "cancelled":
        raise PayoutRefused("state", "This payout was cancelled; make a new one.")
    db.execute(
        update(CommissionLine)
        .where(CommissionLine.payout_id == payout.id, CommissionLine.state == "in_payout")
        .values(state="paid", updated_at=utcnow())
    )
    payout.state = "paid"
    payout.paid_at = now or utcnow()
    db.flush()
    log.info("event=payout_paid shop_id=%s payout_id=%s total=%s", payout.shop_id, payout.id, payout.total)
    return True


def cancel(db: Session, payout: Payout, now: datetime | None = None) -> bool:
    """The payout's lines go back to `approved`, its clawbacks wait for the next payout.
    False (and nothing changes) when it was cancelled already."""
    _locked(db, payout)
    if payout.state == "cancelled":
        return False
    if payout.state == "paid":
        raise PayoutRefused("state", "This payout is paid; a paid payout cannot be cancelled.")
    db.execute(
        update(CommissionLine)
        .where(CommissionLine.payout_id == payout.id, CommissionLine.state == "in_payout")
        .values(state="approved", payout_id=None, updated_at=utcnow())
    )
    db.execute(
        update(CommissionLine)
        .where(CommissionLine.payout_id == payout.id, CommissionLine.state == "clawed_back")
        .values(payout_id=None, updated_at=utcnow())
    )
    payout.state = "cancelled"
    payout.cancelled_at = now or utcnow()
    db.flush()
    log.info("event=payout_cancelled shop_id=%s payout_id=%s", payout.shop_id, payout.id)
    return True


@dataclass
class CreatorShare:
    """One creator's part of a payout, read back from the lines that carry its id."""

    influencer_id: int
    earned: Decimal = ZERO
    clawed_back: Decimal = ZERO
    lines: list[CommissionLine] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return self.earned + self.clawed_back


def shares(db: Session, payout: Payout) -> list[CreatorShare]:
    """Who a payout pays and how much, from its lines (a cancelled payout has none left)."""
    found: dict[int, CreatorShare] = {}
    for line in db.scalars(
        select(CommissionLine)
        .where(CommissionLine.shop_id == payout.shop_id, CommissionLine.payout_id == payout.id)
        .order_by(CommissionLine.influencer_id, CommissionLine.id)
    ):
        share = found.setdefault(line.influencer_id, CreatorShare(line.influencer_id))
        share.lines.append(line)
        if line.state == "clawed_back":
            share.clawed_back += line.amount
        else:
            share.earned += line.amount
    return [found[key] for key in sorted(found)]


def held_by_creator(db: Session, shop_id: int, influencer_ids: list[int]) -> dict[int, Decimal]:
    if not influencer_ids:
        return {}
    held: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for influencer_id, amount in db.execute(
        select(CommissionLine.influencer_id, CommissionLine.amount).where(
            CommissionLine.shop_id == shop_id,
            CommissionLine.state == "held",
            CommissionLine.influencer_id.in_(influencer_ids),
        )
    ):
        held[influencer_id] += amount
    return dict(held)
