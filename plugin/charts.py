"""Server-rendered SVG charts: the first paint needs no chart script.

Every label goes through `escape`; the SVGs scale with their container through
`viewBox`, so their box is known before anything loads (no layout shift).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 16, 28, 28
POSITIVE, NEGATIVE = "#008060", "#d72c0d"


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    color: str
    dashed: bool = False


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ at or above value (gridline steps that read well)."""
    if value <= 0:
        return 1.0
    exponent = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent * (1 + 1e-9):
            return step * exponent
    return 10 * exponent


def axis(high: float, lines: int = 4) -> tuple[float, int]:
    """(step, count): `count` gridlines `step` apart reaching at least `high`."""
    step = nice_step(high / lines) if high > 0 else 1.0
    return step, max(1, math.ceil(high / step - 1e-9))


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def cumulative(series: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Running totals of the given keys, day by day."""
    sums = {key: Decimal(0) for key in keys}
    out = []
    for point in series:
        row = dict(point)
        for key in keys:
            sums[key] += Decimal(str(point.get(key) or 0))
            row[key] = sums[key]
        out.append(row)
    return out


def line_chart(
    series: Sequence[dict[str, Any]], lines: Sequence[Line], *, title: str, y_format: Callable[[Any], str]
) -> Markup:
    """Lines over days; `series` is [{"day": date, key: number, ...}] in day order, a point
    per day or further apart (each is drawn at its day)."""
    if not series:
        return Markup("")
    step, count = axis(max((float(p.get(line.key) or 0) for p in series for line in lines), default=0))
    top = step * count
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    first = series[0]["day"]
    days = (series[-1]["day"] - first).days
    span = max(days, 1)

    def x(offset: int) -> float:
        return PAD_LEFT + plot_w * offset / span

    def y(v: Any) -> float:
        return PAD_TOP + plot_h * (1 - float(v or 0) / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(count + 1):
        value = step * k
        yy = y(value)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{_n(yy)}" y2="{_n(yy)}"/>')
        parts.append(
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{_n(yy + 4)}" text-anchor="end">{escape(y_format(value))}</text>'
        )
    for day, label in date_ticks(first, series[-1]["day"]):
        xx = x((day - first).days) if days else PAD_LEFT + plot_w / 2
        anchor = "start" if xx - PAD_LEFT < 30 and days else "end" if WIDTH - PAD_RIGHT - xx < 30 else "middle"
        parts.append(f'<text class="axis" x="{_n(xx)}" y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(label)}</text>')
    if days == 0:
        parts.extend(one_day_bars(series[0], lines, y, y_format))
    legend_x = PAD_LEFT
    for line in lines:
        if days:
            points = " ".join(f"{_n(x((p['day'] - first).days))},{_n(y(p.get(line.key)))}" for p in series)
            dash = ' stroke-dasharray="6 4"' if line.dashed else ""
            parts.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="2"{dash} points="{points}"/>')
        parts.append(
            f'<rect x="{legend_x}" y="8" width="12" height="4" fill="{line.color}"/>'
            f'<text class="legend" x="{legend_x + 16}" y="14">{escape(line.label)}</text>'
        )
        legend_x += 28 + 7 * len(line.label)
    parts.append("</svg>")
    return Markup("".join(parts))


def one_day_bars(
    point: dict[str, Any], lines: Sequence[Line], y: Callable[[Any], float], y_format: Callable[[Any], str]
) -> list[str]:
    """A single day has no line to draw: each series is a bar at the middle of the plot, its
    value written above it, so a one-day range shows the day's figures instead of empty axes."""
    width, gap = 44, 16
    left = PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT - len(lines) * width - (len(lines) - 1) * gap) / 2
    bottom = y(0)
    parts = []
    for i, line in enumerate(lines):
        value = point.get(line.key) or 0
        x0, top_y = left + i * (width + gap), y(value)
        height = max(bottom - top_y, 1.0)  # a zero still shows as a hairline on the axis
        dash = ' stroke-dasharray="4 3" fill-opacity="0.35"' if line.dashed else ""
        parts.append(
            f'<rect class="day-bar" x="{_n(x0)}" y="{_n(bottom - height)}" width="{width}" height="{_n(height)}" '
            f'fill="{line.color}" stroke="{line.color}"{dash}><title>{escape(line.label)}: '
            f"{escape(y_format(value))}</title></rect>"
        )
        # The figure above its bar, or inside it near the top of the plot (the legend is above).
        inside = bottom - height - 6 < PAD_TOP + 10
        text_y = bottom - height + 16 if inside else bottom - height - 6
        fill = ' style="fill:#fff"' if inside and not line.dashed else ""
        parts.append(
            f'<text class="value" x="{_n(x0 + width / 2)}" y="{_n(text_y)}" text-anchor="middle"{fill}>'
            f"{escape(y_format(value))}</text>"
        )
    return parts


