"""Server-side charts draw any series the report can give, including a single day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from plugin import charts


def test_line_chart_with_one_day_of_data():
    line = charts.Line(key="revenue", label="Revenue", color="#000")
    svg = charts.line_chart(
        [{"day": date(2026, 11, 23), "revenue": Decimal("120.00")}], [line], title="Revenue", y_format=str
    )
    assert svg.startswith("<svg") and "Nov 23" in svg and "<polyline" in svg
