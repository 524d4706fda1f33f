"""Attribution applied to stored orders, and the rollups every report reads.

`roi.attribution` decides; this module feeds it stored facts and keeps two
things in step, inside the caller's transaction:

* one `Attribution` row per order (attributed or not: the evidence says why),
  derived from the customer's whole order history, so the result does not
  depend on the order in which deliveries arrive;
* `Rollup` rows per (creator, shop-local day) *cell*. A cell is refreshed by
  recomputing it from the stored rows, never by adding deltas, so a cell
  refreshed incrementally equals the same cell rebuilt from scratch.

Where figures land: first orders, revenue and new customers on the day of the
order; repeat orders and repeat revenue on the day of the repeat order;
`repeat_customers` on the day the customer was acquired (a cohort figure, so
`repeat_purchase_rate` compares like with like); clicks on the click's day;
costs on `incurred_on`; post metrics on the post's day.

On PostgreSQL, transaction-level advisory locks keep concurrent workers
apart: per customer history (so two orders of one customer are judged one
after the other) and per cell (so two refreshes of one cell never race);
`reattribute_shop` takes the shop's lock exclusively.
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from models import (
    Attribution,
    Click,
    Cost,
    DiscountCode,
    Influencer,
    Order,
    Post,
    ReferralLink,
    Rollup,
    Shop,
)
from roi.attribution import (
    AttributionResult,
    AttributionSettings,
    ClickFacts,
    Lookup,
    OrderFacts,
    attribute_customer_history,
    normalize_code,
    normalize_handle,
)
from roi.money import is_conversion_eligible, landing_params, survey_answers

log = logging.getLogger("creator_roi.engine")

ZERO = Decimal("0.00")
SALES_COLUMNS = ("orders", "new_customers", "revenue", "repeat_orders", "repeat_revenue",
                 "repeat_customers")
POST_COLUMNS = ("posts", "impressions", "reach", "followers", "likes", "comments", "shares", "saves")
MONEY_COLUMNS = ("revenue", "repeat_revenue", "cost")
ALL_COLUMNS = (*SALES_COLUMNS, "clicks", "cost", *POST_COLUMNS)
HISTORY_CHUNK = 2000
INSERT_CHUNK = 5000

Cell = tuple[int | None, date]
# (kind, influencer_id, day, campaign_id, platform, content_type): one Rollup row.
RowKey = tuple[str, int | None, date, int | None, str | None, str | None]


# --- the shop's clock and settings ------------------------------------------------


@dataclass(frozen=True)
class ShopContext:
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


def shop_zone(timezone_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def shop_context(session: Session, shop_id: int) -> ShopContext:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"shop {shop_id} does not exist")
    s = shop.settings
    settings = AttributionSettings(
        attribution_window_days=s.attribution_window_days,
        repeat_window_days=s.repeat_window_days,
        evidence_order=tuple(s.evidence_order),
    ) if s is not None else AttributionSettings()
    return ShopContext(shop_id, shop_zone(shop.timezone), settings)


# --- locks (PostgreSQL; SQLite has one writer) ---------------------------------------


def _lock_key(*parts: Any) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _lock(session: Session, keys: Iterable[int]) -> None:
    if not _is_postgresql(session):
        return
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _lock_shop(session: Session, shop_id: int, *, exclusive: bool) -> None:
    if not _is_postgresql(session):
        return
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {fn}(:key)"), {"key": _lock_key("shop", shop_id)})


def _lock_cells(session: Session, shop_id: int, cells: Iterable[Cell]) -> None:
    _lock(session, (_lock_key("cell", shop_id, i, d.toordinal()) for i, d in cells))


# --- from stored orders to attribution facts ------------------------------------------


def _stored_codes(values: Iterable[Any]) -> tuple[str, ...]:
    codes: list[str] = []
    for entry in values or ():
        code = entry.get("code") if isinstance(entry, Mapping) else entry
        if isinstance(code, str) and code.strip():
            codes.append(code.strip())
    return tuple(codes)


def is_countable(order: Order) -> bool:
    """An order that can be a conversion: read as usual, not cancelled, voided or a test, net > 0."""
    return (order.subtotal is not None and not order.flagged and is_conversion_eligible(
        cancelled=order.cancelled_at is not None, voided=order.financial_status == "voided",
        test=bool(order.test), net=order.net_sales or ZERO))


def order_facts(order: Order) -> OrderFacts:
    return OrderFacts(
        order_id=order.id,
        placed_at=order.placed_at,
        customer_key=None if order.shopify_customer_id is None else str(order.shopify_customer_id),
        codes=_stored_codes(order.codes),
        landing=landing_params(order.landing_site),
        survey=survey_answers({"note_attributes": order.note_attributes or []}),
        eligible=is_countable(order),
        net=order.net_sales or ZERO,
    )


@dataclass
class ShopLookup:
    """The shop's codes and handles (loaded once) and clicks (loaded per batch of orders)."""

    codes: dict[str, int] = field(default_factory=dict)
    handles: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, shop_id: int, codes: set[str] | None = None,
             handles: bool = True) -> "ShopLookup":
        """All the shop's codes, or only those among `codes` (lower case); handles if asked."""
        found = cls()
        query = select(DiscountCode.code, DiscountCode.influencer_id).where(
            DiscountCode.shop_id == shop_id)
        if codes is not None:
            query = query.where(func.lower(DiscountCode.code).in_(sorted(codes)))
        if codes is None or codes:
            found.codes = {normalize_code(c): i for c, i in session.execute(query)}
        if handles:
            found.handles = {normalize_handle(h): i for h, i in session.execute(
                select(Influencer.handle, Influencer.id).where(Influencer.shop_id == shop_id))}
        return found

    def for_orders(self, session: Session, shop_id: int, facts: Sequence[OrderFacts]) -> Lookup:
        crids = sorted({f.landing["crid"] for f in facts if f.landing.get("crid")})
        clicks: dict[str, ClickFacts] = {}
        for start in range(0, len(crids), 1000):
            rows = session.execute(
                select(Click.click_id, Click.influencer_id, ReferralLink.slug, Click.clicked_at)
                .join(ReferralLink, ReferralLink.id == Click.link_id)
                # A bot's click proves no visit; a de-duplicated human click still does.
                .where(Click.shop_id == shop_id, Click.bot.is_(False),
                       Click.click_id.in_(crids[start:start + 1000])))
            for click_id, influencer_id, slug, clicked_at in rows:
                clicks[click_id] = ClickFacts(click_id, influencer_id, slug, clicked_at)
        return Lookup(codes=self.codes, clicks=clicks, handles=self.handles)


