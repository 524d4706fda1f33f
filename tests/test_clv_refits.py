"""Predicted CLV is fitted by jobs, never by a page or an API read, and every report says
when it was fitted: a drain that changed orders asks for a refit (at most one an hour per
shop), the sweeper refits stale figures, a new horizon refits at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from factories import SHOP
from factories.admin import session_token
from factories.registry import make_creator, shop_id_of
from factories.shopify import order_payload
from factories.webhooks import post_webhook, sweep_now
from models import CreatorClv

T0 = datetime(2026, 9, 10, 15, 0, tzinfo=UTC)
RANGE = "from=2026-09-01&to=2026-09-30"


@pytest.fixture
def acquired(api, runtime, run_jobs) -> int:
    """Anna's code brought two customers, one of whom came back; delivered as Shopify does."""
    shop_id = shop_id_of(runtime, SHOP)
    make_creator(runtime, shop_id, "anna.lee", codes=("ANNA15",), name="Anna Lee")
    for body in (
        order_payload(placed_at=T0, codes=("ANNA15",), net="100.00", customer_id=1),
        order_payload(placed_at=T0 + timedelta(days=5), net="40.00", customer_id=1),
        order_payload(placed_at=T0, codes=("ANNA15",), net="30.00", customer_id=2),
    ):
        assert post_webhook(api.client, "orders/create", body).status_code == 200
    return shop_id


def never_fitted(runtime, shop_id: int) -> None:
    """No stored figures, and no refit asked for lately."""
    from worker.jobs import CLV_PENDING_KEY

    with runtime.db.session() as s:
        s.execute(CreatorClv.__table__.delete())
    if runtime.redis_url:
        runtime.redis().delete(CLV_PENDING_KEY.format(shop_id=shop_id))


def overview(client) -> str:
    return client.get(f"/app?{RANGE}&shop={SHOP}&host=aG9zdA&id_token={session_token(SHOP)}").get_data(as_text=True)


def stored_fits(runtime, shop_id: int) -> list[datetime]:
    with runtime.db.session() as s:
        return list(s.scalars(select(CreatorClv.computed_at).where(CreatorClv.shop_id == shop_id)))


def queued(runtime, name: str) -> int:
    from worker.queue import rq_queue

    return sum(1 for job in rq_queue(runtime).jobs if job.func_name == f"worker.jobs.{name}")


def test_reading_the_report_never_fits_and_says_it_is_not_fitted_yet(api, runtime, run_jobs, acquired) -> None:
    run_jobs()  # with a queue, the drains and the refit they asked for
    never_fitted(runtime, acquired)

    report = api.get(f"/api/v1/roi?{RANGE}").get_json()
    api.get(f"/api/v1/roi.csv?{RANGE}")

    assert report["clv_fitted_at"] is None
    assert "Predicted CLV not fitted yet" in overview(api.client)
    assert stored_fits(runtime, acquired) == []
    if runtime.redis_url:
        assert queued(runtime, "clv_job") == 0


def test_the_sweeper_fits_what_was_never_fitted_and_the_report_says_when(api, runtime, run_jobs, acquired) -> None:
    run_jobs()
    never_fitted(runtime, acquired)

    result = sweep_now(runtime, run_jobs)

    assert result["clv_stale"] == 1
    fitted = stored_fits(runtime, acquired)
    assert len(fitted) == 1
    report = api.get(f"/api/v1/roi?{RANGE}").get_json()
    assert datetime.fromisoformat(report["clv_fitted_at"]) == fitted[0]
    html = overview(api.client)
    assert "Predicted CLV fitted" in html and "not fitted yet" not in html


def test_a_drain_that_changed_orders_refits_once_an_hour(api, runtime, run_jobs, acquired) -> None:
    if not runtime.redis_url:
        pytest.skip("without a queue a drain is a webhook's request: the sweep refits later")
    run_jobs()
    first = stored_fits(runtime, acquired)
    assert len(first) == 1

    body = order_payload(placed_at=T0 + timedelta(days=9), net="25.00", customer_id=2)
    assert post_webhook(api.client, "orders/create", body).status_code == 200
    run_jobs()

    assert stored_fits(runtime, acquired) == first  # asked again within the hour: held off


def test_the_sweeper_refits_figures_a_day_old(api, runtime, run_jobs, acquired) -> None:
    sweep_now(runtime, run_jobs)
    old = datetime.now(UTC) - timedelta(days=2)
    with runtime.db.session() as s:
        s.execute(update(CreatorClv).values(computed_at=old))
    if runtime.redis_url:
        runtime.redis().flushdb()  # the hour since the last refit has passed

    sweep_now(runtime, run_jobs)

    assert min(stored_fits(runtime, acquired)) > old + timedelta(days=1)


def test_a_new_horizon_refits_at_once(api, runtime, run_jobs, acquired) -> None:
    sweep_now(runtime, run_jobs)

    assert api.patch("/api/v1/shop/settings", json={"clv_horizon_months": 24}).status_code == 200
    run_jobs()

    with runtime.db.session() as s:
        horizons = set(s.scalars(select(CreatorClv.horizon_months).where(CreatorClv.shop_id == acquired)))
        assert horizons == {24}
        assert s.scalar(select(func.count()).select_from(CreatorClv)) == 1
