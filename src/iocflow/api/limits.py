"""Per-key rate limits: a per-minute and a per-day window, in memory or in Redis.

With ``IOCFLOW_REDIS_URL`` set, every API worker counts in the same Redis, so
the limits hold across workers and machines; without it each process counts
for itself (one worker is the default). The ``limits`` library does the
counting; this module turns its answer into the X-RateLimit headers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from iocflow.api.tiers import Tier


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the binding window resets
    window: str  # "minute" or "day": the window that decided

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(max(1, self.reset - math.floor(time.time())))
        return out


class RateLimiter:
    """Counts requests per identity (an API key id, or a client address for unauthenticated calls)."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "iocflow") -> None:
        if redis_url:
            storage = storage_from_string(redis_url, key_prefix=prefix)
        else:
            storage = storage_from_string("memory://")
        self.backend = "redis" if redis_url else "memory"
        self._limiter = FixedWindowRateLimiter(storage)

    def hit(self, identity: str, per_minute: int, per_day: int | None = None) -> Verdict:
        """Count one request; the verdict says whether it may proceed and what to tell the client."""
        minute = RateLimitItemPerMinute(per_minute)
        allowed = self._limiter.hit(minute, identity)
        verdict = self._verdict(minute, identity, allowed, "minute")
        if not allowed or per_day is None:
            return verdict
        day = RateLimitItemPerDay(per_day)
        day_allowed = self._limiter.hit(day, identity)
        day_verdict = self._verdict(day, identity, day_allowed, "day")
        if not day_allowed:
            return day_verdict
        return Verdict(True, per_minute, min(verdict.remaining, day_verdict.remaining), verdict.reset, "minute")

    def peek(self, identity: str, per_minute: int) -> Verdict:
        """Where ``identity`` stands in its minute window, without counting a request."""
        item = RateLimitItemPerMinute(per_minute)
        return self._verdict(item, identity, True, "minute")

    def for_tier(self, identity: str, tier: Tier) -> Verdict:
        return self.hit(identity, tier.per_minute, tier.per_day)

    def _verdict(self, item: RateLimitItemPerMinute | RateLimitItemPerDay, identity: str, allowed: bool,
                 window: str) -> Verdict:
        stats = self._limiter.get_window_stats(item, identity)
        return Verdict(allowed, item.amount, max(0, stats.remaining), math.ceil(stats.reset_time), window)
