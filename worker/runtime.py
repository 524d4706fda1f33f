"""What a job needs to run: database, Redis, Shopify credentials, token cipher.

The web app builds one from its config and binds it while it runs jobs inline;
an RQ worker process builds one from the environment. Jobs look it up with
`current()` so they take plain ids, never app objects.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from models.db import Database, default_database_url
from worker.shopify_admin import AdminConfig
from worker.token_cipher import TokenCipher

DEV_API_KEY = "creator-roi-dev-api-key"
# Session tokens are HS256 JWTs signed with this secret; PyJWT warns (InsecureKeyLengthWarning,
# on every token it signs or checks) about an HMAC key shorter than the hash's 32 bytes, so the
# development secret is longer than that. Production always brings its own.
DEV_API_SECRET = "creator-roi-development-api-secret-not-for-production"


def development_fernet_key() -> str:
    """A fixed key for development and tests only; production must set TOKEN_ENCRYPTION_KEY."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"creator-roi development key").digest()).decode()


@dataclass
class Runtime:
    database_url: str
    redis_url: str | None
    admin: AdminConfig
    token_encryption_key: str
    queue_name: str = "default"
    _db: Database | None = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)
    # Shop domain -> monotonic time until which this process takes a drain as waiting
    # (worker.jobs.schedule_drain with remember=True).
    drains_waiting_until: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Runtime":
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or default_database_url(),
            redis_url=env.get("REDIS_URL") or None,
            admin=AdminConfig(
                api_key=env.get("SHOPIFY_API_KEY") or DEV_API_KEY,
                api_secret=env.get("SHOPIFY_API_SECRET") or DEV_API_SECRET,
                old_api_secret=env.get("SHOPIFY_OLD_API_SECRET") or None,
                api_version=env.get("SHOPIFY_API_VERSION") or "2026-10",
                admin_base_url=env.get("SHOPIFY_ADMIN_BASE_URL") or "https://{shop}",
            ),
            token_encryption_key=env.get("TOKEN_ENCRYPTION_KEY") or development_fernet_key(),
        )

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.database_url)
        return self._db

    @property
    def cipher(self) -> TokenCipher:
        return TokenCipher.from_setting(self.token_encryption_key)

    def redis(self) -> Any:
        """A Redis client with short timeouts (a webhook must answer inside 5 s), or None."""
        if not self.redis_url:
            return None
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(
                self.redis_url,
                socket_connect_timeout=0.5,
                socket_timeout=1.0,
                health_check_interval=30,
            )
        return self._redis


_current: ContextVar[Runtime | None] = ContextVar("creator_roi_runtime", default=None)
_process_runtime: Runtime | None = None


def current() -> Runtime:
    """The bound runtime (inline jobs, tests) or this process's, built from the environment."""
    global _process_runtime
    bound = _current.get()
    if bound is not None:
        return bound
    if _process_runtime is None:
        _process_runtime = Runtime.from_env()
    return _process_runtime


@contextmanager
def bind(runtime: Runtime) -> Iterator[Runtime]:
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)
