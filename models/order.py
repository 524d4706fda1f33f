"""Customers, orders and refunds as received from Shopify (shop currency; an order keeps its
presentment currency and net merchandise beside, for display only)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, BigId, utcnow


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id", name="uq_customers_shop_shopify_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime | None]
    shopify_updated_at: Mapped[datetime | None]
    redacted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_orders_shop_shopify_id"),
        Index("ix_orders_shop_customer", "shop_id", "shopify_customer_id"),
        Index("ix_orders_shop_placed", "shop_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    shopify_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    placed_at: Mapped[datetime]
    shopify_updated_at: Mapped[datetime | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    # subtotal_price_set.shop_money of the newest payload; None when the shape was unknown.
    subtotal: Mapped[Decimal | None]
    # The same net merchandise as the buyer was shown it (subtotal_price_set.presentment_money)
    # and its currency: never counted, only shown beside commission lines. None when unknown.
    presentment_currency: Mapped[str | None] = mapped_column(String(3))
    presentment_subtotal: Mapped[Decimal | None]
    net_sales: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    cancelled_at: Mapped[datetime | None]
    financial_status: Mapped[str | None] = mapped_column(String(32))
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    source_name: Mapped[str | None] = mapped_column(String(64))
    landing_site: Mapped[str | None] = mapped_column(Text)
    codes: Mapped[list[Any]] = mapped_column(default=list)
    note_attributes: Mapped[list[Any]] = mapped_column(default=list)
    # Why the order could not be read as usual (e.g. unknown money shape); never guessed.
    flagged: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @hybrid_property
    def is_countable(self) -> bool:
        """Whether the order can be a conversion and count revenue at all: read as usual (a
        subtotal, not flagged), not cancelled, voided or a test, and net sales above zero.
        Also a SQL condition (`select(...).where(Order.is_countable)`), written below."""
        return (
            self.subtotal is not None
            and not self.flagged
            and self.cancelled_at is None
            and self.financial_status != "voided"
            and not self.test
            and (self.net_sales or 0) > 0
        )

    @is_countable.inplace.expression
    @classmethod
    def _is_countable_in_sql(cls) -> ColumnElement[bool]:
        # NULL-safe, as the Python above reads None: no flag, no status, not a test.
        return and_(
            cls.subtotal.is_not(None),
            func.coalesce(cls.flagged, "") == "",
            cls.cancelled_at.is_(None),
            func.coalesce(cls.financial_status, "") != "voided",
            func.coalesce(cls.test, false()) == false(),
            cls.net_sales > 0,
        )


class Refund(Base):
    """One Shopify refund, counted once by its id whichever payloads carry it."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_refunds_shop_shopify_id"),
        Index("ix_refunds_shop_order", "shop_id", "shopify_order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    # A refund can arrive before its order: keep Shopify's order id and link later.
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    merchandise: Mapped[Decimal]
    processed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
