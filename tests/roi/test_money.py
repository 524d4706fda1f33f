"""Money read from the Shopify fixtures matches the worked figures in their README."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories.shopify import fixture_json
from roi.money import (
    is_cancelled,
    is_test,
    is_voided,
    landing_params,
    merge_refunds,
    net_sales,
    order_codes,
    order_subtotal,
    parse_shopify_time,
    refund_merchandise,
    refunds_in_order,
    survey_answers,
)

CODE_ORDER = fixture_json("orders_create_code.json")
LINK_ORDER = fixture_json("orders_create_link.json")
SURVEY_ORDER = fixture_json("orders_create_survey.json")
CANCELLED_ORDER = fixture_json("orders_updated_cancelled.json")
PARTIAL_REFUND = fixture_json("refunds_create_partial.json")


# --- timestamps ----------------------------------------------------------------


def test_shop_offsets_become_utc() -> None:
    assert parse_shopify_time("2026-10-14T10:31:58-04:00") == datetime(2026, 10, 14, 14, 31, 58, tzinfo=UTC)
    # November is EST (-05:00): the same wall clock is an hour later in UTC.
    assert parse_shopify_time(SURVEY_ORDER["created_at"]) == datetime(2026, 11, 20, 17, 3, 38, tzinfo=UTC)


def test_nanosecond_triggered_at_is_read_to_the_microsecond() -> None:
    parsed = parse_shopify_time("2026-10-14T14:32:10.184224570Z")
    assert parsed == datetime(2026, 10, 14, 14, 32, 10, 184224, tzinfo=UTC)
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("value", [None, ""])
def test_missing_timestamp_is_none(value: str | None) -> None:
    assert parse_shopify_time(value) is None


def test_timestamp_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_shopify_time("2026-10-14T10:31:58")


# --- net sales -----------------------------------------------------------------


def test_subtotals_are_shop_money() -> None:
    # #1001 was paid in EUR (88.40); the shop reports in USD.
    assert order_subtotal(CODE_ORDER) == Decimal("95.91")
    assert order_subtotal(LINK_ORDER) == Decimal("70.00")
    assert order_subtotal(SURVEY_ORDER) == Decimal("96.00")


def test_subtotal_is_not_the_current_one_after_cancellation() -> None:
    # current_subtotal_price is 0.00 here: reading it would subtract refunds twice.
    assert order_subtotal(CANCELLED_ORDER) == Decimal("95.91")


def test_subtotal_falls_back_to_the_plain_shop_currency_string() -> None:
    payload = {k: v for k, v in CODE_ORDER.items() if k != "subtotal_price_set"}
    assert order_subtotal(payload) == Decimal("95.91")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"subtotal_price_set": {"presentment_money": {"amount": "1.00"}}},
        {"subtotal_price": "n/a"},
        {"subtotal_price": "NaN"},
    ],
)
def test_subtotal_without_a_usable_shape_is_none(payload: dict[str, Any]) -> None:
    assert order_subtotal(payload) is None


def test_partial_refund_counts_merchandise_only() -> None:
    # The refund also returns 6.40 shipping and 7.01 tax; neither was net sales.
    assert refund_merchandise(PARTIAL_REFUND) == Decimal("36.89")


def test_refund_line_falls_back_to_numeric_subtotal() -> None:
    refund = {"id": 1, "refund_line_items": [{"subtotal": 36.89}, {"subtotal": 0.1}]}
    assert refund_merchandise(refund) == Decimal("36.99")


def test_refund_without_lines_refunds_no_merchandise() -> None:
    assert refund_merchandise({"id": 2, "refund_line_items": []}) == Decimal("0.00")


def test_refund_line_without_subtotal_is_an_error() -> None:
    with pytest.raises(ValueError, match="subtotal"):
        refund_merchandise({"id": 3, "refund_line_items": [{"quantity": 1}]})


def test_net_after_the_partial_refund() -> None:
    refunds = {PARTIAL_REFUND["id"]: refund_merchandise(PARTIAL_REFUND)}
    assert net_sales(Decimal("95.91"), refunds) == Decimal("59.02")


def test_cancellation_counts_the_repeated_refund_once() -> None:
    merged = merge_refunds(
        {PARTIAL_REFUND["id"]: refund_merchandise(PARTIAL_REFUND)},
        refunds_in_order(CANCELLED_ORDER),
    )
    assert merged == {912345678901: Decimal("36.89"), 912345678955: Decimal("59.02")}
    subtotal = order_subtotal(CANCELLED_ORDER)
    assert subtotal is not None
    assert net_sales(subtotal, merged) == Decimal("0.00")


def test_net_never_goes_below_zero() -> None:
    assert net_sales(Decimal("10.00"), {1: Decimal("7.00"), 2: Decimal("7.00")}) == Decimal("0.00")


REFUND_SOURCES = [
    {PARTIAL_REFUND["id"]: refund_merchandise(PARTIAL_REFUND)},
    refunds_in_order(CANCELLED_ORDER),
    refunds_in_order(CODE_ORDER),  # an orders/create body: no refunds yet
    {PARTIAL_REFUND["id"]: refund_merchandise(PARTIAL_REFUND)},  # redelivery
]


@given(st.permutations(REFUND_SOURCES), st.integers(min_value=1, max_value=4))
def test_net_does_not_depend_on_arrival_order(sources: list[dict[int, Decimal]], seen: int) -> None:
    # Whatever arrived first, and whichever deliveries we have seen so far,
    # the final figure once the cancellation is in is the same.
    all_in = net_sales(Decimal("95.91"), merge_refunds(*sources))
    assert all_in == Decimal("0.00")
    partial = merge_refunds(*sources[:seen])
    assert net_sales(Decimal("95.91"), partial) in {Decimal("95.91"), Decimal("59.02"), Decimal("0.00")}


# --- status flags ------------------------------------------------------------


def test_status_flags_of_the_fixtures() -> None:
    assert not is_cancelled(CODE_ORDER) and is_cancelled(CANCELLED_ORDER)
    assert not is_voided(CODE_ORDER) and is_voided({"financial_status": "voided"})
    assert not is_test(CODE_ORDER) and is_test({"test": True})


# --- attribution facts ---------------------------------------------------------


def test_code_is_read_once_from_codes_and_applications() -> None:
    assert order_codes(CODE_ORDER) == ("ANNA15",)
    assert order_codes(LINK_ORDER) == ()


def test_codes_dedupe_case_insensitively_keeping_order() -> None:
    payload = {
        "discount_codes": [{"code": "anna15"}, {"code": "SPRING"}],
        "discount_applications": [
            {"type": "discount_code", "code": "ANNA15"},
            {"type": "automatic", "title": "BOGO"},
            {"type": "discount_code", "code": "WELCOME"},
        ],
    }
    assert order_codes(payload) == ("anna15", "SPRING", "WELCOME")


def test_link_parameters_of_1002() -> None:
    assert landing_params(LINK_ORDER["landing_site"]) == {
        "ref": "anna-lee",
        "crid": "01JD3K8Q2W",
        "utm_source": "instagram",
        "utm_medium": "creator",
        "utm_campaign": "spring",
    }


@pytest.mark.parametrize(
    ("landing_site", "expected"),
    [
        (None, {}),
        ("", {}),
        ("/collections/bestsellers", {}),
        ("/products/serum?utm_source=instagram", {"utm_source": "instagram"}),
        ("https://lumen-skin.example/?ref=anna-lee&crid=X1&gclid=zzz", {"ref": "anna-lee", "crid": "X1"}),
        ("/?ref=anna-lee&ref=other", {"ref": "anna-lee"}),
    ],
)
def test_landing_params_shapes(landing_site: str | None, expected: dict[str, str]) -> None:
    assert landing_params(landing_site) == expected


def test_survey_answer_of_1003() -> None:
    assert survey_answers(SURVEY_ORDER) == ("@anna.lee on TikTok",)
    assert survey_answers(CODE_ORDER) == ()


def test_survey_attribute_name_is_case_insensitive() -> None:
    payload = {
        "note_attributes": [
            {"name": "How_Did_You_Hear", "value": "a friend"},
            {"name": "gift_note", "value": "happy birthday"},
            {"name": "how_did_you_hear", "value": "  "},
        ]
    }
    assert survey_answers(payload) == ("a friend",)
