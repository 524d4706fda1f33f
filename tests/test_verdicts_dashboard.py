"""Badges and figure definitions as the merchant reads them on short and long ranges: a fee booked
on the one day shown is not "Loses money", a creator idle this week is not "No data yet", first
orders behind cost with repeats ahead are told apart, and every figure says what it counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest

import test_dashboard
from factories.shopify import order_payload
from factories.webhooks import post_webhook
from test_dashboard import FIXTURE_RANGE, Page, page

anna = test_dashboard.anna  # the fixture story's creator (a fixture)


def badges(html: str) -> dict[str, list[str]]:
    """Verdict badges by table row key (creator id): [(kind, words)]."""
    found: dict[str, list[str]] = {}
    for key, body in re.findall(r'<tr[^>]*data-key="([^"]*)"[^>]*>(.*?)</tr>', html, re.S):
        found[key] = re.findall(r'data-verdict="([a-z_]+)">([^<]+)<', body)
    return found


def verdict_kinds(html: str) -> dict[str, list[str]]:
    return {key: [kind for kind, _ in pairs] for key, pairs in badges(html).items()}  # type: ignore[misc]


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|details|h1)>', html, re.S)
    assert match, element_id
    return unescape(re.sub(r"<[^>]+>", "", match.group(1)))


@pytest.fixture
def carl(api):  # type: ignore[no-untyped-def]
    """A creator whose $500 fee is booked on Oct 20 and who brought nothing back."""
    carl = api.post("/api/v1/influencers", json={"name": "Costly Carl", "handle": "carl", "platform": "tiktok"}).json
    api.post(
        "/api/v1/costs",
        json={"category": "fee", "amount": "500.00", "incurred_on": "2026-10-20", "influencer_id": carl["id"]},
    )
    return carl


@pytest.fixture
def bea(api, run_jobs):  # type: ignore[no-untyped-def]
    """Five first orders of $50 in October against a $300 fee (first-order ROI −16.7%), and each
    customer back on Oct 25 for $40 (ROI with repeats +50%)."""
    bea = api.post("/api/v1/influencers", json={"name": "Bea Repeat", "handle": "bea", "platform": "instagram"}).json
    api.post(f"/api/v1/influencers/{bea['id']}/codes", json={"code": "BEA10", "create_in_shopify": False})
    api.post(
        "/api/v1/costs",
        json={"category": "fee", "amount": "300.00", "incurred_on": "2026-10-02", "influencer_id": bea["id"]},
    )
    run_jobs()
    for n in range(5):
        customer = 880_000 + n
        first = datetime(2026, 10, 5 + n, 15, tzinfo=timezone.utc)
        post_webhook(
            api.client, "orders/create", order_payload(placed_at=first, customer_id=customer, codes=("BEA10",))
        )
        again = datetime(2026, 10, 25, 15, tzinfo=timezone.utc) + timedelta(minutes=n)
        post_webhook(api.client, "orders/create", order_payload(placed_at=again, net="40.00", customer_id=customer))
    run_jobs()
    return bea


def test_a_fee_booked_on_the_one_day_shown_is_too_early_not_losing_money(client, anna, carl):
    one_day = page(client, "/app?from=2026-10-20&to=2026-10-20").get_data(as_text=True)
    assert verdict_kinds(one_day)[str(carl["id"])] == ["too_early"]
    assert "Loses money" not in one_day
    assert 'class="loser"' not in one_day
    reason = unescape(re.search(r'title="([^"]*)" data-verdict="too_early"', one_day).group(1))
    assert "the range is 1 day (a verdict needs 28)" in reason and "ROI with repeats −100.0%" in reason
    assert "This range is 1 day" in text_of(one_day, "verdict-rule")
    # Over two months the same fee, with nothing back for it, is judged.
    months = page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)
    assert verdict_kinds(months)[str(carl["id"])] == ["loses_money"]
    assert "Badges judge ROI with repeats" in text_of(months, "verdict-rule")
    assert "This range is" not in text_of(months, "verdict-rule")


def test_an_established_creator_idle_this_week_has_no_activity_and_a_new_one_no_data(api, client, anna):
    dora = api.post("/api/v1/influencers", json={"name": "New Dora", "handle": "dora", "platform": "youtube"}).json
    week = page(client, "/app?from=2026-11-24&to=2026-11-30").get_data(as_text=True)
    found = badges(week)
    assert found[str(anna["id"])] == [("no_activity", "No activity in this range")]
    assert found[str(dora["id"])] == [("no_data", "No data yet")]
    # The empty range points at other ranges, not at codes and links the creators have already.
    assert "Your creators have figures on other days" in text_of(week, "range-empty")
    assert "code or link" not in week
    creator = page(client, f"/app/creators/{anna['id']}?from=2026-11-24&to=2026-11-30").get_data(as_text=True)
    assert 'data-verdict="no_activity">No activity in this range' in creator
    assert "No data yet" not in creator


def test_first_orders_behind_cost_but_repeats_ahead_are_not_losing_money(client, bea):
    october = page(client, "/app?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    rows = {r["key"]: r for r in Page(october).rows}
    assert verdict_kinds(october)[str(bea["id"])] == ["loses_on_first_orders"]
    assert "loser" not in rows[str(bea["id"])]["class"]
    assert "Loses money" not in october
    title = unescape(re.search(r'title="([^"]*)" data-verdict="loses_on_first_orders"', october).group(1))
    assert "First-order ROI −16.7%, but ROI with repeats +50.0% over 31 days" in title
    creator = page(client, f"/app/creators/{bea['id']}?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    title_bar = re.search(r'id="creator-title".*?</h1>', creator, re.S).group(0)
    assert 'data-verdict="loses_on_first_orders">Loses on first orders' in title_bar


def test_a_day_of_repeats_without_new_customers_says_whose_repeats_they_are(client, bea):
    day = page(client, "/app?from=2026-10-25&to=2026-10-25").get_data(as_text=True)
    columns = ["label", "cost", "revenue", "orders", "new_customers", "repeat_orders", "repeat_revenue"]
    row = next(r for r in Page(day).rows if r["key"] == str(bea["id"]))
    cells = dict(zip(columns, row["cells"]))
    assert (cells["new_customers"], cells["repeat_orders"], cells["repeat_revenue"]) == ("0", "5", "200.00")
    header = unescape(
        re.search(r'<th scope="col" class="num" title="([^"]*)"[^>]*><a[^>]*data-sort="repeat_revenue"', day).group(1)
    )
    assert "by customers acquired at any time" in header
    # Each card says which days and customers it counts, in its tooltip and written out.
    windows = text_of(day, "figure-windows")
    assert "even when that repeat falls after the range ends" in windows  # the repeat rate
    assert "Repeats in the range by customers acquired before it are left out" in windows  # CLV of the range
    assert "so this always equals New customers" in windows  # first orders
    card = unescape(re.search(r'data-metric="repeat_purchase_rate"[^>]*title="([^"]*)"', day).group(1))
    assert "within 90 days of their first order" in card


def test_orders_column_is_first_orders_with_repeat_orders_beside(client, bea):
    html = page(client, "/app?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    heads = re.findall(r'data-sort="([a-z_]+)">([^<]+)</a>', html)
    names = [name for _, name in heads]
    assert names[names.index("First orders") + 1 : names.index("First orders") + 3] == ["New cust.", "Rep. orders"]
    row = next(r for r in Page(html).rows if r["key"] == str(bea["id"]))
    assert row["cells"][3:6] == ["5", "5", "5"]  # first orders, new customers, repeat orders


def test_creator_cards_carry_the_overviews_definitions_and_clv_says_what_it_predicts(client, bea):
    overview = page(client, "/app?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    creator = page(client, f"/app/creators/{bea['id']}?from=2026-10-01&to=2026-10-31").get_data(as_text=True)

    def hints(html: str) -> dict[str, str]:
        return dict(re.findall(r'data-metric="([a-z_]+)"[^>]*>.*?<span class="hint">([^<]*)</span>', html, re.S))

    mine, theirs = hints(creator), hints(overview)
    for metric in ("cost", "revenue", "roi", "roi_with_repeat", "roas", "cac", "orders", "ctr", "repeat_purchase_rate"):
        assert mine[metric] == theirs[metric], metric
    assert "repeat_orders" in mine and "repeat_revenue" in mine
    windows = text_of(creator, "figure-windows")
    assert "spend on repeat purchases in the next 12 months" in windows
    assert "All time, not only the range" in windows
    assert "bought again within 90 days of their first order" in text_of(creator, "clv-range")
    assert "over all time and not only this range" in text_of(creator, "clv-lifetime")


def test_content_types_say_how_costs_are_split(client, anna):
    html = page(client, f"/app?{FIXTURE_RANGE}&group=content_type").get_data(as_text=True)
    split = text_of(html, "content-type-split")
    assert "in proportion to those posts' engagements" in split and "Unallocated" in split
    assert 'id="content-type-split"' not in page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)
