"""A creator's statement links: the random token made once, kept only as its SHA-256, revoked,
and the one live link of a creator. Used by the API (making and revoking links) and the page.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import StatementLink, utcnow

# Long enough that a creator can bookmark it for a quarter of payouts, short enough that a link
# forwarded or left in an old inbox stops working on its own.
LINK_DAYS = 90


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def statement_url(token: str) -> str:
    return f"{current_app.config['SHOPIFY_APP_URL'].rstrip('/')}/s/{token}"


def issue_link(db: Session, shop_id: int, influencer_id: int, now: datetime | None = None) -> tuple[str, StatementLink]:
    """A new link for the creator; every earlier live link of theirs is revoked in the same commit."""
    moment = now or utcnow()
    db.execute(
        update(StatementLink)
        .where(
            StatementLink.shop_id == shop_id,
            StatementLink.influencer_id == influencer_id,
            StatementLink.revoked_at.is_(None),
        )
        .values(revoked_at=moment)
    )
    token = secrets.token_urlsafe(32)
    link = StatementLink(
        shop_id=shop_id,
        influencer_id=influencer_id,
        token_hash=token_hash(token),
        created_at=moment,
        expires_at=moment + timedelta(days=LINK_DAYS),
    )
    db.add(link)
    db.flush()
    return token, link


def revoke_links(db: Session, shop_id: int, influencer_id: int) -> int:
    result = db.execute(
        update(StatementLink)
        .where(
            StatementLink.shop_id == shop_id,
            StatementLink.influencer_id == influencer_id,
            StatementLink.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_link(db: Session, shop_id: int, influencer_id: int) -> StatementLink | None:
    """The creator's link that still opens (not revoked, not expired), if any."""
    return db.scalar(
        select(StatementLink)
        .where(
            StatementLink.shop_id == shop_id,
            StatementLink.influencer_id == influencer_id,
            StatementLink.revoked_at.is_(None),
            StatementLink.expires_at > utcnow(),
        )
        .order_by(StatementLink.id.desc())
        .limit(1)
    )
