"""The embedded admin: server-rendered pages under /app, the landing page and the demo login.

Pages read figures only through `plugin.reports` and registry rows through
`shop_select`; every write goes through the JSON API (the page's script posts
there), so validation lives in one place. First paint needs no script.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
import uuid
import warnings
from base64 import b64encode
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jwt
import segno
from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from models import (
    CONTENT_TYPES,
    COST_CATEGORIES,
    PLATFORMS,
    Campaign,
    Cost,
    DiscountCode,
    Influencer,
    Post,
    ReferralLink,
    Shop,
)
from models.db import utcnow
from plugin import charts, commissions, display, ranges, report_cache, reports
from plugin.auth import page_auth_required
from plugin.database import current_shop, runtime, session, shop_select
from plugin.schemas.roi import DATE_BOUNDS, EARLIEST, METRICS
from worker.runtime import Runtime
from worker.shopify_admin import is_valid_shop_domain

bp = Blueprint("admin", __name__)

PAGE_SIZE = 50
DEMO_TOKEN_SECONDS = 12 * 3600
DEMO_CLAIM = "creator_roi_demo"
GROUP_LABELS = {"influencer": "Creator", "platform": "Platform", "content_type": "Content type", "campaign": "Campaign"}
SORTABLE = {"label"} | {key for key, _, _ in display.TABLE_COLUMNS}


# --- response headers ------------------------------------------------------------------


@bp.after_request
def _frame_and_compress(response: Response) -> Response:
    if request.path.startswith("/app"):
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = frame_ancestors()
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return gzip_response(response)


def frame_ancestors() -> str:
    shop = g.shop.domain if getattr(g, "shop", None) is not None else request.args.get("shop", "")
    if shop and is_valid_shop_domain(shop):
        return f"frame-ancestors https://{shop.lower()} https://admin.shopify.com;"
    return "frame-ancestors https://admin.shopify.com;"


def gzip_response(response: Response) -> Response:
    """Pages and CSV travel gzipped: the first page stays well under 100 KB on the wire."""
    if (
        response.direct_passthrough
        or response.status_code != 200
        or "Content-Encoding" in response.headers
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or not (response.mimetype or "").startswith(("text/", "image/svg"))
    ):
        return response
    body = response.get_data()
    if len(body) < 1024:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


# --- template helpers --------------------------------------------------------------------


def app_url(endpoint: str, **params: Any) -> str:
    """A link inside the app that keeps the admin's shop and host (the script adds a fresh token)."""
    keep: dict[str, Any] = {k: request.args[k] for k in ("shop", "host", "embedded") if request.args.get(k)}
    keep.update({k: v for k, v in params.items() if v not in (None, "")})
    return url_for(endpoint, **keep)


def is_demo_session() -> bool:
    claims = getattr(g, "session_claims", None) or {}
    return bool(current_app.config.get("DEMO_LOGIN") and claims.get(DEMO_CLAIM))


@bp.app_template_filter("figure")
def _figure(value: Any, kind: str) -> str:
    return display.figure(value, kind, current_shop().currency)


@bp.app_template_filter("money")
def _money(value: Any) -> str:
    return display.money(value, current_shop().currency)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    zone = current_shop().zone if getattr(g, "shop", None) is not None else ZoneInfo("UTC")
    return {
        "app_url": app_url,
        "display": display,
        "raw": display.raw,
        "when": lambda value: display.when(value, zone),
        "platforms": [(p, display.label(p)) for p in PLATFORMS],
        "content_types": [(c, display.label(c)) for c in CONTENT_TYPES],
        "cost_categories": [(c, display.label(c)) for c in COST_CATEGORIES],
        "label": display.label,
        "asset_url": asset_url,
        "pairs": pairs,
        "today": datetime.now(zone).date().isoformat(),
    }


def pairs(items: Any, value: str, text: str) -> list[tuple[Any, Any]]:
    """(value, label) options for a select, from objects or dicts."""
    get = (lambda item, key: item[key]) if items and isinstance(items[0], dict) else getattr
    return [(get(item, value), get(item, text)) for item in items]


_asset_versions: dict[str, str] = {}


