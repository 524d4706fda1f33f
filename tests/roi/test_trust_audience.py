"""Audience authenticity: engagement against peers (platform and follower band) with the
published bands beside, follower jumps, and buyers outside the shop's selling countries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from roi.trust.audience import (
    LOW,
    SUSPICIOUS,
    TYPICAL,
    CreatorEngagement,
    FollowerCount,
    PostEngagement,
    buyers_outside_selling_countries,
    follower_band,
    follower_jumps,
    judge_engagement,
    published_band,
)
from roi.trust.settings import TrustSettings

PEER_RATES = (0.012, 0.018, 0.022, 0.025, 0.03, 0.034, 0.04, 0.045, 0.05, 0.055)


def peers(platform: str = "instagram", followers: int = 40_000) -> list[CreatorEngagement]:
    return [CreatorEngagement(10 + i, platform, followers, rate) for i, rate in enumerate(PEER_RATES)]


def creator(rate: float, followers: int = 25_000, platform: str = "instagram") -> CreatorEngagement:
    return CreatorEngagement(1, platform, followers, rate)


@pytest.mark.parametrize(
    ("followers", "band"), [(0, "nano"), (9_999, "nano"), (10_000, "micro"), (250_000, "mid"), (2_000_000, "mega")]
)
def test_follower_bands(followers: int, band: str):
    assert follower_band(followers) == band


@pytest.mark.parametrize(
    ("rate", "band"),
    [(0.005, "low"), (0.01, "average"), (0.029, "average"), (0.045, "healthy"), (0.08, "high"), (0.10, "high")]
    + [(0.11, "suspicious")],
)
def test_published_bands(rate: float, band: str):
    assert published_band(rate) == band


def test_top_tenth_of_peers_is_suspicious_though_the_published_bands_call_it_healthy():
    judged = judge_engagement(creator(0.058), peers())
    assert (judged.verdict, judged.judged_by, judged.published_band) == (SUSPICIOUS, "peers", "healthy")
    assert judged.percentile == 1.0 and judged.flagged
    assert judged.peer_ids == tuple(range(10, 20))


def test_bottom_quarter_of_peers_is_low():
    judged = judge_engagement(creator(0.015), peers())
    assert judged.verdict == LOW and judged.percentile == 0.1


def test_the_middle_of_peers_is_typical():
    judged = judge_engagement(creator(0.031), peers())
    assert judged.verdict == TYPICAL and not judged.flagged


def test_peers_on_another_platform_or_band_do_not_count_and_the_published_bands_judge():
    others = peers(platform="tiktok") + peers(followers=400_000)
    judged = judge_engagement(creator(0.12), others)
    assert (judged.judged_by, judged.percentile, judged.peer_ids) == ("published_bands", None, ())
    assert judged.verdict == SUSPICIOUS
    assert judge_engagement(creator(0.04), others).verdict == TYPICAL


def test_the_creator_is_not_their_own_peer():
    mine = peers()[:4] + [CreatorEngagement(1, "instagram", 25_000, 0.03)]
    assert judge_engagement(creator(0.03), mine).judged_by == "published_bands"


START = date(2026, 10, 5)


def history(*counts: int) -> list[FollowerCount]:
    return [FollowerCount(START + timedelta(days=7 * i), n) for i, n in enumerate(counts)]


def posts(rate_before: float, rate_after: float) -> list[PostEngagement]:
    before = [PostEngagement(100 + i, START + timedelta(days=1 + 2 * i), rate_before) for i in range(4)]
    after = [PostEngagement(200 + i, START + timedelta(days=15 + 2 * i), rate_after) for i in range(4)]
    return before + after


def test_fast_growth_while_engagement_falls_is_a_jump():
    [jump] = follower_jumps(history(20_113, 20_481, 24_937, 25_102), posts(0.05, 0.03))
    assert jump.kind == "growth_with_engagement_drop"
    assert (jump.start, jump.end, jump.before, jump.after) == (
        START + timedelta(days=7),
        START + timedelta(days=14),
        20_481,
        24_937,
    )
    assert jump.growth == pytest.approx(0.2176, abs=1e-4)
    assert jump.engagement_drop == pytest.approx(0.4)
    assert set(jump.post_ids) == {100, 101, 102, 103, 200, 201, 202, 203}


def test_fast_growth_with_engagement_holding_up_is_a_creator_going_viral():
    assert follower_jumps(history(20_113, 20_481, 24_937, 25_102), posts(0.05, 0.045)) == ()


def test_daily_records_of_one_jump_give_one_jump():
    daily = [FollowerCount(START + timedelta(days=d), 20_000 + 37 * d + (5_011 if d >= 10 else 0)) for d in range(21)]
    jumps = follower_jumps(daily, posts(0.05, 0.02))
    assert [j.kind for j in jumps] == ["growth_with_engagement_drop"]


def test_an_exact_round_gain_is_a_jump():
    [jump] = follower_jumps(history(18_347, 18_512, 23_512))
    assert (jump.kind, jump.after - jump.before) == ("round_number", 5_000)


def test_round_gains_between_rounded_counts_say_nothing():
    """12.0K → 13.0K is how a platform displays counts, not a bought pack."""
    assert follower_jumps(history(12_000, 13_000, 14_000)) == ()
    assert follower_jumps(history(18_347, 18_512, 19_312)) == ()  # +800: not a multiple of 1,000


def test_buyers_outside_the_selling_countries():
    result = buyers_outside_selling_countries(["US"] * 6 + ["IN", "IN", "BD", "PK", None], ["us", "CA"])
    assert result.flagged
    assert (result.buyers, result.outside, result.unknown) == (10, 4, 1)
    assert result.outside_share == 0.4
    assert result.outside_countries == {"BD": 1, "IN": 2, "PK": 1}


def test_buyers_in_the_selling_countries_or_too_few_to_judge_are_not_flagged():
    assert not buyers_outside_selling_countries(["US"] * 9 + ["GB"], ["US", "CA"]).flagged
    assert not buyers_outside_selling_countries(["IN"] * 9, ["US"]).flagged
    assert buyers_outside_selling_countries([], ["US"]).outside_share is None


def test_the_merchants_engagement_quantiles_apply():
    judged = judge_engagement(creator(0.051), peers(), TrustSettings(engagement_high_quantile=0.95))
    assert judged.verdict == TYPICAL
