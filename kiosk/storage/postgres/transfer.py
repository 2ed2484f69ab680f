"""`giliran migrate-to`: a hall's whole SQLite history into its schema of a PostgreSQL database,
verified by counts.

Every table of the hall is copied with its ids (tickets, visits, users, sessions, events, audit,
print jobs, settings with the hall document, subscriptions, the outbox, messages that came in, the
counts and report tables the triggers keep...), in the order the migrations created them (so a
row's references exist before it), in one PostgreSQL transaction: either all of it is there, or
nothing. The hall's triggers are off during the copy (the tables they keep are copied as they are:
a trigger replaying finished tickets row by row would not rebuild the history they saw happen),
then on again. Each identity continues after the highest copied id. The target hall must be empty.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from kiosk.storage.postgres.dsn import Location
from kiosk.storage.postgres.store import PgStore
from kiosk.storage.sqlite.store import SqliteStore

BOOKKEEPING = {"schema_version", "rate_buckets"}  # the PostgreSQL store's own, not the hall's data
BATCH = 5000


class TransferError(Exception):
    """The copy cannot be made or does not match; nothing was kept."""


@dataclass
class Transfer:
    """What was copied: rows per table in the SQLite file and in PostgreSQL."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        """Whether every table has as many rows on both sides."""
        return all(a == b for a, b in self.counts.values())


def _sqlite_tables(path: Path) -> dict[str, list[str]]:
    with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        return {n: [r[1] for r in conn.execute(f'PRAGMA table_info("{n}")')] for n in names}


def _rows(path: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as conn:
        cols = ", ".join(f'"{c}"' for c in columns)
        return conn.execute(f'SELECT {cols} FROM "{table}" ORDER BY 1').fetchall()


def _count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)) as conn:
        return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


async def migrate_to(source: Path, target: Location) -> Transfer:
    """Copy the SQLite hall at `source` into the empty hall `target`; raises TransferError."""
    if not await asyncio.to_thread(source.exists):
        raise TransferError(f"{source}: no such database")
    lite = SqliteStore(source)  # brings the file to this Giliran's schema first
    await lite.open()
    await lite.close()
    store = PgStore(target)
    await store.open()  # creates and migrates the hall's schema
    await store.close()
    tables = await asyncio.to_thread(_sqlite_tables, source)
    conn = await asyncpg.connect(target.dsn, server_settings={"search_path": target.schema})
    try:
        return await _copy(conn, source, target, tables)
    finally:
        await conn.close()


async def _copy(conn: asyncpg.Connection, source: Path, target: Location,
                lite: dict[str, list[str]]) -> Transfer:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.oid", target.schema)
    order = [r[0] for r in rows if r[0] not in BOOKKEEPING]
    missing = sorted(set(lite) - set(order))
    if missing:
        raise TransferError(f"tables of the SQLite file unknown to PostgreSQL: {', '.join(missing)}")
    result = Transfer()
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _hall_lock(target))
        for table in order:
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                raise TransferError(f"hall '{target.hall}' already has data ({table}); migrate into an empty hall")
        for table in order:
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table in order:
            if table not in lite:
                continue
            columns = lite[table]
            data = await asyncio.to_thread(_rows, source, table, columns)
            for start in range(0, len(data), BATCH):
                await conn.copy_records_to_table(table, records=data[start:start + BATCH], columns=columns)
            if "id" in columns:
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"GREATEST((SELECT MAX(id) FROM \"{table}\"), 1), "
                                   f"(SELECT MAX(id) FROM \"{table}\") IS NOT NULL)")
        for table in order:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            if table in lite:
                there = int(await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))
                result.counts[table] = (await asyncio.to_thread(_count, source, table), there)
        if not result.matches:
            wrong = ", ".join(f"{t} {a}/{b}" for t, (a, b) in result.counts.items() if a != b)
            raise TransferError(f"counts differ ({wrong}); nothing was kept")
    return result


def _hall_lock(target: Location) -> int:
    from kiosk.storage.postgres.dsn import lock_key
    return lock_key("hall", target.hall)
