"""The one-line summary of an attribution reads as a merchant would say it."""

from __future__ import annotations

from plugin.display import attribution_summary


def _decisive(**piece: object) -> list[dict[str, object]]:
    return [{"rule": "code", "matched": False, "reason": "code of no creator"}, {**piece, "decisive": True}]


def test_a_click_says_how_long_before_the_order_it_came() -> None:
    def click(placed: str) -> str:
        return attribution_summary(
            "click", _decisive(rule="click", clicked_at="2026-09-01T10:00:00+00:00", placed_at=placed), {}
        )

    assert click("2026-09-04T09:00:00+00:00") == "click 2 days before"
    assert click("2026-09-02T10:00:00+00:00") == "click 1 day before"
    assert click("2026-09-01T13:30:00+00:00") == "click 3 hours before"
    assert click("2026-09-01T10:20:00+00:00") == "click minutes before"
    assert attribution_summary("click", _decisive(rule="click", clicked_at="?", placed_at="?"), {}) == (
        "click on a referral link"
    )


def test_a_repeat_names_the_order_that_acquired_the_customer() -> None:
    evidence = _decisive(rule="repeat", acquiring_order_id=7)
    assert attribution_summary("repeat", evidence, {7: "#1002"}) == "repeat of #1002"
    assert attribution_summary("repeat", evidence, {}) == "repeat of order 7"


def test_codes_surveys_and_no_decision() -> None:
    assert attribution_summary("code", _decisive(rule="code", code="ANNA15"), {}) == "code ANNA15"
    assert attribution_summary("survey", _decisive(rule="survey", handle="anna"), {}) == "survey: @anna"
    refused = [{"rule": "code", "reason": "code of no creator"}, {"rule": "click", "reason": "click too old"}]
    assert attribution_summary(None, refused, {}) == "not attributed: code of no creator; click too old"
    assert attribution_summary(None, [], {}) == "no evidence"


# --- one rule for ratios: one decimal place, percentages and multiples alike ---------------------


def test_percentages_and_multiples_read_at_one_decimal_place() -> None:
    from decimal import Decimal

    from plugin.display import percent, times

    # Small and large side by side read at one precision (not "-6.16%" beside "-27.6%").
    assert percent(-0.0616) == "-6.2%" and percent(-0.276) == "-27.6%"
    assert percent(0.0137) == "1.4%" and percent(5.93) == "593.0%" and percent(12.345) == "1,234.5%"
    assert percent(Decimal("0.32")) == "32.0%" and percent(0.00049) == "<0.1%"
    assert times(6.93) == "6.9×" and times(0.25) == "0.3×" and times(1234.56) == "1,234.6×"
    assert percent(0.0) == "0.0%" and times(0) == "0.0×"
    assert percent(None) == "—" and times(None) == "—"  # no denominator: a dash, never 0


def test_a_ratio_that_rounds_to_zero_says_it_is_not_zero() -> None:
    from plugin.display import percent, times

    assert percent(1 / 30000) == "<0.1%"  # one click on 30,000 impressions
    assert percent(-1 / 30000) == ">-0.1%"
    assert times(0.04) == "<0.1×"
    assert percent(-0.0004) == ">-0.1%" and percent(0.0005) == "0.1%"  # half up, as money rounds
    assert percent(-0.00001) != "-0.0%"


def test_every_figure_kind_goes_through_one_formatter() -> None:
    from decimal import Decimal

    from plugin.display import figure

    assert figure(0.0616, "percent") == "6.2%" and figure(6.93, "times") == "6.9×"
    assert figure(Decimal("1234.5"), "money", "EUR") == "€1,234.50" and figure(1200, "count") == "1,200"