def asset_url(filename: str) -> str:
    """A static URL that changes when the file does (browsers may cache it for good)."""
    if filename not in _asset_versions:
        import hashlib
        import os

        path = os.path.join(current_app.static_folder or "", filename)
        with open(path, "rb") as handle:
            _asset_versions[filename] = hashlib.sha256(handle.read()).hexdigest()[:10]
    return url_for("static", filename=filename, v=_asset_versions[filename])


def page(template: str, **context: Any) -> str:
    shop = current_shop()
    return render_template(
        template,
        shop=shop,
        currency=shop.currency,
        id_token=g.id_token,
        demo=is_demo_session(),
        api_key=current_app.config["SHOPIFY_API_KEY"],
        app_url_base=current_app.config["SHOPIFY_APP_URL"],
        **context,
    )


# --- filters: the date range, campaign and platform a page shows --------------------------


@dataclass
class Filters:
    date_from: date
    date_to: date
    campaign_id: int | None = None
    platform: str | None = None
    group: str = "influencer"
    sort: str = "revenue"
    direction: str = "desc"
    page: int = 1
    preset: str | None = None  # a named range ("30d", "all"), kept in links instead of dates
    errors: dict[str, str] = field(default_factory=dict)
    entered: dict[str, str] = field(default_factory=dict)  # dates as typed, shown again with an error

    def query(self, **changes: Any) -> dict[str, Any]:
        dates = (
            {"range": self.preset}
            if self.preset
            else {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        )
        params = {
            **dates,
            "campaign": self.campaign_id,
            "platform": self.platform,
            "group": None if self.group == "influencer" else self.group,
            "sort": self.sort,
            "dir": self.direction,
        }
        params.update(changes)
        return {k: v for k, v in params.items() if v not in (None, "")}

    def preset_query(self, preset: str) -> dict[str, Any]:
        """This view's link with another preset range (the first page of it)."""
        query = {k: v for k, v in self.query(page=None).items() if k not in ("from", "to")}
        return {**query, "range": preset}

    def shown(self, name: str) -> str:
        """What a date field shows: the merchant's own text after an error, else the day used."""
        return self.entered.get(name) or (self.date_from if name == "from" else self.date_to).isoformat()


def _date_arg(name: str, errors: dict[str, str]) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day < EARLIEST:
        errors[name] = DATE_BOUNDS
        return None
    return day


def read_range(filters: Filters) -> None:
    """The days the page shows: a preset by name, else the dates given, else the default range.
    A wrong or reversed range keeps what was typed in the fields, says what is wrong, and shows
    the default range meanwhile (the page says which days it shows)."""
    shop = current_shop()
    default_from, default_to = reports.default_range(shop)
    preset = request.args.get("range", "")
    if preset in ranges.NAMES:
        today = datetime.now(shop.zone).date()
        first = report_cache.figure_days(session(), shop.id)
        days = ranges.preset_days(preset, today, first[0] if first else None)
        typed = tuple(request.args.get(k, "") for k in ("from", "to"))
        # The form sends the preset's dates with it: unchanged, the view stays the preset.
        if typed in (("", ""), (days[0].isoformat(), days[1].isoformat())):
            filters.date_from, filters.date_to = days
            filters.preset = preset
            return
    errors = filters.errors
    date_from, date_to = _date_arg("from", errors), _date_arg("to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date. Pick an end on or after the start."
    if errors:
        filters.entered = {k: request.args.get(k, "") for k in ("from", "to")}
        filters.date_from, filters.date_to = default_from, default_to
        return
    filters.date_from = date_from or min(default_from, date_to or default_from)
    filters.date_to = date_to or max(default_to, filters.date_from)


def read_filters(campaigns: list[Campaign]) -> Filters:
    filters = Filters(date.min, date.min)
    read_range(filters)
    errors = filters.errors
    campaign = request.args.get("campaign", "")
    if campaign.isdigit() and int(campaign) in {c.id for c in campaigns}:
        filters.campaign_id = int(campaign)
    elif campaign:
        errors["campaign"] = "That campaign does not exist."
    platform = request.args.get("platform", "")
    if platform in PLATFORMS:
        filters.platform = platform
    elif platform:
        errors["platform"] = "Choose a platform from the list."
    if request.args.get("group") in GROUP_LABELS:
        filters.group = request.args["group"]
    if request.args.get("sort") in SORTABLE:
        filters.sort = request.args["sort"]
        filters.direction = "asc" if request.args.get("dir") == "asc" else "desc"
    page_arg = request.args.get("page", "")
    filters.page = int(page_arg) if page_arg.isdigit() and int(page_arg) > 0 else 1
    return filters


def shop_campaigns() -> list[Campaign]:
    return list(session().scalars(shop_select(Campaign).order_by(func.lower(Campaign.name))))


# --- the creators table -------------------------------------------------------------------


def table_rows(report: dict[str, Any], filters: Filters) -> list[dict[str, Any]]:
    """Report rows; grouped by creator, every active creator appears, with data or not."""
    rows = [
        {"key": r["key"], "label": r.get("label") or str(r["key"]), "metrics": r, "creator": None}
        for r in report["rows"]
    ]
    if filters.group in ("platform", "content_type"):
        for row in rows:  # "TikTok", "YouTube": the names as the platforms write them
            row["label"] = display.label(row["key"]) if row["key"] is not None else row["label"]
    if filters.group != "influencer":
        return rows
    # Plain rows, not ORM objects: a large store has hundreds of creators, the page shows fifty.
    query = shop_select(Influencer).with_only_columns(
        Influencer.id, Influencer.name, Influencer.handle, Influencer.platform, Influencer.archived_at
    )
    if filters.campaign_id is not None:
        query = query.where(Influencer.campaign_id == filters.campaign_id)
    if filters.platform is not None:
        query = query.where(Influencer.platform == filters.platform)
    creators = {str(c.id): c for c in session().execute(query)}
    seen = set()
    for row in rows:
        creator = creators.get(str(row["key"]))
        row["creator"] = creator
        seen.add(str(row["key"]))
        if creator is not None:
            row["label"] = creator.name
    rows += [
        {"key": c.id, "label": c.name, "metrics": {}, "creator": c}
        for key, c in creators.items()
        if key not in seen and c.archived_at is None
    ]
    return rows


def sort_rows(rows: list[dict[str, Any]], sort: str, direction: str) -> list[dict[str, Any]]:
    """Sorted by one metric; rows without a value go last whichever the direction."""
    if sort == "label":
        return sorted(rows, key=lambda r: str(r["label"]).casefold(), reverse=direction == "desc")
    with_value = [r for r in rows if r["metrics"].get(sort) is not None]
    without = [r for r in rows if r["metrics"].get(sort) is None]
    with_value.sort(key=lambda r: (r["metrics"][sort], str(r["label"]).casefold()), reverse=direction == "desc")
    return with_value + sorted(without, key=lambda r: str(r["label"]).casefold())


def with_cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's cells of each row, (exact value, as shown), written here rather than by the
    template: fifty rows of fourteen figures are most of the page's rendering."""
    currency = current_shop().currency
    for row in rows:
        metrics = row["metrics"]
        row["cells"] = [
            (
                display.raw(metrics.get(key)),
                display.figure(metrics.get(key), kind, currency) if metrics else display.DASH,
            )
            for key, _, kind in display.TABLE_COLUMNS
        ]
    return rows


def is_loser(row: dict[str, Any]) -> bool:
    """A creator (not the shop-wide remainder) whose cost exceeds what they brought."""
    roi = row["metrics"].get("roi")
    return row["key"] is not None and roi is not None and roi < 0


def roi_chart(rows: list[dict[str, Any]], noun: str = "creator", limit: int = 15) -> Any:
    creators = [r for r in rows if r["key"] is not None and r["metrics"].get("cost")]
    spenders = sorted(creators, key=lambda r: r["metrics"]["cost"], reverse=True)[:limit]
    spenders.sort(key=lambda r: r["metrics"].get("roi") if r["metrics"].get("roi") is not None else -1e9, reverse=True)
    bars = [(str(r["label"]), r["metrics"].get("roi")) for r in spenders]
    title = f"ROI by {noun}" + (f" (the {limit} biggest spends)" if len(creators) > limit else "")
    return title, charts.bar_chart(bars, title=title, value_format=display.percent)


def money_chart(series: list[dict[str, Any]], start: date | None = None) -> Any:
    """Cumulative revenue and cost; with `start`, the lines rise from nothing on that day when
    the first point is later (a whole month drawn at its last day)."""
    points = [
        dict(p, day=p["day"] if isinstance(p["day"], date) else date.fromisoformat(str(p["day"]))) for p in series
    ]
    if start is not None and points and points[0]["day"] > start:
        points.insert(0, {"day": start, "revenue": 0, "repeat_revenue": 0, "cost": 0})
    running = charts.cumulative(points, ("revenue", "repeat_revenue", "cost"))
    for point in running:
        point["with_repeat"] = point["revenue"] + point["repeat_revenue"]
    currency = current_shop().currency
    title = "Revenue and cost, cumulative"
    return title, charts.line_chart(
        running,
        [
            charts.Line("with_repeat", "Revenue incl. repeats", "#7b61ff", dashed=True),
            charts.Line("revenue", "Revenue", charts.POSITIVE),
            charts.Line("cost", "Cost", charts.NEGATIVE),
        ],
        title=title,
        y_format=lambda v: display.compact_money(v, currency),
    )


# --- reading the chart's series while the report is computed -------------------------------

_side_reads: ThreadPoolExecutor | None = None


def money_series_meanwhile(shop_id: int, filters: Filters) -> Callable[[bool], list[dict[str, Any]]]:
    """The money chart's series, read on a connection of its own while this request computes
    the report (mostly Python), so the page waits for the longer of the two, not their sum.
    Returns the call that gives it (`needed`: False when the page has no chart); the read is
    waited for either way, so none outlives its request. SQLite reads it when asked, if needed."""
    rt = runtime()
    args = (
        rt,
        report_cache.report_cache(),
        shop_id,
        filters.date_from,
        filters.date_to,
        filters.campaign_id,
        filters.platform,
    )
    if rt.db.is_sqlite:
        return lambda needed: read_money_series(*args) if needed else []
    global _side_reads
    if _side_reads is None:  # made on first use: nothing starts at import
        _side_reads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="page-reads")
    future = _side_reads.submit(read_money_series, *args)
    return lambda needed: future.result()


def read_money_series(
    rt: Runtime,
    cache: report_cache.ReportCache,
    shop_id: int,
    date_from: date,
    date_to: date,
    campaign_id: int | None,
    platform: str | None,
) -> list[dict[str, Any]]:
    with rt.db.session() as db:
        shop = db.get(Shop, shop_id)  # the request's shop
        return report_cache.money_series(
            cache,
            db,
            shop,  # type: ignore[arg-type]
            date_from=date_from,
            date_to=date_to,
            campaign_id=campaign_id,
            platform=platform,
        )


# --- pages --------------------------------------------------------------------------------


@bp.get("/app")
@page_auth_required
def overview() -> Any:
    db, shop = session(), current_shop()
    campaigns = shop_campaigns()
    filters = read_filters(campaigns)
    series = money_series_meanwhile(shop.id, filters)
    report = report_cache.roi_report(
        db,
        shop,
        date_from=filters.date_from,
        date_to=filters.date_to,
        group_by=filters.group,
        campaign_id=filters.campaign_id,
        platform=filters.platform,
    )
    rows = sort_rows(table_rows(report, filters), filters.sort, filters.direction)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    filters.page = min(filters.page, pages)
    shown = rows[(filters.page - 1) * PAGE_SIZE : filters.page * PAGE_SIZE]
    has_creators = (
        db.scalar(
            select(func.count()).select_from(shop_select(Influencer).where(Influencer.archived_at.is_(None)).subquery())
        )
        or 0
    )
    has_figures = any(r["metrics"] for r in rows) or bool(report["totals"].get("orders"))
    empty_filter = filter_without_creators(filters, campaigns) if has_creators else None
    roi_title, roi_svg = roi_chart(rows, GROUP_LABELS[filters.group].lower())
    money_title, money_svg = "", ""
    points = series(has_figures)
    if has_figures:
        money_title, money_svg = money_chart(points, filters.date_from)
    return page(
        "admin/overview.html",
        filters=filters,
        campaigns=campaigns,
        report=report,
        totals=report["totals"],
        rows=with_cells(shown),
        pages=pages,
        # "Creators (15)": the shop-wide row is not a creator (nor a platform, nor a campaign).
        row_count=sum(1 for r in rows if r["key"] is not None),
        has_creators=has_creators,
        has_figures=has_figures,
        is_loser=is_loser,
        roi_title=roi_title,
        roi_svg=roi_svg,
        money_title=money_title,
        money_svg=money_svg,
        group_label=GROUP_LABELS[filters.group],
        kpis=display.KPIS,
        columns=display.TABLE_COLUMNS,
        presets=ranges.PRESETS,
        preset_names=ranges.NAMES,
        empty_filter=empty_filter,
        title="Overview",
    )


def filter_without_creators(filters: Filters, campaigns: list[Campaign]) -> str | None:
    """ "No Twitch creators" when the platform or campaign filter matches no creator at all: the
    empty page is the filter's doing, not a missing code or link."""
    if filters.platform is None and filters.campaign_id is None:
        return None
    query = shop_select(Influencer).where(Influencer.archived_at.is_(None))
    if filters.platform is not None:
        query = query.where(Influencer.platform == filters.platform)
    if filters.campaign_id is not None:
        query = query.where(Influencer.campaign_id == filters.campaign_id)
    if session().scalar(select(func.count()).select_from(query.subquery())):
        return None
    words = [display.label(filters.platform)] if filters.platform else []
    campaign = next((c.name for c in campaigns if c.id == filters.campaign_id), None)
    return " ".join(["No", *words, "creators"]) + (f" in the campaign {campaign}" if campaign else "")


@bp.get("/app/table.csv")
@page_auth_required
def table_csv() -> Any:
    """Every row of the overview table (all pages), as the page's export button downloads it."""
    filters = read_filters(shop_campaigns())
    report = report_cache.roi_report(
        session(),
        current_shop(),
        date_from=filters.date_from,
        date_to=filters.date_to,
        group_by=filters.group,
        campaign_id=filters.campaign_id,
        platform=filters.platform,
    )
    rows = sort_rows(table_rows(report, filters), filters.sort, filters.direction)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([filters.group, "name", *METRICS])
    for row in rows:
        writer.writerow([row["key"], csv_cell(row["label"]), *(display.raw(row["metrics"].get(m)) for m in METRICS)])
    writer.writerow(["total", "Total", *(display.raw(report["totals"].get(m)) for m in METRICS)])
    name = f"creator-roi-{filters.group}-{filters.date_from}-{filters.date_to}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def csv_cell(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/app/creators/<int:influencer_id>")
