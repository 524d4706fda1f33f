"""A fixed-window request counter for public pages (the creator's statement, /s/<token>).

With Redis (REDIS_URL) the count is shared by every web process: one INCR per request on a key
that expires with its window. Without Redis (the demo, one process) it is kept in this process's
memory, which is all a single process needs. A window that has not ended yet keeps its count, so
a burst at the edge of two windows can reach twice the limit: good enough to stop a token being
guessed or a page being scraped, and it costs one round trip.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FixedWindow:
    limit: int
    seconds: int
    prefix: str
    _counts: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hit(self, key: str, redis: Any = None, now: float | None = None) -> int:
        """Count one request for `key`; returns the seconds to wait when over the limit, else 0."""
        moment = time.time() if now is None else now
        window = int(moment // self.seconds)
        wait = self.seconds - int(moment % self.seconds)
        if redis is not None:
            try:
                name = f"{self.prefix}:{key}:{window}"
                pipe = redis.pipeline()
                pipe.incr(name)
                pipe.expire(name, self.seconds + 1)
                count = int(pipe.execute()[0])
                return wait if count > self.limit else 0
            except Exception:  # Redis down: fall back to this process's count rather than refuse
                pass
        with self._lock:
            for stale in [k for k in self._counts if k[1] < window]:
                del self._counts[stale]
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return wait if count > self.limit else 0
