"""Work that must run in one process of a hall at a time (a printer's spool, a channel of the
outbox): a session advisory lock per piece of work, all held on one connection of this process.

A process that holds no lock for a piece of work tries again every POLL_S; the one that holds it
keeps it while its connection lives. When that process dies, PostgreSQL ends its session and
frees its locks, and another process takes the work over within POLL_S. When this process loses
its connection (a restart of PostgreSQL, a network cut), its work stops at once: another process
may take the locks meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from kiosk.storage.base import Body

log = logging.getLogger(__name__)

POLL_S = 1.0



@dataclass
class _Wanted:
    name: str
    key: int
    granted: asyncio.Event = field(default_factory=asyncio.Event)
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class LockKeeper:
    """One connection holding this process's exclusive work locks."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], key: Callable[[str], int]) -> None:
        self._connect = connect
        self._key = key
        self._wanted: dict[str, _Wanted] = {}
        self._held: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._use = asyncio.Lock()  # one statement at a time on the connection
        self.poll_s = POLL_S

    def holds(self, name: str) -> bool:
        """Whether this process runs that work now."""
        return name in self._held

    async def run(self, name: str, body: Body) -> None:
        """Run `body` while this process holds the lock `name`; wait while another does; start it
        again after a loss once the lock is back. Returns when `body` returns; until cancelled."""
        if name in self._wanted:
            raise RuntimeError(f"{name} is already run by this process")
        wanted = self._wanted[name] = _Wanted(name, self._key(name))
        self._ensure_task()
        try:
            while True:
                await wanted.granted.wait()
                task = asyncio.create_task(body(), name=f"exclusive-{name}")
                lost = asyncio.create_task(wanted.lost.wait())
                try:
                    done, _ = await asyncio.wait((task, lost), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    lost.cancel()
                if task in done:
                    await task
                    return
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                log.warning("%s stopped here: the lock was lost with the database connection", name)
        finally:
            self._wanted.pop(name, None)
            if name in self._held:
                self._held.discard(name)
                await self._unlock(wanted.key)

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._keep(), name="exclusive-locks")

    async def _unlock(self, key: int) -> None:
        if self._conn is not None and not self._conn.is_closed():
            try:
                async with self._use:
                    await self._conn.execute("SELECT pg_advisory_unlock($1)", key)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass

    async def _keep(self) -> None:
        while True:
            try:
                self._conn = await self._connect()
                while True:
                    async with self._use:
                        await self._poll(self._conn)
                    await asyncio.sleep(self.poll_s)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if self._held:
                    log.warning("exclusive work stops here (%s): %s", ", ".join(sorted(self._held)), exc)
                self._lose_all()
                await asyncio.sleep(self.poll_s)
            finally:
                if self._conn is not None and not self._conn.is_closed():
                    self._conn.terminate()
                self._conn = None

    async def _poll(self, conn: asyncpg.Connection) -> None:
        missing = [w for w in self._wanted.values() if w.name not in self._held]
        if not missing:
            await conn.fetchval("SELECT 1", timeout=self.poll_s * 5)  # still alive?
            return
        got = await conn.fetch("SELECT k, pg_try_advisory_lock(k) AS ok FROM unnest($1::bigint[]) AS k",
                               [w.key for w in missing], timeout=self.poll_s * 5)
        ok = {int(r["k"]) for r in got if r["ok"]}
        for wanted in missing:
            if wanted.key in ok and wanted.name in self._wanted:
                self._held.add(wanted.name)
                wanted.lost.clear()
                wanted.granted.set()
                log.info("%s runs in this process", wanted.name)
            elif wanted.key in ok:  # given up meanwhile
                await conn.execute("SELECT pg_advisory_unlock($1)", wanted.key)

    def _lose_all(self) -> None:
        for name in list(self._held):
            wanted = self._wanted.get(name)
            if wanted is not None:
                wanted.granted.clear()
                wanted.lost.set()
        self._held.clear()

    async def close(self) -> None:
        """Stop holding anything."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