@page_auth_required
def creator(influencer_id: int) -> Any:
    db, shop = session(), current_shop()
    influencer = db.scalar(shop_select(Influencer).where(Influencer.id == influencer_id))
    if influencer is None:
        return page("admin/not_found.html", title="Creator not found"), 404
    filters = read_filters([])
    report = report_cache.roi_report(db, shop, date_from=filters.date_from, date_to=filters.date_to)
    figures: dict[str, Any] = next((r for r in report["rows"] if str(r["key"]) == str(influencer.id)), {})
    codes = list(
        db.scalars(
            shop_select(DiscountCode)
            .where(DiscountCode.influencer_id == influencer.id)
            .order_by(DiscountCode.created_at.desc(), DiscountCode.id.desc())
        )
    )
    links = list(
        db.scalars(
            shop_select(ReferralLink)
            .where(ReferralLink.influencer_id == influencer.id)
            .order_by(ReferralLink.created_at.desc(), ReferralLink.id.desc())
        )
    )
    posts = post_rows(Post.influencer_id == influencer.id, limit=100)
    costs = cost_rows(Cost.influencer_id == influencer.id)
    orders = reports.creator_orders(db, shop, influencer.id, limit=100)
    clv = reports.creator_clv(db, shop, influencer.id)
    pay = commissions.creator_pay(db, shop.id, influencer.id, shop.local_day(utcnow()))
    code_by_id: dict[int | None, str] = {c.id: c.code for c in codes}
    return page(
        "admin/creator.html",
        creator=influencer,
        filters=filters,
        figures=figures,
        codes=[code_view(c) for c in codes],
        links=[link_view(link, code_by_id.get(link.discount_code_id)) for link in links],
        posts=posts,
        costs=costs,
        orders=orders,
        clv=clv,
        pay=pay,
        plan_summary=commissions.plan_summary,
        campaigns=shop_campaigns(),
        evidence_summary=display.evidence_summary,
        title=influencer.name,
    )


