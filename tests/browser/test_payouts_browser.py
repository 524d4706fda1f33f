"""The Payouts page and a creator's own statement, in Chromium, on the demo store: a paid and an
open payout (made by the demo's own payout seeding from approved commissions), marking the open
one paid, the statement link made on the creator page, and every page fitting 1280 and 390 px."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from browsing import LiveServer, open_demo
from sqlalchemy import select
from test_merchant_week import OVERFLOW, SHOTS, shots

from factories.admin import auth_headers
from models import CommissionLine, Influencer, Shop, utcnow

pytestmark = pytest.mark.browser

PHONE, SMALL_PHONE = 390, 360


def fits(tab: Any, where: str, widths: tuple[int, ...] = (1280, PHONE, SMALL_PHONE)) -> None:
    """No page wider than its viewport at each width (a wide table scrolls inside its own box)."""
    for width in widths:
        tab.set_viewport_size({"width": width, "height": 900})
        fit = tab.evaluate(OVERFLOW)
        assert fit["scroll"] <= width and not fit["found"], (where, width, fit)
    tab.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def demo_payouts(dev_app, demo_shop) -> dict[str, Any]:
    """The demo store's paid and open payouts. `creator-roi demo` makes them from the ledger's
    approved commissions; a store whose ledger approved none yet gets approved commissions for four
    creators (one without a payout e-mail) and the same payout seeding."""
    from demo.payouts import seed_payouts

    rt = dev_app.extensions["creator_roi"]
    client, headers = dev_app.test_client(), auth_headers(demo_shop)
    if not client.get("/api/v1/payouts", headers=headers).json["payouts"]:
        with rt.db.session() as session:
            shop = session.scalar(select(Shop).where(Shop.domain == demo_shop))
            query = select(Influencer).where(Influencer.shop_id == shop.id).order_by(Influencer.id)
            creators = list(session.scalars(query))[:4]
            now = utcnow()
            for n, creator in enumerate(creators):
                creator.payout_email = f"{creator.handle}@example.com" if n < 3 else None
                for days_ago, amount in ((40, "48.20"), (25, "31.75"), (6, "27.40")):
                    moment = now - timedelta(days=days_ago)
                    session.add(
                        CommissionLine(
                            shop_id=shop.id,
                            influencer_id=creator.id,
                            kind="commission",
                            amount=Decimal(amount),
                            state="approved",
                            reason=f"10% of an order placed {(moment - timedelta(days=30)).date():%b %-d}",
                            event_key=f"browser:{creator.id}:{days_ago}",
                            earned_on=(moment - timedelta(days=30)).date(),
                            approved_at=moment,
                        )
                    )
            session.commit()
            end = shop.local_day(now) - timedelta(days=1)
        seed_payouts(rt, demo_shop, end=end)
    payouts = client.get("/api/v1/payouts", headers=headers).json["payouts"]
    opened = next(p for p in payouts if p["state"] == "open")
    paid = next(p for p in payouts if p["state"] == "paid")
    return {"open": opened, "paid": paid, "shop": demo_shop}


def open_payouts(tab: Any, live: LiveServer) -> None:
    open_demo(tab, live)
    tab.locator(".tabs a", has_text="Payouts").click()
    tab.wait_for_url(re.compile(r"/app/payouts"))
    tab.wait_for_load_state("networkidle")


def test_the_payouts_page_shows_the_open_and_paid_payouts_and_marks_one_paid(page, live, demo_payouts):
    opened, paid = demo_payouts["open"], demo_payouts["paid"]
    open_payouts(page, live)
    assert page.locator(".tabs a[aria-current=page]").text_content() == "Payouts"
    open_section = page.locator(f"#payout-{opened['id']}")
    assert open_section.locator("tbody tr").count() == len(opened["rows"]) > 0
    total = open_section.locator("tfoot td[data-value]").get_attribute("data-value")
    assert Decimal(total) == Decimal(opened["total"])
    if opened["without_payout_email"]:
        warning = open_section.locator("[data-left-out]").text_content()
        assert all(r["name"] in warning for r in opened["without_payout_email"])
    history = page.locator("#history-table tbody tr[data-state=paid]")
    assert history.count() == 1 and f"#{paid['id']}" in history.text_content()
    fits(page, "payouts")
    shots(page, "payouts")

    # The PayPal file downloads through the API with the page's token: one row per creator with an e-mail.
    with page.expect_download() as download:
        open_section.get_by_role("button", name="PayPal file").click()
    text = open(download.value.path(), newline="").read()
    with_email = [r for r in opened["rows"] if r["payout_email"]]
    assert text.count("\r\n") == len(with_email) and text.count(",PAYPAL\r\n") == len(with_email)

    page.locator(f"#pay-{opened['id']} button[type=submit]").click()  # the fixture accepts the confirm
    page.locator(f"#payout-{opened['id']}").wait_for(state="detached")
    assert page.locator("#history-table tbody tr[data-state=paid]").count() == 2
    fits(page, "payouts, all paid")


def test_the_statement_link_is_made_on_the_creator_page_and_fits_a_phone(page, live, dev_app, demo_payouts):
    open_demo(page, live)
    name = demo_payouts["paid"]["rows"][0]["name"]
    page.get_by_role("link", name="All time").click()
    page.wait_for_url(re.compile(r"range=all"))
    page.locator("#creators-table tbody th a", has_text=name).first.click()
    page.wait_for_url(re.compile(r"/app/creators/\d+"))
    page.wait_for_load_state("networkidle")
    pay = page.locator("#pay-section")
    assert Decimal(pay.locator("[data-metric=pay-paid]").get_attribute("data-value")) > 0
    fits(page, "creator with pay")
    pay.get_by_role("button", name=re.compile("statement link")).click()
    shown = pay.locator("[data-result=url] a")
    shown.wait_for(state="visible")
    url = shown.get_attribute("href")
    assert re.fullmatch(r"https://creator-roi\.test/s/[A-Za-z0-9_-]{43}", url)

    statement = page.context.new_page()
    statement.set_viewport_size({"width": PHONE, "height": 800})
    statement.goto(live.url + url.removeprefix("https://creator-roi.test"))
    assert statement.locator("#statement-title").text_content().startswith(name)
    assert statement.locator("#lines-table tbody tr").count() >= 1
    assert statement.locator("#payouts-table tbody tr[data-state=paid]").count() >= 1
    assert statement.locator("#links img.qr").first.evaluate("img => img.complete && img.naturalWidth > 0")
    for width in (PHONE, SMALL_PHONE):
        statement.set_viewport_size({"width": width, "height": 800})
        fit = statement.evaluate(OVERFLOW)
        assert fit["scroll"] <= width and not fit["found"], (width, fit)
    statement.set_viewport_size({"width": PHONE, "height": 800})
    SHOTS.mkdir(parents=True, exist_ok=True)
    statement.screenshot(path=str(SHOTS / "statement-390.png"), full_page=True)
    # The old link stops working when a new one is made.
    answer = dev_app.test_client().post(
        f"/api/v1/influencers/{_creator_id(page)}/statement-link", headers=auth_headers(demo_payouts["shop"])
    )
    assert answer.status_code == 201
    assert statement.goto(live.url + url.removeprefix("https://creator-roi.test")).status == 404


def _creator_id(tab: Any) -> int:
    return int(re.search(r"/app/creators/(\d+)", tab.url).group(1))
