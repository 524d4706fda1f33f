"""Payout batches: which ledger lines a payout gathers and what each creator is paid.

A payout for a period takes, per creator, every `approved` line approved on or before the
period's last day, and nets against it every `clawed_back` line not yet netted (a refund after an
earlier payout: negative). A creator is paid when that net reaches the shop's minimum; below it,
their lines wait for a later payout untouched. `held` lines (a flag holds the commission) are
shown beside, never paid. The rows' amounts always add up to the payout's total, and a line is in
at most one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from roi.pay import owed

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """One ledger line as the payout reads it."""

    id: int
    influencer_id: int
    amount: Decimal
    state: str
    approved_on: date | None = None  # the shop-local day it was approved (approved lines)
    netted: bool = False  # a clawed_back line already netted against a payout


@dataclass
class Row:
    influencer_id: int
    earned: Decimal = ZERO
    clawed_back: Decimal = ZERO
    held: Decimal = ZERO
    line_ids: list[int] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return self.earned + self.clawed_back


@dataclass(frozen=True)
class Batch:
    rows: list[Row]  # creators paid, by influencer id
    below_minimum: list[Row]  # creators with lines to pay, short of the minimum (or owing)

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), ZERO)

    @property
    def line_ids(self) -> list[int]:
        return [line_id for row in self.rows for line_id in row.line_ids]


def gather(lines: Iterable[Line], period_end: date, minimum: Decimal) -> Batch:
    """The payout of `lines` for the period ending `period_end`, paying creators owed `minimum` or more."""
    by_creator: dict[int, Row] = {}
    for line in lines:
        row = by_creator.setdefault(line.influencer_id, Row(line.influencer_id))
        if line.state == "approved" and line.approved_on is not None and line.approved_on <= period_end:
            row.earned += line.amount
            row.line_ids.append(line.id)
        elif line.state == "clawed_back" and not line.netted:
            row.clawed_back += line.amount
            row.line_ids.append(line.id)
        elif line.state == "held":
            row.held += line.amount
    paid, short = [], []
    for influencer_id in sorted(by_creator):
        row = by_creator[influencer_id]
        row.line_ids.sort()
        if not row.line_ids:
            continue
        # Nothing approved to pay: a clawback alone waits for the creator's next earnings.
        if row.earned > ZERO and row.amount >= minimum and row.amount > ZERO:
            paid.append(row)
        else:
            short.append(row)
    return Batch(rows=paid, below_minimum=short)


def creator_totals(lines: Iterable[Line]) -> dict[str, Decimal]:
    """A creator's money by state, and what is owed: approved + pending + held, less the clawbacks
    not netted yet (the API's `owed`; lines in an open payout are counted under `in_payout`)."""
    totals = dict.fromkeys(("pending", "approved", "held", "in_payout", "paid", "reversed", "clawed_back"), ZERO)
    unnetted = ZERO
    for line in lines:
        if line.state in totals:
            totals[line.state] += line.amount
        if line.state == "clawed_back" and not line.netted:
            unnetted += line.amount
    totals["owed"] = owed(totals, unnetted)
    return totals
