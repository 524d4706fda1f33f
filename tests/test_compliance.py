"""Privacy topics: each erases or exports what it must, and nothing else."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from sqlalchemy import func, select

import models
from factories import OTHER_SHOP, SHOP
from factories.registry import install_shop
from factories.shopify import (
    CUSTOMER_JORDAN,
    CUSTOMER_LENA,
    ORDER_1001,
    ORDER_1002,
    ORDER_1003,
    fixture_json,
    fixture_text,
)
from factories.store import count, events, order
from factories.webhooks import post_recorded_webhook, post_webhook
from models import Customer, DataExport, Shop, WebhookEvent

STORE_STORY = (
    "orders_create_code.json",
    "refunds_create_partial.json",
    "orders_create_link.json",
    "orders_create_survey.json",
    "customers_create.json",
)


def _customer(session, shopify_id, shop_domain=SHOP):
    session.expire_all()
    return session.scalar(
        select(Customer)
        .join(Shop, Shop.id == Customer.shop_id)
        .where(Shop.domain == shop_domain, Customer.shopify_id == shopify_id)
    )


def _load_story(client, run_jobs):
    for name in STORE_STORY:
        assert post_recorded_webhook(client, name).status_code == 200
    # The same customer id at another store is another person's record.
    post_webhook(client, "customers/create", fixture_text("customers_create.json"), shop=OTHER_SHOP)
    run_jobs()


def test_data_request_exports_the_customers_data_for_the_merchant(client, api, runtime, db_session, run_jobs, caplog):
    install_shop(runtime, OTHER_SHOP)
    _load_story(client, run_jobs)
    caplog.set_level(logging.INFO)

    assert post_recorded_webhook(client, "customers_data_request.json").status_code == 200
    run_jobs()

    listed = api.get("/api/v1/data-requests").get_json()["data_requests"]
    assert [(e["request_id"], e["customer_id"]) for e in listed] == [(4417206, CUSTOMER_JORDAN)]
    download = api.get(f"/api/v1/data-requests/{listed[0]['id']}")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    exported = json.loads(download.data)
    assert exported["customer"]["email"] == "jordan.reyes@example.com"
    assert exported["customer"]["id"] == CUSTOMER_JORDAN
    assert [(o["id"], o["net_sales"]) for o in exported["orders"]] == [(ORDER_1002, "70.00"), (ORDER_1003, "96.00")]
    assert "lena" not in download.data.decode().lower()
    # The log says what was done, never whom it was for.
    lines = [r.getMessage() for r in caplog.records if "event=data_request" in r.getMessage()]
    assert len(lines) == 1 and "request_id=4417206" in lines[0] and "orders=2" in lines[0]
    assert "@example.com" not in lines[0]
    # The stored request keeps the ids and drops the e-mail and phone it came with.
    request_event = events(db_session, topic="customers/data_request")[0]
    assert "@example.com" not in request_event.body and "+1215" not in request_event.body


def test_another_shop_cannot_download_the_export(client, api, other_api, db_session, run_jobs):
    _load_story(client, run_jobs)
    post_recorded_webhook(client, "customers_data_request.json")
    run_jobs()
    export_id = db_session.scalar(select(DataExport.id))

    assert other_api.get(f"/api/v1/data-requests/{export_id}").status_code == 404
    assert other_api.get("/api/v1/data-requests").get_json() == {"data_requests": []}


def test_customer_redact_erases_the_person_and_keeps_anonymous_totals(client, runtime, db_session, run_jobs):
    install_shop(runtime)
    install_shop(runtime, OTHER_SHOP)
    _load_story(client, run_jobs)
    post_recorded_webhook(client, "customers_data_request.json")
    run_jobs()

    assert post_recorded_webhook(client, "customers_redact.json").status_code == 200
    run_jobs()

    jordan = _customer(db_session, CUSTOMER_JORDAN)
    assert (jordan.email, jordan.first_name, jordan.last_name, jordan.phone) == (None, None, None, None)
    assert jordan.redacted_at is not None
    # Orders stay, as anonymous totals the reports still count.
    assert [order(db_session, i).net_sales for i in (ORDER_1002, ORDER_1003)] == [Decimal("70.00"), Decimal("96.00")]
    assert order(db_session, ORDER_1003).note_attributes == [
        {"name": "how_did_you_hear", "value": "@anna.lee on TikTok"}
    ]
    # Nothing else: another customer here, and the same customer id at another store.
    assert _customer(db_session, CUSTOMER_LENA).email == "lena.fischer@example.com"
    assert _customer(db_session, CUSTOMER_JORDAN, OTHER_SHOP).email == "jordan.reyes@example.com"
    assert order(db_session, ORDER_1001).net_sales == Decimal("59.02")
    # The export of their data and every stored body that named them are gone.
    assert count(db_session, DataExport) == 0
    bodies = {e.webhook_id: e.body for e in events(db_session, shop_domain=SHOP)}
    assert not [w for w, b in bodies.items() if "jordan" in b.lower() or "+12155550147" in b]
    assert "lena.fischer@example.com" in bodies["74f8fe4c-b759-4c1b-a3a6-84e54fd70c62"]


def test_a_late_delivery_cannot_bring_a_redacted_customer_back(client, runtime, db_session, run_jobs):
    install_shop(runtime)
    post_recorded_webhook(client, "customers_redact.json")  # before the app ever saw the customer
    run_jobs()

    late = fixture_json("orders_create_link.json")
    late["updated_at"] = "2027-02-01T10:00:00-05:00"
    post_webhook(client, "orders/updated", late)
    post_webhook(
        client, "customers/update", fixture_json("customers_create.json") | {"updated_at": "2027-02-01T10:00:00-05:00"}
    )
    run_jobs()

    jordan = _customer(db_session, CUSTOMER_JORDAN)
    assert (jordan.email, jordan.first_name, jordan.phone) == (None, None, None)
    assert order(db_session, ORDER_1002).customer_id == jordan.id
    assert not [e for e in events(db_session) if "jordan" in e.body.lower()]


def _rows_of_shop(session, shop_id):
    rows = {}
    for table in models.Base.metadata.sorted_tables:
        if "shop_id" in table.c:
            rows[table.name] = session.scalar(select(func.count()).select_from(table).where(table.c.shop_id == shop_id))
    return rows


def test_shop_redact_deletes_everything_of_the_shop_and_nothing_else(client, api, runtime, db_session, run_jobs):
    install_shop(runtime, OTHER_SHOP)
    _load_story(client, run_jobs)
    post_recorded_webhook(client, "customers_data_request.json")
    run_jobs()
    shop_id = db_session.scalar(select(Shop.id).where(Shop.domain == SHOP))
    other_id = db_session.scalar(select(Shop.id).where(Shop.domain == OTHER_SHOP))
    other_before = _rows_of_shop(db_session, other_id)
    assert _rows_of_shop(db_session, shop_id)["orders"] == 3

    post_recorded_webhook(client, "app_uninstalled.json")
    run_jobs()
    assert post_recorded_webhook(client, "shop_redact.json").status_code == 200
    run_jobs()

    db_session.expire_all()
    assert db_session.scalar(select(Shop).where(Shop.domain == SHOP)) is None
    assert set(_rows_of_shop(db_session, shop_id).values()) == {0}
    assert [(e.topic, e.status) for e in events(db_session, shop_domain=SHOP)] == [("shop/redact", "processed")]
    assert _rows_of_shop(db_session, other_id) == other_before
    assert _customer(db_session, CUSTOMER_JORDAN, OTHER_SHOP).email == "jordan.reyes@example.com"
    assert count(db_session, WebhookEvent, WebhookEvent.shop_domain == OTHER_SHOP) == 1


def test_shop_redact_for_a_shop_that_installed_again_erases_nothing(client, api, db_session, run_jobs):
    post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()

    post_recorded_webhook(client, "shop_redact.json")
    run_jobs()

    assert events(db_session, topic="shop/redact")[0].status == "ignored"
    assert order(db_session, ORDER_1001).net_sales == Decimal("95.91")


def test_compliance_deliveries_with_a_bad_hmac_are_refused(client, runtime, db_session):
    install_shop(runtime)
    for name in ("customers_data_request.json", "customers_redact.json", "shop_redact.json"):
        response = post_webhook(client, "customers/redact", fixture_text(name), secret="not-the-app-secret")
        assert response.status_code == 401
    assert count(db_session, WebhookEvent) == 0
    assert count(db_session, Shop) == 1
