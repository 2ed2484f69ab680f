"""SQLite store: one writer connection behind a lock, one reader, versioned migrations.

The domain calls `Queries` methods (kiosk/storage/base/), either inside
`SqliteStore.transaction()` (the single writer), on `reads` (aiosqlite, in its thread), or on
`quick` (small indexed reads inline on the event loop, for hot paths). The SQL itself lives in
the modules beside this one, one per concern.

The writer is built for throughput without giving up durability (docs/scaling.md):

- its statements run inline on the event loop: inside a transaction they touch only SQLite's page
  cache and the WAL file and take microseconds, far less than a hop to a worker thread; what can
  wait on the disk or another process (BEGIN IMMEDIATE, COMMIT with its fsync, ROLLBACK) runs in
  a thread;
- group commit: each `transaction()` is a savepoint inside a batch; the batch commits (one fsync)
  as soon as no other transaction is queued behind it, or after MAX_BATCH of them, and every
  caller returns only after the COMMIT that made its own changes durable;
- checkpoints (copying the WAL back into the database file, with its own fsync) run beside the
  writer on a connection of their own every CHECKPOINT_S, instead of inside whichever COMMIT
  crosses SQLite's threshold, where they stalled every ticket queued behind it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from kiosk.queue.errors import Unavailable
from kiosk.queue.events import EventBus
from kiosk.queue.models import Event
from kiosk.storage.base import Body
from kiosk.storage.sqlite.connection import InlineConnection
from kiosk.storage.sqlite.migrations import MIGRATIONS, statements
from kiosk.storage.sqlite.queries import SqliteQueries
from kiosk.storage.sqlite.report_reader import ReportReader
from kiosk.storage.sqlite.reports import SqliteReportQueries
from kiosk.support.ratelimit import SharedBuckets

log = logging.getLogger(__name__)

WRITE_FAILURES = ("disk is full", "readonly", "read-only", "disk i/o error", "locked", "unable to open")


def stored_setting(path: str | Path, key: str) -> str | None:
    """A settings row of the database at `path`, if there is one; read before start-up."""
    if str(path) == ":memory:" or not Path(path).exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:  # no settings table yet (an older or empty database)
        return None
    return str(row[0]) if row else None


@dataclass(frozen=True)
class LocalPublisher:
    """One process: a transaction's events go to the bus as soon as it has committed."""

    bus: EventBus
    heard: int = 0  # nobody else writes to the hall

    def committed(self, events: Sequence[Event]) -> None:
        """Publish a committed transaction's events."""
        for event in events:
            self.bus.publish(event)


@dataclass
class _Batch:
    """Transactions sharing one COMMIT."""

    committed: asyncio.Future[None]
    units: int = 0


MAX_BATCH = 64
CHECKPOINT_S = 1.0
# The writer still checkpoints by itself past this many WAL pages (about 40 MB), should the
# checkpointer fall behind: the WAL never grows without bound.
WRITER_CHECKPOINT_PAGES = 10000


