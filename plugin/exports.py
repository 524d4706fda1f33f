"""What the CSV exports write, so a spreadsheet reads them as the page shows them.

One rule for every export (the overview's table, `GET /api/v1/roi.csv`, the posts), except
where noted for the API's CSV, whose columns keep the JSON's field names and meanings so that a
script reading either gets the same figures:
- an instant is in the shop's time zone, ISO 8601 to the second with its offset
  ("2026-03-04T22:24:31-05:00"), the time the page shows;
- a missing value is an empty cell, never the page's "—";
- a ratio the page shows as a percent is a fraction, and the overview's header says so
  (`roi_fraction`: 0.25 is 25%; the API's CSV says `roi`, as its JSON does); ROAS and the EMV
  ratio are multiples (6.93 is 6.93×), as the page shows them;
- the overview's `followers` is the creator's own count, and what the posts add up (the
  engagement rate's denominator, one creator's followers once per post) is
  `followers_summed_over_posts`; the API's CSV has the JSON's `followers` (the posts' sum);
- a text cell that a spreadsheet would run as a formula starts with a quote;
- the file's name says what it holds: grouping, range and filter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Any

from models import Influencer
from plugin.database import session, shop_select
from plugin.schemas.roi import METRICS, MONEY_METRICS

# The ratios the page shows as percents (display.KPIS and TABLE_COLUMNS, kind "percent").
FRACTIONS = (
    "repeat_purchase_rate",
    "engagement_rate",
    "effective_reach_rate",
    "ctr",
    "conversion_rate",
    "roi",
    "roi_with_repeat",
)
POST_FOLLOWERS = "followers_summed_over_posts"


def text_cell(value: Any) -> str:
    """A text cell a spreadsheet will not run as a formula; '' for None."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def moment_cell(value: datetime | None, zone: tzinfo) -> str:
    """An instant as the page shows it (shop time), in ISO 8601 to the second with the offset."""
    if value is None:
        return ""
    return value.astimezone(zone).replace(microsecond=0).isoformat()


# --- the ROI report ----------------------------------------------------------------------


def api_metric_header() -> list[str]:
    """The API CSV's metric columns: the JSON's field names, in its order."""
    return list(METRICS)


def api_metric_cells(figures: dict[str, Any]) -> list[str]:
    """An API report row's metric cells, the JSON's values (money to the cent, empty for null)."""
    return [
        "" if figures.get(name) is None else f"{figures[name]:.2f}" if name in MONEY_METRICS else str(figures[name])
        for name in METRICS
    ]


def metric_header() -> list[str]:
    """The overview CSV's metric columns: the report's fields, ratios shown as percents marked
    as fractions, and the creator's followers beside the followers summed over posts."""
    names: list[str] = []
    for name in METRICS:
        if name == "followers":
            names += ["followers", POST_FOLLOWERS]
        else:
            names.append(f"{name}_fraction" if name in FRACTIONS else name)
    return names


def metric_cells(figures: dict[str, Any], creator_followers: int | None) -> list[str]:
    """A report row's metric cells, in `metric_header()`'s order; `creator_followers` is the
    creator's own count (None: the row is not one creator)."""
    cells: list[str] = []
    for name in METRICS:
        value = figures.get(name)
        if name == "followers":
            cells += [_number(creator_followers), _number(value)]
        elif value is None:
            cells.append("")
        elif name in MONEY_METRICS:
            cells.append(f"{value:.2f}")
        else:
            cells.append(_number(value))
    return cells


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def report_filename(
    group_by: str, date_from: date, date_to: date, platform: str | None = None, campaign: str | None = None
) -> str:
    """ "creator-roi-influencer-2026-11-01_2026-11-30-tiktok-spring-launch.csv": the grouping,
    the range, then the platform and the campaign filtered on, if any."""
    parts = [f"creator-roi-{group_by}-{date_from.isoformat()}_{date_to.isoformat()}"]
    parts += [slug for slug in (slugify(platform), slugify(campaign)) if slug]
    return "-".join(parts) + ".csv"


def slugify(text: str | None) -> str:
    """Lower-case ASCII words joined by '-' ("Spring Launch!" -> "spring-launch"): safe in a
    file name and a Content-Disposition header."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def creator_followers() -> dict[int, int]:
    """Each creator's own followers, as the creator page shows them (the report's `followers`
    adds a creator's count up once per post: it is the engagement rate's denominator)."""
    query = shop_select(Influencer).with_only_columns(Influencer.id, Influencer.followers)
    return {id_: count for id_, count in session().execute(query)}


def total_followers(followers: Iterable[int | None]) -> int | None:
    """The total row's followers: the rows' creators added up (None when no row is a creator)."""
    known = [f for f in followers if f is not None]
    return sum(known) if known else None
