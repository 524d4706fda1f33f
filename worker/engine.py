"""Attribution applied to stored orders, and the rollups every report reads.

`roi.attribution` decides; this module feeds it stored facts and keeps two
things in step, inside the caller's transaction:

* one `Attribution` row per order (attributed or not: the evidence says why),
  derived from the customer's whole order history, so the result does not
  depend on the order in which deliveries arrive;
* the creator's commission ledger (`worker.ledger`), settled for the same orders;
* `Rollup` rows per (creator, shop-local day) *cell*. A cell is refreshed by
  recomputing it from the stored rows, never by adding deltas, so a cell
  refreshed incrementally equals the same cell rebuilt from scratch.

Where figures land: first orders, revenue and new customers on the day of the
order; repeat orders and repeat revenue on the day of the repeat order;
`repeat_customers` and `cohort_repeat_revenue` (the same repeat revenue again)
on the day the customer was acquired: cohort figures, so a range's repeat rate
and CLV to date follow the customers the range acquired; clicks on the click's day;
costs on `incurred_on`; post metrics on the post's day; commission ledger lines (but
`reversed` ones) as the creator-day row's `cost`, on the line's `earned_on` (the order's day).

On PostgreSQL, transaction-level advisory locks keep concurrent workers
apart: per customer history (so two orders of one customer are judged one
after the other) and per cell (so two refreshes of one cell never race);
`reattribute_shop` takes the shop's lock exclusively.

`orders_changed` leaves the cells whose sales changed in the caller's
`worker.batch.Batch`; `refresh_cells` refreshes them all at once, locks in one
sorted sweep, and whoever commits the batch calls it just before committing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import Attribution, Click, CommissionLine, Cost, Order, Post, Rollup, RollupMonth
from models.db import dialect_insert
from roi.attribution import AttributionResult, OrderFacts, attribute_customer_history
from roi.money import landing_params, survey_answers
from worker import ledger
from worker.batch import Batch, Cell, ShopContext, ShopLookup, shop_context

log = logging.getLogger("creator_roi.engine")

ZERO = Decimal("0.00")
SALES_COLUMNS = (
    "orders",
    "new_customers",
    "revenue",
    "repeat_orders",
    "repeat_revenue",
    "repeat_customers",
    "cohort_repeat_revenue",
)
POST_COLUMNS = ("posts", "impressions", "reach", "followers", "likes", "comments", "shares", "saves")
MONEY_COLUMNS = ("revenue", "repeat_revenue", "cohort_repeat_revenue", "cost")
ALL_COLUMNS = (*SALES_COLUMNS, "clicks", "cost", *POST_COLUMNS)
HISTORY_CHUNK = 2000
INSERT_CHUNK = 5000

# (kind, influencer_id, day, campaign_id, platform, content_type): one Rollup row.
RowKey = tuple[str, int | None, date, int | None, str | None, str | None]


# --- locks (PostgreSQL; SQLite has one writer) ---------------------------------------


def lock_key(*parts: Any) -> int:
    """The advisory-lock key of what `parts` name, e.g. ("order", shop_id, shopify_id)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Cell locks are taken last in a transaction, all at once and sorted: whoever holds them
# is about to commit, so the wait is short and worth more than giving up and starting over.
CELL_LOCK_TIMEOUT = "5s"


def lock(session: Session, keys: Iterable[int], shared: Iterable[int] = (), *, patient: bool = False) -> None:
    """Advisory locks, shared ones first, each kind in ascending order, in one round trip:
    every locker takes them in the same order, so lockers never deadlock one another.
    `patient` waits up to CELL_LOCK_TIMEOUT rather than the transaction's lock_timeout."""
    ordered, ordered_shared = sorted(set(keys)), sorted(set(shared))
    if not (ordered or ordered_shared) or not _is_postgresql(session):
        return
    previous = (
        session.execute(
            text("SELECT current_setting('lock_timeout'), set_config('lock_timeout', :wait, true)"),
            {"wait": CELL_LOCK_TIMEOUT},
        ).scalar()
        if patient
        else None
    )
    session.execute(
        text(
            "SELECT (SELECT count(pg_advisory_xact_lock_shared(k)) FROM unnest(CAST(:shared AS bigint[])) AS s(k)),"
            " (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS t(k))"
        ),
        {"keys": ordered, "shared": ordered_shared},
    )
    if previous is not None:
        session.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": previous})


