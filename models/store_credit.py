"""Payouts paid as Shopify store credit: one row per creator and payout, written when Shopify
answers with its transaction, so paying again after a failure never credits anyone twice."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow


class StoreCredit(Base):
    __tablename__ = "store_credits"
    __table_args__ = (UniqueConstraint("payout_id", "influencer_id", name="uq_store_credits_payout_influencer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id", ondelete="CASCADE"))
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    # gid://shopify/StoreCreditAccountCreditTransaction/...
    shopify_transaction_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