def date_ticks(first: date, last: date, most: int = 6) -> list[tuple[date, str]]:
    """Where the date axis is labelled, and how. Within one calendar year: "Mar 5" at evenly spaced
    days. Across years a label carries its year: a few months apart, "Aug 2026" at the first of
    a month; closer, "Dec 28, 2026" where a year starts on the axis and "Jan 4" after it."""
    days = (last - first).days
    if days == 0:
        return [(first, first.strftime("%b %-d, %Y"))]
    if first.year == last.year:
        return [
            (first + timedelta(days=i), (first + timedelta(days=i)).strftime("%b %-d")) for i in _spread(days, most)
        ]
    months = (last.year - first.year) * 12 + last.month - first.month
    if days > 92:
        step = -(-months // most)  # months between labels, at most `most` labels
        ticks = []
        if first.day == 1:
            year, month = first.year, first.month
        else:  # the first of the next month
            year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
        while (day := date(year, month, 1)) <= last:
            ticks.append((day, day.strftime("%b %Y")))
            year, month = year + (month - 1 + step) // 12, (month - 1 + step) % 12 + 1
        return ticks
    labelled: list[tuple[date, str]] = []
    for i in _spread(days, most):
        day = first + timedelta(days=i)
        same_year = bool(labelled) and labelled[-1][0].year == day.year
        labelled.append((day, day.strftime("%b %-d" if same_year else "%b %-d, %Y")))
    return labelled


def _spread(days: int, most: int) -> list[int]:
    """Up to `most` day offsets from 0 to `days`, evenly spaced, both ends included."""
    return sorted({round(days * k / (most - 1)) for k in range(most)})


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    value_format: Callable[[float | None], str],
    label_width: int = 150,
) -> Markup:
    """Horizontal bars around zero (losses in red); `bars` is [(label, value)], drawn in order."""
    if not bars:
        return Markup("")
    row_h, gap = 22, 6
    height = PAD_TOP + len(bars) * (row_h + gap) + 8
    values = [float(v) for _, v in bars if v is not None]
    low, high = min(values + [0.0]), max(values + [0.0])
    value_room = 70
    plot_x0, plot_x1 = label_width + 8, WIDTH - value_room
    scale = (plot_x1 - plot_x0) / ((high - low) or 1.0)
    zero = plot_x0 + (0 - low) * scale
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="zero" x1="{_n(zero)}" x2="{_n(zero)}" y1="{PAD_TOP - 6}" y2="{height - 4}"/>',
    ]
    for i, (label, value) in enumerate(bars):
        top = PAD_TOP + i * (row_h + gap)
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text class="label" x="{label_width}" y="{top + 15}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        if value is None:
            parts.append(f'<text class="axis" x="{_n(zero + 4)}" y="{top + 15}">no cost yet</text>')
            continue
        end = zero + float(value) * scale
        x0, w = min(zero, end), max(abs(end - zero), 1.0)
        color = NEGATIVE if value < 0 else POSITIVE
        parts.append(f'<rect x="{_n(x0)}" y="{top}" width="{_n(w)}" height="{row_h}" rx="3" fill="{color}"/>')
        text_x = max(zero, end) + 6
        parts.append(f'<text class="value" x="{_n(text_x)}" y="{top + 15}">{escape(value_format(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
