"""The trust thresholds: the issue's defaults, and every field out of range named (the API
answers 422 with these messages)."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from roi.trust.settings import TRUST_SETTINGS, TrustSettings, invalid_fields


def test_the_defaults_are_the_ones_merchants_start_from():
    s = TRUST_SETTINGS
    assert (s.self_referral_hold, s.self_referral_flag, s.self_referral_click_days) == (70, 40, 30)
    assert (s.leak_click_days, s.leak_window_days, s.leak_min_orders, s.leak_unexplained_share) == (7, 14, 10, 0.25)
    assert (s.leak_spike_multiple, s.leak_median_days) == (3.0, 28)
    assert (s.click_dedupe_minutes, s.click_injection_seconds) == (60, 15)
    assert (s.flooding_late_hours, s.flooding_late_share) == (24, 0.30)
    assert (s.junk_min_clicks, s.junk_max_conversion) == (2000, 0.001)
    assert (s.engagement_low_quantile, s.engagement_high_quantile) == (0.25, 0.90)
    assert (s.follower_jump_share, s.follower_jump_engagement_drop, s.round_jump_unit) == (0.10, 0.30, 1000)
    assert invalid_fields(s) == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"self_referral_hold": 101}, "self_referral_hold", "must be a score from 1 to 100"),
        ({"self_referral_flag": 0}, "self_referral_flag", "must be a score from 1 to 100"),
        ({"self_referral_flag": 80}, "self_referral_flag", "must not be above self_referral_hold"),
        ({"leak_unexplained_share": 1.5}, "leak_unexplained_share", "must be a fraction above 0 and at most 1"),
        ({"junk_max_conversion": 0}, "junk_max_conversion", "must be a fraction above 0 and at most 1"),
        ({"leak_spike_multiple": 1.0}, "leak_spike_multiple", "must be above 1"),
        ({"junk_min_clicks": 0}, "junk_min_clicks", "must be at least 1"),
        ({"click_injection_seconds": -5}, "click_injection_seconds", "must be at least 1"),
        ({"engagement_low_quantile": 0.95}, "engagement_low_quantile", "must be below engagement_high_quantile"),
    ],
)
def test_a_field_out_of_range_is_named(change: dict[str, float], field: str, message: str):
    assert invalid_fields(replace(TRUST_SETTINGS, **change)) == {field: message}


def test_every_field_out_of_range_is_named_at_once():
    broken = TrustSettings(**{f.name: -1 for f in fields(TrustSettings)})
    assert set(invalid_fields(broken)) == {f.name for f in fields(TrustSettings)}
