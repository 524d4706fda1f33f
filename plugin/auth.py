"""Session-token auth for the embedded page and the API, and install by token exchange.

Shopify's `shopify_app` verifies the token (signature, `aud`, exp/nbf with 10 s
leeway, the bounce to the patch-id-token page). It does not check `dest`
against `iss`, so we do.
"""

from __future__ import annotations

import logging
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlparse

from flask import Blueprint, Response, current_app, g, request
from shopify_app import RequestInput, ShopifyApp

from models import Shop
from plugin.database import runtime, session
from plugin.errors import ApiError, error_response
from worker import installation, jobs, shopify_admin

log = logging.getLogger("creator_roi.auth")
bp = Blueprint("auth", __name__)

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"
RETRY_HEADER = {"X-Shopify-Retry-Invalid-Session-Request": "1"}


def shopify_app() -> ShopifyApp:
    cfg = current_app.config
    return ShopifyApp(cfg["SHOPIFY_API_KEY"], cfg["SHOPIFY_API_SECRET"], cfg.get("SHOPIFY_OLD_API_SECRET") or None)


def request_input() -> RequestInput:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": request.url,
        "body": request.get_data(as_text=True) if request.method != "GET" else "",
    }


def shop_from_claims(claims: dict[str, Any]) -> str | None:
    """`dest` must be a myshopify host and the same host as `iss`."""
    dest = urlparse(str(claims.get("dest") or "")).hostname or ""
    iss = urlparse(str(claims.get("iss") or "")).hostname or ""
    if not shopify_admin.is_valid_shop_domain(dest) or dest.lower() != iss.lower():
        return None
    return dest.lower()


def to_response(res: Any) -> Response:
    return Response(res.body, status=res.status, headers=res.headers)


class Unauthorized(ApiError):
    status = 401

    def __init__(self, message: str = "invalid or missing session token") -> None:
        super().__init__({"session_token": [message]}, headers=dict(RETRY_HEADER))


def _load_or_install(domain: str, token: str) -> Shop:
    db = session()
    shop = installation.find_shop(db, domain)
    if shop is not None and shop.is_installed:
        return shop
    rt = runtime()
    try:
        shop = installation.install_with_session_token(rt, db, domain, token)
        db.commit()
    except shopify_admin.InvalidSubjectToken as exc:
        db.rollback()
        raise Unauthorized("session token rejected by Shopify") from exc
    except shopify_admin.ShopifyAdminError as exc:
        db.rollback()
        log.warning("event=install_failed shop=%s status=%s", domain, exc.status)
        raise ApiError({"shopify": ["could not install: Shopify did not answer the token exchange"]}, 502) from exc
    try:  # installed and committed: import the order history; a failure never undoes the install
        jobs.schedule_backfill(rt, shop.id)
    except Exception:
        log.exception("event=backfill_not_scheduled shop=%s", domain)
    return shop


def authenticate_api() -> None:
    """For /api/v1: any failure is 401 JSON with the retry header, never a redirect."""
    auth = request.headers.get("Authorization", "")
    if not auth and not request.args.get("id_token"):
        raise Unauthorized()
    result = shopify_app().verify_app_home_req(request_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok or result.id_token is None:
        raise Unauthorized()
    domain = shop_from_claims(result.id_token.claims)
    if domain is None:
        raise Unauthorized("session token dest does not match iss")
    g.shop = _load_or_install(domain, result.id_token.token)
    g.session_claims = result.id_token.claims


def api_auth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        authenticate_api()
        return view(*args, **kwargs)

    return wrapped


def page_auth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """For /app: the library's own answers on failure (bounce page, 401); headers kept on success."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = shopify_app().verify_app_home_req(request_input(), PATCH_ID_TOKEN_PATH)
        if not result.ok or result.id_token is None:
            return to_response(result.response)
        domain = shop_from_claims(result.id_token.claims)
        if domain is None:
            return error_response({"session_token": ["session token dest does not match iss"]}, 401, RETRY_HEADER)
        try:
            g.shop = _load_or_install(domain, result.id_token.token)
        except ApiError as exc:
            return error_response(exc.errors, exc.status, exc.headers)
        g.session_claims = result.id_token.claims
        g.id_token = result.id_token.token
        response = current_app.make_response(view(*args, **kwargs))
        for key, value in result.response.headers.items():
            response.headers[key] = value
        return response

    return wrapped


@bp.get(PATCH_ID_TOKEN_PATH)
def patch_id_token() -> Response:
    """The App Bridge page that fetches a fresh session token and reloads the app."""
    return to_response(shopify_app().app_home_patch_id_token(request_input()).response)
