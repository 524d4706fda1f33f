"""A creator's orders as the merchant pages through them: the true count (not "newest 100"),
pages and a first/repeat filter, a link from each order to the order in the Shopify admin, an
evidence page per order with the rule, the click and its time, the survey answer and the refunds
netted, and referral links that show their clicks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from factories import OTHER_SHOP, SHOP
from factories.registry import make_click, make_code, make_influencer, make_link, shop_id_of
from factories.shopify import order_payload, refund_payload
from factories.store import order as stored_order
from factories.webhooks import store_and_process
from models import Order
from test_dashboard import page

START = datetime(2026, 10, 1, 12, tzinfo=UTC)
FIRSTS, REPEATS = 70, 15
ADMIN = "https://admin.shopify.com/store/lumen-skin/orders/"


@pytest.fixture
def mia(api, runtime, run_jobs):  # type: ignore[no-untyped-def]
    """Mia, with a code used by 70 new customers, 15 of whom came back (85 orders in all)."""
    creator = make_influencer(api, name="Mia Park", handle="mia.park", platform="tiktok")
    make_code(api, creator["id"], "MIA10")
    make_link(api, creator["id"], slug="mia-park")
    for i in range(FIRSTS):
        body = order_payload(
            placed_at=START + timedelta(hours=i), codes=("MIA10",), customer_id=5_000 + i, name=f"#F{i:03}"
        )
        assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
    for i in range(REPEATS):
        body = order_payload(placed_at=START + timedelta(days=10, hours=i), customer_id=5_000 + i, name=f"#R{i:03}")
        assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
    run_jobs()
    return creator


def order_rows(html: str) -> list[tuple[str, str]]:
    """(order name, Shopify admin link) of each row of the orders table."""
    rows = re.findall(r'<tr data-order="\d+">(.*?)</tr>', html, re.S)
    return [
        (
            re.search(r'<th scope="row"[^>]*><a [^>]*>([^<]+)</a>', row).group(1),  # type: ignore[union-attr]
            re.search(r'<a href="(https://admin\.shopify\.com/[^"]+)" target="_blank"', row).group(1),  # type: ignore[union-attr]
        )
        for row in rows
    ]


def test_orders_are_paged_with_the_true_count(client, mia):
    first = page(client, f"/app/creators/{mia['id']}").get_data(as_text=True)
    assert 'Attributed orders <span class="sub" id="orders-count">(85, all time)' in first
    assert "newest 100" not in first
    assert "1–50 of 85 · page 1 of 2" in first
    rows = order_rows(first)
    assert len(rows) == 50 and rows[0][0] == "#R014"  # newest first
    second = page(client, f"/app/creators/{mia['id']}?order_page=2").get_data(as_text=True)
    assert "51–85 of 85 · page 2 of 2" in second
    names = [name for name, _ in rows + order_rows(second)]
    assert len(names) == len(set(names)) == FIRSTS + REPEATS
    # A page past the end shows the last one; a bad page number the first.
    assert "51–85 of 85" in page(client, f"/app/creators/{mia['id']}?order_page=9").get_data(as_text=True)
    assert "1–50 of 85" in page(client, f"/app/creators/{mia['id']}?order_page=x").get_data(as_text=True)


def test_orders_filter_by_first_or_repeat_with_their_counts(client, mia):
    html = page(client, f"/app/creators/{mia['id']}?orders=repeat").get_data(as_text=True)
    assert "All (85)" in html and "First orders (70)" in html and "Repeat orders (15)" in html
    assert "(15 repeat, all time)" in html
    rows = order_rows(html)
    assert sorted(name for name, _ in rows) == [f"#R{i:03}" for i in range(REPEATS)]
    assert 'class="pager"' not in html  # one page
    firsts = page(client, f"/app/creators/{mia['id']}?orders=first&order_page=2").get_data(as_text=True)
    assert "51–70 of 70" in firsts and all(name.startswith("#F") for name, _ in order_rows(firsts))


def test_each_order_links_to_the_order_in_the_shopify_admin(client, runtime, mia):
    html = page(client, f"/app/creators/{mia['id']}?orders=first").get_data(as_text=True)
    (name, link), *_ = order_rows(html)
    with runtime.db.session() as s:
        shopify_id = s.scalar(select(Order.shopify_id).where(Order.name == name))
    assert link == ADMIN + str(shopify_id)
    assert 'rel="noopener noreferrer"' in html  # a new tab: the app stays where it was


@pytest.fixture
def clicked_order(api, runtime, run_jobs, mia):  # type: ignore[no-untyped-def]
    """A new customer who clicked Mia's link, answered the survey with her handle, and returned
    $12.50 of the $80.00 order: the click decides."""
    shop_id = shop_id_of(runtime, SHOP)
    clicked = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    make_click(runtime, shop_id, "mia-park", "CLICK0001", clicked)
    body = order_payload(
        placed_at=clicked + timedelta(days=3),
        net="80.00",
        customer_id=6_000,
        name="#C001",
        landing_site="/?ref=mia-park&crid=CLICK0001",
        survey="TikTok, @mia.park",
    )
    assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
    refund = refund_payload(body["id"], "12.50", at=clicked + timedelta(days=6))
    assert store_and_process(runtime, SHOP, "refunds/create", refund) == "processed"
    run_jobs()
    with runtime.db.session() as s:
        return stored_order(s, body["id"]).id


def test_an_orders_evidence_page_says_why_with_times_and_refunds(client, api, clicked_order, mia):
    resp = page(client, f"/app/orders/{clicked_order}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Order #C001" in html and "First order" in html
    assert "Click 3 days before" in html  # display.evidence_summary, as the creator's table says it
    click_row = re.search(r'<tr data-rule="click" class="decisive">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "link /r/mia-park" in click_row and "Nov 2, 2026 10:30 EST" in click_row  # shop time
    assert "Decided the attribution" in click_row
    survey_row = re.search(r'<tr data-rule="survey">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "answered “TikTok, @mia.park”" in survey_row and "stronger evidence came first" in survey_row
    assert "Refund, Nov 8, 2026" in html and "−$12.50" in html
    assert re.search(r'id="order-net" data-value="67.50"', html)
    assert re.search(r'id="order-credited" data-value="67.50"', html)
    assert f'href="{ADMIN}' in html and 'id="open-in-shopify"' in html
    # The same figures as the API's answer for the order.
    answer = api.get(f"/api/v1/orders/{clicked_order}/attribution").json
    assert Decimal(answer["net"]) == Decimal("67.50") and answer["rule"] == "click"
    assert answer["influencer"]["id"] == mia["id"]
    # The creator's table links to it.
    creator = page(client, f"/app/creators/{mia['id']}").get_data(as_text=True)
    assert f"/app/orders/{clicked_order}?" in creator


def test_a_repeat_order_names_the_first_order_and_links_to_it(client, runtime, mia):
    with runtime.db.session() as s:
        repeat = s.scalar(select(Order.id).where(Order.name == "#R000"))
        first = s.scalar(select(Order.id).where(Order.name == "#F000"))
    html = page(client, f"/app/orders/{repeat}").get_data(as_text=True)
    assert "Repeat purchase" in html and "#F000" in html
    assert f"/app/orders/{first}?" in html and "90-day repeat window" in html
    first_html = page(client, f"/app/orders/{first}").get_data(as_text=True)
    assert '<p class="why" id="order-why">Code MIA10</p>' in first_html  # the code as it was typed


def test_an_order_of_another_shop_or_none_is_not_found(client, other_api, clicked_order):
    assert page(client, f"/app/orders/{clicked_order}", shop=OTHER_SHOP).status_code == 404
    resp = page(client, "/app/orders/987654321")
    assert resp.status_code == 404 and "This order does not exist" in resp.get_data(as_text=True)


def test_referral_links_show_their_counted_clicks_and_the_last_one(client, runtime, mia):
    shop_id = shop_id_of(runtime, SHOP)
    make_click(runtime, shop_id, "mia-park", "CLICK0101", datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    make_click(runtime, shop_id, "mia-park", "CLICK0102", datetime(2026, 11, 5, 18, 45, tzinfo=UTC))
    make_click(runtime, shop_id, "mia-park", "CLICK0103", datetime(2026, 11, 6, tzinfo=UTC), counted=False, bot=True)
    html = page(client, f"/app/creators/{mia['id']}").get_data(as_text=True)
    links = re.search(r'<table id="links-table">(.*?)</table>', html, re.S).group(1)  # type: ignore[union-attr]
    assert '<td class="num" data-value="2">2</td>' in links  # the bot's click is not counted
    assert "Nov 5, 2026 13:45 EST" in links  # shop time


def test_an_order_of_no_creator_says_what_was_tried(client, runtime, mia):
    """A code that is no creator's and a bare ref: not attributed, and each says why."""
    body = order_payload(
        placed_at=START + timedelta(days=20), codes=("WELCOME5",), landing_site="/?ref=mia-park", name="#N001"
    )
    assert store_and_process(runtime, SHOP, "orders/create", body) == "processed"
    with runtime.db.session() as s:
        order_id = stored_order(s, body["id"]).id
    html = page(client, f"/app/orders/{order_id}").get_data(as_text=True)
    assert "Not attributed" in html and "Why it is no creator's" in html
    code = re.search(r'<tr data-rule="code">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "code WELCOME5" in code and "Not used: code does not belong to a creator" in code
    click = re.search(r'<tr data-rule="click">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "Not used: ref without a click id" in click
    assert 'id="order-credited"' not in html  # nothing counted for anyone
