"""Events, the audit log and run-time settings."""

from __future__ import annotations

import json
from typing import Any

from kiosk.queue.models import Event
from kiosk.storage.sqlite.sql import Sql
from kiosk.support.jsontext import dumps


class RecordSql(Sql):
    """The events, audit and settings tables."""

    async def insert_event(self, type_: str, data: dict[str, Any], at: float) -> Event:
        """Record a public event; its id orders the stream."""
        async with self.conn.execute("INSERT INTO events (at, type, data) VALUES (?, ?, ?)",
                                     (at, type_, dumps(data))) as cur:
            event_id = cur.lastrowid
        assert event_id is not None
        return Event(id=event_id, type=type_, data=data, at=at)

    async def events_after(self, event_id: int, limit: int = 1000) -> list[Event]:
        """Events newer than an id, oldest first."""
        rows = await self._all("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (event_id, limit))
        return [Event(r["id"], r["type"], json.loads(r["data"]), r["at"]) for r in rows]

    async def last_event_id(self) -> int:
        """The newest event id (0 when none)."""
        row = await self._one("SELECT COALESCE(MAX(id), 0) FROM events")
        assert row is not None
        return int(row[0])

    async def recent_events(self, type_: str, since: float, limit: int) -> list[Event]:
        """The newest events of one type since a time, newest first."""
        rows = await self._all("SELECT * FROM events WHERE type = ? AND at >= ? ORDER BY id DESC LIMIT ?",
                               (type_, since, limit))
        return [Event(r["id"], r["type"], json.loads(r["data"]), r["at"]) for r in rows]

    async def prune_events(self, before: float) -> None:
        """Forget events older than a time."""
        await self.conn.execute("DELETE FROM events WHERE at < ?", (before,))

    async def audit(self, *, at: float, username: str | None, action: str, counter_id: str | None = None,
                    ticket_number: str | None = None, detail: str | None = None) -> None:
        """Record who did what."""
        await self.conn.execute(
            "INSERT INTO audit (at, username, action, counter_id, ticket_number, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (at, username, action, counter_id, ticket_number, detail))

    async def audit_entries(self, limit: int = 100, *, username: str | None = None, action: str | None = None,
                            counter_id: str | None = None, ticket_number: str | None = None
                            ) -> list[dict[str, Any]]:
        """The newest audit entries, optionally only one user's, action's, counter's or ticket's."""
        where, params = [], []
        for column, value in (("username", username), ("action", action), ("counter_id", counter_id),
                              ("ticket_number", ticket_number)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._all(f"SELECT * FROM audit {clause} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [dict(r) for r in rows]

    async def setting(self, key: str) -> str | None:
        """A run-time setting, if set."""
        row = await self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return row[0] if row else None

    async def set_setting(self, key: str, value: str, at: float, by: str | None) -> None:
        """Store a run-time setting."""
        await self.conn.execute(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (key, value, at, by))
