"""The forms as a person fills them: every refusal says what to enter, in words, at the field;
a discount code that customers could not type is refused; the Costs page filters by date and
totals what it lists."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from factories import SHOP
from factories.admin import session_token
from factories.registry import make_cost, make_influencer
from plugin.schemas.registry import discount_code_problem

# What marshmallow and the code said before: words of a program, not of a person.
CODE_WORDS = re.compile(
    r"Missing data|Not a valid|Must be|Length must|Unknown field|Invalid (value|type|input)|may not be null|"
    r"management_time|create_in_shopify|hourly_rate|influencer_id|_id\b"
)


def messages(errors: Any) -> list[str]:
    """Every message of an {"errors": {...}} answer, nested ones (settings' rates) included."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in messages(value)]
    return [str(m) for m in errors]


def assert_in_words(response: Any, *fields: str) -> dict[str, Any]:
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    for name in fields:
        assert name in errors, (name, errors)
    for text in messages(errors):
        assert not CODE_WORDS.search(text), text
        assert text[0].isupper() and text.rstrip("/").endswith((".", "https:")), text
    return errors


# --- messages for a person, on every form -------------------------------------------------------------


def test_the_creator_form_says_what_to_enter(api):
    errors = assert_in_words(api.post("/api/v1/influencers", json={}), "name", "handle", "platform")
    assert errors["name"] == ["Enter a name."] and errors["platform"] == ["Choose a platform."]
    errors = assert_in_words(
        api.post(
            "/api/v1/influencers",
            json={"name": " ", "handle": "anna lee", "platform": "myspace", "followers": "many", "email": "anna"},
        ),
        "name",
        "handle",
        "platform",
        "followers",
        "email",
    )
    assert errors["platform"] == ["Choose a platform from the list."]
    too_long = api.post("/api/v1/influencers", json={"name": "x" * 201, "handle": "anna", "platform": "tiktok"})
    assert assert_in_words(too_long, "name")["name"] == ["Enter a name (up to 200 characters)."]
    empty = api.post("/api/v1/campaigns", json={"name": ""})
    assert assert_in_words(empty, "name")["name"] == ["Enter a name (up to 120 characters)."]
    assert errors["followers"] == ["Enter a whole number, like 1200."]
    assert errors["email"] == ["Enter an email address, like name@example.com."]


def test_the_code_and_link_forms_say_what_to_enter(api):
    creator = make_influencer(api)
    codes = f"/api/v1/influencers/{creator['id']}/codes"
    assert assert_in_words(api.post(codes, json={}), "code")["code"] == ["Enter the code."]
    errors = assert_in_words(api.post(codes, json={"code": "ANNA10", "percent_off": 0, "usage_limit": 0}))
    assert errors["percent_off"] == ["Enter a number above 0, up to 100."]
    assert errors["usage_limit"] == ["Enter 1 or more."]
    errors = assert_in_words(api.post(codes, json={"code": "ANNA10"}), "percent_off")
    assert errors["percent_off"] == ["Enter the percent off: Shopify needs it to create the code."]
    errors = assert_in_words(
        api.post(codes, json={"code": "ANNA10", "create_in_shopify": False, "usage_limit": 5}), "usage_limit"
    )
    assert errors["usage_limit"] == ["Only used when the app creates the code in Shopify."]
    links = f"/api/v1/influencers/{creator['id']}/links"
    errors = assert_in_words(api.post(links, json={"slug": "a", "destination": "https://elsewhere.com"}))
    assert errors["destination"] == ["Enter a page of your store, starting with /, like /products/serum."]


def test_the_cost_form_says_what_to_enter(api):
    errors = assert_in_words(api.post("/api/v1/costs", json={}), "category", "incurred_on")
    assert errors == {"category": ["Choose a category."], "incurred_on": ["Enter the date."]}
    fee = {"category": "fee", "incurred_on": "2026-09-01"}
    errors = assert_in_words(api.post("/api/v1/costs", json=fee), "amount")
    assert errors["amount"] == ["Enter the amount (for your team's time, choose Management time and enter hours)."]
    errors = assert_in_words(api.post("/api/v1/costs", json={**fee, "category": "management_time"}), "hours")
    assert errors["hours"] == ["Enter the hours: management time costs hours × hourly rate."]
    errors = assert_in_words(
        api.post("/api/v1/costs", json={**fee, "incurred_on": "1 Sept", "amount": "-5", "influencer_id": "x"})
    )
    assert errors["incurred_on"] == ["Enter a date, like 2026-03-31."]
    errors = assert_in_words(api.post("/api/v1/costs", json={**fee, "amount": "-5"}), "amount")
    assert errors["amount"] == ["Enter 0 or more."]
    errors = assert_in_words(api.post("/api/v1/costs", json={**fee, "amount": "5", "hours": "2"}), "hours")
    assert errors["hours"] == ["Only for management time: choose that category, or leave this empty."]


def test_the_post_campaign_and_settings_forms_say_what_to_enter(api):
    errors = assert_in_words(api.post("/api/v1/posts", json={}), "influencer_id", "platform", "posted_at")
    assert errors["influencer_id"] == ["Choose a creator."] and errors["posted_at"] == ["Enter when it was posted."]
    creator = make_influencer(api)
    post = {"influencer_id": creator["id"], "platform": "instagram", "content_type": "reel"}
    errors = assert_in_words(
        api.post("/api/v1/posts", json={**post, "posted_at": "soon", "url": "nope", "likes": -1}),
        "posted_at",
        "url",
        "likes",
    )
    assert errors["url"] == ["Enter the full address, starting with https://"]
    assert errors["likes"] == ["Enter 0 or more."]
    assert assert_in_words(api.post("/api/v1/campaigns", json={"name": " "}))["name"] == ["Enter more than spaces."]
    errors = assert_in_words(
        api.patch(
            "/api/v1/shop/settings",
            json={"attribution_window_days": 0, "hourly_rate": "abc", "emv_rates": {"cpm": "-1"}, "evidence_order": []},
        ),
        "attribution_window_days",
        "hourly_rate",
        "emv_rates",
        "evidence_order",
    )
    assert errors["attribution_window_days"] == ["Enter a number from 1 to 365."]
    assert errors["emv_rates"] == {"cpm": ["Enter 0 or more."]}


# --- a code customers can type -----------------------------------------------------------------------------


def test_a_code_with_a_space_or_a_percent_sign_is_refused_at_the_field(api, fake_shopify):
    creator = make_influencer(api)
    url = f"/api/v1/influencers/{creator['id']}/codes"
    for body in (
        {"code": "JADE 20%", "create_in_shopify": False},
        {"code": "JADE 20", "percent_off": 20},
        {"code": "JADE20%", "create_in_shopify": False},
        {"code": "JADE\t20", "create_in_shopify": False},
    ):
        errors = assert_in_words(api.post(url, json=body), "code")
        assert "can't contain" in errors["code"][0] and "JADE20" in errors["code"][0], errors
    says = api.post(url, json={"code": "JADE 20%", "create_in_shopify": False}).get_json()["errors"]["code"]
    assert says == ["A discount code can't contain spaces or “%”: customers type it as one word, like JADE20."]
    assert api.get(url).get_json()["codes"] == []
    assert not [r for r in fake_shopify.requests if "discountCodeBasicCreate" in str(r.json)]
    # Spaces around a code are trimmed, not refused.
    assert api.post(url, json={"code": " JADE20 ", "create_in_shopify": False}).get_json()["code"] == "JADE20"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("JADE20", None),
        ("  jade-20_x  ", None),
        ("ÉTÉ20", None),
        ("JADE 20", "spaces"),
        ("JADE\u00a020", "spaces"),
        ("20%OFF", "“%”"),
        ("   ", "Enter the code"),
        ("JA\x07DE", "control characters"),
    ],
)
def test_what_a_discount_code_may_hold(code, problem):
    found = discount_code_problem(code)
    assert (found is None) if problem is None else (problem in (found or "")), found


