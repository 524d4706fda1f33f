"""Splitting a figure into shares that add up to it exactly, and sales by content type.

Largest remainder. Each share gets its exact proportion rounded down to the unit (a cent
for money, one for a count); the units the rounding left over go one each to the shares
whose rounding took the most (the earlier share on a tie). The parts add up to the whole
exactly and none is a unit or more away from its exact proportion. Money finer than a
cent (commission is rate × sales) leaves a remainder below a cent: it stays with the
largest share, so the sum is still exact.

Content type. Orders carry no content type, so a creator's sales, clicks and costs are
allocated to the content types of the creator's posts in proportion to those posts'
engagements (likes, comments, shares, saves), or to their number when none has any.
Figures of a creator without a post, and shop-wide ones, stay unallocated (key None).
Posts' own figures stay with their content type.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol, overload

from roi.emv import EmvRates, emv, emv_exact
from roi.metrics import Totals, add_up

CENT = Decimal("0.01")
_FIELDS = tuple(f.name for f in fields(Totals))


@overload
def largest_remainder(whole: Decimal, weights: Sequence[Decimal | int | float]) -> list[Decimal]: ...
@overload
def largest_remainder(whole: int, weights: Sequence[Decimal | int | float]) -> list[int]: ...


def largest_remainder(whole: Decimal | int, weights: Sequence[Decimal | int | float]) -> list[Decimal] | list[int]:
    """`whole` in parts proportional to `weights`: in cents (Decimal) or ones (int), exactly.

    Weights must not be negative and not all zero (ValueError); a zero weight gets nothing.
    """
    shares, total = _shares(weights)
    return _money_parts(whole, shares, total) if isinstance(whole, Decimal) else _count_parts(whole, shares, total)


def split_totals(totals: Totals, weights: Sequence[int]) -> list[Totals]:
    """Every figure of `totals` split by `largest_remainder`: the parts add up to `totals`."""
    shares, total = _shares(weights)  # once for every figure
    columns: dict[str, list[Any]] = {}
    for name in _FIELDS:
        value = getattr(totals, name)
        columns[name] = (
            _money_parts(value, shares, total) if isinstance(value, Decimal) else _count_parts(value, shares, total)
        )
    return [Totals.of({name: column[i] for name, column in columns.items()}) for i in range(len(shares))]


def emv_by_part(parts: Sequence[Totals], rates: EmvRates) -> list[Decimal]:
    """Each part's EMV in cents, adding up to the EMV of all of them (rounded once), as the
    report's other money columns add up to their total: the total split by largest remainder
    in proportion to the parts' exact EMVs, so none is a cent or more from its own."""
    whole = add_up(parts)
    total = emv(whole.impressions, whole.likes, whole.comments, whole.shares, whole.saves, whole.clicks, rates)
    exact = [emv_exact(p.impressions, p.likes, p.comments, p.shares, p.saves, p.clicks, rates) for p in parts]
    if not total or min(exact, default=Decimal(0)) < 0 or not any(exact):
        # Nothing to split (or a negative rate, which settings refuse): each part's own EMV.
        return [emv(p.impressions, p.likes, p.comments, p.shares, p.saves, p.clicks, rates) for p in parts]
    return largest_remainder(total, exact)


def _shares(weights: Sequence[Decimal | int | float]) -> tuple[list[Decimal | int], Decimal | int]:
    """The weights as exact numbers (a float as its exact decimal value), and their sum."""
    if not weights or min(weights) < 0:
        raise ValueError("weights must be given and none negative")
    shares = [w if type(w) is int else Decimal(w) for w in weights]
    total = sum(shares)
    if total == 0:
        raise ValueError("weights must not all be zero")
    return shares, total


def _by_remainder(exact: list[Decimal], parts: Sequence[Decimal | int]) -> list[int]:
    """Indexes of the shares, the one whose rounding down took the most first (earlier on a tie)."""
    return sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))


def _money_parts(whole: Decimal, shares: list[Decimal | int], total: Decimal | int) -> list[Decimal]:
    if not whole:
        return [whole] * len(shares)
    exact = [whole * w / total for w in shares]
    parts = [(x / CENT).to_integral_value(rounding=ROUND_FLOOR) * CENT for x in exact]
    left = whole - sum(parts)
    cents = int(left / CENT)
    if cents:
        for i in _by_remainder(exact, parts)[:cents]:
            parts[i] += CENT
        left -= cents * CENT
    if left:  # below a cent: the largest share takes it
        parts[max(range(len(shares)), key=lambda i: (shares[i], -i))] += left
    return parts


def _count_parts(whole: int, shares: list[Decimal | int], total: Decimal | int) -> list[int]:
    if not whole:
        return [0] * len(shares)
    exact = [Decimal(whole) * w / total for w in shares]
    parts = [math.floor(x) for x in exact]
    left = whole - sum(parts)
    for i in _by_remainder(exact, parts)[:left]:
        parts[i] += 1
    return parts


class CreatorFigures(Protocol):
    """Summed figures of one creator (None: shop-wide), from posts of one content type or
    (content type None) from sales, clicks and costs."""

    @property
    def influencer_id(self) -> int | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def posts(self) -> int: ...
    @property
    def totals(self) -> Totals: ...


@dataclass
class _Posted:
    """A creator's posts of one content type: what their other figures are split by."""

    engagements: int = 0
    posts: int = 0


def by_content_type(figures: Iterable[CreatorFigures]) -> dict[str | None, Totals]:
    """Totals per content type (None: unallocated), adding up to the figures' sum."""
    groups: dict[str | None, list[Totals]] = defaultdict(list)
    posted: dict[int | None, dict[str, _Posted]] = {}
    unposted: dict[int | None, list[Totals]] = defaultdict(list)
    for piece in figures:
        if piece.content_type is not None:
            groups[piece.content_type].append(piece.totals)
            found = posted.setdefault(piece.influencer_id, {}).setdefault(piece.content_type, _Posted())
            found.engagements += piece.totals.engagements
            found.posts += piece.posts
        else:
            unposted[piece.influencer_id].append(piece.totals)
    for influencer_id, parts in unposted.items():
        by_type = posted.get(influencer_id) if influencer_id is not None else None
        if not by_type:
            groups[None] += parts
            continue
        types = sorted(by_type)
        shares = [by_type[t].engagements for t in types]
        if not any(shares):
            shares = [by_type[t].posts for t in types]
        for content_type, part in zip(types, split_totals(add_up(parts), shares)):
            groups[content_type].append(part)
    return {key: add_up(parts) for key, parts in groups.items()}
