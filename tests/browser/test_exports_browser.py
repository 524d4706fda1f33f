"""Exports and the posts import as a merchant meets them in Chromium: a spreadsheet's local times
and handles go in as written, and what comes out is in shop time, with full links, ratios marked
as fractions, the creator's own followers and a file name that says what the file holds."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from browsing import open_page
from sqlalchemy import update

from factories import SHOP
from factories.admin import auth_headers
from models import Shop

pytestmark = pytest.mark.browser


def download(tab: Any, button: str) -> tuple[str, list[dict[str, str]]]:
    """Click an export button: the file's name and its rows."""
    with tab.expect_download() as done:
        tab.click(button)
    return done.value.suggested_filename, list(csv.DictReader(io.StringIO(Path(done.value.path()).read_text())))


def page_width(tab: Any, width: int) -> int:
    tab.set_viewport_size({"width": width, "height": 900})
    return int(tab.evaluate("document.documentElement.scrollWidth"))


def test_posts_go_in_as_written_and_come_out_in_shop_time(page, fresh, client, runtime):
    with runtime.db.session() as s:
        s.execute(update(Shop).where(Shop.domain == SHOP).values(timezone="America/New_York"))
    maya = client.post(
        "/api/v1/influencers",
        headers=auth_headers(SHOP),
        json={"name": "Maya Kim", "handle": "maya.k", "platform": "instagram", "followers": 48000},
    ).json

    open_page(page, fresh, "/app/posts")
    page.fill(
        "#import-posts-csv",
        "handle,platform,content_type,posted_at,url,impressions,likes\n"
        "@Maya.K,instagram,reel,2026-03-04 22:24:31,https://www.instagram.com/reel/abc/?igsh=x,12000,340\n"
        "maya.k,instagram,story,2026-03-06 09:00,,3000,40\n"
        "@nobody,instagram,reel,2026-03-06 09:00,,1,1\n",
    )
    page.click("#import-posts button[type=submit]")
    result = page.locator("[data-import-result]")
    result.locator("li").first.wait_for()
    assert result.locator("p").text_content().startswith("Imported 2 posts")
    assert result.locator("li").text_content().startswith("Line 4: handle")
    assert "@nobody" in result.locator("li").text_content()
    newest_first = page.locator("#posts-table tbody tr")
    newest_first.nth(1).wait_for()
    assert "Mar 4, 2026 22:24 EST" in newest_first.nth(1).text_content()  # as typed, not five hours off

    name, rows = download(page, "#posts-section button[data-export]")
    assert name == "posts.csv"
    assert [(r["posted_at"], r["url"], r["handle"]) for r in rows] == [
        ("2026-03-06T09:00:00-05:00", "", "maya.k"),
        ("2026-03-04T22:24:31-05:00", "https://www.instagram.com/reel/abc/?igsh=x", "maya.k"),
    ]
    for width in (390, 360):
        assert page_width(page, width) <= width, f"the Posts page scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})

    # The overview's export: named by its grouping and range, the creator's own followers.
    open_page(page, fresh, "/app")
    date_from, date_to = page.input_value("input[name=from]"), page.input_value("input[name=to]")
    name, rows = download(page, "#creators-section button[data-export]")
    assert name == f"creator-roi-influencer-{date_from}_{date_to}.csv"
    assert re.fullmatch(r"creator-roi-influencer-\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv", name)
    mine = next(r for r in rows if r["influencer"] == str(maya["id"]))
    assert mine["followers"] == "48000" and "roi_fraction" in mine
    assert rows[-1]["influencer"] == "total"
    assert not any(cell == "—" for row in rows for cell in row.values())