def code_view(code: DiscountCode) -> dict[str, Any]:
    from plugin.api.codes import share_url

    return {
        "id": code.id,
        "code": code.code,
        "percent_off": code.percent_off,
        "in_shopify": bool(code.shopify_discount_id),
        "share_url": share_url(current_shop(), code.code),
        "created_at": code.created_at,
    }


def link_view(link: ReferralLink, code: str | None) -> dict[str, Any]:
    """The link with its QR code inline: the downloads need no request, so no token either."""
    from plugin.api.links import public_url

    url = public_url(link.slug)
    qr = segno.make(url, error="m")
    return {
        "id": link.id,
        "slug": link.slug,
        "url": url,
        "destination": link.destination,
        "code": code,
        "qr_svg": qr.svg_data_uri(scale=4, border=2, dark="#1a1a1a"),
        "qr_png": qr.png_data_uri(scale=10, border=4),
        "created_at": link.created_at,
    }


@bp.get("/app/costs")
@page_auth_required
def costs_page() -> Any:
    return page(
        "admin/costs.html", costs=cost_rows(), creators=active_creators(), campaigns=shop_campaigns(), title="Costs"
    )


@bp.get("/app/posts")
@page_auth_required
def posts_page() -> Any:
    return page("admin/posts.html", posts=post_rows(), creators=active_creators(), title="Posts")