def _flag_note(order: Order) -> dict[str, Any] | None:
    if not order.flagged:
        return None
    return {"rule": "money", "matched": False, "decisive": False,
            "reason": f"order flagged, not counted: {order.flagged}"}


# --- attributions -------------------------------------------------------------------


def _sales_cells(ctx: ShopContext, influencer_id: int | None, kind: str | None,
                 placed_at: datetime, acquired_at: datetime | None) -> set[Cell]:
    if influencer_id is None or kind not in ("first", "repeat"):
        return set()
    cells = {(influencer_id, ctx.day(placed_at))}
    if kind == "repeat" and acquired_at is not None:
        cells.add((influencer_id, ctx.day(acquired_at)))
    return cells


def _apply(session: Session, ctx: ShopContext, orders: Sequence[Order],
           results: Sequence[AttributionResult]) -> set[Cell]:
    """Store each verdict; the cells whose sales changed."""
    by_id = {o.id: o for o in orders}
    existing = {a.order_id: a for a in session.scalars(
        select(Attribution).where(Attribution.order_id.in_(list(by_id))))}
    dirty: set[Cell] = set()
    for result in results:
        order = by_id[result.order_id]
        evidence = list(result.evidence)
        note = _flag_note(order)
        if note is not None:
            evidence.append(note)
        net = order.net_sales or ZERO
        row = existing.get(order.id)
        new_state = (result.influencer_id, result.kind, result.rule, net, result.acquired_at, evidence)
        if row is None:
            session.add(Attribution(shop_id=ctx.shop_id, order_id=order.id,
                                    influencer_id=result.influencer_id, kind=result.kind,
                                    rule=result.rule, evidence=evidence, net=net,
                                    acquired_at=result.acquired_at))
        else:
            old_state = (row.influencer_id, row.kind, row.rule, row.net, row.acquired_at, row.evidence)
            if old_state == new_state:
                continue
            dirty |= _sales_cells(ctx, row.influencer_id, row.kind, order.placed_at, row.acquired_at)
            row.influencer_id, row.kind, row.rule = result.influencer_id, result.kind, result.rule
            row.evidence, row.net, row.acquired_at = evidence, net, result.acquired_at
        dirty |= _sales_cells(ctx, result.influencer_id, result.kind, order.placed_at,
                              result.acquired_at)
    return dirty


