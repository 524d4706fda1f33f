"""Which creator, if any, an order belongs to, and why (DESIGN.md, "Attribution rules").

Evidence is weighed strongest first in the shop's ``evidence_order``: a
creator's discount code, a tracked click from our redirect, a survey answer
naming a creator's handle. A customer acquired by a creator stays bound to
them for the repeat window: later orders are that creator's repeat
purchases, not new conversions. Every result carries every piece of evidence
considered, so a merchant can see why an order landed where it did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

RULES = ("code", "click", "survey")
NOT_A_CONVERSION = "not a conversion (cancelled/test/zero net)"

# A handle is a run of letters, digits, '.', '_' and '-' (TikTok, Instagram,
# YouTube and X all fit); '@' only ever leads it.
_TOKEN = re.compile(r"@?([\w.\-]+)")


def normalize_code(code: str) -> str:
    """The key of a discount code in ``Lookup.codes``: codes match case-insensitively."""
    return code.strip().lower()


def normalize_handle(handle: str) -> str:
    """The key of a handle in ``Lookup.handles``: lower case, no leading '@'."""
    return handle.strip().lstrip("@").lower()


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class OrderFacts:
    """What attribution needs to know about one order."""

    order_id: int
    placed_at: datetime
    customer_key: str | None
    codes: tuple[str, ...]
    landing: Mapping[str, str]
    survey: tuple[str, ...]
    eligible: bool
    net: Decimal
    # Shopify's order id: which came first of orders placed in the same second (our own row
    # ids follow the delivery order, which Shopify does not keep).
    sequence: int = 0

    def __post_init__(self) -> None:
        _require_aware(self.placed_at, "placed_at")


@dataclass(frozen=True)
class ClickFacts:
    """One counted click on a creator's referral link."""

    click_id: str
    influencer_id: int
    slug: str
    clicked_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.clicked_at, "clicked_at")


@dataclass(frozen=True)
class AttributionSettings:
    """A shop's attribution settings; the defaults are the product's defaults."""

    attribution_window_days: int = 30
    repeat_window_days: int = 90
    evidence_order: tuple[str, ...] = RULES

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.evidence_order if rule not in RULES]
        if unknown or len(set(self.evidence_order)) != len(self.evidence_order):
            raise ValueError(f"evidence_order must name distinct rules of {RULES}")
        if self.attribution_window_days < 0 or self.repeat_window_days < 0:
            raise ValueError("windows must not be negative")


@dataclass(frozen=True)
class Lookup:
    """The shop's creator identifiers, keyed as ``normalize_code``/``normalize_handle`` say."""

    codes: Mapping[str, int] = field(default_factory=dict)
    clicks: Mapping[str, ClickFacts] = field(default_factory=dict)
    handles: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    """A customer's tie to the creator who acquired them."""

    influencer_id: int
    acquired_at: datetime
    order_id: int


@dataclass(frozen=True)
class AttributionResult:
    """The verdict on one order.

    ``kind`` is "first" (a conversion: the customer is acquired, and
    ``acquired_at`` is this order's time), "repeat" (``acquired_at`` is when
    the bound creator acquired the customer) or None.
    """

    order_id: int
    influencer_id: int | None
    kind: str | None
    rule: str | None
    evidence: tuple[dict[str, Any], ...]
    acquired_at: datetime | None

    def binding(self) -> Binding | None:
        """The binding this order creates, if it acquired the customer."""
        if self.kind != "first" or self.influencer_id is None or self.acquired_at is None:
            return None
        return Binding(self.influencer_id, self.acquired_at, self.order_id)


def _matched(rule: str, influencer_id: int, **details: Any) -> dict[str, Any]:
    return {"rule": rule, "matched": True, "decisive": False, "influencer_id": influencer_id, **details}


def _rejected(rule: str, reason: str, **details: Any) -> dict[str, Any]:
    return {"rule": rule, "matched": False, "decisive": False, "reason": reason, **details}


def _code_evidence(order: OrderFacts, lookup: Lookup) -> list[dict[str, Any]]:
    pieces = []
    for code in order.codes:
        influencer_id = lookup.codes.get(normalize_code(code))
        if influencer_id is None:
            pieces.append(_rejected("code", "code does not belong to a creator", code=code))
        else:
            pieces.append(_matched("code", influencer_id, code=code))
    return pieces


def _click_evidence(order: OrderFacts, lookup: Lookup, settings: AttributionSettings) -> list[dict[str, Any]]:
    click_id = order.landing.get("crid")
    ref = order.landing.get("ref")
    if not click_id:
        # A bare ref can be typed or copied by anyone; only our redirect's
        # click id proves a visit through the creator's link.
        return [_rejected("click", "ref without a click id", ref=ref)] if ref else []
    details: dict[str, Any] = {"click_id": click_id, "ref": ref, "placed_at": order.placed_at.isoformat()}
    click = lookup.clicks.get(click_id)
    if click is None:
        return [_rejected("click", "unknown click id", **details)]
    details.update(slug=click.slug, clicked_at=click.clicked_at.isoformat())
    window = timedelta(days=settings.attribution_window_days)
    if ref is not None and ref.lower() != click.slug.lower():
        reason = "click belongs to another link than ref"
    elif click.clicked_at > order.placed_at:
        reason = "click after the order"
    elif order.placed_at - click.clicked_at > window:
        reason = f"click older than the {settings.attribution_window_days}-day window"
    else:
        return [_matched("click", click.influencer_id, **details)]
    return [_rejected("click", reason, **details)]


