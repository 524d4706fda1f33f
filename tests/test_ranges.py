"""The overview's date presets, as the days a merchant expects them to cover."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.ranges import PRESETS, preset_days

TODAY = date(2026, 3, 5)


@pytest.mark.parametrize(
    "name, days",
    [
        ("7d", (date(2026, 2, 27), TODAY)),
        ("30d", (date(2026, 2, 4), TODAY)),
        ("90d", (date(2025, 12, 6), TODAY)),
        ("month", (date(2026, 3, 1), TODAY)),
        ("last_month", (date(2026, 2, 1), date(2026, 2, 28))),
        ("year", (date(2026, 1, 1), TODAY)),
        ("all", (date(2019, 6, 2), TODAY)),
    ],
)
def test_each_preset_covers_the_days_its_name_says(name, days) -> None:
    assert preset_days(name, TODAY, first_figure=date(2019, 6, 2)) == days


def test_all_time_of_a_store_without_figures_is_today() -> None:
    assert preset_days("all", TODAY, first_figure=None) == (TODAY, TODAY)


def test_last_month_in_january_is_last_december() -> None:
    assert preset_days("last_month", date(2027, 1, 15), None) == (date(2026, 12, 1), date(2026, 12, 31))


def test_every_preset_has_a_label_and_all_time_is_offered() -> None:
    assert ("all", "All time") in PRESETS and all(label for _, label in PRESETS)
