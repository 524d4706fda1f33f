"""Traffic on a creator's links that is not what it looks like.

* paid traffic: a landing URL carrying an ad network's click id was bought, not earned;
* click injection: an order seconds after its click (a click fired at checkout by an app or
  extension to claim an order that was happening anyway);
* click flooding: a mass of clicks whose conversions mostly arrive long after the click
  (organic orders harvested by having clicked on everyone first);
* junk traffic: thousands of clicks that (almost) never buy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from roi.trust.settings import TRUST_SETTINGS, TrustSettings

PAID_CLICK_IDS = ("gclid", "gbraid", "wbraid", "fbclid", "ttclid", "msclkid", "twclid", "li_fat_id")


@dataclass(frozen=True)
class LinkConversion:
    """An order attributed to a click on the creator's link."""

    order_id: int
    clicked_at: datetime
    placed_at: datetime


@dataclass(frozen=True)
class ClickFlooding:
    flagged: bool
    clicks: int
    conversions: int
    late: int
    # Of `conversions`; None without conversions.
    late_share: float | None
    late_order_ids: tuple[int, ...]


@dataclass(frozen=True)
class JunkTraffic:
    flagged: bool
    clicks: int
    orders: int
    # None without clicks.
    conversion_rate: float | None


def paid_click_ids(landing: str | None) -> tuple[str, ...]:
    """The ad networks' click ids a landing URL carries with a value, also inside the
    `redirect` of a /discount/<code> landing."""
    if not landing:
        return ()
    params = parse_qsl(urlsplit(landing).query, keep_blank_values=True)
    found = [name for name, value in params if name.lower() in PAID_CLICK_IDS and value.strip()]
    for name, value in params:
        if name == "redirect" and value:
            found += paid_click_ids(value)
    return tuple(dict.fromkeys(name.lower() for name in found))


def click_injections(
    conversions: Sequence[LinkConversion], settings: TrustSettings = TRUST_SETTINGS
) -> tuple[int, ...]:
    """Orders placed less than `click_injection_seconds` after their click. An order placed
    before its click is not an injection (the click came later and did not win it)."""
    limit = timedelta(seconds=settings.click_injection_seconds)
    return tuple(c.order_id for c in conversions if timedelta(0) <= c.placed_at - c.clicked_at < limit)


def click_flooding(
    conversions: Sequence[LinkConversion], clicks: int, settings: TrustSettings = TRUST_SETTINGS
) -> ClickFlooding:
    """Flagged when more than `flooding_late_share` of the creator's link conversions came over
    `flooding_late_hours` after the click, with many clicks (`flooding_min_clicks`) and enough
    conversions to call it a pattern (`flooding_min_conversions`)."""
    late_after = timedelta(hours=settings.flooding_late_hours)
    late = tuple(c.order_id for c in conversions if c.placed_at - c.clicked_at > late_after)
    share = len(late) / len(conversions) if conversions else None
    flagged = (
        clicks >= settings.flooding_min_clicks
        and len(conversions) >= settings.flooding_min_conversions
        and share is not None
        and share > settings.flooding_late_share
    )
    return ClickFlooding(flagged, clicks, len(conversions), len(late), share, late)


def junk_traffic(clicks: int, orders: int, settings: TrustSettings = TRUST_SETTINGS) -> JunkTraffic:
    """Flagged when at least `junk_min_clicks` counted clicks convert below `junk_max_conversion`."""
    rate = orders / clicks if clicks else None
    flagged = clicks >= settings.junk_min_clicks and rate is not None and rate < settings.junk_max_conversion
    return JunkTraffic(flagged, clicks, orders, rate)
