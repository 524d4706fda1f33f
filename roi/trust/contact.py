"""Contact details in a form that compares: e-mails, phones, postal addresses, names, IPs.

Each normaliser returns None for a value it cannot read, and the signal that wanted it says
so instead of failing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# Webmail hosts: sharing one of these says nothing about two people. A shared company or
# family domain does (a little).
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.ru",
        "mail.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
        "naver.com",
    }
)

# Gmail ignores dots in the local part, and googlemail.com is the same mailbox.
_GMAIL = {"gmail.com", "googlemail.com"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Words of a street address in one spelling each; unit numbers stay, they tell flats apart.
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "apartment": "apt",
    "suite": "ste",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "highway": "hwy",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "flat": "apt",
    "no": "",
    "number": "",
}
_WORD = re.compile(r"[^\W_]+")


def normalise_email(raw: str | None) -> str | None:
    """lower case, `+tag` removed, Gmail's dots removed and googlemail → gmail; None if not an e-mail."""
    if raw is None:
        return None
    value = raw.strip().lower()
    if not _EMAIL.match(value):
        return None
    local, domain = value.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{domain}"


def email_domain(normalised: str) -> str:
    return normalised.rsplit("@", 1)[1]


@dataclass(frozen=True)
class Phone:
    digits: str
    # Written with its country code (+…): comparable in full with another such number.
    international: bool


def normalise_phone(raw: str | None) -> Phone | None:
    """Digits only; None with fewer than 7 digits (an extension, a typo)."""
    if raw is None:
        return None
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 7:
        return None
    international = raw.strip().startswith(("+", "00"))
    if raw.strip().startswith("00"):
        digits = digits[2:]
    return Phone(digits, international)


def same_phone(a: Phone, b: Phone) -> bool:
    """In full when both carry their country code, otherwise on the last 10 digits (a national
    number written with and without its country code is the same line)."""
    if a.international and b.international:
        return a.digits == b.digits
    return a.digits[-10:] == b.digits[-10:]


@dataclass(frozen=True)
class Address:
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    country_code: str | None = None


def normalise_postcode(raw: str | None) -> str | None:
    value = re.sub(r"[\W_]", "", raw or "").upper()
    return value or None


def _words(text: str) -> list[str]:
    return [_ADDRESS_WORDS.get(word, word) for word in _WORD.findall(text.lower())]


def normalise_address(address: Address | None) -> str | None:
    """Street lines in one spelling (lower case, no punctuation, street → st …) with the
    postcode and country; None without a street line or a postcode. The city is left out:
    "NYC" and "New York" are one place, and the postcode already says where."""
    if address is None:
        return None
    street = " ".join(w for w in _words(f"{address.address1 or ''} {address.address2 or ''}") if w)
    postcode = normalise_postcode(address.zip)
    if not street or not postcode:
        return None
    return f"{street}|{postcode}|{(address.country_code or '').upper()}"


def normalise_name(raw: str | None) -> str | None:
    words = _WORD.findall((raw or "").lower())
    return " ".join(words) or None


def canonical_ip(raw: str | None) -> str | None:
    """The IP in one spelling (an IPv4 address mapped into IPv6 is the IPv4 address); None if malformed."""
    if raw is None:
        return None
    try:
        ip = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
