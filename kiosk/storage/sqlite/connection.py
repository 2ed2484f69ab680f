"""A connection whose statements run inline on the event loop (the writer's, and the quick reads')."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Generator, Iterable
from typing import Any


class _Statement:
    """A statement the inline writer already ran, used like aiosqlite's (`await` it or `async with`)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount

    def __await__(self) -> Generator[None, None, _Statement]:
        yield from ()
        return self

    async def __aenter__(self) -> _Statement:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cursor.close()

    async def fetchone(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.cursor.fetchone()
        return row

    async def fetchall(self) -> list[sqlite3.Row]:
        return self.cursor.fetchall()

    async def close(self) -> None:
        self.cursor.close()


class InlineConnection:
    """A connection whose statements run inline on the event loop; for the writer, transaction
    control (which may wait on the disk) runs in a thread."""

    def __init__(self, conn: sqlite3.Connection, *, private: bool = False) -> None:
        self.conn = conn
        self.private = private  # nothing can wait (no fsync, no other process): transaction control inline

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Statement:
        return _Statement(self.conn.execute(sql, tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Statement:
        return _Statement(self.conn.executemany(sql, [tuple(row) for row in rows]))
    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a statement and read all its rows (nothing stays open afterwards)."""
        cursor = self.conn.execute(sql, tuple(params))
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    async def in_thread(self, sql: str) -> None:
        """A statement that may wait on the disk (COMMIT's fsync) or on another process's lock."""
        if self.private:
            self.conn.execute(sql)
            return
        await asyncio.to_thread(self.conn.execute, sql)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    async def close(self) -> None:
        await asyncio.to_thread(self.conn.close)
