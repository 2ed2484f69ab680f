"""Storage, the only place with SQL: the contract (`base.Store`, `base.Queries`) and its SQLite
implementation (`sqlite/`). The rest of Giliran asks for a store here and never names an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.queue.models import Ticket
from kiosk.storage.base import Queries, Store

__all__ = ["Queries", "Store", "create_store", "read_day_of", "stored_setting_of"]


def create_store(db: str | Path, *, synchronous: str = "FULL", private: bool = False) -> Store:
    """The store for a database: a file path (or `:memory:`) is an SQLite database. `private`: a
    scratch database no other process opens, with synchronous OFF (the day simulator's)."""
    from kiosk.storage.sqlite.store import SqliteStore

    if private and synchronous != "OFF":
        raise ValueError("a private store is a scratch database: synchronous OFF")
    return SqliteStore(db, synchronous=synchronous, private=private)


def stored_setting_of(db: str | Path, key: str) -> str | None:
    """A run-time setting kept in the database, read before anything is started (None if none)."""
    from kiosk.storage.sqlite.store import stored_setting

    return stored_setting(db, key)


async def read_day_of(db: str | Path, day: str) -> tuple[list[Ticket], list[dict[str, Any]]]:
    """A day's tickets and visits from a hall's database, read without writing to it (the day
    simulator replays them)."""
    from kiosk.storage.sqlite.days import read_day

    return await read_day(db, day)
