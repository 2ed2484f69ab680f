"""Reads for reports (the tables of the reports' migration, kiosk/storage/sqlite/report_schema.py).

Reports never touch the writer. `ReportSql` runs in the report worker (report_reader.py: a process of
its own with a read-only connection, at a lower CPU priority), so a year-long report does not slow
ticket issue: SQLite computes every sum and percentile and hands back one row per group. Each call
reads one snapshot (a read transaction), so a summary's rows add up to its total even while tickets
are being issued. The summary's SQL is in report_summary.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kiosk.storage.base import WAIT_BUCKETS, DayRange, GroupStats, ServiceInfo
from kiosk.storage.sqlite.report_summary import by_hour, grouped, load_services, scope_sql
from kiosk.storage.sqlite.survey import SurveyReportSql, SurveyReportWork

if TYPE_CHECKING:
    from kiosk.storage.sqlite.report_reader import ReportReader


class ReportSql(SurveyReportWork):
    """The report queries on one (report) connection; every method runs in the report worker."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def summary(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
                default_target_s: int, offset_s: int) -> tuple[dict[str, GroupStats], GroupStats]:
        """Per group and in total: counts, sums and wait statistics, from one snapshot."""
        load_services(self.conn, days, services, default_target_s)
        if by == "hour":
            return by_hour(self.conn, days, offset_s, scope)
        return grouped(self.conn, days, by, scope)

    # --- charts -----------------------------------------------------------------------------------------
    def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued) for the heat map (from the hourly summary when the hall's
        offset is whole hours)."""
        where, scope_params = scope_sql("service", scope)
        if offset_s % 3600 == 0:
            rows = self.conn.execute(
                f"""SELECT day, hour, SUM(issued) FROM report_hours WHERE day BETWEEN ? AND ?{where}
                    GROUP BY 1, 2 HAVING SUM(issued) > 0""", (days.first, days.last, *scope_params)).fetchall()
            return sorted((str(r[0]), (int(r[1]) + offset_s // 3600) % 24, int(r[2])) for r in rows)
        rows = self.conn.execute(
            f"""SELECT day, CAST((begin_at + ?) % 86400 AS INTEGER) / 3600, COUNT(*) FROM report_stays
                WHERE day BETWEEN ? AND ? AND kind = 0{where} GROUP BY 1, 2 ORDER BY 1, 2""",
            (offset_s, days.first, days.last, *scope_params)).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    def served_hours(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> dict[int, int]:
        """Per local hour of the day, the stays served then."""
        where, params = scope_sql("service", scope)
        if offset_s % 3600 == 0:
            rows = self.conn.execute(
                f"""SELECT hour, SUM(served) FROM report_hours WHERE day BETWEEN ? AND ?{where}
                    GROUP BY 1 HAVING SUM(served) > 0""", (days.first, days.last, *params)).fetchall()
            return {(int(r[0]) + offset_s // 3600) % 24: int(r[1]) for r in rows}
        rows = self.conn.execute(
            f"""SELECT CAST((end_at + ?) % 86400 AS INTEGER) / 3600, COUNT(*) FROM report_stays
                WHERE day BETWEEN ? AND ? AND outcome = 'done'{where} GROUP BY 1""",
            (offset_s, days.first, days.last, *params)).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays in each waiting-time class (< 5, 5-10, 10-15, 15-30, 30-60, >= 60 min)."""
        where, params = scope_sql("service", scope)
        cases = " ".join(f"WHEN wait_s < {bound} THEN {i}" for i, bound in enumerate(WAIT_BUCKETS))
        rows = self.conn.execute(
            f"""SELECT service, CASE {cases} ELSE {len(WAIT_BUCKETS)} END, COUNT(*)
                FROM report_stays INDEXED BY report_waits_service
                WHERE wait_s IS NOT NULL AND day BETWEEN ? AND ?{where} GROUP BY 1, 2""",
            (days.first, days.last, *params)).fetchall()
        out: dict[str, list[int]] = {}
        for g, bucket, n in rows:
            out.setdefault(str(g), [0] * (len(WAIT_BUCKETS) + 1))[int(bucket)] += int(n)
        return out

    def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end and busy seconds (calls to visit ends)."""
        where, scope_params = scope_sql("c.service", scope)
        rows = self.conn.execute(
            f"""SELECT d.day, d.counter, d.first_call_at, d.last_end_at, b.busy FROM report_counter_days d
                JOIN (SELECT c.day, c.counter, SUM(c.busy_sum) AS busy FROM report_counts c
                      WHERE c.day BETWEEN ? AND ? AND c.counter != ''{where} GROUP BY 1, 2) b
                  ON b.day = d.day AND b.counter = d.counter
                WHERE d.day BETWEEN ? AND ? ORDER BY d.day, d.counter""",
            (days.first, days.last, *scope_params, days.first, days.last)).fetchall()
        return [{"day": r[0], "counter": r[1], "first_call_at": r[2], "last_end_at": r[3], "busy_s": int(r[4] or 0)}
                for r in rows]

    def pauses(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """(counter, 'pause' or 'resume', time) of the counters' breaks between two times, in order."""
        rows = self.conn.execute(
            "SELECT counter_id, action, at FROM audit WHERE at BETWEEN ? AND ? AND action IN ('pause', 'resume') "
            "AND counter_id IS NOT NULL ORDER BY at, id", (start, end)).fetchall()
        return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]

    # --- live ---------------------------------------------------------------------------------------------
    def longest_waits(self, day: str) -> dict[str, float]:
        """Per service, when today's longest-waiting ticket not yet called joined its queue."""
        rows = self.conn.execute(
            """SELECT s.service, MIN(s.begin_at) FROM report_stays s JOIN tickets t ON t.id = s.ticket_id
               WHERE s.day = ? AND s.first_call_at IS NULL AND s.outcome IS NULL AND t.state = 'waiting'
               AND s.stay = t.transfers GROUP BY s.service""", (day,)).fetchall()
        return {str(r[0]): float(r[1]) for r in rows}


class SqliteReportQueries(SurveyReportSql):
    """The `ReportQueries` of the SQLite store (see kiosk/storage/base/)."""

    def __init__(self, reader: ReportReader) -> None:
        self.reader = reader

    async def summary(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
                      default_target_s: int, offset_s: int) -> tuple[dict[str, GroupStats], GroupStats]:
        """Per group and in total: counts, sums and wait statistics, from one snapshot."""
        return await self.reader.run(ReportSql.summary, days, by, services, scope, default_target_s, offset_s)

    async def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued)."""
        return await self.reader.run(ReportSql.arrivals, days, offset_s, scope)

    async def served_hours(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> dict[int, int]:
        """Per local hour of the day, the stays served then."""
        return await self.reader.run(ReportSql.served_hours, days, offset_s, scope)

    async def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays per waiting-time class."""
        return await self.reader.run(ReportSql.wait_classes, days, scope)

    async def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end, busy seconds."""
        return await self.reader.run(ReportSql.counter_days, days, scope)

    async def pauses(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """The counters' pause and resume actions between two times."""
        return await self.reader.run(ReportSql.pauses, start, end)

    async def longest_waits(self, day: str) -> dict[str, float]:
        """Per service, when today's longest-waiting uncalled ticket joined its queue."""
        return await self.reader.run(ReportSql.longest_waits, day)


__all__ = ["ReportSql", "SqliteReportQueries"]
