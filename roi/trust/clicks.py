"""Clicks on a creator's links as the trust signals see them, and how many of them count.

A click counts once per visitor (same IP and browser) per window: someone reloading the page
or tapping the link again is one visit, not ten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from roi.trust.settings import TRUST_SETTINGS, TrustSettings


@dataclass(frozen=True)
class LinkClick:
    clicked_at: datetime
    # The IP as stored with the click (the app keeps a keyed hash of it, never the address).
    ip_key: str | None
    user_agent: str | None
    click_id: str | None = None


def counted_clicks(clicks: Iterable[LinkClick], settings: TrustSettings = TRUST_SETTINGS) -> list[LinkClick]:
    """The clicks that count: per IP and browser, the first one and then the first one at least
    `click_dedupe_minutes` after the last counted one. A click without an IP cannot be told
    from others, so it counts."""
    window = timedelta(minutes=settings.click_dedupe_minutes)
    last_counted: dict[tuple[str, str], datetime] = {}
    kept: list[LinkClick] = []
    for click in sorted(clicks, key=lambda c: c.clicked_at):
        if click.ip_key is None:
            kept.append(click)
            continue
        visitor = (click.ip_key, click.user_agent or "")
        previous = last_counted.get(visitor)
        if previous is None or click.clicked_at - previous >= window:
            last_counted[visitor] = click.clicked_at
            kept.append(click)
    return kept


def count_clicks(clicks: Iterable[LinkClick], settings: TrustSettings = TRUST_SETTINGS) -> int:
    return len(counted_clicks(clicks, settings))