def _shop_key(shop_id: int) -> int:
    """Held shared by incremental work, exclusively by a rebuild of the shop."""
    return lock_key("shop", shop_id)


def _cell_key(shop_id: int, cell: Cell) -> int:
    """One lock per creator-month: its day cells and the month row summing them move together."""
    return lock_key("cell", shop_id, cell[0], month_of(cell[1]).toordinal())


# --- from stored orders to attribution facts ------------------------------------------


def _stored_codes(values: Iterable[Any]) -> tuple[str, ...]:
    codes: list[str] = []
    for entry in values or ():
        code = entry.get("code") if isinstance(entry, Mapping) else entry
        if isinstance(code, str) and code.strip():
            codes.append(code.strip())
    return tuple(codes)


def order_facts(order: Order) -> OrderFacts:
    return OrderFacts(
        order_id=order.id,
        placed_at=order.placed_at,
        customer_key=None if order.shopify_customer_id is None else str(order.shopify_customer_id),
        codes=_stored_codes(order.codes),
        landing=landing_params(order.landing_site),
        survey=survey_answers({"note_attributes": order.note_attributes or []}),
        eligible=order.is_countable,
        net=order.net_sales or ZERO,
        sequence=order.shopify_id,
    )


def _flag_note(order: Order) -> dict[str, Any] | None:
    if not order.flagged:
        return None
    return {
        "rule": "money",
        "matched": False,
        "decisive": False,
        "reason": f"order flagged, not counted: {order.flagged}",
    }


# --- attributions -------------------------------------------------------------------


def _sales_cells(
    ctx: ShopContext, influencer_id: int | None, kind: str | None, placed_at: datetime, acquired_at: datetime | None
) -> set[Cell]:
    if influencer_id is None or kind not in ("first", "repeat"):
        return set()
    cells: set[Cell] = {(influencer_id, ctx.day(placed_at))}
    if kind == "repeat" and acquired_at is not None:
        cells.add((influencer_id, ctx.day(acquired_at)))
    return cells


def _apply(
    session: Session,
    ctx: ShopContext,
    orders: Sequence[Order],
    results: Sequence[AttributionResult],
    existing: Mapping[int, Attribution],
) -> set[Cell]:
    """Store each verdict; the cells whose sales changed."""
    by_id = {o.id: o for o in orders}
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
            session.add(
                Attribution(
                    shop_id=ctx.shop_id,
                    order_id=order.id,
                    placed_at=order.placed_at,
                    influencer_id=result.influencer_id,
                    kind=result.kind,
                    rule=result.rule,
                    evidence=evidence,
                    net=net,
                    acquired_at=result.acquired_at,
                )
            )
        else:
            old_state = (row.influencer_id, row.kind, row.rule, row.net, row.acquired_at, row.evidence)
            if old_state == new_state:
                continue
            dirty |= _sales_cells(ctx, row.influencer_id, row.kind, order.placed_at, row.acquired_at)
            row.influencer_id, row.kind, row.rule = result.influencer_id, result.kind, result.rule
            row.evidence, row.net, row.acquired_at = evidence, net, result.acquired_at
            row.placed_at = order.placed_at
        dirty |= _sales_cells(ctx, result.influencer_id, result.kind, order.placed_at, result.acquired_at)
    return dirty


def _with_attributions(query: Any) -> Any:
    return query.add_columns(Attribution).outerjoin(Attribution, Attribution.order_id == Order.id).order_by(Order.id)


def _histories(session: Session, shop_id: int, order_ids: Sequence[int]) -> tuple[list[Order], dict[int, Attribution]]:
    """The given orders and every other order of their customers, locked, with their stored
    attributions. Customers' histories are serialised by an advisory lock taken before the
    read, so an order another worker is adding is either seen or waited for."""
    given = list(session.scalars(select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids))))
    customers = sorted({o.shopify_customer_id for o in given if o.shopify_customer_id is not None})
    guests = [o.id for o in given if o.shopify_customer_id is None]
    lock(session, (lock_key("customer", shop_id, c) for c in customers), shared=[_shop_key(shop_id)])
    if not given:
        return [], {}
    whose = ([Order.id.in_(guests)] if guests else []) + (
        [Order.shopify_customer_id.in_(customers)] if customers else []
    )
    rows = session.execute(
        _with_attributions(select(Order))
        .where(Order.shop_id == shop_id, or_(*whose))
        .with_for_update(of=Order.__table__)
    ).all()
    return [order for order, _ in rows], {a.order_id: a for _, a in rows if a is not None}


