"""Everything a creator costs: fees, product, rights, time, tools, commissions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow

COST_CATEGORIES = ("fee", "product", "content_rights", "management_time", "tools", "commission", "other")


class Cost(Base):
    __tablename__ = "costs"
    __table_args__ = (Index("ix_costs_shop_day", "shop_id", "incurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    hourly_rate: Mapped[Decimal | None]
    incurred_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
