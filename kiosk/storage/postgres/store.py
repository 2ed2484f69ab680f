"""The PostgreSQL store: a pool, one connection per write transaction, the hall's advisory lock.

- `transaction()`: BEGIN (READ COMMITTED), then `pg_advisory_xact_lock(hall)` before anything
  else: one writer per hall at a time, across all its processes, exactly what the domain's
  read-then-update logic was written for under SQLite's single writer (no serialisation retries,
  no deadlocks: the lock is always the first taken), and event ids in commit order. PostgreSQL
  flushes concurrent commits together, so no group commit of our own.
- `reads` / `quick`: the pool (each statement on any free connection, autocommit).
- Each hall is a schema (hall_<id>); the connections' search_path points at it, so no statement
  names a hall and no process can touch another hall's rows.
- The server away: every statement and transaction raises Unavailable (503); the pool reconnects
  by itself, the listener and the lock keeper too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from kiosk.queue.events import EventBus
from kiosk.queue.models import Event
from kiosk.storage.base import Body, Publisher
from kiosk.storage.postgres.buckets import PgBuckets
from kiosk.storage.postgres.connection import CONNECTION_FAILURES, PgConnection, unavailable
from kiosk.storage.postgres.dsn import SCHEMA_PREFIX, Location, lock_key, schema_of
from kiosk.storage.postgres.locks import LockKeeper
from kiosk.storage.postgres.migrations import MIGRATIONS, SUPPORT
from kiosk.storage.postgres.queries import PgQueries
from kiosk.storage.postgres.relay import Relay, listen, payload
from kiosk.storage.postgres.reports import PgReportQueries
from kiosk.support.ratelimit import SharedBuckets

log = logging.getLogger(__name__)

POOL_MIN = 2
CONNECT_TIMEOUT_S = 5.0
ACQUIRE_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 30.0
LOCK_TIMEOUT = "10s"
HALL_DOCUMENT = "hall"  # the settings row of a hall's document (kiosk/queue/hall.py HALL_KEY)
REGENCY_ROLE = "giliran_regency"  # if this database role exists, it may read every hall's tables


class _OneLine(logging.Filter):
    """asyncpg's pool logs a traceback each time it fails to reconnect while PostgreSQL is away:
    one line is enough (the 503s say the rest)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_ONE_LINE = _OneLine()


def _numeric(text: str) -> int | float:
    """numeric as SQLite gives it: SUM and COUNT of integers are ints, AVG a float."""
    return float(text) if any(c in text for c in ".eEN") else int(text)


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


