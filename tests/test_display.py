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
