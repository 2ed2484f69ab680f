"""Bulk history (`giliran demo-history`): whole days of finished tickets and their visits written in
one transaction each. The report triggers see these rows like any others, so the report tables stay
in step; the order below is the order the queue itself writes them in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.storage.sqlite.sql import Sql

TICKET_FIELDS = ("id", "token", "day", "prefix", "seq", "number", "service", "priority", "priority_reason", "state",
                 "issued_at", "called_at", "started_at", "finished_at", "counter_id", "recalls", "transfers", "kiosk",
                 "place")
VISIT_FIELDS = ("ticket_id", "day", "service", "counter_id", "username", "called_at", "started_at", "ended_at",
                "outcome")


class HistorySql(Sql):
    """Writes of whole past days (inside a store transaction)."""

    async def next_ticket_id(self) -> int:
        """The id the next ticket would get."""
        row = await self._one("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")
        assert row is not None
        return int(row[0])

    async def days_with_tickets(self, first: str, last: str) -> set[str]:
        """Days between two dates that already have tickets."""
        rows = await self._all("SELECT DISTINCT day FROM tickets WHERE day BETWEEN ? AND ?", (first, last))
        return {str(r[0]) for r in rows}

    async def add_history(self, tickets: Sequence[dict[str, Any]], visits: Sequence[dict[str, Any]],
                          transfers: Sequence[dict[str, Any]], later_visits: Sequence[dict[str, Any]],
                          audit: Sequence[tuple[float, str, str, str]]) -> None:
        """Past tickets (as they were before any transfer; one that ended cancelled or expired as
        still waiting, its `final` state and `ended_at` given), their visits, then the transfers (the
        ticket's new service), the visits after them, the ends; and the counters' breaks."""
        marks = ", ".join("?" * len(TICKET_FIELDS))
        await self.conn.executemany(f"INSERT INTO tickets ({', '.join(TICKET_FIELDS)}) VALUES ({marks})",
                                    [tuple(t[f] for f in TICKET_FIELDS) for t in tickets])
        visit_sql = (f"INSERT INTO service_log ({', '.join(VISIT_FIELDS)}) "
                     f"VALUES ({', '.join('?' * len(VISIT_FIELDS))})")
        await self.conn.executemany(visit_sql, [tuple(v[f] for f in VISIT_FIELDS) for v in visits])
        await self.conn.executemany("UPDATE tickets SET service = ?, transfers = transfers + 1 WHERE id = ?",
                                    [(t["service"], t["id"]) for t in transfers])
        await self.conn.executemany(visit_sql, [tuple(v[f] for f in VISIT_FIELDS) for v in later_visits])
        await self.conn.executemany(  # the end of those who gave up or were still waiting at closing
            "UPDATE tickets SET state = ?, finished_at = ? WHERE id = ?",
            [(t["final"], t["ended_at"] if t["final"] == "cancelled" else None, t["id"]) for t in tickets
             if t["final"] in ("cancelled", "expired")])
        await self.conn.executemany("INSERT INTO audit (at, username, action, counter_id) VALUES (?, ?, ?, ?)",
                                    audit)
