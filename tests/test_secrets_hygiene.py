"""Secrets, tokens and customer e-mails never reach logs or responses; tokens are encrypted at rest."""

from __future__ import annotations

import json
import logging
import re

import models
from factories import API_SECRET, SHOP
from factories.shopify import recorded_delivery

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _fixture_emails() -> set[str]:
    found: set[str] = set()
    for name in (
        "orders_create_code.json",
        "orders_create_link.json",
        "customers_create.json",
        "customers_data_request.json",
    ):
        body, _ = recorded_delivery(name)
        found.update(EMAIL.findall(body.decode()))
    return found


def test_nothing_secret_in_logs_or_responses(client, api, runtime, db_session, fake_shopify, caplog, run_jobs):
    caplog.set_level(logging.DEBUG)
    responses: list[str] = []
    # A merchant's session: install by token exchange, settings, a code created in Shopify.
    creator = api.post(
        "/api/v1/influencers",
        json={"name": "Anna Lee", "handle": "anna.lee", "platform": "instagram", "email": "anna@example.com"},
    )
    responses.append(creator.get_data(as_text=True))
    code = api.post(f"/api/v1/influencers/{creator.json['id']}/codes", json={"code": "ANNA15", "percent_off": "15"})
    responses.append(code.get_data(as_text=True))
    # Shopify's deliveries carrying customer e-mails, processed by the worker.
    for name in (
        "customers_create.json",
        "orders_create_code.json",
        "orders_create_link.json",
        "customers_data_request.json",
    ):
        body, headers = recorded_delivery(name)
        responses.append(client.post("/webhooks", data=body, headers=headers).get_data(as_text=True))
    run_jobs()
    responses.append(api.get("/api/v1/sync").get_data(as_text=True))

    shop = db_session.query(models.Shop).filter_by(domain=SHOP).one()
    access_token = runtime.cipher.decrypt(shop.access_token_enc)
    refresh_token = runtime.cipher.decrypt(shop.refresh_token_enc)
    assert access_token not in shop.access_token_enc and refresh_token not in shop.refresh_token_enc

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged, "the flows above must log something"
    secrets = {access_token, refresh_token, API_SECRET, runtime.token_encryption_key}
    for secret in secrets | _fixture_emails() | {"anna@example.com"}:
        assert secret not in logged
    for secret in secrets:
        for text in responses:
            assert secret not in text
    assert not EMAIL.search(logged), EMAIL.search(logged)
    # Creator e-mail is the merchant's own data: returned to the merchant, never logged.
    assert json.loads(responses[0])["email"] == "anna@example.com"
