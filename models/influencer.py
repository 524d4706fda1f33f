"""Creators (influencers), the campaigns they run in, and their follower history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, utcnow

PLATFORMS = ("instagram", "tiktok", "youtube", "pinterest", "twitch", "x", "other")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Archived: out of the lists and pickers; its creators, costs and figures keep it.
    archived_at: Mapped[datetime | None]


Index("uq_campaigns_shop_name", Campaign.shop_id, func.lower(Campaign.name), unique=True)


class Influencer(Base):
    __tablename__ = "influencers"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(20))
    followers: Mapped[int] = mapped_column(Integer, default=0)
    email: Mapped[str | None] = mapped_column(String(254))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    # Share of attributed net sales paid as commission; refunds shrink it with the sales.
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    # Where payouts go: the PayPal / Wise e-mail, and the Shopify customer paid in store credit.
    payout_email: Mapped[str | None] = mapped_column(String(254))
    shopify_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign | None] = relationship()


Index("uq_influencers_shop_handle", Influencer.shop_id, func.lower(Influencer.handle), unique=True)


class FollowerSnapshot(Base):
    """Followers each time they change, to spot rising creators."""

    __tablename__ = "follower_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"), index=True)
    followers: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
