"""The JSON API under /api/v1; every route runs for the shop of a verified session token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from plugin.auth import authenticate_api
from plugin.errors import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    authenticate_api()


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 naming what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError({"body": ["a JSON object is required (Content-Type: application/json)"]}, 400)
    if not isinstance(data, dict):
        raise ApiError({"body": ["the JSON body must be an object"]}, 400)
    return data


import plugin.api.payouts  # noqa: E402
import plugin.api.statement_links  # noqa: E402,F401
from plugin.api import campaigns, codes, commissions, costs, influencers, links, openapi, plans, posts, roi, shop, sync  # noqa: E402,F401  (routes register on bp)
