"""Is a creator's audience real? From the posts and follower history already recorded.

* engagement rate against the shop's other creators on the same platform and follower band:
  the bottom quarter is low, the top tenth suspicious (engagement pods, bought likes); the
  published micro-creator bands are given beside, and judge alone when there are too few peers;
* follower jumps: fast growth while engagement falls (followers who never look), or a gain of
  an exact round number (a bought pack);
* buyers outside the countries the shop sells to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from roi.trust.settings import TRUST_SETTINGS, TrustSettings

# Lower bound of each follower band.
FOLLOWER_BANDS = ((1_000_000, "mega"), (500_000, "macro"), (100_000, "mid"), (10_000, "micro"), (0, "nano"))
# Published engagement bands for micro-creators (upper bounds, as fractions); 6–10% is above
# healthy without being suspicious yet.
PUBLISHED_BANDS = ((0.01, "low"), (0.03, "average"), (0.06, "healthy"), (0.10, "high"))
LOW = "low"
SUSPICIOUS = "suspicious"
TYPICAL = "typical"


def follower_band(followers: int) -> str:
    return next(name for floor, name in FOLLOWER_BANDS if followers >= floor)


def published_band(engagement_rate: float) -> str:
    """<1% low, 1–3% average, 3–6% healthy, 6–10% high, >10% suspicious."""
    for ceiling, name in PUBLISHED_BANDS:
        if engagement_rate < ceiling or (name == "high" and engagement_rate <= ceiling):
            return name
    return SUSPICIOUS


@dataclass(frozen=True)
class CreatorEngagement:
    influencer_id: int
    platform: str
    followers: int
    engagement_rate: float


@dataclass(frozen=True)
class EngagementJudgement:
    engagement_rate: float
    platform: str
    band: str
    # The peers it was judged against (same platform and band, the creator left out).
    peer_ids: tuple[int, ...]
    # Share of peers below it (ties count half); None with too few peers.
    percentile: float | None
    # "low", "suspicious" or "typical".
    verdict: str
    # "peers" or "published_bands".
    judged_by: str
    published_band: str

    @property
    def flagged(self) -> bool:
        return self.verdict != TYPICAL


def judge_engagement(
    creator: CreatorEngagement, others: Iterable[CreatorEngagement], settings: TrustSettings = TRUST_SETTINGS
) -> EngagementJudgement:
    band = follower_band(creator.followers)
    peers = [
        p
        for p in others
        if p.influencer_id != creator.influencer_id
        and p.platform.lower() == creator.platform.lower()
        and follower_band(p.followers) == band
    ]
    published = published_band(creator.engagement_rate)
    if len(peers) < settings.engagement_min_peers:
        verdict = published if published in (LOW, SUSPICIOUS) else TYPICAL
        return EngagementJudgement(
            engagement_rate=creator.engagement_rate,
            platform=creator.platform,
            band=band,
            peer_ids=tuple(sorted(p.influencer_id for p in peers)),
            percentile=None,
            verdict=verdict,
            judged_by="published_bands",
            published_band=published,
        )
    below = sum(1 for p in peers if p.engagement_rate < creator.engagement_rate)
    ties = sum(1 for p in peers if p.engagement_rate == creator.engagement_rate)
    percentile = (below + ties / 2) / len(peers)
    if percentile < settings.engagement_low_quantile:
        verdict = LOW
    elif percentile >= settings.engagement_high_quantile:
        verdict = SUSPICIOUS
    else:
        verdict = TYPICAL
    return EngagementJudgement(
        engagement_rate=creator.engagement_rate,
        platform=creator.platform,
        band=band,
        peer_ids=tuple(sorted(p.influencer_id for p in peers)),
        percentile=percentile,
        verdict=verdict,
        judged_by="peers",
        published_band=published,
    )


@dataclass(frozen=True)
class FollowerCount:
    on: date
    followers: int


@dataclass(frozen=True)
class PostEngagement:
    post_id: int
    posted_on: date
    engagement_rate: float


@dataclass(frozen=True)
class FollowerJump:
    # "growth_with_engagement_drop" or "round_number".
    kind: str
    start: date
    end: date
    before: int
    after: int
    growth: float
    engagement_before: float | None = None
    engagement_after: float | None = None
    engagement_drop: float | None = None
    post_ids: tuple[int, ...] = ()


def _mean_rate(posts: Sequence[PostEngagement]) -> float | None:
    return sum(p.engagement_rate for p in posts) / len(posts) if posts else None


def _growth_jumps(
    history: Sequence[FollowerCount], posts: Sequence[PostEngagement], settings: TrustSettings
) -> list[FollowerJump]:
    jumps: list[FollowerJump] = []
    span = timedelta(days=settings.follower_jump_engagement_days)
    for current in history:
        bases = [h for h in history if h.on <= current.on - timedelta(days=7)]
        if not bases or (jumps and bases[-1].on < jumps[-1].end):
            continue  # no week before it, or the same jump seen again from a later day
        base = bases[-1]
        if base.followers <= 0 or (current.followers - base.followers) / base.followers <= settings.follower_jump_share:
            continue
        before = [p for p in posts if base.on - span <= p.posted_on <= base.on]
        after = [p for p in posts if base.on < p.posted_on <= current.on + span]
        rate_before, rate_after = _mean_rate(before), _mean_rate(after)
        if rate_before is None or rate_after is None or rate_before <= 0:
            continue
        drop = 1 - rate_after / rate_before
        if drop >= settings.follower_jump_engagement_drop:
            jumps.append(
                FollowerJump(
                    kind="growth_with_engagement_drop",
                    start=base.on,
                    end=current.on,
                    before=base.followers,
                    after=current.followers,
                    growth=(current.followers - base.followers) / base.followers,
                    engagement_before=rate_before,
                    engagement_after=rate_after,
                    engagement_drop=drop,
                    post_ids=tuple(p.post_id for p in before + after),
                )
            )
    return jumps


def _round_jumps(history: Sequence[FollowerCount], settings: TrustSettings) -> list[FollowerJump]:
    """Gains of an exact multiple of `round_jump_unit` between two records. Counts that are
    themselves round (12,000 → 13,000) are a platform's rounded display, which says nothing."""
    jumps = []
    for prev, current in zip(history, history[1:]):
        gain = current.followers - prev.followers
        rounded = prev.followers % 100 == 0 and current.followers % 100 == 0
        if gain >= settings.round_jump_unit and gain % settings.round_jump_unit == 0 and not rounded:
            growth = gain / prev.followers if prev.followers > 0 else 0.0
            jumps.append(FollowerJump("round_number", prev.on, current.on, prev.followers, current.followers, growth))
    return jumps


