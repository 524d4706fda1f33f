"""The dashboard in Debian's Chromium, offline (Shopify's CDN blocked), as a merchant uses it:
the demo store opens with its figures, a creator and a code are added through the forms,
and the keyboard alone reaches every control. Screenshots go to artifacts/."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browsing import CONTROLS, open_demo, open_page, screenshot

from factories import SHOP
from factories.admin import auth_headers

pytestmark = pytest.mark.browser

# --- the demo store ------------------------------------------------------------------------------


def test_demo_store_opens_with_the_figures_of_the_roi_api(page, live, dev_app, demo_shop):
    from plugin import display

    open_demo(page, live)
    assert page.get_by_text("Demo login — development only").is_visible()
    date_from, date_to = page.input_value("#f-from"), page.input_value("#f-to")
    report = (
        dev_app.test_client().get(f"/api/v1/roi?from={date_from}&to={date_to}", headers=auth_headers(demo_shop)).json
    )
    cards = page.eval_on_selector_all(
        "li.kpi",
        """cards => cards.map(c => ({
        metric: c.dataset.metric, value: c.dataset.value, text: c.querySelector('.value').textContent.trim()}))""",
    )
    assert len(cards) == 14
    currency = report["currency"]
    for card in cards:
        expected = report["totals"][card["metric"]]
        kind = next(kind for key, _, kind, _ in display.KPIS if key == card["metric"])
        assert card["text"] == display.figure(
            Decimal(expected) if isinstance(expected, str) else expected, kind, currency
        ), card
    assert Decimal(report["totals"]["revenue"]) > 0 and report["totals"]["orders"] > 0
    # Readable without the CDN: the page's own styles drew the cards and the charts.
    assert page.eval_on_selector("li.kpi", "el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    assert page.locator("svg.chart").count() == 2
    rows = page.locator("#creators-table tbody tr")
    assert rows.count() >= 15
    page.wait_for_function("document.getElementById('sync').textContent.startsWith('Sync:')")
    screenshot(page, "overview.png")

    # Export: every row of the table (all pages), with the same figures as the API.
    with page.expect_download() as download:
        page.click("#creators-section button[data-export]")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert exported[-1]["influencer"] == "total"
    assert Decimal(exported[-1]["revenue"]) == Decimal(report["totals"]["revenue"])
    assert len(exported) - 1 == len(report["rows"])


def test_add_a_creator_and_a_code_through_the_forms(page, live, demo_fake):
    open_demo(page, live)
    before = page.locator("#creators-table tbody tr").count()
    page.click("#add-creator summary")
    name = 'Zoë <script>alert("x")</script>'
    page.fill("#add-creator-form-name", name)
    page.select_option("#add-creator-form-platform", "tiktok")
    page.click("#add-creator-form button[type=submit]")
    # The API's error shows at the field; what the merchant typed stays.
    handle_error = page.locator("#add-creator-form-handle-error")
    handle_error.wait_for(state="visible")
    assert handle_error.text_content().strip()
    assert page.input_value("#add-creator-form-name") == name
    assert page.get_attribute("#add-creator-form-handle", "aria-invalid") == "true"

    page.fill("#add-creator-form-handle", "@zoe.makes")
    page.fill("#add-creator-form-followers", "4200")
    page.click("#add-creator-form button[type=submit]")
    row = page.locator("#creators-table tbody tr", has_text="@zoe.makes")
    row.wait_for()
    assert page.locator("#creators-table tbody tr").count() == before + 1
    assert name in row.locator("th a").text_content()  # shown as text, never run

    row.locator("th a").click()
    page.wait_for_url(re.compile(r"/app/creators/\d+"))
    assert page.locator("h1").text_content().startswith(name)
    page.fill("#new-code-code", "ZOEMAKES15")
    page.fill("#new-code-percent_off", "15")
    page.check("#new-code-create_in_shopify")  # the demo's fake Shopify answers here
    page.click("#new-code button[type=submit]")
    code_row = page.locator("#codes-table tbody tr", has_text="ZOEMAKES15")
    code_row.wait_for()
    assert "Created by the app" in code_row.text_content()
    assert "/discount/ZOEMAKES15" in code_row.text_content()
    created = [r for r in demo_fake.requests if "discountCodeBasicCreate" in str(r.json)]
    assert created and "ZOEMAKES15" in str(created[-1].json)

    # The same code again is refused by the API; the form says so and keeps the input.
    page.click("#codes-section details summary")
    page.fill("#new-code-code", "zoemakes15")
    page.fill("#new-code-percent_off", "10")
    page.click("#new-code button[type=submit]")
    page.locator("#new-code [data-error-for]:not([hidden])").first.wait_for()
    assert page.input_value("#new-code-code") == "zoemakes15"
    assert page.locator("#codes-table tbody tr").count() == 1
    screenshot(page, "creator-new-code.png")


def test_keyboard_alone_reaches_every_control(page, live):
    open_demo(page, live)
    # The first Tab reaches "Skip to content", which stays on the page (even where App Bridge,
    # stood in for here, would hand out a new token for a navigation).
    page.evaluate("window.__same_document = true; window.shopify = {idToken: async () => 'fresh-token'}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__same_document === true")
    page.evaluate("delete window.shopify")
    assert_tab_reaches_everything(page)
    # Sorting by keyboard: Enter on a column header sorts the table by it.
    page.focus("#creators-table th a[data-sort=cost]")
    page.keyboard.press("Enter")
    assert page.get_attribute("#creators-table th:has(a[data-sort=cost])", "aria-sort") == "descending"
    costs = page.eval_on_selector_all(
        "#creators-table tbody tr td:nth-of-type(1)", "cells => cells.map(c => c.dataset.value)"
    )
    values = [Decimal(v) for v in costs if v]
    assert values == sorted(values, reverse=True)
    # Opening a disclosure and filling a form by keyboard.
    page.focus("#add-creator summary")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "add-creator-form-name"

    page.focus("#creators-table tbody tr th a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/app/creators/\d+"))
    page.wait_for_load_state("networkidle")
    screenshot(page, "creator.png")
    assert_tab_reaches_everything(page)
    # A table exported from the page itself: the codes, as shown.
    with page.expect_download() as download:
        page.focus("#codes-section button[data-export]")
        page.keyboard.press("Enter")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("Code,Discount,Shopify,Shareable discount link")
    assert "/discount/" in lines[1]

    for section in ("Costs", "Posts", "Settings"):
        page.locator(".tabs a", has_text=section).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(f"/app/{section.lower()}"))
        page.wait_for_load_state("networkidle")
        assert_tab_reaches_everything(page)


def assert_tab_reaches_everything(tab: Any) -> None:
    """Tab from the top until focus comes back round: every visible control was focused once."""
    expected = tab.evaluate(
        """selector => {
        const visible = el => el.checkVisibility({checkVisibilityCSS: true});  // closed <details> too
        const controls = [...document.querySelectorAll(selector)].filter(el => visible(el) && !el.disabled);
        controls.forEach((el, i) => el.dataset.kbd = String(i));
        return controls.length;
    }""",
        CONTROLS,
    )
    assert expected > 10
    tab.evaluate("document.activeElement && document.activeElement.blur()")
    reached: set[str] = set()
    outline_seen = False
    for _ in range(expected * 3 + 20):
        tab.keyboard.press("Tab")
        info = tab.evaluate("""() => { const el = document.activeElement;
            return el ? {kbd: el.dataset.kbd || null, outline: getComputedStyle(el).outlineStyle} : null; }""")
        if info and info["kbd"] is not None:
            if info["kbd"] in reached and len(reached) >= expected:
                break
            reached.add(info["kbd"])
            outline_seen = outline_seen or info["outline"] not in ("none", "")
    missing = tab.evaluate(
        """reached => [...document.querySelectorAll('[data-kbd]')]
        .filter(el => !reached.includes(el.dataset.kbd)).map(el => el.outerHTML.slice(0, 120))""",
        sorted(reached),
    )
    assert not missing, missing
    assert outline_seen, "focused controls must show a focus ring"


# --- a fresh store: the empty state and every other form -------------------------------------------


def test_fresh_store_starts_from_the_empty_state(page, fresh):
    open_page(page, fresh, "/app")
    assert page.get_by_text("Start by adding your first creator").is_visible()
    assert page.locator("#creators-table").count() == 0
    page.fill("#new-creator-name", "Maya Kim")
    page.fill("#new-creator-handle", "maya.k")
    page.select_option("#new-creator-platform", "instagram")
    page.keyboard.press("Enter")  # submits from the last field typed in
    page.locator("#creators-table tbody tr", has_text="Maya Kim").wait_for()
    assert page.locator("#empty-state").count() == 0
    screenshot(page, "overview-first-creator.png")


def test_costs_posts_import_and_settings_show_server_errors_at_the_field(page, fresh, client):
    maya = client.post(
        "/api/v1/influencers",
        headers=auth_headers(SHOP),
        json={"name": "Maya Kim", "handle": "maya.k", "platform": "instagram"},
    ).json

    open_page(page, fresh, "/app/costs")
    page.select_option("#new-cost-influencer_id", str(maya["id"]))
    page.select_option("#new-cost-category", "fee")
    page.fill("#new-cost-note", "no amount given")
    page.click("#new-cost button[type=submit]")
    page.locator("#new-cost-amount-error").wait_for(state="visible")
    assert page.input_value("#new-cost-note") == "no amount given"
    page.select_option("#new-cost-category", "management_time")
    assert page.locator("#new-cost-amount").is_hidden()
    page.fill("#new-cost-hours", "3")
    page.fill("#new-cost-hourly_rate", "60")
    assert page.locator("[data-hours-total]").text_content() == "3 h × 60.00 = 180.00"
    page.click("#new-cost button[type=submit]")
    row = page.locator("#costs-table tbody tr", has_text="Management time")
    row.wait_for()
    assert "$180.00" in row.text_content() and "Maya Kim" in row.text_content()
    with page.expect_download() as download:
        page.click("#costs-section button[data-export]")
    exported = Path(download.value.path()).read_text().splitlines()
    assert exported[0] == "Date,Creator,Category,Campaign,Time,Amount,Note"
    assert exported[1].endswith(",Maya Kim,Management time,,3.00,180.00,no amount given")  # no campaign: empty
    row.locator("summary", has_text="Edit").click()  # a correction: four hours, not three
    row.locator("input[name=hours]").fill("4")
    row.get_by_role("button", name="Save cost").click()
    row = page.locator("#costs-table tbody tr", has_text="$240.00")
    row.wait_for()
    assert "4.00 h × $60.00" in row.text_content()
    assert client.get("/api/v1/costs", headers=auth_headers(SHOP)).json["total"] == "240.00"
    row.get_by_role("button", name="Delete").click()  # confirmed in the dialog
    page.locator("#costs-table").wait_for(state="detached")
    assert client.get("/api/v1/costs", headers=auth_headers(SHOP)).json["costs"] == []

    open_page(page, fresh, "/app/posts")
    csv_text = (
        "influencer_id,platform,content_type,posted_at,impressions,likes\n"
        f"{maya['id']},instagram,reel,2026-10-01T10:00:00Z,12000,340\n"
        f"{maya['id']},instagram,billboard,2026-10-02T10:00:00Z,9000,120\n"
    )
    page.fill("#import-posts-csv", csv_text)
    page.click("#import-posts button[type=submit]")
    result = page.locator("[data-import-result]")
    result.locator("li").first.wait_for()
    assert result.locator("p").text_content().startswith("Imported 1 post; 1 line need")
    assert result.locator("li").text_content().startswith("Line 3: content_type")
    page.locator("#posts-table tbody tr").first.wait_for()
    assert page.locator("#posts-table tbody tr").count() == 1
    post = page.locator("#posts-table tbody tr").first
    post.locator("summary", has_text="Edit").click()  # the figures a week later
    assert post.locator("input[name=impressions]").input_value() == "12000"
    post.locator("input[name=impressions]").fill("15000")
    post.locator("input[name=likes]").fill("-3")
    post.get_by_role("button", name="Save post").click()
    post.locator("[data-error-for=likes]").wait_for(state="visible")
    post.locator("input[name=likes]").fill("410")
    post.get_by_role("button", name="Save post").click()
    page.locator("#posts-table tbody tr td[data-value='15000']").wait_for()
    saved = client.get("/api/v1/posts", headers=auth_headers(SHOP)).json["posts"][0]
    assert (saved["impressions"], saved["likes"]) == (15000, 410)

    open_page(page, fresh, "/app/settings")
    page.fill("#settings-attribution_window_days", "0")
    page.fill("#settings-emv_rates-cpm", "-1")
    page.click("#settings button[type=submit]")
    page.locator("#settings-attribution_window_days-error").wait_for(state="visible")
    assert page.locator("#settings-emv_rates-cpm-error").is_visible()
    assert page.input_value("#settings-attribution_window_days") == "0"
    page.fill("#settings-attribution_window_days", "14")
    page.fill("#settings-emv_rates-cpm", "7.25")
    page.click("#settings button[type=submit]")
    page.locator("#settings-attribution_window_days-error").wait_for(state="hidden")
    page.wait_for_function("document.getElementById('toast').textContent === 'Settings saved'")
    saved = client.get("/api/v1/shop", headers=auth_headers(SHOP)).json["settings"]
    assert saved["attribution_window_days"] == 14 and saved["emv_rates"]["cpm"] == "7.2500"

    page.click("#campaigns-section summary")
    page.fill("#new-campaign-name", "Spring")
    page.click("#new-campaign button[type=submit]")
    rename = page.locator("#campaigns-table input[name=name]")
    rename.wait_for()
    rename.fill("Spring glow")
    page.locator("#campaigns-table button", has_text="Rename").click()
    page.wait_for_function("document.getElementById('toast').textContent === 'Campaign renamed'")
    assert [c["name"] for c in client.get("/api/v1/campaigns", headers=auth_headers(SHOP)).json["campaigns"]] == [
        "Spring glow"
    ]
    screenshot(page, "settings.png")
    page.locator("#campaigns-table button", has_text="Archive").click()
    page.get_by_text("No campaigns yet.").wait_for()
    page.locator("#archived-campaigns-table button", has_text="Restore").click()
    page.locator("#campaigns-table input[name=name]").wait_for()
    assert [c["archived"] for c in client.get("/api/v1/campaigns", headers=auth_headers(SHOP)).json["campaigns"]] == [
        False
    ]


def test_creator_page_forms_link_post_profile_and_archive(page, fresh, client):
    maya = client.post(
        "/api/v1/influencers",
        headers=auth_headers(SHOP),
        json={"name": "Maya Kim", "handle": "maya.k", "platform": "instagram"},
    ).json
    open_page(page, fresh, f"/app/creators/{maya['id']}")

    page.fill("#new-link-slug", "maya-spring")
    page.fill("#new-link-destination", "/products/serum")
    page.click("#new-link button[type=submit]")
    link = page.locator("#links-table tbody tr", has_text="/r/maya-spring")
    link.wait_for()
    assert "/products/serum" in link.text_content()
    assert link.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert link.locator("a[download='qr-maya-spring.png']").count() == 1
    link.locator("summary", has_text="Edit").click()
    link.locator("input[name=destination]").fill("https://evil.example/")
    link.get_by_role("button", name="Save link").click()
    link.locator("[data-error-for=destination]").wait_for(state="visible")
    link.locator("input[name=destination]").fill("/collections/spring")
    link.get_by_role("button", name="Save link").click()
    page.locator("#links-table tbody tr td", has_text="/collections/spring").wait_for()
    assert [
        link["destination"]
        for link in client.get(f"/api/v1/influencers/{maya['id']}/links", headers=auth_headers(SHOP)).json["links"]
    ] == ["/collections/spring"]
    page.click("#links-section > details > summary")
    page.fill("#new-link-slug", "maya-autumn")
    page.click("#new-link button[type=submit]")
    page.locator("#links-table tbody tr", has_text="/r/maya-autumn").wait_for()
    page.locator("#links-table tbody tr", has_text="/r/maya-autumn").get_by_role("button", name="Delete").click()
    page.locator("#links-table tbody tr", has_text="/r/maya-autumn").wait_for(state="detached")
    assert page.locator("#links-table tbody tr").count() == 1

    page.select_option("#creator-post-content_type", "reel")
    page.fill("#creator-post-posted_at", "2026-10-01T12:30")
    page.fill("#creator-post-impressions", "-5")
    page.click("#creator-post button[type=submit]")
    page.locator("#creator-post-impressions-error").wait_for(state="visible")
    page.fill("#creator-post-impressions", "15000")
    page.fill("#creator-post-likes", "800")
    page.click("#creator-post button[type=submit]")
    post = page.locator("#posts-table tbody tr", has_text="Reel")
    post.wait_for()
    assert "15,000" in post.text_content() and "800" in post.text_content()

    page.click("#profile details summary")
    page.fill("#edit-creator-followers", "52000")
    page.fill("#edit-creator-campaign", "Autumn <b>drop</b>")
    page.click("#edit-creator button[type=submit]")
    page.locator("#profile dd", has_text="52,000").wait_for()
    assert page.locator("#profile dd", has_text="Autumn <b>drop</b>").count() == 1

    page.click("#archive-creator button[type=submit]")
    page.locator("#creator-title s-badge", has_text="Archived").wait_for()
    assert page.locator("#archive-creator button").text_content() == "Restore creator"
    assert client.get(f"/api/v1/influencers/{maya['id']}", headers=auth_headers(SHOP)).json["archived"] is True
