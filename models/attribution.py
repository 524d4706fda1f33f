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
    __table_args__ = (Index("ix_attributions_shop_influencer", "shop_id", "influencer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    influencer_id: Mapped[int | None] = mapped_column(ForeignKey("influencers.id", ondelete="SET NULL"))
    kind: Mapped[str | None] = mapped_column(String(10))  # first | repeat | None
    rule: Mapped[str | None] = mapped_column(String(10))  # code | click | survey | repeat
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    net: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    acquired_at: Mapped[datetime | None]
    attributed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
