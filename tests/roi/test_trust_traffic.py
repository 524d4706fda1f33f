"""Link traffic: clicks counted once per visitor per hour, paid-ad click ids, click injection,
click flooding and junk traffic, each with a case that flags and one that must not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories.shopify import fixture_json
from roi.trust.clicks import LinkClick, count_clicks, counted_clicks
from roi.trust.settings import TrustSettings
from roi.trust.traffic import (
    LinkConversion,
    click_flooding,
    click_injections,
    junk_traffic,
    paid_click_ids,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) Safari/604.1"


def click(minutes: float, ip: str | None = "ip-a", agent: str = SAFARI) -> LinkClick:
    return LinkClick(clicked_at=T0 + timedelta(minutes=minutes), ip_key=ip, user_agent=agent)


def test_the_same_visitor_counts_once_an_hour():
    taps = [click(0), click(5), click(59), click(61), click(62), click(125)]
    assert [c.clicked_at for c in counted_clicks(taps)] == [taps[0].clicked_at, taps[3].clicked_at, taps[5].clicked_at]
    assert count_clicks(taps) == 3


def test_other_visitors_and_clicks_without_an_ip_each_count():
    taps = [click(0), click(1, ip="ip-b"), click(2, agent="Chrome"), click(3, ip=None), click(4, ip=None)]
    assert count_clicks(taps) == 5


def test_the_window_is_the_merchants():
    taps = [click(0), click(31)]
    assert count_clicks(taps) == 1
    assert count_clicks(taps, TrustSettings(click_dedupe_minutes=30)) == 2


def test_paid_click_ids_in_the_landing_url_are_named():
    assert paid_click_ids("/?ref=anna-lee&crid=01JD3K8Q2W&gclid=Cj0KCQ&fbclid=IwAR2") == ("gclid", "fbclid")
    assert paid_click_ids("https://shop.example/products/serum?ttclid=E.C.P&li_fat_id=9") == ("ttclid", "li_fat_id")
    assert paid_click_ids("/discount/ANNA15?redirect=%2Fproducts%2Fserum%3Fmsclkid%3Dabc") == ("msclkid",)


def test_an_organic_landing_carries_no_paid_click_id():
    organic = fixture_json("orders_create_link.json")["landing_site"]
    assert paid_click_ids(organic) == ()
    assert paid_click_ids("/?gclid=&ref=anna-lee") == ()
    assert paid_click_ids(None) == ()


def conversion(order_id: int, seconds_after: float) -> LinkConversion:
    return LinkConversion(order_id=order_id, clicked_at=T0, placed_at=T0 + timedelta(seconds=seconds_after))


def test_an_order_seconds_after_its_click_is_click_injection():
    conversions = [conversion(1, 4), conversion(2, 14.9), conversion(3, 15), conversion(4, 600), conversion(5, -30)]
    assert click_injections(conversions) == (1, 2)


def test_ordinary_checkouts_are_not_click_injection():
    assert click_injections([conversion(1, 95), conversion(2, 3600)]) == ()


def flood(late: int, prompt: int) -> list[LinkConversion]:
    return [conversion(i, 30 * 3600) for i in range(late)] + [conversion(100 + i, 1800) for i in range(prompt)]


def test_most_conversions_days_after_the_click_with_many_clicks_is_click_flooding():
    result = click_flooding(flood(late=7, prompt=13), clicks=5000)
    assert result.flagged
    assert (result.conversions, result.late, result.late_share) == (20, 7, 0.35)
    assert result.late_order_ids == tuple(range(7))


@pytest.mark.parametrize(
    ("late", "prompt", "clicks"),
    [
        (6, 14, 5000),  # exactly 30% late: not more than 30%
        (7, 13, 999),  # too few clicks to be a flood: slow deciders
        (4, 5, 5000),  # too few conversions to call it a pattern
    ],
)
def test_late_conversions_without_a_flood_of_clicks_are_not_flagged(late: int, prompt: int, clicks: int):
    assert not click_flooding(flood(late, prompt), clicks).flagged


def test_thousands_of_clicks_that_never_buy_are_junk_traffic():
    result = junk_traffic(clicks=2500, orders=2)
    assert result.flagged and result.conversion_rate == 0.0008


@pytest.mark.parametrize(
    ("clicks", "orders"),
    [
        (2500, 3),  # 0.12%: low but not junk
        (1999, 0),  # not enough clicks to judge
        (0, 0),
    ],
)
def test_not_junk(clicks: int, orders: int):
    assert not junk_traffic(clicks, orders).flagged


def test_no_clicks_has_no_conversion_rate():
    assert junk_traffic(0, 0).conversion_rate is None
