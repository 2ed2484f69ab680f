"""Tickets: issuing, the waiting order, counters' current tickets, the day's end."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from kiosk.queue.models import AT_COUNTER, PHONE_CHANNELS, Ticket
from kiosk.storage.base import Lane
from kiosk.storage.sqlite.sql import Sql

LANE_CHUNK = 100  # services per statement (SQLite allows 500 terms in a compound select)

TICKET_COLUMNS = {
    "service", "state", "called_at", "started_at", "finished_at", "counter_id", "recalls",
    "transfers", "phone", "place", "deferred",
}


def ticket_row(row: sqlite3.Row) -> Ticket:
    """A row of the tickets table."""
    return Ticket(**{k: row[k] for k in row.keys()} | {"priority": bool(row["priority"]),
                                                       "deferred": bool(row["deferred"])})


class TicketSql(Sql):
    """The tickets table."""

    async def issue_counts(self, day: str, code: str) -> tuple[int, int, int]:
        """For a new ticket of a service (whose code is its prefix): (next sequence number,
        tickets counting against the quota, tickets waiting), in one statement."""
        row = await self._one(
            """SELECT (SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets WHERE day = ?1 AND prefix = ?2),
                      COALESCE((SELECT issued FROM day_counts WHERE day = ?1 AND code = ?2), 0),
                      COALESCE((SELECT waiting FROM day_counts WHERE day = ?1 AND code = ?2), 0)""", (day, code))
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    async def issued_counts(self, day: str) -> dict[str, int]:
        """Per prefix, today's tickets that count against the quota."""
        rows = await self._all("SELECT code, issued FROM day_counts WHERE day = ? AND issued > 0", (day,))
        return {r[0]: int(r[1]) for r in rows}

    async def insert_ticket(self, *, token: str, day: str, prefix: str, seq: int, number: str, service: str,
                            priority: bool, priority_reason: str | None, issued_at: float, phone: str | None,
                            kiosk: str | None, place: float) -> Ticket:
        """Insert a new waiting ticket at `place` in its queue."""
        async with self.conn.execute(
            """INSERT INTO tickets (token, day, prefix, seq, number, service, priority, priority_reason,
                                    state, issued_at, phone, kiosk, place)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?)""",
            (token, day, prefix, seq, number, service, int(priority), priority_reason, issued_at, phone,
             kiosk, place)) as cur:
            ticket_id = cur.lastrowid
        assert ticket_id is not None
        return Ticket(id=ticket_id, token=token, day=day, prefix=prefix, seq=seq, number=number, service=service,
                      priority=priority, priority_reason=priority_reason, state="waiting", issued_at=issued_at,
                      called_at=None, started_at=None, finished_at=None, counter_id=None, recalls=0,
                      transfers=0, phone=phone, kiosk=kiosk, place=place)

    async def ticket_by_token(self, token: str) -> Ticket | None:
        """The ticket with this citizen token."""
        row = await self._one("SELECT * FROM tickets WHERE token = ?", (token,))
        return ticket_row(row) if row else None

    async def ticket_by_id(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id."""
        row = await self._one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return ticket_row(row) if row else None

    async def update_ticket(self, ticket: Ticket, expect_state: str, **fields: Any) -> Ticket:
        """Change a ticket that is still in `expect_state`; raises if it moved meanwhile."""
        bad = set(fields) - TICKET_COLUMNS
        if bad:
            raise ValueError(f"not updatable: {bad}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        row = await self._one(f"UPDATE tickets SET {sets} WHERE id = ? AND state = ? RETURNING *",
                              (*fields.values(), ticket.id, expect_state))
        if row is None:
            raise RuntimeError(f"ticket {ticket.number} left state {expect_state} inside a write transaction")
        return ticket_row(row)

    async def counter_ticket(self, counter_id: str) -> Ticket | None:
        """The ticket a counter has called or is serving."""
        row = await self._one(
            f"SELECT * FROM tickets WHERE counter_id = ? AND state IN {AT_COUNTER!r} ORDER BY id DESC LIMIT 1",
            (counter_id,))
        return ticket_row(row) if row else None

    async def counter_tickets(self) -> dict[str, Ticket]:
        """Every counter's current ticket."""
        rows = await self._all(f"SELECT * FROM tickets WHERE state IN {AT_COUNTER!r} AND counter_id IS NOT NULL")
        return {r["counter_id"]: ticket_row(r) for r in rows}

    async def oldest_waiting(self, day: str, services: Iterable[str], priority: bool) -> Ticket | None:
        """The first-come waiting ticket of one class across several services."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        row = await self._one(
            f"""SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND priority = ?
                AND service IN ({marks}) ORDER BY place, id LIMIT 1""", (day, int(priority), *codes))
        return ticket_row(row) if row else None

    async def open_counts(self, day: str) -> dict[str, int]:
        """Per service, how many of today's tickets are waiting, called or being served."""
        rows = await self._all(
            "SELECT service, COUNT(*) FROM tickets WHERE day = ? AND state IN ('waiting', 'called', 'serving') "
            "GROUP BY service", (day,))
        return {r[0]: int(r[1]) for r in rows}

    async def waiting_counts(self, day: str, service: str | None = None) -> dict[str, int]:
        """Per service (or just `service`), how many wait today."""
        if service is not None:
            rows = await self._all("SELECT code, waiting FROM day_counts WHERE day = ? AND code = ?", (day, service))
        else:
            rows = await self._all("SELECT code, waiting FROM day_counts WHERE day = ? AND waiting > 0", (day,))
        return {r[0]: int(r[1]) for r in rows}

    async def waiting_count(self, day: str, service: str) -> int:
        """How many wait today for one service."""
        row = await self._one("SELECT waiting FROM day_counts WHERE day = ? AND code = ?", (day, service))
        return int(row[0]) if row else 0

    async def tickets_by_ids(self, ids: Iterable[int]) -> dict[int, Ticket]:
        """These tickets, by id."""
        wanted = tuple(ids)
        rows = await self._all(f"SELECT * FROM tickets WHERE id IN ({','.join('?' * len(wanted))})", wanted)
        return {r["id"]: ticket_row(r) for r in rows}

    async def waiting_order(self, day: str, service: str, upto_place: float) -> list[int]:
        """Ids of a service's waiting tickets in the order they will be called (see ahead_of), as far
        as place `upto_place` (tickets behind the last one asked about are not read)."""
        rows = await self._all("SELECT id FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                               "AND (priority = 1 OR place <= ?) ORDER BY priority DESC, place, id",
                               (day, service, upto_place))
        return [r[0] for r in rows]

    async def waiting_list(self, day: str, services: Iterable[str]) -> list[Ticket]:
        """Today's waiting tickets of these services, by their place in the queue."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        rows = await self._all(
            f"SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND service IN ({marks}) "
            "ORDER BY place, id", (day, *codes))
        return [ticket_row(r) for r in rows]

    async def ticket_by_number(self, day: str, number: str) -> Ticket | None:
        """The ticket of `day` with this number (numbers are unique within a day)."""
        prefix = number.rstrip("0123456789")  # along the (day, prefix, seq) index
        row = await self._one("SELECT * FROM tickets WHERE day = ? AND prefix = ? AND number = ? ORDER BY id LIMIT 1",
                              (day, prefix, number))
        return ticket_row(row) if row else None

    async def ended_tickets(self, day: str, services: Iterable[str], state: str, limit: int) -> list[Ticket]:
        """`day`'s tickets of these services that ended in `state` (e.g. no_show), latest first."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        rows = await self._all(
            f"SELECT * FROM tickets WHERE day = ? AND state = ? AND service IN ({marks}) "
            "ORDER BY finished_at DESC, id DESC LIMIT ?", (day, state, *codes, limit))
        return [ticket_row(r) for r in rows]

    async def ahead_of(self, ticket: Ticket) -> int:
        """Waiting tickets of the same service that will be called before this one."""
        if ticket.priority:
            sql = ("SELECT COUNT(*) FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                   "AND priority = 1 AND (place, id) < (?, ?)")
        else:
            sql = ("SELECT COUNT(*) FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                   "AND (priority = 1 OR (place, id) < (?, ?))")
        row = await self._one(sql, (ticket.day, ticket.service, ticket.place, ticket.id))
        assert row is not None
        return int(row[0])

    async def waiting_lanes(self, day: str, services: Iterable[str], limit: int) -> list[Lane]:
        """The first `limit` waiting tickets of each class (priority, normal) of each service, as
        (id, service, priority, place), in no particular order: what the wait forecast reads."""
        # One index range per service and class (no sort, no table row): the queue index holds all four.
        lane = ("SELECT * FROM (SELECT id, service, priority, place FROM tickets WHERE day = ? AND state = 'waiting' "
                "AND service = ? AND priority = ? ORDER BY place LIMIT ?)")
        codes = tuple(services)
        lanes: list[Lane] = []
        for start in range(0, len(codes), LANE_CHUNK):
            chunk = codes[start:start + LANE_CHUNK]
            sql = " UNION ALL ".join([lane] * (2 * len(chunk)))
            params = [p for code in chunk for priority in (1, 0) for p in (day, code, priority, limit)]
            lanes += [(r[0], r[1], bool(r[2]), r[3]) for r in await self._all(sql, params)]
        return lanes

    async def day_flow(self, day: str, services: Iterable[str], since: float) -> dict[str, tuple[int, int, int]]:
        """Per service of these, today's tickets called (at a counter or finished there), cancelled,
        and priority ones issued since `since` (the forecast's priority arrivals and drop-outs)."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        # One range of the queue index per state (day, state, service, priority, place): no table row.
        rows = await self._all(
            f"""SELECT service, SUM(state IN ('called', 'serving', 'done', 'no_show')), SUM(state = 'cancelled'),
                       SUM(priority = 1 AND place >= ?)
                FROM tickets WHERE day = ? AND state IN ('waiting', 'called', 'serving', 'done', 'no_show',
                'cancelled') AND service IN ({marks}) GROUP BY service""", (since, day, *codes))
        return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    async def last_place(self, day: str) -> float | None:
        """The latest place any ticket of `day` took (None before the day's first ticket)."""
        row = await self._one("SELECT MAX(place) FROM tickets WHERE day = ?", (day,))
        return None if row is None or row[0] is None else float(row[0])

    async def set_place(self, ticket: Ticket, place: float) -> Ticket:
        """Move a waiting ticket to another place in its queue."""
        return await self.update_ticket(ticket, "waiting", place=place)

    async def lane_after(self, ticket: Ticket, limit: int) -> list[Ticket]:
        """The waiting tickets of the same service and class (priority or not) behind this one, in
        the order they will be called, at most `limit`."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? AND priority = ? "
            "AND (place, id) > (?, ?) ORDER BY place, id LIMIT ?",
            (ticket.day, ticket.service, int(ticket.priority), ticket.place, ticket.id, limit))
        return [ticket_row(r) for r in rows]

    async def expire_before(self, day: str) -> int:
        """End earlier days' tickets that still wait or were called as expired (one being served
        when midnight passes stays, so the officer can finish it) and forget their phone numbers."""
        expired = await self._run(
            "UPDATE tickets SET state = 'expired' WHERE day < ? AND state IN ('waiting', 'called')", (day,))
        await self.conn.execute("UPDATE tickets SET phone = NULL WHERE day < ? AND phone IS NOT NULL", (day,))
        # Phone numbers live on in SMS and WhatsApp subscriptions and the outbox: erase them too.
        old = "SELECT id FROM tickets WHERE day < ?"
        await self.conn.execute(f"DELETE FROM subscriptions WHERE channel IN {PHONE_CHANNELS!r} "
                                f"AND ticket_id IN ({old})", (day,))
        await self.conn.execute(f"UPDATE outbox SET state = CASE state WHEN 'pending' THEN 'cancelled' ELSE state END, "
                                f"address = '' WHERE channel IN {PHONE_CHANNELS!r} AND address != '' "
                                f"AND ticket_id IN ({old})", (day,))
        return expired

    async def set_phone(self, ticket_id: int, phone: str) -> None:
        """Keep the citizen's phone on the ticket (erased when the day is over)."""
        await self.conn.execute("UPDATE tickets SET phone = ? WHERE id = ?", (phone, ticket_id))
