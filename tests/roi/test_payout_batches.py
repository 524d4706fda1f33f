"""Which lines a payout gathers: approved by the period's end, clawbacks netted, the minimum."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from roi.payouts import Line, gather

END = date(2026, 11, 30)


def test_approved_lines_up_to_the_period_end_are_paid_and_later_ones_wait():
    lines = [
        Line(1, 7, D("20.00"), "approved", date(2026, 11, 2)),
        Line(2, 7, D("15.00"), "approved", date(2026, 11, 30)),
        Line(3, 7, D("40.00"), "approved", date(2026, 12, 1)),  # approved after the period
        Line(4, 7, D("9.00"), "pending"),
        Line(5, 7, D("3.00"), "paid", date(2026, 10, 1)),
    ]
    batch = gather(lines, END, D("25.00"))
    assert [(r.influencer_id, r.amount, r.line_ids) for r in batch.rows] == [(7, D("35.00"), [1, 2])]
    assert batch.total == D("35.00") and batch.below_minimum == []


def test_a_creator_under_the_minimum_waits_and_at_the_minimum_is_paid():
    lines = [
        Line(1, 7, D("24.99"), "approved", date(2026, 11, 1)),
        Line(2, 8, D("25.00"), "approved", date(2026, 11, 1)),
    ]
    batch = gather(lines, END, D("25.00"))
    assert [r.influencer_id for r in batch.rows] == [8]
    assert [(r.influencer_id, r.amount) for r in batch.below_minimum] == [(7, D("24.99"))]
    assert batch.line_ids == [2]


def test_a_clawback_nets_against_the_next_payout_once():
    lines = [
        Line(1, 7, D("60.00"), "approved", date(2026, 11, 3)),
        Line(2, 7, D("-7.00"), "clawed_back"),
        Line(3, 7, D("-5.00"), "clawed_back", netted=True),  # netted by an earlier payout
        Line(4, 7, D("12.00"), "held"),
    ]
    (row,) = gather(lines, END, D("25.00")).rows
    assert (row.earned, row.clawed_back, row.amount, row.held) == (D("60.00"), D("-7.00"), D("53.00"), D("12.00"))
    assert row.line_ids == [1, 2]


def test_a_clawback_larger_than_the_earnings_keeps_the_creator_out():
    lines = [Line(1, 7, D("30.00"), "approved", date(2026, 11, 3)), Line(2, 7, D("-10.00"), "clawed_back")]
    batch = gather(lines, END, D("25.00"))
    assert batch.rows == [] and batch.below_minimum[0].amount == D("20.00")
    # A clawback alone is never a payout, whatever the minimum.
    assert gather([Line(2, 7, D("-10.00"), "clawed_back")], END, D("0.00")).rows == []


def test_rows_add_up_to_the_total():
    lines = [Line(i, i % 3, D(f"{10 + i}.25"), "approved", date(2026, 11, i)) for i in range(1, 20)]
    batch = gather(lines, END, D("25.00"))
    assert batch.total == sum(r.amount for r in batch.rows)
    assert len(set(batch.line_ids)) == len(batch.line_ids)


def test_what_a_creator_is_owed_subtracts_the_clawbacks_not_yet_netted():
    from roi.payouts import creator_totals

    totals = creator_totals(
        [
            Line(1, 7, D("10.00"), "pending"),
            Line(2, 7, D("20.00"), "approved", date(2026, 11, 1)),
            Line(3, 7, D("5.00"), "held"),
            Line(4, 7, D("-3.00"), "clawed_back"),
            Line(5, 7, D("-4.00"), "clawed_back", netted=True),
            Line(6, 7, D("50.00"), "paid"),
            Line(7, 7, D("8.00"), "in_payout"),
        ]
    )
    assert totals["owed"] == D("32.00")
    assert (totals["paid"], totals["in_payout"], totals["clawed_back"]) == (D("50.00"), D("8.00"), D("-7.00"))