def cost_rows(*where: Any, limit: int = 200) -> list[Any]:
    """(cost, creator name, campaign name), newest first."""
    return list(
        session().execute(
            shop_select(Cost)
            .where(*where)
            .add_columns(Influencer.name, Campaign.name)
            .outerjoin(Influencer, Influencer.id == Cost.influencer_id)
            .outerjoin(Campaign, Campaign.id == Cost.campaign_id)
            .order_by(Cost.incurred_on.desc(), Cost.id.desc())
            .limit(limit)
        )
    )


def post_rows(*where: Any, limit: int = 200) -> list[Any]:
    """(post, creator name), newest first."""
    return list(
        session().execute(
            shop_select(Post)
            .where(*where)
            .add_columns(Influencer.name)
            .join(Influencer, Influencer.id == Post.influencer_id)
            .order_by(Post.posted_at.desc(), Post.id.desc())
            .limit(limit)
        )
    )


@bp.get("/app/settings")
@page_auth_required
def settings_page() -> Any:
    from plugin.api.shop import settings_dict

    return page(
        "admin/settings.html",
        settings=settings_dict(current_shop().settings),
        campaigns=shop_campaigns(),
        title="Settings",
    )


def active_creators() -> list[Influencer]:
    return list(
        session().scalars(
            shop_select(Influencer).where(Influencer.archived_at.is_(None)).order_by(func.lower(Influencer.name))
        )
    )


