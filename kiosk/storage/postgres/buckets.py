"""Rate limits shared by a hall's processes: token buckets in an UNLOGGED table, one statement per
action (GCRA: each key keeps only the time at which its bucket would be full again, `tat`; an action
is allowed when `max(tat, now) + interval - burst * interval <= now`, the same rule as the
in-memory buckets of kiosk/support/ratelimit.py, which tests/test_postgres_store.py checks)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from kiosk.storage.postgres.connection import CONNECTION_FAILURES, unavailable

PRUNE_EVERY = 1000  # actions between two sweeps of buckets that are full again


class PgBuckets:
    """Token buckets in the hall's rate_buckets table."""

    def __init__(self, pool: Callable[[], asyncpg.Pool | None]) -> None:
        self._pool = pool  # the store's pool once it is open (the limiters are made before that)
        self._count = 0

    @property
    def pool(self) -> asyncpg.Pool:
        """The store's pool."""
        pool = self._pool()
        assert pool is not None, "store is not open"
        return pool

    async def spend(self, key: str, interval: float, burst: int, now: float, take: bool) -> float:
        """Seconds until the next action under key is allowed; 0 when allowed now (and spent if `take`)."""
        try:
            if take:
                tat = await self.pool.fetchval(
                    """INSERT INTO rate_buckets AS b (key, tat) VALUES ($1, $2::float8 + $3::float8)
                       ON CONFLICT (key) DO UPDATE SET tat = GREATEST(b.tat, $2) + $3
                       WHERE GREATEST(b.tat, $2) + $3 - $4 * $3 <= $2 RETURNING tat""",
                    key, now, interval, float(burst))
                self._count += 1
                if self._count % PRUNE_EVERY == 0:
                    await self.pool.execute("DELETE FROM rate_buckets WHERE tat < $1", now)
                if tat is not None:
                    return 0.0
            tat = await self.pool.fetchval("SELECT tat FROM rate_buckets WHERE key = $1", key)
        except CONNECTION_FAILURES as exc:
            raise unavailable(exc) from exc
        if tat is None:
            return 0.0
        return max(0.0, max(float(tat), now) + interval - burst * interval - now)
