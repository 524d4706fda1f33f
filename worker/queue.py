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


class BoundedUnsubscribe:
    """Mixed into an RQ worker class: RQ's unsubscribe, with the wait for its pubsub thread
    bounded as RQ means it to be.

    RQ unsubscribes, then stops the thread and joins it for a second at most. Since
    redis-py 8, stop() itself joins without a bound, and a thread that went back to its
    60 s wait just after the unsubscribe reply held the worker for up to a minute: a burst
    worker's exit (every test that runs queued jobs), or a deploy's SIGTERM.
    """

    pubsub: Any
    pubsub_thread: Any
    pubsub_channel_name: str
    name: str
    log: logging.Logger

    def unsubscribe(self) -> None:
        if self.pubsub_thread is None:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        self.pubsub.unsubscribe()
        self.pubsub_thread.stop(timeout=1)
        self.pubsub.close()