def orders_changed(session: Session, batch: Batch, shop_id: int, order_ids: list[int]) -> None:
    """Re-attribute the given orders (and their customers' histories) in the caller's
    transaction; the cells whose sales changed wait in the batch for `refresh_cells`."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    session.flush()
    ctx = batch.context(session, shop_id)
    orders, existing = _histories(session, shop_id, ids)
    if not orders:
        return
    facts = [order_facts(o) for o in orders]
    results = attribute_customer_history(
        facts, batch.lookup(session, shop_id).for_orders(session, shop_id, facts), ctx.settings
    )
    dirty = _apply(session, ctx, orders, results, existing)
    session.flush()
    batch.cells[shop_id] |= dirty
    batch.pay_orders[shop_id].update(o.id for o in orders)
    log.info(
        "event=orders_attributed shop_id=%s orders=%s history=%s cells=%s", shop_id, len(ids), len(orders), len(dirty)
    )


def refresh_cells(session: Session, batch: Batch) -> None:
    """Refresh every cell the batch's attributions changed, shop by shop, each shop's cell
    locks in one sorted sweep: the last step before the batch commits (see worker.batch).
    The orders' pay is settled first: the ledger lines it writes are cost in those cells."""
    ledger.settle_batch(session, batch)
    pending, batch.cells = batch.cells, defaultdict(set)
    for shop_id, cells in sorted(pending.items()):
        refresh_sales(session, batch.context(session, shop_id), cells)


# --- rollup arithmetic shared by incremental refreshes and rebuilds ---------------------


def _zeros() -> dict[str, Any]:
    return {name: (ZERO if name in MONEY_COLUMNS else 0) for name in ALL_COLUMNS}


class RollupSums:
    """Rollup rows being computed, keyed by `RowKey`; repeat customers counted distinctly."""

    def __init__(self, ctx: ShopContext) -> None:
        self.ctx = ctx
        self.rows: dict[RowKey, dict[str, Any]] = defaultdict(_zeros)
        self._repeaters: dict[Cell, set[tuple[int | None, datetime | None]]] = defaultdict(set)

    def add_sale(
        self,
        influencer_id: int | None,
        kind: str | None,
        net: Decimal,
        placed_at: datetime,
        customer: int | None,
        acquired_at: datetime | None,
    ) -> None:
        row = self.rows[("day", influencer_id, self.ctx.day(placed_at), None, None, None)]
        if kind == "first":
            row["orders"] += 1
            row["new_customers"] += 1
            row["revenue"] += net
        elif kind == "repeat":
            row["repeat_orders"] += 1
            row["repeat_revenue"] += net
            # The acquisition (customer, time) is counted once, on the day it happened; its
            # repeat revenue is booked there too, for the cohort's CLV.
            acquired_day = self.ctx.day(acquired_at) if acquired_at else self.ctx.day(placed_at)
            self._repeaters[(influencer_id, acquired_day)].add((customer, acquired_at))
            self.rows[("day", influencer_id, acquired_day, None, None, None)]["cohort_repeat_revenue"] += net

    def add_commission(self, influencer_id: int, day: date, amount: Decimal) -> None:
        self.rows[("day", influencer_id, day, None, None, None)]["cost"] += amount

    def add_click(self, influencer_id: int, clicked_at: datetime) -> None:
        self.rows[("day", influencer_id, self.ctx.day(clicked_at), None, None, None)]["clicks"] += 1

    def add_cost(self, influencer_id: int | None, campaign_id: int | None, day: date, amount: Decimal) -> None:
        self.rows[("cost", influencer_id, day, campaign_id, None, None)]["cost"] += amount

    def add_post(self, post: Any) -> None:
        key = ("post", post.influencer_id, self.ctx.day(post.posted_at), None, post.platform, post.content_type)
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
    return {
        "shop_id": shop_id,
        "kind": kind,
        "influencer_id": influencer_id,
        "day": day,
        "campaign_id": campaign_id,
        "platform": platform,
        "content_type": content_type,
        **values,
    }


