"""Rollups the reports read: additive sums per shop × creator × day (and month), and
per-creator CLV.

A `Rollup` row is one of three kinds, so that each source of figures can be
refreshed on its own without touching the others:

* ``day``: a creator's sales (first and repeat orders, revenue, customers)
  and counted clicks on one shop-local day; one row per (shop, creator, day).
  `repeat_customers` and `cohort_repeat_revenue` follow the customers acquired
  that day (their repeats whenever placed), the rest follows the day's orders.
* ``cost``: cost entries of one day, per campaign the entry names (creator
  optional: shop-level costs such as tools have none).
* ``post``: post metrics of one day, per platform and content type.

Platform and campaign of sales and clicks are the creator's and are resolved
when reading, so moving a creator to another campaign needs no rebuild.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, BigId, utcnow

ZERO = Decimal("0.00")
ROLLUP_KINDS = ("day", "cost", "post")


class Figures:
    """The additive sums every rollup row carries."""

    orders: Mapped[int] = mapped_column(Integer, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal] = mapped_column(default=ZERO)
    repeat_orders: Mapped[int] = mapped_column(Integer, default=0)
    repeat_revenue: Mapped[Decimal] = mapped_column(default=ZERO)
    repeat_customers: Mapped[int] = mapped_column(Integer, default=0)
    # Repeat revenue booked on the day its customer was acquired, not the day it was placed:
    # what the customers acquired in a range spent again, whenever (CLV to date of a range).
    cohort_repeat_revenue: Mapped[Decimal] = mapped_column(default=ZERO)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(default=ZERO)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)


class Rollup(Figures, Base):
    __tablename__ = "rollups"
    __table_args__ = (
        Index("ix_rollups_shop_day_influencer", "shop_id", "day", "influencer_id"),
        Index("ix_rollups_shop_influencer_day", "shop_id", "influencer_id", "day"),
        # One sales-and-clicks row per creator-day: the engine upserts it.
        Index(
            "uq_rollups_creator_day",
            "shop_id",
            "influencer_id",
            "day",
            unique=True,
            postgresql_where=text("kind = 'day'"),
            sqlite_where=text("kind = 'day'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(4))
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"), index=True)
    # Set on cost rows whose entries name a campaign, else the creator's campaign applies.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    platform: Mapped[str | None] = mapped_column(String(20))
    content_type: Mapped[str | None] = mapped_column(String(10))


class RollupMonth(Figures, Base):
    """The day rows of a calendar month summed, per the same dimensions: a year's report
    reads a dozen rows per creator instead of hundreds (the days at the range's ends come
    from `rollups`). Kept by the engine with the day rows, in the same transaction."""

    __tablename__ = "rollup_months"
    __table_args__ = (
        Index("ix_rollup_months_shop_month_influencer", "shop_id", "month", "influencer_id"),
        Index("ix_rollup_months_shop_influencer_month", "shop_id", "influencer_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    month: Mapped[date]  # the first day of the month
    kind: Mapped[str] = mapped_column(String(4))
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    platform: Mapped[str | None] = mapped_column(String(20))
    content_type: Mapped[str | None] = mapped_column(String(10))


class CreatorClv(Base):
    """Predicted CLV per creator: a maximum-likelihood fit is a job, never a request."""

    __tablename__ = "creator_clv"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    # Mean expected value of one acquired customer over the horizon; None without enough data.
    predicted: Mapped[Decimal | None]
    horizon_months: Mapped[int] = mapped_column(Integer, default=12)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
