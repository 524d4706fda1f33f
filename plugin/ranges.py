"""The overview's date presets ("Last 30 days", "All time", …) as the days they cover.

A preset is kept in the page's URL by name (`?range=30d`), not as dates, so a shared or
bookmarked view means the same words tomorrow: "last 30 days" moves with the calendar.
Days are the shop's: `today` is the shop-local date.
"""

from __future__ import annotations

from datetime import date, timedelta

PRESETS: tuple[tuple[str, str], ...] = (
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("month", "This month"),
    ("last_month", "Last month"),
    ("year", "This year"),
    ("all", "All time"),
)
NAMES = dict(PRESETS)


def preset_days(name: str, today: date, first_figure: date | None) -> tuple[date, date]:
    """The first and last day of preset `name`. "All time" starts on the shop's first day with
    a figure (today when it has none yet) and ends today."""
    if name in ("7d", "30d", "90d"):
        return today - timedelta(days=int(name[:-1]) - 1), today
    if name == "month":
        return today.replace(day=1), today
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if name == "year":
        return today.replace(month=1, day=1), today
    if name == "all":
        return min(first_figure or today, today), today
    raise ValueError(f"unknown preset {name!r}")
