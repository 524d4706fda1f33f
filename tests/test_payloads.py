"""Webhook bodies the worker cannot read fail as bad payloads (not retried as bugs); what it reads beside."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories.shopify import fixture_json
from worker.payloads import PayloadError, parse_body, read_order


def test_an_integer_too_long_to_convert_is_a_bad_payload_not_a_crash():
    with pytest.raises(PayloadError, match="not JSON this app reads"):
        parse_body('{"id": ' + "9" * 5000 + "}")


def test_a_body_that_is_not_an_object_is_a_bad_payload():
    with pytest.raises(PayloadError, match="not a JSON object"):
        parse_body("[1, 2]")


def test_an_order_keeps_its_presentment_money_beside_the_shop_money():
    values = read_order(fixture_json("orders_create_code.json")).values
    assert values["subtotal"] == Decimal("95.91")
    assert (values["presentment_currency"], values["presentment_subtotal"]) == ("EUR", Decimal("88.40"))


@pytest.mark.parametrize(
    "change",
    [
        {"subtotal_price_set": None},
        {"subtotal_price_set": "95.91"},
        {"subtotal_price_set": {"shop_money": {"amount": "95.91", "currency_code": "USD"}}},
        {"subtotal_price_set": {"shop_money": {"amount": "95.91"}, "presentment_money": ["88.40", "EUR"]}},
        {"subtotal_price_set": {"shop_money": {"amount": "95.91"}, "presentment_money": {"amount": "NaN"}}},
        {"subtotal_price_set": {"shop_money": {"amount": "95.91"}, "presentment_money": {"amount": "-1"}}},
        {
            "subtotal_price_set": {"shop_money": {"amount": "95.91"}, "presentment_money": {"amount": "88.40"}},
            "presentment_currency": "EURO",
        },
    ],
)
def test_missing_or_malformed_presentment_money_is_unknown_never_a_failed_order(change):
    facts = read_order({**fixture_json("orders_create_code.json"), **change})
    assert facts.values["subtotal"] == Decimal("95.91")  # the plain subtotal_price when the set fails
    assert (facts.values["presentment_currency"], facts.values["presentment_subtotal"]) == (None, None)


def test_presentment_currency_comes_from_the_order_when_the_money_lacks_it():
    body = {
        **fixture_json("orders_create_code.json"),
        "subtotal_price_set": {"shop_money": {"amount": "95.91"}, "presentment_money": {"amount": "88.4"}},
        "presentment_currency": "eur",
    }
    assert (read_order(body).values["presentment_currency"], read_order(body).values["presentment_subtotal"]) == (
        "EUR",
        Decimal("88.40"),
    )
