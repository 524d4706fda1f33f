"""Coupon leak: a code's orders that no click of the creator explains and something says came
from a coupon site, a survey's other source or a straight-to-checkout visit; a code leaking on
their share or on a spike; a genuine viral day is not a leak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from factories.shopify import fixture_json
from roi.trust.coupon_leak import (
    FIXES,
    CodeOrder,
    code_leak,
    coupon_site,
    landed_on_cart,
    names_other_source,
)
from roi.trust.settings import TrustSettings

AS_OF = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
TERMS = ("anna-lee", "Anna Lee", "ANNA15", "instagram")


def code_order(order_id: int, placed_at: datetime, **changes: Any) -> CodeOrder:
    """An order on ANNA15 as the worker reads it from a Shopify payload (orders_create_code.json)."""
    body = dict(fixture_json("orders_create_code.json"), id=order_id, **changes)
    notes = [n["value"] for n in body.get("note_attributes") or [] if n.get("name") == "how_did_you_hear"]
    return CodeOrder(
        order_id=body["id"],
        placed_at=placed_at,
        referring_site=body.get("referring_site"),
        landing_site=body.get("landing_site"),
        survey_answers=tuple(notes),
    )


def survey(answer: str) -> list[dict[str, str]]:
    return [{"name": "how_did_you_hear", "value": answer}]


def test_coupon_sites_match_their_domain_and_subdomains_only():
    assert coupon_site("https://www.retailmenot.com/view/lumenskin.com") == "retailmenot.com"
    assert coupon_site("https://deals.slickdeals.net/x") == "slickdeals.net"
    assert coupon_site("https://www.joinhoney.com/shop/lumenskin") == "joinhoney.com"
    assert coupon_site("https://notretailmenot.com/") is None
    assert coupon_site("https://l.instagram.com/") is None
    assert coupon_site("/products/serum") is None
    assert coupon_site("/products/serum?utm_source=RetailMeNot&utm_medium=coupon") == "retailmenot.com"
    assert coupon_site("/products/serum?utm_source=instagram") is None
    assert coupon_site("https://dealsdirect.example/x", ["dealsdirect.example"]) == "dealsdirect.example"


def test_landing_on_cart_or_checkout_directly_or_through_the_discount_link():
    assert landed_on_cart("/cart")
    assert landed_on_cart("/checkouts/cn/abc123?locale=en")
    assert landed_on_cart("/discount/ANNA15?redirect=%2Fcart")
    assert not landed_on_cart("/products/serum?ref=anna-lee")
    assert not landed_on_cart("/cartography-book")


def test_a_survey_answer_names_another_source_unless_it_names_the_creator():
    assert names_other_source(["RetailMeNot"], TERMS) == "RetailMeNot"
    assert names_other_source(["I follow @anna-lee."], TERMS) is None
    assert names_other_source(["Anna Lee's reel"], TERMS) is None
    assert names_other_source(["Instagram"], TERMS) is None
    assert names_other_source(["Don't remember", ""], TERMS) is None


def leaked_orders(count: int, start: datetime) -> list[CodeOrder]:
    sources = [
        {"referring_site": "https://www.retailmenot.com/view/lumenskin.com"},
        {"landing_site": "/checkout"},
        {"note_attributes": survey("a coupon extension")},
    ]
    return [code_order(100 + i, start + timedelta(hours=20 * i), **sources[i % 3]) for i in range(count)]


def followed_orders(count: int, start: datetime, first_id: int = 500) -> list[CodeOrder]:
    return [code_order(first_id + i, start + timedelta(hours=9 * i)) for i in range(count)]


def test_a_quarter_of_orders_unexplained_over_two_weeks_is_a_leak_with_the_orders_it_rests_on():
    start = AS_OF - timedelta(days=13)
    leaked = leaked_orders(3, start)
    clicked = followed_orders(9, start + timedelta(days=8))
    clicks = [o.placed_at - timedelta(hours=2) for o in clicked]
    result = code_leak(leaked + clicked, clicks, as_of=AS_OF, creator_terms=TERMS)
    assert result.leaking and result.reasons == ("unexplained_share",)
    assert (result.orders, result.unexplained) == (12, 3)
    assert result.unexplained_share == 0.25
    assert result.order_ids == (100, 101, 102)
    assert result.fixes == FIXES == ("rotate_code", "auto_apply_link", "lower_commission_unexplained")
    why = {s.order_id: s.elsewhere for s in result.sources if s.unexplained}
    assert why == {
        100: ("coupon_site:retailmenot.com",),
        101: ("landed_on_cart",),
        102: ("survey:a coupon extension",),
    }


def test_fewer_than_ten_orders_are_not_enough_to_call_a_leak():
    start = AS_OF - timedelta(days=13)
    result = code_leak(leaked_orders(3, start) + followed_orders(6, start), [], as_of=AS_OF, creator_terms=TERMS)
    assert result.unexplained == 3 and result.orders == 9
    assert not result.leaking and result.fixes == ()


def test_a_click_in_the_week_before_explains_a_coupon_site_order():
    start = AS_OF - timedelta(days=13)
    leaked = leaked_orders(12, start)
    clicks = [o.placed_at - timedelta(days=6) for o in leaked]
    result = code_leak(leaked, clicks, as_of=AS_OF, creator_terms=TERMS)
    assert result.unexplained == 0 and not result.leaking


def test_no_click_without_any_sign_of_elsewhere_is_not_unexplained():
    """Most code orders come from people who saw the post and typed the code."""
    start = AS_OF - timedelta(days=13)
    result = code_leak(followed_orders(20, start), [], as_of=AS_OF, creator_terms=TERMS)
    assert result.unexplained == 0 and not result.leaking


def test_the_shops_own_coupon_sites_are_added_to_the_list():
    start = AS_OF - timedelta(days=13)
    local = [
        code_order(i, start + timedelta(hours=30 * i), referring_site="https://dealsdirect.example/a")
        for i in range(10)
    ]
    assert not code_leak(local, [], as_of=AS_OF).leaking
    assert code_leak(local, [], as_of=AS_OF, shop_coupon_sites=["DealsDirect.example"]).leaking


def steady_month(per_day: int = 1) -> list[CodeOrder]:
    """One use a day on the 28 days before the window's last week."""
    orders = []
    for day in range(35):
        for n in range(per_day):
            orders.append(code_order(1000 + day * 10 + n, AS_OF - timedelta(days=35 - day, hours=3 + n)))
    return orders


