"""What every part of the SQLite queries shares: the connection and two ways to read rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol


class Cursor(Protocol):
    """A statement's result, as aiosqlite and the inline writer both give it."""

    lastrowid: int | None
    rowcount: int

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Any: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, *exc: object) -> None: ...


class Connection(Protocol):
    """The part of a connection the queries use (aiosqlite's, or the inline one of the writer)."""

    def execute(self, sql: str, params: Iterable[Any] = ...) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Any: ...
    def execute_fetchall(self, sql: str, params: Iterable[Any] = ...) -> Any: ...


class Sql:
    """The base of the query classes: one connection (the writer inside a transaction, or a reader)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run and read a statement in one step on the connection. A reader connection is shared by
        every coroutine, and SQLite ends a connection's read transaction only when all its statements
        are done: a statement left open between two awaits (`execute`, then `fetchall`) would make
        the others' reads see the database as it was before writes committed meanwhile (the outbox
        then saw a message it had just recorded as sent still pending, and sent it again)."""
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> int:
        """A statement that changes rows; returns how many."""
        cur = await self.conn.execute(sql, tuple(params))
        count = int(cur.rowcount)
        await cur.close()
        return count

    @asynccontextmanager
    async def savepoint(self, name: str) -> AsyncIterator[None]:
        """A nested transaction: on error only its own writes are undone."""
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.conn.execute(f"ROLLBACK TO {name}")
            await self.conn.execute(f"RELEASE {name}")
            raise
        await self.conn.execute(f"RELEASE {name}")
