"""Self-referral: how much an attributed order looks like the creator buying through their own
code or link, as a score from 0 to 100 with the evidence that matched.

Weights (added, capped at 100), chosen so that one strong match decides and weak ones only
add up:

* same e-mail after normalising: 70, alone enough to hold (an e-mail is one person);
* same phone: 50, and same name and postcode: 40, each alone a flag;
* same street address: 45, alone a flag and not a hold: a creator's mother or flatmate
  orders to the same door;
* same non-generic e-mail domain (a family or company domain): 15;
* the buyer's IP and browser on the creator's links on several days: 20. Every link buyer
  clicks from their own device, so this only ever adds to another match.

The same address together with the same name (85), phone (95) or e-mail holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from roi.trust.clicks import LinkClick
from roi.trust.contact import (
    WEBMAIL_DOMAINS,
    Address,
    canonical_ip,
    email_domain,
    normalise_address,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postcode,
    same_phone,
)
from roi.trust.settings import TRUST_SETTINGS, TrustSettings

WEIGHTS: Mapping[str, int] = {
    "email": 70,
    "phone": 50,
    "address": 45,
    "name_postcode": 40,
    "email_domain": 15,
    "ip_user_agent": 20,
}

HOLD = "hold"
FLAG = "flag"


@dataclass(frozen=True)
class Contact:
    """The creator's contact details from the registry, or the buyer's from the order."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    address: Address | None = None


@dataclass(frozen=True)
class Buyer:
    contact: Contact
    placed_at: datetime
    browser_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Skipped:
    evidence: str
    reason: str


@dataclass(frozen=True)
class SelfReferral:
    score: int
    # "hold", "flag" or None.
    severity: str | None
    matched: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    figures: Mapping[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def buyer_from_order(order: Mapping[str, Any]) -> Buyer:
    """The buyer of a Shopify order payload: e-mail, phone, name and shipping address (the
    billing address when nothing ships), browser IP and user agent from its client details."""
    customer = order.get("customer") or {}
    shipping = order.get("shipping_address") or order.get("billing_address") or {}
    client = order.get("client_details") or {}
    name = _text(shipping.get("name")) or " ".join(
        p for p in (_text(customer.get("first_name")), _text(customer.get("last_name"))) if p
    )
    contact = Contact(
        email=_text(order.get("email")) or _text(order.get("contact_email")) or _text(customer.get("email")),
        phone=_text(order.get("phone")) or _text(shipping.get("phone")) or _text(customer.get("phone")),
        name=name or None,
        address=Address(
            address1=_text(shipping.get("address1")),
            address2=_text(shipping.get("address2")),
            city=_text(shipping.get("city")),
            zip=_text(shipping.get("zip")),
            country_code=_text(shipping.get("country_code")),
        )
        if shipping
        else None,
    )
    placed_at = datetime.fromisoformat(str(order["created_at"]))
    return Buyer(
        contact=contact,
        placed_at=placed_at,
        browser_ip=_text(order.get("browser_ip")) or _text(client.get("browser_ip")),
        user_agent=_text(client.get("user_agent")),
    )


class _Evidence:
    def __init__(self) -> None:
        self.matched: list[str] = []
        self.skipped: list[Skipped] = []

    def skip(self, evidence: str, reason: str) -> None:
        self.skipped.append(Skipped(evidence, reason))


def _emails(buyer: Contact, creator: Contact, found: _Evidence) -> None:
    if not buyer.email or not creator.email:
        return
    mine, theirs = normalise_email(buyer.email), normalise_email(creator.email)
    if mine is None:
        found.skip("email", "the order's e-mail is not an e-mail address")
    if theirs is None:
        found.skip("email", "the creator's e-mail is not an e-mail address")
    if mine is None or theirs is None:
        return
    if mine == theirs:
        found.matched.append("email")
    elif email_domain(mine) == email_domain(theirs) and email_domain(mine) not in WEBMAIL_DOMAINS:
        found.matched.append("email_domain")


def _phones(buyer: Contact, creator: Contact, found: _Evidence) -> None:
    if not buyer.phone or not creator.phone:
        return
    mine, theirs = normalise_phone(buyer.phone), normalise_phone(creator.phone)
    if mine is None or theirs is None:
        found.skip("phone", "a phone number has fewer than 7 digits")
    elif same_phone(mine, theirs):
        found.matched.append("phone")


def _addresses(buyer: Contact, creator: Contact, found: _Evidence) -> None:
    mine, theirs = normalise_address(buyer.address), normalise_address(creator.address)
    if mine is not None and mine == theirs:
        found.matched.append("address")
    names = normalise_name(buyer.name), normalise_name(creator.name)
    postcodes = [normalise_postcode(a.zip) if a else None for a in (buyer.address, creator.address)]
    if names[0] and names[0] == names[1] and postcodes[0] and postcodes[0] == postcodes[1]:
        found.matched.append("name_postcode")


def _clicks_from_buyer(
    buyer: Buyer,
    clicks: Sequence[LinkClick],
    ip_key: Callable[[str], str],
    settings: TrustSettings,
    found: _Evidence,
) -> int:
    """Days on which the buyer's IP and browser clicked the creator's links within the window."""
    if buyer.browser_ip is None:
        return 0
    ip = canonical_ip(buyer.browser_ip)
    if ip is None:
        found.skip("ip_user_agent", "the order's browser IP is not an IP address")
        return 0
    key = ip_key(ip)
    since = buyer.placed_at - timedelta(days=settings.self_referral_click_days)
    days = {
        c.clicked_at.date()
        for c in clicks
        if c.ip_key == key
        and (c.user_agent or "") == (buyer.user_agent or "")
        and since <= c.clicked_at <= buyer.placed_at
    }
    if len(days) >= settings.self_referral_click_visit_days:
        found.matched.append("ip_user_agent")
    return len(days)


def self_referral_score(
    buyer: Buyer,
    creator: Contact,
    creator_clicks: Sequence[LinkClick] = (),
    *,
    ip_key: Callable[[str], str] = str,
    settings: TrustSettings = TRUST_SETTINGS,
) -> SelfReferral:
    """How much `buyer`'s order looks like `creator` buying from themselves.

    `creator_clicks` are the clicks on the creator's links; `ip_key` turns the buyer's IP (in
    its canonical spelling) into the form the clicks store it in (the app's keyed hash)."""
    found = _Evidence()
    _emails(buyer.contact, creator, found)
    _phones(buyer.contact, creator, found)
    _addresses(buyer.contact, creator, found)
    click_days = _clicks_from_buyer(buyer, creator_clicks, ip_key, settings, found)
    score = min(100, sum(WEIGHTS[m] for m in found.matched))
    severity = HOLD if score >= settings.self_referral_hold else FLAG if score >= settings.self_referral_flag else None
    figures = {
        "score": score,
        "weights": {m: WEIGHTS[m] for m in found.matched},
        "click_days_from_buyer": click_days,
        "hold_at": settings.self_referral_hold,
        "flag_at": settings.self_referral_flag,
    }
    return SelfReferral(score, severity, tuple(found.matched), tuple(found.skipped), figures)
