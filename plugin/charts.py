"""Server-rendered SVG charts: the first paint needs no chart script.

Every label goes through `escape`; the SVGs scale with their container through
`viewBox`, so their box is known before anything loads (no layout shift).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
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
    for i in sorted({round(days * k / 5) for k in range(6)}):
        day = first + timedelta(days=i)
        label = day.strftime("%b %-d")
        anchor = "start" if i == 0 else "end" if i == span else "middle"
        parts.append(
            f'<text class="axis" x="{_n(x(i))}" y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    legend_x = PAD_LEFT
    for line in lines:
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
