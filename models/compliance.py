"""What the app answers to privacy requests: the data held about one customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, BigId, utcnow


class DataExport(Base):
    """The answer to one `customers/data_request`, for the merchant to download and send on.

    It holds the customer's personal data, so `customers/redact` and `shop/redact` delete it.
    """

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_shop_customer", "shop_id", "shopify_customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    # Shopify's data_request.id, to quote back to the merchant.
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    shopify_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
