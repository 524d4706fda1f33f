"""What a creator earns under a plan: commissions, refunds, repeats, tiers, caps and fees."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from roi.pay import (
    Dated,
    OrderMoney,
    Terms,
    Tier,
    add_months,
    cap_cut,
    flat_fee_for_month,
    months_in_force,
    order_commission,
    overlapping_tiers,
    owed,
    plan_for_day,
    plans_overlap,
    presentment_amount,
    refund_reversals,
    refunds_over_base,
    repeat_is_paid,
    tier_bonus,
)

D = Decimal


def test_the_100_dollar_order_at_10_percent_with_a_30_dollar_refund_leaves_7() -> None:
    commission = order_commission(Terms(commission_percent=D("10")), D("100.00"), repeat=False)
    (reversal,) = refund_reversals(commission, D("100.00"), [D("30.00")])
    assert (commission, reversal, commission + reversal) == (D("10.00"), D("-3.00"), D("7.00"))


def test_a_fixed_commission_per_order_and_none_on_an_empty_order() -> None:
    terms = Terms(commission_fixed=D("4.50"))
    assert order_commission(terms, D("80.00"), repeat=False) == D("4.50")
    assert order_commission(terms, D("0.00"), repeat=False) == D("0.00")


def test_repeat_orders_earn_the_repeat_rate_or_the_first_order_rate() -> None:
    both = Terms(commission_percent=D("15"), repeat_commission_percent=D("5"))
    assert order_commission(both, D("200.00"), repeat=True) == D("10.00")
    assert order_commission(both, D("200.00"), repeat=False) == D("30.00")
    assert order_commission(Terms(commission_percent=D("15")), D("200.00"), repeat=True) == D("30.00")


def test_repeats_are_paid_for_n_months_after_the_first_order_never_for_0_always_for_blank() -> None:
    first = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert repeat_is_paid(3, first, datetime(2026, 4, 30, 11, tzinfo=UTC))  # Feb has no 31st: Apr 30 is the end
    assert not repeat_is_paid(3, first, datetime(2026, 4, 30, 12, tzinfo=UTC))
    assert not repeat_is_paid(0, first, datetime(2026, 2, 1, tzinfo=UTC))
    assert repeat_is_paid(None, first, datetime(2036, 2, 1, tzinfo=UTC))
    assert add_months(first, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_a_refund_larger_than_what_is_left_reverses_only_the_rest() -> None:
    assert refund_reversals(D("10.00"), D("100.00"), [D("80.00"), D("50.00")]) == [D("-8.00"), D("-2.00")]
    assert refunds_over_base(D("100.00"), [D("80.00"), D("50.00")]) == D("30.00")


@given(
    st.integers(1, 100000).map(lambda c: D(c) / 100),
    st.integers(1, 100000).map(lambda c: D(c) / 100),
    st.lists(st.integers(0, 50000).map(lambda c: D(c) / 100), max_size=5),
)
def test_refund_reversals_add_up_to_the_rounded_share_however_refunds_are_split(commission, base, refunds) -> None:
    total = sum(refund_reversals(commission, base, refunds), D("0.00"))
    share = min(sum(refunds, D("0")), base) / base
    assert total == -(commission * share).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert sum(refund_reversals(commission, base, list(reversed(refunds))), D("0")) == total


LADDER = (Tier("net_revenue", D("1000"), percent=D("5")), Tier("net_revenue", D("2000"), percent=D("10")))


def test_marginal_tiers_pay_each_rate_on_the_part_above_its_threshold() -> None:
    # 5 % of 1000..2000 (50) + 10 % of 2000..2500 (50).
    assert tier_bonus(LADDER, "marginal", D("2500.00"), 0) == D("100.00")
    assert tier_bonus(LADDER, "marginal", D("999.99"), 0) == D("0.00")


def test_retroactive_tiers_pay_the_highest_rate_reached_on_everything() -> None:
    assert tier_bonus(LADDER, "retroactive", D("2500.00"), 0) == D("250.00")


def test_amount_tiers_on_new_customers() -> None:
    tiers = (Tier("new_customers", D("10"), amount=D("50")), Tier("new_customers", D("20"), amount=D("120")))
    assert tier_bonus(tiers, "marginal", D("0"), 25) == D("170.00")
    assert tier_bonus(tiers, "retroactive", D("0"), 25) == D("120.00")
    assert tier_bonus(tiers, "marginal", D("0"), 9) == D("0.00")


def test_two_tiers_of_one_metric_at_one_threshold_overlap() -> None:
    assert overlapping_tiers(
        (Tier("net_revenue", D("100"), percent=D("1")), Tier("net_revenue", D("100"), amount=D("5")))
    )
    assert not overlapping_tiers(LADDER + (Tier("new_customers", D("1000"), amount=D("5")),))


def test_the_cap_cuts_what_a_month_pays_over_it() -> None:
    assert cap_cut(D("130.00"), D("100.00")) == D("-30.00")
    assert cap_cut(D("90.00"), D("100.00")) == D("0.00")
    assert cap_cut(D("130.00"), None) == D("0.00")


def test_the_plan_in_force_on_the_day_the_creators_own_before_the_shops_default() -> None:
    old, new = Dated(1, date(2026, 1, 1), date(2026, 3, 14)), Dated(2, date(2026, 3, 15), None)
    default = [Dated(9, date(2025, 1, 1), None)]
    assert plan_for_day([old, new], default, date(2026, 3, 14)) == old
    assert plan_for_day([old, new], default, date(2026, 3, 15)) == new
    assert plan_for_day([old, new], default, date(2025, 6, 1)) == default[0]
    assert plan_for_day([old], [], date(2026, 4, 1)) is None
    assert not plans_overlap(old, new)
    assert plans_overlap(new, Dated(3, date(2030, 1, 1), date(2030, 1, 1)))


def test_a_monthly_fee_is_prorated_to_the_days_in_force() -> None:
    plan = Dated(1, date(2026, 4, 16), None)  # 15 of April's 30 days
    assert flat_fee_for_month(D("300.00"), plan, date(2026, 4, 1)) == D("150.00")
    assert flat_fee_for_month(D("300.00"), plan, date(2026, 5, 1)) == D("300.00")
    assert flat_fee_for_month(D("300.00"), plan, date(2026, 3, 1)) == D("0.00")
    assert months_in_force(plan, date(2026, 6, 2)) == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]


def test_owed_is_approved_pending_and_held_less_clawbacks_not_yet_netted() -> None:
    totals = {"pending": D("7.00"), "approved": D("20.00"), "held": D("3.00"), "paid": D("100.00")}
    assert owed(totals, D("-5.00")) == D("25.00")


EURO_ORDER = OrderMoney(base=D("95.91"), currency="USD", presentment_base=D("88.40"), presentment_currency="EUR")


def test_a_line_shows_in_the_buyers_currency_in_the_orders_own_proportion_to_the_cent():
    assert presentment_amount(D("9.59"), EURO_ORDER) == (D("8.84"), "EUR")
    assert presentment_amount(D("-3.69"), EURO_ORDER) == (D("-3.40"), "EUR")
    assert presentment_amount(D("0.00"), EURO_ORDER) == (D("0.00"), "EUR")


def test_nothing_shows_beside_without_presentment_money_in_the_shop_currency_or_without_a_base():
    from dataclasses import replace

    assert presentment_amount(D("9.59"), replace(EURO_ORDER, presentment_base=None)) is None
    assert presentment_amount(D("9.59"), replace(EURO_ORDER, presentment_currency=None)) is None
    assert presentment_amount(D("9.59"), replace(EURO_ORDER, presentment_currency="USD")) is None
    assert presentment_amount(D("9.59"), replace(EURO_ORDER, base=D("0.00"))) is None
    assert presentment_amount(D("9.59"), replace(EURO_ORDER, presentment_base=D("-1.00"))) is None
    # The shop currency unknown: the proportion still shows (the currencies cannot be told equal).
    assert presentment_amount(D("9.59"), replace(EURO_ORDER, currency=None)) == (D("8.84"), "EUR")