# --- the Costs page: a date filter and a total -------------------------------------------------------------


def costs_page(client: Any, query: str = "") -> str:
    sep = "&" if query else ""
    response = client.get(f"/app/costs?{query}{sep}shop={SHOP}&host=aG9zdA&id_token={session_token(SHOP)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def total_of(html: str) -> tuple[Decimal, int, str]:
    found = re.search(
        r'<p class="costs-total" id="costs-total" data-value="([^"]*)" data-count="(\d+)">(.*?)</p>', html
    )
    assert found, "no total on the Costs page"
    return Decimal(found.group(1)), int(found.group(2)), re.sub(r"<[^>]+>", "", found.group(3))


def listed_days(html: str) -> list[str]:
    table = html.split('id="costs-table"', 1)[1] if 'id="costs-table"' in html else ""
    return re.findall(r'<td data-value="(\d{4}-\d\d-\d\d)">', table)


def test_costs_filter_by_date_and_total_what_they_list(api, client):
    anna = make_influencer(api, name="Anna")
    make_cost(api, amount="100.10", incurred_on="2026-08-15")
    make_cost(api, amount="250.20", incurred_on="2026-09-05", influencer_id=anna["id"])
    make_cost(api, category="management_time", hours="0.5", hourly_rate="0.60", incurred_on="2026-09-30")
    make_cost(api, amount="1000.00", incurred_on="2026-10-01")

    everything = costs_page(client)
    assert total_of(everything) == (Decimal("1350.60"), 4, "Total: $1,350.60 for 4 costs, all dates")
    assert listed_days(everything) == ["2026-10-01", "2026-09-30", "2026-09-05", "2026-08-15"]
    assert 'value=""' in everything.split('id="f-from"', 1)[1][:80]  # no bound by default

    september = costs_page(client, "from=2026-09-01&to=2026-09-30")
    assert total_of(september) == (Decimal("250.50"), 2, "Total: $250.50 for 2 costs in these dates")
    assert listed_days(september) == ["2026-09-30", "2026-09-05"]
    api_total = api.get("/api/v1/costs?from=2026-09-01&to=2026-09-30").get_json()["total"]
    assert Decimal(api_total) == Decimal("250.50")
    assert 'value="2026-09-01"' in september and "All dates" in september

    only_from = costs_page(client, "from=2026-09-06")
    assert total_of(only_from)[:2] == (Decimal("1000.30"), 2)

    nothing = costs_page(client, "from=2027-01-01")
    assert total_of(nothing)[:2] == (Decimal("0.00"), 0) and "No costs in these dates." in nothing


def test_a_reversed_or_wrong_costs_range_keeps_what_was_typed_and_says_so(api, client):
    make_cost(api, amount="10.00", incurred_on="2026-09-05")
    reversed_range = costs_page(client, "from=2026-09-30&to=2026-09-01")
    assert "The end date is before the start date." in reversed_range
    assert 'value="2026-09-30"' in reversed_range and 'value="2026-09-01"' in reversed_range
    assert total_of(reversed_range)[:2] == (Decimal("10.00"), 1)  # meanwhile, every cost
    wrong = costs_page(client, "from=someday")
    assert 'id="f-from-error"' in wrong and 'value="someday"' in wrong
