"""Installing a store, keeping its offline token fresh, and uninstalling it.

Both the web app (first valid session token of a new shop) and jobs (Admin API
calls) go through here, so tokens are encrypted and refreshed in one place.
What follows an install (importing the order history) is the installer's to
schedule, after its commit (`plugin.auth`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Shop, ShopSettings, utcnow
from worker import shopify_admin
from worker.runtime import Runtime
from worker.shopify_admin import TokenSet

log = logging.getLogger("creator_roi.install")


def find_shop(db: Session, domain: str) -> Shop | None:
    return db.scalar(select(Shop).where(Shop.domain == domain.lower()))


def _store_tokens(rt: Runtime, shop: Shop, tokens: TokenSet) -> None:
    cipher = rt.cipher
    shop.access_token_enc = cipher.encrypt(tokens.access_token)
    shop.access_token_expires_at = tokens.expires_at
    shop.refresh_token_enc = cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    shop.refresh_token_expires_at = tokens.refresh_token_expires_at
    shop.scopes = tokens.scope


def _activate(db: Session, domain: str) -> Shop:
    shop = find_shop(db, domain)
    if shop is None:
        shop = Shop(domain=domain.lower())
        shop.settings = ShopSettings()
        db.add(shop)
    shop.uninstalled_at = None
    shop.installed_at = utcnow()
    return shop


def install_with_session_token(rt: Runtime, db: Session, domain: str, session_token: str) -> Shop:
    """Token exchange for an expiring offline token; nothing is written unless it all succeeds."""
    tokens = shopify_admin.exchange_session_token(rt.admin, domain, session_token)
    details = shopify_admin.fetch_shop(rt.admin, domain, tokens.access_token)
    shop = _activate(db, domain)
    _store_tokens(rt, shop, tokens)
    shop.name = details.get("name") or shop.name
    shop.currency = details.get("currency") or shop.currency or "USD"
    shop.timezone = details.get("timezone") or shop.timezone or "UTC"
    shop.shopify_id = details.get("shopify_id") or shop.shopify_id
    db.flush()
    log.info("event=shop_installed shop=%s via=token_exchange", domain)
    return shop


def install_with_access_token(rt: Runtime, db: Session, domain: str, access_token: str, currency: str = "USD") -> Shop:
    """A custom-app store: the merchant pastes an offline Admin API token (no network)."""
    shop = _activate(db, domain)
    _store_tokens(
        rt,
        shop,
        TokenSet(
            access_token=access_token, scope="", expires_at=None, refresh_token=None, refresh_token_expires_at=None
        ),
    )
    shop.currency = currency.upper()
    shop.timezone = shop.timezone or "UTC"
    db.flush()
    log.info("event=shop_installed shop=%s via=custom_app", domain)
    return shop


def access_token_for(rt: Runtime, db: Session, shop: Shop, now: datetime | None = None) -> str:
    """The shop's access token, refreshed first when it is about to expire."""
    if shop.access_token_enc is None:
        raise shopify_admin.AccessRevoked("shop has no access token (uninstalled)")
    cipher = rt.cipher
    tokens = TokenSet(
        access_token=cipher.decrypt(shop.access_token_enc),
        scope=shop.scopes or "",
        expires_at=shop.access_token_expires_at,
        refresh_token=cipher.decrypt(shop.refresh_token_enc) if shop.refresh_token_enc else None,
        refresh_token_expires_at=shop.refresh_token_expires_at,
    )
    if tokens.refresh_token and tokens.needs_refresh(now or datetime.now(timezone.utc)):
        tokens = shopify_admin.refresh_tokens(rt.admin, shop.domain, tokens)
        _store_tokens(rt, shop, tokens)
        db.flush()
        log.info("event=token_refreshed shop=%s", shop.domain)
    return tokens.access_token


def mark_uninstalled(db: Session, shop: Shop) -> None:
    shop.access_token_enc = None
    shop.refresh_token_enc = None
    shop.access_token_expires_at = None
    shop.refresh_token_expires_at = None
    shop.uninstalled_at = utcnow()
    log.info("event=shop_uninstalled shop=%s", shop.domain)
