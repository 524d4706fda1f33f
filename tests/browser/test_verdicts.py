"""Short ranges on the demo store, in Chromium: a creator whose fee falls on the one day shown is
"Too early to judge", not "Loses money"; over the last 7 days an established creator without
activity reads "No activity in this range"; each figure says which days and customers it counts,
on the overview and the creator page, at 1280 px and on phones. Screenshots go to SHOTS."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import open_demo
from test_merchant_week import assert_fits, shots

from factories.admin import auth_headers

pytestmark = pytest.mark.browser


def api(dev_app: Any, shop: str, path: str) -> Any:
    return dev_app.test_client().get(path, headers=auth_headers(shop)).json


def fee_day_behind_cost(dev_app: Any, shop: str) -> tuple[str, dict[str, Any]]:
    """A day on which a creator's fee was booked and, that day alone, their ROI reads negative: the
    issue's "best creator badged Loses money because her fee was booked that day". The one with
    the most revenue that day."""
    found = []
    for cost in api(dev_app, shop, "/api/v1/costs?category=fee")["costs"]:
        day, who = cost["incurred_on"], cost["influencer_id"]
        rows = api(dev_app, shop, f"/api/v1/roi?from={day}&to={day}")["rows"]
        row = next((r for r in rows if r["key"] == who), None)
        if row and row["roi"] is not None and row["roi"] < 0:
            found.append((float(row["revenue"]), day, row))
    assert found, "the demo store books fees on days their creator does not earn them back"
    _, day, row = max(found, key=lambda f: f[0])
    return day, row


def show_range(tab: Any, date_from: str, date_to: str) -> None:
    tab.fill("#f-from", date_from)
    tab.fill("#f-to", date_to)
    tab.click("#range-section button[type=submit]")
    tab.wait_for_url(re.compile(f"from={date_from}"))
    tab.wait_for_load_state("networkidle")


def read_windows(tab: Any) -> str:
    """The written-out definitions, opened as a merchant on a phone would."""
    tab.click("#figure-windows summary")
    windows = tab.locator("#figure-windows dl")
    windows.wait_for()
    assert windows.is_visible()
    return windows.text_content()


def test_a_fee_on_the_one_day_shown_is_too_early_and_figures_say_what_they_count(page, live, dev_app, demo_shop):
    day, creator = fee_day_behind_cost(dev_app, demo_shop)
    open_demo(page, live)
    show_range(page, day, day)

    row = page.locator(f'#creators-table tbody tr[data-key="{creator["key"]}"]')
    badge = row.locator("s-badge[data-verdict]")
    assert badge.get_attribute("data-verdict") == "too_early"
    assert "Too early to judge" in badge.text_content()
    assert "the range is 1 day (a verdict needs 28)" in badge.get_attribute("title")
    assert page.locator("s-badge", has_text="Loses money").count() == 0
    assert page.locator("tr.loser").count() == 0
    assert "This range is 1 day" in page.locator("#verdict-rule").text_content()
    # The columns and cards say which window each figure uses.
    assert "by customers acquired at any time" in page.get_attribute("th:has(a[data-sort=repeat_revenue])", "title")
    assert "always equals New customers" in page.get_attribute("li.kpi[data-metric=orders]", "title")
    windows = read_windows(page)
    assert "even when that repeat falls after the range ends" in windows
    assert "Repeats in the range by customers acquired before it are left out" in windows
    assert_fits(page, "overview, one day")
    shots(page, "verdicts-overview-one-day")

    row.locator("th a").click()
    page.wait_for_url(re.compile(r"/app/creators/\d+"))
    page.wait_for_load_state("networkidle")
    assert page.input_value("#f-from") == day
    title_badge = page.locator("#creator-title s-badge[data-verdict]")
    assert title_badge.get_attribute("data-verdict") == "too_early"
    assert page.locator("#creator-title s-badge", has_text="Loses money").count() == 0
    assert page.locator("li.kpi[data-metric=roi] .hint").text_content() == "First orders only: (revenue − cost) ÷ cost"
    predicted = page.locator("li.kpi[data-metric=clv_predicted] .hint").text_content()
    assert "next 12 months" in predicted or "more repeat data" in predicted
    windows = read_windows(page)
    assert "spend on repeat purchases in the next 12 months" in windows
    assert "All time, not only the range" in windows
    assert "over all time and not only this range" in page.locator("#clv-lifetime").text_content()
    assert_fits(page, "creator, one day")
    shots(page, "verdicts-creator-one-day")


def test_the_last_7_days_tell_idle_creators_from_new_ones(page, live, dev_app, demo_shop):
    open_demo(page, live)
    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_url(re.compile(r"range=7d"))
    page.wait_for_load_state("networkidle")
    # Every demo creator has figures on some day: none is "No data yet".
    assert page.locator("#creators-table s-badge", has_text="No data yet").count() == 0
    idle = page.locator('#creators-table s-badge[data-verdict="no_activity"]')
    rows = page.locator("#creators-table tbody tr")
    empty_rows = sum(
        1 for i in range(rows.count()) if rows.nth(i).locator("td").first.get_attribute("data-value") == ""
    )
    assert idle.count() == empty_rows
    if idle.count():
        assert "No activity in this range" in idle.first.text_content()
    if idle.count() == rows.count():  # nothing at all in the week: other ranges are offered, not codes
        assert "figures on other days" in page.locator("#range-empty").text_content()
        assert "code or link" not in page.locator("#main").text_content()
    assert page.locator("s-badge", has_text="Loses money").count() == 0  # 7 days: too short to judge
    assert "This range is 7 days" in page.locator("#verdict-rule").text_content()
    read_windows(page)
    assert_fits(page, "overview, 7 days")
    shots(page, "verdicts-overview-7-days")

    page.locator("#creators-table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/app/creators/\d+"))
    page.wait_for_load_state("networkidle")
    assert page.locator("#creator-title s-badge", has_text="No data yet").count() == 0
    assert "This range is 7 days" in page.locator("#verdict-rule").text_content()
    assert_fits(page, "creator, 7 days")
    shots(page, "verdicts-creator-7-days")
