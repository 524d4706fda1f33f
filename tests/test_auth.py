"""Session tokens: only a genuine, current token for a myshopify shop gets in; a new shop
is installed by token exchange on its first valid request."""

from __future__ import annotations

import time

import jwt
import pytest

import models
from factories import API_KEY, API_SECRET, OTHER_SHOP, SHOP
from factories.admin import auth_headers, session_token

RETRY = "X-Shopify-Retry-Invalid-Session-Request"


def _assert_refused(resp):
    assert resp.status_code == 401
    assert resp.headers.get(RETRY) == "1"
    assert "errors" in resp.json
    assert resp.headers.get("Location") is None


def test_first_valid_token_installs_shop_by_token_exchange(client, db_session, fake_shopify):
    resp = client.get("/api/v1/shop", headers=auth_headers(SHOP))
    assert resp.status_code == 200, resp.json
    assert resp.json["shop"] == SHOP
    assert resp.json["currency"] == "USD"
    assert resp.json["settings"]["attribution_window_days"] == 30
    shop = db_session.query(models.Shop).filter_by(domain=SHOP).one()
    assert shop.access_token_enc and not shop.access_token_enc.startswith("shpat_")
    assert shop.refresh_token_enc and shop.access_token_expires_at is not None
    exchanges = [r for r in fake_shopify.requests if r[1].endswith("/oauth/access_token")]
    assert len(exchanges) == 1
    # A second request reuses the stored token.
    assert client.get("/api/v1/shop", headers=auth_headers(SHOP)).status_code == 200
    assert len([r for r in fake_shopify.requests if r[1].endswith("/oauth/access_token")]) == 1


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda: session_token(SHOP, secret="wrong-secret"), id="wrong-secret"),
        pytest.param(lambda: session_token(SHOP, aud="someone-elses-app"), id="wrong-aud"),
        pytest.param(lambda: session_token(SHOP, exp_in=-60), id="expired"),
        pytest.param(lambda: session_token(SHOP, nbf=int(time.time()) + 120), id="future-nbf"),
        pytest.param(lambda: session_token(SHOP, dest=f"https://{OTHER_SHOP}"), id="dest-not-iss"),
        pytest.param(lambda: session_token("evil.example.com"), id="not-myshopify"),
        pytest.param(
            lambda: session_token(SHOP, dest="https://evil.com", iss="https://evil.com/admin"), id="non-shopify-host"
        ),
        pytest.param(
            lambda: jwt.encode(
                {
                    "dest": f"https://{SHOP}",
                    "iss": f"https://{SHOP}/admin",
                    "aud": API_KEY,
                    "exp": int(time.time()) + 60,
                },
                key=None,
                algorithm="none",
            ),
            id="alg-none",
        ),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
    ],
)
def test_forged_tokens_are_refused_and_create_nothing(client, db_session, make_token):
    resp = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {make_token()}"})
    _assert_refused(resp)
    assert db_session.query(models.Shop).count() == 0


def test_missing_token_on_api_is_401_json_not_redirect(client):
    _assert_refused(client.get("/api/v1/shop"))
    _assert_refused(client.get("/api/v1/shop", headers={"Authorization": "Basic abc"}))


def test_token_in_query_string_is_accepted(client):
    resp = client.get(f"/api/v1/shop?id_token={session_token(SHOP)}")
    assert resp.status_code == 200


def test_old_secret_accepted_during_rotation(app_config, fake_shopify):
    """While the secret rotates, tokens signed with the old secret still get in."""
    from plugin import create_app

    fake_shopify.api_secret, fake_shopify.old_api_secret = "the-new-secret", API_SECRET
    app = create_app(dict(app_config, SHOPIFY_API_SECRET="the-new-secret", SHOPIFY_OLD_API_SECRET=API_SECRET))
    client = app.test_client()
    assert client.get("/api/v1/shop", headers=auth_headers(SHOP, secret=API_SECRET)).status_code == 200
    assert client.get("/api/v1/shop", headers=auth_headers(SHOP, secret="the-new-secret")).status_code == 200
    _assert_refused(client.get("/api/v1/shop", headers=auth_headers(SHOP, secret="unknown")))


def test_failing_token_exchange_is_502_and_installs_nothing(client, db_session, fake_shopify):
    fake_shopify.fail_next(10, status=503)
    resp = client.get("/api/v1/shop", headers=auth_headers(SHOP))
    assert resp.status_code == 502
    assert "shopify" in resp.json["errors"]
    assert db_session.query(models.Shop).count() == 0


def test_invalid_subject_token_is_401_with_retry(client, db_session, fake_shopify):
    fake_shopify.reject_subject_tokens = True
    _assert_refused(client.get("/api/v1/shop", headers=auth_headers(SHOP)))
    assert db_session.query(models.Shop).count() == 0


def test_expired_access_token_is_refreshed_before_use(api, runtime, db_session, fake_shopify):
    from datetime import datetime, timedelta, timezone

    from worker import installation

    shop = db_session.query(models.Shop).filter_by(domain=SHOP).one()
    old_cipher = shop.access_token_enc
    shop.access_token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db_session.commit()
    token = installation.access_token_for(runtime, db_session, shop)
    db_session.commit()
    assert token.startswith("shpat_")
    assert shop.access_token_enc != old_cipher
    assert shop.access_token_expires_at > datetime.now(timezone.utc)
    assert any("refresh_token" in str(r[3]) for r in fake_shopify.requests)


def test_settings_patch_validates_and_saves(api):
    resp = api.patch(
        "/api/v1/shop/settings",
        json={
            "attribution_window_days": 14,
            "evidence_order": ["click", "code"],
            "hourly_rate": "65.50",
            "emv_rates": {"cpm": "7.25"},
        },
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["attribution_window_days"] == 14
    assert resp.json["evidence_order"] == ["click", "code"]
    assert resp.json["hourly_rate"] == "65.50"
    assert resp.json["emv_rates"]["cpm"] == "7.2500"
    assert api.get("/api/v1/shop").json["settings"]["attribution_window_days"] == 14

    bad = api.patch("/api/v1/shop/settings", json={"attribution_window_days": -1, "evidence_order": ["code", "code"]})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"attribution_window_days", "evidence_order"}
    malformed = api.patch("/api/v1/shop/settings", data="{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert api.get("/api/v1/shop").json["settings"]["attribution_window_days"] == 14