def _creator_day_upsert(dialect: str, set_: Callable[[Any], dict[str, Any]]) -> Any:
    """INSERT … ON CONFLICT (the creator-day row) DO UPDATE set_(statement)."""
    statement = dialect_insert(dialect, Rollup.__table__)
    return statement.on_conflict_do_update(
        index_elements=["shop_id", "influencer_id", "day"], index_where=text("kind = 'day'"), set_=set_(statement)
    )


@lru_cache(maxsize=None)
def _day_upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """The creator-day row with the given columns set; built once."""
    return _creator_day_upsert(dialect, lambda statement: {name: statement.excluded[name] for name in columns})


_DROP_EMPTY_DAYS = delete(Rollup.__table__).where(
    Rollup.shop_id == bindparam("shop_id"),
    Rollup.kind == "day",
    Rollup.influencer_id == bindparam("influencer_id"),
    Rollup.day.in_(bindparam("days", expanding=True)),
    *(getattr(Rollup, name) == 0 for name in ALL_COLUMNS),
)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after the one `day` is in."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _runs(values: Iterable[date], following: Callable[[date], date]) -> list[tuple[date, date]]:
    """The values as (first, last) runs, a value joining the run it follows."""
    runs: list[list[date]] = []
    for value in sorted(set(values)):
        if runs and following(runs[-1][1]) == value:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return [(first, last) for first, last in runs]


