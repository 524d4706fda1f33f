"""POST /webhooks: what Shopify and an attacker see, and what lands in the inbox."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from factories import API_SECRET, OTHER_SHOP, SHOP
from factories.registry import install_shop
from factories.shopify import ORDER_1001, fixture_text, recorded_delivery, webhook_headers
from factories.store import count, events, order
from factories.webhooks import post_recorded_webhook, post_webhook, sweep_now
from models import WebhookEvent
from plugin import create_app
from processes import closed_port_url, hanging_redis


@pytest.fixture
def shop_id(runtime):  # type: ignore[no-untyped-def]
    return install_shop(runtime)


def test_a_delivery_is_stored_with_its_headers_and_processed(client, runtime, shop_id, db_session, run_jobs):
    body, headers = recorded_delivery("orders_create_code.json")

    response = client.post("/webhooks", data=body, headers=headers)

    assert response.status_code == 200
    (event,) = events(db_session)
    assert (event.shop_domain, event.shop_id, event.topic) == (SHOP, shop_id, "orders/create")
    assert event.webhook_id == "74f8fe4c-b759-4c1b-a3a6-84e54fd70c62"
    assert event.event_id == "41d28743-b3d5-4c5f-9df0-0efcf125a5f8"
    assert event.api_version == "2026-10"
    assert event.triggered_at == datetime(2026, 10, 14, 14, 32, 10, 184224, tzinfo=timezone.utc)
    assert event.body.encode() == body
    run_jobs()
    assert events(db_session)[0].status == "processed"
    assert order(db_session, ORDER_1001).net_sales == Decimal("95.91")


def test_a_body_is_stored_intact_and_compressed_with_lz4_on_postgresql(client, runtime, shop_id, db_session):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    from sqlalchemy import text

    body, headers = recorded_delivery("orders_create_code.json")

    assert client.post("/webhooks", data=body, headers=headers).status_code == 200
    stored, method = db_session.execute(text("SELECT body, pg_column_compression(body) FROM webhook_events")).one()
    assert stored.encode() == body
    assert method == "lz4"


def test_a_wrong_hmac_is_refused_and_nothing_is_stored(client, shop_id, db_session):
    body, headers = recorded_delivery("orders_create_code.json")
    forged = dict(
        headers,
        **{"X-Shopify-Hmac-Sha256": webhook_headers("orders/create", body, secret="guess")["X-Shopify-Hmac-Sha256"]},
    )
    tampered = body.replace(b'"95.91"', b'"9591.00"')

    assert client.post("/webhooks", data=body, headers=forged).status_code == 401
    assert client.post("/webhooks", data=tampered, headers=headers).status_code == 401
    response = client.post("/webhooks", data=body, headers=dict(headers, **{"X-Shopify-Hmac-Sha256": "bm9wZQ=="}))
    assert response.status_code == 401
    assert "hmac" in response.get_json()["errors"]
    assert count(db_session, WebhookEvent) == 0


def test_the_old_secret_is_accepted_during_a_rotation(app_config, db_session):  # type: ignore[no-untyped-def]
    rotated = create_app({**app_config, "SHOPIFY_API_SECRET": "the-new-secret", "SHOPIFY_OLD_API_SECRET": API_SECRET})
    try:
        install_shop(rotated.extensions["creator_roi"])
        client = rotated.test_client()
        signed_with_new = post_webhook(
            client, "orders/create", fixture_text("orders_create_link.json"), secret="the-new-secret"
        )
        signed_with_old = post_recorded_webhook(client, "orders_create_code.json")
        signed_with_neither = post_webhook(client, "orders/create", "{}", secret="another-secret")
    finally:
        rotated.extensions["creator_roi"].db.dispose()

    assert (signed_with_new.status_code, signed_with_old.status_code) == (200, 200)
    assert signed_with_neither.status_code == 401
    assert count(db_session, WebhookEvent) == 2


@pytest.mark.parametrize(
    "header", ["X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id"]
)
def test_a_missing_header_is_a_bad_request(client, shop_id, db_session, header):
    body, headers = recorded_delivery("orders_create_code.json")
    del headers[header]

    response = client.post("/webhooks", data=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["errors"]
    assert count(db_session, WebhookEvent) == 0


def test_a_shop_header_that_is_not_a_shop_domain_is_a_bad_request(client, shop_id, db_session):
    response = post_webhook(client, "orders/create", fixture_text("orders_create_code.json"), shop="evil.example.com")

    assert response.status_code == 400
    assert count(db_session, WebhookEvent) == 0


@pytest.mark.parametrize("body", [b'{"id": 6012345678901,', b"[1, 2, 3]", b"\xff\xfe{}"])
def test_malformed_json_with_a_valid_hmac_is_a_logged_bad_request(client, shop_id, db_session, caplog, body):
    caplog.set_level(logging.WARNING, logger="creator_roi.webhooks")

    response = post_webhook(client, "orders/create", body)

    assert response.status_code == 400
    assert "body" in response.get_json()["errors"]
    assert count(db_session, WebhookEvent) == 0
    assert any(
        "event=webhook_rejected status=400" in r.getMessage() and f"shop={SHOP}" in r.getMessage()
        for r in caplog.records
    )


def test_an_unknown_topic_is_stored_and_ignored(client, api, db_session, run_jobs):
    response = post_webhook(client, "products/update", {"id": 632910392, "title": "IPod Nano - 8GB"})
    run_jobs()

    assert response.status_code == 200
    (event,) = events(db_session)
    assert (event.topic, event.status) == ("products/update", "ignored")
    assert api.get("/api/v1/sync").get_json()["processed"] == 1


def test_a_redelivery_answers_200_and_schedules_nothing(client, runtime, shop_id, db_session, run_jobs, caplog):
    caplog.set_level(logging.INFO)
    first = post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()
    caplog.clear()

    again = post_recorded_webhook(client, "orders_create_code.json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["status"] == "duplicate"
    assert count(db_session, WebhookEvent) == 1
    if runtime.redis_url:
        from worker.queue import rq_queue

        assert rq_queue(runtime).count == 0
    assert not [r for r in caplog.records if "event=drain_done" in r.getMessage()]


def test_ten_concurrent_copies_of_one_delivery_make_one_event_and_one_order(
    app, runtime, shop_id, db_session, run_jobs
):
    body, headers = recorded_delivery("orders_create_code.json")
    statuses: list[int] = []
    start = threading.Barrier(10)

    def post() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/webhooks", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_jobs()

    assert statuses == [200] * 10
    assert count(db_session, WebhookEvent) == 1
    from models import Order

    assert count(db_session, Order) == 1
    assert order(db_session, ORDER_1001).net_sales == Decimal("95.91")


def test_json_that_python_reads_and_postgresql_would_not_is_stored(client, shop_id, db_session):
    # PostgreSQL's json type refuses NaN; the worker's parser reads it, so the delivery is kept.
    response = post_webhook(client, "products/update", b'{"id": 632910392, "price": NaN}')

    assert response.status_code == 200
    assert response.get_json()["status"] == "stored"
    assert [e.topic for e in events(db_session)] == ["products/update"]


def test_a_delivery_that_takes_a_recently_seen_drain_as_waiting_is_still_drained(
    app, runtime, shop_id, db_session, monkeypatch
):
    if not runtime.redis_url:
        pytest.skip("needs Redis: without it every delivery is drained inline")
    from worker import inbox, jobs
    from worker.queue import rq_queue
    from worker.runtime import bind

    # Wide windows, so the test does not depend on this machine's speed.
    monkeypatch.setattr(inbox, "DRAIN_SEEN_WINDOW", 3.0)
    monkeypatch.setattr(inbox, "DRAIN_MIN_LIFE", 6.0)
    client = app.test_client()
    assert post_recorded_webhook(client, "orders_create_code.json").get_json()["status"] == "stored"
    assert rq_queue(runtime).count == 1
    rq_queue(runtime).empty()  # this test runs the drain itself
    drained: dict = {}

    def drain() -> None:
        with bind(runtime):
            drained.update(jobs.drain_inbox(SHOP))

    drainer = threading.Thread(target=drain)
    drainer.start()
    deadline = time.monotonic() + 2.5
    while [e.status for e in events(db_session)] != ["processed"] and time.monotonic() < deadline:
        db_session.rollback()
        time.sleep(0.02)
    assert [e.status for e in events(db_session)] == ["processed"]
    # The drain has cleared its key and found nothing more; this process saw the key held a
    # moment ago, so it takes the drain as waiting and asks Redis nothing.
    second = post_recorded_webhook(client, "orders_create_link.json")
    assert second.get_json()["status"] == "stored"
    assert rq_queue(runtime).count == 0
    assert not runtime.redis().exists(inbox.drain_key(SHOP))

    drainer.join(timeout=30)
    db_session.rollback()
    assert [e.status for e in events(db_session)] == ["processed", "processed"]
    assert drained["processed"] == 2


def deliver_together(app, deliveries):  # type: ignore[no-untyped-def]
    """Post the deliveries from threads, all arriving while this process has an insert in
    flight, so that they share one statement (PostgreSQL): their answers, in order."""
    writer = app.extensions["creator_roi_inbox"]
    answers: dict[int, Any] = {}

    def post(number: int, args: tuple) -> None:  # type: ignore[type-arg]
        response = post_webhook(app.test_client(), *args[:3], webhook_id=args[3])
        answers[number] = (response.status_code, (response.get_json() or {}).get("status"))

    threads = [threading.Thread(target=post, args=(n, args)) for n, args in enumerate(deliveries)]
    from models.inbox_writer import LANES

    for _ in range(LANES):  # the statements in flight
        writer._turn.acquire()
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(writer._waiting) < len(deliveries) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(writer._waiting) == len(deliveries)
    finally:
        for _ in range(LANES):
            writer._turn.release()
    for thread in threads:
        thread.join(timeout=30)
    return [answers[n] for n in range(len(deliveries))]


def test_deliveries_arriving_together_share_one_statement(app, runtime, shop_id, db_session, monkeypatch):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("deliveries share a statement on PostgreSQL only")
    from models.inbox_writer import InboxWriter

    groups: list[int] = []
    insert_group = InboxWriter._insert_group

    def counted(self, deliveries):  # type: ignore[no-untyped-def]
        groups.append(len(deliveries))
        return insert_group(self, deliveries)

    monkeypatch.setattr(InboxWriter, "_insert_group", counted)
    body = fixture_text("orders_create_code.json")
    deliveries = [("orders/create", body, SHOP, f"together-{n}") for n in range(6)]
    deliveries.append(("orders/create", body, SHOP, "together-2"))  # Shopify sent one twice

    answers = deliver_together(app, deliveries)

    assert groups == [7]
    # Either copy of the twice-sent delivery may be the one stored.
    assert answers[:2] + answers[3:6] == [(200, "stored")] * 5
    assert sorted([answers[2], answers[6]]) == [(200, "duplicate"), (200, "stored")]
    assert sorted(e.webhook_id for e in events(db_session)) == [f"together-{n}" for n in range(6)]


def test_a_connection_in_use_when_the_engine_is_disposed_is_closed_after_its_statement(
    app, runtime, shop_id, db_session, monkeypatch
):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("the writer keeps its own connections on PostgreSQL only")
    import psycopg

    body = fixture_text("orders_create_code.json")
    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="before").status_code == 200
    in_flight = []
    cursor = psycopg.Connection.cursor

    def disposing_meanwhile(conn, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The engine is disposed (a fork, a test, a benchmark) as the writer's statement runs.
        if not in_flight:
            in_flight.append(conn)
            runtime.db.engine.dispose()
        return cursor(conn, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "cursor", disposing_meanwhile)
    answer = post_webhook(app.test_client(), "orders/create", body, webhook_id="during-dispose").get_json()
    monkeypatch.undo()

    assert answer["status"] == "stored"
    (conn,) = in_flight
    assert conn.closed  # not left open until the process exits
    # The next delivery opens a connection of the new pool.
    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="after").get_json()["status"] == "stored"
    assert sorted(e.webhook_id for e in events(db_session)) == ["after", "before", "during-dispose"]


def close_the_writers_connections(runtime) -> None:  # type: ignore[no-untyped-def]
    """End, on the server's side, every connection whose last statement was the inbox insert
    (as a restart, an idle timeout or a proxy would), and wait until they are gone."""
    from sqlalchemy import text

    mine = (
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND query LIKE '%INSERT INTO webhook_events%'"
    )
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(pg_terminate_backend(pid)) {mine}")).scalar() >= 1
        deadline = time.monotonic() + 10
        while conn.execute(text(f"SELECT count(*) {mine}")).scalar() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_a_writer_connection_the_server_closed_fails_one_answer_and_the_retry_is_stored(
    app, runtime, shop_id, db_session, monkeypatch
):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("the writer keeps its own connections on PostgreSQL only")
    import models.db

    monkeypatch.setattr(models.db, "PING_AFTER_IDLE_SECONDS", float("inf"))  # not pinged: used as it is
    body = fixture_text("orders_create_code.json")
    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="before").get_json()["status"] == "stored"
    close_the_writers_connections(runtime)

    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="retried").status_code == 500  # retried
    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="retried").get_json()["status"] == "stored"
    assert sorted(e.webhook_id for e in events(db_session)) == ["before", "retried"]


def test_a_writer_connection_closed_while_idle_is_replaced_before_a_delivery_uses_it(
    app, runtime, shop_id, db_session, monkeypatch
):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("the writer keeps its own connections on PostgreSQL only")
    import models.db

    monkeypatch.setattr(models.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection counts as idle: pinged
    body = fixture_text("orders_create_code.json")
    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="before").get_json()["status"] == "stored"
    close_the_writers_connections(runtime)

    assert post_webhook(app.test_client(), "orders/create", body, webhook_id="after").get_json()["status"] == "stored"
    assert sorted(e.webhook_id for e in events(db_session)) == ["after", "before"]


def test_a_delivery_that_cannot_share_a_statement_decides_only_its_own_answer(app, runtime, shop_id, db_session):
    if runtime.db.engine.dialect.name != "postgresql":
        pytest.skip("deliveries share a statement on PostgreSQL only")
    body = fixture_text("orders_create_code.json")
    deliveries = [
        ("orders/create", body, SHOP, "good-1"),
        ("orders/create", "[1, 2, 3]", SHOP, "array"),  # not a JSON object: 400
        ("products/update", '{"id": 632910392, "price": NaN}', SHOP, "nan"),  # PostgreSQL's json refuses NaN
        ("orders/create", body, OTHER_SHOP, "unknown-shop"),
        ("orders/create", body, SHOP, "good-2"),
    ]

    answers = deliver_together(app, deliveries)

    assert answers == [(200, "stored"), (400, None), (200, "stored"), (200, "dropped"), (200, "stored")]
    assert sorted(e.webhook_id for e in events(db_session)) == ["good-1", "good-2", "nan"]


def test_a_delivery_for_an_unknown_or_uninstalled_shop_is_acknowledged_and_dropped(client, runtime, db_session, caplog):
    caplog.set_level(logging.INFO, logger="creator_roi.webhooks")
    unknown = post_recorded_webhook(client, "orders_create_code.json")
    install_shop(runtime, OTHER_SHOP)
    with runtime.db.session() as session:
        from worker.installation import find_shop, mark_uninstalled

        mark_uninstalled(session, find_shop(session, OTHER_SHOP))
    uninstalled = post_webhook(client, "orders/create", fixture_text("orders_create_link.json"), shop=OTHER_SHOP)

    assert (unknown.status_code, uninstalled.status_code) == (200, 200)
    assert unknown.get_json()["status"] == uninstalled.get_json()["status"] == "dropped"
    assert count(db_session, WebhookEvent) == 0
    assert any("event=webhook_dropped reason=unknown_shop" in r.getMessage() for r in caplog.records)
    assert any("event=webhook_dropped reason=uninstalled" in r.getMessage() for r in caplog.records)


def test_compliance_topics_are_kept_even_for_an_unknown_shop(client, db_session, run_jobs):
    for name in ("customers_data_request.json", "customers_redact.json"):
        assert post_recorded_webhook(client, name).status_code == 200
    run_jobs()

    stored = events(db_session)
    assert [(e.topic, e.shop_id, e.status) for e in stored] == [
        ("customers/data_request", None, "processed"),
        ("customers/redact", None, "processed"),
    ]

    assert post_recorded_webhook(client, "shop_redact.json").status_code == 200
    run_jobs()

    # shop/redact erases the shop's inbox too, and keeps only its own (id-only) record.
    assert [(e.topic, e.status) for e in events(db_session)] == [("shop/redact", "processed")]


@pytest.mark.parametrize("key", ["myshopify_domain", "shop_domain"])
@pytest.mark.parametrize("escaped", [False, True])
def test_a_body_naming_another_shop_is_refused(client, shop_id, db_session, caplog, key, escaped):
    caplog.set_level(logging.WARNING, logger="creator_roi.webhooks")
    body = json.loads(fixture_text("app_uninstalled.json"))
    body[key] = OTHER_SHOP
    text = json.dumps(body)
    if escaped:  # the same JSON, its key's underscore written as an escape
        text = text.replace(f'"{key}"', '"' + key.replace("_", "\\u005f") + '"')

    response = post_webhook(client, "app/uninstalled", text)

    assert response.status_code == 401
    assert count(db_session, WebhookEvent) == 0
    assert any("reason=body_names_another_shop" in r.getMessage() for r in caplog.records)


def test_a_placeholder_shop_in_a_compliance_body_is_not_another_shop(client, shop_id, db_session, run_jobs):
    body = {"shop_id": 954889, "shop_domain": "{shop}.myshopify.com"}

    response = post_webhook(client, "shop/redact", body)
    run_jobs()

    assert response.status_code == 200
    assert events(db_session)[0].status in ("processed", "ignored")


@pytest.mark.parametrize("broken", ["hangs", "refuses"])
def test_with_redis_broken_the_webhook_answers_fast_and_the_sweep_processes_it(
    app_config, runtime, db_session, run_jobs, broken
):
    install_shop(runtime)
    with hanging_redis() as hanging_url:
        url = hanging_url if broken == "hangs" else closed_port_url()
        degraded = create_app({**app_config, "REDIS_URL": url})
        client = degraded.test_client()
        timings = []
        try:
            for name in ("orders_create_code.json", "refunds_create_partial.json", "orders_create_link.json"):
                started = time.monotonic()
                response = post_recorded_webhook(client, name)
                timings.append(time.monotonic() - started)
                assert response.status_code == 200
        finally:
            degraded.extensions["creator_roi"].db.dispose()

    assert max(timings) < 3.0, timings
    assert [e.status for e in events(db_session)] == ["pending"] * 3

    result = sweep_now(runtime, run_jobs)

    assert result["shops_due"] == 1
    assert [e.status for e in events(db_session)] == ["processed"] * 3
    assert order(db_session, ORDER_1001).net_sales == Decimal("59.02")


def test_a_body_over_the_size_limit_is_refused(client, shop_id, db_session):
    body = b'{"id": 1, "note": "' + b"x" * (5 * 1024 * 1024) + b'"}'

    response = post_webhook(client, "orders/create", body)

    assert response.status_code == 413
    assert count(db_session, WebhookEvent) == 0
