"""A real day read from a hall's schema in PostgreSQL for the day simulator to replay, on one
connection in read-only transactions: nothing is created, migrated or written (the hall's servers
may keep running on it)."""

from __future__ import annotations

from typing import Any

import asyncpg

from kiosk.queue.models import Ticket
from kiosk.storage.postgres.connection import CONNECTION_FAILURES, PgConnection, unavailable
from kiosk.storage.postgres.dsn import locate
from kiosk.storage.postgres.queries import PgQueries

CONNECT_TIMEOUT_S = 5.0


async def read_day(db: str, day: str) -> tuple[list[Ticket], list[dict[str, Any]]]:
    """A day's tickets and visits of the hall a postgresql:// URL names (`?hall=`, else the default
    hall). Raises LookupError when the database has no such hall, Unavailable when it cannot be reached."""
    location = locate(db)
    try:
        conn = await asyncpg.connect(location.dsn, timeout=CONNECT_TIMEOUT_S, server_settings={
            "search_path": location.schema, "default_transaction_read_only": "on",
            "application_name": f"giliran replay {location.hall}"})
    except CONNECTION_FAILURES as exc:
        raise unavailable(exc) from exc
    try:
        if not await conn.fetchval("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 "
                                   "AND table_name = 'tickets'", location.schema):
            raise LookupError(f"{location.shown}: no such hall in this database")
        days = PgQueries(PgConnection(conn, frozenset()))
        return await days.day_tickets(day), await days.day_visits(day)
    finally:
        await conn.close()
