"""The app starts, reports its health, refuses unsafe production config, and migrates."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

import models
from plugin import create_app
from plugin.config import ConfigError


def test_healthz_answers_when_database_up(client, runtime):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["checks"]["database"] == "ok"
    if runtime.redis_url:
        assert resp.json["checks"]["redis"] == "ok"


def test_healthz_503_names_what_is_down(app_config, tmp_path):
    cfg = dict(app_config, REDIS_URL="redis://127.0.0.1:1/0")
    app = create_app(cfg)
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert "redis" in resp.json["errors"]
    assert resp.json["checks"]["redis"].startswith("down")


def test_production_refuses_to_start_without_secrets(monkeypatch):
    for name in ("SHOPIFY_API_SECRET", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "SHOPIFY_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        create_app({"APP_ENV": "production"})
    for name in ("SHOPIFY_API_SECRET", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY"):
        assert name in str(err.value)


def test_production_has_no_demo_login(app_config):
    app = create_app(
        dict(
            app_config,
            APP_ENV="production",
            TOKEN_ENCRYPTION_KEY=app_config.get("TOKEN_ENCRYPTION_KEY") or "x" * 43 + "=",
            SECRET_KEY="s",
        )
    )
    assert app.config["DEMO_LOGIN"] is False
    assert app.test_client().get("/demo").status_code == 404


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError):
        create_app({"APP_ENV": "staging"})


def test_migrations_have_one_head_and_match_the_models(database_url, tmp_path):
    """`alembic upgrade head` on an empty database gives exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    import migrations
    from models.db import make_engine

    script = ScriptDirectory.from_config(migrations.alembic_config(database_url))
    assert len(script.get_heads()) == 1

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        migrations.upgrade(url)
        engine = make_engine(url)
    else:
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        name = database_url.rsplit("/", 1)[1] + "_migrate"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = database_url.rsplit("/", 1)[0] + "/" + name
        migrations.upgrade(url)
        engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata)
        tables = set(inspect(conn).get_table_names())
    # The figure-version triggers come with the schema: a change moves the shop's version.
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (domain, currency, timezone, installed_at) "
                "VALUES ('a.myshopify.com', 'USD', 'UTC', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(text("INSERT INTO campaigns (shop_id, name, created_at) VALUES (1, 'x', CURRENT_TIMESTAMP)"))
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version FROM figure_versions WHERE shop_id = 1")).scalar()
    engine.dispose()
    if not database_url.startswith("sqlite"):
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert set(models.Base.metadata.tables) <= tables
    assert diff == []
    assert version


def test_cli_shop_add_installs_custom_app_store(runner, db_session):
    result = runner.invoke(
        args=["shop", "add", "Custom-Store.myshopify.com", "--token", "shpat_secret_value", "--currency", "eur"]
    )
    assert result.exit_code == 0, result.output
    shop = db_session.query(models.Shop).filter_by(domain="custom-store.myshopify.com").one()
    assert shop.currency == "EUR"
    assert shop.access_token_enc and "shpat_secret_value" not in shop.access_token_enc
    assert "shpat_secret_value" not in result.output


def test_cli_shop_add_rejects_bad_domain(runner, db_session):
    result = runner.invoke(args=["shop", "add", "evil.com", "--token", "t"])
    assert result.exit_code != 0
    assert "myshopify.com" in result.output
    assert db_session.query(models.Shop).count() == 0
