"""How figures read to people: money in shop currency, ratios as % or ×, evidence as words
(the dashboard's, and the API's one-line summary of an attribution).

Values arrive as the engine returns them (Decimal money, float or None ratios);
nothing here computes a metric. A missing ratio is shown as an em dash, never 0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from roi import verdict

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
    ("roi", "ROI", "percent", "First orders only: (revenue − cost) ÷ cost"),
    ("roi_with_repeat", "ROI with repeats", "percent", "Adds repeat purchases of acquired customers"),
    ("roas", "ROAS", "times", "Revenue ÷ cost"),
    ("cac", "CAC", "money", "Cost ÷ new customers"),
    ("orders", "First orders", "count", "One per new customer, so equal to New customers"),
    ("new_customers", "New customers", "count", "Customers acquired by creators"),
    ("repeat_purchase_rate", "Repeat rate", "percent", "New customers who bought again"),
    ("ctr", "CTR", "percent", "Link clicks ÷ impressions"),
    ("conversion_rate", "Conversion rate", "percent", "First orders ÷ clicks"),
    ("engagement_rate", "Engagement rate", "percent", "Engagements ÷ followers"),
    ("emv", "EMV", "money", "Earned media value of posts and clicks"),
    ("clv_cohort", "CLV", "money", "Spent so far, repeats included, per new customer"),
)

# The creator page's cards: the overview's, with the repeat figures in place of the counts
# that the creator's own table rows already give. Same labels and help as the overview.
CREATOR_KPIS: tuple[tuple[str, str, str, str], ...] = (
    *(k for k in KPIS if k[0] in ("cost", "revenue", "roi", "roi_with_repeat", "roas", "cac", "orders")),
    ("repeat_orders", "Repeat orders", "count", "Later orders of acquired customers"),
    ("repeat_revenue", "Repeat revenue", "money", "Net sales of those repeat orders"),
    *(k for k in KPIS if k[0] in ("repeat_purchase_rate", "ctr", "conversion_rate", "engagement_rate", "emv")),
)

# Which days (and which customers) each figure counts over the range the page shows. Rollups
# book first orders on their day, repeat orders and repeat revenue on *their* day, and a
# customer's "bought again" and repeat revenue once more on the day the customer was acquired
# (worker.engine): repeat orders and revenue are the range's, repeat rate and CLV to date follow
# the range's customers. Each says which. {repeat_days}: the shop's repeat window.
WINDOWS: dict[str, str] = {
    "cost": "Cost entries dated in the range (a fee counts on the day it is booked), plus commission on the "
    "range's sales.",
    "revenue": "First orders placed in the range.",
    "roi": "Cost and first orders of the range; repeat purchases left out.",
    "roi_with_repeat": "Adds repeat purchases placed in the range, by customers acquired at any time (up to "
    "{repeat_days} days after their first order).",
    "roas": "Cost and first orders of the range.",
    "cac": "Cost of the range ÷ customers whose first order falls in the range.",
    "orders": "First orders placed in the range. Each one acquires a customer, so this always equals New "
    "customers; later orders count as repeat orders.",
    "new_customers": "Customers whose first attributed order falls in the range.",
    "repeat_orders": "Repeat purchases placed in the range by customers acquired at any time (up to {repeat_days} "
    "days after their first order), so a range without new customers can still have them.",
    "repeat_revenue": "Net sales of repeat purchases placed in the range, by customers acquired at any time (up "
    "to {repeat_days} days after their first order).",
    "repeat_purchase_rate": "A cohort figure: customers acquired in the range, followed up to today. Those who "
    "bought again within {repeat_days} days of their first order, even when that repeat falls after the range "
    "ends, ÷ new customers of the range.",
    "ctr": "Link clicks in the range ÷ impressions of posts published in the range.",
    "conversion_rate": "First orders ÷ link clicks, both in the range.",
    "engagement_rate": "Posts published in the range: engagements ÷ followers.",
    "emv": "Posts published in the range and link clicks in the range.",
    "clv_cohort": "A cohort figure: customers acquired in the range, followed up to today. Their first "
    "orders and all their repeat purchases so far (within {repeat_days} days of their first order, even after the "
    "range ends) ÷ their number. Repeats in the range by customers acquired before it are left out.",
}


def windows(repeat_days: int) -> dict[str, str]:
    """WINDOWS with the shop's repeat window filled in."""
    return {metric: text.format(repeat_days=repeat_days) for metric, text in WINDOWS.items()}


