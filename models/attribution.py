"""Which creator an order belongs to, and why."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, BigId, utcnow


class Attribution(Base):
    __tablename__ = "attributions"
    # A rollup cell reads a creator's orders placed on its day and the repeat orders of the
    # customers acquired on its day: an index for each, so a refresh reads only those.
    __table_args__ = (
        Index("ix_attributions_shop_influencer_placed", "shop_id", "influencer_id", "placed_at"),
        Index("ix_attributions_shop_influencer_acquired", "shop_id", "influencer_id", "acquired_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="SET NULL"))
    kind: Mapped[str | None] = mapped_column(String(10))  # first | repeat | None
    rule: Mapped[str | None] = mapped_column(String(10))  # code | click | survey | repeat
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    net: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    acquired_at: Mapped[datetime | None]
    placed_at: Mapped[datetime]  # the order's, kept here for the rollups' reads
    attributed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
