"""The SQLite store's SQL, run on PostgreSQL: a connection that looks like the one the query
classes of kiosk/storage/sqlite/ use (`execute`, `execute_fetchall`, a cursor with `lastrowid` and
`rowcount`), translating each statement once (`?` and `?N` to `$N`).

Rows come back as asyncpg Records, which read like sqlite3.Row (`row[0]`, `row["name"]`,
`row.keys()`, `dict(row)`). A statement that fails because the server is away raises Unavailable.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Generator, Iterable
from typing import Any

import asyncpg

from kiosk.queue.errors import Unavailable

log = logging.getLogger(__name__)

UNAVAILABLE = "Penyimpanan data sedang bermasalah; coba lagi sebentar lagi."
# What "the database is away" looks like from asyncpg (refused, reset, shutting down, starting up,
# too many connections, a pool that waited too long).
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError,
    asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, asyncpg.TooManyConnectionsError,
    asyncpg.InsufficientResourcesError, asyncpg.CannotConnectNowError,
    # a standby after a failover refuses writes; a lock or statement that waited past its timeout
    asyncpg.ReadOnlySQLTransactionError, asyncpg.LockNotAvailableError,
)

_QUOTED = re.compile(r"('(?:[^']|'')*'|\"[^\"]*\")")
_MARK = re.compile(r"\?(\d+)?")
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_READS = ("SELECT", "WITH", "VALUES", "SHOW")


def is_connection_failure(exc: BaseException) -> bool:
    """Whether an error means the server cannot be reached or is going away."""
    return isinstance(exc, CONNECTION_FAILURES)


def unavailable(exc: BaseException) -> Unavailable:
    """The 503 for a database that is away (logged once per failure)."""
    log.error("PostgreSQL unavailable: %s: %s", type(exc).__name__, exc)
    return Unavailable(UNAVAILABLE)


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, str, str | None]:
    """(PostgreSQL text, kind, table) of an SQLite statement: kind is 'rows' (it returns rows),
    'insert' (an INSERT without RETURNING into `table`) or 'run'."""
    out, count = [], 0
    for part in _QUOTED.split(sql):
        if part[:1] in ("'", '"'):
            out.append(part)
            continue

        def number(match: re.Match[str]) -> str:
            nonlocal count
            if match.group(1):
                return f"${match.group(1)}"
            count += 1
            return f"${count}"
        out.append(_MARK.sub(number, part))
    text = "".join(out)
    bare = "".join(p for p in _QUOTED.split(sql) if p[:1] not in ("'", '"'))
    head = bare.lstrip().split(None, 1)[0].upper() if bare.strip() else ""
    if head in _READS or _RETURNING.search(bare):
        return text, "rows", None
    insert = _INSERT.match(bare)
    if insert:
        return text, "insert", insert.group(1).lower()
    return text, "run", None


def _count(status: str) -> int:
    """Rows changed, from a command status ('UPDATE 3', 'INSERT 0 1'); -1 when it says none."""
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else -1


class Cursor:
    """One statement's result, used like an sqlite cursor (`await` it or `async with` it)."""

    def __init__(self, conn: PgConnection, sql: str, params: tuple[Any, ...]) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params
        self._done = False
        self.rows: list[asyncpg.Record] = []
        self.lastrowid: int | None = None
        self.rowcount = -1

    async def _run(self) -> Cursor:
        if not self._done:
            self._done = True
            await self._conn.run(self)
        return self

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run().__await__()

    async def __aenter__(self) -> Cursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def fetchone(self) -> asyncpg.Record | None:
        return self.rows[0] if self.rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self.rows

    async def close(self) -> None:
        pass


class PgConnection:
    """A connection (inside a transaction) or the pool (reads), speaking like an sqlite one."""

    def __init__(self, target: asyncpg.Connection | asyncpg.Pool, id_tables: frozenset[str]) -> None:
        self.target = target
        self.id_tables = id_tables  # tables with an `id` column: an INSERT tells its new id
        self.inserted_events: list[int] = []

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Cursor:
        return Cursor(self, sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement for many rows (in the transaction it is given)."""
        text, _, _ = translate(sql)
        try:
            await self.target.executemany(text, [tuple(row) for row in rows])
        except CONNECTION_FAILURES as exc:
            raise unavailable(exc) from exc

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        """Run a statement and read all its rows."""
        cursor = await Cursor(self, sql, tuple(params))
        return cursor.rows

    async def run(self, cursor: Cursor) -> None:
        text, kind, table = translate(cursor._sql)
        try:
            if kind == "rows":
                cursor.rows = await self.target.fetch(text, *cursor._params)
                cursor.rowcount = len(cursor.rows)
            elif kind == "insert" and table in self.id_tables:
                cursor.rows = []
                row = await self.target.fetchrow(text + " RETURNING id", *cursor._params)
                cursor.rowcount = 0 if row is None else 1
                cursor.lastrowid = None if row is None else int(row[0])
                if table == "events" and row is not None:
                    self.inserted_events.append(int(row[0]))
            else:
                cursor.rowcount = _count(await self.target.execute(text, *cursor._params))
        except asyncio.CancelledError:
            raise
        except CONNECTION_FAILURES as exc:
            raise unavailable(exc) from exc
