"""The demo store seeded: a planned copy of the case study stored as Shopify's deliveries are.

Creators, codes, links, clicks, costs and posts go in as the registry and the redirect store
them; the orders' webhook bodies go into the webhook inbox and through the pipeline's drain,
the path every delivery from Shopify takes. `scale` K seeds K copies (creators, codes and
links get a suffix), one at a time or side by side in several processes on PostgreSQL;
memory stays that of one copy.

The day the history ends is the caller's to give: seeding never reads the clock, so the same
arguments seed the same store on any day.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from multiprocessing import get_context
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from demo.plan import PAY_PLANS, ROSTER, CopyPlan, Delivery, plan_copy
from models import (
    Campaign,
    Click,
    CommissionLine,
    Cost,
    DiscountCode,
    Influencer,
    PayPlan,
    Post,
    ReferralLink,
    Shop,
    WebhookEvent,
    utcnow,
)
from models.webhook import FAILED
from worker import engine, jobs, ledger, lifetime_value, pay
from worker.runtime import bind

log = logging.getLogger("creator_roi.demo")

DELIVERY_CHUNK = 1000


def ensure_campaigns(session: Session, shop_id: int) -> dict[str, int]:
    """The roster's campaigns (shared by every copy), created when missing; name → id."""
    campaigns = dict(session.execute(select(Campaign.name, Campaign.id).where(Campaign.shop_id == shop_id)).all())
    for name in sorted({c.campaign for c in ROSTER} - set(campaigns)):
        campaign = Campaign(shop_id=shop_id, name=name)
        session.add(campaign)
        session.flush()
        campaigns[name] = campaign.id
    return campaigns


def write_registry(session: Session, shop_id: int, plan: CopyPlan) -> set[tuple[int | None, date]]:
    """Creators, codes, links, clicks, costs and posts of one copy; the touched cells."""
    campaigns = ensure_campaigns(session, shop_id)
    ids: dict[str, int] = {}
    links: dict[str, tuple[int, int]] = {}
    for creator in plan.creators:
        influencer = Influencer(
            shop_id=shop_id,
            name=creator.name,
            handle=creator.handle,
            platform=creator.spec.platform,
            followers=creator.spec.followers,
            campaign_id=campaigns[creator.spec.campaign],
        )
        session.add(influencer)
        session.flush()
        code = DiscountCode(
            shop_id=shop_id, influencer_id=influencer.id, code=creator.code, percent_off=Decimal("15.00")
        )
        session.add(code)
        session.flush()
        link = ReferralLink(
            shop_id=shop_id,
            influencer_id=influencer.id,
            slug=creator.slug,
            destination="/products/serum",
            discount_code_id=code.id,
        )
        session.add(link)
        session.flush()
        ids[creator.handle] = influencer.id
        links[creator.slug] = (link.id, influencer.id)
    ctx_zone = plan.zone
    cells: set[tuple[int | None, date]] = set()
    rows = []
    for click in plan.clicks:
        link_id, influencer_id = links[click["slug"]]
        rows.append(
            {
                "shop_id": shop_id,
                "link_id": link_id,
                "influencer_id": influencer_id,
                **{k: v for k, v in click.items() if k != "slug"},
            }
        )
        cells.add((influencer_id, click["clicked_at"].astimezone(ctx_zone).date()))
    for at in range(0, len(rows), 5000):
        session.execute(Click.__table__.insert(), rows[at : at + 5000])
    for cost in plan.costs:
        owner = ids.get(cost["handle"]) if cost["handle"] else None
        session.add(Cost(shop_id=shop_id, influencer_id=owner, **{k: v for k, v in cost.items() if k != "handle"}))
        cells.add((owner, cost["incurred_on"]))
    for post in plan.posts:
        influencer_id = ids[post["handle"]]
        session.add(
            Post(shop_id=shop_id, influencer_id=influencer_id, **{k: v for k, v in post.items() if k != "handle"})
        )
        cells.add((influencer_id, post["posted_at"].astimezone(ctx_zone).date()))
    session.flush()
    return cells


