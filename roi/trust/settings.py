"""The thresholds of the trust signals, one field each, with the defaults merchants start from.

`invalid_fields` names every field out of its range, so the API can answer 422 naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TrustSettings:
    # Self-referral score (0–100): at or above `hold` the commission waits for review, at or
    # above `flag` the order is shown for a look. Never denied: some self-purchases are genuine.
    self_referral_hold: int = 70
    self_referral_flag: int = 40
    # How far back clicks from the buyer's IP and browser are looked for.
    self_referral_click_days: int = 30
    # Every link buyer clicks from their own device once; the same IP and browser on the
    # creator's links on this many different days is someone who keeps coming back to the link.
    self_referral_click_visit_days: int = 2

    # Coupon leak. A code order is unexplained with no creator click in `leak_click_days`
    # before it and some sign it came from elsewhere.
    leak_click_days: int = 7
    leak_window_days: int = 14
    leak_min_orders: int = 10
    leak_unexplained_share: float = 0.25
    leak_spike_multiple: float = 3.0
    leak_median_days: int = 28
    # 3× a median of 0 or 1 is a handful of orders, which is noise rather than a spike.
    leak_spike_min_uses: int = 5
    # A spike day is a viral day, not a leak, when at least this share of its orders followed
    # a click of the creator (1.0: all of them).
    leak_spike_explained_share: float = 1.0

    # Link traffic.
    click_dedupe_minutes: int = 60
    click_injection_seconds: int = 15
    flooding_late_hours: int = 24
    flooding_late_share: float = 0.30
    # "Many clicks": flooding harvests organic orders with a mass of clicks. Below a thousand a
    # creator's late conversions are far likelier slow deciders (a review watched twice); ten
    # conversions keep three late orders from being called a pattern.
    flooding_min_clicks: int = 1000
    flooding_min_conversions: int = 10
    junk_min_clicks: int = 2000
    junk_max_conversion: float = 0.001

    # Audience. Peers are the shop's other creators on the same platform and follower band;
    # with fewer than `engagement_min_peers` the published bands are all there is to judge by.
    engagement_low_quantile: float = 0.25
    engagement_high_quantile: float = 0.90
    engagement_min_peers: int = 5
    follower_jump_share: float = 0.10
    follower_jump_engagement_drop: float = 0.30
    # Posts this many days before and after a jump give the engagement rates it is judged by.
    follower_jump_engagement_days: int = 14
    round_jump_unit: int = 1000
    outside_countries_share: float = 0.25
    outside_countries_min_buyers: int = 10


TRUST_SETTINGS = TrustSettings()

_SHARES = {
    "leak_unexplained_share",
    "leak_spike_explained_share",
    "flooding_late_share",
    "junk_max_conversion",
    "engagement_low_quantile",
    "engagement_high_quantile",
    "follower_jump_share",
    "follower_jump_engagement_drop",
    "outside_countries_share",
}
_SCORES = {"self_referral_hold", "self_referral_flag"}


def invalid_fields(settings: TrustSettings) -> dict[str, str]:
    """Each field out of range, with what it must be; empty when all are fine."""
    errors: dict[str, str] = {}
    for field in fields(settings):
        value = getattr(settings, field.name)
        if field.name in _SHARES:
            if not 0 < value <= 1:
                errors[field.name] = "must be a fraction above 0 and at most 1"
        elif field.name in _SCORES:
            if not 1 <= value <= 100:
                errors[field.name] = "must be a score from 1 to 100"
        elif field.name == "leak_spike_multiple":
            if not value > 1:
                errors[field.name] = "must be above 1"
        elif value < 1:
            errors[field.name] = "must be at least 1"
    if not errors.keys() & _SCORES and settings.self_referral_flag > settings.self_referral_hold:
        errors["self_referral_flag"] = "must not be above self_referral_hold"
    if (
        not errors.keys() & {"engagement_low_quantile", "engagement_high_quantile"}
        and settings.engagement_low_quantile >= settings.engagement_high_quantile
    ):
        errors["engagement_low_quantile"] = "must be below engagement_high_quantile"
    return errors
