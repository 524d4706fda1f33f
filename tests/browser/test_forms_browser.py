"""The forms and the Costs page in Chromium, as a merchant meets them: after a refusal the keyboard
lands on the first wrong field of the page, a discount code customers could not type ("JADE 20%")
is refused at its field in words, the Costs page filters by date and totals what it lists, and no
request fails (the icon included). Every page fits a phone; screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from browsing import CHROMIUM, CHROMIUM_ARGS, LiveServer, open_demo
from test_merchant_week import assert_fits, open_creator, shots

from factories.admin import auth_headers

pytestmark = pytest.mark.browser


def watch_requests(tab: Any) -> list[str]:
    """Every request that failed or answered 4xx/5xx, but for the API's 422s the tests provoke
    (refused forms) and Shopify's CDN, blocked on purpose (offline, as in CI)."""
    failed: list[str] = []

    def answered(response: Any) -> None:
        if response.status >= 400 and not (response.status == 422 and "/api/v1/" in response.url):
            failed.append(f"{response.status} {response.url}")

    tab.on(
        "requestfailed",
        lambda request: None if "cdn.shopify.com" in request.url else failed.append(f"failed {request.url}"),
    )
    tab.on("response", answered)
    return failed


def focused_id(tab: Any) -> str:
    return tab.evaluate("document.activeElement && document.activeElement.id")


def go_to_costs(tab: Any, live: LiveServer) -> None:
    open_demo(tab, live)
    tab.locator(".tabs a", has_text="Costs").click()
    tab.wait_for_url(re.compile("/app/costs"))
    tab.wait_for_load_state("networkidle")


# --- focus after a refusal: the first wrong field in page order ------------------------------------------


def test_focus_goes_to_the_first_wrong_field_in_page_order(page, live):
    failed = watch_requests(page)
    open_demo(page, live)
    page.click("#add-creator summary")
    page.click("#add-creator-form button[type=submit]")
    page.locator("#add-creator-form-name-error").wait_for(state="visible")
    # The answer names handle, name and platform (alphabetical); the page shows Name first.
    assert focused_id(page) == "add-creator-form-name"
    assert page.locator("#add-creator-form-name-error").text_content() == "Enter a name."
    assert page.locator("#add-creator-form-platform-error").text_content() == "Choose a platform."

    go_to_costs(page, live)
    form = "#new-cost"
    if not page.is_visible(f"{form}-category"):
        page.click("#costs-section details summary")
    page.select_option(f"{form}-category", "fee")
    page.fill(f"{form}-incurred_on", "")
    page.fill(f"{form}-amount", "-5")
    page.click(f"{form} button[type=submit]")
    page.locator(f"{form}-amount-error").wait_for(state="visible")
    # "amount" comes first in the answer; on the page the Date field comes before the Amount.
    assert focused_id(page) == "new-cost-incurred_on"
    assert page.locator(f"{form}-incurred_on-error").text_content() == "Enter the date."
    assert page.locator(f"{form}-amount-error").text_content() == "Enter 0 or more."

    # Management time without hours: the message names what to enter, in words.
    page.fill(f"{form}-incurred_on", "2026-09-01")
    page.select_option(f"{form}-category", "management_time")
    page.click(f"{form} button[type=submit]")
    hours_error = page.locator(f"{form}-hours-error")
    hours_error.wait_for(state="visible")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'new-cost-hours'")
    assert hours_error.text_content() == "Enter the hours: management time costs hours × hourly rate."
    assert "management_time" not in page.locator(form).text_content()
    assert_fits(page, "costs, a refused cost")
    page.locator(form).scroll_into_view_if_needed()
    shots(page, "forms-cost-error")
    assert not failed, failed


# --- a code customers could not type -----------------------------------------------------------------------


