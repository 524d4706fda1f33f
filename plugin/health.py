"""GET /healthz: 200 only when the database (and Redis, if configured) answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from plugin.database import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    rt = runtime()
    checks: dict[str, str] = {}
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is what monitors poll
        checks["database"] = f"down: {type(exc).__name__}"
    if rt.redis_url:
        try:
            rt.redis().ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
    down = [name for name, state in checks.items() if state != "ok"]
    body: dict[str, Any] = {"status": "ok" if not down else "down", "checks": checks}
    if down:
        body["errors"] = {name: [checks[name]] for name in down}
    return jsonify(body), (503 if down else 200)