def _month_rows(shop_id: int, day_rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Day rows summed per calendar month and the same dimensions."""
    months: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(_zeros)
    for row in day_rows:
        key = (
            row["kind"],
            row["influencer_id"],
            month_of(row["day"]),
            row["campaign_id"],
            row["platform"],
            row["content_type"],
        )
        sums = months[key]
        for name in ALL_COLUMNS:
            sums[name] += row[name]
    return [
        {
            "shop_id": shop_id,
            "kind": kind,
            "influencer_id": influencer_id,
            "month": month,
            "campaign_id": campaign_id,
            "platform": platform,
            "content_type": content_type,
            **sums,
        }
        for (kind, influencer_id, month, campaign_id, platform, content_type), sums in months.items()
        if any(sums.values())
    ]


def refresh_months(session: Session, shop_id: int, cells: Iterable[Cell]) -> None:
    """Re-sum the month rows of the creator-months these day cells fall in (locks held):
    one read of their day rows, one delete and one insert, however many creators."""
    wanted = {(influencer_id, month_of(day)) for influencer_id, day in cells}
    if not wanted:
        return
    creators = sorted({i for i, _ in wanted if i is not None})
    whose = ([Rollup.influencer_id.in_(creators)] if creators else []) + (
        [Rollup.influencer_id.is_(None)] if any(i is None for i, _ in wanted) else []
    )
    runs = [(first, next_month(last)) for first, last in _runs((m for _, m in wanted), next_month)]
    columns = [
        Rollup.kind,
        Rollup.influencer_id,
        Rollup.day,
        Rollup.campaign_id,
        Rollup.platform,
        Rollup.content_type,
        *(getattr(Rollup, name) for name in ALL_COLUMNS),
    ]
    day_rows = [
        row._mapping
        for row in session.execute(
            select(*columns).where(
                Rollup.shop_id == shop_id,
                or_(*whose),
                or_(*(and_(Rollup.day >= first, Rollup.day < last) for first, last in runs)),
            )
        )
        if (row.influencer_id, month_of(row.day)) in wanted
    ]
    gone = [
        and_(RollupMonth.influencer_id == i, RollupMonth.month.in_(sorted(m for j, m in wanted if j == i)))
        for i in creators
    ]
    if any(i is None for i, _ in wanted):
        gone.append(
            and_(RollupMonth.influencer_id.is_(None), RollupMonth.month.in_(sorted(m for j, m in wanted if j is None)))
        )
    session.execute(delete(RollupMonth).where(RollupMonth.shop_id == shop_id, or_(*gone)))
    rows = _month_rows(shop_id, day_rows)
    for at in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(RollupMonth), rows[at : at + INSERT_CHUNK])


def _upsert_days(session: Session, shop_id: int, values: Mapping[Cell, Mapping[str, Any]]) -> None:
    """Set the given columns of creator-day rows, creating rows as needed; rows left all zero go."""
    if not values:
        return
    columns = tuple(next(iter(values.values())))
    rows = [_row(shop_id, ("day", i, d, None, None, None), {**_zeros(), **v}) for (i, d), v in values.items()]
    session.execute(_day_upsert(session.get_bind().dialect.name, columns), rows)
    emptied: dict[int | None, list[date]] = defaultdict(list)
    for (influencer_id, day), v in values.items():
        if not any(v.values()):
            emptied[influencer_id].append(day)
    for influencer_id, days in emptied.items():
        session.execute(_DROP_EMPTY_DAYS, {"shop_id": shop_id, "influencer_id": influencer_id, "days": days})


def _where_influencer(column: Any, influencer_id: int | None) -> Any:
    return column.is_(None) if influencer_id is None else column == influencer_id


# --- incremental refreshes ------------------------------------------------------------


_SALES_COLUMNS = (
    Attribution.id,
    Attribution.influencer_id,
    Attribution.kind,
    Attribution.net,
    Attribution.placed_at,
    Order.shopify_customer_id,
    Attribution.acquired_at,
)


def _day_runs(ctx: ShopContext, days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """The shop-local days as [start, end) instants, runs of consecutive days merged."""
    return [
        (ctx.bounds(first)[0], ctx.bounds(last)[1]) for first, last in _runs(days, lambda day: day + timedelta(days=1))
    ]


def _within(column: Any, runs: Sequence[tuple[datetime, datetime]]) -> Any:
    return or_(*(and_(column >= start, column < end) for start, end in runs))


def refresh_sales(session: Session, ctx: ShopContext, cells: Iterable[Cell]) -> None:
    """Recompute the sales columns of each creator-day cell from its attributions.

    A cell's sales are the orders placed on its day and the repeat orders of customers
    acquired on its day; two queries read just those (orders by the day's instants,
    repeats by their acquisition time), whatever the size of the creators' histories.
    """
    cells = {c for c in cells if c[0] is not None}
    if not cells:
        return
    lock(session, (_cell_key(ctx.shop_id, c) for c in cells), patient=True)
    creators = sorted({i for i, _ in cells if i is not None})
    runs = _day_runs(ctx, (d for _, d in cells))
    mine = [Attribution.shop_id == ctx.shop_id, Attribution.influencer_id.in_(creators)]
    placed = (
        select(*_SALES_COLUMNS)
        .join(Order, Order.id == Attribution.order_id)
        .where(*mine, Attribution.kind.in_(("first", "repeat")), _within(Attribution.placed_at, runs))
    )
    acquired = (
        select(*_SALES_COLUMNS)
        .join(Order, Order.id == Attribution.order_id)
        .where(*mine, Attribution.kind == "repeat", _within(Attribution.acquired_at, runs))
    )
    sums = RollupSums(ctx)
    seen: set[int] = set()
    for query in (placed, acquired):
        for attribution_id, influencer_id, kind, net, placed_at, customer, acquired_at in session.execute(query):
            if attribution_id not in seen:
                seen.add(attribution_id)
                sums.add_sale(influencer_id, kind, net, placed_at, customer, acquired_at)
    days = sorted({d for _, d in cells})
    for influencer_id, day, amount in session.execute(
        _COMMISSION_BY_CELL.where(
            CommissionLine.shop_id == ctx.shop_id,
            CommissionLine.influencer_id.in_(creators),
            CommissionLine.earned_on >= days[0],
            CommissionLine.earned_on <= days[-1],
        )
    ):
        if (influencer_id, day) in cells:
            sums.add_commission(influencer_id, day, amount)
    computed = sums.finish()
    _upsert_days(
        session,
        ctx.shop_id,
        {(i, d): {name: computed[("day", i, d, None, None, None)][name] for name in _CELL_COLUMNS} for i, d in cells},
    )
    refresh_months(session, ctx.shop_id, cells)


# A creator-day's commission: its ledger lines but those reversed (a cancelled order's).
_COMMISSION_BY_CELL = (
    select(CommissionLine.influencer_id, CommissionLine.earned_on, func.sum(CommissionLine.amount))
    .where(CommissionLine.state != "reversed")
    .group_by(CommissionLine.influencer_id, CommissionLine.earned_on)
)
_CELL_COLUMNS = (*SALES_COLUMNS, "cost")


@lru_cache(maxsize=None)
def _click_upsert(dialect: str) -> Any:
    """The creator-day row with one click, or one more click; built once."""
    return _creator_day_upsert(dialect, lambda _: {"clicks": Rollup.__table__.c.clicks + 1})


_CLICK_ON_MONTH = (
    update(RollupMonth.__table__)
    .where(
        RollupMonth.shop_id == bindparam("b_shop"),
        RollupMonth.kind == "day",
        RollupMonth.influencer_id == bindparam("b_influencer"),
        RollupMonth.month == bindparam("b_month"),
    )
    .values(clicks=RollupMonth.__table__.c.clicks + 1)
)


def click_counted(session: Session, shop_id: int, influencer_id: int, day: date) -> None:
    """One more counted click of the creator on that shop-local day: +1 on the day row and
    its month row, under the cell's lock, so it equals a recount (which would read every
    click of the day, on each click of a busy day)."""
    session.flush()
    lock(session, [_cell_key(shop_id, (influencer_id, day))], shared=[_shop_key(shop_id)])
    session.execute(
        _click_upsert(session.get_bind().dialect.name),
        _row(shop_id, ("day", influencer_id, day, None, None, None), {**_zeros(), "clicks": 1}),
    )
    moved = cast(
        "CursorResult[Any]",
        session.execute(_CLICK_ON_MONTH, {"b_shop": shop_id, "b_influencer": influencer_id, "b_month": month_of(day)}),
    ).rowcount
    if not moved:  # the creator's first figures of the month: sum its day rows
        refresh_months(session, shop_id, {(influencer_id, day)})


def activity_changed(session: Session, shop_id: int, influencer_id: int | None, day: date) -> None:
    """Clicks, costs or posts of (influencer, shop-local day) changed: refresh that rollup cell."""
    refresh_activity(session, shop_id, {(influencer_id, day)})


def refresh_activity(session: Session, shop_id: int, cells: Iterable[Cell]) -> None:
    """Recompute clicks, costs and posts of many cells at once (an import, the demo seed)."""
    cells = set(cells)
    if not cells:
        return
    session.flush()
    ctx = shop_context(session, shop_id)
    lock(session, (_cell_key(shop_id, c) for c in cells), shared=[_shop_key(shop_id)])
    days: dict[int | None, set[date]] = defaultdict(set)
    for influencer_id, day in cells:
        days[influencer_id].add(day)
    creators = sorted(i for i in days if i is not None)
    first, last = min(d for _, d in cells), max(d for _, d in cells)
    start, end = ctx.bounds(first)[0], ctx.bounds(last)[1]
    sums = RollupSums(ctx)
    whose = [Cost.influencer_id.in_(creators)] + ([Cost.influencer_id.is_(None)] if None in days else [])
    for influencer_id, campaign_id, day, amount in session.execute(
        select(Cost.influencer_id, Cost.campaign_id, Cost.incurred_on, Cost.amount).where(
            Cost.shop_id == shop_id, or_(*whose), Cost.incurred_on >= first, Cost.incurred_on <= last
        )
    ):
        if (influencer_id, day) in cells:
            sums.add_cost(influencer_id, campaign_id, day, amount)
    if creators:
        for post in session.scalars(
            select(Post).where(
                Post.shop_id == shop_id, Post.influencer_id.in_(creators), Post.posted_at >= start, Post.posted_at < end
            )
        ):
            if (post.influencer_id, ctx.day(post.posted_at)) in cells:
                sums.add_post(post)
        for influencer_id, clicked_at in session.execute(
            select(Click.influencer_id, Click.clicked_at).where(
                Click.shop_id == shop_id,
                Click.influencer_id.in_(creators),
                Click.counted.is_(True),
                Click.bot.is_(False),
                Click.clicked_at >= start,
                Click.clicked_at < end,
            )
        ):
            if (influencer_id, ctx.day(clicked_at)) in cells:
                sums.add_click(influencer_id, clicked_at)
    rows = sums.finish()
    for influencer_id, changed in days.items():
        session.execute(
            delete(Rollup).where(
                Rollup.shop_id == shop_id,
                Rollup.kind.in_(("cost", "post")),
                _where_influencer(Rollup.influencer_id, influencer_id),
                Rollup.day.in_(sorted(changed)),
            )
        )
    details = [_row(shop_id, key, values) for key, values in rows.items() if key[0] != "day"]
    for at in range(0, len(details), INSERT_CHUNK):
        session.execute(insert(Rollup), details[at : at + INSERT_CHUNK])
    _upsert_days(
        session,
        shop_id,
        {
            (i, d): {
                "clicks": rows[("day", i, d, None, None, None)]["clicks"]
                if ("day", i, d, None, None, None) in rows
                else 0
            }
            for i, d in cells
            if i is not None
        },
    )
    refresh_months(session, shop_id, cells)


# --- rebuilding a shop ----------------------------------------------------------------


def _customer_chunks(session: Session, shop_id: int) -> Iterable[list[int]]:
    """Order ids in chunks that never split one customer's history."""
    rows = session.execute(
        select(Order.id, Order.shopify_customer_id)
        .where(Order.shop_id == shop_id)
        .order_by(Order.shopify_customer_id, Order.id)
    ).all()
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
        rows = session.execute(_with_attributions(select(Order)).where(Order.id.in_(ids))).all()
        orders = [order for order, _ in rows]
        facts = [order_facts(o) for o in orders]
        results = attribute_customer_history(facts, shop_lookup.for_orders(session, ctx.shop_id, facts), ctx.settings)
        _apply(session, ctx, orders, results, {a.order_id: a for _, a in rows if a is not None})
        session.flush()
        count += len(orders)
    return count


