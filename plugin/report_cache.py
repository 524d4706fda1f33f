"""Reports kept in memory while the figures behind them stand still.

A report (the ROI table, the money chart) is the same for everyone who asks
with the same parameters until one of the rows it reads changes, so each web
process keeps the reports it computed, keyed on the shop's figure version
(`models.figures`: moved by database triggers in the transaction of any change
to rollups, creators, campaigns, stored CLV or settings, whatever wrote it).
A request reads the version first and the figures after, so an entry is never
older than its key; the next change commits a new version and the entry is
simply not asked for again.

Any range may be asked for (1970 to 9999): each report reads only the days
between the shop's first and last figure inside it, which hold every figure
of the range, so "all time" costs what the shop's own history costs.

Not cached: a report read in a transaction that has itself written (its
uncommitted figures may yet be rolled back). Entries also expire after ten
minutes, so memory goes to the reports being read. Size is bounded in report
rows (cachetools' TTLCache).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import FigureVersion, Rollup, Shop
from plugin import reports

T = TypeVar("T")

SECONDS = 600


class _Entry(NamedTuple):
    value: Any
    rows: int


def figure_version(session: Session, shop_id: int) -> tuple[int, bool]:
    """(the shop's figure version, whether this transaction has written anything)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        version, writing = session.execute(
            text("SELECT (SELECT version FROM figure_versions WHERE shop_id = :shop), txid_current_if_assigned()"),
            {"shop": shop_id},
        ).one()
        return version or 0, writing is not None
    version = session.scalar(select(FigureVersion.version).where(FigureVersion.shop_id == shop_id))
    # pysqlite opens a transaction before the first write only.
    return version or 0, bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


class ReportCache:
    def __init__(self, max_rows: int, seconds: float = SECONDS) -> None:
        self._entries: TTLCache[Hashable, _Entry] = TTLCache(
            maxsize=max(max_rows, 1), ttl=seconds, getsizeof=lambda entry: entry.rows
        )
        self._lock = threading.Lock()
        self.enabled = max_rows > 0
        self.hits = self.misses = 0

    def get(
        self,
        session: Session,
        shop: Shop,
        name: str,
        params: dict[str, Any],
        compute: Callable[[], T],
        rows: Callable[[T], int],
    ) -> T:
        """`compute()`'s value for these parameters at the shop's current figures, computed
        once per version. The value is shared: callers must not change it."""
        if not self.enabled:
            return compute()
        version, writing = figure_version(session, shop.id)
        if writing:
            return compute()
        key = (shop.id, version, shop.currency, name, tuple(sorted(params.items())))
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            return entry.value
        self.misses += 1
        value = compute()
        size = 1 + rows(value)
        if size <= self._entries.maxsize:
            with self._lock:
                self._entries[key] = _Entry(value, size)
        return value


def report_cache() -> ReportCache:
    """The web process's cache (made with the app)."""
    return current_app.extensions["creator_roi_reports"]


def figure_days(session: Session, shop_id: int) -> tuple[date, date] | None:
    """The shop's first and last day with any figure (sales, clicks, costs or posts)."""
    first, last = session.execute(
        select(func.min(Rollup.day), func.max(Rollup.day)).where(Rollup.shop_id == shop_id)
    ).one()
    return (first, last) if first is not None else None


def days_to_read(session: Session, shop_id: int, date_from: date, date_to: date) -> tuple[date, date]:
    """[from, to] narrowed to the days that hold figures, which sum to the same report; a range
    outside them reads one day without figures (never a day near 9999's end, whose month has no
    successor to compute)."""
    held = figure_days(session, shop_id)
    if held is None:
        return date(2000, 1, 1), date(2000, 1, 1)
    first, last = max(date_from, held[0]), min(date_to, held[1])
    if first <= last:
        return first, last
    empty = held[1] + timedelta(days=1) if date_from > held[1] else held[0] - timedelta(days=1)
    return empty, empty


def roi_report(session: Session, shop: Shop, **params: Any) -> dict[str, Any]:
    """`reports.roi_report`, cached; `from` and `to` are the range asked for."""

    def compute() -> dict[str, Any]:
        first, last = days_to_read(session, shop.id, params["date_from"], params["date_to"])
        report = reports.roi_report(session, shop, **{**params, "date_from": first, "date_to": last})
        return {**report, "from": params["date_from"], "to": params["date_to"]}

    return report_cache().get(session, shop, "roi", params, compute, lambda report: len(report["rows"]))


def money_series(cache: ReportCache, session: Session, shop: Shop, **params: Any) -> list[dict[str, Any]]:
    """`reports.money_series`, cached (the cache given: it is read off the request's thread);
    its points span the days of the range that hold figures."""

    def compute() -> list[dict[str, Any]]:
        first, last = days_to_read(session, shop.id, params["date_from"], params["date_to"])
        return reports.money_series(session, shop, **{**params, "date_from": first, "date_to": last})

    return cache.get(session, shop, "money", params, compute, len)
