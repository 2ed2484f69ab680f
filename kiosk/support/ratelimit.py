"""Token buckets per client, for flood limits (tickets) and login throttling.

In memory for one process; with several server processes on one database, the buckets live in
the database (`SharedBuckets`, kept by the store) so a limit holds whichever process a request
reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.queue.errors import TooManyRequests

MAX_KEYS = 50_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class SharedBuckets(Protocol):
    """Token buckets kept where every process of a hall sees them."""

    async def spend(self, key: str, interval: float, burst: int, now: float, take: bool) -> float:
        """Seconds until the next action under key is allowed; 0 when allowed now (and, with
        `take`, spent): `burst` actions at once, one per `interval` seconds on average."""


class RateLimiter:
    """Allows `burst` actions at once and `per_minute` on average, per key."""

    def __init__(self, per_minute: float, burst: int, now: Callable[[], float],
                 shared: SharedBuckets | None = None, name: str = "") -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._now = now
        self._buckets: dict[str, _Bucket] = {}
        self.shared = shared  # None: buckets in this process
        self.name = name  # keeps this limiter's keys apart from others' in shared buckets

    def configure(self, per_minute: float, burst: int) -> None:
        """New limits, from now on (buckets keep what they hold, up to the new burst)."""
        self.rate = per_minute / 60.0
        self.burst = float(burst)

    def _refill(self, key: str) -> _Bucket:
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        elapsed = max(0.0, now - bucket.at)
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
        bucket.at = now
        return bucket

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * self.rate >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()

    def retry_after(self, key: str) -> float:
        """Seconds until one more action is allowed (0 when allowed now)."""
        bucket = self._refill(key)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str, message: str, code: str = "rate_limited") -> None:
        """Spend one action or raise 429 with Retry-After."""
        bucket = self._refill(key)
        if bucket.tokens < 1:
            raise TooManyRequests(message, (1 - bucket.tokens) / self.rate, code=code)
        bucket.tokens -= 1

    async def wait(self, key: str) -> float:
        """Seconds until one more action is allowed (0 when allowed now), across processes."""
        if self.shared is None:
            return self.retry_after(key)
        return await self.shared.spend(f"{self.name}:{key}", 1 / self.rate, int(self.burst), self._now(), False)

    async def check(self, key: str, message: str, code: str = "rate_limited") -> None:
        """Spend one action or raise 429 with Retry-After, across processes."""
        if self.shared is None:
            self.take(key, message, code)
            return
        wait = await self.shared.spend(f"{self.name}:{key}", 1 / self.rate, int(self.burst), self._now(), True)
        if wait > 0:
            raise TooManyRequests(message, wait, code=code)
