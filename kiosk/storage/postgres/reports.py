"""Reads for reports on PostgreSQL (the `ReportQueries` of the contract; the tables are the reports'
migration, kiosk/storage/postgres/report_schema.py; docs/reports.md defines every number).

Each call runs in one read-only REPEATABLE READ transaction on a pooled connection of its own, so a
summary's groups add up to its total while tickets are being issued, and a report never holds the
hall's writer. The hall's services (agency, target) come in as arrays. Percentiles by nearest rank
(the wait at position ceil(p x n / 100) of a group's sorted waits) are numbered with window
functions over the range's called stays, in integers (`i * 100 >= n * p`), for any range length:
PostgreSQL sorts them on the database server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from kiosk.storage.base import WAIT_BUCKETS, DayRange, GroupStats, ServiceInfo, WaitStats, waits_by_hour
from kiosk.storage.postgres.connection import CONNECTION_FAILURES, unavailable
from kiosk.storage.postgres.survey import PgSurveyReportSql

COUNT_COLUMNS = ("issued", "transferred_in", "called", "wait_sum", "served", "no_show", "cancelled", "expired",
                 "transferred_out", "visits", "started", "walk_sum", "service_sum", "busy_sum")
GROUP_OF_COUNTS = {"service": "c.service", "agency": "v.agency", "counter": "c.counter", "officer": "c.officer",
                   "day": "c.day", "total": "''"}
GROUP_OF_STAYS = {"service": "s.service", "agency": "v.agency", "counter": "s.first_counter",
                  "officer": "s.first_officer", "day": "s.day", "total": "''"}
TOTAL = "*"
# The hall's services ($3, $4, $5: codes, agencies, targets), and services found in the range that
# are no longer in the hall ($6: the default target; no agency).
SERVICES = """svc AS (
    SELECT * FROM unnest($3::text[], $4::text[], $5::int[]) AS g(service, agency, target)
    UNION ALL
    SELECT DISTINCT c.service, '', $6::int FROM report_counts c
    WHERE c.day BETWEEN $1 AND $2 AND c.service <> ALL($3::text[]))"""


def hour_of(column: str, offset: str) -> str:
    """The hall-local hour ('00'-'23') of an epoch time column (SQLite's CAST(... % 86400 AS INTEGER) / 3600)."""
    return f"lpad(((trunc(({column}) + {offset})::bigint % 86400) / 3600)::text, 2, '0')"


def scoped(column: str, scope: Sequence[str] | None, param: int) -> tuple[str, list[Any]]:
    """` AND column = ANY($param)` for an agency-limited user (nothing when unlimited)."""
    return ("", []) if scope is None else (f" AND {column} = ANY(${param}::text[])", [list(scope)])


class PgReportQueries(PgSurveyReportSql):
    """The report reads of one hall (its schema is the pool's search_path)."""

    def __init__(self, pool: asyncpg.Pool, schema: str | None = None) -> None:
        self.pool = pool
        self.schema = schema  # another hall of the database (the regency's view), else the pool's own

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
                if self.schema is not None:
                    await conn.execute(f'SET LOCAL search_path TO "{self.schema}"')
                yield conn
        except CONNECTION_FAILURES as exc:
            raise unavailable(exc) from exc

    async def summary(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
                      default_target_s: int, offset_s: int) -> tuple[dict[str, GroupStats], GroupStats]:
        """Per group and in total: counts, sums and wait statistics, from one snapshot."""
        base = [days.first, days.last, [s.code for s in services], [s.agency for s in services],
                [s.target_s for s in services], default_target_s]
        async with self._snapshot() as conn:
            if by == "hour":
                return await self._by_hour(conn, base, offset_s, scope)
            return await self._grouped(conn, base, by, scope)

    async def _grouped(self, conn: asyncpg.Connection, base: list[Any], by: str, scope: Sequence[str] | None
                       ) -> tuple[dict[str, GroupStats], GroupStats]:
        where, extra = scoped("c.service", scope, 7)
        sums = ", ".join(f"SUM(c.{c})" for c in COUNT_COLUMNS)
        rows = await conn.fetch(
            f"WITH {SERVICES} SELECT {GROUP_OF_COUNTS[by]} AS g, {sums} FROM report_counts c "
            f"JOIN svc v ON v.service = c.service WHERE c.day BETWEEN $1 AND $2{where} GROUP BY 1", *base, *extra)
        counts = {str(r[0]): dict(zip(COUNT_COLUMNS, (int(v or 0) for v in r[1:]), strict=True)) for r in rows}
        where, extra = scoped("s.service", scope, 8)
        rows = await conn.fetch(
            f"""WITH {SERVICES},
                w AS MATERIALIZED (SELECT {GROUP_OF_STAYS[by]} AS g, s.wait_s, (s.wait_s <= v.target)::int AS ok
                                   FROM report_stays s JOIN svc v ON v.service = s.service
                                   WHERE s.day BETWEEN $1 AND $2 AND s.wait_s IS NOT NULL{where}),
                r AS (SELECT g, wait_s, ok, ROW_NUMBER() OVER (PARTITION BY g ORDER BY wait_s) AS i,
                             COUNT(*) OVER (PARTITION BY g) AS n FROM w
                      UNION ALL
                      SELECT $7::text, wait_s, ok, ROW_NUMBER() OVER (ORDER BY wait_s), COUNT(*) OVER () FROM w)
            SELECT g, MIN(CASE WHEN i * 100 >= n * 50 THEN wait_s END),
                   MIN(CASE WHEN i * 100 >= n * 90 THEN wait_s END), SUM(ok) FROM r GROUP BY g""", *base, TOTAL, *extra)
        ranks = {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
        total = {c: sum(g[c] for g in counts.values()) for c in COUNT_COLUMNS}
        out = {key: GroupStats(c, _waits(c, ranks.get(key))) for key, c in counts.items()}
        return out, GroupStats(total, _waits(total, ranks.get(TOTAL)))

    async def _by_hour(self, conn: asyncpg.Connection, base: list[Any], offset_s: int, scope: Sequence[str] | None
                       ) -> tuple[dict[str, GroupStats], GroupStats]:
        """Per local hour and in total; a hall whose offset is whole hours reads the hourly summary."""
        if offset_s % 3600 == 0:
            out = await self._summarised_hours(conn, base, offset_s, scope)
        else:
            out = await self._hours_from_stays(conn, base, offset_s, scope)
        waits, total_waits = await self._hour_waits(conn, base, offset_s, scope)
        total = {c: sum(g[c] for g in out.values()) for c in COUNT_COLUMNS}  # the hours partition every count
        return {hour: GroupStats(c, waits.get(hour)) for hour, c in out.items()}, GroupStats(total, total_waits)

    @staticmethod
    async def _summarised_hours(conn: asyncpg.Connection, base: list[Any], offset_s: int,
                                scope: Sequence[str] | None) -> dict[str, dict[str, int]]:
        where, extra = scoped("service", scope, 3)
        sums = ", ".join(f"SUM({c})" for c in COUNT_COLUMNS)
        rows = await conn.fetch(f"SELECT hour, {sums} FROM report_hours WHERE day BETWEEN $1 AND $2{where} "
                                f"GROUP BY hour", base[0], base[1], *extra)
        shift = offset_s // 3600
        return {f"{(int(r[0]) + shift) % 24:02d}": dict(zip(COUNT_COLUMNS, (int(v or 0) for v in r[1:]), strict=True))
                for r in rows if any(r[1:])}

    @staticmethod
    async def _hours_from_stays(conn: asyncpg.Connection, base: list[Any], offset_s: int,
                                scope: Sequence[str] | None) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}

        def put(hour: str, **values: int) -> None:
            out.setdefault(hour, dict.fromkeys(COUNT_COLUMNS, 0)).update(values)
        where, extra = scoped("service", scope, 4)
        span = [base[0], base[1], offset_s]
        for r in await conn.fetch(
                f"""SELECT {hour_of('begin_at', '$3')}, SUM((kind = 0)::int), SUM((kind = 1)::int), COUNT(wait_s),
                           COALESCE(SUM(wait_s), 0) FROM report_stays WHERE day BETWEEN $1 AND $2{where} GROUP BY 1""",
                *span, *extra):
            put(r[0], issued=int(r[1]), transferred_in=int(r[2]), called=int(r[3]), wait_sum=int(r[4]))
        for r in await conn.fetch(
                f"""SELECT {hour_of('COALESCE(end_at, begin_at)', '$3')}, SUM((outcome = 'done')::int),
                           SUM((outcome = 'no_show')::int), SUM((outcome = 'cancelled')::int),
                           SUM((outcome = 'expired')::int), SUM((outcome = 'transferred_out')::int)
                    FROM report_stays WHERE day BETWEEN $1 AND $2 AND outcome IS NOT NULL{where} GROUP BY 1""",
                *span, *extra):
            put(r[0], served=int(r[1]), no_show=int(r[2]), cancelled=int(r[3]), expired=int(r[4]),
                transferred_out=int(r[5]))
        for r in await conn.fetch(
                f"""SELECT {hour_of('called_at', '$3')}, COUNT(*), COUNT(started_at),
                           COALESCE(SUM(whole_seconds(started_at - called_at)), 0),
                           COALESCE(SUM(whole_seconds(ended_at - started_at)), 0),
                           COALESCE(SUM(whole_seconds(ended_at - called_at)), 0)
                    FROM service_log WHERE day BETWEEN $1 AND $2{where} GROUP BY 1""", *span, *extra):
            put(r[0], visits=int(r[1]), started=int(r[2]), walk_sum=int(r[3]), service_sum=int(r[4]),
                busy_sum=int(r[5]))
        return out

    @staticmethod
    async def _hour_waits(conn: asyncpg.Connection, base: list[Any], offset_s: int, scope: Sequence[str] | None
                          ) -> tuple[dict[str, WaitStats], WaitStats | None]:
        where, extra = scoped("s.service", scope, 8)
        rows = await conn.fetch(
            f"""WITH {SERVICES}
                SELECT s.wait_s, {hour_of('s.begin_at', '$7')}, COUNT(*), SUM((s.wait_s <= v.target)::int)
                FROM report_stays s JOIN svc v ON v.service = s.service
                WHERE s.wait_s IS NOT NULL AND s.day BETWEEN $1 AND $2{where} GROUP BY 1, 2 ORDER BY 1""",
            *base, offset_s, *extra)
        return waits_by_hour(rows)

    # --- charts ---------------------------------------------------------------------------------------
    async def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued) for the heat map (from the hourly summary when the hall's
        offset is whole hours)."""
        async with self._snapshot() as conn:
            if offset_s % 3600 == 0:
                where, extra = scoped("service", scope, 3)
                rows = await conn.fetch(
                    f"""SELECT day, hour, SUM(issued) FROM report_hours WHERE day BETWEEN $1 AND $2{where}
                        GROUP BY 1, 2 HAVING SUM(issued) > 0""", days.first, days.last, *extra)
                return sorted((str(r[0]), (int(r[1]) + offset_s // 3600) % 24, int(r[2])) for r in rows)
            where, extra = scoped("service", scope, 4)
            rows = await conn.fetch(
                f"""SELECT day, (trunc(begin_at + $3)::bigint % 86400) / 3600, COUNT(*) FROM report_stays
                    WHERE day BETWEEN $1 AND $2 AND kind = 0{where} GROUP BY 1, 2 ORDER BY 1, 2""",
                days.first, days.last, offset_s, *extra)
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    async def served_hours(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> dict[int, int]:
        """Per local hour of the day, the stays served then."""
        async with self._snapshot() as conn:
            if offset_s % 3600 == 0:
                where, extra = scoped("service", scope, 3)
                rows = await conn.fetch(
                    f"""SELECT hour, SUM(served) FROM report_hours WHERE day BETWEEN $1 AND $2{where}
                        GROUP BY 1 HAVING SUM(served) > 0""", days.first, days.last, *extra)
                return {(int(r[0]) + offset_s // 3600) % 24: int(r[1]) for r in rows}
            where, extra = scoped("service", scope, 4)
            rows = await conn.fetch(
                f"""SELECT (trunc(end_at + $3)::bigint % 86400) / 3600, COUNT(*) FROM report_stays
                    WHERE day BETWEEN $1 AND $2 AND outcome = 'done'{where} GROUP BY 1""",
                days.first, days.last, offset_s, *extra)
        return {int(r[0]): int(r[1]) for r in rows}

    async def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays in each waiting-time class."""
        where, extra = scoped("service", scope, 3)
        cases = " ".join(f"WHEN wait_s < {bound} THEN {i}" for i, bound in enumerate(WAIT_BUCKETS))
        async with self._snapshot() as conn:
            rows = await conn.fetch(
                f"""SELECT service, CASE {cases} ELSE {len(WAIT_BUCKETS)} END, COUNT(*) FROM report_stays
                    WHERE wait_s IS NOT NULL AND day BETWEEN $1 AND $2{where} GROUP BY 1, 2""",
                days.first, days.last, *extra)
        out: dict[str, list[int]] = {}
        for g, bucket, n in rows:
            out.setdefault(str(g), [0] * (len(WAIT_BUCKETS) + 1))[int(bucket)] += int(n)
        return out

    async def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end and busy seconds."""
        where, extra = scoped("c.service", scope, 3)
        async with self._snapshot() as conn:
            rows = await conn.fetch(
                f"""SELECT d.day, d.counter, d.first_call_at, d.last_end_at, b.busy FROM report_counter_days d
                    JOIN (SELECT c.day, c.counter, SUM(c.busy_sum) AS busy FROM report_counts c
                          WHERE c.day BETWEEN $1 AND $2 AND c.counter <> ''{where} GROUP BY 1, 2) b
                      ON b.day = d.day AND b.counter = d.counter
                    WHERE d.day BETWEEN $1 AND $2 ORDER BY d.day, d.counter""", days.first, days.last, *extra)
        return [{"day": r[0], "counter": r[1], "first_call_at": r[2], "last_end_at": r[3], "busy_s": int(r[4] or 0)}
                for r in rows]

    async def pauses(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """(counter, 'pause' or 'resume', time) of the counters' breaks between two times, in order."""
        async with self._snapshot() as conn:
            rows = await conn.fetch(
                "SELECT counter_id, action, at FROM audit WHERE at BETWEEN $1 AND $2 AND action IN ('pause', 'resume') "
                "AND counter_id IS NOT NULL ORDER BY at, id", start, end)
        return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]

    async def longest_waits(self, day: str) -> dict[str, float]:
        """Per service, when today's longest-waiting ticket not yet called joined its queue."""
        async with self._snapshot() as conn:
            rows = await conn.fetch(
                """SELECT s.service, MIN(s.begin_at) FROM report_stays s JOIN tickets t ON t.id = s.ticket_id
                   WHERE s.day = $1 AND s.first_call_at IS NULL AND s.outcome IS NULL AND t.state = 'waiting'
                   AND s.stay = t.transfers GROUP BY s.service""", day)
        return {str(r[0]): float(r[1]) for r in rows}


def _waits(c: dict[str, int], ranks: tuple[int, int, int] | None) -> WaitStats | None:
    if not c["called"] or ranks is None:
        return None
    return WaitStats(called=c["called"], within_target=ranks[2], p50=ranks[0], p90=ranks[1], total_s=c["wait_sum"])