def inbox_rows(domain: str, shop_id: int, deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    return [
        {
            "shop_domain": domain,
            "shop_id": shop_id,
            "webhook_id": d.webhook_id,
            "topic": d.topic,
            "api_version": "2026-10",
            "triggered_at": d.at,
            "body": d.body,
            "status": "pending",
            "attempts": 0,
        }
        for d in deliveries
    ]


@dataclass
class DemoResult:
    shop_id: int
    copies: int
    deliveries: int
    failed: int
    end: date


@dataclass(frozen=True)
class CopySeeder:
    """Seeds one copy: registry rows, then its deliveries through the inbox, chunk by chunk.

    Picklable, so copies can be seeded by several processes at once on PostgreSQL (drains
    claim events with SKIP LOCKED and the engine's locks keep the rollups exact).
    """

    runtime: Any
    domain: str
    shop_id: int
    seed: int
    end: date
    timezone: str
    currency: str

    def plan(self, copy: int) -> CopyPlan:
        return plan_copy(
            copy,
            seed=self.seed,
            domain=self.domain,
            end=self.end,
            timezone=self.timezone,
            currency=self.currency,
            free_slug=self._free_slug,
        )

    def _free_slug(self, slug: str) -> str:
        """Slugs are unique across stores: one another store took gets this store's mark
        (never digits alone, which copies use)."""
        candidates = [slug, f"{slug}-shop{self.shop_id}"] + [f"{slug}-shop{self.shop_id}-{n}" for n in range(2, 100)]
        with self.runtime.db.session() as session:
            taken = set(session.scalars(select(ReferralLink.slug).where(ReferralLink.slug.in_(candidates))))
        return next(c for c in candidates if c not in taken)

    def __call__(self, copy: int) -> int:
        db = self.runtime.db
        plan = self.plan(copy)
        with db.session() as writer:
            cells = write_registry(writer, self.shop_id, plan)
            engine.refresh_activity(writer, self.shop_id, cells)
        for at in range(0, len(plan.deliveries), DELIVERY_CHUNK):
            chunk = plan.deliveries[at : at + DELIVERY_CHUNK]
            with db.session() as writer:
                writer.execute(WebhookEvent.__table__.insert(), inbox_rows(self.domain, self.shop_id, chunk))
            with bind(self.runtime):
                jobs.drain_inbox(self.domain)
        self._retry_now()
        self._pay(plan)
        log.info("event=demo_copy_seeded shop=%s copy=%s deliveries=%s", self.domain, copy, len(plan.deliveries))
        return len(plan.deliveries)

    def _pay(self, plan: CopyPlan) -> None:
        """The roster's pay plans, every order settled under them, and each creator's fee entry
        less what the ledger paid them (their entered cost was fee and commission together)."""
        with self.runtime.db.session() as session:
            creators = dict(
                session.execute(
                    select(Influencer.handle, Influencer.id).where(
                        Influencer.shop_id == self.shop_id, Influencer.handle.in_([c.handle for c in plan.creators])
                    )
                ).all()
            )
            first_day = plan.start.date()
            for creator in plan.creators:
                terms = PAY_PLANS.get(creator.spec.handle)
                if terms is not None and creator.handle in creators:
                    session.add(
                        PayPlan(
                            shop_id=self.shop_id, influencer_id=creators[creator.handle], starts_on=first_day, **terms
                        )
                    )
            session.flush()
            pay.settle_shop(session, self.shop_id, today=self.end)
            # Lines past the holding period on the history's last day are approved, as the sweep would.
            ledger.approve_due(session, datetime.combine(self.end, time(0), tzinfo=plan.zone), self.shop_id)
            cells: set[tuple[int | None, date]] = set()
            for handle, influencer_id in creators.items():
                if PAY_PLANS.get(_roster_handle(plan, handle)) is None:
                    continue
                paid = session.scalar(
                    select(func.coalesce(func.sum(CommissionLine.amount), 0)).where(
                        CommissionLine.shop_id == self.shop_id,
                        CommissionLine.influencer_id == influencer_id,
                        CommissionLine.state != "reversed",
                    )
                )
                fee = session.scalar(
                    select(Cost).where(
                        Cost.shop_id == self.shop_id, Cost.influencer_id == influencer_id, Cost.category == "fee"
                    )
                )
                if fee is not None and paid:
                    fee.amount -= Decimal(paid)
                    fee.note = f"{fee.note} (commission is paid under the pay plan)"
                    cells.add((influencer_id, fee.incurred_on))
            engine.refresh_activity(session, self.shop_id, cells)

    def _retry_now(self, rounds: int = 3) -> None:
        """What the sweeper does later, now: events that failed for a passing reason (two
        drains deadlocking on a customer's rows) are due again and drained."""
        for _ in range(rounds):
            with self.runtime.db.session() as session:
                due = session.execute(
                    update(WebhookEvent)
                    .where(
                        WebhookEvent.shop_id == self.shop_id,
                        WebhookEvent.status == FAILED,
                        WebhookEvent.next_attempt_at.is_not(None),
                    )
                    .values(next_attempt_at=utcnow())
                ).rowcount
            if not due:
                return
            log.info("event=demo_retry shop=%s events=%s", self.domain, due)
            with bind(self.runtime):
                jobs.drain_inbox(self.domain)


def _roster_handle(plan: CopyPlan, handle: str) -> str:
    """The roster's handle of a copy's creator (copies add a suffix)."""
    return next((c.spec.handle for c in plan.creators if c.handle == handle), handle)


def seed_store(rt: Any, domain: str, *, end: date, scale: int = 1, seed: int = 2026, jobs: int = 1) -> DemoResult:
    """Seed the installed shop `domain` with `scale` copies of the case study, through the inbox,
    their history ending on `end` (a day in the shop's time zone); predicted CLV is fitted as of
    `end`.

    `jobs` > 1 seeds copies in that many processes (PostgreSQL only; SQLite has one writer).
    """
    db = rt.db
    with db.session() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == domain))
        ensure_campaigns(session, shop.id)  # before copies run side by side
        shop_id, zone, currency = shop.id, shop.zone, shop.currency
    # Drains run in this process (or its helpers) whatever the queue: the demo waits for its figures.
    seeder = CopySeeder(replace(rt, redis_url=None), domain, shop_id, seed, end, str(zone), currency)
    if jobs > 1 and not db.is_sqlite:
        portable = replace(seeder, runtime=replace(seeder.runtime, _db=None, _redis=None))
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            delivered = sum(pool.map(portable, range(scale)))
    else:
        delivered = sum(seeder(copy) for copy in range(scale))
    with db.session() as session:
        failed = (
            session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.shop_id == shop_id, WebhookEvent.status == FAILED)
            )
            or 0
        )
        lifetime_value.refresh_clv(session, shop_id, today=end)
    log.info("event=demo_seeded shop=%s copies=%s deliveries=%s failed=%s", domain, scale, delivered, failed)
    return DemoResult(shop_id, scale, delivered, failed, end)
