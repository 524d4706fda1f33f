"""Configuration from the environment (DESIGN.md's variables): one dict, `load_config`.

APP_ENV picks the defaults: development and test fill in development keys and
secrets; production refuses to start without its own.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from models.db import default_database_url
from worker.runtime import DEV_API_KEY, DEV_API_SECRET, development_fernet_key

APP_ENVS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def _env(env: dict[str, str], name: str, default: Any = None) -> Any:
    value = env.get(name)
    return value if value not in (None, "") else default


def load_config(env: dict[str, str] | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = dict(os.environ if env is None else env)
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV") or _env(env, "APP_ENV", "development")
    if app_env not in APP_ENVS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(APP_ENVS)}, not {app_env!r}")
    dev = app_env != "production"
    cfg: dict[str, Any] = {
        "APP_ENV": app_env,
        "SECRET_KEY": _env(env, "SECRET_KEY", secrets.token_hex(32) if dev else None),
        "SHOPIFY_API_KEY": _env(env, "SHOPIFY_API_KEY", DEV_API_KEY if dev else None),
        "SHOPIFY_API_SECRET": _env(env, "SHOPIFY_API_SECRET", DEV_API_SECRET if dev else None),
        "SHOPIFY_OLD_API_SECRET": _env(env, "SHOPIFY_OLD_API_SECRET"),
        "SHOPIFY_APP_URL": _env(env, "SHOPIFY_APP_URL", "http://127.0.0.1:8000"),
        "SHOPIFY_API_VERSION": _env(env, "SHOPIFY_API_VERSION", "2026-10"),
        "SHOPIFY_ADMIN_BASE_URL": _env(env, "SHOPIFY_ADMIN_BASE_URL", "https://{shop}"),
        "DATABASE_URL": _env(env, "DATABASE_URL", default_database_url()),
        "REDIS_URL": _env(env, "REDIS_URL"),
        "TOKEN_ENCRYPTION_KEY": _env(env, "TOKEN_ENCRYPTION_KEY", development_fernet_key() if dev else None),
        "TRUSTED_PROXY_HOPS": int(_env(env, "TRUSTED_PROXY_HOPS", 0)),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "DEMO_SHOP": _env(env, "DEMO_SHOP", "creator-roi-demo.myshopify.com"),
        "BACKFILL_DAYS": int(_env(env, "BACKFILL_DAYS", 60)),
        # Report rows each web process keeps (plugin.report_cache); 0 turns the cache off.
        "REPORT_CACHE_ROWS": 10_000,
    }
    cfg.update(overrides)
    cfg["DEMO_LOGIN"] = cfg["APP_ENV"] == "development" and overrides.get("DEMO_LOGIN", True)
    if cfg["APP_ENV"] == "production":
        missing = [
            k for k in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY") if not cfg.get(k)
        ]
        if missing:
            raise ConfigError("production refuses to start without " + ", ".join(missing))
        cfg["DEMO_LOGIN"] = False
    return cfg