def _handles_named(answer: str, handles: Mapping[str, int]) -> dict[str, int]:
    """Known handles that appear as whole tokens in a free-text answer."""
    named: dict[str, int] = {}
    for match in _TOKEN.finditer(answer.lower()):
        token = match.group(1)
        # "I saw anna.lee." ends a sentence: try the token without edge dots too.
        for candidate in (token, token.rstrip("."), token.strip(".")):
            if candidate in handles:
                named.setdefault(candidate, handles[candidate])
                break
    return named


def _survey_evidence(order: OrderFacts, lookup: Lookup) -> list[dict[str, Any]]:
    pieces = []
    for answer in order.survey:
        named = _handles_named(answer, lookup.handles)
        creators = set(named.values())
        if not named:
            pieces.append(_rejected("survey", "answer names no creator's handle", answer=answer))
        elif len(creators) > 1:
            pieces.append(_rejected("survey", "answer names several creators", answer=answer, handles=sorted(named)))
        else:
            handle = next(iter(named))
            pieces.append(_matched("survey", creators.pop(), answer=answer, handle=handle))
    return pieces


def collect_evidence(order: OrderFacts, lookup: Lookup, settings: AttributionSettings) -> list[dict[str, Any]]:
    """Every piece of evidence on the order, strongest rule first."""
    by_rule = {
        "code": lambda: _code_evidence(order, lookup),
        "click": lambda: _click_evidence(order, lookup, settings),
        "survey": lambda: _survey_evidence(order, lookup),
    }
    return [piece for rule in settings.evidence_order for piece in by_rule[rule]()]


def _in_repeat_window(order: OrderFacts, binding: Binding, settings: AttributionSettings) -> bool:
    elapsed = order.placed_at - binding.acquired_at
    return order.order_id != binding.order_id and timedelta(0) <= elapsed <= timedelta(days=settings.repeat_window_days)


def attribute_order(
    order: OrderFacts,
    lookup: Lookup,
    settings: AttributionSettings,
    binding: Binding | None = None,
) -> AttributionResult:
    """Judge one order, given the customer's binding (if any) before it."""
    evidence = collect_evidence(order, lookup, settings)
    if not order.eligible:
        evidence.append(
            {
                "rule": "eligibility",
                "matched": False,
                "decisive": False,
                "reason": NOT_A_CONVERSION,
                "net": str(order.net),
            }
        )
        return AttributionResult(order.order_id, None, None, None, tuple(evidence), None)
    if binding is not None and _in_repeat_window(order, binding, settings):
        evidence.insert(
            0,
            {
                "rule": "repeat",
                "matched": True,
                "decisive": True,
                "influencer_id": binding.influencer_id,
                "acquiring_order_id": binding.order_id,
                "acquired_at": binding.acquired_at.isoformat(),
                "repeat_window_days": settings.repeat_window_days,
            },
        )
        return AttributionResult(
            order.order_id, binding.influencer_id, "repeat", "repeat", tuple(evidence), binding.acquired_at
        )
    decisive = next((piece for piece in evidence if piece["matched"]), None)
    if decisive is None:
        return AttributionResult(order.order_id, None, None, None, tuple(evidence), None)
    decisive["decisive"] = True
    return AttributionResult(
        order.order_id, decisive["influencer_id"], "first", decisive["rule"], tuple(evidence), order.placed_at
    )


def _chronological(orders: Sequence[OrderFacts]) -> list[OrderFacts]:
    ordered = sorted(orders, key=lambda order: (order.placed_at, order.sequence, order.order_id))
    ids = [order.order_id for order in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("an order appears twice in the history")
    return ordered


def attribute_customer_history(
    orders: Sequence[OrderFacts], lookup: Lookup, settings: AttributionSettings
) -> list[AttributionResult]:
    """Judge a customer's orders in time order, carrying the binding forward.

    Results come back sorted by (placed_at, sequence, order_id) whatever the input
    order. Guest orders (no customer key) are judged alone; orders of
    different customers passed together are kept apart.
    """
    bindings: dict[str, Binding] = {}
    results = []
    for order in _chronological(orders):
        key = order.customer_key
        result = attribute_order(order, lookup, settings, bindings.get(key) if key is not None else None)
        new_binding = result.binding()
        if key is not None and new_binding is not None:
            bindings[key] = new_binding
        results.append(result)
    return results
