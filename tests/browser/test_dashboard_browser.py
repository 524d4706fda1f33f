"""The dashboard in Debian's Chromium, offline (Shopify's CDN blocked), as a merchant uses it:
the demo store opens with its figures, a creator and a code are added through the forms,
and the keyboard alone reaches every control. Screenshots go to artifacts/."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from conftest import auth_headers

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"


class QuietHandler(WSGIRequestHandler):
    """No access log: page URLs carry session tokens."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (`make chromium` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def dev_app(app_config):  # type: ignore[no-untyped-def]
    """The app as `make demo` runs it: development mode, so the demo login is on."""
    from plugin import create_app

    application = create_app(dict(app_config, APP_ENV="development"))
    yield application
    application.extensions["creator_roi"].db.dispose()


@pytest.fixture
def demo_shop(dev_app, fake_shopify, run_jobs) -> str:  # type: ignore[no-untyped-def]
    """The seeded case-study store, installed with a token the fake Shopify honours."""
    if "demo" not in dev_app.cli.commands:
        pytest.skip("`creator-roi demo` (the case-study seeding) is not available in this build")
    shop = dev_app.config["DEMO_SHOP"]
    runner = dev_app.test_cli_runner()
    added = runner.invoke(args=["shop", "add", shop, "--token", fake_shopify.issue_token(shop)])
    assert added.exit_code == 0, added.output
    seeded = runner.invoke(args=["demo", "--shop", shop])
    assert seeded.exit_code == 0, seeded.output
    run_jobs()
    return shop


@pytest.fixture
def live(dev_app, demo_shop) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(dev_app) as server:
        yield server


@pytest.fixture
def page(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.route("https://cdn.shopify.com/**", lambda route: route.abort())  # offline, as in CI
    failures: list[str] = []
    tab.on("pageerror", lambda exc: failures.append(f"script error: {exc}"))
    tab.on("dialog", lambda dialog: (failures.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield tab
    context.close()
    assert not failures, failures


def screenshot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)


def open_demo(tab: Any, live: LiveServer) -> None:
    tab.goto(live.url + "/")
    tab.wait_for_load_state("networkidle")
    assert tab.url.startswith(live.url + "/app?")


# --- the demo store ------------------------------------------------------------------------------


def test_demo_store_opens_with_the_figures_of_the_roi_api(page, live, dev_app, demo_shop):
    from plugin import display

    open_demo(page, live)
    assert page.get_by_text("Demo login — development only").is_visible()
    date_from, date_to = page.input_value("#f-from"), page.input_value("#f-to")
    report = dev_app.test_client().get(f"/api/v1/roi?from={date_from}&to={date_to}",
                                       headers=auth_headers(demo_shop)).json
    cards = page.eval_on_selector_all("li.kpi", """cards => cards.map(c => ({
        metric: c.dataset.metric, value: c.dataset.value, text: c.querySelector('.value').textContent.trim()}))""")
    assert len(cards) == 14
    currency = report["currency"]
    for card in cards:
        expected = report["totals"][card["metric"]]
        kind = next(kind for key, _, kind, _ in display.KPIS if key == card["metric"])
        assert card["text"] == display.figure(Decimal(expected) if isinstance(expected, str) else expected,
                                              kind, currency), card
    assert Decimal(report["totals"]["revenue"]) > 0 and report["totals"]["orders"] > 0
    # Readable without the CDN: the page's own styles drew the cards and the charts.
    assert page.eval_on_selector("li.kpi", "el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    assert page.locator("svg.chart").count() == 2
    rows = page.locator("#creators-table tbody tr")
    assert rows.count() >= 15
    page.wait_for_function("document.getElementById('sync').textContent.startsWith('Sync:')")
    screenshot(page, "overview.png")


def test_add_a_creator_and_a_code_through_the_forms(page, live, fake_shopify):
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
    page.fill("#new-code-code", "ZOE15")
    page.fill("#new-code-percent_off", "15")
    page.click("#new-code button[type=submit]")
    code_row = page.locator("#codes-table tbody tr", has_text="ZOE15")
    code_row.wait_for()
    assert "Created by the app" in code_row.text_content()
    assert "/discount/ZOE15" in code_row.text_content()
    created = [r for r in fake_shopify.requests if "discountCodeBasicCreate" in str(r.json)]
    assert created and "ZOE15" in str(created[-1].json)

    # The same code again is refused by the API; the form says so and keeps the input.
    page.click("#codes-section details summary")
    page.fill("#new-code-code", "zoe15")
    page.fill("#new-code-percent_off", "10")
    page.click("#new-code button[type=submit]")
    page.locator("#new-code [data-error-for]:not([hidden])").first.wait_for()
    assert page.input_value("#new-code-code") == "zoe15"
    assert page.locator("#codes-table tbody tr").count() == 1
    screenshot(page, "creator-new-code.png")


def test_keyboard_alone_reaches_every_control(page, live):
    open_demo(page, live)
    assert_tab_reaches_everything(page)
    # Sorting by keyboard: Enter on a column header sorts the table by it.
    page.focus("#creators-table th a[data-sort=cost]")
    page.keyboard.press("Enter")
    assert page.get_attribute("#creators-table th:has(a[data-sort=cost])", "aria-sort") == "descending"
    costs = page.eval_on_selector_all("#creators-table tbody tr td:nth-of-type(1)",
                                      "cells => cells.map(c => c.dataset.value)")
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


def assert_tab_reaches_everything(tab: Any) -> None:
    """Tab from the top until focus comes back round: every visible control was focused once."""
    expected = tab.evaluate("""selector => {
        const visible = el => el.checkVisibility({checkVisibilityCSS: true});  // closed <details> too
        const controls = [...document.querySelectorAll(selector)].filter(el => visible(el) && !el.disabled);
        controls.forEach((el, i) => el.dataset.kbd = String(i));
        return controls.length;
    }""", CONTROLS)
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
    missing = tab.evaluate("""reached => [...document.querySelectorAll('[data-kbd]')]
        .filter(el => !reached.includes(el.dataset.kbd)).map(el => el.outerHTML.slice(0, 120))""", sorted(reached))
    assert not missing, missing
    assert outline_seen, "focused controls must show a focus ring"
