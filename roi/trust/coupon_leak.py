"""Coupon leak: a creator's code spreading to coupon sites and browser extensions, paid as if
the creator had sold it.

An order on the code is *unexplained* when no click of the creator's links came in the
`leak_click_days` before it and something says it came from elsewhere: a coupon site as its
referring or landing host, a survey answer naming another source, or a visit that landed
straight on the cart or checkout (an extension or a coupon page's deep link; people who
heard of the creator browse first). A code is *leaking* when enough of its recent orders are
unexplained, or when it spikes far above its usual daily uses on a day its orders did not
follow the creator's clicks (a genuine viral day does).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from urllib.parse import parse_qs, urlsplit

from roi.trust.settings import TRUST_SETTINGS, TrustSettings

COUPON_SITES = frozenset(
    {
        "retailmenot.com",
        "joinhoney.com",
        "honey.com",
        "capitaloneshopping.com",
        "coupert.com",
        "slickdeals.net",
        "couponfollow.com",
        "dealspotr.com",
        "knoji.com",
        "wethrift.com",
        "couponbirds.com",
        "couponcabin.com",
        "coupons.com",
        "savings.com",
        "dontpayfull.com",
        "couponchief.com",
        "rakuten.com",
        "karmanow.com",
        "vouchercodes.co.uk",
        "vouchercloud.com",
        "myvouchercodes.co.uk",
        "hotukdeals.com",
        "promocodes.com",
        "befrugal.com",
        "topcashback.com",
    }
)

FIXES = ("rotate_code", "auto_apply_link", "lower_commission_unexplained")

_CART_PATHS = ("/cart", "/checkout", "/checkouts")
_TOKEN = re.compile(r"[@\w.\-]+")
_NO_SOURCE = {"", "-", "n/a", "na", "none", "other", "don't remember", "dont remember", "not sure", "prefer not to say"}


@dataclass(frozen=True)
class CodeOrder:
    order_id: int
    placed_at: datetime
    referring_site: str | None = None
    landing_site: str | None = None
    survey_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderSource:
    order_id: int
    clicked: bool
    # What says the order came from elsewhere: "coupon_site:<host>", "survey:<answer>", "landed_on_cart".
    elsewhere: tuple[str, ...]

    @property
    def unexplained(self) -> bool:
        return not self.clicked and bool(self.elsewhere)


@dataclass(frozen=True)
class SpikeDay:
    day: date
    uses: int
    median: float
    clicked_share: float
    order_ids: tuple[int, ...]


@dataclass(frozen=True)
class CodeLeak:
    leaking: bool
    # "unexplained_share", "spike" or both.
    reasons: tuple[str, ...]
    orders: int
    unexplained: int
    # Of `orders`; None without orders.
    unexplained_share: float | None
    spike_days: tuple[SpikeDay, ...]
    # The orders the flag rests on: the unexplained ones and those of leaking spike days.
    order_ids: tuple[int, ...]
    fixes: tuple[str, ...]
    sources: tuple[OrderSource, ...]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url if "//" in url else f"//{url}" if not url.startswith("/") else url)
    return (parts.hostname or "").removeprefix("www.") or None


def coupon_site(url: str | None, sites: Iterable[str] = COUPON_SITES) -> str | None:
    """The coupon site a URL's host belongs to (its own domain or a subdomain), or that its
    `utm_source` names (by domain or by name: `utm_source=retailmenot`), if any."""
    if not url:
        return None
    host = _host(url)
    tagged = parse_qs(urlsplit(url).query).get("utm_source", [""])[0].strip().lower()
    for site in sites:
        site = site.lower().removeprefix("www.")
        if host is not None and (host == site or host.endswith(f".{site}")):
            return site
        if tagged and tagged in (site, site.split(".", 1)[0]):
            return site
    return None


def landed_on_cart(landing_site: str | None) -> bool:
    """The visit began on the cart or checkout, directly or through /discount/<code>?redirect=…"""
    if not landing_site:
        return False
    parts = urlsplit(landing_site)
    path = parts.path.lower()
    if path.startswith("/discount/"):
        redirect = parse_qs(parts.query).get("redirect", [""])[0]
        path = urlsplit(redirect).path.lower()
    return any(path == p or path.startswith(f"{p}/") for p in _CART_PATHS)


def names_other_source(answers: Sequence[str], creator_terms: Iterable[str]) -> str | None:
    """The first survey answer that names a source and none of the creator's terms (name,
    handle, code, platform), matched as whole words; None if no answer does."""
    terms = {t.strip().lstrip("@").lower() for t in creator_terms if t.strip()}
    for answer in answers:
        text = answer.strip().lower()
        if text in _NO_SOURCE:
            continue
        words = {w.strip(".").lstrip("@") for w in _TOKEN.findall(text)}
        if not any(term in words or (" " in term and term in text) for term in terms):
            return answer.strip()
    return None


def order_source(
    order: CodeOrder,
    creator_clicks: Sequence[datetime],
    creator_terms: Iterable[str],
    sites: Iterable[str],
    settings: TrustSettings,
) -> OrderSource:
    since = order.placed_at - timedelta(days=settings.leak_click_days)
    clicked = any(since <= c <= order.placed_at for c in creator_clicks)
    elsewhere = []
    site_list = tuple(sites)
    for url in (order.referring_site, order.landing_site):
        site = coupon_site(url, site_list)
        if site:
            elsewhere.append(f"coupon_site:{site}")
    answer = names_other_source(order.survey_answers, creator_terms)
    if answer:
        elsewhere.append(f"survey:{answer}")
    if landed_on_cart(order.landing_site):
        elsewhere.append("landed_on_cart")
    return OrderSource(order.order_id, clicked, tuple(dict.fromkeys(elsewhere)))


def _spike_days(
    orders: Sequence[CodeOrder], sources: dict[int, OrderSource], as_of: datetime, tz: tzinfo, settings: TrustSettings
) -> list[SpikeDay]:
    by_day: dict[date, list[CodeOrder]] = defaultdict(list)
    for order in orders:
        by_day[order.placed_at.astimezone(tz).date()].append(order)
    last = as_of.astimezone(tz).date()
    spikes = []
    for offset in range(settings.leak_window_days):
        day = last - timedelta(days=offset)
        todays = by_day.get(day, [])
        before = [len(by_day.get(day - timedelta(days=d), [])) for d in range(1, settings.leak_median_days + 1)]
        median = float(statistics.median(before))
        if len(todays) < settings.leak_spike_min_uses or len(todays) <= settings.leak_spike_multiple * median:
            continue
        clicked = sum(1 for o in todays if sources[o.order_id].clicked) / len(todays)
        if clicked < settings.leak_spike_explained_share:
            ids = tuple(sorted(o.order_id for o in todays))
            spikes.append(SpikeDay(day, len(todays), median, clicked, ids))
    return sorted(spikes, key=lambda s: s.day)


def code_leak(
    orders: Sequence[CodeOrder],
    creator_clicks: Sequence[datetime],
    *,
    as_of: datetime,
    creator_terms: Iterable[str] = (),
    shop_coupon_sites: Iterable[str] = (),
    tz: tzinfo = UTC,
    settings: TrustSettings = TRUST_SETTINGS,
) -> CodeLeak:
    """Whether a code leaks, judged on its orders up to `as_of` (the last `leak_window_days`,
    and `leak_median_days` more for its usual daily uses). `creator_clicks` are the times of
    clicks on the creator's links; days are counted in `tz` (the shop's time zone)."""
    sites = COUPON_SITES | {s.strip().lower() for s in shop_coupon_sites if s.strip()}
    terms = tuple(creator_terms)
    past = [o for o in orders if o.placed_at <= as_of]
    sources = {o.order_id: order_source(o, creator_clicks, terms, sites, settings) for o in past}
    start = as_of - timedelta(days=settings.leak_window_days)
    window = [o for o in past if o.placed_at > start]
    unexplained = [o.order_id for o in window if sources[o.order_id].unexplained]
    share = len(unexplained) / len(window) if window else None
    reasons = []
    if len(window) >= settings.leak_min_orders and share is not None and share >= settings.leak_unexplained_share:
        reasons.append("unexplained_share")
    spikes = _spike_days(past, sources, as_of, tz, settings)
    if spikes:
        reasons.append("spike")
    rested_on = set(unexplained) | {i for s in spikes for i in s.order_ids}
    return CodeLeak(
        leaking=bool(reasons),
        reasons=tuple(reasons),
        orders=len(window),
        unexplained=len(unexplained),
        unexplained_share=share,
        spike_days=tuple(spikes),
        order_ids=tuple(sorted(rested_on)),
        fixes=FIXES if reasons else (),
        sources=tuple(sources[o.order_id] for o in window),
    )
