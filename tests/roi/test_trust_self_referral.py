"""Self-referral: a creator buying through their own code or link scores high enough to hold
the commission; relatives at the same door are flagged, never held; a malformed e-mail or IP
skips that piece of evidence and says why."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from factories.shopify import fixture_json
from roi.trust.clicks import LinkClick
from roi.trust.contact import (
    Address,
    canonical_ip,
    normalise_address,
    normalise_email,
    normalise_phone,
    same_phone,
)
from roi.trust.self_referral import FLAG, HOLD, WEIGHTS, Buyer, Contact, buyer_from_order, self_referral_score
from roi.trust.settings import TrustSettings

# The buyer of orders_create_link.json: Jordan Reyes, 1520 Spruce Street Apt 4B, Philadelphia 19102.
JORDANS_HOME = Address(address1="1520 Spruce St.", address2="apt 4b", city="Philly", zip="19102", country_code="US")
IPHONE_INSTAGRAM = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Instagram 402.0.0.28.85 (iPhone15,3; iOS 18_6; en_US; en)"
)


def order(**changes: Any) -> dict[str, Any]:
    body = fixture_json("orders_create_link.json")
    body.update(changes)
    return body


def stranger() -> Contact:
    return Contact(
        email="mia@studio-mia.example",
        phone="+1 (646) 555-0199",
        name="Mia Park",
        address=Address(address1="88 Orchard Street", zip="10002", country_code="US"),
    )


def test_the_fixtures_buyer_is_read_from_the_shopify_order():
    buyer = buyer_from_order(order())
    assert buyer.contact.email == "jordan.reyes@example.com"
    assert buyer.contact.phone == "+12155550147"
    assert buyer.contact.name == "Jordan Reyes"
    assert buyer.contact.address is not None and buyer.contact.address.zip == "19102"
    assert buyer.browser_ip == "198.51.100.77"
    assert buyer.user_agent == IPHONE_INSTAGRAM
    assert buyer.placed_at.utcoffset() == timedelta(hours=-4)


def test_a_stranger_scores_nothing():
    result = self_referral_score(buyer_from_order(order()), stranger())
    assert (result.score, result.severity, result.matched, result.skipped) == (0, None, (), ())


def test_the_creators_own_email_behind_a_tag_and_gmail_dots_holds_on_its_own():
    buyer = buyer_from_order(
        order(email="J.O.R.Dan.Reyes+deal@GoogleMail.com", shipping_address=None, billing_address=None)
    )
    creator = Contact(email="jordanreyes@gmail.com", name="Jordan Reyes")
    result = self_referral_score(buyer, creator)
    assert result.matched == ("email",)
    assert result.score == WEIGHTS["email"] == 70
    assert result.severity == HOLD


def test_the_creators_mother_at_the_same_address_is_flagged_not_held():
    mother = Contact(email="carmen.reyes@gmail.com", phone="+1 215 555 0100", name="Carmen Reyes", address=JORDANS_HOME)
    creator = Contact(email="jordan.creates@gmail.com", phone="+12155550147", name="Jordan Reyes", address=JORDANS_HOME)
    placed = buyer_from_order(order()).placed_at
    buyer = Buyer(contact=mother, placed_at=placed, browser_ip="203.0.113.9", user_agent=IPHONE_INSTAGRAM)
    result = self_referral_score(buyer, creator)
    assert result.matched == ("address",)
    assert 40 <= result.score < 70
    assert result.severity == FLAG


def test_the_same_address_in_other_spellings_matches():
    written = Address(address1="1520  SPRUCE STREET, Apartment 4B", city="Philadelphia", zip="19102", country_code="us")
    assert normalise_address(written) == normalise_address(JORDANS_HOME)


def test_another_flat_in_the_same_building_is_not_the_same_address():
    downstairs = Address(address1="1520 Spruce Street", address2="Apt 1A", zip="19102", country_code="US")
    assert normalise_address(downstairs) != normalise_address(JORDANS_HOME)


def test_the_creators_own_name_at_their_own_address_holds():
    creator = Contact(email="jordan.creates@gmail.com", name="Jordan Reyes", address=JORDANS_HOME)
    result = self_referral_score(buyer_from_order(order()), creator)
    assert set(result.matched) == {"address", "name_postcode"}
    assert result.score == 85 and result.severity == HOLD


def test_same_phone_alone_is_flagged_written_with_or_without_its_country_code():
    creator = Contact(email="jordan.creates@gmail.com", phone="(215) 555-0147")
    result = self_referral_score(buyer_from_order(order(shipping_address=None, billing_address=None)), creator)
    assert result.matched == ("phone",)
    assert result.severity == FLAG


def test_phones_both_with_country_codes_compare_in_full():
    uk, us = normalise_phone("+44 215 555 0147"), normalise_phone("+1 215 555 0147")
    assert uk is not None and us is not None
    assert not same_phone(uk, us)
    national = normalise_phone("215-555-0147")
    assert national is not None and same_phone(national, us)


def test_a_shared_company_domain_counts_a_little_a_shared_webmail_host_nothing():
    buyer = buyer_from_order(order(email="jordan@reyes-family.example", shipping_address=None, billing_address=None))
    family = self_referral_score(buyer, Contact(email="carmen@reyes-family.example"))
    assert family.matched == ("email_domain",) and family.score == 15 and family.severity is None
    webmail = buyer_from_order(order(email="someone@gmail.com", shipping_address=None, billing_address=None))
    assert self_referral_score(webmail, Contact(email="jordan.creates@gmail.com")).matched == ()


def clicks_from(ip: str, agent: str, *moments: datetime) -> list[LinkClick]:
    return [LinkClick(clicked_at=m, ip_key=f"hash:{ip}", user_agent=agent) for m in moments]


def test_the_buyers_browser_on_the_creators_links_on_several_days_adds_to_the_address():
    buyer = buyer_from_order(order())
    placed = buyer.placed_at
    clicks = clicks_from("198.51.100.77", IPHONE_INSTAGRAM, placed - timedelta(days=12), placed - timedelta(minutes=4))
    creator = Contact(email="jordan.creates@gmail.com", address=JORDANS_HOME)
    result = self_referral_score(buyer, creator, clicks, ip_key=lambda ip: f"hash:{ip}")
    assert set(result.matched) == {"address", "ip_user_agent"}
    assert result.figures["click_days_from_buyer"] == 2
    assert result.score == 65


def test_one_click_before_buying_is_what_every_link_buyer_does_and_counts_nothing():
    buyer = buyer_from_order(order())
    clicks = clicks_from("198.51.100.77", IPHONE_INSTAGRAM, buyer.placed_at - timedelta(minutes=4))
    result = self_referral_score(buyer, stranger(), clicks, ip_key=lambda ip: f"hash:{ip}")
    assert result.matched == () and result.figures["click_days_from_buyer"] == 1


def test_clicks_older_than_the_window_or_from_another_browser_do_not_count():
    buyer = buyer_from_order(order())
    placed = buyer.placed_at
    old = clicks_from("198.51.100.77", IPHONE_INSTAGRAM, placed - timedelta(days=31), placed - timedelta(days=40))
    laptop = clicks_from(
        "198.51.100.77", "Mozilla/5.0 (Macintosh)", placed - timedelta(days=2), placed - timedelta(days=3)
    )
    result = self_referral_score(buyer, stranger(), old + laptop, ip_key=lambda ip: f"hash:{ip}")
    assert result.figures["click_days_from_buyer"] == 0


def test_a_malformed_email_or_ip_skips_that_evidence_and_says_why():
    body = order(email="jordan.reyes(at)example", browser_ip="999.1.1.1", client_details={"browser_ip": "999.1.1.1"})
    creator = Contact(email="jordan.reyes@example.com", address=JORDANS_HOME)
    buyer = buyer_from_order(body)
    clicks = clicks_from("999.1.1.1", IPHONE_INSTAGRAM, buyer.placed_at - timedelta(days=1))
    result = self_referral_score(buyer, creator, clicks)
    assert result.matched == ("address",)
    assert [(s.evidence, s.reason) for s in result.skipped] == [
        ("email", "the order's e-mail is not an e-mail address"),
        ("ip_user_agent", "the order's browser IP is not an IP address"),
    ]


def test_the_merchants_thresholds_decide_hold_and_flag():
    creator = Contact(address=JORDANS_HOME)
    strict = TrustSettings(self_referral_hold=45, self_referral_flag=20)
    assert self_referral_score(buyer_from_order(order()), creator, settings=strict).severity == HOLD
    lenient = TrustSettings(self_referral_hold=90, self_referral_flag=60)
    assert self_referral_score(buyer_from_order(order()), creator, settings=lenient).severity is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Jordan.Reyes+shop@Gmail.com", "jordanreyes@gmail.com"),
        ("jordan.reyes@googlemail.com", "jordanreyes@gmail.com"),
        (" J.Reyes+x@Example.COM ", "j.reyes@example.com"),
        ("+only@example.com", None),
        ("no-at-sign.example.com", None),
        ("two@@example.com", None),
        ("user@localhost", None),
    ],
)
def test_emails_normalise(raw: str, normalised: str | None):
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("198.51.100.77", "198.51.100.77"),
        ("::ffff:198.51.100.77", "198.51.100.77"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("198.51.100", None),
        ("not an ip", None),
    ],
)
def test_ips_have_one_spelling(raw: str, canonical: str | None):
    assert canonical_ip(raw) == canonical
