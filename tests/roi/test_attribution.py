"""Attribution rules from DESIGN.md, on the fixture story and at the edges of each window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories.shopify import fixture_json
from roi.attribution import (
    NOT_A_CONVERSION,
    AttributionResult,
    AttributionSettings,
    Binding,
    ClickFacts,
    Lookup,
    OrderFacts,
    attribute_customer_history,
    attribute_order,
)
from roi.money import (
    is_cancelled,
    is_test,
    is_voided,
    landing_params,
    net_sales,
    order_codes,
    order_subtotal,
    parse_shopify_time,
    refunds_in_order,
    survey_answers,
)

ANNA, BEN = 7, 8
SETTINGS = AttributionSettings()
T0 = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)


def facts(payload: dict[str, Any], order_id: int) -> OrderFacts:
    """What the worker would derive from a stored payload."""
    subtotal = order_subtotal(payload)
    assert subtotal is not None
    net = net_sales(subtotal, refunds_in_order(payload))
    placed_at = parse_shopify_time(payload["created_at"])
    assert placed_at is not None
    customer = payload.get("customer")
    return OrderFacts(
        order_id=order_id,
        placed_at=placed_at,
        customer_key=str(customer["id"]) if customer else None,
        codes=order_codes(payload),
        landing=landing_params(payload.get("landing_site")),
        survey=survey_answers(payload),
        # What models.Order.is_countable says of the stored order.
        eligible=not (is_cancelled(payload) or is_voided(payload) or is_test(payload)) and net > 0,
        net=net,
    )


def fixture(name: str, order_id: int) -> OrderFacts:
    return facts(fixture_json(name), order_id)


ANNA_CLICK = ClickFacts("01JD3K8Q2W", ANNA, "anna-lee", datetime(2026, 10, 15, 23, 40, tzinfo=UTC))
LOOKUP = Lookup(
    codes={"anna15": ANNA, "ben10": BEN},
    clicks={
        ANNA_CLICK.click_id: ANNA_CLICK,
        "BENCLICK01": ClickFacts("BENCLICK01", BEN, "ben", T0 - timedelta(days=1)),
    },
    handles={"anna.lee": ANNA, "ben_makes": BEN},
)


def order(
    order_id: int = 1,
    placed_at: datetime = T0,
    customer_key: str | None = "c1",
    codes: tuple[str, ...] = (),
    landing: dict[str, str] | None = None,
    survey: tuple[str, ...] = (),
    eligible: bool = True,
) -> OrderFacts:
    return OrderFacts(
        order_id,
        placed_at,
        customer_key,
        codes,
        landing or {},
        survey,
        eligible,
        Decimal("50.00") if eligible else Decimal("0.00"),
    )


def decisive(result: AttributionResult) -> dict[str, Any]:
    (piece,) = [piece for piece in result.evidence if piece["decisive"]]
    return piece


# --- the fixture story ---------------------------------------------------------


def test_1001_is_a_code_conversion() -> None:
    result = attribute_order(fixture("orders_create_code.json", 1001), LOOKUP, SETTINGS)
    assert (result.influencer_id, result.kind, result.rule) == (ANNA, "first", "code")
    assert decisive(result)["code"] == "ANNA15"
    # The landing page carries utm_source only: no click evidence to list.
    assert [piece["rule"] for piece in result.evidence] == ["code"]


def test_1001_stops_being_a_conversion_once_cancelled() -> None:
    cancelled = fixture("orders_updated_cancelled.json", 1001)
    assert cancelled.net == Decimal("0.00") and not cancelled.eligible
    result = attribute_order(cancelled, LOOKUP, SETTINGS)
    assert (result.influencer_id, result.kind, result.rule) == (None, None, None)
    # The code is still shown, so the merchant sees why it does not count.
    assert result.evidence[0]["code"] == "ANNA15" and result.evidence[0]["matched"]
    assert result.evidence[-1]["reason"] == NOT_A_CONVERSION


def test_1002_link_then_1003_survey_is_a_repeat_of_the_link() -> None:
    link = fixture("orders_create_link.json", 1002)
    survey = fixture("orders_create_survey.json", 1003)
    assert link.customer_key == survey.customer_key

    first, repeat = attribute_customer_history([survey, link], LOOKUP, SETTINGS)

    assert (first.order_id, first.influencer_id, first.kind, first.rule) == (1002, ANNA, "first", "click")
    assert decisive(first)["click_id"] == "01JD3K8Q2W"
    assert first.acquired_at == link.placed_at

    assert (repeat.order_id, repeat.influencer_id, repeat.kind, repeat.rule) == (1003, ANNA, "repeat", "repeat")
    assert repeat.acquired_at == link.placed_at
    why = decisive(repeat)
    assert why["acquiring_order_id"] == 1002
    assert why["acquired_at"] == "2026-10-15T23:47:19+00:00"
    # The survey still names her; it is listed, but it does not make a new customer.
    survey_piece = next(piece for piece in repeat.evidence if piece["rule"] == "survey")
    assert survey_piece["matched"] and not survey_piece["decisive"]
    assert survey_piece["handle"] == "anna.lee"


def test_1003_alone_is_a_survey_conversion() -> None:
    result = attribute_order(fixture("orders_create_survey.json", 1003), LOOKUP, SETTINGS)
    assert (result.influencer_id, result.kind, result.rule) == (ANNA, "first", "survey")


def test_evidence_is_json_serialisable() -> None:
    results = attribute_customer_history(
        [fixture("orders_create_link.json", 1002), fixture("orders_create_survey.json", 1003)],
        LOOKUP,
        SETTINGS,
    )
    for result in results:
        json.dumps(result.evidence)


# --- codes ---------------------------------------------------------------------


def test_code_matches_in_any_case() -> None:
    result = attribute_order(order(codes=("Anna15",)), LOOKUP, SETTINGS)
    assert (result.influencer_id, result.rule) == (ANNA, "code")


def test_unknown_code_is_listed_with_a_reason() -> None:
    result = attribute_order(order(codes=("WELCOME",)), LOOKUP, SETTINGS)
    assert result.influencer_id is None and result.kind is None
    assert result.evidence == (
        {
            "rule": "code",
            "matched": False,
            "decisive": False,
            "reason": "code does not belong to a creator",
            "code": "WELCOME",
        },
    )


def test_first_matching_code_decides() -> None:
    result = attribute_order(order(codes=("WELCOME", "BEN10", "ANNA15")), LOOKUP, SETTINGS)
    assert result.influencer_id == BEN
    assert [piece["matched"] for piece in result.evidence] == [False, True, True]


# --- clicks --------------------------------------------------------------------


def click_order(clicked_at: datetime, placed_at: datetime, **landing: str) -> AttributionResult:
    click = ClickFacts("C1", ANNA, "anna-lee", clicked_at)
    lookup = Lookup(clicks={"C1": click})
    params = {"ref": "anna-lee", "crid": "C1", **landing}
    return attribute_order(order(placed_at=placed_at, landing=params), lookup, SETTINGS)


def test_click_exactly_thirty_days_before_counts() -> None:
    result = click_order(T0 - timedelta(days=30), T0)
    assert (result.influencer_id, result.rule) == (ANNA, "click")


def test_click_thirty_days_and_a_second_before_is_expired() -> None:
    result = click_order(T0 - timedelta(days=30, seconds=1), T0)
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "click older than the 30-day window"


def test_click_after_the_order_is_rejected() -> None:
    result = click_order(T0 + timedelta(seconds=1), T0)
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "click after the order"


def test_click_at_the_order_instant_counts() -> None:
    assert click_order(T0, T0).influencer_id == ANNA


def test_window_follows_the_shop_setting() -> None:
    click = ClickFacts("C1", ANNA, "anna-lee", T0 - timedelta(days=8))
    lookup = Lookup(clicks={"C1": click})
    week = AttributionSettings(attribution_window_days=7)
    result = attribute_order(order(landing={"crid": "C1"}), lookup, week)
    assert result.evidence[0]["reason"] == "click older than the 7-day window"


def test_forged_click_id_is_rejected() -> None:
    result = click_order(T0, T0, crid="FORGED")
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "unknown click id"


def test_click_of_another_link_than_ref_is_rejected() -> None:
    result = click_order(T0 - timedelta(hours=1), T0, ref="ben")
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "click belongs to another link than ref"


def test_click_without_ref_still_counts() -> None:
    click = ClickFacts("C1", ANNA, "anna-lee", T0 - timedelta(hours=1))
    result = attribute_order(order(landing={"crid": "C1"}), Lookup(clicks={"C1": click}), SETTINGS)
    assert result.influencer_id == ANNA


def test_ref_without_click_id_is_not_enough() -> None:
    result = attribute_order(order(landing={"ref": "anna-lee"}), LOOKUP, SETTINGS)
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "ref without a click id"


# --- survey --------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "@anna.lee on TikTok",
        "anna.lee",
        "Saw @ANNA.LEE",
        "I follow anna.lee.",
        "tiktok (@anna.lee)",
        "anna.lee, and friends",
    ],
)
def test_survey_names_a_handle(answer: str) -> None:
    result = attribute_order(order(survey=(answer,)), LOOKUP, SETTINGS)
    assert (result.influencer_id, result.rule) == (ANNA, "survey")


@pytest.mark.parametrize(
    "answer",
    ["anna on TikTok", "@anna.leeway", "hanna.lee", "anna-lee", "a friend"],
)
def test_survey_needs_the_whole_handle(answer: str) -> None:
    result = attribute_order(order(survey=(answer,)), LOOKUP, SETTINGS)
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "answer names no creator's handle"


def test_survey_naming_two_creators_is_ambiguous() -> None:
    result = attribute_order(order(survey=("@anna.lee or @ben_makes",)), LOOKUP, SETTINGS)
    assert result.influencer_id is None
    assert result.evidence[0]["reason"] == "answer names several creators"
    assert result.evidence[0]["handles"] == ["anna.lee", "ben_makes"]


# --- evidence order ------------------------------------------------------------


def mixed_order() -> OrderFacts:
    return order(codes=("ANNA15",), landing={"ref": "ben", "crid": "BENCLICK01"}, survey=("@ben_makes",))


def test_code_outranks_click_and_survey_by_default() -> None:
    result = attribute_order(mixed_order(), LOOKUP, SETTINGS)
    assert (result.influencer_id, result.rule) == (ANNA, "code")
    assert [(p["rule"], p["matched"], p["decisive"]) for p in result.evidence] == [
        ("code", True, True),
        ("click", True, False),
        ("survey", True, False),
    ]


def test_evidence_order_is_configurable() -> None:
    clicks_first = AttributionSettings(evidence_order=("click", "code", "survey"))
    result = attribute_order(mixed_order(), LOOKUP, clicks_first)
    assert (result.influencer_id, result.rule) == (BEN, "click")
    assert [p["rule"] for p in result.evidence] == ["click", "code", "survey"]


def test_rule_left_out_of_the_order_is_not_used() -> None:
    survey_only = AttributionSettings(evidence_order=("survey",))
    result = attribute_order(order(codes=("ANNA15",)), LOOKUP, survey_only)
    assert result.influencer_id is None and result.evidence == ()


@pytest.mark.parametrize("rules", [("code", "coupon"), ("code", "code")])
def test_evidence_order_must_name_distinct_known_rules(rules: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="evidence_order"):
        AttributionSettings(evidence_order=rules)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        order(placed_at=datetime(2026, 10, 15, 12, 0))


# --- customer history ----------------------------------------------------------


def test_repeat_keeps_the_acquiring_creator_against_another_code() -> None:
    history = [order(1, T0, codes=("ANNA15",)), order(2, T0 + timedelta(days=10), codes=("BEN10",))]
    first, second = attribute_customer_history(history, LOOKUP, SETTINGS)
    assert (first.influencer_id, first.kind) == (ANNA, "first")
    assert (second.influencer_id, second.kind, second.rule) == (ANNA, "repeat", "repeat")
    ben_code = next(piece for piece in second.evidence if piece["rule"] == "code")
    assert ben_code["influencer_id"] == BEN and not ben_code["decisive"]


def test_repeat_without_any_evidence() -> None:
    history = [order(1, T0, codes=("ANNA15",)), order(2, T0 + timedelta(days=40))]
    assert [r.kind for r in attribute_customer_history(history, LOOKUP, SETTINGS)] == ["first", "repeat"]


def test_repeat_window_edges() -> None:
    edge = order(2, T0 + timedelta(days=90))
    past = order(3, T0 + timedelta(days=90, seconds=1))
    acquired = order(1, T0, codes=("ANNA15",))
    assert attribute_customer_history([acquired, edge], LOOKUP, SETTINGS)[1].kind == "repeat"
    assert attribute_customer_history([acquired, past], LOOKUP, SETTINGS)[1].kind is None


def test_after_the_window_another_creator_can_acquire_the_customer_again() -> None:
    history = [
        order(1, T0, codes=("ANNA15",)),
        order(2, T0 + timedelta(days=100), codes=("BEN10",)),
        order(3, T0 + timedelta(days=120), codes=("ANNA15",)),
    ]
    results = attribute_customer_history(history, LOOKUP, SETTINGS)
    assert [(r.influencer_id, r.kind) for r in results] == [(ANNA, "first"), (BEN, "first"), (BEN, "repeat")]
    assert results[2].acquired_at == T0 + timedelta(days=100)


def test_cancelled_first_order_makes_the_second_the_acquisition() -> None:
    history = [
        order(1, T0, codes=("ANNA15",), eligible=False),
        order(2, T0 + timedelta(days=3), codes=("ANNA15",)),
        order(3, T0 + timedelta(days=20)),
    ]
    results = attribute_customer_history(history, LOOKUP, SETTINGS)
    assert [(r.order_id, r.influencer_id, r.kind) for r in results] == [
        (1, None, None),
        (2, ANNA, "first"),
        (3, ANNA, "repeat"),
    ]
    assert results[0].evidence[-1]["reason"] == NOT_A_CONVERSION
    assert results[2].acquired_at == T0 + timedelta(days=3)


def test_ineligible_order_inside_the_window_is_not_a_repeat() -> None:
    history = [order(1, T0, codes=("ANNA15",)), order(2, T0 + timedelta(days=5), eligible=False)]
    second = attribute_customer_history(history, LOOKUP, SETTINGS)[1]
    assert (second.influencer_id, second.kind) == (None, None)


def test_guest_orders_are_judged_alone() -> None:
    history = [order(1, T0, customer_key=None, codes=("ANNA15",)), order(2, T0 + timedelta(days=1), customer_key=None)]
    assert [r.kind for r in attribute_customer_history(history, LOOKUP, SETTINGS)] == ["first", None]


def test_customers_passed_together_are_kept_apart() -> None:
    history = [order(1, T0, customer_key="a", codes=("ANNA15",)), order(2, T0 + timedelta(days=1), customer_key="b")]
    assert [r.kind for r in attribute_customer_history(history, LOOKUP, SETTINGS)] == ["first", None]


def test_binding_can_be_passed_to_a_single_order() -> None:
    binding = Binding(ANNA, T0, order_id=1)
    result = attribute_order(order(2, T0 + timedelta(days=1), codes=("BEN10",)), LOOKUP, SETTINGS, binding)
    assert (result.influencer_id, result.kind) == (ANNA, "repeat")
    assert attribute_order(order(1, T0, codes=("ANNA15",)), LOOKUP, SETTINGS).binding() == (binding)


def test_same_order_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        attribute_customer_history([order(1), order(1)], LOOKUP, SETTINGS)


# --- determinism ---------------------------------------------------------------

_ORDER_SPECS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200),  # days after T0 (ties on purpose)
        st.sampled_from(["a", "b", None]),  # customer
        st.sampled_from([(), ("ANNA15",), ("BEN10",), ("NOPE",)]),
        st.sampled_from([{}, {"crid": "BENCLICK01"}, {"ref": "anna-lee", "crid": "01JD3K8Q2W"}]),
        st.sampled_from([(), ("@anna.lee",), ("ben_makes",)]),
        st.booleans(),  # eligible
    ),
    max_size=12,
)


@given(_ORDER_SPECS, st.randoms(use_true_random=False))
def test_history_does_not_depend_on_input_order(specs: list[Any], rnd: Any) -> None:
    orders = [
        order(i, T0 + timedelta(days=days), customer, codes, landing, survey, eligible)
        for i, (days, customer, codes, landing, survey, eligible) in enumerate(specs)
    ]
    shuffled = list(orders)
    rnd.shuffle(shuffled)
    expected = attribute_customer_history(orders, LOOKUP, SETTINGS)
    assert attribute_customer_history(shuffled, LOOKUP, SETTINGS) == expected
    assert [r.order_id for r in expected] == [
        o.order_id for o in sorted(orders, key=lambda o: (o.placed_at, o.order_id))
    ]
    # Every repeat points at the customer's most recent acquisition.
    for result in expected:
        if result.kind == "repeat":
            assert result.acquired_at is not None
            assert decisive(result)["acquired_at"] == result.acquired_at.isoformat()
