"""Discount codes: registered or created in Shopify (the local fake), unique per shop."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from factories import SHOP
from factories.registry import make_code, make_influencer, make_link
from models import DiscountCode


def _discount_requests(fake_shopify):
    return [
        r
        for r in fake_shopify.requests
        if isinstance(r.json, dict) and "discountCodeBasicCreate" in (r.json.get("query") or "")
    ]


def test_code_created_in_shopify_with_the_merchants_terms(api, fake_shopify, db_session):
    creator = make_influencer(api, name="Maya Kim")
    starts = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    response = api.post(
        f"/api/v1/influencers/{creator['id']}/codes",
        json={
            "code": "MAYA15",
            "percent_off": "15",
            "starts_at": starts.isoformat(),
            "usage_limit": 500,
            "once_per_customer": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "MAYA15"
    assert body["percent_off"] == "15.00"
    assert body["influencer_id"] == creator["id"] and body["influencer"] == "Maya Kim"
    assert body["share_url"] == f"https://{SHOP}/discount/MAYA15?redirect=/"

    [discount] = fake_shopify.discounts[SHOP]
    assert discount["code"] == "MAYA15"
    assert discount["percentage"] == 0.15
    assert discount["usage_limit"] == 500
    assert discount["once_per_customer"] is True
    assert discount["items_all"] is True
    assert discount["starts_at"] == starts.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "Maya Kim" in discount["title"]
    assert body["shopify_discount_id"] == discount["id"]
    stored = db_session.get(DiscountCode, body["id"])
    assert stored.shopify_discount_id == discount["id"] and stored.percent_off == 15


def test_registering_an_existing_code_does_not_call_shopify(api, fake_shopify):
    creator = make_influencer(api)
    response = api.post(
        f"/api/v1/influencers/{creator['id']}/codes", json={"code": " glow10 ", "create_in_shopify": False}
    )
    assert response.status_code == 201
    assert response.get_json()["code"] == "glow10"
    assert response.get_json()["shopify_discount_id"] is None
    assert _discount_requests(fake_shopify) == []


def test_code_is_unique_per_shop_whatever_the_case_and_409_names_the_creator(api, other_api, fake_shopify):
    maya = make_influencer(api, name="Maya Kim")
    ben = make_influencer(api, name="Ben Ode")
    make_code(api, maya["id"], "SUMMER20")
    response = api.post(f"/api/v1/influencers/{ben['id']}/codes", json={"code": "summer20", "percent_off": "20"})
    assert response.status_code == 409
    assert response.get_json()["errors"]["code"] == ["SUMMER20 already belongs to Maya Kim: choose another code."]
    assert _discount_requests(fake_shopify) == []  # refused before asking Shopify
    # Another shop can use the same code.
    other = make_influencer(other_api)
    assert (
        other_api.post(
            f"/api/v1/influencers/{other['id']}/codes", json={"code": "SUMMER20", "create_in_shopify": False}
        ).status_code
        == 201
    )


def test_shopify_user_errors_are_shown_as_422_and_nothing_is_stored(api, fake_shopify, db_session):
    creator = make_influencer(api)
    # The code already exists in the store (made in the Shopify admin, unknown to us).
    fake_shopify.discounts[SHOP] = [{"id": "gid://shopify/DiscountCodeNode/1", "code": "WELCOME"}]
    response = api.post(f"/api/v1/influencers/{creator['id']}/codes", json={"code": "welcome", "percent_off": 10})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "code": [
            "This code already exists in your Shopify store. To use a code made in the Shopify admin (Discounts), "
            "untick “Create this code in Shopify” and add it again: it is registered here without a call to Shopify."
        ]
    }
    assert db_session.scalar(select(func.count()).select_from(DiscountCode)) == 0
    # Registering it instead (it exists in Shopify) works.
    assert (
        api.post(
            f"/api/v1/influencers/{creator['id']}/codes", json={"code": "WELCOME", "create_in_shopify": False}
        ).status_code
        == 201
    )


def test_shopify_failure_is_502_and_nothing_is_stored(api, fake_shopify, db_session):
    creator = make_influencer(api)
    fake_shopify.fail_next(1, status=400)
    response = api.post(f"/api/v1/influencers/{creator['id']}/codes", json={"code": "OOPS", "percent_off": 10})
    assert response.status_code == 502
    [message] = response.get_json()["errors"]["shopify"]
    assert "try again in a moment" not in message
    assert message.startswith("Shopify refused to create the code (answer 400).")
    assert "untick “Create this code in Shopify”" in message
    assert db_session.scalar(select(func.count()).select_from(DiscountCode)) == 0


@pytest.mark.parametrize(
    "status, says",
    [
        (403, "the “write_discounts” permission is missing"),
        (503, "Shopify did not answer, so nothing was saved here. The code may exist in Shopify anyway"),
    ],
)
def test_a_failure_says_what_the_merchant_can_do(api, fake_shopify, db_session, status, says):
    creator = make_influencer(api)
    fake_shopify.fail_next(10, status=status)
    response = api.post(f"/api/v1/influencers/{creator['id']}/codes", json={"code": "OOPS", "percent_off": 10})
    assert response.status_code == 502
    assert says in response.get_json()["errors"]["shopify"][0]
    assert db_session.scalar(select(func.count()).select_from(DiscountCode)) == 0


def test_bad_code_input(api, fake_shopify):
    creator = make_influencer(api)
    url = f"/api/v1/influencers/{creator['id']}/codes"
    cases = [
        ({"code": "NOPCT"}, "percent_off"),  # creating in Shopify needs the discount
        ({"code": "ZERO", "percent_off": 0}, "percent_off"),
        ({"code": "HUGE", "percent_off": "150"}, "percent_off"),
        ({"code": "   ", "create_in_shopify": False}, "code"),
        ({}, "code"),
        ({"code": "X", "create_in_shopify": False, "usage_limit": 5}, "usage_limit"),
        ({"code": "Y", "percent_off": 10, "usage_limit": 0}, "usage_limit"),
    ]
    for body, field in cases:
        response = api.post(url, json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], body
    assert api.post(url, data="code=X", content_type="application/x-www-form-urlencoded").status_code == 400
    assert (
        api.post("/api/v1/influencers/999999/codes", json={"code": "A", "create_in_shopify": False}).status_code == 404
    )
    assert _discount_requests(fake_shopify) == []


def test_share_url_escapes_the_code(api):
    creator = make_influencer(api)
    body = make_code(api, creator["id"], "JÉ+10/É")
    assert body["share_url"].startswith(f"https://{SHOP}/discount/")
    encoded = body["share_url"].split("/discount/", 1)[1].split("?", 1)[0]
    assert "/" not in encoded and unquote(encoded) == "JÉ+10/É"


def test_list_get_move_and_delete_codes(api, db_session):
    maya = make_influencer(api, name="Maya")
    ben = make_influencer(api, name="Ben")
    first = make_code(api, maya["id"], "MAYA1")
    make_code(api, maya["id"], "MAYA2")
    make_code(api, ben["id"], "BEN1")

    mine = api.get(f"/api/v1/influencers/{maya['id']}/codes").get_json()["codes"]
    assert [c["code"] for c in mine] == ["MAYA1", "MAYA2"]
    everyone = api.get("/api/v1/codes").get_json()["codes"]
    assert [c["code"] for c in everyone] == ["BEN1", "MAYA1", "MAYA2"]
    assert [c["code"] for c in api.get(f"/api/v1/codes?influencer_id={ben['id']}").get_json()["codes"]] == ["BEN1"]
    assert api.get(f"/api/v1/codes/{first['id']}").get_json()["influencer"] == "Maya"

    link = make_link(api, maya["id"], discount_code_id=first["id"])
    moved = api.patch(f"/api/v1/codes/{first['id']}", json={"influencer_id": ben["id"]})
    assert moved.status_code == 200
    assert moved.get_json()["influencer_id"] == ben["id"] and moved.get_json()["influencer"] == "Ben"
    # Maya's link no longer applies a code that is now Ben's.
    assert api.get(f"/api/v1/links/{link['id']}").get_json()["discount_code_id"] is None
    assert api.patch(f"/api/v1/codes/{first['id']}", json={"influencer_id": 999999}).status_code == 404
    assert api.patch(f"/api/v1/codes/{first['id']}", json={}).status_code == 422

    assert api.delete(f"/api/v1/codes/{first['id']}").status_code == 204
    assert api.get(f"/api/v1/codes/{first['id']}").status_code == 404
    assert db_session.get(DiscountCode, first["id"]) is None
    # The code is free again.
    make_code(api, maya["id"], "maya1")


def test_code_changes_schedule_a_reattribution_that_runs(api, runtime, run_jobs):
    if not runtime.redis_url:
        pytest.skip("inline jobs: the re-attribution runs inside the request")
    from rq import Queue

    creator = make_influencer(api)
    code = make_code(api, creator["id"], "REATTR")
    assert api.delete(f"/api/v1/codes/{code['id']}").status_code == 204
    queue = Queue(runtime.queue_name, connection=runtime.redis())
    jobs = [job for job in queue.jobs if job.func_name == "worker.jobs.reattribute_job"]
    assert [job.args for job in jobs] == [(creator_shop_id(api),)] * 2
    run_jobs()
    assert [job.get_status(refresh=True) for job in jobs] == ["finished", "finished"]


def creator_shop_id(api) -> int:
    from models import Shop

    db = api.client.application.extensions["creator_roi"].db
    with db.session() as session:
        return session.scalar(select(Shop.id).where(Shop.domain == SHOP))
