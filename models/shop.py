"""The installed store, its encrypted tokens and its settings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, utcnow

DEFAULT_EVIDENCE_ORDER = ["code", "click", "survey"]


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Fernet ciphertexts; plaintext tokens never touch the database.
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str | None] = mapped_column(String(512))
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    uninstalled_at: Mapped[datetime | None]

    settings: Mapped["ShopSettings"] = relationship(
        back_populates="shop", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_installed(self) -> bool:
        return self.uninstalled_at is None and self.access_token_enc is not None

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone, which its days (rollups, report ranges) follow; UTC when
        the name is missing or unknown to this machine, rather than an error on every page."""
        try:
            return ZoneInfo(self.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def local_day(self, moment: datetime) -> date:
        """The shop-local calendar day of an instant."""
        return moment.astimezone(self.zone).date()


class ShopSettings(Base):
    __tablename__ = "shop_settings"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    attribution_window_days: Mapped[int] = mapped_column(Integer, default=30)
    repeat_window_days: Mapped[int] = mapped_column(Integer, default=90)
    evidence_order: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_EVIDENCE_ORDER))
    hourly_rate: Mapped[Decimal] = mapped_column(default=Decimal("50.00"))
    clv_horizon_months: Mapped[int] = mapped_column(Integer, default=12)
    # EMV rates: per 1,000 impressions, and per action. Defaults are roi.emv's.
    emv_cpm: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("5.00"))
    emv_like: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0.10"))
    emv_comment: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0.50"))
    emv_share: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("1.00"))
    emv_save: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0.75"))
    emv_click: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal("0.50"))
    # Pay: days a commission stays pending before it is approved (0-120), because a refund
    # usually comes within a month; creators owed less than the minimum wait for a later payout.
    holding_days: Mapped[int] = mapped_column(Integer, default=30)
    payout_minimum: Mapped[Decimal] = mapped_column(default=Decimal("25.00"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="settings")