def rebuild_rollups(session: Session, ctx: ShopContext) -> int:
    """Every rollup row of the shop, recomputed from attributions, clicks, costs and posts."""
    shop_id = ctx.shop_id
    sums = RollupSums(ctx)
    sales = (
        select(
            Attribution.influencer_id,
            Attribution.kind,
            Attribution.net,
            Order.placed_at,
            Order.shopify_customer_id,
            Attribution.acquired_at,
        )
        .join(Order, Order.id == Attribution.order_id)
        .where(
            Attribution.shop_id == shop_id,
            Attribution.influencer_id.is_not(None),
            Attribution.kind.in_(("first", "repeat")),
        )
    )
    for influencer_id, kind, net, placed_at, customer, acquired_at in session.execute(
        sales.execution_options(yield_per=INSERT_CHUNK)
    ):
        sums.add_sale(influencer_id, kind, net, placed_at, customer, acquired_at)
    clicks = select(Click.influencer_id, Click.clicked_at).where(
        Click.shop_id == shop_id, Click.counted.is_(True), Click.bot.is_(False)
    )
    for influencer_id, clicked_at in session.execute(clicks.execution_options(yield_per=20000)):
        sums.add_click(influencer_id, clicked_at)
    for influencer_id, campaign_id, day, amount in session.execute(
        select(Cost.influencer_id, Cost.campaign_id, Cost.incurred_on, Cost.amount).where(Cost.shop_id == shop_id)
    ):
        sums.add_cost(influencer_id, campaign_id, day, amount)
    for post in session.scalars(select(Post).where(Post.shop_id == shop_id)):
        sums.add_post(post)
    for influencer_id, day, amount in session.execute(_COMMISSION_BY_CELL.where(CommissionLine.shop_id == shop_id)):
        sums.add_commission(influencer_id, day, amount)
    rows = [_row(shop_id, key, values) for key, values in sums.finish().items() if any(values.values())]
    months = _month_rows(shop_id, rows)
    for model, fresh in ((Rollup, rows), (RollupMonth, months)):
        session.execute(delete(model).where(model.shop_id == shop_id))
        for start in range(0, len(fresh), INSERT_CHUNK):
            session.execute(insert(model), fresh[start : start + INSERT_CHUNK])
    return len(rows)


def reattribute_shop(session: Session, shop_id: int) -> None:
    """Rebuild every attribution and rollup of the shop from stored orders, with its
    settings, codes and handles as they are now."""
    session.flush()
    ctx = shop_context(session, shop_id)
    lock(session, [_shop_key(shop_id)])
    orders = reattribute_orders(session, ctx)
    ledger.settle_all_orders(session, shop_id)
    rows = rebuild_rollups(session, ctx)
    session.flush()
    log.info("event=shop_reattributed shop_id=%s orders=%s rollup_rows=%s", shop_id, orders, rows)