def _histories(session: Session, shop_id: int, order_ids: Sequence[int]) -> list[Order]:
    """The given orders and every other order of their customers, locked, oldest id first."""
    keys = session.execute(select(Order.id, Order.shopify_customer_id).where(
        Order.shop_id == shop_id, Order.id.in_(order_ids))).all()
    customers = sorted({c for _, c in keys if c is not None})
    guests = sorted(i for i, c in keys if c is None)
    _lock(session, (_lock_key("customer", shop_id, c) for c in customers))
    conditions = []
    if guests:
        conditions.append(Order.id.in_(guests))
    if customers:
        conditions.append(Order.shopify_customer_id.in_(customers))
    if not conditions:
        return []
    return list(session.scalars(
        select(Order).where(Order.shop_id == shop_id, or_(*conditions))
        .order_by(Order.id).with_for_update()))


def orders_changed(session: Session, shop_id: int, order_ids: list[int]) -> None:
    """Re-attribute the given orders (and their customers' histories) and refresh rollups,
    in the caller's transaction."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    session.flush()
    ctx = shop_context(session, shop_id)
    _lock_shop(session, shop_id, exclusive=False)
    orders = _histories(session, shop_id, ids)
    if not orders:
        return
    facts = [order_facts(o) for o in orders]
    codes = {normalize_code(c) for f in facts for c in f.codes}
    shop_lookup = ShopLookup.load(session, shop_id, codes, handles=any(f.survey for f in facts))
    results = attribute_customer_history(facts, shop_lookup.for_orders(session, shop_id, facts),
                                         ctx.settings)
    dirty = _apply(session, ctx, orders, results)
    session.flush()
    refresh_sales(session, ctx, dirty)
    log.info("event=orders_attributed shop_id=%s orders=%s history=%s cells=%s",
             shop_id, len(ids), len(orders), len(dirty))


# --- rollup arithmetic shared by incremental refreshes and rebuilds ---------------------


def _zeros() -> dict[str, Any]:
    return {name: (ZERO if name in MONEY_COLUMNS else 0) for name in ALL_COLUMNS}


class RollupSums:
    """Rollup rows being computed, keyed by `RowKey`; repeat customers counted distinctly."""

    def __init__(self, ctx: ShopContext) -> None:
        self.ctx = ctx
        self.rows: dict[RowKey, dict[str, Any]] = defaultdict(_zeros)
        self._repeaters: dict[Cell, set[tuple[int | None, datetime | None]]] = defaultdict(set)

    def add_sale(self, influencer_id: int, kind: str, net: Decimal, placed_at: datetime,
                 customer: int | None, acquired_at: datetime | None) -> None:
        row = self.rows[("day", influencer_id, self.ctx.day(placed_at), None, None, None)]
        if kind == "first":
            row["orders"] += 1
            row["new_customers"] += 1
            row["revenue"] += net
        elif kind == "repeat":
            row["repeat_orders"] += 1
            row["repeat_revenue"] += net
            # The acquisition (customer, time) is counted once, on the day it happened.
            acquired_day = self.ctx.day(acquired_at) if acquired_at else self.ctx.day(placed_at)
            self._repeaters[(influencer_id, acquired_day)].add((customer, acquired_at))

    def add_click(self, influencer_id: int, clicked_at: datetime) -> None:
        self.rows[("day", influencer_id, self.ctx.day(clicked_at), None, None, None)]["clicks"] += 1

    def add_cost(self, influencer_id: int | None, campaign_id: int | None, day: date,
                 amount: Decimal) -> None:
        self.rows[("cost", influencer_id, day, campaign_id, None, None)]["cost"] += amount

    def add_post(self, post: Any) -> None:
        key = ("post", post.influencer_id, self.ctx.day(post.posted_at), None, post.platform,
               post.content_type)
        row = self.rows[key]
        row["posts"] += 1
        for name in POST_COLUMNS[1:]:
            row[name] += getattr(post, name) or 0

    def finish(self) -> dict[RowKey, dict[str, Any]]:
        for (influencer_id, day), customers in self._repeaters.items():
            self.rows[("day", influencer_id, day, None, None, None)]["repeat_customers"] += len(customers)
        self._repeaters.clear()
        return self.rows


def _row(shop_id: int, key: RowKey, values: Mapping[str, Any]) -> dict[str, Any]:
    kind, influencer_id, day, campaign_id, platform, content_type = key
    return {"shop_id": shop_id, "kind": kind, "influencer_id": influencer_id, "day": day,
            "campaign_id": campaign_id, "platform": platform, "content_type": content_type,
            **values}


def _upsert_day(session: Session, shop_id: int, cell: Cell, values: Mapping[str, Any]) -> None:
    """Set some columns of a creator-day row, creating it if needed; drop it once all zero."""
    influencer_id, day = cell
    if _is_postgresql(session):
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    row = {**_zeros(), **values}
    statement = upsert(Rollup).values(_row(shop_id, ("day", influencer_id, day, None, None, None), row))
    session.execute(statement.on_conflict_do_update(
        index_elements=["shop_id", "influencer_id", "day"], index_where=text("kind = 'day'"),
        set_=dict(values)))
    if not any(values.values()):
        session.execute(delete(Rollup).where(
            Rollup.shop_id == shop_id, Rollup.kind == "day", Rollup.influencer_id == influencer_id,
            Rollup.day == day, *(getattr(Rollup, name) == 0 for name in ALL_COLUMNS)))


def _where_influencer(column: Any, influencer_id: int | None) -> Any:
    return column.is_(None) if influencer_id is None else column == influencer_id


# --- incremental refreshes ------------------------------------------------------------


def refresh_sales(session: Session, ctx: ShopContext, cells: Iterable[Cell]) -> None:
    """Recompute the sales columns of each creator-day cell from its attributions."""
    cells = sorted({c for c in cells if c[0] is not None}, key=lambda c: (c[0], c[1]))
    _lock_cells(session, ctx.shop_id, cells)
    for influencer_id, day in cells:
        start, end = ctx.bounds(day)
        rows = session.execute(
            select(Attribution.kind, Attribution.net, Order.placed_at, Order.shopify_customer_id,
                   Attribution.acquired_at)
            .join(Order, Order.id == Attribution.order_id)
            .where(Attribution.shop_id == ctx.shop_id, Attribution.influencer_id == influencer_id,
                   Attribution.kind.in_(("first", "repeat")),
                   or_(and_(Order.placed_at >= start, Order.placed_at < end),
                       and_(Attribution.kind == "repeat", Attribution.acquired_at >= start,
                            Attribution.acquired_at < end))))
        sums = RollupSums(ctx)
        for kind, net, placed_at, customer, acquired_at in rows:
            sums.add_sale(influencer_id, kind, net, placed_at, customer, acquired_at)
        values = sums.finish().get(("day", influencer_id, day, None, None, None), _zeros())
        _upsert_day(session, ctx.shop_id, (influencer_id, day),
                    {name: values[name] for name in SALES_COLUMNS})


def activity_changed(session: Session, shop_id: int, influencer_id: int | None, day: date) -> None:
    """Clicks, costs or posts of (influencer, shop-local day) changed: refresh that rollup cell."""
    session.flush()
    ctx = shop_context(session, shop_id)
    _lock_shop(session, shop_id, exclusive=False)
    _lock_cells(session, shop_id, [(influencer_id, day)])
    start, end = ctx.bounds(day)
    sums = RollupSums(ctx)
    for cost_campaign, amount in session.execute(
            select(Cost.campaign_id, Cost.amount).where(
                Cost.shop_id == shop_id, _where_influencer(Cost.influencer_id, influencer_id),
                Cost.incurred_on == day)):
        sums.add_cost(influencer_id, cost_campaign, day, amount)
    if influencer_id is not None:
        for post in session.scalars(select(Post).where(
                Post.shop_id == shop_id, Post.influencer_id == influencer_id,
                Post.posted_at >= start, Post.posted_at < end)):
            sums.add_post(post)
        for (clicked_at,) in session.execute(select(Click.clicked_at).where(
                Click.shop_id == shop_id, Click.influencer_id == influencer_id,
                Click.counted.is_(True), Click.bot.is_(False),
                Click.clicked_at >= start, Click.clicked_at < end)):
            sums.add_click(influencer_id, clicked_at)
    rows = sums.finish()
    session.execute(delete(Rollup).where(
        Rollup.shop_id == shop_id, Rollup.kind.in_(("cost", "post")),
        _where_influencer(Rollup.influencer_id, influencer_id), Rollup.day == day))
    details = [_row(shop_id, key, values) for key, values in rows.items() if key[0] != "day"]
    if details:
        session.execute(insert(Rollup), details)
    if influencer_id is not None:
        clicks = rows.get(("day", influencer_id, day, None, None, None), _zeros())["clicks"]
        _upsert_day(session, shop_id, (influencer_id, day), {"clicks": clicks})


# --- rebuilding a shop ----------------------------------------------------------------


def _customer_chunks(session: Session, shop_id: int) -> Iterable[list[int]]:
    """Order ids in chunks that never split one customer's history."""
    rows = session.execute(select(Order.id, Order.shopify_customer_id).where(
        Order.shop_id == shop_id).order_by(Order.shopify_customer_id, Order.id)).all()
    chunk: list[int] = []
    previous: Any = object()
    for order_id, customer in rows:
        if len(chunk) >= HISTORY_CHUNK and (customer is None or customer != previous):
            yield chunk
            chunk = []
        chunk.append(order_id)
        previous = customer
    if chunk:
        yield chunk


