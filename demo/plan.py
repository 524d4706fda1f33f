"""One copy of the reference case study, planned: what a demo store stores and is sent.

One copy is DESIGN.md's check: 15 creators, $22,500 cost, 2.8M impressions,
4.7% engagement rate, 38,400 clicks, 1,560 first orders, $156,000 revenue,
499 of the 1,560 customers back for more (32%), $31,200 repeat revenue. The
creators differ (some of them cost more than they bring), the totals do not.

Orders are Shopify webhook bodies with tax, shipping, 15% codes, a EUR
presentment currency on a quarter of them, partial refunds (delivered by
`refunds/create` and again inside `orders/updated`, sometimes in the other
order) and, around the counted ones, what a real store also gets: codes of no
creator, forged and stale click ids, test orders, cancelled and fully refunded
orders, an order whose money fields come in an unknown shape, and customers
who keep buying after the repeat window (what predicted CLV is fitted on).
Clicks, costs and posts are rows as the redirect and the registry store them.

A plan is pure: everything is drawn from a random generator seeded by (seed,
shop, copy) and dated back from the day the history ends, which the caller
gives, so the same arguments give the same plan on any day. `demo.seed` stores
it; nothing here touches a database or reads the clock.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from roi.allocation import largest_remainder as apportion

CENT = Decimal("0.01")
EUR_RATE = Decimal("1.085")  # shop (USD) per presentment unit, as the fixtures convert
TAX_RATE = Decimal("0.08")
HOURLY_RATE = Decimal("50.00")
CAMPAIGN_DAYS = 90
PERIOD_DAYS = 360
# After the repeat window: purchases a week ~ Gamma(shape, scale), dropout ~ Beta(a, b).
LATER_RATE = (0.5, 0.025)
LATER_DROPOUT = (1.2, 3.0)


@dataclass(frozen=True)
class Reference:
    cost: Decimal = Decimal("22500.00")
    impressions: int = 2_800_000
    engagement_rate: Decimal = Decimal("0.047")
    clicks: int = 38_400
    orders: int = 1_560
    revenue: Decimal = Decimal("156000.00")
    repeat_customers: int = 499  # 499 / 1,560 = 31.99%, the case study's 32%
    repeat_orders: int = 624
    repeat_revenue: Decimal = Decimal("31200.00")
    tools: Decimal = Decimal("850.00")  # shop-wide, part of the cost


REFERENCE = Reference()


@dataclass(frozen=True)
class Creator:
    name: str
    handle: str
    platform: str
    campaign: str
    code: str
    cost: int  # dollars, every category together
    orders: int  # first orders
    order_value: float  # relative average order value
    conversion: float  # relative click-to-order rate
    followers: int
    engagement: float  # relative engagement rate
    loyalty: float  # relative chance a customer comes back


ROSTER: tuple[Creator, ...] = (
    Creator("Maya Chen", "maya.glow", "instagram", "Spring Glow", "MAYA15", 2000, 260, 1.05, 1.3, 48_000, 1.2, 1.1),
    Creator("Leo Park", "leoskincare", "tiktok", "Spring Glow", "LEO15", 1600, 240, 0.90, 1.0, 95_000, 1.4, 0.8),
    Creator("Ava Ruiz", "ava.ruiz", "instagram", "Spring Glow", "AVA15", 1500, 190, 1.10, 1.1, 36_000, 1.0, 1.2),
    Creator("Noah Kim", "noahkim", "youtube", "Always On", "NOAH15", 2000, 170, 1.20, 0.9, 120_000, 0.7, 1.3),
    Creator("Zoe Adams", "zoe.adams", "tiktok", "Always On", "ZOE15", 1000, 150, 0.85, 1.2, 64_000, 1.5, 0.7),
    Creator(
        "Sam Patel", "sampatelbeauty", "instagram", "Holiday Gifting", "SAM15", 1300, 120, 1.00, 0.8, 29_000, 0.9, 1.0
    ),
    Creator("Ivy Brooks", "ivy.brooks", "tiktok", "Holiday Gifting", "IVY15", 800, 105, 0.95, 1.1, 41_000, 1.3, 0.9),
    Creator("Eli Turner", "eliturner", "youtube", "Always On", "ELI15", 1300, 80, 1.15, 0.7, 77_000, 0.6, 1.1),
    Creator("Mia Lopez", "mia.lopez", "instagram", "Spring Glow", "MIA15", 650, 70, 1.00, 1.0, 18_000, 1.1, 1.0),
    Creator("Kai Nguyen", "kai.nguyen", "tiktok", "Holiday Gifting", "KAI15", 700, 60, 0.90, 0.9, 22_000, 1.2, 0.9),
    Creator("Ruby Hall", "rubyhall", "pinterest", "Always On", "RUBY15", 500, 45, 1.05, 0.8, 15_000, 0.8, 1.0),
    Creator("Theo Grant", "theogrant", "youtube", "Holiday Gifting", "THEO15", 3300, 30, 0.95, 0.5, 140_000, 0.5, 0.8),
    Creator("Lily Ward", "lily.ward", "instagram", "Always On", "LILY15", 2300, 20, 1.00, 0.6, 52_000, 0.9, 0.9),
    Creator("Owen Shaw", "owenshaw", "tiktok", "Holiday Gifting", "OWEN15", 1500, 12, 0.90, 0.5, 33_000, 1.0, 0.7),
    Creator("Nora Fox", "nora.fox", "x", "Always On", "NORA15", 1200, 8, 0.95, 0.4, 26_000, 0.7, 0.6),
)
# Pay plans of the roster (by handle), in force from the history's first day. Part of each
# creator's entered cost is the commission these plans pay: `demo.seed` takes what the ledger
# paid off the creator's fee entry, so the case study's cost stays the reference's.
PAY_PLANS: dict[str, dict[str, Any]] = {
    "maya.glow": {
        "commission_percent": Decimal("3"),
        "repeat_commission_percent": Decimal("2"),
        "repeat_months": 6,
    },
    "leoskincare": {"commission_fixed": Decimal("1.00"), "repeat_months": 0},
    "ava.ruiz": {
        "commission_percent": Decimal("2"),
        "tiers": [{"metric": "net_revenue", "threshold": "3000.00", "percent": "1"}],
    },
    "noahkim": {"commission_percent": Decimal("3"), "cap": Decimal("80.00")},
    "zoe.adams": {"commission_percent": Decimal("3")},
    "sampatelbeauty": {"commission_percent": Decimal("2.5")},
}
CONTENT_TYPES = {
    "instagram": ("reel", "post", "story"),
    "tiktok": ("video", "live"),
    "youtube": ("video",),
    "pinterest": ("post",),
    "x": ("post",),
}
PRODUCTS = (
    "Vitamin C Serum",
    "Gentle Cleanser",
    "Barrier Moisturizer",
    "Mineral SPF 40",
    "Lip Balm Trio",
    "Retinol Night Cream",
    "Hydrating Toner",
)
FIRST_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn")
LAST_NAMES = ("Rivera", "Nguyen", "Schmidt", "Okafor", "Rossi", "Kowalski", "Haddad", "Lindqvist")
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Instagram 356.0",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 musical_ly_2024",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
)
BOT_AGENT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
NOISE = {
    "foreign_code": 40,
    "organic": 30,
    "forged_click": 12,
    "stale_click": 8,
    "test": 10,
    "cancelled": 15,
    "fully_refunded": 10,
    "unreadable": 3,
}


def check_roster() -> None:
    """The roster adds up to the reference (a test calls this)."""
    assert sum(c.orders for c in ROSTER) == REFERENCE.orders
    assert Decimal(sum(c.cost for c in ROSTER)) + REFERENCE.tools == REFERENCE.cost


def cents(n: int) -> Decimal:
    return (Decimal(n) / 100).quantize(CENT)


# --- one copy of the case study -------------------------------------------------------


@dataclass
class PlannedCreator:
    spec: Creator
    name: str
    handle: str
    code: str
    slug: str
    clicks: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass
class PlannedOrder:
    shopify_id: int
    name: str
    placed_at: datetime
    amount: Decimal  # subtotal after discounts (net sales before refunds)
    customer: dict[str, Any] | None
    code: str | None = None
    landing_site: str | None = None
    survey: str | None = None
    source_name: str = "web"
    presentment: str | None = None
    test: bool = False
    refund: tuple[int, Decimal, datetime] | None = None  # id, merchandise, when
    cancelled_at: datetime | None = None
    unreadable: bool = False


@dataclass
class Delivery:
    at: datetime
    topic: str
    body: str
    webhook_id: str


def plan_copy(
    copy: int, *, seed: int, domain: str, end: date, timezone: str, currency: str, free_slug: Callable[[str], str]
) -> CopyPlan:
    """Copy `copy` of the case study for the store `domain`, its history the PERIOD_DAYS days
    up to `end` (a day in the store's `timezone`). `free_slug` turns a link slug into one no
    other store holds (it is asked, not a database)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(end - timedelta(days=PERIOD_DAYS), time(0), tzinfo=zone)
    rng = random.Random(f"{seed}:{domain}:{copy}")
    return CopyPlan(copy, rng, start, zone, currency, free_slug)


class CopyPlan:
    """Everything one copy stores: creators, clicks, costs, posts and the deliveries."""

    def __init__(
        self,
        copy: int,
        rng: random.Random,
        start: datetime,
        zone: ZoneInfo,
        currency: str,
        free_slug: Callable[[str], str],
    ) -> None:
        self.copy, self.rng, self.start, self.zone, self.currency = copy, rng, start, zone, currency
        self.presentment = "EUR" if currency != "EUR" else "GBP"
        suffix = "" if copy == 0 else str(copy + 1)
        self.creators = []
        for spec in ROSTER:
            slug = spec.handle.replace(".", "-") + (f"-{suffix}" if suffix else "")
            self.creators.append(
                PlannedCreator(
                    spec,
                    spec.name + (f" {suffix}" if suffix else ""),
                    spec.handle + suffix,
                    spec.code + (f"-{suffix}" if suffix else ""),
                    free_slug(slug),
                )
            )
        self.ids = iter(range(1, 10_000_000))
        self.clicks: list[dict[str, Any]] = []
        self.costs: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.orders: list[PlannedOrder] = []
        self.deliveries: list[Delivery] = []
        self._plan_clicks()
        self._plan_costs()
        self._plan_posts()
        self._plan_orders()
        self._plan_deliveries()

    # -- helpers --

    def _moment(self, first_day: float, last_day: float) -> datetime:
        return self.start + timedelta(seconds=self.rng.uniform(first_day * 86400, last_day * 86400))

    def _number(self) -> int:
        return next(self.ids)

    def _customer(self) -> dict[str, Any]:
        n = self._number()
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        return {
            "id": 9_100_000_000_000 + self.copy * 1_000_000 + n,
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}.{self.copy}.{n}@example.com",
        }

    # -- activity --

    def _plan_clicks(self) -> None:
        counts = apportion(REFERENCE.clicks, [c.spec.orders / c.spec.conversion for c in self.creators])
        alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        for creator, count in zip(self.creators, counts):
            extra = max(1, count // 25)  # repeat visits inside 30 minutes and link previewers: not counted
            for n in range(count + extra):
                clicked_at = self._moment(0, CAMPAIGN_DAYS)
                click_id = "".join(self.rng.choices(alphabet, k=8)) + f"{self.copy:02X}{len(self.clicks):05X}"
                bot = n >= count and n % 2 == 0
                self.clicks.append(
                    {
                        "click_id": click_id,
                        "slug": creator.slug,
                        "clicked_at": clicked_at,
                        "counted": n < count,
                        "bot": bot,
                        "user_agent": BOT_AGENT if bot else self.rng.choice(USER_AGENTS),
                        "visitor_id": uuid.UUID(int=self.rng.getrandbits(128)).hex,
                        "ip_hash": f"{self.rng.getrandbits(256):064x}",
                    }
                )
                if n < count:
                    creator.clicks.append((click_id, clicked_at))

    def _plan_costs(self) -> None:
        for creator in self.creators:
            total = Decimal(creator.spec.cost)
            hours = (total * Decimal("0.15") / HOURLY_RATE).quantize(Decimal(1))
            parts = {"product": (total * Decimal("0.2")).quantize(CENT), "management_time": hours * HOURLY_RATE}
            if creator.spec.platform in ("instagram", "tiktok"):
                parts["content_rights"] = (total * Decimal("0.1")).quantize(CENT)
            parts["fee"] = total - sum(parts.values())
            for category, amount in parts.items():
                self.costs.append(
                    {
                        "handle": creator.handle,
                        "category": category,
                        "amount": amount,
                        "hours": hours if category == "management_time" else None,
                        "hourly_rate": HOURLY_RATE if category == "management_time" else None,
                        "incurred_on": self._moment(0, 60).astimezone(self.zone).date(),
                        "note": f"{category.replace('_', ' ')} for {creator.name}",
                    }
                )
        for n, fee in enumerate(("300.00", "300.00", "250.00")):
            day = (self.start + timedelta(days=30 * n)).astimezone(self.zone).date()
            self.costs.append(
                {
                    "handle": None,
                    "category": "tools",
                    "amount": Decimal(fee),
                    "hours": None,
                    "hourly_rate": None,
                    "incurred_on": day,
                    "note": "creator tooling subscription",
                }
            )

    def _plan_posts(self) -> None:
        posts: list[tuple[PlannedCreator, str]] = []
        for creator in self.creators:
            for _ in range(self.rng.randint(3, 6)):
                posts.append((creator, self.rng.choice(CONTENT_TYPES[creator.spec.platform])))
        followers = [round(c.spec.followers, -3) for c, _ in posts]
        # Σ engagements ÷ Σ followers is the reference engagement rate, to the unit.
        engagements = apportion(
            int(sum(followers) * REFERENCE.engagement_rate),
            [f * c.spec.engagement * self.rng.uniform(0.7, 1.3) for f, (c, _) in zip(followers, posts)],
        )
        impressions = apportion(REFERENCE.impressions, [f * self.rng.uniform(0.6, 1.4) for f in followers])
        for (creator, content_type), fans, engaged, seen in zip(posts, followers, engagements, impressions):
            likes, comments, shares, saves = apportion(engaged, [80, 8 * self.rng.uniform(0.5, 1.5), 4, 8])
            self.posts.append(
                {
                    "handle": creator.handle,
                    "platform": creator.spec.platform,
                    "content_type": content_type,
                    "posted_at": self._moment(0, CAMPAIGN_DAYS - 5),
                    "url": f"https://{creator.spec.platform}.example/{creator.handle}/{self._number()}",
                    "followers": fans,
                    "impressions": seen,
                    "reach": int(seen * self.rng.uniform(0.55, 0.8)),
                    "likes": likes,
                    "comments": comments,
                    "shares": shares,
                    "saves": saves,
                }
            )

    # -- orders --

    def _order(self, placed_at: datetime, amount: Decimal, customer: dict[str, Any] | None, **kw: Any) -> PlannedOrder:
        n = self._number()
        order = PlannedOrder(
            shopify_id=5_500_000_000_000 + self.copy * 1_000_000 + n,
            name=f"#{self.copy * 100_000 + 1000 + n}",
            placed_at=placed_at,
            amount=amount,
            customer=customer,
            presentment=self.presentment if self.rng.random() < 0.25 else None,
            **kw,
        )
        self.orders.append(order)
        return order

    def _partial_refund(self, order: PlannedOrder, net: Decimal) -> None:
        """Make `net` what stays after a refund of part of the merchandise."""
        refunded = max(Decimal("1.00"), (net * Decimal(str(self.rng.uniform(0.1, 0.4)))).quantize(CENT))
        order.amount = net + refunded
        order.refund = (self._refund_id(), refunded, order.placed_at + timedelta(days=self.rng.uniform(2, 20)))

    def _refund_id(self) -> int:
        return 9_800_000_000_000 + self.copy * 1_000_000 + self._number()

    def _plan_orders(self) -> None:
        c_weights = [c.spec.orders * c.spec.order_value for c in self.creators]
        revenues = apportion(int(REFERENCE.revenue * 100), c_weights)
        repeaters = apportion(REFERENCE.repeat_customers, [c.spec.orders * c.spec.loyalty for c in self.creators])
        repeat_orders = apportion(REFERENCE.repeat_orders, repeaters)
        repeat_revenue = apportion(
            int(REFERENCE.repeat_revenue * 100), [n * c.spec.order_value for n, c in zip(repeat_orders, self.creators)]
        )
        acquired: list[tuple[PlannedOrder, bool]] = []
        for creator, revenue, repeats, repeat_count, repeat_cents in zip(
            self.creators, revenues, repeaters, repeat_orders, repeat_revenue
        ):
            n = creator.spec.orders
            nets = apportion(revenue, [self.rng.uniform(0.5, 1.8) for _ in range(n)])
            by_click = round(n * 0.35)
            by_survey = max(1, round(n * 0.10))
            clicks = self.rng.sample(creator.clicks, by_click)
            firsts = []
            for i, net in enumerate(nets):
                if i < by_click:
                    click_id, clicked_at = clicks[i]
                    placed = clicked_at + timedelta(seconds=self.rng.uniform(600, 3 * 86400))
                    order = self._order(
                        placed,
                        cents(net),
                        self._customer(),
                        landing_site=f"/?ref={creator.slug}&crid={click_id}&utm_source={creator.spec.platform}"
                        f"&utm_medium=creator&utm_campaign={creator.spec.campaign.lower().replace(' ', '-')}",
                    )
                elif i < by_click + by_survey:
                    answer = self.rng.choice(
                        (
                            f"@{creator.handle} on {creator.spec.platform.title()}",
                            f"{creator.spec.platform.title()} - {creator.handle}",
                        )
                    )
                    order = self._order(self._moment(0, CAMPAIGN_DAYS), cents(net), self._customer(), survey=answer)
                else:
                    pos = self.rng.random() < 0.08
                    code: str | None = creator.code if self.rng.random() < 0.8 else creator.code.lower()
                    order = self._order(
                        self._moment(0, CAMPAIGN_DAYS),
                        cents(net),
                        None if pos and self.rng.random() < 0.5 else self._customer(),
                        code=code,
                        source_name="pos" if pos else "web",
                        landing_site=None if pos else f"/products/serum?utm_source={creator.spec.platform}",
                    )
                if self.rng.random() < 0.10:
                    self._partial_refund(order, cents(net))
                firsts.append(order)
            known = [o for o in firsts if o.customer is not None]
            coming_back = self.rng.sample(known, repeats)
            extra = apportion(repeat_count - repeats, [1] * repeats) if repeats else []
            amounts = iter(apportion(repeat_cents, [self.rng.uniform(0.5, 1.5) for _ in range(repeat_count)]))
            for first, more in zip(coming_back, extra):
                for gap in sorted(self.rng.uniform(7, 85) for _ in range(1 + more)):
                    others = [c for c in self.creators if c is not creator]
                    code = (
                        creator.code
                        if self.rng.random() < 0.15
                        else self.rng.choice(others).code
                        if self.rng.random() < 0.03
                        else None
                    )
                    order = self._order(
                        first.placed_at + timedelta(days=gap), cents(next(amounts)), first.customer, code=code
                    )
                    if self.rng.random() < 0.05:
                        self._partial_refund(order, order.amount)
            acquired += [(o, o in coming_back) for o in known]
        self._plan_noise()
        self.acquired = acquired
        self._plan_later_purchases(acquired)

    def _plan_noise(self) -> None:
        """Orders a real store gets that must not count (none of them changes a figure)."""

        def amount() -> Decimal:
            return cents(self.rng.randint(2500, 16000))

        def creator() -> PlannedCreator:
            return self.rng.choice(self.creators)

        for _ in range(NOISE["foreign_code"]):
            self._order(self._moment(0, CAMPAIGN_DAYS), amount(), self._customer(), code="WELCOME10")
        for _ in range(NOISE["organic"]):
            self._order(
                self._moment(0, PERIOD_DAYS - 5),
                amount(),
                self._customer(),
                landing_site=self.rng.choice(("/", "/collections/all?utm_source=google", None)),
            )
        for _ in range(NOISE["forged_click"]):
            forged = "".join(self.rng.choices("0123456789ABCDEFGHJKMNPQRSTVWXYZ", k=10))
            self._order(
                self._moment(0, CAMPAIGN_DAYS),
                amount(),
                self._customer(),
                landing_site=f"/?ref={creator().slug}&crid={forged}",
            )
        for _ in range(NOISE["stale_click"]):
            who = creator()
            click_id, clicked_at = self.rng.choice([c for c in who.clicks if c[1] < self.start + timedelta(days=50)])
            self._order(
                clicked_at + timedelta(days=self.rng.uniform(35, 45)),
                amount(),
                self._customer(),
                landing_site=f"/?ref={who.slug}&crid={click_id}",
            )
        for _ in range(NOISE["test"]):
            self._order(self._moment(0, CAMPAIGN_DAYS), amount(), self._customer(), code=creator().code, test=True)
        for _ in range(NOISE["cancelled"]):
            order = self._order(self._moment(0, CAMPAIGN_DAYS), amount(), self._customer(), code=creator().code)
            order.cancelled_at = order.placed_at + timedelta(hours=self.rng.uniform(2, 48))
            order.refund = (self._refund_id(), order.amount, order.cancelled_at)
        for _ in range(NOISE["fully_refunded"]):
            order = self._order(self._moment(0, CAMPAIGN_DAYS), amount(), self._customer(), code=creator().code)
            order.refund = (self._refund_id(), order.amount, order.placed_at + timedelta(days=self.rng.uniform(3, 25)))
        for _ in range(NOISE["unreadable"]):
            self._order(
                self._moment(0, CAMPAIGN_DAYS), amount(), self._customer(), code=creator().code, unreadable=True
            )

    def _plan_later_purchases(self, acquired: list[tuple[PlannedOrder, bool]]) -> None:
        """Customers keep buying after the repeat window, as BG/NBD describes them (a purchase
        rate per customer, a chance to drop out after each purchase), faster when they came
        back inside the window. These orders carry no evidence, so they are nobody's: they
        change no figure of the case study, and give predicted CLV its data."""
        end = self.start + timedelta(days=PERIOD_DAYS - 1)
        for first, came_back in acquired:
            weekly = self.rng.gammavariate(*LATER_RATE) * (2.5 if came_back else 1.0)
            dropout = self.rng.betavariate(*LATER_DROPOUT)
            at = first.placed_at + timedelta(days=91)
            while weekly > 0:
                gap = self.rng.expovariate(weekly)  # weeks
                if gap >= (end - at) / timedelta(weeks=1):
                    break
                at += timedelta(weeks=gap)
                self._order(at, cents(self.rng.randint(2500, 12000)), first.customer)
                if self.rng.random() < dropout:
                    break

    # -- deliveries --

    def _plan_deliveries(self) -> None:
        for order in self.orders:
            created = order.placed_at + timedelta(seconds=self.rng.uniform(1, 30))
            self._deliver(created, "orders/create", self._order_body(order, refunded=False, at=order.placed_at))
            if order.refund is None:
                continue
            _, _, when = order.refund
            topic = "orders/cancelled" if order.cancelled_at else "orders/updated"
            update_at = when + timedelta(seconds=self.rng.uniform(20, 90))
            if self.rng.random() < 0.15:  # Shopify does not promise delivery order
                update_at = when - timedelta(seconds=self.rng.uniform(5, 60))
            self._deliver(when, "refunds/create", json.dumps(self._refund_body(order)))
            self._deliver(update_at, topic, self._order_body(order, refunded=True, at=when + timedelta(seconds=2)))
        self.deliveries.sort(key=lambda d: d.at)

    def _deliver(self, at: datetime, topic: str, body: Any) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self.deliveries.append(Delivery(at, topic, text, str(uuid.UUID(int=self.rng.getrandbits(128), version=4))))

    def _money(self, amount: Decimal, presentment: str | None) -> dict[str, Any]:
        shown = (amount / EUR_RATE).quantize(CENT, ROUND_HALF_UP) if presentment else amount
        return {
            "shop_money": {"amount": f"{amount:.2f}", "currency_code": self.currency},
            "presentment_money": {"amount": f"{shown:.2f}", "currency_code": presentment or self.currency},
        }

    def _time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="seconds")

    def _refund_body(self, order: PlannedOrder) -> dict[str, Any]:
        assert order.refund is not None
        refund_id, refunded, when = order.refund
        tax = (refunded * TAX_RATE).quantize(CENT, ROUND_HALF_UP)
        p = order.presentment
        return {
            "id": refund_id,
            "order_id": order.shopify_id,
            "created_at": self._time(when),
            "processed_at": self._time(when),
            "note": "customer return",
            "restock": True,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "refund_line_items": [
                {
                    "id": refund_id + 1,
                    "line_item_id": order.shopify_id + 1,
                    "quantity": 1,
                    "restock_type": "cancel" if order.cancelled_at else "return",
                    "subtotal": float(refunded),
                    "subtotal_set": self._money(refunded, p),
                    "total_tax": float(tax),
                    "total_tax_set": self._money(tax, p),
                }
            ],
            "refund_shipping_lines": [],
            "order_adjustments": [],
            "transactions": [
                {
                    "kind": "refund",
                    "status": "success",
                    "gateway": "shopify_payments",
                    "amount": self._money(refunded + tax, p)["presentment_money"]["amount"],
                    "currency": p or self.currency,
                }
            ],
        }

    def _order_body(self, order: PlannedOrder, *, refunded: bool, at: datetime) -> dict[str, Any]:
        p = order.presentment
        subtotal = order.amount
        discount = (
            (subtotal * Decimal(15) / Decimal(85)).quantize(CENT, ROUND_HALF_UP) if order.code else Decimal("0.00")
        )
        gross = subtotal + discount
        tax = (subtotal * TAX_RATE).quantize(CENT, ROUND_HALF_UP)
        shipping = Decimal("0.00") if subtotal >= 75 else Decimal("4.95")
        refunds = [self._refund_body(order)] if refunded and order.refund else []
        merchandise_back = sum(
            (Decimal(r["refund_line_items"][0]["subtotal_set"]["shop_money"]["amount"]) for r in refunds),
            Decimal("0.00"),
        )
        lines = apportion(int(gross * 100), [self.rng.uniform(0.6, 1.4) for _ in range(1 + (gross > 90))])
        line_discounts = apportion(int(discount * 100), lines) if discount else [0] * len(lines)
        financial = "paid"
        if refunds:
            financial = "refunded" if merchandise_back >= subtotal else "partially_refunded"
        body: dict[str, Any] = {
            "id": order.shopify_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order.shopify_id}",
            "name": order.name,
            "order_number": int(order.name[1:]),
            "created_at": self._time(order.placed_at),
            "processed_at": self._time(order.placed_at),
            "updated_at": self._time(at if refunded else order.placed_at + timedelta(seconds=2)),
            "cancelled_at": self._time(order.cancelled_at) if refunded and order.cancelled_at else None,
            "cancel_reason": "customer" if refunded and order.cancelled_at else None,
            "currency": self.currency,
            "presentment_currency": p or self.currency,
            "financial_status": financial,
            "test": order.test,
            "source_name": order.source_name,
            "landing_site": order.landing_site,
            "referring_site": None,
            "discount_codes": [{"code": order.code, "amount": f"{discount:.2f}", "type": "percentage"}]
            if order.code
            else [],
            "discount_applications": [
                {
                    "type": "discount_code",
                    "code": order.code,
                    "value": "15.0",
                    "value_type": "percentage",
                    "allocation_method": "across",
                    "target_selection": "all",
                    "target_type": "line_item",
                }
            ]
            if order.code
            else [],
            "note_attributes": [{"name": "how_did_you_hear", "value": order.survey}] if order.survey else [],
            "total_line_items_price": f"{gross:.2f}",
            "total_line_items_price_set": self._money(gross, p),
            "total_discounts": f"{discount:.2f}",
            "total_discounts_set": self._money(discount, p),
            "subtotal_price": f"{subtotal:.2f}",
            "subtotal_price_set": self._money(subtotal, p),
            "total_tax": f"{tax:.2f}",
            "total_tax_set": self._money(tax, p),
            "total_shipping_price_set": self._money(shipping, p),
            "total_price": f"{subtotal + tax + shipping:.2f}",
            "total_price_set": self._money(subtotal + tax + shipping, p),
            # Already net of refunds: the engine must never subtract refunds from these again.
            "current_subtotal_price": f"{subtotal - merchandise_back:.2f}",
            "current_subtotal_price_set": self._money(subtotal - merchandise_back, p),
            "tax_lines": [
                {"title": "Sales tax", "rate": float(TAX_RATE), "price": f"{tax:.2f}", "price_set": self._money(tax, p)}
            ],
            "shipping_lines": [
                {"title": "Standard", "price": f"{shipping:.2f}", "price_set": self._money(shipping, p)}
            ],
            "line_items": [
                {
                    "id": order.shopify_id + 1 + i,
                    "title": self.rng.choice(PRODUCTS),
                    "quantity": 1,
                    "price": f"{cents(price):.2f}",
                    "price_set": self._money(cents(price), p),
                    "total_discount": "0.00",
                    "discount_allocations": [
                        {
                            "amount": f"{cents(d):.2f}",
                            "amount_set": self._money(cents(d), p),
                            "discount_application_index": 0,
                        }
                    ]
                    if order.code
                    else [],
                }
                for i, (price, d) in enumerate(zip(lines, line_discounts))
            ],
            "customer": (
                {
                    **order.customer,
                    "created_at": self._time(order.placed_at),
                    "updated_at": self._time(order.placed_at),
                    "currency": self.currency,
                }
                if order.customer
                else None
            ),
            "refunds": refunds,
        }
        if order.unreadable:  # a money shape this app has never seen: stored and flagged, not guessed
            body["subtotal_price_set"] = {"amount": f"{subtotal:.2f}", "currency": self.currency}
            del body["subtotal_price"]
        return body
