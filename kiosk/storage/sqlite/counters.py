"""Counters: their state and the log of visits (service durations)."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.queue.models import CounterState, Ticket
from kiosk.storage.base import DeskRow
from kiosk.storage.sqlite.sql import Sql


class CounterSql(Sql):
    """The counter_state and service_log tables."""

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

    async def recent_visits(self, day: str, services: Iterable[str], last: int) -> dict[str, list[float]]:
        """Per service, the durations (call to end, every outcome) of its last `last` visits today,
        newest first."""
        codes = tuple(services)
        visits: dict[str, list[float]] = {code: [] for code in codes}
        one = ("SELECT * FROM (SELECT service, ended_at - called_at FROM service_log WHERE day = ? AND service = ? "
               "ORDER BY ended_at DESC, id DESC LIMIT ?)")
        for start in range(0, len(codes), 100):
            chunk = codes[start:start + 100]
            rows = await self._all(" UNION ALL ".join([one] * len(chunk)),
                                   [p for code in chunk for p in (day, code, last)])
            for service, duration in rows:
                visits[service].append(max(0.0, float(duration)))
        return visits

    async def usual_visits(self, first_day: str, before_day: str, utc_offset_s: int
                           ) -> dict[tuple[str, int], tuple[int, float, float]]:
        """Per (service, local hour of the call), the count, sum and sum of squares of visit durations
        (call to end, every outcome) on days from `first_day` up to, not including, `before_day`."""
        rows = await self._all(
            """SELECT service, CAST((CAST(called_at AS INTEGER) + ?) % 86400 / 3600 AS INTEGER) AS hour,
                      COUNT(*), SUM(d), SUM(d * d)
               FROM (SELECT service, called_at, MAX(ended_at - called_at, 0) AS d FROM service_log
                     WHERE day >= ? AND day < ?)
               GROUP BY service, hour""", (utc_offset_s, first_day, before_day))
        return {(r[0], int(r[1])): (int(r[2]), float(r[3]), float(r[4])) for r in rows}

    async def served_today(self, day: str) -> dict[str, tuple[int, float]]:
        """Per counter, today's finished visits and their total duration."""
        rows = await self._all(
            """SELECT counter_id, COUNT(*), SUM(ended_at - called_at) FROM service_log
               WHERE day = ? AND outcome = 'done' GROUP BY counter_id""", (day,))
        return {r[0]: (int(r[1]), float(r[2])) for r in rows}

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

    async def desk_states(self, day: str, counter_ids: Iterable[str]) -> dict[str, DeskRow]:
        """Of these counters, those working on `day` (called someone that day, not paused): their
        priority streak and visit in progress (ticket id, service, called at), as the forecast reads them."""
        ids = tuple(counter_ids)
        if not ids:
            return {}
        rows = await self._all(
            f"""SELECT s.counter_id, s.priority_streak, t.id, t.service, t.called_at FROM counter_state s
                LEFT JOIN tickets t ON t.counter_id = s.counter_id AND t.state IN ('called', 'serving')
                WHERE s.counter_id IN ({",".join("?" * len(ids))}) AND s.active_day = ? AND s.paused = 0
                ORDER BY t.id""", (*ids, day))
        return {r[0]: (int(r[1]), r[2], r[3], r[4]) for r in rows}  # the newest visit, as counter_ticket

    async def save_counter_state(self, state: CounterState) -> None:
        """Store a counter's state."""
        await self.conn.execute(
            """INSERT INTO counter_state (counter_id, paused, priority_streak, active_day) VALUES (?, ?, ?, ?)
               ON CONFLICT (counter_id) DO UPDATE SET paused = excluded.paused,
               priority_streak = excluded.priority_streak, active_day = excluded.active_day""",
            (state.counter_id, int(state.paused), state.priority_streak, state.active_day))
