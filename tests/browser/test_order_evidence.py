"""A creator's orders and why each is theirs, in Chromium on the demo store: every order paged
with its true count, each linked to the Shopify admin and to its evidence; the charts at the
extremes of a range (one day, all time). Pages fit 1280, 390 and 360 px; screenshots at 1280 and
390 px go to SHOTS."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from browsing import LiveServer, open_demo
from test_merchant_week import OVERFLOW, api_totals, assert_fits, query_of, shots

pytestmark = pytest.mark.browser


def fits_everywhere(tab: Any, where: str) -> None:
    """No horizontal overflow at the desktop width, nor at 390 and 360 px."""
    tab.set_viewport_size({"width": 1280, "height": 900})
    fit = tab.evaluate(OVERFLOW)
    assert fit["scroll"] <= 1280 and not fit["found"], (where, fit)
    assert_fits(tab, where)


def open_busiest_creator(tab: Any, live: LiveServer) -> str:
    """The creator with the most first orders of all time; her name."""
    open_demo(tab, live)
    tab.get_by_role("link", name="All time").click()
    tab.wait_for_url(re.compile(r"range=all"))
    rows = tab.eval_on_selector_all(
        "#creators-table tbody tr[data-key]",
        "rows => rows.map(r => ({name: r.querySelector('th a') && r.querySelector('th a').textContent.trim(),"
        " orders: Number(r.querySelector('td[data-value]:nth-of-type(3)').dataset.value || 0)}))",
    )
    name = max((r for r in rows if r["name"]), key=lambda r: r["orders"])["name"]
    tab.locator("#creators-table tbody th a", has_text=name).first.click()
    tab.wait_for_url(re.compile(r"/app/creators/\d+"))
    tab.wait_for_load_state("networkidle")
    return name


def order_names(tab: Any) -> list[str]:
    return tab.locator("#orders-table tbody th a").all_text_contents()


def test_page_through_a_creators_orders_and_open_one_orders_evidence(page, live, demo_shop):
    open_busiest_creator(page, live)
    count = page.locator("#orders-count").text_content()
    total = int(re.search(r"\(([\d,]+), all time\)", count).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert total > 100  # more than the old "newest 100"
    assert page.locator("#orders-shown").text_content() == f"1–50 of {total:,} · page 1 of {-(-total // 50)}"
    first_page = order_names(page)
    assert len(first_page) == 50
    # Every order opens in the Shopify admin, in a new tab.
    handle = demo_shop.split(".")[0]
    admin_links = page.eval_on_selector_all(
        "#orders-table tbody tr td:last-child a", "links => links.map(a => [a.href, a.target])"
    )
    assert len(admin_links) == 50
    assert all(
        re.fullmatch(rf"https://admin\.shopify\.com/store/{handle}/orders/\d+", href) and target == "_blank"
        for href, target in admin_links
    )
    fits_everywhere(page, "creator, orders page 1")
    page.locator("#orders-section").scroll_into_view_if_needed()
    shots(page, "creator-orders")

    page.locator("#orders-section .pager a", has_text="Next").click()
    page.wait_for_url(re.compile(r"order_page=2"))
    page.wait_for_load_state("networkidle")
    assert page.locator("#orders-shown").text_content().startswith(f"51–{min(100, total)} of {total:,}")
    second_page = order_names(page)
    assert second_page and not set(second_page) & set(first_page)
    assert query_of(page)["range"] == "all"  # the creator page's range is kept while paging

    # Only the repeat purchases, then one of them: the evidence names the customer's first order.
    page.locator("#orders-section .presets a", has_text="Repeat orders").click()
    page.wait_for_url(re.compile(r"orders=repeat"))
    assert all(b == "Repeat" for b in page.locator("#orders-table tbody td s-badge").all_text_contents())
    page.locator("#orders-table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/app/orders/\d+"))
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").text_content().strip().endswith("Repeat purchase")
    repeat = page.locator("#evidence-table tr[data-rule=repeat]")
    assert "Decided the attribution" in repeat.text_content()
    repeat.get_by_role("link", name="see that order").click()
    page.wait_for_url(re.compile(r"/app/orders/\d+"))
    page.wait_for_load_state("networkidle")
    assert "First order" in page.locator("h1").text_content()
    decisive = page.locator("#evidence-table tr.decisive")
    assert decisive.count() == 1 and decisive.locator("th").text_content() in (
        "Discount code",
        "Referral link click",
        "Post-purchase survey",
    )
    shopify = page.locator("#open-in-shopify")
    assert re.fullmatch(rf"https://admin\.shopify\.com/store/{handle}/orders/\d+", shopify.get_attribute("href"))
    assert shopify.get_attribute("target") == "_blank"
    assert Decimal(page.get_attribute("#order-net", "data-value")) > 0
    fits_everywhere(page, "order evidence")
    shots(page, "order-evidence")


def test_an_order_with_a_click_and_a_refund_shows_both(page, live, dev_app, demo_shop):
    """The demo's partly refunded orders: the refund is netted, the click carries its time."""
    from sqlalchemy import select

    from models import Attribution, Order, Refund

    with dev_app.extensions["creator_roi"].db.session() as s:
        refunded = select(Refund.shopify_order_id).where(Refund.merchandise > 0)
        order_id = s.scalar(
            select(Order.id)
            .join(Attribution, Attribution.order_id == Order.id)
            .where(Order.shopify_id.in_(refunded), Attribution.rule == "click", Order.net_sales > 0)
            .order_by(Order.id)
            .limit(1)
        )
    assert order_id is not None
    open_demo(page, live)
    here = urlsplit(page.url)
    page.goto(f"{live.url}/app/orders/{order_id}?{here.query}")
    page.wait_for_load_state("networkidle")
    click = page.locator("#evidence-table tr[data-rule=click].decisive")
    assert re.search(r"\w{3} \d{1,2}, \d{4} \d{2}:\d{2}", click.locator(".when").text_content())
    assert "before the order" in click.text_content()
    money = page.locator("#money").text_content()
    assert "Refund, " in money and "−$" in money
    fits_everywhere(page, "order with a refund")
    shots(page, "order-refunded")