def clv_words(horizon_months: int) -> dict[str, str]:
    """What a creator page's two CLV cards count (`plugin.reports.creator_clv`, `worker.lifetime_value`)."""
    return {
        "to_date": "All time, not only the range: net sales of the first orders and repeat purchases of the "
        "customers this creator acquired, ÷ those customers.",
        "predicted": f"What one of this creator's customers is expected to spend on repeat purchases in the next "
        f"{horizon_months} months (not counting what they spent already), discounted 1% a month. Predicted "
        "from the order histories of every customer your creators acquired (BG/NBD and Gamma-Gamma models), "
        "refitted as orders arrive; not limited to the range.",
    }


# How content types share a creator's figures (plugin.reports, roi.allocation), for the table
# grouped by content type.
CONTENT_TYPE_SPLIT = (
    "Orders carry no content type, so each creator's cost, sales and clicks in the range are divided among "
    "the content types of their posts in the range, in proportion to those posts' engagements (by number of "
    "posts when none has any), to the cent. A creator without a post in the range, and shop-wide costs, stay "
    "in the Unallocated row. Impressions and engagements are the posts' own."
)

# Columns of the creators table: (metric, label, format).
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("cost", "Cost", "money"),
    ("revenue", "Revenue", "money"),
    ("orders", "First orders", "count"),
    ("new_customers", "New cust.", "count"),
    ("repeat_orders", "Rep. orders", "count"),
    ("repeat_revenue", "Repeat rev.", "money"),
    ("roi", "ROI", "percent"),
    ("roi_with_repeat", "ROI w/ rep.", "percent"),
    ("roas", "ROAS", "times"),
    ("cac", "CAC", "money"),
    ("ctr", "CTR", "percent"),
    ("conversion_rate", "Conv.", "percent"),
    ("engagement_rate", "Eng.", "percent"),
    ("emv", "EMV", "money"),
    ("clv_cohort", "CLV", "money"),
)

# The verdict badges (roi.verdict): (text, Polaris tone; None is the neutral badge).
VERDICT_BADGES: dict[str, tuple[str, str | None]] = {
    verdict.NO_DATA: ("No data yet", "info"),
    verdict.NO_ACTIVITY: ("No activity in this range", "info"),
    verdict.TOO_EARLY: ("Too early to judge", None),
    verdict.LOSES_MONEY: ("Loses money", "critical"),
    verdict.LOSES_ON_FIRST_ORDERS: ("Loses on first orders", "warning"),
}


def verdict_of(
    metrics: dict[str, Any], days: int, ever_active: bool, rule: verdict.Rule = verdict.RULE
) -> verdict.Verdict | None:
    """A table row's (or a creator page's) verdict from its report metrics ({} when it has
    nothing in the range)."""
    return verdict.judge(
        days=days,
        active=bool(metrics),
        ever_active=ever_active,
        orders=int(metrics.get("orders") or 0),
        cost=Decimal(str(metrics.get("cost") or 0)),
        roi=metrics.get("roi"),
        roi_with_repeat=metrics.get("roi_with_repeat"),
        rule=rule,
    )


def verdict_rule(days: int, rule: verdict.Rule = verdict.RULE) -> str:
    """The rule in a sentence, for the page under the table, and what it means for a range of `days`."""
    text = (
        f"Badges judge ROI with repeats, and only over at least {rule.min_days} days with at least "
        f"{rule.min_orders} first orders (or none at all for the cost): a fee counts on the day it is booked "
        "while the orders it brings come over weeks."
    )
    if days < rule.min_days:
        text += (
            f" This range is {days} day{'' if days == 1 else 's'}, so a creator behind their cost reads "
            "“Too early to judge”."
        )
    return text


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


# One rule for every ratio on the pages, percentages and multiples alike: one decimal place
# (−6.2% beside −27.6%, 6.9×), so a column reads at one precision. A ratio that is not zero but
# rounds to zero says so ("<0.1%": one click on 30,000 impressions is not "0.0%").
RATIO_PLACES = Decimal("0.1")


def ratio(value: float | Decimal | None, scale: int, suffix: str) -> str:
    """`value` × `scale` at one decimal place, with its suffix ("%", "×"); a dash when missing."""
    if value is None:
        return DASH
    scaled = Decimal(str(value)) * scale
    rounded = scaled.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)
    if scaled and not rounded:
        return f"<{RATIO_PLACES}{suffix}" if scaled > 0 else f">-{RATIO_PLACES}{suffix}"
    return f"{rounded + 0:,}{suffix}"  # + 0 turns -0.0 into 0.0


def percent(value: float | Decimal | None) -> str:
    """A fraction as a percentage: 0.0137 -> "1.4%"."""
    return ratio(value, 100, "%")


def times(value: float | Decimal | None) -> str:
    """A multiple: 6.93 -> "6.9×"."""
    return ratio(value, 1, "×")


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
