"""Money and facts read from Shopify order and refund payloads.

The rule (DESIGN.md, "Money"): net sales in shop currency are the newest
order payload's ``subtotal_price_set.shop_money`` less the merchandise of
every refund, each refund counted once by its id. Presentment money and the
``current_*`` fields are never counted: the first is the buyer's currency, the
second is already net of refunds and would count them twice. The order's
presentment subtotal is read only to be shown beside (`order_presentment`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

LANDING_KEYS = ("ref", "crid", "utm_source", "utm_medium", "utm_campaign")
SURVEY_ATTRIBUTE = "how_did_you_hear"


def to_cents(amount: Decimal) -> Decimal:
    """Quantize money to cents, half up, the way a merchant rounds."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_shopify_time(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp with an offset into an aware UTC datetime.

    Shopify sends the shop's offset (-04:00 in summer, -05:00 in winter) and
    ``X-Shopify-Triggered-At`` in UTC with nanoseconds; fractions past
    microseconds are dropped. A timestamp without an offset is refused
    (ValueError) rather than guessed, since guessing shifts orders across days.
    """
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def _amount(value: Any) -> Decimal | None:
    """A finite Decimal from a money string or JSON number, else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        # str() first: a JSON float like 36.89 must become Decimal("36.89"),
        # not its binary expansion.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _shop_money(money_set: Any) -> Decimal | None:
    """``<x>_set.shop_money.amount``, the shop-currency half of a money set."""
    if not isinstance(money_set, Mapping):
        return None
    shop_money = money_set.get("shop_money")
    if not isinstance(shop_money, Mapping):
        return None
    return _amount(shop_money.get("amount"))


def order_subtotal(payload: Mapping[str, Any]) -> Decimal | None:
    """Net sales before refunds, in shop currency; None if the payload has none.

    The plain ``subtotal_price`` string is also in shop currency, so it is a
    safe fallback for payloads (or old API versions) without a usable ``_set``.
    """
    amount = _shop_money(payload.get("subtotal_price_set"))
    if amount is None:
        amount = _amount(payload.get("subtotal_price"))
    return None if amount is None else to_cents(amount)


def _currency_code(value: Any) -> str | None:
    """An ISO 4217 code ("EUR"), upper-cased; anything else is no currency."""
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        return None
    return value.strip().upper()


def order_presentment(payload: Mapping[str, Any]) -> tuple[str, Decimal] | None:
    """The order's net merchandise before refunds as the buyer was shown it, with its
    currency: ``subtotal_price_set.presentment_money``, the currency from the money itself
    or else the order's ``presentment_currency``. None when missing or malformed (never
    guessed, never converted); only ever shown beside shop money, never counted."""
    money_set = payload.get("subtotal_price_set")
    if not isinstance(money_set, Mapping):
        return None
    shown = money_set.get("presentment_money")
    if not isinstance(shown, Mapping):
        return None
    amount = _amount(shown.get("amount"))
    currency = _currency_code(shown.get("currency_code")) or _currency_code(payload.get("presentment_currency"))
    if amount is None or amount < 0 or currency is None:
        return None
    return currency, to_cents(amount)


def refund_merchandise(refund: Mapping[str, Any]) -> Decimal:
    """Merchandise refunded by one refund, in shop currency.

    Only ``refund_line_items`` count: refunded shipping, tax and
    ``order_adjustments`` never were net sales. A line without a usable
    subtotal raises ValueError, because reading it as zero would silently
    overstate a creator's revenue.
    """
    total = ZERO
    for line in refund.get("refund_line_items") or ():
        if line.get("subtotal_set") is not None:
            amount = _shop_money(line["subtotal_set"])
        else:
            # The plain ``subtotal`` is a JSON number in shop currency.
            amount = _amount(line.get("subtotal"))
        if amount is None:
            raise ValueError(f"refund {refund.get('id')!r} has a line without a usable subtotal")
        total += amount
    return to_cents(total)


def refunds_in_order(payload: Mapping[str, Any]) -> dict[int, Decimal]:
    """Refund id → merchandise for every refund carried in an order payload."""
    return {int(refund["id"]): refund_merchandise(refund) for refund in payload.get("refunds") or ()}


def merge_refunds(*sources: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Union of refund maps from several deliveries, one entry per refund id.

    Shopify refunds are immutable, so two deliveries of one id agree; should a
    malformed one disagree, the larger amount wins so that the result neither
    depends on arrival order nor overstates revenue.
    """
    merged: dict[int, Decimal] = {}
    for source in sources:
        for refund_id, amount in source.items():
            merged[refund_id] = max(amount, merged.get(refund_id, amount))
    return merged


def net_sales(subtotal: Decimal, refunds: Mapping[int, Decimal]) -> Decimal:
    """Subtotal less each distinct refund's merchandise, never below 0.00."""
    net = subtotal - sum(refunds.values(), ZERO)
    return to_cents(max(net, ZERO))


def is_cancelled(payload: Mapping[str, Any]) -> bool:
    """Shopify marks a cancelled order by ``cancelled_at``, whatever its refunds."""
    return bool(payload.get("cancelled_at"))


def is_voided(payload: Mapping[str, Any]) -> bool:
    """A voided order's payment authorisation was released: no sale happened."""
    return payload.get("financial_status") == "voided"


def is_test(payload: Mapping[str, Any]) -> bool:
    """Test orders (bogus gateway, development stores) are stored, never counted."""
    return payload.get("test") is True


def _dedupe_casefree(values: Iterable[Any]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip()
        if text.lower() not in seen:
            seen.add(text.lower())
            kept.append(text)
    return tuple(kept)


def order_codes(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """Discount codes used on an order, once each, in the order Shopify lists them.

    Shoppers type codes in any case, so ``anna15`` and ``ANNA15`` are one code.
    """
    from_codes = (entry.get("code") for entry in payload.get("discount_codes") or ())
    from_applications = (
        entry.get("code")
        for entry in payload.get("discount_applications") or ()
        if entry.get("type") == "discount_code"
    )
    return _dedupe_casefree([*from_codes, *from_applications])


def landing_params(landing_site: str | None) -> dict[str, str]:
    """``ref``, ``crid`` and ``utm_*`` from the first page of the buyer's session.

    ``landing_site`` may be a path with a query, a full URL, a bare path or
    null. When a parameter repeats, the first value wins.
    """
    if not landing_site:
        return {}
    params: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(landing_site.strip()).query):
        value = value.strip()
        if key in LANDING_KEYS and value and key not in params:
            params[key] = value
    return params


def survey_answers(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """Answers to the post-purchase "how did you hear about us" question."""
    answers: list[str] = []
    for attribute in payload.get("note_attributes") or ():
        name = attribute.get("name")
        value = attribute.get("value")
        if (
            isinstance(name, str)
            and name.strip().lower() == SURVEY_ATTRIBUTE
            and isinstance(value, str)
            and value.strip()
        ):
            answers.append(value.strip())
    return tuple(answers)
