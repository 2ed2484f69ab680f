"""A whole day as it happened: its tickets, visits and messages (the day simulator's measures, and
a real day replayed from a hall's database, read without writing to it)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from kiosk.queue.models import Ticket
from kiosk.storage.sqlite.connection import InlineConnection
from kiosk.storage.sqlite.sql import Sql
from kiosk.storage.sqlite.tickets import ticket_row


class DaySql(Sql):
    """Reads of whole days (tickets, service_log and outbox tables)."""

    async def day_tickets(self, day: str) -> list[Ticket]:
        """Every ticket of a day, in the order they were issued."""
        return [ticket_row(r) for r in await self._all("SELECT * FROM tickets WHERE day = ? ORDER BY id", (day,))]

    async def day_visits(self, day: str) -> list[dict[str, Any]]:
        """Every visit of a day at a counter, in the order they ended."""
        rows = await self._all(
            "SELECT ticket_id, service, counter_id, called_at, started_at, ended_at, outcome FROM service_log "
            "WHERE day = ? ORDER BY ended_at, id", (day,))
        return [dict(r) for r in rows]

    async def day_messages(self, day: str, stage: str) -> list[dict[str, Any]]:
        """The outbox rows of one stage for a day's tickets, oldest first."""
        rows = await self._all(
            "SELECT o.ticket_id, o.channel, o.address, o.created_at, o.state FROM outbox o "
            "JOIN tickets t ON t.id = o.ticket_id WHERE t.day = ? AND o.stage = ? ORDER BY o.id", (day, stage))
        return [dict(r) for r in rows]


def _open_read_only(path: str | Path) -> sqlite3.Connection:
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such database")
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=5, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


async def read_day(path: str | Path, day: str) -> tuple[list[Ticket], list[dict[str, Any]]]:
    """A day's tickets and visits from a hall's database, opened read-only (nothing is migrated or
    written; a server may keep running on it)."""
    with closing(await asyncio.to_thread(_open_read_only, path)) as conn:
        days = DaySql(InlineConnection(conn))
        return await days.day_tickets(day), await days.day_visits(day)