def reattribute_orders(session: Session, ctx: ShopContext) -> int:
    shop_lookup = ShopLookup.load(session, ctx.shop_id)
    count = 0
    for ids in _customer_chunks(session, ctx.shop_id):
        orders = list(session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id)))
        facts = [order_facts(o) for o in orders]
        results = attribute_customer_history(
            facts, shop_lookup.for_orders(session, ctx.shop_id, facts), ctx.settings)
        _apply(session, ctx, orders, results)
        session.flush()
        count += len(orders)
    return count


def rebuild_rollups(session: Session, ctx: ShopContext) -> int:
    """Every rollup row of the shop, recomputed from attributions, clicks, costs and posts."""
    shop_id = ctx.shop_id
    sums = RollupSums(ctx)
    sales = (select(Attribution.influencer_id, Attribution.kind, Attribution.net, Order.placed_at,
                    Order.shopify_customer_id, Attribution.acquired_at)
             .join(Order, Order.id == Attribution.order_id)
             .where(Attribution.shop_id == shop_id, Attribution.influencer_id.is_not(None),
                    Attribution.kind.in_(("first", "repeat"))))
    for influencer_id, kind, net, placed_at, customer, acquired_at in session.execute(
            sales.execution_options(yield_per=INSERT_CHUNK)):
        sums.add_sale(influencer_id, kind, net, placed_at, customer, acquired_at)
    clicks = select(Click.influencer_id, Click.clicked_at).where(
        Click.shop_id == shop_id, Click.counted.is_(True), Click.bot.is_(False))
    for influencer_id, clicked_at in session.execute(clicks.execution_options(yield_per=20000)):
        sums.add_click(influencer_id, clicked_at)
    for influencer_id, campaign_id, day, amount in session.execute(select(
            Cost.influencer_id, Cost.campaign_id, Cost.incurred_on, Cost.amount).where(
            Cost.shop_id == shop_id)):
        sums.add_cost(influencer_id, campaign_id, day, amount)
    for post in session.scalars(select(Post).where(Post.shop_id == shop_id)):
        sums.add_post(post)
    rows = [_row(shop_id, key, values) for key, values in sums.finish().items()
            if any(values.values())]
    session.execute(delete(Rollup).where(Rollup.shop_id == shop_id))
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(Rollup), rows[start:start + INSERT_CHUNK])
    return len(rows)


def reattribute_shop(session: Session, shop_id: int) -> None:
    """Rebuild every attribution and rollup of the shop from stored orders."""
    session.flush()
    ctx = shop_context(session, shop_id)
    _lock_shop(session, shop_id, exclusive=True)
    orders = reattribute_orders(session, ctx)
    rows = rebuild_rollups(session, ctx)
    session.flush()
    log.info("event=shop_reattributed shop_id=%s orders=%s rollup_rows=%s", shop_id, orders, rows)


def reattribute_job(shop_id: int) -> None:
    """Job: re-attribute a shop after a settings or code change, then refresh its CLV."""
    from rq import get_current_job

    from worker.lifetime_value import refresh_clv
    from worker.runtime import current

    job = get_current_job()
    with current().db.session() as session:
        if session.get(Shop, shop_id) is None:
            log.info("event=reattribute_skipped shop_id=%s reason=no_shop", shop_id)
            return
        reattribute_shop(session, shop_id)
        refresh_clv(session, shop_id)
    log.info("event=reattribute_done shop_id=%s job_id=%s", shop_id, job.id if job else "inline")
