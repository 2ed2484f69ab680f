"""What the waiting-time forecast and the console read, in PostgreSQL's words (kiosk/queue/loads.py,
docs/estimates.md). The SQLite statements build one compound SELECT of aliasless subqueries per
service, sum booleans and take a scalar MAX; here each service (and class) is one LATERAL step
along the same index, a list of services is one array parameter (one prepared statement however
many services), booleans are counted with FILTER, and NULLs sort where SQLite puts them."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.queue.models import Ticket
from kiosk.storage.base import Lane
from kiosk.storage.sqlite.sql import Sql
from kiosk.storage.sqlite.tickets import ticket_row


class PgForecastSql(Sql):
    """The forecast's reads (waiting lanes, visits, flows), ended tickets, a late-print notice."""

    async def waiting_lanes(self, day: str, services: Iterable[str], limit: int) -> list[Lane]:
        """The first `limit` waiting tickets of each class (priority, normal) of each service, as
        (id, service, priority, place), in no particular order: what the wait forecast reads."""
        rows = await self._all(
            """SELECT t.id, t.service, t.priority, t.place
               FROM unnest(?2::text[]) AS s(code) CROSS JOIN (VALUES (1), (0)) AS c(priority)
               CROSS JOIN LATERAL (
                   SELECT id, service, priority, place FROM tickets WHERE day = ?1 AND state = 'waiting'
                   AND service = s.code AND priority = c.priority ORDER BY place, id LIMIT ?3) t""",
            (day, list(services), limit))
        return [(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    async def day_flow(self, day: str, services: Iterable[str], since: float) -> dict[str, tuple[int, int, int]]:
        """Per service of these, today's tickets called (at a counter or finished there), cancelled,
        and priority ones issued since `since` (the forecast's priority arrivals and drop-outs)."""
        rows = await self._all(
            """SELECT service, COUNT(*) FILTER (WHERE state IN ('called', 'serving', 'done', 'no_show')),
                      COUNT(*) FILTER (WHERE state = 'cancelled'), COUNT(*) FILTER (WHERE priority = 1 AND place >= ?1)
               FROM tickets WHERE day = ?2 AND state IN ('waiting', 'called', 'serving', 'done', 'no_show',
               'cancelled') AND service = ANY(?3::text[]) GROUP BY service""", (since, day, list(services)))
        return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    async def ended_tickets(self, day: str, services: Iterable[str], state: str, limit: int) -> list[Ticket]:
        """`day`'s tickets of these services that ended in `state` (e.g. no_show), latest first."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE day = ? AND state = ? AND service = ANY(?::text[]) "
            "ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT ?", (day, state, list(services), limit))
        return [ticket_row(r) for r in rows]

    async def recent_visits(self, day: str, services: Iterable[str], last: int) -> dict[str, list[float]]:
        """Per service, the durations (call to end, every outcome) of its last `last` visits today,
        newest first."""
        codes = list(dict.fromkeys(services))
        visits: dict[str, list[float]] = {code: [] for code in codes}
        rows = await self._all(
            """SELECT s.code, v.d FROM unnest(?2::text[]) WITH ORDINALITY AS s(code, n) CROSS JOIN LATERAL (
                   SELECT ended_at - called_at AS d, ended_at, id FROM service_log WHERE day = ?1 AND service = s.code
                   ORDER BY ended_at DESC, id DESC LIMIT ?3) v
               ORDER BY s.n, v.ended_at DESC, v.id DESC""", (day, codes, last))
        for service, duration in rows:
            visits[service].append(max(0.0, float(duration)))
        return visits

    async def usual_visits(self, first_day: str, before_day: str, utc_offset_s: int
                           ) -> dict[tuple[str, int], tuple[int, float, float]]:
        """Per (service, local hour of the call), the count, sum and sum of squares of visit durations
        (call to end, every outcome) on days from `first_day` up to, not including, `before_day`."""
        # trunc, as SQLite's CAST(REAL AS INTEGER) does (a cast to bigint here would round).
        rows = await self._all(
            """SELECT service, ((trunc(called_at)::bigint + ?1) % 86400 / 3600)::int AS hour,
                      COUNT(*), SUM(d), SUM(d * d)
               FROM (SELECT service, called_at, GREATEST(ended_at - called_at, 0) AS d FROM service_log
                     WHERE day >= ?2 AND day < ?3) v
               GROUP BY service, hour""", (utc_offset_s, first_day, before_day))
        return {(r[0], int(r[1])): (int(r[2]), float(r[3]), float(r[4])) for r in rows}

    async def tell_unprinted(self, job_id: int, at: float, *, drop: bool) -> None:
        """Note that the citizen was told the job is not printed; with `drop`, a job not being printed
        right now is given up (state 'dropped')."""
        await self._run(
            "UPDATE print_jobs SET told_unprinted_at = COALESCE(told_unprinted_at, ?1), "
            "state = CASE WHEN ?2 = 1 AND state = 'pending' THEN 'dropped' ELSE state END WHERE id = ?3",
            (at, int(drop), job_id))
