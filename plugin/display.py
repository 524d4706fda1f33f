"""How figures read to people: money in shop currency, ratios as % or ×, evidence as words
(the dashboard's, and the API's one-line summary of an attribution).

Values arrive as the engine returns them (Decimal money, float or None ratios);
nothing here computes a metric. A missing ratio is shown as an em dash, never 0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DASH = "—"
SYMBOLS = {
    "USD": "$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "BRL": "R$",
    "MXN": "MX$",
    "CHF": "CHF ",
    "SEK": "SEK ",
    "DKK": "DKK ",
    "NOK": "NOK ",
}

PLATFORM_LABELS = {
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "twitch": "Twitch",
    "x": "X",
    "other": "Other",
}

# The KPI cards of the overview, in reading order: (metric, label, format, help).
KPIS: tuple[tuple[str, str, str, str], ...] = (
    ("cost", "Cost", "money", "Fees, product, rights, time, tools and commissions"),
    ("revenue", "Revenue", "money", "Net sales of first orders from creators"),
    ("roi", "ROI", "percent", "(revenue − cost) ÷ cost"),
    ("roi_with_repeat", "ROI with repeats", "percent", "Counts repeat purchases of acquired customers"),
    ("roas", "ROAS", "times", "Revenue ÷ cost"),
    ("cac", "CAC", "money", "Cost ÷ new customers"),
    ("orders", "Orders", "count", "Attributed first orders"),
    ("new_customers", "New customers", "count", "Customers acquired by creators"),
    ("repeat_purchase_rate", "Repeat rate", "percent", "New customers who bought again"),
    ("ctr", "CTR", "percent", "Link clicks ÷ impressions"),
    ("conversion_rate", "Conversion rate", "percent", "Orders ÷ clicks"),
    ("engagement_rate", "Engagement rate", "percent", "Engagements ÷ followers"),
    ("emv", "EMV", "money", "Earned media value of posts and clicks"),
    ("clv_historical", "CLV", "money", "Revenue incl. repeats per new customer"),
)

# Columns of the creators table: (metric, label, format).
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("cost", "Cost", "money"),
    ("revenue", "Revenue", "money"),
    ("orders", "Orders", "count"),
    ("new_customers", "New cust.", "count"),
    ("repeat_revenue", "Repeat rev.", "money"),
    ("roi", "ROI", "percent"),
    ("roi_with_repeat", "ROI w/ rep.", "percent"),
    ("roas", "ROAS", "times"),
    ("cac", "CAC", "money"),
    ("ctr", "CTR", "percent"),
    ("conversion_rate", "Conv.", "percent"),
    ("engagement_rate", "Eng.", "percent"),
    ("emv", "EMV", "money"),
    ("clv_historical", "CLV", "money"),
)


def label(value: Any) -> str:
    """A platform, category or content type as a merchant reads it."""
    text = str(value or "")
    return PLATFORM_LABELS.get(text) or text.replace("_", " ").capitalize()


def money(value: Any, currency: str = "USD", places: int = 2) -> str:
    if value is None:
        return DASH
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.{places}f}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def compact_money(value: Any, currency: str = "USD") -> str:
    """Axis labels: $1.2k, $35k, $1.4M."""
    amount = Decimal(str(value))
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(amount) >= size:
            scaled = (amount / size).quantize(Decimal("0.1") if abs(amount) < size * 10 else Decimal(1))
            return money(scaled, currency, places=0 if scaled == scaled.to_integral() else 1) + suffix
    return money(amount, currency, places=0)


def percent(value: float | None) -> str:
    if value is None:
        return DASH
    pct = Decimal(str(value)) * 100
    if 0 < abs(pct) < Decimal("0.005"):  # one click on 30,000 impressions is not "0.00%"
        return "<0.01%" if pct > 0 else ">−0.01%"
    places = Decimal("0.01") if abs(pct) < 10 else Decimal("0.1")
    return f"{pct.quantize(places, rounding=ROUND_HALF_UP):,}%"


def times(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}×"


def count(value: int | None) -> str:
    return DASH if value is None else f"{int(value):,}"


FORMATS = {"money": money, "percent": percent, "times": times, "count": count}


def figure(value: Any, kind: str, currency: str = "USD") -> str:
    if kind == "money":
        return money(value, currency)
    return FORMATS[kind](value)


def raw(value: Any) -> str:
    """The exact value for data-value attributes (tests, sorting, CSV): '' for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def when(value: datetime | date | None, zone: tzinfo = timezone.utc) -> str:
    """A day, or an instant in the shop's time zone ("Oct 14, 2026 19:47 EDT")."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%b %-d, %Y %H:%M %Z")
    return value.strftime("%b %-d, %Y")


def _ago(later: datetime, earlier: datetime) -> str:
    seconds = int((later - earlier).total_seconds())
    if seconds < 0:
        return "after the order"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} before"
    return "moments before"


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def evidence_words(piece: dict[str, Any]) -> str:
    """One piece of evidence as a merchant reads it: 'code ANNA15', 'click 3 days before'."""
    rule = piece.get("rule")
    if rule == "code":
        return f"code {piece.get('code', '')}".strip()
    if rule == "click":
        clicked, placed = _parse(piece.get("clicked_at")), _parse(piece.get("placed_at"))
        if clicked and placed:
            return f"click {_ago(placed, clicked)}"
        return "click on a referral link"
    if rule == "survey":
        handle = piece.get("handle")
        return f"survey: @{handle}" if handle else f"survey: {piece.get('answer', '')}"
    if rule == "repeat":
        return "repeat purchase of an acquired customer"
    return str(rule or "")


def evidence_summary(entry: dict[str, Any]) -> str:
    """The engine's summary when it gives one, else the matching evidence in words."""
    if entry.get("summary"):
        return str(entry["summary"])
    pieces = [p for p in entry.get("evidence") or [] if isinstance(p, dict) and p.get("matched")]
    decisive = [p for p in pieces if p.get("decisive")] or pieces
    if decisive:
        return "; ".join(evidence_words(p) for p in decisive)
    return evidence_words({"rule": entry.get("rule")})


def _click_before(placed: str | None, clicked: str | None) -> str:
    try:
        delta = datetime.fromisoformat(str(placed)) - datetime.fromisoformat(str(clicked))
    except ValueError:
        return "click on a referral link"
    if delta >= timedelta(days=1):
        days = delta.days
        return f"click {days} day{'s' if days != 1 else ''} before"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return f"click {hours} hour{'s' if hours != 1 else ''} before"
    return "click minutes before"


def attribution_summary(rule: str | None, evidence: list[dict[str, Any]], order_names: dict[int, str | None]) -> str:
    """An attribution's decisive evidence in a few words ("code ANNA15", "repeat of #1002", …),
    the `summary` the API returns; `order_names` names the orders a repeat refers to."""
    decisive = next((p for p in evidence if p.get("decisive")), None)
    if decisive is None:
        reasons = [str(p["reason"]) for p in evidence if p.get("reason")]
        return "not attributed: " + "; ".join(reasons) if reasons else "no evidence"
    rule = decisive.get("rule") or rule
    if rule == "code":
        return f"code {decisive.get('code')}"
    if rule == "click":
        return _click_before(decisive.get("placed_at"), decisive.get("clicked_at"))
    if rule == "survey":
        return f"survey: @{decisive.get('handle')}"
    if rule == "repeat":
        acquiring = decisive.get("acquiring_order_id")
        name = order_names.get(acquiring) if isinstance(acquiring, int) else None
        return f"repeat of {name or f'order {acquiring}'}"
    return str(rule)
