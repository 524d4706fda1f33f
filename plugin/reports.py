"""Every figure the API and the dashboard show, read from rollups (never from raw orders).

Grouping. Sales and clicks belong to a creator, so by platform and by campaign
they follow the creator's platform and campaign as they are now; post metrics
follow the post's own platform; a cost entry that names a campaign counts for
that campaign. Commission is a cost of the creator. A creator paid under a pay
plan (their own, or the shop's default) costs what the commission ledger says
(`worker.ledger`): its lines, but cancelled ones, sit in the creator-day rollups'
`cost` on the order's day, pending and approved alike (`pending_commission` says
how much is still pending). A creator without any plan keeps the estimate
`Influencer.commission_rate` × attributed net sales, first and repeat orders
(`roi.commission`); refunds shrink either with the sales.

Content type. Orders carry no content type, so by content type a creator's
sales, clicks and costs are allocated to the content types of their posts in
the period in proportion to those posts' engagements (likes, comments, shares,
saves; by number of posts where none has engagements). Allocation is done per
creator to the cent and to the whole order (largest remainder: `roi.allocation`),
so the rows add up exactly to the totals. A creator without a post in the
period, and shop-wide costs, stay in an "unallocated" row (key null). Post
metrics are the posts' own. Predicted CLV is not allocated (null by content type).

Windows. Every figure of a range is read from rollup rows dated in it (`worker.engine` says
where each lands). First orders, revenue and new customers are the range's acquisitions;
repeat orders and repeat revenue are repeats placed in the range by customers acquired at
any time (so a day can show repeat revenue and no new customer); ROI with repeats and
commission use those. The repeat rate and CLV to date are cohort figures: the customers
acquired in the range, followed up to today (within the repeat window), since their
`repeat_customers` and `cohort_repeat_revenue` are booked on the acquisition day. So a
range's CLV to date is (revenue + cohort repeat revenue) ÷ new customers, and over all time
it equals the creator page's. The pages say which window each figure uses
(`plugin.display.WINDOWS`).

Predicted CLV is the stored per-creator figure (see `worker.lifetime_value`):
it describes the creator's customers to date, not the date range; groups show
the customer-weighted mean of their creators (`roi.group_clv`). A report only
reads it, with when it was fitted (`clv_fitted_at`); refits are jobs (`worker.jobs`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, and_, cast, exists, false, func, or_, select, union_all
from sqlalchemy.orm import Session, object_session

from models import Attribution, Campaign, CommissionLine, CreatorClv, Influencer, Order, Rollup, RollupMonth, Shop
from plugin.display import attribution_summary
from roi.allocation import by_content_type, emv_by_part
from roi.commission import cost_with_commission
from roi.emv import EmvRates
from roi.group_clv import customer_weighted_clv
from roi.metrics import Totals, add_up, compute_metrics
from roi.money import to_cents
from worker import ledger
from worker.engine import POST_COLUMNS, SALES_COLUMNS, month_of, next_month

GROUPS = ("influencer", "platform", "content_type", "campaign")
ZERO = Decimal("0.00")
SUMMED = (*SALES_COLUMNS, "clicks", "cost", *POST_COLUMNS)
UNGROUPED_LABELS = {
    "influencer": "Shop-wide (no creator)",
    "platform": "No platform",
    "campaign": "No campaign",
    "content_type": "Unallocated (no post in period)",
}


@dataclass(frozen=True)
class Creator:
    id: int
    name: str
    platform: str
    campaign_id: int | None
    commission_rate: Decimal | None


@dataclass(frozen=True)
class Piece:
    """Summed rollup rows of one creator (or none) that share the dimensions asked for."""

    influencer_id: int | None
    platform: str | None
    campaign_id: int | None
    content_type: str | None
    posts: int
    totals: Totals


# --- reading rollups -----------------------------------------------------------------


def _creators(session: Session, shop_id: int) -> dict[int, Creator]:
    """The shop's creators; the commission rate only of those it still estimates for (no plan)."""
    on_plans = ledger.creators_on_plans(session, shop_id)
    return {
        id_: Creator(id_, name, platform, campaign_id, None if on_plans is None or id_ in on_plans else rate)
        for id_, name, platform, campaign_id, rate in session.execute(
            select(
                Influencer.id, Influencer.name, Influencer.platform, Influencer.campaign_id, Influencer.commission_rate
            ).where(Influencer.shop_id == shop_id)
        )
    }


