"""Giliran's SQL on PostgreSQL: the SQLite store's query classes, run through PgConnection, with the
few statements PostgreSQL words differently written here (scalar MAX, a subquery without an alias,
an unqualified column in ON CONFLICT ... WHERE, COLLATE NOCASE, an empty IN ()); the forecast's
reads in forecast.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kiosk.queue.models import Ticket, User
from kiosk.storage.postgres.dsn import SCHEMA_PREFIX
from kiosk.storage.postgres.forecast import PgForecastSql
from kiosk.storage.sqlite.queries import SqliteQueries
from kiosk.storage.sqlite.regency import HALL_DAY, hall_figures
from kiosk.storage.sqlite.tickets import ticket_row


class PgQueries(PgForecastSql, SqliteQueries):
    """The `Queries` of the PostgreSQL store (see kiosk/storage/base/ for the contract)."""

    # --- tickets ---------------------------------------------------------------------------
    async def oldest_waiting(self, day: str, services: Iterable[str], priority: bool) -> Ticket | None:
        """The first-come waiting ticket of one class across several services."""
        # The head of each service's lane along the queue index, then the oldest of those (a plain
        # `service = ANY(...) ORDER BY place` reads and sorts every waiting ticket of the day).
        row = await self._one(
            """SELECT t.* FROM unnest(?3::text[]) AS s(code) CROSS JOIN LATERAL (
                   SELECT * FROM tickets WHERE day = ?1 AND state = 'waiting' AND service = s.code
                   AND priority = ?2 ORDER BY place, id LIMIT 1) t
               ORDER BY t.place, t.id LIMIT 1""", (day, int(priority), list(services)))
        return ticket_row(row) if row else None

    async def tickets_by_ids(self, ids: Iterable[int]) -> dict[int, Ticket]:
        """These tickets, by id."""
        rows = await self._all("SELECT * FROM tickets WHERE id = ANY(?::bigint[])", (list(ids),))
        return {r["id"]: ticket_row(r) for r in rows}

    async def waiting_list(self, day: str, services: Iterable[str]) -> list[Ticket]:
        """Today's waiting tickets of these services, by their place in the queue."""
        rows = await self._all("SELECT * FROM tickets WHERE day = ? AND state = 'waiting' "
                               "AND service = ANY(?::text[]) ORDER BY place, id", (day, list(services)))
        return [ticket_row(r) for r in rows]

    # --- counters --------------------------------------------------------------------------
    async def recent_durations(self, day: str, last: int = 20, service: str | None = None
                               ) -> dict[str, tuple[int, float]]:
        """Per service (or just `service`), the count and sum of the last finished visits' durations today."""
        if service is not None:
            rows = await self._all(
                """SELECT service, COUNT(*), SUM(d) FROM (
                       SELECT service, ended_at - called_at AS d FROM service_log
                       WHERE day = ? AND service = ? AND outcome = 'done' ORDER BY ended_at DESC LIMIT ?) s
                   GROUP BY service""", (day, service, last))
            return {r[0]: (int(r[1]), float(r[2])) for r in rows}
        rows = await self._all(
            """SELECT service, COUNT(*), SUM(d) FROM (
                   SELECT service, ended_at - called_at AS d,
                          ROW_NUMBER() OVER (PARTITION BY service ORDER BY ended_at DESC) AS rn
                   FROM service_log WHERE day = ? AND outcome = 'done') s
               WHERE rn <= ? GROUP BY service""", (day, last))
        return {r[0]: (int(r[1]), float(r[2])) for r in rows}

    # --- print jobs ------------------------------------------------------------------------
    async def finish_print_job(self, job_id: int, *, state: str, at: float, error: str | None,
                               partial: bool) -> None:
        """Record a job's outcome: sent, or still pending after a failed attempt."""
        await self._run(
            "UPDATE print_jobs SET state = ?1, attempts = attempts + 1, last_error = ?2, "
            "partial = GREATEST(partial, ?3), sent_at = CASE WHEN ?1 = 'sent' THEN ?4 ELSE sent_at END WHERE id = ?5",
            (state, error, int(partial), at, job_id))

    # --- alerts ----------------------------------------------------------------------------
    async def subscribe(self, ticket_id: int, channel: str, address: str, at: float) -> bool:
        """Follow a ticket on a channel; True when this is new (or was switched off before)."""
        return await self._run(
            "INSERT INTO subscriptions (ticket_id, channel, address, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ticket_id, channel, address) DO UPDATE SET active = 1 WHERE subscriptions.active = 0",
            (ticket_id, channel, address, at)) > 0

    async def approach_candidates(self, day: str, service: str, head: int) -> list[Ticket]:
        """Among the first `head` waiting tickets of each class of a service, those someone follows
        and that were not told yet that their turn approaches (oldest first)."""
        lane = "SELECT id FROM (SELECT id FROM tickets WHERE day = ?1 AND state = 'waiting' AND service = ?2 " \
               "AND priority = {} ORDER BY place, id LIMIT ?3) l{}"
        rows = await self._all(
            f"""SELECT t.* FROM ({lane.format(1, 1)} UNION ALL {lane.format(0, 0)}) h JOIN tickets t ON t.id = h.id
                WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.ticket_id = h.id AND s.active = 1)
                AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = h.id AND o.stage = 'approaching')
                ORDER BY t.place, t.id""", (day, service, head))
        return [ticket_row(r) for r in rows]

    # --- history ---------------------------------------------------------------------------
    async def add_history(self, tickets: Sequence[dict[str, Any]], visits: Sequence[dict[str, Any]],
                          transfers: Sequence[dict[str, Any]], later_visits: Sequence[dict[str, Any]],
                          audit: Sequence[tuple[float, str, str, str]]) -> None:
        """Past days written at once; the tickets come with their ids, so the identity continues after them."""
        await super().add_history(tickets, visits, transfers, later_visits, audit)
        await self._run("SELECT setval(pg_get_serial_sequence('tickets', 'id'), MAX(id)) FROM tickets")

    # --- regency ---------------------------------------------------------------------------
    async def halls_day(self, day: str, now: float) -> list[dict[str, Any]]:
        """Every hall of the database (each schema hall_<id> with tickets) with its figures for `day`."""
        schemas = await self._all(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'tickets' "
            "AND table_schema LIKE ? ORDER BY table_schema", (SCHEMA_PREFIX.replace("_", r"\_") + "%",))
        halls = []
        for (schema,) in schemas:
            row = await self._one(HALL_DAY.format(t=f'"{schema}".tickets', s=f'"{schema}".settings'), (now, day))
            assert row is not None
            halls.append(hall_figures(schema.removeprefix(SCHEMA_PREFIX).replace("_", "-"), row))
        return sorted(halls, key=lambda h: str(h["name"]).lower())

    # --- staff -----------------------------------------------------------------------------
    async def user_by_name(self, username: str) -> User | None:
        """The account with this username (case-insensitive)."""
        row = await self._one("SELECT * FROM users WHERE lower(username) = lower(?)", (username,))
        return self._user(row) if row else None

    async def users(self) -> list[User]:
        """All accounts."""
        return [self._user(r) for r in await self._all("SELECT * FROM users ORDER BY lower(username), id")]
