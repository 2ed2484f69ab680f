"""Storage, the only place with SQL: the contract (`base.Store`, `base.Queries`) and its two
implementations, SQLite (`sqlite/`, one process per hall, the default) and PostgreSQL
(`postgres/`, many halls and several processes per hall). The rest of Giliran asks for a store
here and never names an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.queue.models import Ticket
from kiosk.storage.base import Queries, Store

__all__ = ["Queries", "Store", "create_store", "is_shared", "read_day_of", "shown", "stored_setting_of"]


def is_shared(db: str | Path) -> bool:
    """Whether `db` is a database server several processes and halls share (PostgreSQL)."""
    from kiosk.storage.postgres.dsn import is_postgres

    return is_postgres(db)


def shown(db: str | Path, hall: str | None = None) -> str:
    """The database for messages and log lines (never a password)."""
    if is_shared(db):
        from kiosk.storage.postgres.dsn import locate

        try:
            return locate(str(db), hall).shown
        except ValueError:
            return "PostgreSQL"
    return str(db)


def create_store(db: str | Path, *, hall: str | None = None, synchronous: str = "FULL",
                 private: bool = False) -> Store:
    """The store for a database: a `postgresql://` URL is PostgreSQL (the hall's schema named by
    `?hall=` in the URL or `hall`); a file path (or `:memory:`) is an SQLite database, whose one
    hall needs no name. `private`: a scratch SQLite database no other process opens, with
    synchronous OFF (the day simulator's)."""
    if is_shared(db):
        from kiosk.storage.postgres.dsn import locate
        from kiosk.storage.postgres.store import PgStore

        if private:
            raise ValueError("a private store is a scratch SQLite database, not a shared server")
        return PgStore(locate(str(db), hall))
    from kiosk.storage.sqlite.store import SqliteStore

    if private and synchronous != "OFF":
        raise ValueError("a private store is a scratch database: synchronous OFF")
    return SqliteStore(db, synchronous=synchronous, private=private)


def stored_setting_of(db: str | Path, key: str, *, hall: str | None = None) -> str | None:
    """A run-time setting kept in the database, read before anything is started (None if none)."""
    if is_shared(db):
        from kiosk.storage.postgres.dsn import locate
        from kiosk.storage.postgres.store import stored_setting as pg_setting

        return pg_setting(locate(str(db), hall), key)
    from kiosk.storage.sqlite.store import stored_setting

    return stored_setting(db, key)


async def read_day_of(db: str | Path, day: str) -> tuple[list[Ticket], list[dict[str, Any]]]:
    """A day's tickets and visits from a hall's database, read without writing to it (the day
    simulator replays them): an SQLite file, or a hall of a PostgreSQL database (a postgresql://
    URL with `?hall=`). Raises OSError or LookupError when there is no such database or hall."""
    if is_shared(db):
        from kiosk.storage.postgres.days import read_day as pg_read_day

        return await pg_read_day(str(db), day)
    from kiosk.storage.sqlite.days import read_day

    return await read_day(db, day)
