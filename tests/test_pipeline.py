"""The worker side: topic dispatch, upserts that survive any delivery order, failures that
stay alone, retries, sweeps and the operator's commands."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from factories import OTHER_SHOP, SHOP
from factories.registry import install_shop
from factories.shopify import CUSTOMER_JORDAN, ORDER_1001, ORDER_1002, fixture_json, fixture_text, with_ids
from factories.store import count, events, order
from factories.webhooks import post_recorded_webhook, post_webhook, sweep_now
from models import Attribution, Customer, Order, Refund, Shop, WebhookEvent
from processes import closed_port_url
from worker import engine, inbox, jobs
from worker.runtime import bind

STORY_1001 = [
    ("orders/create", "orders_create_code.json"),
    ("refunds/create", "refunds_create_partial.json"),
    ("orders/updated", "orders_updated_cancelled.json"),
]
REFUND_PARTIAL, REFUND_CANCEL = 912345678901, 912345678955


@pytest.fixture
def shop_id(runtime):  # type: ignore[no-untyped-def]
    return install_shop(runtime)


def test_the_fixture_story_gives_the_reference_figures(client, shop_id, db_session, run_jobs):
    post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()
    assert order(db_session, ORDER_1001).net_sales == Decimal("95.91")

    post_recorded_webhook(client, "refunds_create_partial.json")
    run_jobs()
    assert order(db_session, ORDER_1001).net_sales == Decimal("59.02")

    post_recorded_webhook(client, "orders_updated_cancelled.json")
    run_jobs()
    cancelled = order(db_session, ORDER_1001)
    assert cancelled.net_sales == Decimal("0.00")
    assert cancelled.subtotal == Decimal("95.91")
    assert cancelled.cancelled_at == datetime(2026, 10, 17, 13, 5, 44, tzinfo=timezone.utc)
    assert cancelled.financial_status == "refunded"
    assert cancelled.codes == ["ANNA15"]
    # The partial refund came twice (refunds/create, then inside orders/updated): stored once.
    refunds = {r.shopify_id: r.merchandise for r in db_session.scalars(select(Refund))}
    assert refunds == {REFUND_PARTIAL: Decimal("36.89"), REFUND_CANCEL: Decimal("59.02")}


@pytest.mark.parametrize("arrival", list(itertools.permutations(range(3))))
def test_any_arrival_order_ends_in_the_same_state(client, shop_id, db_session, run_jobs, arrival):
    for index in arrival:
        topic, name = STORY_1001[index]
        assert post_webhook(client, topic, fixture_text(name)).status_code == 200
        run_jobs()

    final = order(db_session, ORDER_1001)
    assert (final.net_sales, final.subtotal, final.financial_status) == (Decimal("0.00"), Decimal("95.91"), "refunded")
    assert final.cancelled_at is not None
    newest = fixture_json("orders_updated_cancelled.json")["updated_at"]
    assert final.shopify_updated_at == datetime.fromisoformat(newest).astimezone(timezone.utc)
    assert count(db_session, Refund) == 2
    assert count(db_session, Order) == 1


def test_updated_before_create_keeps_the_newest_and_the_older_payload_changes_nothing(
    client, shop_id, db_session, run_jobs
):
    post_recorded_webhook(client, "orders_updated_cancelled.json")
    run_jobs()
    before = order(db_session, ORDER_1001)
    snapshot = (before.net_sales, before.cancelled_at, before.financial_status, before.shopify_updated_at)

    post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()

    after = order(db_session, ORDER_1001)
    assert (after.net_sales, after.cancelled_at, after.financial_status, after.shopify_updated_at) == snapshot
    assert after.financial_status == "refunded"
    assert [e.status for e in events(db_session)] == ["processed", "processed"]


def test_a_refund_before_its_order_is_kept_and_applied_when_the_order_lands(client, shop_id, db_session, run_jobs):
    post_recorded_webhook(client, "refunds_create_partial.json")
    run_jobs()
    (refund,) = db_session.scalars(select(Refund))
    assert (refund.shopify_order_id, refund.merchandise) == (ORDER_1001, Decimal("36.89"))
    assert order(db_session, ORDER_1001) is None

    post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()

    assert order(db_session, ORDER_1001).net_sales == Decimal("59.02")


def test_a_payload_missing_what_the_worker_needs_fails_alone(client, shop_id, db_session, run_jobs):
    broken = fixture_json("orders_create_code.json")
    del broken["id"]
    no_time = fixture_json("orders_create_link.json")
    no_time["created_at"] = no_time["processed_at"] = None
    post_recorded_webhook(client, "orders_create_code.json")
    post_webhook(client, "orders/create", broken)
    post_webhook(client, "orders/create", no_time)
    post_webhook(client, "refunds/create", {"id": 1, "refund_line_items": []})
    post_recorded_webhook(client, "orders_create_link.json")
    run_jobs()

    stored = events(db_session)
    assert [e.status for e in stored] == ["processed", "failed", "failed", "failed", "processed"]
    assert "`id`" in stored[1].error
    assert "`created_at`" in stored[2].error
    assert "`order_id`" in stored[3].error
    # Retrying the same body cannot help: not scheduled again, attempts kept.
    assert [(e.attempts, e.next_attempt_at) for e in stored[1:4]] == [(1, None)] * 3
    assert count(db_session, Order) == 2


def test_a_failed_event_that_is_due_is_retried_by_the_sweep(client, shop_id, db_session, runtime, run_jobs):
    with runtime.db.session() as session:
        session.add(
            WebhookEvent(
                shop_domain=SHOP,
                shop_id=shop_id,
                webhook_id="retry-1",
                topic="orders/create",
                body=fixture_text("orders_create_code.json"),
                status="failed",
                attempts=2,
                error="OperationalError: could not serialize access",
                next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1),
            )
        )
        session.add(
            WebhookEvent(
                shop_domain=SHOP,
                shop_id=shop_id,
                webhook_id="not-yet",
                topic="orders/create",
                body=fixture_text("orders_create_link.json"),
                status="failed",
                attempts=1,
                error="OperationalError: deadlock detected",
                next_attempt_at=datetime.now(timezone.utc) + timedelta(hours=1),
            )
        )

    sweep_now(runtime, run_jobs)

    due, later = events(db_session)
    assert (due.status, due.attempts, due.error) == ("processed", 3, None)
    assert (later.status, later.attempts) == ("failed", 1)
    assert order(db_session, ORDER_1001).net_sales == Decimal("95.91")
    assert order(db_session, ORDER_1002) is None


def test_transient_failures_back_off_and_payload_failures_do_not_retry():
    from sqlalchemy.exc import OperationalError

    from worker.payloads import PayloadError

    event = WebhookEvent(shop_domain=SHOP, webhook_id="w", topic="orders/create", body="{}", attempts=0)
    delays = []
    for _ in range(inbox.MAX_ATTEMPTS):
        values = inbox.failure_values(event, OperationalError("UPDATE", {}, Exception("deadlock detected")), "job-1")
        for name, value in values.items():
            setattr(event, name, value)
        delays.append(event.next_attempt_at and (event.next_attempt_at - event.processed_at).total_seconds())
    assert delays[:3] == [30, 60, 120]
    assert delays[-1] is None  # gave up after MAX_ATTEMPTS: kept failed for an operator
    assert event.error == "Exception: deadlock detected"

    poison = WebhookEvent(shop_domain=SHOP, webhook_id="p", topic="orders/create", body="{}", attempts=0)
    values = inbox.failure_values(poison, PayloadError("order has no usable `id`"), "job-1")
    assert (values["status"], values["attempts"], values["next_attempt_at"]) == ("failed", 1, None)


def test_customers_create_and_an_older_update(client, shop_id, db_session, run_jobs):
    post_recorded_webhook(client, "customers_create.json")
    older = fixture_json("customers_create.json")
    older.update(updated_at="2026-10-01T00:00:00-04:00", first_name="Old", email="old@example.com")
    post_webhook(client, "customers/update", older)
    run_jobs()

    customer = db_session.scalar(select(Customer).where(Customer.shopify_id == CUSTOMER_JORDAN))
    assert (customer.first_name, customer.last_name, customer.email) == ("Jordan", "Reyes", "jordan.reyes@example.com")
    assert customer.first_seen_at == datetime(2026, 10, 15, 23, 47, 12, tzinfo=timezone.utc)

    newer = fixture_json("customers_create.json")
    newer.update(updated_at="2026-12-01T00:00:00-05:00", phone=None, last_name="Reyes-Diaz")
    post_webhook(client, "customers/update", newer)
    run_jobs()

    db_session.expire_all()
    assert (customer.last_name, customer.phone) == ("Reyes-Diaz", None)


def test_an_order_links_its_customer_and_the_first_seen_time_is_the_earliest(client, shop_id, db_session, run_jobs):
    post_recorded_webhook(client, "orders_create_link.json")
    post_recorded_webhook(client, "orders_create_survey.json")
    post_recorded_webhook(client, "customers_create.json")
    run_jobs()

    customer = db_session.scalar(select(Customer).where(Customer.shopify_id == CUSTOMER_JORDAN))
    orders = list(db_session.scalars(select(Order).order_by(Order.placed_at)))
    assert [o.customer_id for o in orders] == [customer.id, customer.id]
    assert [o.net_sales for o in orders] == [Decimal("70.00"), Decimal("96.00")]
    assert customer.first_seen_at == datetime(2026, 10, 15, 23, 47, 12, tzinfo=timezone.utc)
    assert orders[1].note_attributes == [{"name": "how_did_you_hear", "value": "@anna.lee on TikTok"}]


ORDER_REQUIRED = {"id", "created_at"}


def _variants(name: str, required: set[str]):  # type: ignore[no-untyped-def]
    base = fixture_json(name)
    for key in sorted(set(base) - required):
        for how in ("missing", "null"):
            payload = dict(base)
            if how == "missing":
                del payload[key]
            else:
                payload[key] = None
            yield f"{key}:{how}", payload


def test_every_optional_order_field_may_be_missing_or_null(client, shop_id, db_session, run_jobs):
    labels = []
    for number, (label, payload) in enumerate(_variants("orders_create_code.json", ORDER_REQUIRED)):
        payload["id"] = 7000000000000 + number
        labels.append(label)
        assert post_webhook(client, "orders/create", payload).status_code == 200
    # Fields another API version adds are ignored.
    extra = fixture_json("orders_create_code.json")
    extra.update(id=7100000000000, brand_new_field={"nested": [1, 2]}, total_price_set=None)
    post_webhook(client, "orders/updated", extra)
    run_jobs()

    failed = {labels[i]: e.error for i, e in enumerate(events(db_session)[:-1]) if e.status != "processed"}
    assert failed == {}
    assert events(db_session)[-1].status == "processed"
    assert count(db_session, Order) == len(labels) + 1
    # Without a usable subtotal the order is kept, flagged, and counts nothing.
    no_subtotal = order(db_session, 7000000000000 + labels.index("subtotal_price_set:missing"))
    assert no_subtotal.net_sales == Decimal("95.91")  # the plain subtotal_price is still there
    neither = fixture_json("orders_create_code.json")
    neither.update(id=7200000000000, subtotal_price_set=None, subtotal_price=None)
    post_webhook(client, "orders/create", neither)
    run_jobs()
    flagged = order(db_session, 7200000000000)
    assert (flagged.net_sales, flagged.subtotal, flagged.flagged) == (
        Decimal("0.00"),
        None,
        "no subtotal in the order payload",
    )


def test_refund_and_customer_payloads_tolerate_missing_and_null_fields(client, shop_id, db_session, run_jobs):
    post_recorded_webhook(client, "orders_create_code.json")
    refund_variants = list(_variants("refunds_create_partial.json", {"id", "order_id", "refund_line_items"}))
    for number, (_, payload) in enumerate(refund_variants):
        payload["id"] = 990000000000 + number
        payload["refund_line_items"] = [
            {**line, "subtotal_set": None} if number % 2 else line for line in payload["refund_line_items"]
        ]
        post_webhook(client, "refunds/create", payload)
    customer_variants = list(_variants("customers_create.json", {"id"}))
    for number, (_, payload) in enumerate(customer_variants):
        payload["id"] = 8200000000000 + number
        post_webhook(client, "customers/create", payload)
    run_jobs()

    assert {e.status for e in events(db_session)} == {"processed"}
    assert count(db_session, Refund) == len(refund_variants)
    assert count(db_session, Customer) == len(customer_variants) + 1
    # Each distinct refund counts once; the subtotal never goes below zero.
    assert order(db_session, ORDER_1001).net_sales == Decimal("0.00")


def test_64_bit_ids_stay_exact_integers(client, shop_id, db_session, run_jobs):
    big = 9007199254740993  # 2**53 + 1: a float would make it ...992
    body = with_ids(fixture_text("orders_create_code.json"), {ORDER_1001: big})
    post_webhook(client, "orders/create", body)
    run_jobs()

    stored = order(db_session, big)
    assert stored is not None and stored.shopify_id == big
    assert json.loads(events(db_session)[0].body)["id"] == big


def test_app_uninstalled_with_every_shop_field_null_uninstalls_the_shop(
    client, api, db_session, run_jobs, fake_shopify
):
    body = {key: None for key in fixture_json("app_uninstalled.json")}

    assert post_webhook(client, "app/uninstalled", body).status_code == 200
    run_jobs()

    shop = db_session.scalar(select(Shop).where(Shop.domain == SHOP))
    assert shop.uninstalled_at is not None
    assert (shop.access_token_enc, shop.refresh_token_enc) == (None, None)
    fake_shopify.reject_subject_tokens = True
    response = api.get("/api/v1/shop")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    # Later deliveries for the uninstalled shop are acknowledged and dropped.
    assert post_recorded_webhook(client, "orders_create_code.json").get_json()["status"] == "dropped"


def test_an_uninstall_stored_before_a_reinstall_changes_nothing(app_config, client, api, db_session, runtime, run_jobs):
    from plugin import create_app

    behind = create_app({**app_config, "REDIS_URL": closed_port_url()})  # workers cannot be reached
    try:
        response = post_webhook(behind.test_client(), "app/uninstalled", fixture_json("app_uninstalled.json"))
    finally:
        behind.extensions["creator_roi"].db.dispose()
    with runtime.db.session() as session:  # meanwhile the merchant uninstalled and installed again
        shop = session.scalar(select(Shop).where(Shop.domain == SHOP))
        shop.installed_at = datetime.now(timezone.utc)

    sweep_now(runtime, run_jobs)

    assert response.status_code == 200
    (event,) = events(db_session)
    assert (event.status, event.error) == ("ignored", "the shop was installed again after this uninstall")
    assert db_session.scalar(select(Shop).where(Shop.domain == SHOP)).is_installed
    assert api.get("/api/v1/shop").status_code == 200


def test_concurrent_deliveries_of_one_order_make_one_row_with_the_right_figures(runtime, shop_id, db_session, client):
    """Different deliveries of one order processed at the same time by several workers."""
    bodies = [("orders/create", fixture_text("orders_create_code.json"))] * 3 + [
        ("refunds/create", fixture_text("refunds_create_partial.json")),
        ("orders/paid", fixture_text("orders_create_code.json")),
        ("orders/updated", fixture_text("orders_updated_cancelled.json")),
    ] * 2
    with runtime.db.session() as session:
        for number, (topic, body) in enumerate(bodies):
            session.add(
                WebhookEvent(
                    shop_domain=SHOP,
                    shop_id=shop_id,
                    webhook_id=f"c-{number}",
                    topic=topic,
                    body=body,
                    status="pending",
                )
            )
    ids = [e.id for e in events(db_session)]
    start = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def work(event_id: int) -> None:
        start.wait()
        with bind(runtime):
            outcomes.append(inbox.process_event(event_id))

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["processed"] * len(ids)
    assert count(db_session, Order) == 1
    assert count(db_session, Refund) == 2
    assert order(db_session, ORDER_1001).net_sales == Decimal("0.00")


def test_two_drains_of_one_shop_share_the_work_without_overlap(runtime, shop_id, db_session):
    template = fixture_text("orders_create_link.json")
    with runtime.db.session() as session:
        for number in range(120):
            session.add(
                WebhookEvent(
                    shop_domain=SHOP,
                    shop_id=shop_id,
                    webhook_id=f"d-{number}",
                    topic="orders/create",
                    body=with_ids(template, {ORDER_1002: 6100000000000 + number}),
                    status="pending",
                )
            )
    results: list[dict] = []

    def drain() -> None:
        with bind(runtime):
            results.append(jobs.drain_inbox(SHOP))

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["processed"] for r in results) == 120
    assert [e.attempts for e in events(db_session)] == [1] * 120
    assert count(db_session, Order) == 120


def test_an_order_the_engine_cannot_take_fails_alone_and_the_batch_goes_on(runtime, shop_id, db_session, monkeypatch):
    template = fixture_text("orders_create_link.json")
    poison = 6200000000003
    with runtime.db.session() as session:
        for number in range(6):
            session.add(
                WebhookEvent(
                    shop_domain=SHOP,
                    shop_id=shop_id,
                    webhook_id=f"e-{number}",
                    topic="orders/create",
                    body=with_ids(template, {ORDER_1002: 6200000000000 + number}),
                    status="pending",
                )
            )
    real = engine.orders_changed

    def engine_failing_on_one_order(session, batch, shop, order_ids):  # type: ignore[no-untyped-def]
        if session.scalar(select(Order.id).where(Order.shopify_id == poison)) in order_ids:
            raise RuntimeError("the engine cannot take this order")
        return real(session, batch, shop, order_ids)

    monkeypatch.setattr(engine, "orders_changed", engine_failing_on_one_order)
    with bind(runtime):
        result = jobs.drain_inbox(SHOP)

    assert (result["processed"], result["failed"]) == (5, 1)
    stored = events(db_session)
    assert [e.status for e in stored] == ["processed"] * 3 + ["failed"] + ["processed"] * 2
    assert "the engine cannot take this order" in stored[3].error
    # The failed event left nothing behind; every other order is stored and attributed.
    assert order(db_session, poison) is None
    assert count(db_session, Order) == 5
    assert count(db_session, Attribution) == 5


def test_sync_reports_the_shops_webhook_health(client, api, other_api, db_session, run_jobs):
    post_recorded_webhook(client, "orders_create_code.json")
    post_webhook(client, "orders/create", {"note": "no id"}, webhook_id="broken-1")
    post_webhook(client, "products/create", {"id": 1})
    run_jobs()
    post_webhook(client, "orders/create", fixture_text("orders_create_link.json"), shop=OTHER_SHOP)
    run_jobs()

    body = api.get("/api/v1/sync").get_json()

    assert {k: body[k] for k in ("received", "pending", "processed", "failed")} == {
        "received": 3,
        "pending": 0,
        "processed": 2,
        "failed": 1,
    }
    assert body["last_error"]["webhook_id"] == "broken-1"
    assert body["last_error"]["topic"] == "orders/create"
    assert "`id`" in body["last_error"]["error"]
    assert body["last_received_at"].startswith(str(datetime.now(timezone.utc).year))
    other = other_api.get("/api/v1/sync").get_json()
    assert (other["received"], other["failed"], other["last_error"]) == (1, 0, None)


def test_sync_needs_a_session_token(client):
    response = client.get("/api/v1/sync")

    assert response.status_code == 401


def test_events_command_lists_failed_events_and_retries_them(client, runner, shop_id, db_session, run_jobs, runtime):
    post_webhook(client, "orders/create", {"note": "no id"}, webhook_id="broken-1")
    post_recorded_webhook(client, "orders_create_code.json")
    run_jobs()
    with runtime.db.session() as session:
        session.add(
            WebhookEvent(
                shop_domain=SHOP,
                shop_id=shop_id,
                webhook_id="gave-up",
                topic="orders/create",
                body=fixture_text("orders_create_link.json"),
                status="failed",
                attempts=8,
                error="RuntimeError: engine bug, fixed since",
            )
        )

    listed = runner.invoke(args=["events"])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if line.startswith("id=")]
    assert len(lines) == 2
    assert "webhook_id=broken-1" in lines[0] and "attempts=1" in lines[0] and "`id`" in lines[0]
    assert "webhook_id=gave-up" in lines[1]
    assert "webhook_id=" in runner.invoke(args=["events", "--status", "processed"]).output

    retried = runner.invoke(args=["events", "--retry"])

    assert retried.exit_code == 0, retried.output
    assert "retried 1 failed, 1 processed" in retried.output
    broken, _, gave_up = events(db_session)
    assert (broken.status, broken.attempts) == ("failed", 2)
    assert (gave_up.status, gave_up.attempts, gave_up.error) == ("processed", 9, None)
    assert order(db_session, ORDER_1002).net_sales == Decimal("70.00")


def test_sweep_command_processes_what_was_left_pending(runner, runtime, shop_id, db_session, run_jobs):
    with runtime.db.session() as session:
        for number, name in enumerate(("orders_create_code.json", "refunds_create_partial.json")):
            session.add(
                WebhookEvent(
                    shop_domain=SHOP,
                    shop_id=shop_id,
                    webhook_id=f"left-{number}",
                    topic="orders/create" if number == 0 else "refunds/create",
                    body=fixture_text(name),
                    status="pending",
                )
            )

    result = runner.invoke(args=["sweep"])
    run_jobs()

    assert result.exit_code == 0, result.output
    assert "drains scheduled: 1" in result.output
    assert [e.status for e in events(db_session)] == ["processed", "processed"]
    assert order(db_session, ORDER_1001).net_sales == Decimal("59.02")


def test_processing_logs_are_key_value_lines_without_personal_data(client, shop_id, run_jobs, caplog):
    caplog.set_level(logging.DEBUG)
    post_recorded_webhook(client, "orders_create_code.json")
    post_recorded_webhook(client, "customers_create.json")
    run_jobs()

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("creator_roi")]
    processed = [line for line in lines if line.startswith("event=webhook_processed")]
    assert len(processed) == 2
    assert all(
        f"shop={SHOP}" in line and "topic=" in line and "webhook_id=" in line and "job_id=" in line
        for line in processed
    )
    assert not [line for line in lines if "@example.com" in line or "shpat_" in line]


def test_a_worker_stops_at_once_when_its_pubsub_thread_is_between_waits(runtime):
    """A worker's shutdown (a burst's end, a deploy's SIGTERM) does not wait out the 60 s its
    pubsub thread may have just begun to wait for a channel it no longer has."""
    if not runtime.redis_url:
        pytest.skip("needs Redis (TEST_REDIS_URL)")
    from redis import Redis

    from plugin.cli_pipeline import worker_class
    from worker.queue import rq_queue

    worker = worker_class()([rq_queue(runtime)], connection=Redis.from_url(runtime.redis_url))
    worker.subscribe()
    time.sleep(0.3)  # subscribed: the thread waits for a command
    worker.pubsub.unsubscribe()  # the thread wakes on the reply ...
    time.sleep(0.5)  # ... and, with no channel left, begins a wait of up to 60 s
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    started = time.monotonic()
    stopping.start()
    stopping.join(timeout=20)

    assert not stopping.is_alive()
    assert time.monotonic() - started < 5
