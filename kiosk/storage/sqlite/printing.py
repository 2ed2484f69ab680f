"""Print jobs: durable, per printer, in order."""

from __future__ import annotations

import sqlite3

from kiosk.queue.models import PrintJob
from kiosk.storage.sqlite.sql import Sql


def print_job(row: sqlite3.Row) -> PrintJob:
    """A row of the print_jobs table."""
    return PrintJob(**{k: row[k] for k in row.keys()} | {"partial": bool(row["partial"])})


class PrintSql(Sql):
    """The print_jobs table."""

    async def add_print_job(self, printer_id: str, ticket_id: int, kind: str, at: float) -> PrintJob:
        """Queue a ticket for a printer."""
        row = await self._one(
            "INSERT INTO print_jobs (printer_id, ticket_id, kind, created_at) VALUES (?, ?, ?, ?) RETURNING *",
            (printer_id, ticket_id, kind, at))
        assert row is not None
        return print_job(row)

    async def next_print_job(self, printer_id: str) -> PrintJob | None:
        """The oldest job a printer still has to print."""
        row = await self._one("SELECT * FROM print_jobs WHERE printer_id = ? AND state IN ('pending', 'printing') "
                              "ORDER BY id LIMIT 1", (printer_id,))
        return print_job(row) if row else None

    async def print_job(self, job_id: int) -> PrintJob | None:
        """One print job."""
        row = await self._one("SELECT * FROM print_jobs WHERE id = ?", (job_id,))
        return print_job(row) if row else None

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
        return print_job(row) if row else None

    async def tell_unprinted(self, job_id: int, at: float, *, drop: bool) -> None:
        """Note that the citizen was told the job is not printed; with `drop`, a job not being printed
        right now is given up (state 'dropped')."""
        await self.conn.execute(
            "UPDATE print_jobs SET told_unprinted_at = COALESCE(told_unprinted_at, ?), "
            "state = CASE WHEN ? AND state = 'pending' THEN 'dropped' ELSE state END WHERE id = ?",
            (at, int(drop), job_id))

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