def follower_jumps(
    history: Iterable[FollowerCount], posts: Iterable[PostEngagement] = (), settings: TrustSettings = TRUST_SETTINGS
) -> tuple[FollowerJump, ...]:
    """Week-over-week growth above `follower_jump_share` with the engagement rate of the posts
    around it down by `follower_jump_engagement_drop` or more, and round-number gains."""
    ordered = sorted(history, key=lambda h: h.on)
    dated = sorted(posts, key=lambda p: p.posted_on)
    found = _growth_jumps(ordered, dated, settings) + _round_jumps(ordered, settings)
    return tuple(sorted(found, key=lambda j: (j.end, j.kind)))


@dataclass(frozen=True)
class AudienceGeo:
    flagged: bool
    buyers: int
    outside: int
    # Of buyers with a known country; None without any.
    outside_share: float | None
    unknown: int
    outside_countries: Mapping[str, int]


def buyers_outside_selling_countries(
    buyer_countries: Iterable[str | None], selling_countries: Iterable[str], settings: TrustSettings = TRUST_SETTINGS
) -> AudienceGeo:
    """`buyer_countries` holds one ISO country code per distinct buyer of the creator (None
    when unknown). Flagged when at least `outside_countries_share` of the buyers with a known
    country are outside `selling_countries`, with `outside_countries_min_buyers` of them."""
    selling = {c.strip().upper() for c in selling_countries}
    countries = list(buyer_countries)
    known = [c.strip().upper() for c in countries if c and c.strip()]
    unknown = len(countries) - len(known)
    outside = Counter(c for c in known if c not in selling)
    share = sum(outside.values()) / len(known) if known else None
    flagged = (
        len(known) >= settings.outside_countries_min_buyers
        and share is not None
        and share >= settings.outside_countries_share
    )
    return AudienceGeo(flagged, len(known), sum(outside.values()), share, unknown, dict(sorted(outside.items())))
