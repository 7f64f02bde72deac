"""Per-organizer rate limit (protocol.md §2: `429 rate_limited` where a limit is configured).

`DSOM_RATE_LIMIT` operations a second per organizer (0, the default: no limit), as a token
bucket that holds up to `max(2 s of the rate, 10,000)` operations, so a full request always
fits an idle bucket. The bucket lives in the process that owns the organizer
(ingest/shards.py), which sees all of its traffic: the limit is exact with any number of
worker processes. A refused request stores nothing; its answer says when to retry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from dsom.kit.errors import RateLimited

__all__ = ["RateLimited", "RateLimiter"]

MAX_REQUEST = 10_000


class RateLimiter:
    """Token buckets by organizer."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_second
        self.capacity = max(per_second * 2, MAX_REQUEST)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # organizer -> (tokens, when)

    def take(self, organizer: str, operations: int) -> None:
        """Spend `operations` of the organizer's allowance, or raise RateLimited."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, when = self.buckets.get(organizer, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - when) * self.rate)
        if tokens < operations:
            self.buckets[organizer] = (tokens, now)
            wait = max(1, math.ceil((operations - tokens) / self.rate))
            raise RateLimited(
                f"over the limit of {self.rate:g} operations a second for this organizer: "
                f"nothing of this request was stored; retry after {wait} s",
                retry_after=wait,
            )
        self.buckets[organizer] = (tokens - operations, now)
