"""Building and adding Totals the fast way gives the same figures as the plain way."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.metrics import Totals, add_up

D = Decimal
FIELDS = [f.name for f in dataclasses.fields(Totals)]
A = Totals(cost=D("50.00"), orders=2, revenue=D("100.00"), likes=3, engagements=3)
B = Totals(cost=D("0.125"), repeat_revenue=D("40.00"), clicks=9)


def test_totals_of_a_mapping_equal_the_same_totals_built_by_keyword() -> None:
    figures = {name: getattr(A, name) for name in FIELDS}
    built = Totals.of(figures)
    assert built == A and repr(built) == repr(A)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.cost = D("1.00")  # type: ignore[misc]


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_totals_of_refuses_a_mapping_that_is_not_every_field(change: str) -> None:
    figures = {name: 0 for name in FIELDS}
    if change == "missing":
        del figures["saves"]
    else:
        figures["posts"] = 1
    with pytest.raises(TypeError):
        Totals.of(figures)


def test_adding_up_equals_adding_one_by_one() -> None:
    assert add_up([A, B, A]) == A + B + A
    assert add_up([B]) == B
    assert add_up([]) == Totals()


@given(
    st.lists(
        st.builds(
            Totals,
            cost=st.decimals(-(10**6), 10**6, places=4),
            clicks=st.integers(0, 10**6),
            revenue=st.decimals(0, 10**6, places=2),
        ),
        max_size=8,
    )
)
def test_adding_up_any_parts_equals_their_sum(parts: list[Totals]) -> None:
    assert add_up(parts) == sum(parts, Totals())