# --- landing page and the development-only demo login --------------------------------------


@bp.get("/")
def landing() -> Any:
    if request.args.get("shop") or request.args.get("id_token"):
        # Shopify opened the app URL's root: the app lives under /app.
        return redirect(url_for("admin.overview") + "?" + urlencode(list(request.args.items(multi=True))))
    if current_app.config.get("DEMO_LOGIN"):
        return demo()
    return render_template("admin/landing.html")


@bp.get("/demo")
def demo() -> Any:
    if not current_app.config.get("DEMO_LOGIN"):
        abort(404)
    from worker.installation import find_shop

    domain = current_app.config["DEMO_SHOP"]
    shop = find_shop(session(), domain)
    if shop is None or not shop.is_installed:
        return render_template("admin/demo_missing.html", shop=domain), 503
    token = demo_session_token(domain)
    host = b64encode(f"admin.shopify.com/store/{domain.split('.')[0]}".encode()).decode().rstrip("=")
    return redirect(url_for("admin.overview", shop=domain, host=host, id_token=token))


def demo_session_token(domain: str) -> str:
    """A session token as App Bridge mints it, longer-lived, for the local demo only."""
    now = int(time.time())
    claims = {
        "iss": f"https://{domain}/admin",
        "dest": f"https://{domain}",
        "aud": current_app.config["SHOPIFY_API_KEY"],
        "sub": "demo",
        "exp": now + DEMO_TOKEN_SECONDS,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
        DEMO_CLAIM: True,
    }
    with warnings.catch_warnings():  # the development secret is short by design; production has no demo
        warnings.simplefilter("ignore")
        return jwt.encode(claims, current_app.config["SHOPIFY_API_SECRET"], algorithm="HS256")