def test_a_code_with_a_space_and_a_percent_sign_is_refused_at_the_field(page, live, dev_app, demo_shop):
    failed = watch_requests(page)
    open_creator(page, live, "Ruby Hall")
    before = page.locator("#codes-table tbody tr").count()
    page.click("#codes-section details summary")
    page.fill("#new-code-code", "JADE 20%")
    page.fill("#new-code-percent_off", "20")
    page.click("#new-code button[type=submit]")
    error = page.locator("#new-code-code-error")
    error.wait_for(state="visible")
    assert "can't contain spaces or “%”" in error.text_content() and "JADE20" in error.text_content()
    assert page.get_attribute("#new-code-code", "aria-invalid") == "true"
    assert focused_id(page) == "new-code-code"
    assert page.input_value("#new-code-code") == "JADE 20%"  # kept, to fix
    assert page.locator("#codes-table tbody tr").count() == before
    codes = dev_app.test_client().get("/api/v1/codes", headers=auth_headers(demo_shop)).json["codes"]
    assert not [c for c in codes if c["code"].upper().startswith("JADE")]
    assert_fits(page, "creator, a refused code")
    page.locator("#new-code").scroll_into_view_if_needed()
    shots(page, "forms-code-error")

    page.fill("#new-code-code", "JADE20")
    page.click("#new-code button[type=submit]")
    page.locator("#codes-table tbody tr", has_text="JADE20").wait_for()
    assert not failed, failed


# --- the Costs page: a date filter and a total -------------------------------------------------------------


def test_costs_filter_by_date_and_show_their_total(page, live, dev_app, demo_shop):
    failed = watch_requests(page)
    client = dev_app.test_client()
    listed = client.get("/api/v1/costs", headers=auth_headers(demo_shop)).json
    days = sorted({c["incurred_on"] for c in listed["costs"]})
    assert len(days) >= 3, days

    go_to_costs(page, live)
    total = page.locator("#costs-total")
    assert page.input_value("#f-from") == "" and page.input_value("#f-to") == ""  # every day by default
    assert Decimal(total.get_attribute("data-value")) == Decimal(listed["total"])
    assert "all dates" in total.text_content()
    assert_fits(page, "costs")

    date_from, date_to = days[len(days) // 3], days[2 * len(days) // 3]
    page.fill("#f-from", date_from)
    page.fill("#f-to", date_to)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(f"from={date_from}.*to={date_to}|to={date_to}.*from={date_from}"))
    page.wait_for_load_state("networkidle")
    expected = client.get(f"/api/v1/costs?from={date_from}&to={date_to}", headers=auth_headers(demo_shop)).json
    assert Decimal(total.get_attribute("data-value")) == Decimal(expected["total"])
    assert int(total.get_attribute("data-count")) == len(expected["costs"])
    assert "in these dates" in total.text_content()
    shown = page.eval_on_selector_all("#costs-table tbody tr td:first-child", "tds => tds.map(td => td.dataset.value)")
    assert shown and all(date_from <= day <= date_to for day in shown), shown
    assert page.input_value("#f-from") == date_from and page.input_value("#f-to") == date_to
    assert_fits(page, "costs, filtered")
    shots(page, "forms-costs-filtered")

    page.get_by_role("link", name="All dates").click()
    page.wait_for_load_state("networkidle")
    assert "from=" not in page.url
    assert Decimal(page.locator("#costs-total").get_attribute("data-value")) == Decimal(listed["total"])
    assert not failed, failed


@pytest.fixture(scope="module")
def watched(dev_app, demo_shop) -> Iterator[tuple[LiveServer, list[tuple[str, int]]]]:
    """The app served with a record of every (path, status) it answered: Chromium asks for
    /favicon.ico itself, out of the page's sight, so only the server sees that request."""
    answered: list[tuple[str, int]] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            answered.append((environ.get("PATH_INFO", ""), int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return dev_app(environ, start)

    with LiveServer(recording) as server:
        yield server, answered


@pytest.fixture
def unrouted_page(browser) -> Iterator[Any]:
    """A tab without request interception: Playwright's routes (the `page` fixture blocks Shopify's
    CDN with one) also stop Chromium's own favicon requests, which this test must see. Offline all
    the same: every host but this machine fails to resolve, so nothing leaves it."""
    offline = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    )
    tab = offline.new_context(viewport={"width": 1280, "height": 900}).new_page()
    yield tab
    offline.close()


def test_no_page_asks_for_an_icon_it_does_not_get(unrouted_page, watched):
    server, answered = watched
    page = unrouted_page
    open_demo(page, server)
    for section in ("Costs", "Posts", "Settings", "Overview"):
        page.locator(".tabs a", has_text=section).click()
        page.wait_for_load_state("networkidle")
        assert page.locator('link[rel="icon"]').count() == 1
    page.wait_for_timeout(1000)  # the browser's own icon request would come after the load
    assert answered and not [a for a in answered if "favicon" in a[0] or a[1] >= 400], answered