class PgStore:
    """A hall's data in a PostgreSQL database shared with other halls and processes."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.path = location.shown
        self.failures = 0
        self.pool_max = location.pool
        self._pool: asyncpg.Pool | None = None
        self._id_tables: frozenset[str] = frozenset()
        self._hall_key = lock_key("hall", location.hall)
        self._relay: Relay | None = None
        self._write_lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._locks = LockKeeper(self._connect, lambda name: lock_key("work", location.hall, name))
        self.buckets: SharedBuckets | None = PgBuckets(lambda: self._pool)

    # --- connections -------------------------------------------------------------------------
    def _settings(self) -> dict[str, str]:
        return {"search_path": self.location.schema, "lock_timeout": LOCK_TIMEOUT,
                "application_name": f"giliran {self.location.hall}"}

    async def _connect(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(self.location.dsn, timeout=CONNECT_TIMEOUT_S,
                                                         server_settings=self._settings())
        await _init(conn)
        return conn

    async def open(self) -> None:
        """Connect, create the hall's schema if new and bring it up to date; start listening."""
        if _ONE_LINE not in logging.getLogger("asyncpg.pool").filters:
            logging.getLogger("asyncpg.pool").addFilter(_ONE_LINE)
        try:
            self._pool = await asyncpg.create_pool(
                self.location.dsn, min_size=min(POOL_MIN, self.pool_max), max_size=self.pool_max,
                timeout=CONNECT_TIMEOUT_S, command_timeout=COMMAND_TIMEOUT_S, init=_init,
                server_settings=self._settings())
            await self._migrate()
            rows = await self._pool.fetch("SELECT table_name FROM information_schema.columns "
                                          "WHERE table_schema = $1 AND column_name = 'id'", self.location.schema)
        except CONNECTION_FAILURES as exc:
            await self.close()
            raise unavailable(exc) from exc
        except BaseException:  # a migration that fails: nothing is left open
            await self.close()
            raise
        self._id_tables = frozenset(r[0] for r in rows)
        if self._relay is not None:
            ready = asyncio.Event()
            self._follower = asyncio.get_running_loop().create_task(self._relay.follow(), name="pg-relay")
            self._listener = asyncio.get_running_loop().create_task(
                listen(self.location.dsn, self.location.channel, self._relay, ready, self._connect),
                name="pg-listen")
            await ready.wait()
            self._relay.last = await self.reads.last_event_id()

    async def _migrate(self) -> None:
        assert self._pool is not None
        schema = self.location.schema
        async with self._pool.acquire() as conn, conn.transaction():
            # Processes of one hall starting together: one migrates, the others wait and see it done.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key("migrate", self.location.hall))
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            version = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
            if version > len(MIGRATIONS):
                raise RuntimeError(f"{self.path}: database schema {version} is newer than this Giliran "
                                   f"({len(MIGRATIONS)}); upgrade Giliran")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await conn.execute(script)
                await conn.execute(f"DELETE FROM schema_version; INSERT INTO schema_version VALUES ({number})")
                log.info("database %s migrated to schema %d", self.path, number)
            await conn.execute(SUPPORT)
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", REGENCY_ROLE):
                # A read-only database role for the regency's own reporting tools (docs/postgres.md).
                await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {REGENCY_ROLE}; '
                                   f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {REGENCY_ROLE}; '
                                   f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES '
                                   f'TO {REGENCY_ROLE}')

    async def close(self) -> None:
        """Stop listening, free the locks, close the pool."""
        for task in (self._listener, self._follower):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._listener = self._follower = None
        await self._locks.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), 10)
            except CONNECTION_FAILURES:
                pool.terminate()

    # --- reading and writing -------------------------------------------------------------------
    @property
    def reads(self) -> PgQueries:
        """Queries on the pool (each on any free connection; sees every committed write)."""
        assert self._pool is not None, "store is not open"
        return PgQueries(PgConnection(self._pool, self._id_tables))

    @property
    def reports(self) -> PgReportQueries:
        """Report reads, each in a read-only snapshot on a pooled connection (never the writer)."""
        assert self._pool is not None, "store is not open"
        return PgReportQueries(self._pool)

    async def regency_halls(self) -> dict[str, str | None]:
        """Every hall of the database and its stored hall document (read only)."""
        found = {}
        for row in await self.reads._all(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'settings' "
                "AND table_schema LIKE ? ORDER BY table_schema", (SCHEMA_PREFIX.replace("_", "\\_") + "%",)):
            schema = str(row[0])
            doc = await self.reads._one(f'SELECT value FROM "{schema}".settings WHERE key = ?', (HALL_DOCUMENT,))
            found[schema.removeprefix(SCHEMA_PREFIX).replace("_", "-")] = None if doc is None else str(doc[0])
        return found

    def reports_of(self, hall: str) -> PgReportQueries:
        """The report reads of any hall of the database (read only)."""
        assert self._pool is not None, "store is not open"
        return PgReportQueries(self._pool, schema_of(hall))

    @property
    def quick(self) -> PgQueries:
        """The same as `reads`: every read is a round trip to the server."""
        return self.reads

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgQueries]:
        """One write transaction, the hall's lock taken first; durable when the block has been left."""
        assert self._pool is not None, "store is not open"
        # The hall has one writer at a time anyway (its advisory lock): this process's writers wait
        # here rather than each holding a pooled connection while it waits for the lock, so reads
        # always find a free connection and at most one per process waits in PostgreSQL.
        async with self._write_lock:
            try:
                conn: asyncpg.Connection = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
            except CONNECTION_FAILURES as exc:
                raise unavailable(exc) from exc
            try:
                async with self._transaction_on(conn) as q:
                    yield q
            finally:
                await self._release(conn)

    @asynccontextmanager
    async def _transaction_on(self, conn: asyncpg.Connection) -> AsyncIterator[PgQueries]:
        pg = PgConnection(conn, self._id_tables)
        q = PgQueries(pg)
        tx = conn.transaction()
        try:
            await tx.start()
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._hall_key)
        except CONNECTION_FAILURES as exc:
            raise unavailable(exc) from exc
        try:
            yield q
        except BaseException:
            self.failures += 1
            await self._rollback(tx)
            raise
        events = q.announced
        try:
            if self._relay is not None and pg.inserted_events:
                gap = await self._gap(conn, self._relay.last, min(pg.inserted_events))
                self._relay.committing(gap, events)
            text = payload(self._relay.process if self._relay else "cli", events)
            if text is not None:
                await conn.execute("SELECT pg_notify($1, $2)", self.location.channel, text)
            await tx.commit()
        except BaseException as exc:
            self.failures += 1
            if self._relay is not None:
                self._relay.abandoned(events)
            await self._rollback(tx)
            if isinstance(exc, CONNECTION_FAILURES):
                # The COMMIT may or may not have happened: the caller hears 503 and retries; a
                # ticket asked for again is a new ticket, the old one (if any) simply waits.
                raise unavailable(exc) from exc
            raise

    async def _gap(self, conn: asyncpg.Connection, last: int, first: int) -> list[Event]:
        """Events other processes committed after `last` and before this transaction's first."""
        if first <= last + 1:
            return []
        rows = await conn.fetch("SELECT * FROM events WHERE id > $1 AND id < $2 ORDER BY id", last, first)
        return [Event(r["id"], r["type"], json.loads(r["data"]), r["at"]) for r in rows]

    async def _rollback(self, tx: Any) -> None:
        try:
            await asyncio.shield(tx.rollback())
        except (asyncpg.PostgresError, asyncpg.InterfaceError, *CONNECTION_FAILURES):
            pass  # the connection is gone: the server rolled back for us

    async def _release(self, conn: asyncpg.Connection) -> None:
        assert self._pool is not None
        try:
            await asyncio.shield(self._pool.release(conn, timeout=5))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, *CONNECTION_FAILURES):
            pass  # a connection that cannot be reset is closed by the pool, which opens another later

    async def _read_events(self, last: int, upto: int | None) -> list[Event]:
        if upto is None:
            return await self.reads.events_after(last, limit=100_000)
        rows = await self.reads._all("SELECT * FROM events WHERE id > ? AND id <= ? ORDER BY id", (last, upto))
        return [Event(r["id"], r["type"], json.loads(r["data"]), r["at"]) for r in rows]

    # --- several processes ---------------------------------------------------------------------
    def publisher(self, bus: EventBus) -> Publisher:
        """Committed events reach `bus` in commit order, this process's and the other processes'."""
        if self._relay is not None and self._relay.bus is not bus:
            raise RuntimeError("a store publishes to one bus")
        self._relay = self._relay or Relay(bus, self._read_events)
        return self._relay

    async def exclusive(self, name: str, body: Body) -> None:
        """Run `body` in one process of the hall at a time (see locks.py)."""
        await self._locks.run(name, body)

    def runs_here(self, name: str) -> bool:
        """Whether this process runs that exclusive work now."""
        return self._locks.holds(name)


def stored_setting(location: Location, key: str) -> str | None:
    """A settings row of a hall, read before start-up (None if the hall or the row is not there)."""
    async def read() -> str | None:
        conn = await asyncpg.connect(location.dsn, timeout=CONNECT_TIMEOUT_S,
                                     server_settings={"search_path": location.schema})
        try:
            exists = await conn.fetchval("SELECT to_regclass('settings') IS NOT NULL")
            if not exists:
                return None
            value = await conn.fetchval("SELECT value FROM settings WHERE key = $1", key)
            return None if value is None else str(value)
        finally:
            await conn.close()

    # Run on a loop of its own in a thread: callers are synchronous, and may sit inside a running loop.
    result: list[str | None] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(read()))
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name="pg-setting")
    thread.start()
    thread.join()
    if errors:
        if isinstance(errors[0], CONNECTION_FAILURES):
            raise unavailable(errors[0]) from errors[0]
        raise errors[0]
    return result[0]
