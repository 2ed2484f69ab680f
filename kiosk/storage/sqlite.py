"""SQLite store: one writer connection behind a lock, one reader, versioned migrations.

All SQL of the project lives here. The domain calls `Queries` methods, either inside
`Store.transaction()` (the single writer), on `Store.reads` (aiosqlite, in its thread), or on
`Store.quick` (small indexed reads inline on the event loop, for hot paths).

The writer is built for throughput without giving up durability (docs/scaling.md):

- its statements run inline on the event loop: inside a transaction they touch only SQLite's page
  cache and the WAL file and take microseconds, far less than a hop to a worker thread; what can
  wait on the disk or another process (BEGIN IMMEDIATE, COMMIT with its fsync, ROLLBACK) runs in
  a thread;
- group commit: each `transaction()` is a savepoint inside a batch; the batch commits (one fsync)
  as soon as no other transaction is queued behind it, or after MAX_BATCH of them, and every
  caller returns only after the COMMIT that made its own changes durable;
- checkpoints (copying the WAL back into the database file, with its own fsync) run beside the
  writer on a connection of their own every CHECKPOINT_S, instead of inside whichever COMMIT
  crosses SQLite's threshold, where they stalled every ticket queued behind it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from kiosk.queue.errors import Unavailable
from kiosk.support.jsontext import dumps
from kiosk.queue.models import AT_COUNTER, CounterState, Event, PrintJob, Ticket, User

log = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    # 1: tickets, counters, staff, events, audit
    """
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        day TEXT NOT NULL,
        prefix TEXT NOT NULL,
        seq INTEGER NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        priority_reason TEXT,
        state TEXT NOT NULL,
        issued_at REAL NOT NULL,
        called_at REAL,
        started_at REAL,
        finished_at REAL,
        counter_id TEXT,
        recalls INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0,
        phone TEXT,
        kiosk TEXT,
        UNIQUE (day, prefix, seq)
    );
    CREATE INDEX tickets_queue ON tickets (day, state, service, priority, id);
    CREATE INDEX tickets_counter ON tickets (counter_id, state);
    CREATE TABLE service_log (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        counter_id TEXT NOT NULL,
        username TEXT,
        called_at REAL NOT NULL,
        started_at REAL,
        ended_at REAL NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX service_log_day ON service_log (day, service, outcome, ended_at);
    CREATE TABLE counter_state (
        counter_id TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        priority_streak INTEGER NOT NULL DEFAULT 0,
        active_day TEXT
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        counters TEXT NOT NULL DEFAULT '[]',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        username TEXT,
        action TEXT NOT NULL,
        counter_id TEXT,
        ticket_number TEXT,
        detail TEXT
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 2: durable print jobs
    """
    CREATE TABLE print_jobs (
        id INTEGER PRIMARY KEY,
        printer_id TEXT NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        kind TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        partial INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL
    );
    CREATE INDEX print_jobs_pending ON print_jobs (printer_id, state, id);
    """,
    # 3: settings changed at run time (display running text)
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        updated_by TEXT
    );
    """,
    # 4: turn alerts: who follows a ticket, and the durable outbox of messages
    """
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL,
        UNIQUE (ticket_id, channel, address)
    );
    CREATE INDEX subscriptions_address ON subscriptions (channel, address);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        stage TEXT NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        text TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL
    );
    CREATE INDEX outbox_pending ON outbox (state, id);
    CREATE INDEX outbox_ticket ON outbox (ticket_id, stage);
    """,
    # 5: per day, waiting tickets per service and tickets counting against the quota per prefix,
    # kept by triggers so the hot path reads two numbers instead of counting the day's tickets.
    """
    CREATE TABLE day_counts (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        waiting INTEGER NOT NULL DEFAULT 0,
        issued INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, code)
    ) WITHOUT ROWID;
    INSERT INTO day_counts (day, code, waiting, issued)
        SELECT day, code, SUM(waiting), SUM(issued) FROM (
            SELECT day, service AS code, state = 'waiting' AS waiting, 0 AS issued FROM tickets
            UNION ALL
            SELECT day, prefix AS code, 0 AS waiting, state != 'cancelled' AS issued FROM tickets)
        GROUP BY day, code;
    CREATE TRIGGER day_counts_insert AFTER INSERT ON tickets BEGIN
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.service);
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.prefix);
        UPDATE day_counts SET waiting = waiting + (NEW.state = 'waiting') WHERE day = NEW.day AND code = NEW.service;
        UPDATE day_counts SET issued = issued + (NEW.state != 'cancelled') WHERE day = NEW.day AND code = NEW.prefix;
    END;
    CREATE TRIGGER day_counts_update AFTER UPDATE OF state, service ON tickets BEGIN
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.service);
        UPDATE day_counts SET waiting = waiting - (OLD.state = 'waiting') WHERE day = OLD.day AND code = OLD.service;
        UPDATE day_counts SET waiting = waiting + (NEW.state = 'waiting') WHERE day = NEW.day AND code = NEW.service;
        UPDATE day_counts SET issued = issued - (OLD.state != 'cancelled') + (NEW.state != 'cancelled')
            WHERE day = NEW.day AND code = NEW.prefix;
    END;
    CREATE TRIGGER day_counts_delete AFTER DELETE ON tickets BEGIN
        UPDATE day_counts SET waiting = waiting - (OLD.state = 'waiting') WHERE day = OLD.day AND code = OLD.service;
        UPDATE day_counts SET issued = issued - (OLD.state != 'cancelled') WHERE day = OLD.day AND code = OLD.prefix;
    END;
    """,
)

TICKET_COLUMNS = {
    "service", "state", "called_at", "started_at", "finished_at", "counter_id", "recalls",
    "transfers", "phone",
}


class Queries:
    """The SQL of Giliran, on one connection (the writer inside a transaction, or the reader)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    # --- tickets -----------------------------------------------------------------
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
                            kiosk: str | None) -> Ticket:
        """Insert a new waiting ticket."""
        async with self.conn.execute(
            """INSERT INTO tickets (token, day, prefix, seq, number, service, priority, priority_reason,
                                    state, issued_at, phone, kiosk)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)""",
            (token, day, prefix, seq, number, service, int(priority), priority_reason, issued_at, phone,
             kiosk)) as cur:
            ticket_id = cur.lastrowid
        assert ticket_id is not None
        return Ticket(id=ticket_id, token=token, day=day, prefix=prefix, seq=seq, number=number, service=service,
                      priority=priority, priority_reason=priority_reason, state="waiting", issued_at=issued_at,
                      called_at=None, started_at=None, finished_at=None, counter_id=None, recalls=0,
                      transfers=0, phone=phone, kiosk=kiosk)

    async def ticket_by_token(self, token: str) -> Ticket | None:
        """The ticket with this citizen token."""
        row = await self._one("SELECT * FROM tickets WHERE token = ?", (token,))
        return Ticket.from_row(row) if row else None

    async def ticket_by_id(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id."""
        row = await self._one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return Ticket.from_row(row) if row else None

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
        return Ticket.from_row(row)

    async def counter_ticket(self, counter_id: str) -> Ticket | None:
        """The ticket a counter has called or is serving."""
        row = await self._one(
            f"SELECT * FROM tickets WHERE counter_id = ? AND state IN {AT_COUNTER!r} ORDER BY id DESC LIMIT 1",
            (counter_id,))
        return Ticket.from_row(row) if row else None

    async def counter_tickets(self) -> dict[str, Ticket]:
        """Every counter's current ticket."""
        rows = await self._all(f"SELECT * FROM tickets WHERE state IN {AT_COUNTER!r} AND counter_id IS NOT NULL")
        return {r["counter_id"]: Ticket.from_row(r) for r in rows}

    async def oldest_waiting(self, day: str, services: Iterable[str], priority: bool) -> Ticket | None:
        """The first-come waiting ticket of one class across several services."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        row = await self._one(
            f"""SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND priority = ?
                AND service IN ({marks}) ORDER BY id LIMIT 1""", (day, int(priority), *codes))
        return Ticket.from_row(row) if row else None

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
        return {r["id"]: Ticket.from_row(r) for r in rows}

    async def waiting_order(self, day: str, service: str, upto_id: int) -> list[int]:
        """Ids of a service's waiting tickets in the order they will be called (see ahead_of), as far
        as ticket `upto_id` (tickets behind the last one asked about are not read)."""
        rows = await self._all("SELECT id FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                               "AND (priority = 1 OR id <= ?) ORDER BY priority DESC, id", (day, service, upto_id))
        return [r[0] for r in rows]

    async def waiting_list(self, day: str, services: Iterable[str]) -> list[Ticket]:
        """Today's waiting tickets of these services, oldest first."""
        codes = tuple(services)
        marks = ",".join("?" * len(codes))
        rows = await self._all(
            f"SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND service IN ({marks}) ORDER BY id",
            (day, *codes))
        return [Ticket.from_row(r) for r in rows]

    async def ahead_of(self, ticket: Ticket) -> int:
        """Waiting tickets of the same service that will be called before this one."""
        if ticket.priority:
            sql = ("SELECT COUNT(*) FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                   "AND priority = 1 AND id < ?")
        else:
            sql = ("SELECT COUNT(*) FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? "
                   "AND (priority = 1 OR id < ?)")
        row = await self._one(sql, (ticket.day, ticket.service, ticket.id))
        assert row is not None
        return int(row[0])

    async def expire_before(self, day: str) -> int:
        """End earlier days' tickets that still wait or were called as expired (one being served
        when midnight passes stays, so the officer can finish it) and forget their phone numbers."""
        cur = await self.conn.execute(
            "UPDATE tickets SET state = 'expired' WHERE day < ? AND state IN ('waiting', 'called')", (day,))
        expired = cur.rowcount
        await cur.close()
        await self.conn.execute("UPDATE tickets SET phone = NULL WHERE day < ? AND phone IS NOT NULL", (day,))
        # Phone numbers live on in SMS subscriptions and the outbox: erase them too.
        old = "SELECT id FROM tickets WHERE day < ?"
        await self.conn.execute(f"DELETE FROM subscriptions WHERE channel = 'sms' AND ticket_id IN ({old})", (day,))
        await self.conn.execute(f"UPDATE outbox SET state = CASE state WHEN 'pending' THEN 'cancelled' ELSE state END, "
                                f"address = '' WHERE channel = 'sms' AND address != '' AND ticket_id IN ({old})",
                                (day,))
        return expired

    # --- print jobs -------------------------------------------------------------------
    async def add_print_job(self, printer_id: str, ticket_id: int, kind: str, at: float) -> PrintJob:
        """Queue a ticket for a printer."""
        row = await self._one(
            "INSERT INTO print_jobs (printer_id, ticket_id, kind, created_at) VALUES (?, ?, ?, ?) RETURNING *",
            (printer_id, ticket_id, kind, at))
        assert row is not None
        return PrintJob.from_row(row)

    async def next_print_job(self, printer_id: str) -> PrintJob | None:
        """The oldest job a printer still has to print."""
        row = await self._one("SELECT * FROM print_jobs WHERE printer_id = ? AND state IN ('pending', 'printing') "
                              "ORDER BY id LIMIT 1", (printer_id,))
        return PrintJob.from_row(row) if row else None

    async def print_job(self, job_id: int) -> PrintJob | None:
        """One print job."""
        row = await self._one("SELECT * FROM print_jobs WHERE id = ?", (job_id,))
        return PrintJob.from_row(row) if row else None

    async def start_print_job(self, job_id: int) -> None:
        """An attempt begins: until it is recorded, a crash leaves the job 'printing' (it may be out)."""
        await self.conn.execute("UPDATE print_jobs SET state = 'printing' WHERE id = ?", (job_id,))

    async def finish_print_job(self, job_id: int, *, state: str, at: float, error: str | None,
                               partial: bool) -> None:
        """Record a job's outcome: sent, or still pending after a failed attempt."""
        await self.conn.execute(
            "UPDATE print_jobs SET state = ?, attempts = attempts + 1, last_error = ?, partial = MAX(partial, ?), "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
            (state, error, int(partial), state, at, job_id))

    async def job_for_ticket(self, ticket_id: int) -> PrintJob | None:
        """The first print job of a ticket."""
        row = await self._one("SELECT * FROM print_jobs WHERE ticket_id = ? ORDER BY id LIMIT 1", (ticket_id,))
        return PrintJob.from_row(row) if row else None

    async def expire_print_jobs_before(self, day: str) -> None:
        """Jobs of earlier days' tickets are not printed any more."""
        await self.conn.execute(
            "UPDATE print_jobs SET state = 'expired' WHERE state IN ('pending', 'printing') AND ticket_id IN "
            "(SELECT id FROM tickets WHERE day < ?)", (day,))

    async def pending_print_counts(self) -> dict[str, int]:
        """Per printer, jobs waiting to be printed."""
        rows = await self._all("SELECT printer_id, COUNT(*) FROM print_jobs WHERE state IN ('pending', 'printing') "
                               "GROUP BY printer_id")
        return {r[0]: int(r[1]) for r in rows}

    # --- turn alerts -----------------------------------------------------------------------
    async def subscribe(self, ticket_id: int, channel: str, address: str, at: float) -> bool:
        """Follow a ticket on a channel; True when this is new (or was switched off before)."""
        cur = await self.conn.execute(
            "INSERT INTO subscriptions (ticket_id, channel, address, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ticket_id, channel, address) DO UPDATE SET active = 1 WHERE active = 0",
            (ticket_id, channel, address, at))
        changed = cur.rowcount > 0
        await cur.close()
        return changed

    async def set_phone(self, ticket_id: int, phone: str) -> None:
        """Keep the citizen's phone on the ticket (erased when the day is over)."""
        await self.conn.execute("UPDATE tickets SET phone = ? WHERE id = ?", (phone, ticket_id))

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

    async def subscriptions(self, ticket_id: int) -> list[tuple[str, str]]:
        """(channel, address) of everyone following a ticket."""
        rows = await self._all("SELECT channel, address FROM subscriptions WHERE ticket_id = ? AND active = 1 "
                               "ORDER BY id", (ticket_id,))
        return [(r[0], r[1]) for r in rows]

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """Stop every subscription of a chat or phone (e.g. a chat that blocked the bot)."""
        cur = await self.conn.execute("UPDATE subscriptions SET active = 0 WHERE channel = ? AND address = ? "
                                      "AND active = 1", (channel, address))
        count = cur.rowcount
        await cur.close()
        await self.conn.execute("UPDATE outbox SET state = 'cancelled', last_error = 'berhenti berlangganan' "
                                "WHERE channel = ? AND address = ? AND state = 'pending'", (channel, address))
        return count

    async def chat_tickets(self, channel: str, address: str) -> list[Ticket]:
        """Tickets a chat follows, newest first."""
        rows = await self._all(
            "SELECT tickets.* FROM subscriptions JOIN tickets ON tickets.id = subscriptions.ticket_id "
            "WHERE subscriptions.channel = ? AND subscriptions.address = ? AND subscriptions.active = 1 "
            "ORDER BY tickets.id DESC", (channel, address))
        return [Ticket.from_row(r) for r in rows]

    async def approach_candidates(self, day: str, service: str, head: int) -> list[Ticket]:
        """Among the first `head` waiting tickets of each class of a service, those someone follows
        and that were not told yet that their turn approaches (oldest first)."""
        # The lanes read ids only (from the queue index, not the table); whole rows are read only
        # for the few that someone follows.
        lane = "SELECT id FROM (SELECT id FROM tickets WHERE day = ? AND state = 'waiting' AND service = ? " \
               "AND priority = {} ORDER BY id LIMIT ?)"
        rows = await self._all(
            f"""SELECT t.* FROM ({lane.format(1)} UNION ALL {lane.format(0)}) h JOIN tickets t ON t.id = h.id
                WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.ticket_id = h.id AND s.active = 1)
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = h.id AND o.stage = 'approaching')
                ORDER BY t.id""", (day, service, head, day, service, head))
        return [Ticket.from_row(r) for r in rows]

    async def enqueue_message(self, *, ticket_id: int, stage: str, channel: str, address: str, text: str,
                              key: str, at: float) -> bool:
        """Put a message in the outbox once (the key makes a repeat a no-op); True when queued now."""
        cur = await self.conn.execute(
            "INSERT INTO outbox (ticket_id, stage, channel, address, text, key, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (ticket_id, stage, channel, address, text, key, at, at))
        created = cur.rowcount > 0
        await cur.close()
        return created

    async def cancel_pending_messages(self, ticket_id: int, keep_stages: Iterable[str], reason: str) -> None:
        """Drop a ticket's unsent messages (its turn is over), except the stages named."""
        keep = tuple(keep_stages)
        marks = ",".join("?" * len(keep)) or "''"
        await self.conn.execute(
            f"UPDATE outbox SET state = 'cancelled', last_error = ? WHERE ticket_id = ? AND state = 'pending' "
            f"AND stage NOT IN ({marks})", (reason, ticket_id, *keep))

    async def pending_messages(self, limit: int = 200) -> list[dict[str, Any]]:
        """Unsent messages, oldest first."""
        rows = await self._all("SELECT * FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    async def message_attempt(self, message_id: int, *, state: str, at: float, next_attempt_at: float,
                              error: str | None) -> None:
        """Record one delivery attempt."""
        await self.conn.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ? AND state = 'pending'",
            (state, next_attempt_at, error, state, at, message_id))

    async def messages_for_ticket(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every message of a ticket, oldest first."""
        rows = await self._all("SELECT * FROM outbox WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [dict(r) for r in rows]

    # --- service durations --------------------------------------------------------
    async def log_service(self, ticket: Ticket, *, ended_at: float, outcome: str, username: str | None) -> None:
        """Record one visit of a ticket at a counter."""
        assert ticket.counter_id is not None and ticket.called_at is not None
        await self.conn.execute(
            """INSERT INTO service_log (ticket_id, day, service, counter_id, username, called_at, started_at,
                                        ended_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (ticket.id, ticket.day, ticket.service, ticket.counter_id, username, ticket.called_at,
             ticket.started_at, ended_at, outcome))

    async def recent_durations(self, day: str, last: int = 20, service: str | None = None
                               ) -> dict[str, tuple[int, float]]:
        """Per service (or just `service`), the count and sum of the last finished visits' durations today."""
        if service is not None:
            rows = await self._all(
                """SELECT service, COUNT(*), SUM(d) FROM (
                       SELECT service, ended_at - called_at AS d FROM service_log
                       WHERE day = ? AND service = ? AND outcome = 'done' ORDER BY ended_at DESC LIMIT ?)
                   GROUP BY service""", (day, service, last))
            return {r[0]: (int(r[1]), float(r[2])) for r in rows}
        rows = await self._all(
            """SELECT service, COUNT(*), SUM(d) FROM (
                   SELECT service, ended_at - called_at AS d,
                          ROW_NUMBER() OVER (PARTITION BY service ORDER BY ended_at DESC) AS rn
                   FROM service_log WHERE day = ? AND outcome = 'done')
               WHERE rn <= ? GROUP BY service""", (day, last))
        return {r[0]: (int(r[1]), float(r[2])) for r in rows}

    async def served_today(self, day: str) -> dict[str, tuple[int, float]]:
        """Per counter, today's finished visits and their total duration."""
        rows = await self._all(
            """SELECT counter_id, COUNT(*), SUM(ended_at - called_at) FROM service_log
               WHERE day = ? AND outcome = 'done' GROUP BY counter_id""", (day,))
        return {r[0]: (int(r[1]), float(r[2])) for r in rows}

    # --- counters ------------------------------------------------------------------
    async def counter_state(self, counter_id: str) -> CounterState:
        """A counter's state (a fresh counter is open, not paused)."""
        row = await self._one("SELECT * FROM counter_state WHERE counter_id = ?", (counter_id,))
        if row is None:
            return CounterState(counter_id, False, 0, None)
        return CounterState(row["counter_id"], bool(row["paused"]), row["priority_streak"], row["active_day"])

    async def counter_states(self) -> dict[str, CounterState]:
        """All counters' states that were ever stored."""
        rows = await self._all("SELECT * FROM counter_state")
        return {r["counter_id"]: CounterState(r["counter_id"], bool(r["paused"]), r["priority_streak"],
                                              r["active_day"]) for r in rows}

    async def working_counters(self, day: str) -> set[str]:
        """Counters that called someone on `day` and are not paused."""
        rows = await self._all("SELECT counter_id FROM counter_state WHERE active_day = ? AND paused = 0", (day,))
        return {r[0] for r in rows}

    async def save_counter_state(self, state: CounterState) -> None:
        """Store a counter's state."""
        await self.conn.execute(
            """INSERT INTO counter_state (counter_id, paused, priority_streak, active_day) VALUES (?, ?, ?, ?)
               ON CONFLICT (counter_id) DO UPDATE SET paused = excluded.paused,
               priority_streak = excluded.priority_streak, active_day = excluded.active_day""",
            (state.counter_id, int(state.paused), state.priority_streak, state.active_day))

    # --- events and audit --------------------------------------------------------------
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

    # --- run-time settings ----------------------------------------------------------------
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

    # --- users and sessions ------------------------------------------------------------
    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(id=row["id"], username=row["username"], role=row["role"],
                    counters=tuple(json.loads(row["counters"])), disabled=bool(row["disabled"]),
                    password_hash=row["password_hash"])

    async def add_user(self, username: str, password_hash: str, role: str, counters: Iterable[str],
                       at: float) -> User:
        """Create a staff account."""
        row = await self._one(
            "INSERT INTO users (username, password_hash, role, counters, created_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING *", (username, password_hash, role, json.dumps(list(counters)), at))
        assert row is not None
        return self._user(row)

    async def user_by_name(self, username: str) -> User | None:
        """The account with this username (case-insensitive)."""
        row = await self._one("SELECT * FROM users WHERE username = ?", (username,))
        return self._user(row) if row else None

    async def users(self) -> list[User]:
        """All accounts."""
        return [self._user(r) for r in await self._all("SELECT * FROM users ORDER BY username")]

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Replace a password hash (and end the user's sessions)."""
        await self.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        await self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Switch an account off (its sessions end) or on again."""
        await self.conn.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))
        if disabled:
            await self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    async def add_session(self, token_hash: str, user_id: int, at: float, expires_at: float) -> None:
        """Start a login session."""
        await self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (at,))
        await self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, user_id, at, expires_at))

    async def session_user(self, token_hash: str, now: float) -> User | None:
        """The enabled user behind a live session."""
        row = await self._one(
            """SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
               WHERE sessions.token_hash = ? AND sessions.expires_at > ? AND users.disabled = 0""",
            (token_hash, now))
        return self._user(row) if row else None

    async def end_session(self, token_hash: str) -> None:
        """Log a session out."""
        await self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))


HALL_KEY = "hall"  # the settings row holding the hall document (seeded from the hall file)
WRITE_FAILURES = ("disk is full", "readonly", "read-only", "disk i/o error", "locked", "unable to open")


def stored_hall(path: str | Path) -> str | None:
    """The hall document kept in the database at `path` (JSON), if there is one; read before start-up."""
    if str(path) == ":memory:" or not Path(path).exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (HALL_KEY,)).fetchone()
    except sqlite3.Error:  # no settings table yet (an older or empty database)
        return None
    return row[0] if row else None


def _statements(script: str) -> list[str]:
    """A migration script cut into statements (a trigger's body keeps its semicolons)."""
    statements, buffer = [], ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    return statements


class _Statement:
    """A statement the inline writer already ran, used like aiosqlite's (`await` it or `async with`)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.lastrowid = cursor.lastrowid
        self.rowcount = cursor.rowcount

    def __await__(self):
        yield from ()
        return self

    async def __aenter__(self) -> _Statement:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cursor.close()

    async def fetchone(self) -> sqlite3.Row | None:
        return self.cursor.fetchone()

    async def fetchall(self) -> list[sqlite3.Row]:
        return self.cursor.fetchall()

    async def close(self) -> None:
        self.cursor.close()


class InlineConnection:
    """A connection whose statements run inline on the event loop; for the writer, transaction
    control (which may wait on the disk) runs in a thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Statement:
        return _Statement(self.conn.execute(sql, tuple(params)))

    async def in_thread(self, sql: str) -> None:
        """A statement that may wait on the disk (COMMIT's fsync) or on another process's lock."""
        await asyncio.to_thread(self.conn.execute, sql)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    async def close(self) -> None:
        await asyncio.to_thread(self.conn.close)


@dataclass
class _Batch:
    """Transactions sharing one COMMIT."""

    committed: asyncio.Future[None]
    units: int = 0


MAX_BATCH = 64
CHECKPOINT_S = 1.0
# The writer still checkpoints by itself past this many WAL pages (about 40 MB), should the
# checkpointer fall behind: the WAL never grows without bound.
WRITER_CHECKPOINT_PAGES = 10000


class Store:
    """The hall's database: `transaction()` for the single writer, `reads` for everything else."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self._writer: InlineConnection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._quick: InlineConnection | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._queued = 0  # transactions waiting for the lock
        self._batch: _Batch | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self.failures = 0  # writes undone so far (what was read inside them may not be true)

    async def open(self) -> None:
        """Connect, switch to WAL and apply migrations."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        self._writer = InlineConnection(conn)
        await self._writer.execute("PRAGMA busy_timeout = 5000")
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._writer.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self._writer.execute("PRAGMA foreign_keys = ON")
        await self._migrate()
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = sqlite3.Row
        await self._reader.execute("PRAGMA busy_timeout = 5000")
        await self._reader.execute("PRAGMA query_only = ON")
        quick = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        quick.row_factory = sqlite3.Row
        quick.execute("PRAGMA query_only = ON")
        self._quick = InlineConnection(quick)
        await self._writer.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoints(), name="wal-checkpoint")

    async def _checkpoints(self) -> None:
        """Copy committed pages from the WAL into the database file, beside the writer (PASSIVE:
        never waits for it, nor makes it wait); SQLite starts the WAL over once all is copied."""
        conn = await asyncio.to_thread(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_S)
                try:
                    await asyncio.to_thread(lambda: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
                except sqlite3.Error as exc:  # the writer's own checkpoints still bound the WAL
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            await asyncio.shield(asyncio.to_thread(conn.close))

    async def _migrate(self) -> None:
        assert self._writer is not None
        async with self._writer.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(f"{self.path}: database schema {version} is newer than this Giliran "
                               f"({len(MIGRATIONS)}); upgrade Giliran")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    await self._writer.execute(statement)
                await self._writer.execute(f"PRAGMA user_version = {number}")
                await self._writer.execute("COMMIT")
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            log.info("database %s migrated to schema %d", self.path, number)

    async def close(self) -> None:
        """Close the connections."""
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        for conn in (self._quick, self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._quick = self._reader = self._writer = None

    @property
    def reads(self) -> Queries:
        """Queries on the reader connection (sees every committed write)."""
        assert self._reader is not None, "store is not open"
        return Queries(self._reader)

    @property
    def quick(self) -> Queries:
        """Queries run inline on the event loop, on their own read-only connection (sees every
        committed write; a WAL reader never waits for the writer). Only for small reads along an
        index, taking microseconds: on a busy server a hop to a reader thread costs far more (the
        thread must win the GIL from the loop, twice). Anything that may scan belongs on `reads`."""
        assert self._quick is not None, "store is not open"
        return Queries(self._quick)  # type: ignore[arg-type]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """One write transaction on the single writer; durable when the block has been left.

        Runs as a savepoint of the current batch (group commit, see the module docstring); an
        error undoes only this transaction's writes. Raises Unavailable when the storage fails
        (then nothing of the batch is kept and every caller in it hears so).
        """
        writer = self._writer
        assert writer is not None, "store is not open"
        self._queued += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._queued -= 1
            self._flush_soon()
            raise
        self._queued -= 1
        batch: _Batch | None = None
        try:
            batch = await self._batch_for(writer)
            writer.execute("SAVEPOINT unit")
            try:
                yield Queries(writer)  # type: ignore[arg-type]
            except BaseException as exc:
                await self._undo_unit(writer, batch)
                if isinstance(exc, sqlite3.OperationalError) and self.is_storage_failure(exc):
                    raise self._unavailable(exc) from exc
                raise
            writer.execute("RELEASE unit")
            batch.units += 1
        finally:
            if self._batch is not None and (self._queued == 0 or self._batch.units >= MAX_BATCH):
                # The task owns the lock until the COMMIT is over, even if this caller is cancelled.
                await asyncio.shield(asyncio.ensure_future(self._commit_and_release(writer)))
            else:
                self._lock.release()
        await asyncio.shield(batch.committed)

    async def _batch_for(self, writer: InlineConnection) -> _Batch:
        if self._batch is None:
            try:
                await writer.in_thread("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._unavailable(exc) from exc
            self._batch = _Batch(asyncio.get_running_loop().create_future())
        return self._batch

    async def _undo_unit(self, writer: InlineConnection, batch: _Batch) -> None:
        self.failures += 1
        if writer.in_transaction:
            try:
                writer.execute("ROLLBACK TO unit")
                writer.execute("RELEASE unit")
                return
            except sqlite3.Error:
                log.exception("rolling back to the savepoint failed")
        # SQLite gave up the whole transaction (disk full, I/O error): the batch is lost.
        await self._rollback()
        self._fail(batch, Unavailable("Penyimpanan data sedang bermasalah; coba lagi sebentar lagi."))

    async def _commit_and_release(self, writer: InlineConnection) -> None:
        try:
            await self._commit(writer)
        finally:
            self._lock.release()

    async def _commit(self, writer: InlineConnection) -> None:
        batch, self._batch = self._batch, None
        assert batch is not None
        try:
            await writer.in_thread("COMMIT")
        except sqlite3.Error as exc:
            await self._rollback()
            self._fail(batch, self._unavailable(exc))
            return
        if not batch.committed.done():
            batch.committed.set_result(None)

    def _fail(self, batch: _Batch, exc: Exception) -> None:
        self.failures += 1
        if self._batch is batch:
            self._batch = None
        if not batch.committed.done():
            batch.committed.set_exception(exc)
            batch.committed.exception()  # retrieved here: callers who left early must not warn

    def _flush_soon(self) -> None:
        """A queued transaction gave up waiting: commit the open batch if nobody else will."""
        if self._batch is not None and self._queued == 0:
            task = asyncio.get_running_loop().create_task(self._flush())
            self._flushing.add(task)  # keep a reference until it is done
            task.add_done_callback(self._flushing.discard)

    async def _flush(self) -> None:
        async with self._lock:
            if self._batch is not None and self._queued == 0 and self._writer is not None:
                await self._commit(self._writer)

    async def _rollback(self) -> None:
        assert self._writer is not None
        if self._writer.in_transaction:
            try:
                await self._writer.in_thread("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    def _unavailable(self, exc: sqlite3.Error) -> Unavailable:
        log.error("database write failed: %s", exc)
        return Unavailable("Penyimpanan data sedang bermasalah; coba lagi sebentar lagi.")

    @staticmethod
    def is_storage_failure(exc: BaseException) -> bool:
        """Whether an sqlite error means the disk or file refuses writes."""
        return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in WRITE_FAILURES)
