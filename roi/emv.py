"""Earned media value: what a post's reach and engagement would cost as ads."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class EmvRates:
    """Per-shop EMV rates, in shop currency.

    The product's defaults: CPM 5.00 per thousand impressions, and per action
    0.10 a like, 0.50 a comment, 1.00 a share, 0.75 a save, 0.50 a click.
    """

    cpm: Decimal = Decimal("5.00")
    like: Decimal = Decimal("0.10")
    comment: Decimal = Decimal("0.50")
    share: Decimal = Decimal("1.00")
    save: Decimal = Decimal("0.75")
    click: Decimal = Decimal("0.50")


def emv(
    impressions: int,
    likes: int,
    comments: int,
    shares: int,
    saves: int,
    clicks: int,
    rates: EmvRates = EmvRates(),
) -> Decimal:
    """impressions ÷ 1000 × CPM + Σ actions × per-action value, in cents."""
    return emv_exact(impressions, likes, comments, shares, saves, clicks, rates).quantize(_CENT, rounding=ROUND_HALF_UP)


def emv_exact(
    impressions: int,
    likes: int,
    comments: int,
    shares: int,
    saves: int,
    clicks: int,
    rates: EmvRates = EmvRates(),
) -> Decimal:
    """`emv` before rounding to the cent: what rows are split by so that they add up to the
    total (`roi.allocation.emv_by_part`)."""
    return (
        Decimal(impressions) / 1000 * rates.cpm
        + likes * rates.like
        + comments * rates.comment
        + shares * rates.share
        + saves * rates.save
        + clicks * rates.click
    )
