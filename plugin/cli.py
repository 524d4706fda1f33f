"""The `creator-roi` command: a Flask CLI group (DESIGN.md's operations contract).

The group holds no command of its own: it builds the app, whose factory registers
every command on `app.cli` (`plugin._register_commands`), and finds them there.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from plugin import create_app


def _create_app() -> Flask:
    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=True,
    help="Creator ROI: creator attribution and ROI for Shopify stores.",
)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    import migrations

    migrations.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is at the newest schema")


@click.group()
def shop() -> None:
    """Installed stores."""


@shop.command("add")
@click.argument("domain")
@click.option("--token", required=True, help="the store's offline Admin API access token")
@click.option("--currency", default="USD", show_default=True, help="the shop's currency (ISO 4217)")
@with_appcontext
def shop_add(domain: str, token: str, currency: str) -> None:
    """Install DOMAIN as a custom app with an existing token (no network)."""
    from worker import installation
    from worker.shopify_admin import is_valid_shop_domain

    if not is_valid_shop_domain(domain):
        raise click.BadParameter(f"{domain!r} is not a <name>.myshopify.com domain", param_hint="DOMAIN")
    if len(currency) != 3 or not currency.isalpha():
        raise click.BadParameter(f"{currency!r} is not a 3-letter currency code", param_hint="--currency")
    rt = current_app.extensions["creator_roi"]
    with rt.db.session() as session:
        installation.install_with_access_token(rt, session, domain, token, currency)
    click.echo(f"installed {domain.lower()} ({currency.upper()})")


def main() -> None:
    cli(prog_name="creator-roi")
