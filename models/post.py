"""Creator content and its reach and engagement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow

CONTENT_TYPES = ("story", "reel", "post", "video", "live")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_shop_posted", "shop_id", "posted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(10))
    posted_at: Mapped[datetime]
    url: Mapped[str | None] = mapped_column(String(2048))
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
