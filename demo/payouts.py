"""The demo store's payouts: one paid and one open, made from its approved commissions, so the
Payouts page shows something real. Runs after the seeding, once the ledger holds lines; a store
without approved commissions gets none (nothing is invented outside the ledger).

The day is the caller's to give, as for the seeding: the paid payout takes the commissions approved
in the first half of the approved days, the open one those of the third quarter; the last quarter
stays approved, waiting for the next payout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from models import CommissionLine, Influencer, Payout, Shop
from worker import payouts

log = logging.getLogger("creator_roi.demo")


@dataclass(frozen=True)
class DemoPayouts:
    paid: int | None
    open: int | None


def seed_payouts(rt: Any, domain: str, *, end: date) -> DemoPayouts:
    with rt.db.session() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == domain))
        if shop is None:
            return DemoPayouts(None, None)
        if session.scalar(select(Payout.id).where(Payout.shop_id == shop.id).limit(1)) is not None:
            return DemoPayouts(None, None)  # seeded before: payouts are the merchant's now
        # The seeding approves the whole history at once, on its last day; a daily sweep would have
        # approved each line on the day its holding period ended, which is what payouts go by.
        session.execute(
            update(CommissionLine)
            .where(
                CommissionLine.shop_id == shop.id,
                CommissionLine.state == "approved",
                CommissionLine.approves_at.is_not(None),
                CommissionLine.approves_at < CommissionLine.approved_at,
            )
            .values(approved_at=CommissionLine.approves_at)
            .execution_options(synchronize_session=False)
        )
        approved = sorted(
            shop.local_day(moment)
            for moment in session.scalars(
                select(CommissionLine.approved_at).where(
                    CommissionLine.shop_id == shop.id,
                    CommissionLine.state == "approved",
                    CommissionLine.approved_at.is_not(None),
                )
            )
            if moment is not None
        )
        approved = [day for day in approved if day <= end]
        if not approved:
            log.info("event=demo_payouts shop=%s skipped=no_approved_commissions", domain)
            return DemoPayouts(None, None)
        _give_payout_emails(session, shop.id)
        paid_id = open_id = None
        middle = approved[len(approved) // 2]
        if middle < end:
            try:
                made_on = min(middle + timedelta(days=1), end)
                made_at = datetime.combine(made_on, time(9), tzinfo=shop.zone)
                first = payouts.make_payout(session, shop, middle, now=made_at).payout
                # Paid a week after its period, as a merchant paying monthly would (never after `end`).
                paid_on = min(middle + timedelta(days=7), end)
                payouts.mark_paid(session, first, now=datetime.combine(paid_on, time(12), tzinfo=shop.zone))
                paid_id = first.id
            except payouts.PayoutRefused:
                pass
        # The open payout stops at the third quarter: the latest approved commissions still wait
        # for the next one (the page's preview shows them).
        open_end = approved[(3 * len(approved)) // 4]
        if open_end <= middle:
            open_end = end
        try:
            open_id = payouts.make_payout(session, shop, open_end).payout.id
        except payouts.PayoutRefused:
            pass
        session.commit()
    log.info("event=demo_payouts shop=%s paid=%s open=%s", domain, paid_id, open_id)
    return DemoPayouts(paid_id, open_id)


def _give_payout_emails(session: Any, shop_id: int) -> None:
    """Creators with commissions get a payout e-mail, all but the last one: the Payouts page then
    shows what happens to a creator without one (left out of the files, named instead)."""
    paid = session.scalars(
        select(Influencer)
        .where(Influencer.shop_id == shop_id, Influencer.id.in_(select(CommissionLine.influencer_id).distinct()))
        .order_by(Influencer.id)
    ).all()
    for creator in paid[:-1]:
        if not creator.payout_email:
            creator.payout_email = f"payouts+{creator.handle}@example.com"
