"""Budget advice: how to split the next period's budget across creators.

Thompson sampling: each creator gets a share of the budget equal to the probability that their
ROI is the best of all (`CreatorRoi.p_best`, from the joint draws of `roi.intervals`), so a
dollar goes where it most likely earns the most, and a creator the data cannot yet separate
from the best still gets tried. Two guards follow:

* at least `NEW_CREATORS_SHARE` of the budget, in total, stays with creators of
  `NEW_CREATOR_ORDERS` orders or fewer (shared among them by their own probabilities, evenly
  when those are all zero): without it a creator who had one unlucky week is never tried
  again, and the advice never learns;
* no creator gets more than `MAX_SHARE`: one lucky month should not put most of the budget on
  one person; what a capped creator loses goes to the others by their shares, again and again
  until nobody is over.

Invariant: the shares add up to 1, none is over `MAX_SHARE`, the amounts add up to the budget
exactly (largest remainder, to the cent), and the same creators' figures give the same advice
(the draws behind them are seeded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from roi.allocation import largest_remainder
from roi.intervals import NOT_ENOUGH_CREATORS, CreatorRoi, Interval

NEW_CREATORS_SHARE = 0.05
NEW_CREATOR_ORDERS = 3
MAX_SHARE = 0.35
# Shares are floats: a share this close to a bound is on it.
_SLACK = 1e-12


@dataclass(frozen=True)
class AdviceLine:
    """One creator's part of the budget, and why."""

    influencer_id: int
    share: float
    amount: Decimal
    p_best: float
    roi: Interval
    reason: str


@dataclass(frozen=True)
class Advice:
    """The split of `budget`; `lines` empty with `reason` set when there is nothing to advise."""

    budget: Decimal
    lines: list[AdviceLine]
    reason: str | None = None


def advise_budget(budget: Decimal, creators: Sequence[CreatorRoi]) -> Advice:
    """Split `budget` across the creators that have an ROI interval (see the module docstring).

    A budget of zero or less is a ValueError naming `budget`. Fewer than three creators with an
    ROI interval: no lines, `NOT_ENOUGH_CREATORS` (no split of three or fewer keeps every share
    within `MAX_SHARE` otherwise).
    """
    if not isinstance(budget, Decimal) or not budget.is_finite() or budget <= 0:
        raise ValueError("budget must be a positive amount")
    compared = [c for c in creators if c.roi is not None and c.p_best is not None]
    if len(compared) * MAX_SHARE < 1:
        return Advice(budget, [], NOT_ENOUGH_CREATORS)
    p_best = [c.p_best or 0.0 for c in compared]
    new = [c.orders <= NEW_CREATOR_ORDERS for c in compared]
    shares = _capped(_with_new_creators(p_best, new))
    amounts = largest_remainder(budget, shares)
    lines = []
    for creator, share, amount, is_new in zip(compared, shares, amounts, new):
        assert creator.roi is not None
        lines.append(
            AdviceLine(
                influencer_id=creator.influencer_id,
                share=share,
                amount=amount,
                p_best=creator.p_best or 0.0,
                roi=creator.roi,
                reason=_reason(creator.roi, creator.p_best or 0.0, share, is_new),
            )
        )
    return Advice(budget, lines)


def _with_new_creators(p_best: Sequence[float], new: Sequence[bool]) -> list[float]:
    """The shares by probability, with new creators' total raised to NEW_CREATORS_SHARE."""
    total = sum(p_best)
    shares = [p / total for p in p_best] if total > 0 else [1 / len(p_best)] * len(p_best)
    kept = sum(s for s, n in zip(shares, new) if n)
    if not any(new) or all(new) or kept >= NEW_CREATORS_SHARE:
        return shares
    count = sum(new)
    others = 1 - kept
    return [
        (NEW_CREATORS_SHARE * (s / kept if kept > 0 else 1 / count)) if n else s * (1 - NEW_CREATORS_SHARE) / others
        for s, n in zip(shares, new)
    ]


def _capped(shares: list[float]) -> list[float]:
    """No share over MAX_SHARE: the excess goes to the shares under it, by their size (evenly
    when they are all zero), until none is over. Raising the others keeps new creators' total."""
    shares = list(shares)
    while True:
        over = [i for i, s in enumerate(shares) if s > MAX_SHARE + _SLACK]
        if not over:
            break
        excess = sum(shares[i] - MAX_SHARE for i in over)
        for i in over:
            shares[i] = MAX_SHARE
        under = [i for i, s in enumerate(shares) if s < MAX_SHARE - _SLACK]
        if not under:  # cannot happen with three or more shares summing to 1
            break
        room = sum(shares[i] for i in under)
        for i in under:
            shares[i] += excess * (shares[i] / room if room > 0 else 1 / len(under))
    total = sum(shares)
    return [min(s / total, MAX_SHARE) for s in shares]


def _reason(roi: Interval, p_best: float, share: float, is_new: bool) -> str:
    why = (
        f"ROI between {_percent(roi.p10)} and {_percent(roi.p90)} (80% sure), "
        f"{_percent(p_best, sign=False)} chance of being the best per dollar"
    )
    if is_new and share > p_best + _SLACK:
        why += f"; part of the {_percent(NEW_CREATORS_SHARE, sign=False)} kept to try creators with few orders"
    if share >= MAX_SHARE - _SLACK:
        why += f"; capped at {_percent(MAX_SHARE, sign=False)} of the budget"
    return why


def _percent(value: float, *, sign: bool = True) -> str:
    return f"{value:+.0%}" if sign else f"{value:.0%}"
