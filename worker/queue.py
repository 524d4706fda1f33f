"""Run a job on RQ when Redis is configured, inline (after the caller's commit) otherwise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from worker.runtime import Runtime, bind

log = logging.getLogger("creator_roi.queue")


def rq_queue(runtime: Runtime) -> Any:
    from rq import Queue

    return Queue(runtime.queue_name, connection=runtime.redis())


def enqueue(runtime: Runtime, func: Callable[..., Any], *args: Any, job_id: str | None = None, **options: Any) -> Any:
    """Schedule `func(*args)`; without Redis it runs now, in this process, with `runtime` bound.

    Callers commit first: a job looks up current state by id, it is never handed objects.
    Redis errors propagate so the caller can decide (a webhook keeps its row pending).
    """
    if not runtime.redis_url:
        with bind(runtime):
            return func(*args)
    return rq_queue(runtime).enqueue(func, *args, job_id=job_id, **options)