class SqliteStore:
    """The hall's database: `transaction()` for the single writer, `reads` for everything else."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", private: bool = False) -> None:
        self.path = str(path)
        self.synchronous = synchronous
        # A scratch database only this process opens, never synced (the day simulator's): nothing
        # waits on the disk or another process, so transaction control runs inline too.
        self.private = private
        self._writer: InlineConnection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._quick: InlineConnection | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._reports = ReportReader(self.path)
        self._lock = asyncio.Lock()
        self._queued = 0  # transactions waiting for the lock
        self._batch: _Batch | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self.failures = 0  # writes undone so far (what was read inside them may not be true)
        self.buckets: SharedBuckets | None = None  # one process: its rate limits are exact in memory

    async def open(self) -> None:
        """Connect, switch to WAL and apply migrations."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        self._writer = InlineConnection(conn, private=self.private)
        await self._writer.execute("PRAGMA busy_timeout = 5000")
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._writer.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self._writer.execute("PRAGMA foreign_keys = ON")
        await self._migrate()
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = sqlite3.Row
        await self._reader.execute("PRAGMA busy_timeout = 5000")
        await self._reader.execute("PRAGMA query_only = ON")
        quick = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        quick.row_factory = sqlite3.Row
        quick.execute("PRAGMA query_only = ON")
        self._quick = InlineConnection(quick)
        await self._writer.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        if not self.private:  # a scratch database leaves checkpoints to the writer (the WAL stays bounded)
            self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoints(), name="wal-checkpoint")

    async def _checkpoints(self) -> None:
        """Copy committed pages from the WAL into the database file, beside the writer (PASSIVE:
        never waits for it, nor makes it wait); SQLite starts the WAL over once all is copied."""
        conn = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        running: asyncio.Future[list[Any]] | None = None
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_S)
                running = task = asyncio.ensure_future(
                    asyncio.to_thread(lambda: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()))
                try:
                    await asyncio.shield(task)
                except sqlite3.Error as exc:  # the writer's own checkpoints still bound the WAL
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            # A checkpoint still running in its thread must end before the connection closes in another
            # (two threads in one SQLite connection at once crash the process).
            if running is not None:
                await asyncio.shield(asyncio.gather(running, return_exceptions=True))
            await asyncio.shield(asyncio.to_thread(conn.close))

    async def _migrate(self) -> None:
        assert self._writer is not None
        async with self._writer.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(f"{self.path}: database schema {version} is newer than this Giliran "
                               f"({len(MIGRATIONS)}); upgrade Giliran")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements(script):
                    await self._writer.execute(statement)
                await self._writer.execute(f"PRAGMA user_version = {number}")
                await self._writer.execute("COMMIT")
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            log.info("database %s migrated to schema %d", self.path, number)

    async def close(self) -> None:
        """Close the connections."""
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        await self._reports.close()
        for conn in (self._quick, self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._quick = self._reader = self._writer = None

    @property
    def reads(self) -> SqliteQueries:
        """Queries on the reader connection (sees every committed write)."""
        assert self._reader is not None, "store is not open"
        return SqliteQueries(self._reader)

    @property
    def quick(self) -> SqliteQueries:
        """Queries run inline on the event loop, on their own read-only connection (sees every
        committed write; a WAL reader never waits for the writer). Only for small reads along an
        index, taking microseconds: on a busy server a hop to a reader thread costs far more (the
        thread must win the GIL from the loop, twice). Anything that may scan belongs on `reads`."""
        assert self._quick is not None, "store is not open"
        return SqliteQueries(self._quick)

    @property
    def reports(self) -> SqliteReportQueries:
        """Report queries on a connection and a low-priority thread of their own, opened on first use."""
        return SqliteReportQueries(self._reports)

    async def regency_halls(self) -> dict[str, str | None]:
        """The one hall of the file and its stored hall document."""
        doc = await self.reads.setting("hall")
        hall = json.loads(doc).get("hall", {}).get("id", "default") if doc else "default"
        return {str(hall): doc}

    def reports_of(self, hall: str) -> SqliteReportQueries:
        """The report reads of the file's one hall."""
        return self.reports

    def publisher(self, bus: EventBus) -> LocalPublisher:
        """One process per SQLite database: its own events are all there is."""
        return LocalPublisher(bus)

    async def exclusive(self, name: str, body: Body) -> None:
        """One process per SQLite database: everything runs here."""
        await body()

    def runs_here(self, name: str) -> bool:
        """Everything runs in the one process."""
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteQueries]:
        """One write transaction on the single writer; durable when the block has been left.

        Runs as a savepoint of the current batch (group commit, see the module docstring); an
        error undoes only this transaction's writes. Raises Unavailable when the storage fails
        (then nothing of the batch is kept and every caller in it hears so).
        """
        writer = self._writer
        assert writer is not None, "store is not open"
        self._queued += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._queued -= 1
            self._flush_soon()
            raise
        self._queued -= 1
        batch: _Batch | None = None
        try:
            batch = await self._batch_for(writer)
            writer.execute("SAVEPOINT unit")
            try:
                yield SqliteQueries(writer)
            except BaseException as exc:
                await self._undo_unit(writer, batch)
                if isinstance(exc, sqlite3.OperationalError) and self.is_storage_failure(exc):
                    raise self._unavailable(exc) from exc
                raise
            writer.execute("RELEASE unit")
            batch.units += 1
        finally:
            if self._batch is not None and (self._queued == 0 or self._batch.units >= MAX_BATCH):
                # The task owns the lock until the COMMIT is over, even if this caller is cancelled.
                await asyncio.shield(asyncio.ensure_future(self._commit_and_release(writer)))
            else:
                self._lock.release()
        await asyncio.shield(batch.committed)

    async def _batch_for(self, writer: InlineConnection) -> _Batch:
        if self._batch is None:
            try:
                await writer.in_thread("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._unavailable(exc) from exc
            self._batch = _Batch(asyncio.get_running_loop().create_future())
        return self._batch

    async def _undo_unit(self, writer: InlineConnection, batch: _Batch) -> None:
        self.failures += 1
        if writer.in_transaction:
            try:
                writer.execute("ROLLBACK TO unit")
                writer.execute("RELEASE unit")
                return
            except sqlite3.Error:
                log.exception("rolling back to the savepoint failed")
        # SQLite gave up the whole transaction (disk full, I/O error): the batch is lost.
        await self._rollback()
        self._fail(batch, Unavailable("Penyimpanan data sedang bermasalah; coba lagi sebentar lagi."))

    async def _commit_and_release(self, writer: InlineConnection) -> None:
        try:
            await self._commit(writer)
        finally:
            self._lock.release()

    async def _commit(self, writer: InlineConnection) -> None:
        batch, self._batch = self._batch, None
        assert batch is not None
        try:
            await writer.in_thread("COMMIT")
        except sqlite3.Error as exc:
            await self._rollback()
            self._fail(batch, self._unavailable(exc))
            return
        if not batch.committed.done():
            batch.committed.set_result(None)

    def _fail(self, batch: _Batch, exc: Exception) -> None:
        self.failures += 1
        if self._batch is batch:
            self._batch = None
        if not batch.committed.done():
            batch.committed.set_exception(exc)
            batch.committed.exception()  # retrieved here: callers who left early must not warn

    def _flush_soon(self) -> None:
        """A queued transaction gave up waiting: commit the open batch if nobody else will."""
        if self._batch is not None and self._queued == 0:
            task = asyncio.get_running_loop().create_task(self._flush())
            self._flushing.add(task)  # keep a reference until it is done
            task.add_done_callback(self._flushing.discard)

    async def _flush(self) -> None:
        async with self._lock:
            if self._batch is not None and self._queued == 0 and self._writer is not None:
                await self._commit(self._writer)

    async def _rollback(self) -> None:
        assert self._writer is not None
        if self._writer.in_transaction:
            try:
                await self._writer.in_thread("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    def _unavailable(self, exc: sqlite3.Error) -> Unavailable:
        log.error("database write failed: %s", exc)
        return Unavailable("Penyimpanan data sedang bermasalah; coba lagi sebentar lagi.")

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        """Whether an sqlite error means the disk or file refuses writes."""
        return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in WRITE_FAILURES)
