"""The Flask app: `create_app()` builds everything; nothing happens at import."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter

from plugin.config import load_config
from worker.runtime import Runtime
from worker.shopify_admin import AdminConfig


def runtime_from_config(cfg: dict[str, Any]) -> Runtime:
    return Runtime(
        database_url=cfg["DATABASE_URL"],
        redis_url=cfg.get("REDIS_URL"),
        admin=AdminConfig(
            api_key=cfg["SHOPIFY_API_KEY"],
            api_secret=cfg["SHOPIFY_API_SECRET"],
            old_api_secret=cfg.get("SHOPIFY_OLD_API_SECRET"),
            api_version=cfg["SHOPIFY_API_VERSION"],
            admin_base_url=cfg["SHOPIFY_ADMIN_BASE_URL"],
        ),
        token_encryption_key=cfg["TOKEN_ENCRYPTION_KEY"],
    )


class NoCookieSession(SecureCookieSessionInterface):
    """No cookie session: the embedded app authenticates every request with a session token,
    so Flask's session is never read or written (nor its signer built on every request)."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None


class DatabaseId(IntegerConverter):
    """`<int:...>` ids beyond a 64-bit integer cannot exist: 404 rather than a database error."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = load_config(overrides=config)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(cfg)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app.extensions["creator_roi"] = runtime_from_config(cfg)
    from plugin.report_cache import ReportCache

    app.extensions["creator_roi_reports"] = ReportCache(max_rows=cfg["REPORT_CACHE_ROWS"])
    from models.inbox_writer import InboxWriter

    app.extensions["creator_roi_inbox"] = InboxWriter(app.extensions["creator_roi"].db.engine)

    if cfg["TRUSTED_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = cfg["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from plugin import database
    from plugin.errors import register_error_handlers

    app.url_map.converters["int"] = DatabaseId
    app.session_interface = NoCookieSession()
    app.teardown_appcontext(database.close_session)
    register_error_handlers(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _register_commands(app: Flask) -> None:
    """The `creator-roi` commands, on `app.cli`: the console script (plugin.cli) and
    `flask` both find them there."""
    from plugin import cli, cli_engine, cli_pipeline

    for command in (
        cli.db,
        cli.shop,
        cli_pipeline.worker_command,
        cli_pipeline.sweep_command,
        cli_pipeline.events_command,
        cli_pipeline.backfill_command,
        cli_engine.demo_command,
        cli_engine.reattribute_command,
    ):
        app.cli.add_command(command)


def _register_blueprints(app: Flask) -> None:
    from plugin import admin, auth, health, links, payouts_page, statements, webhooks
    from plugin.api import bp as api_bp

    del payouts_page  # imported for its routes, which join admin.bp before it is registered

    for blueprint in (health.bp, auth.bp, api_bp, webhooks.bp, links.bp, statements.bp, admin.bp):
        app.register_blueprint(blueprint)
