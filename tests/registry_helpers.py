"""Factories for the creator registry tests: each builds through the public API, as a merchant would."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

_counter = iter(range(1, 1_000_000))


def make_influencer(api: Any, **fields: Any) -> dict:
    n = next(_counter)
    body = {"name": f"Creator {n}", "handle": f"creator_{n}", "platform": "instagram", "followers": 12000}
    body.update(fields)
    response = api.post("/api/v1/influencers", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_code(api: Any, influencer_id: int, code: str | None = None, **fields: Any) -> dict:
    body = {"code": code or f"CODE{next(_counter)}", "create_in_shopify": False}
    body.update(fields)
    response = api.post(f"/api/v1/influencers/{influencer_id}/codes", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_link(api: Any, influencer_id: int, **fields: Any) -> dict:
    response = api.post(f"/api/v1/influencers/{influencer_id}/links", json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_cost(api: Any, **fields: Any) -> dict:
    body = {"category": "fee", "incurred_on": "2026-09-01"}
    if fields.get("category", "fee") != "management_time":
        body["amount"] = "250.00"
    body.update(fields)
    response = api.post("/api/v1/costs", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def past(days: float = 1) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0).isoformat()


def make_post(api: Any, influencer_id: int, **fields: Any) -> dict:
    body = {"influencer_id": influencer_id, "platform": "instagram", "content_type": "reel",
            "posted_at": past(2), "impressions": 40000, "reach": 30000, "likes": 1200,
            "comments": 80, "shares": 40, "saves": 60}
    body.update(fields)
    response = api.post("/api/v1/posts", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def redirect_params(location: str) -> tuple[str, str, dict[str, list[str]]]:
    """(host, path, query) of a redirect's Location."""
    parts = urlsplit(location)
    return parts.hostname or "", parts.path, parse_qs(parts.query)


def expected_ip_hash(secret_key: str, ip: str) -> str:
    return hmac.new(secret_key.encode(), ip.encode(), hashlib.sha256).hexdigest()