def test_a_spike_above_three_times_the_median_with_orders_no_click_explains_is_a_leak():
    spike_day = AS_OF - timedelta(hours=5)
    spike = [code_order(2000 + i, spike_day + timedelta(minutes=i)) for i in range(6)]
    result = code_leak(steady_month() + spike, [], as_of=AS_OF, creator_terms=TERMS)
    assert result.reasons == ("spike",)
    [day] = result.spike_days
    assert (day.day, day.uses, day.median, day.clicked_share) == (spike_day.date(), 6, 1.0, 0.0)
    assert result.order_ids == tuple(range(2000, 2006))


def test_a_genuine_viral_day_explained_by_clicks_is_not_a_leak():
    spike_day = AS_OF - timedelta(hours=5)
    viral = [code_order(2000 + i, spike_day + timedelta(minutes=i)) for i in range(30)]
    clicks = [o.placed_at - timedelta(minutes=20) for o in viral]
    result = code_leak(steady_month() + viral, clicks, as_of=AS_OF, creator_terms=TERMS)
    assert not result.leaking and result.spike_days == ()


def test_a_handful_of_uses_over_a_zero_median_is_not_a_spike():
    few = [code_order(3000 + i, AS_OF - timedelta(hours=i + 1)) for i in range(4)]
    assert code_leak(few, [], as_of=AS_OF).spike_days == ()


def test_days_are_the_shops_days():
    """Six uses in a Los Angeles afternoon are one day there, two in UTC (four and two)."""
    afternoon = datetime(2026, 11, 29, 14, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    uses = [code_order(4000 + i, afternoon + timedelta(minutes=30 * i)) for i in range(6)]
    la = code_leak(uses, [], as_of=AS_OF + timedelta(hours=12), tz=ZoneInfo("America/Los_Angeles"))
    utc = code_leak(uses, [], as_of=AS_OF + timedelta(hours=12))
    assert [d.uses for d in la.spike_days] == [6]
    assert utc.spike_days == ()


def test_orders_after_the_day_judged_are_left_out():
    start = AS_OF - timedelta(days=13)
    later = [code_order(9000 + i, AS_OF + timedelta(hours=i + 1), landing_site="/cart") for i in range(12)]
    result = code_leak(followed_orders(10, start) + later, [], as_of=AS_OF)
    assert result.orders == 10 and not result.leaking


def test_the_merchants_share_applies():
    start = AS_OF - timedelta(days=13)
    orders = leaked_orders(3, start) + followed_orders(9, start + timedelta(days=8))
    clicks = [o.placed_at - timedelta(hours=2) for o in orders[3:]]
    assert code_leak(orders, clicks, as_of=AS_OF).leaking
    assert not code_leak(orders, clicks, as_of=AS_OF, settings=TrustSettings(leak_unexplained_share=0.5)).leaking
