"""A creator's private statement links (GET /s/<token>).

Only the SHA-256 of a token is stored: a database leak does not open anyone's
statement, and the token is shown once, when the merchant makes the link. A
creator has at most one live link: making a new one revokes the old.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow


class StatementLink(Base):
    __tablename__ = "statement_links"
    __table_args__ = (Index("ix_statement_links_shop_influencer", "shop_id", "influencer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    # hex SHA-256 of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_viewed_at: Mapped[datetime | None]
