"""`creator-roi demo` and `creator-roi reattribute`: seeding the case study, rebuilding figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, exists, select

from models import Influencer, Order, Shop, WebhookEvent
from worker.runtime import Runtime, bind

# Not a credential: a demo store never calls Shopify. It also marks a store the demo may erase.
DEMO_TOKEN = "creator-roi-demo-store-no-access"
DEMO_NAME = "Lumen Skin (demo)"
DEMO_TIMEZONE = "America/New_York"


def _runtime() -> Runtime:
    return current_app.extensions["creator_roi"]


def _has_data(session: Any, shop: Shop) -> bool:
    return bool(
        session.scalar(select(exists().where(Order.shop_id == shop.id)))
        or session.scalar(select(exists().where(Influencer.shop_id == shop.id)))
    )


def _is_demo_store(rt: Runtime, shop: Shop) -> bool:
    try:
        return shop.access_token_enc is not None and rt.cipher.decrypt(shop.access_token_enc) == DEMO_TOKEN
    except Exception:  # a token under another key is not ours to judge: not a demo store
        return False


def _prepare_shop(rt: Runtime, domain: str, reset: bool) -> bool:
    """Install the store if new (no network); False when it already holds data to keep."""
    from worker import installation

    with rt.db.session() as session:
        shop = installation.find_shop(session, domain)
        if shop is not None and _has_data(session, shop):
            if not reset:
                return False
            if not _is_demo_store(rt, shop):
                raise click.UsageError(f"{domain} was not installed by the demo: --reset refuses to erase it")
            session.delete(shop)
            session.execute(delete(WebhookEvent).where(WebhookEvent.shop_domain == domain))
            session.flush()
            shop = None
        if shop is None:
            shop = installation.install_with_access_token(rt, session, domain, DEMO_TOKEN, "USD")
            shop.name, shop.timezone = DEMO_NAME, DEMO_TIMEZONE
    return True


def _yesterday(rt: Runtime, domain: str) -> date:
    """The day the demo's history ends: yesterday in the store's time zone, so that its figures
    reach up to today. The one place the demo's dates come from the clock."""
    with rt.db.session() as session:
        # The store exists: _prepare_shop installed it.
        zone = session.scalar(select(Shop).where(Shop.domain == domain)).zone  # type: ignore[union-attr]
    return datetime.now(zone).date() - timedelta(days=1)


def _summary(rt: Runtime, domain: str, start: date, end: date) -> dict[str, Any]:
    from plugin import reports

    with rt.db.session() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == domain))  # the demo store, just seeded
        report = reports.roi_report(session, shop, date_from=start, date_to=end)  # type: ignore[arg-type]
        return {"creators": len([r for r in report["rows"] if r["key"] is not None]), **report["totals"]}


@click.command("demo")
@click.option("--shop", "domain", default=None, help="the demo store [default: DEMO_SHOP]")
@click.option(
    "--scale",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="copies of the case study (1: 15 creators and 1,560 first orders; 64: about 100k orders)",
)
@click.option("--reset", is_flag=True, help="erase the demo store's data and seed it again")
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="processes seeding copies side by side (PostgreSQL)",
)
@with_appcontext
def demo_command(domain: str | None, scale: int, reset: bool, jobs: int) -> None:
    """Seed the reference case study through the webhook pipeline."""
    from demo.plan import PERIOD_DAYS
    from demo.seed import seed_store
    from worker.shopify_admin import is_valid_shop_domain

    domain = (domain or current_app.config["DEMO_SHOP"]).strip().lower()
    if not is_valid_shop_domain(domain):
        raise click.BadParameter(f"{domain!r} is not a <name>.myshopify.com domain", param_hint="--shop")
    rt = _runtime()
    if not _prepare_shop(rt, domain, reset):
        click.echo(f"{domain} already holds data: nothing seeded (--reset seeds a demo store again)")
        return
    end = _yesterday(rt, domain)
    start = end - timedelta(days=PERIOD_DAYS)
    with bind(rt):
        result = seed_store(rt, domain, end=end, scale=scale, jobs=jobs)
    if result.failed:
        raise click.ClickException(f"{result.failed} deliveries failed: see `creator-roi events`")
    from demo.payouts import seed_payouts

    demo_payouts = seed_payouts(rt, domain, end=end)
    figures = _summary(rt, domain, start, end)
    click.echo(
        f"seeded {domain}: {scale} cop{'y' if scale == 1 else 'ies'}, {result.deliveries} webhook deliveries, "
        f"{start} to {end}"
    )
    click.echo(
        f"{figures['creators']} creators, cost {figures['cost']}, {figures['impressions']} impressions, "
        f"engagement rate {figures['engagement_rate']}, {figures['clicks']} clicks, {figures['orders']} first orders, "
        f"revenue {figures['revenue']}, repeat purchase rate {figures['repeat_purchase_rate']}, "
        f"repeat revenue {figures['repeat_revenue']}"
    )
    click.echo(
        f"ctr {figures['ctr']}, conversion rate {figures['conversion_rate']}, cac {figures['cac']}, "
        f"roas {figures['roas']}, roi {figures['roi']}, roi with repeats {figures['roi_with_repeat']}"
    )
    if demo_payouts.paid or demo_payouts.open:
        click.echo(f"payouts: #{demo_payouts.paid} paid, #{demo_payouts.open} open")


@click.command("reattribute")
@click.argument("domain")
@with_appcontext
def reattribute_command(domain: str) -> None:
    """Rebuild DOMAIN's attributions and rollups from its stored orders (after a settings or code change)."""
    from worker import jobs

    rt = _runtime()
    with rt.db.session() as session:
        shop_id = session.scalar(select(Shop.id).where(Shop.domain == domain.strip().lower()))
    if shop_id is None:
        raise click.BadParameter(f"no installed store {domain!r}", param_hint="DOMAIN")
    with bind(rt):
        jobs.reattribute_job(shop_id)
    click.echo(f"re-attributed {domain.strip().lower()}")