def a_day_with_sales(dev_app: Any, shop: str) -> date:
    """The shop's day of its median first order (the demo's history ends some months back)."""
    from sqlalchemy import func, select

    from models import Attribution, Shop

    with dev_app.extensions["creator_roi"].db.session() as s:
        store = s.scalar(select(Shop).where(Shop.domain == shop))
        firsts = select(Attribution.placed_at).where(Attribution.shop_id == store.id, Attribution.kind == "first")
        total = s.scalar(select(func.count()).select_from(firsts.subquery()))
        placed = s.scalar(firsts.order_by(Attribution.placed_at).offset(total // 2).limit(1))
        return store.local_day(placed)


def test_charts_at_the_extremes_of_a_range(page, live, dev_app, demo_shop):
    open_demo(page, live)
    today = date.fromisoformat(page.input_value("#f-to"))
    day = a_day_with_sales(dev_app, demo_shop)
    assert Decimal(api_totals(dev_app, demo_shop, day.isoformat(), day.isoformat())["revenue"]) > 0
    keep = {k: v for k, v in query_of(page).items() if k in ("shop", "host", "id_token")}
    page.goto(f"{live.url}/app?{urlencode({**keep, 'from': day.isoformat(), 'to': day.isoformat()})}")
    page.wait_for_load_state("networkidle")
    money = page.locator("svg.chart").first
    bars = money.locator("rect.day-bar")
    assert bars.count() == 3
    assert all(box["height"] > 0 for box in (bars.nth(i).bounding_box() for i in range(3)))
    assert money.locator("text.axis", has_text=day.strftime("%b %-d, %Y")).count() == 1
    fits_everywhere(page, "overview, one day")
    shots(page, "overview-one-day")

    page.get_by_role("link", name="All time").click()
    page.wait_for_url(re.compile(r"range=all"))
    first = date.fromisoformat(page.input_value("#f-from"))
    labels = page.locator("svg.chart").first.locator("text.axis[y='252']").all_text_contents()
    if first.year != today.year:  # the history crosses a new year: every label says its year
        assert labels and all(re.search(r"\b20\d\d$", label) for label in labels), labels
    shots(page, "overview-all-time-chart")