_MONEY_FIELDS = ("cost", "revenue", "repeat_revenue", "cohort_repeat_revenue")


def _totals(sums: dict[str, Any], creator: Creator | None) -> Totals:
    """A row's sums by column name (SUMMED but posts: every other field of Totals) as Totals;
    the creator's commission added to its cost, engagements derived. Fills in `sums`."""
    sums["cost"] = cost_with_commission(
        sums["cost"], creator.commission_rate if creator else None, sums["revenue"], sums["repeat_revenue"]
    )
    sums["engagements"] = sums["likes"] + sums["comments"] + sums["shares"] + sums["saves"]
    return Totals.of(sums)


def _spans(date_from: date, date_to: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole months inside [from, to] (first days of the first and last), and the days
    left at either end."""
    first = month_of(date_from) if date_from.day == 1 else next_month(date_from)
    after = next_month(date_to)
    last_end = after if after - timedelta(days=1) == date_to else month_of(date_to)
    if first >= last_end:
        return None, [(date_from, date_to)]
    ends = [(date_from, first - timedelta(days=1)), (last_end, date_to)]
    return (first, month_of(last_end - timedelta(days=1))), [(a, b) for a, b in ends if a <= b]


def _month_parts(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Day spans cut at month ends."""
    parts = []
    for a, b in spans:
        while a <= b:
            end = min(b, next_month(a) - timedelta(days=1))
            parts.append((a, end))
            a = end + timedelta(days=1)
    return parts


def _read_whole(
    session: Session, shop_id: int, days: list[tuple[date, date]]
) -> tuple[list[date], list[tuple[date, date]]]:
    """Of the partial months at the range's ends, those whose other days hold no figure at all
    (the range starts at the shop's first figures, or ends after its last): their month row
    is exactly the days asked for, so it is read instead of the days. (first days of those
    months, day spans still read day by day)"""
    months, spans = [], []
    for a, b in _month_parts(days):
        first, last = month_of(a), next_month(a) - timedelta(days=1)
        outside = [(x, y) for x, y in ((first, a - timedelta(days=1)), (b + timedelta(days=1), last)) if x <= y]
        if not outside or not session.scalar(
            select(exists().where(Rollup.shop_id == shop_id, or_(*(Rollup.day.between(x, y) for x, y in outside))))
        ):
            months.append(first)
        else:
            spans.append((a, b))
    return months, spans


def _pieces(
    session: Session,
    shop_id: int,
    creators: dict[int, Creator],
    date_from: date,
    date_to: date,
    dimensions: Iterable[str],
) -> list[Piece]:
    """Rollups of the range summed per creator and the given dimensions (`platform`,
    `campaign_id`, `content_type`): whole months from `rollup_months`, the days at the
    ends from `rollups` (unless their month holds nothing else); one query, a row per
    creator and dimension value."""
    dimensions = list(dimensions)
    months, days = _spans(date_from, date_to)
    edge_months, days = _read_whole(session, shop_id, days)
    month_spans = ([months] if months else []) + [(m, m) for m in edge_months]
    parts = []
    for model, column, spans in ((RollupMonth, RollupMonth.month, month_spans), (Rollup, Rollup.day, days)):
        if spans:
            parts.append(
                select(model.influencer_id, *(getattr(model, name) for name in (*dimensions, *SUMMED))).where(
                    model.shop_id == shop_id, or_(*(column.between(a, b) for a, b in spans))
                )
            )
    both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    dims = [both.c.influencer_id, *(both.c[name] for name in dimensions)]
    # Counts summed as bigint: PostgreSQL would sum bigint columns as numeric.
    query = select(
        *dims,
        *(
            func.sum(both.c[name]) if name in _MONEY_FIELDS else cast(func.sum(both.c[name]), BigInteger)
            for name in SUMMED
        ),
    ).group_by(*dims)
    pieces = []
    width = len(dims)
    for row in session.execute(query):
        influencer_id, extra = row[0], dict(zip(dimensions, row[1:width]))
        creator = creators.get(influencer_id) if influencer_id is not None else None
        platform, campaign_id = extra.get("platform"), extra.get("campaign_id")
        sums = dict(zip(SUMMED, row[width:]))
        posts = sums.pop("posts")
        pieces.append(
            Piece(
                influencer_id=influencer_id,
                platform=platform or (creator.platform if creator else None),
                campaign_id=campaign_id if campaign_id is not None else (creator.campaign_id if creator else None),
                content_type=extra.get("content_type"),
                posts=posts,
                # Sales (and so commission) only ever sit on the creator's own rows.
                totals=_totals(sums, creator),
            )
        )
    return pieces


def _wanted(piece: Piece, campaign_id: int | None, platform: str | None) -> bool:
    return (campaign_id is None or piece.campaign_id == campaign_id) and (
        platform is None or piece.platform == platform
    )


def _dimensions(group_by: str, campaign_id: int | None, platform: str | None) -> list[str]:
    wanted = {"platform": "platform", "campaign": "campaign_id", "content_type": "content_type"}
    found = [wanted[group_by]] if group_by in wanted else []
    if platform is not None and "platform" not in found:
        found.append("platform")
    if campaign_id is not None and "campaign_id" not in found:
        found.append("campaign_id")
    return found


# --- the report ----------------------------------------------------------------------


def _rates(shop: Shop) -> EmvRates:
    s = shop.settings
    return EmvRates(
        cpm=s.emv_cpm, like=s.emv_like, comment=s.emv_comment, share=s.emv_share, save=s.emv_save, click=s.emv_click
    )


class StoredClv(NamedTuple):
    influencer_id: int
    customers: int
    predicted: Decimal | None
    horizon_months: int
    computed_at: datetime


def _clv_rows(session: Session, shop: Shop) -> dict[int, StoredClv]:
    """Stored per-creator CLV (influencer_id, customers, predicted, horizon_months,
    computed_at), as the last fit left it."""
    query = select(
        CreatorClv.influencer_id,
        CreatorClv.customers,
        CreatorClv.predicted,
        CreatorClv.horizon_months,
        CreatorClv.computed_at,
    ).where(CreatorClv.shop_id == shop.id)
    return {row.influencer_id: row for row in (StoredClv(*row) for row in session.execute(query))}


def _fitted_at(clv: dict[int, StoredClv]) -> datetime | None:
    """When the stored CLV was fitted (None: not yet)."""
    return min((row.computed_at for row in clv.values()), default=None)


def _predicted(creator_ids: set[int | None], clv: dict[int, StoredClv]) -> Decimal | None:
    return customer_weighted_clv(clv[i] for i in creator_ids if i is not None and i in clv)


def _labeller(session: Session, shop: Shop, group_by: str, creators: dict[int, Creator]) -> Callable[[Any], str]:
    if group_by == "influencer":
        return lambda key: creators[key].name if key in creators else f"Creator {key}"
    if group_by == "campaign":
        names = dict(session.execute(select(Campaign.id, Campaign.name).where(Campaign.shop_id == shop.id)).all())
        return lambda key: names.get(key, f"Campaign {key}")
    return lambda key: str(key).replace("_", " ").capitalize()


def roi_report(
    session: Session,
    shop: Shop,
    *,
    date_from: date,
    date_to: date,
    group_by: str = "influencer",
    campaign_id: int | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """The /api/v1/roi body before JSON encoding; money as Decimal, ratios float or None."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    creators = _creators(session, shop.id)
    pieces = [
        piece
        for piece in _pieces(
            session, shop.id, creators, date_from, date_to, _dimensions(group_by, campaign_id, platform)
        )
        if _wanted(piece, campaign_id, platform)
    ]
    clv = _clv_rows(session, shop)
    rates = _rates(shop)
    members: dict[Any, set[int | None]] = defaultdict(set)
    if group_by == "content_type":
        groups = by_content_type(pieces)
    else:
        parts: dict[Any, list[Totals]] = defaultdict(list)
        attribute = {"influencer": "influencer_id", "platform": "platform", "campaign": "campaign_id"}[group_by]
        for piece in pieces:
            key = getattr(piece, attribute)
            parts[key].append(piece.totals)
            members[key].add(piece.influencer_id)
        groups = {key: add_up(totals) for key, totals in parts.items()}
    label = _labeller(session, shop, group_by, creators)
    rows = []
    # EMV of each row to the cent, adding up to the total's as the other money columns do.
    earned = dict(zip(groups, emv_by_part(list(groups.values()), rates)))
    for key, totals in groups.items():
        predicted = _predicted(members[key], clv) if group_by != "content_type" else None
        rows.append(
            {
                "key": key,
                "label": label(key) if key is not None else UNGROUPED_LABELS[group_by],
                **compute_metrics(totals, rates, predicted, earned[key]),
            }
        )
    rows.sort(key=lambda r: (-r["revenue"], r["key"] is None, r["label"].lower()))
    everyone = {piece.influencer_id for piece in pieces}
    return {
        "currency": shop.currency,
        "from": date_from,
        "to": date_to,
        "group_by": group_by,
        "totals": compute_metrics(add_up(p.totals for p in pieces), rates, _predicted(everyone, clv)),
        "rows": rows,
        "clv_fitted_at": _fitted_at(clv),
        "commission_pending": pending_commission(session, shop.id, date_from, date_to, everyone),
    }


def pending_commission(
    session: Session, shop_id: int, date_from: date, date_to: date, creators: Iterable[int | None]
) -> Decimal:
    """Of the commission counted in cost over the range, what is not yet approved (pending, or
    held): it may still be refunded away."""
    ids = sorted(i for i in creators if i is not None)
    if not ids:
        return ZERO
    amount = session.scalar(
        select(func.coalesce(func.sum(CommissionLine.amount), 0)).where(
            CommissionLine.shop_id == shop_id,
            CommissionLine.influencer_id.in_(ids),
            CommissionLine.earned_on.between(date_from, date_to),
            CommissionLine.state.in_(("pending", "held")),
        )
    )
    return to_cents(Decimal(amount or 0))


def _creator_filter(model: Any, shop_id: int, campaign_id: int | None, platform: str | None) -> list[Any]:
    """Rollup rows of the given campaign and platform: the row's own, else its creator's
    (a subquery on creators, so the rollups need no join)."""
    conditions = []
    for column, value, own in (
        (Influencer.platform, platform, model.platform),
        (Influencer.campaign_id, campaign_id, model.campaign_id),
    ):
        if value is not None:
            theirs = select(Influencer.id).where(Influencer.shop_id == shop_id, column == value)
            conditions.append(or_(own == value, and_(own.is_(None), model.influencer_id.in_(theirs))))
    return conditions


def _estimated(shop_id: int, on_plans: set[int] | None) -> list[Any]:
    """Conditions on Influencer: a creator whose commission is still rate × sales (no plan)."""
    if on_plans is None:  # the shop's default plan pays every creator
        return [false()]
    return [Influencer.shop_id == shop_id, Influencer.commission_rate != 0, Influencer.id.not_in(sorted(on_plans))]


def _has_commission(session: Session, shop_id: int) -> bool:
    """Whether some creator's commission is still estimated from a rate."""
    where = _estimated(shop_id, ledger.creators_on_plans(session, shop_id))
    return bool(session.scalar(select(exists().where(*where))))


def _money_by(
    session: Session, model: Any, period: Any, where: Sequence[Any], shop_id: int, commission: bool
) -> dict[date, tuple[Decimal, Decimal, Decimal, int]]:
    """Revenue, repeat revenue, cost (with commission) and orders summed per `period` (a day
    or month column of `model`) over the rows matching `where`. Commission, which needs the
    creator's rate, is summed apart over the rows of creators that have one."""
    query = (
        select(
            period,
            func.sum(model.revenue),
            func.sum(model.repeat_revenue),
            func.sum(model.cost),
            func.sum(model.orders),
        )
        .where(*where)
        .group_by(period)
    )
    paid: dict[date, Any] = {}
    if commission:
        paid = dict(
            session.execute(
                select(period, func.sum((model.revenue + model.repeat_revenue) * Influencer.commission_rate))
                .join(Influencer, Influencer.id == model.influencer_id)
                .where(*where, *_estimated(shop_id, ledger.creators_on_plans(session, shop_id)))
                .group_by(period)
            ).all()
        )
    return {
        key: (revenue or ZERO, repeat or ZERO, (cost or ZERO) + Decimal(str(paid.get(key) or 0)), orders or 0)
        for key, revenue, repeat, cost, orders in session.execute(query)
    }


def money_series(
    session: Session,
    shop: Shop,
    *,
    date_from: date,
    date_to: date,
    campaign_id: int | None = None,
    platform: str | None = None,
) -> list[dict[str, Any]]:
    """The overview's revenue and cost chart: revenue, repeat revenue, cost (with commission)
    and orders per day of the partial months at the range's ends and per whole month between
    (dated its last day), read like the ROI report: whole months from `rollup_months`, the days at the
    ends from `rollups`. Each point's figures are exact; whole months are not split into days."""
    months, days = _spans(date_from, date_to)
    commission = _has_commission(session, shop.id)
    sums: dict[date, tuple[Decimal, Decimal, Decimal, int]] = {}
    periods: list[tuple[date, date]] = []  # (key in sums, day the point is drawn at)
    if months:
        first, last = months
        sums.update(
            _money_by(
                session,
                RollupMonth,
                RollupMonth.month,
                (
                    RollupMonth.shop_id == shop.id,
                    RollupMonth.month.between(first, last),
                    *_creator_filter(RollupMonth, shop.id, campaign_id, platform),
                ),
                shop.id,
                commission,
            )
        )
        month = first
        while month <= last:
            periods.append((month, next_month(month) - timedelta(days=1)))
            month = next_month(month)
    if days:
        sums.update(
            _money_by(
                session,
                Rollup,
                Rollup.day,
                (
                    Rollup.shop_id == shop.id,
                    or_(*(Rollup.day.between(a, b) for a, b in days)),
                    *_creator_filter(Rollup, shop.id, campaign_id, platform),
                ),
                shop.id,
                commission,
            )
        )
        for a, b in days:
            periods += [(a + timedelta(days=n), a + timedelta(days=n)) for n in range((b - a).days + 1)]
    periods.sort(key=lambda period: period[1])
    series = []
    for key, day in periods:
        revenue, repeat, cost, orders = sums.get(key, (ZERO, ZERO, ZERO, 0))
        series.append(
            {
                "day": day,
                "revenue": to_cents(revenue),
                "repeat_revenue": to_cents(repeat),
                "cost": to_cents(cost),
                "orders": int(orders),
            }
        )
    return series


# --- one creator ---------------------------------------------------------------------


def acquiring_order_names(
    session: Session, shop_id: int, evidences: Iterable[list[dict[str, Any]]]
) -> dict[int, str | None]:
    ids = {
        p.get("acquiring_order_id")
        for evidence in evidences
        for p in evidence
        if p.get("rule") == "repeat" and isinstance(p.get("acquiring_order_id"), int)
    }
    if not ids:
        return {}
    return dict(
        session.execute(select(Order.id, Order.name).where(Order.shop_id == shop_id, Order.id.in_(sorted(ids)))).all()
    )


def _creator_attributions(shop_id: int, influencer_id: int, kind: str | None) -> Any:
    kinds = (kind,) if kind in ("first", "repeat") else ("first", "repeat")
    return (
        Attribution.shop_id == shop_id,
        Attribution.influencer_id == influencer_id,
        Attribution.kind.in_(kinds),
    )


def creator_order_counts(session: Session, shop: Shop, influencer_id: int) -> dict[str, int]:
    """How many orders are attributed to the creator, all time: {"first": n, "repeat": m}."""
    counted = dict(
        session.execute(
            select(Attribution.kind, func.count())
            .where(*_creator_attributions(shop.id, influencer_id, None))
            .group_by(Attribution.kind)
        ).all()
    )
    return {kind: int(counted.get(kind, 0)) for kind in ("first", "repeat")}


def creator_orders(
    session: Session, shop: Shop, influencer_id: int, limit: int = 100, offset: int = 0, kind: str | None = None
) -> list[dict[str, Any]]:
    """The creator's attributed orders, newest first (a page of them: `limit` from `offset`),
    with the evidence and a one-line summary."""
    rows = session.execute(
        select(Attribution, Order.shopify_id, Order.name, Order.placed_at)
        .join(Order, Order.id == Attribution.order_id)
        .where(*_creator_attributions(shop.id, influencer_id, kind))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    names = acquiring_order_names(session, shop.id, (a.evidence for a, *_ in rows))
    return [
        {
            "order_id": a.order_id,
            "shopify_id": shopify_id,
            "name": name,
            "placed_at": placed_at,
            "net": a.net,
            "kind": a.kind,
            "rule": a.rule,
            "evidence": list(a.evidence),
            "summary": attribution_summary(a.rule, list(a.evidence), names),
        }
        for a, shopify_id, name, placed_at in rows
    ]


# --- one order -----------------------------------------------------------------------


def order_attribution(
    order: Order, attribution: Attribution | None, creator: Influencer | None, names: dict[int, str | None]
) -> dict[str, Any]:
    """Which creator the order belongs to, by which rule, with every piece of evidence: what
    `GET /api/v1/orders/<id>/attribution` answers and the order's evidence page shows."""
    evidence = list(attribution.evidence) if attribution else []
    kind = attribution.kind if attribution else None
    return {
        "order_id": order.id,
        "shopify_id": order.shopify_id,
        "name": order.name,
        "placed_at": order.placed_at,
        "currency": order.currency,
        "net": order.net_sales,
        "counted": kind in ("first", "repeat"),
        "flagged": order.flagged,
        "influencer": ({"id": creator.id, "name": creator.name, "handle": creator.handle} if creator else None),
        "kind": kind,
        "rule": attribution.rule if attribution else None,
        "acquired_at": attribution.acquired_at if attribution else None,
        "summary": attribution_summary(attribution.rule, evidence, names) if attribution else "not attributed yet",
        "evidence": evidence,
    }


def creator_clv(session: Session, shop: Shop, influencer_id: int) -> dict[str, Any]:
    """Historical CLV (all time, from rollups) and predicted CLV over the shop's horizon."""
    revenue, repeat_revenue, customers = session.execute(
        select(func.sum(Rollup.revenue), func.sum(Rollup.repeat_revenue), func.sum(Rollup.new_customers)).where(
            Rollup.shop_id == shop.id, Rollup.influencer_id == influencer_id, Rollup.kind == "day"
        )
    ).one()
    customers = int(customers or 0)
    historical = None
    if customers:
        historical = to_cents(((revenue or ZERO) + (repeat_revenue or ZERO)) / customers)
    stored_clv = _clv_rows(session, shop)
    stored = stored_clv.get(influencer_id)
    return {
        "historical": historical,
        "predicted": stored.predicted if stored else None,
        "horizon_months": shop.settings.clv_horizon_months,
        "customers": customers,
        "fitted_at": _fitted_at(stored_clv),
    }


def creators_with_figures(session: Session, shop_id: int, influencer_ids: Iterable[int]) -> set[int]:
    """Of the given creators, those with any figure on any day (a sale, click, cost or post):
    a creator with nothing in a range has "no activity in this range" rather than "no data
    yet". Read from the monthly rollups, a few rows per creator."""
    wanted = sorted(set(influencer_ids))
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(RollupMonth.influencer_id)
            .where(RollupMonth.shop_id == shop_id, RollupMonth.influencer_id.in_(wanted))
            .distinct()
        )
    )


def default_range(shop: Shop, today: date | None = None) -> tuple[date, date]:
    """Since the shop's first figure, at most a year back; the last 30 days without data."""
    today = today or datetime.now(shop.zone).date()
    session = object_session(shop)
    first = session.scalar(select(func.min(Rollup.day)).where(Rollup.shop_id == shop.id)) if session else None
    if first is None or first > today:
        return today - timedelta(days=29), today
    return max(first, today - timedelta(days=364)), today
