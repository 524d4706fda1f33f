"""One unit of work's shared state, handed explicitly to every function that uses it.

A drain processes a batch of webhook events in one transaction; `process_event`
one event; a backfill a page of orders. What such a unit reads once and what
its steps leave for the commit lives on a `Batch` its owner creates and passes
down, never in the session:

* each shop's clock and attribution settings (`ShopContext`) and its codes and
  handles (`ShopLookup`), read once;
* the orders the drain locked up front, with their stored refunds read in one
  query (`worker.order_store.prepare_orders`): nobody else can change those
  refunds while the locks are held;
* the orders its events changed, when they wait to be attributed together in
  one engine pass (`defer`);
* the creator-day cells attributions changed. Were each event to lock its cells
  as it goes, two drains sharing a shop would take them in different orders and
  deadlock; so cells wait here and are refreshed together, locks in one sorted
  sweep, by `worker.engine.refresh_cells` — which whoever commits calls just
  before committing (the same transaction: all or nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Click, DiscountCode, Influencer, ReferralLink, Shop
from roi.attribution import AttributionSettings, ClickFacts, Lookup, OrderFacts, normalize_code, normalize_handle

# (creator, shop-local day): the unit a rollup is refreshed in.
Cell = tuple[int | None, date]


@dataclass(frozen=True)
class ShopContext:
    """The shop's clock and attribution settings."""

    shop_id: int
    zone: ZoneInfo
    settings: AttributionSettings

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of a shop-local day (23 or 25 hours across DST)."""
        start = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)
        return start, end


def shop_context(session: Session, shop_id: int) -> ShopContext:
    """The shop's clock and settings as stored now."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    s = shop.settings
    settings = (
        AttributionSettings(
            attribution_window_days=s.attribution_window_days,
            repeat_window_days=s.repeat_window_days,
            evidence_order=tuple(s.evidence_order),
        )
        if s is not None
        else AttributionSettings()
    )
    return ShopContext(shop_id, shop.zone, settings)


@dataclass
class ShopLookup:
    """The shop's codes and handles, and the clicks orders name (read per group of orders)."""

    codes: dict[str, int] = field(default_factory=dict)
    handles: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, shop_id: int) -> "ShopLookup":
        return cls(
            codes={
                normalize_code(c): i
                for c, i in session.execute(
                    select(DiscountCode.code, DiscountCode.influencer_id).where(DiscountCode.shop_id == shop_id)
                )
            },
            handles={
                normalize_handle(h): i
                for h, i in session.execute(
                    select(Influencer.handle, Influencer.id).where(Influencer.shop_id == shop_id)
                )
            },
        )

    def for_orders(self, session: Session, shop_id: int, facts: Sequence[OrderFacts]) -> Lookup:
        crids = sorted({f.landing["crid"] for f in facts if f.landing.get("crid")})
        clicks: dict[str, ClickFacts] = {}
        for start in range(0, len(crids), 1000):
            rows = session.execute(
                select(Click.click_id, Click.influencer_id, ReferralLink.slug, Click.clicked_at)
                .join(ReferralLink, ReferralLink.id == Click.link_id)
                # A bot's click proves no visit; a de-duplicated human click still does.
                .where(Click.shop_id == shop_id, Click.bot.is_(False), Click.click_id.in_(crids[start : start + 1000]))
            )
            for click_id, influencer_id, slug, clicked_at in rows:
                clicks[click_id] = ClickFacts(click_id, influencer_id, slug, clicked_at)
        return Lookup(codes=self.codes, clicks=clicks, handles=self.handles)


def _cells() -> defaultdict[int, set[Cell]]:
    return defaultdict(set)


def _orders() -> defaultdict[int, set[int]]:
    return defaultdict(set)


@dataclass
class Batch:
    """See the module's docstring. `defer`: changed orders wait for one engine pass at the
    batch's end (a drain's fast path) instead of being attributed at once (in the event's
    own savepoint, so that an order the engine cannot take fails its event alone)."""

    defer: bool = False
    # Shop id -> order ids changed and not attributed yet (only while deferring).
    orders: defaultdict[int, set[int]] = field(default_factory=_orders)
    # Shops whose orders this batch changed: their predicted CLV is due a refit.
    shops_with_changed_orders: set[int] = field(default_factory=set)
    # Shop id -> orders whose attributions were looked at: their pay is settled (worker.ledger)
    # by engine.refresh_cells before commit, the cells of the lines it writes added below.
    pay_orders: defaultdict[int, set[int]] = field(default_factory=_orders)
    # Shop id -> cells whose sales changed, refreshed by engine.refresh_cells before commit.
    cells: defaultdict[int, set[Cell]] = field(default_factory=_cells)
    # The shop whose orders were locked up front, and their stored refunds:
    # Shopify order id -> refund id -> merchandise.
    prepared_shop_id: int | None = None
    refunds: dict[int, dict[int, Decimal]] = field(default_factory=dict)
    contexts: dict[int, ShopContext] = field(default_factory=dict)
    lookups: dict[int, ShopLookup] = field(default_factory=dict)

    def context(self, session: Session, shop_id: int) -> ShopContext:
        if shop_id not in self.contexts:
            self.contexts[shop_id] = shop_context(session, shop_id)
        return self.contexts[shop_id]

    def lookup(self, session: Session, shop_id: int) -> ShopLookup:
        if shop_id not in self.lookups:
            self.lookups[shop_id] = ShopLookup.load(session, shop_id)
        return self.lookups[shop_id]

    def prepared_refunds(self, shop_id: int, shopify_order_id: int) -> dict[int, Decimal] | None:
        """The stored refunds of an order this batch locked up front; None for any other."""
        if shop_id != self.prepared_shop_id:
            return None
        return self.refunds.get(shopify_order_id)
