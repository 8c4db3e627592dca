"""Per-key rate limits: a per-minute and a per-day window, in memory or in Redis.

With ``IOCFLOW_REDIS_URL`` set, every API worker counts in the same Redis, so
the limits hold across workers and machines; without it each process counts
for itself (one worker is the default). The ``limits`` library does the
counting; this module turns its answer into the X-RateLimit headers.

A Redis outage does not take the API down. Each Redis call gives up after
``timeout`` seconds; on a failure the limiter logs one warning, counts in the
process's memory (each worker enforces the limits alone: with N workers a key
may get up to N times its limit), reports itself degraded to ``/healthz``, and
tries Redis again every ``retry_seconds``, one request at a time. The first
call Redis answers switches counting back to it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from iocflow.api.logs import redact
from iocflow.api.tiers import Tier
from iocflow.times import iso_z

log = logging.getLogger("iocflow.api")


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


@dataclass(frozen=True, slots=True)
class _Outage:
    since: float  # epoch seconds of the first failure
    error: str  # the latest failure
    retry_at: float  # monotonic seconds when Redis may be tried again


class RateLimiter:
    """Counts requests per identity (an API key id, or a client address for unauthenticated calls)."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "iocflow", timeout: float = 0.5,
                 retry_seconds: float = 5.0) -> None:
        self._local = FixedWindowRateLimiter(storage_from_string("memory://"))
        self._shared: FixedWindowRateLimiter | None = None
        self._redis: RedisStorage | None = None
        if redis_url:
            self._redis = cast(RedisStorage, storage_from_string(
                redis_url, key_prefix=prefix, wrap_exceptions=True, socket_connect_timeout=timeout,
                socket_timeout=timeout))
            self._shared = FixedWindowRateLimiter(self._redis)
        self.backend = "redis" if redis_url else "memory"
        #: Where Redis is, for logs and /healthz: the URL without its credentials or options.
        self.where = _without_credentials(redis_url) if redis_url else ""
        self._retry_seconds = retry_seconds
        self._outage: _Outage | None = None
        self._lock = threading.Lock()

    def hit(self, identity: str, per_minute: int, per_day: int | None = None) -> Verdict:
        """Count one request; the verdict says whether it may proceed and what to tell the client."""
        return self._count(lambda limiter: _hit(limiter, identity, per_minute, per_day))

    def peek(self, identity: str, per_minute: int) -> Verdict:
        """Where ``identity`` stands in its minute window, without counting a request."""
        item = RateLimitItemPerMinute(per_minute)
        return self._count(lambda limiter: _verdict(limiter, item, identity, True, "minute"))

    def for_tier(self, identity: str, tier: Tier) -> Verdict:
        return self.hit(identity, tier.per_minute, tier.per_day)

    def problem(self) -> str | None:
        """Why limits are counted per process instead of in Redis, or ``None`` when they are not.

        Asks Redis (a PING) unless it failed less than ``retry_seconds`` ago.
        """
        if self._redis is None:
            return None
        redis = self._redis
        if self._try_shared() is not None:
            try:
                redis.get_connection().ping()
            except (StorageError, *_as_tuple(redis.base_exceptions)) as exc:
                self._failed(exc)
            else:
                self._answered()
        outage = self._outage
        if outage is None:
            return None
        since = iso_z(datetime.fromtimestamp(int(outage.since), UTC))
        return (f"Redis at {self.where} unreachable since {since} ({outage.error}); "
                "rate limits counted per process")

    def _count(self, count: Callable[[FixedWindowRateLimiter], Verdict]) -> Verdict:
        shared = self._try_shared()
        if shared is not None:
            try:
                verdict = count(shared)
            except StorageError as exc:
                self._failed(exc)
            else:
                self._answered()
                return verdict
        return count(self._local)

    def _try_shared(self) -> FixedWindowRateLimiter | None:
        """Redis's limiter if it is up, or if this caller is the one to try it again; else ``None``."""
        if self._outage is None:
            return self._shared
        with self._lock:
            outage = self._outage
            if outage is None:
                return self._shared
            now = time.monotonic()
            if now < outage.retry_at:
                return None
            self._outage = replace(outage, retry_at=now + self._retry_seconds)  # other callers keep counting locally
            return self._shared

    def _failed(self, exc: Exception) -> None:
        error = redact(_describe(exc))
        with self._lock:
            if self._outage is not None:
                self._outage = replace(self._outage, error=error, retry_at=time.monotonic() + self._retry_seconds)
                return
            self._outage = _Outage(time.time(), error, time.monotonic() + self._retry_seconds)
        log.warning("Redis at %s unreachable (%s): rate limits are counted per process until it answers; "
                    "retrying every %g s", self.where, error, self._retry_seconds)

    def _answered(self) -> None:
        if self._outage is None:
            return
        with self._lock:
            outage, self._outage = self._outage, None
        if outage is not None:
            log.info("Redis at %s answers again after %.0f s: rate limits are shared again",
                     self.where, time.time() - outage.since)


def _hit(limiter: FixedWindowRateLimiter, identity: str, per_minute: int, per_day: int | None) -> Verdict:
    minute = RateLimitItemPerMinute(per_minute)
    allowed = limiter.hit(minute, identity)
    verdict = _verdict(limiter, minute, identity, allowed, "minute")
    if not allowed or per_day is None:
        return verdict
    day = RateLimitItemPerDay(per_day)
    day_allowed = limiter.hit(day, identity)
    day_verdict = _verdict(limiter, day, identity, day_allowed, "day")
    if not day_allowed:
        return day_verdict
    return Verdict(True, per_minute, min(verdict.remaining, day_verdict.remaining), verdict.reset, "minute")


def _verdict(limiter: FixedWindowRateLimiter, item: RateLimitItemPerMinute | RateLimitItemPerDay, identity: str,
             allowed: bool, window: str) -> Verdict:
    stats = limiter.get_window_stats(item, identity)
    return Verdict(allowed, item.amount, max(0, stats.remaining), math.ceil(stats.reset_time), window)


def _describe(exc: Exception) -> str:
    cause = exc.__cause__ if isinstance(exc, StorageError) and exc.__cause__ is not None else exc
    return f"{type(cause).__name__}: {cause}"


def _as_tuple(exceptions: type[Exception] | tuple[type[Exception], ...]) -> tuple[type[Exception], ...]:
    return exceptions if isinstance(exceptions, tuple) else (exceptions,)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl()
