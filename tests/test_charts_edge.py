"""Server-side charts draw any series the report can give: a single day shows that day's figures,
and a range over years says which year each label belongs to."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from plugin import charts, display

LINES = [
    charts.Line("with_repeat", "Revenue incl. repeats", "#7b61ff", dashed=True),
    charts.Line("revenue", "Revenue", charts.POSITIVE),
    charts.Line("cost", "Cost", charts.NEGATIVE),
]


def axis_labels(svg: str) -> list[str]:
    """The date axis's labels, left to right (the y axis's labels end at its left edge)."""
    return re.findall(r'<text class="axis" x="[\d.]+" y="252" text-anchor="\w+">([^<]*)</text>', svg)


def chart(series: list[dict]) -> str:
    return charts.line_chart(series, LINES, title="Revenue and cost", y_format=lambda v: display.compact_money(v))


def test_one_day_draws_the_days_figures_not_empty_axes():
    day = date(2026, 11, 23)
    svg = chart([{"day": day, "with_repeat": Decimal("1450.00"), "revenue": Decimal("1200.00"), "cost": 300}])
    bars = re.findall(r'<rect class="day-bar" x="[\d.]+" y="[\d.]+" width="44" height="([\d.]+)"', svg)
    assert len(bars) == 3 and all(float(h) > 10 for h in bars)  # one visible bar per series
    heights = dict(zip(("with_repeat", "revenue", "cost"), map(float, bars), strict=True))
    assert heights["with_repeat"] > heights["revenue"] > heights["cost"]
    for figure in ("$1.5k", "$1.2k", "$300"):  # each bar says its value
        assert f">{figure}</text>" in svg
    assert axis_labels(svg) == ["Nov 23, 2026"]
    assert "<polyline" not in svg  # a line through one point would draw nothing


def test_one_day_with_nothing_booked_still_shows_the_zeros():
    svg = chart([{"day": date(2026, 11, 23), "with_repeat": 0, "revenue": 0, "cost": 0}])
    assert svg.count('class="day-bar"') == 3 and svg.count(">$0</text>") >= 3


def test_a_range_over_years_labels_months_with_their_years():
    first = date(2024, 1, 1)
    series = [{"day": first + timedelta(days=i), "revenue": i, "with_repeat": i, "cost": 1} for i in range(0, 800, 7)]
    labels = axis_labels(chart(series))
    assert 3 <= len(labels) <= 6
    assert all(re.fullmatch(r"[A-Z][a-z]{2} 20(24|25|26)", label) for label in labels), labels
    assert labels[0] == "Jan 2024" and any(label.endswith("2025") for label in labels)


def test_the_default_year_back_crosses_new_year_and_says_so():
    first, last = date(2025, 12, 8), date(2026, 12, 7)
    labels = axis_labels(chart([{"day": first, "revenue": 1}, {"day": last, "revenue": 5}]))
    assert labels[0] == "Jan 2026" and labels[-1].endswith("2026") and len(labels) <= 6


def test_a_short_range_across_new_year_gives_the_year_where_it_starts_and_changes():
    first = date(2025, 12, 20)
    series = [{"day": first + timedelta(days=i), "revenue": i} for i in range(25)]
    labels = axis_labels(chart(series))
    assert labels[0] == "Dec 20, 2025"
    new_year = next(label for label in labels if label.startswith("Jan"))
    assert new_year.endswith(", 2026")
    assert all(", " not in label for label in labels[1:] if label != new_year)


def test_a_range_inside_one_year_keeps_short_labels():
    first = date(2026, 3, 1)
    labels = axis_labels(chart([{"day": first, "revenue": 1}, {"day": first + timedelta(days=60), "revenue": 2}]))
    assert labels[0] == "Mar 1" and labels[-1] == "Apr 30" and len(labels) == 6
