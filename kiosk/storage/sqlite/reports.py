"""Reads for reports (the tables of migration 7, kiosk/storage/sqlite/report_schema.py).

Reports never touch the writer. They run on a connection and a thread of their own, at a lower CPU
priority than the server's event loop, so a year-long report does not slow ticket issue: SQLite
computes every sum and percentile in C (the GIL is released meanwhile) and hands back one row per
group. Percentiles are exact to the second: the 1-second histograms are merged for the range (whole
months from `report_waits_month`, the days at either end from `report_waits`) and the nearest rank
is found with a running sum.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from kiosk.storage.base import DayRange, ServiceInfo, WaitStats

log = logging.getLogger(__name__)
T = TypeVar("T")
REPORT_NICE = 10  # how much lower the report thread's CPU priority is (Linux: per thread)

COUNT_COLUMNS = ("issued", "transferred_in", "called", "wait_sum", "served", "no_show", "cancelled", "expired",
                 "transferred_out", "visits", "started", "walk_sum", "service_sum", "busy_sum")
GROUPS = {"service": "c.service", "agency": "COALESCE(svc.agency, '')", "counter": "c.counter",
          "officer": "c.officer", "day": "c.day", "total": "''"}
WAIT_BUCKETS = (300, 600, 900, 1800, 3600)  # upper bounds (exclusive) of the waiting-time classes


def _svc_cte(services: Sequence[ServiceInfo]) -> tuple[str, list[Any]]:
    """The hall's services as a table (code, agency, target in seconds) for joins."""
    if not services:
        return "svc(service, agency, target) AS (SELECT NULL, NULL, NULL WHERE false)", []
    values = ", ".join("(?, ?, ?)" for _ in services)
    params: list[Any] = []
    for s in services:
        params += [s.code, s.agency, s.target_s]
    return f"svc(service, agency, target) AS (VALUES {values})", params


def _scope(column: str, scope: Sequence[str] | None) -> tuple[str, list[Any]]:
    if scope is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(scope)) or 'NULL'})", list(scope)


def month_split(days: DayRange) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """Whole months inside the range (first and last 'YYYY-MM', or None) and the day spans outside them."""
    first, last = date.fromisoformat(days.first), date.fromisoformat(days.last)
    start = first if first.day == 1 else (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    after_last = last + timedelta(days=1)
    end = after_last.replace(day=1)  # the first day of the month `last` is in, or the day after a whole month
    if start >= end:
        return None, None, [(days.first, days.last)]
    spans = []
    if first < start:
        spans.append((days.first, (start - timedelta(days=1)).isoformat()))
    if end <= last:
        spans.append((end.isoformat(), days.last))
    return start.isoformat()[:7], (end - timedelta(days=1)).isoformat()[:7], spans


@dataclass(frozen=True)
class _Hist:
    """Where a histogram of waits comes from: SQL yielding (g, service, wait_s, n) and its parameters."""

    sql: str
    params: list[Any]


class ReportSql:
    """The report queries on one (report) connection; every method runs in the report thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- summaries by service, agency, counter, officer, day ---------------------------------------------
    def counts(self, days: DayRange, by: str, services: Sequence[ServiceInfo],
               scope: Sequence[str] | None) -> dict[str, dict[str, int]]:
        """Per group, the summed counts and duration sums of the stays and visits in the range."""
        cte, params = _svc_cte(services)
        where, scope_params = _scope("c.service", scope)
        sums = ", ".join(f"SUM(c.{c})" for c in COUNT_COLUMNS)
        rows = self.conn.execute(
            f"WITH {cte} SELECT {GROUPS[by]} AS g, {sums} FROM report_counts c "
            f"LEFT JOIN svc ON svc.service = c.service WHERE c.day BETWEEN ? AND ?{where} GROUP BY g",
            (*params, days.first, days.last, *scope_params)).fetchall()
        return {str(r[0]): dict(zip(COUNT_COLUMNS, (int(v or 0) for v in r[1:]), strict=True)) for r in rows}

    def _histogram(self, days: DayRange, by: str, scope: Sequence[str] | None) -> _Hist:
        """The 1-second wait histogram rows of the range, as (g, service, wait_s, n)."""
        group = {"service": "service", "agency": "service", "counter": "counter", "officer": "officer",
                 "day": "day", "total": "''"}[by]
        where, scope_params = _scope("service", scope)
        parts, params = [], []
        # Days cannot be told apart in the monthly histograms.
        first_month, last_month, spans = month_split(days) if by != "day" else (None, None, [(days.first, days.last)])
        if first_month is not None:
            parts.append(f"SELECT {group} AS g, service, wait_s, n FROM report_waits_month "
                         f"WHERE month BETWEEN ? AND ?{where}")
            params += [first_month, last_month, *scope_params]
        for start, end in spans:
            parts.append(f"SELECT {group} AS g, service, wait_s, n FROM report_waits WHERE day BETWEEN ? AND ?{where}")
            params += [start, end, *scope_params]
        return _Hist(" UNION ALL ".join(parts), params)

    def waits(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
              default_target_s: int) -> dict[str, WaitStats]:
        """Per group: called stays, wait p50 and p90 (nearest rank, whole seconds), and how many were
        called within their service's target."""
        hist = self._histogram(days, by, scope)
        group = "COALESCE(svc.agency, '')" if by == "agency" else "h.g"
        return self._percentiles(hist, group, services, default_target_s)

    def _percentiles(self, hist: _Hist, group: str, services: Sequence[ServiceInfo],
                     default_target_s: int) -> dict[str, WaitStats]:
        cte, params = _svc_cte(services)
        rows = self.conn.execute(
            f"""WITH {cte},
                h(g, service, wait_s, n) AS ({hist.sql}),
                b AS (SELECT {group} AS g, h.wait_s AS w, SUM(h.n) AS n,
                             SUM(h.n * (h.wait_s <= COALESCE(svc.target, ?))) AS ok
                      FROM h LEFT JOIN svc ON svc.service = h.service GROUP BY 1, 2 HAVING SUM(h.n) > 0),
                c AS (SELECT g, w, n, ok, SUM(n) OVER (PARTITION BY g ORDER BY w ROWS UNBOUNDED PRECEDING) AS cum,
                             SUM(n) OVER (PARTITION BY g) AS total FROM b)
                SELECT g, MAX(total), SUM(ok), MIN(CASE WHEN cum * 100 >= total * 50 THEN w END),
                       MIN(CASE WHEN cum * 100 >= total * 90 THEN w END), SUM(n * w)
                FROM c GROUP BY g""", (*params, *hist.params, default_target_s)).fetchall()
        return {str(r[0]): WaitStats(called=int(r[1]), within_target=int(r[2]), p50=int(r[3]), p90=int(r[4]),
                                     total_s=int(r[5])) for r in rows}

    # --- by hour of the day -----------------------------------------------------------------------------
    def hours(self, days: DayRange, offset_s: int, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
              default_target_s: int) -> tuple[dict[str, dict[str, int]], dict[str, WaitStats]]:
        """Per local hour ('00'..'23'): counts (issued and waits by the hour of arrival, outcomes by the
        hour they happened, visits by the hour of the call) and the waits of those who arrived then."""
        hour = "printf('%02d', CAST((({t}) + ?) % 86400 AS INTEGER) / 3600)"
        where, scope_params = _scope("service", scope)
        out: dict[str, dict[str, int]] = {}
        begin = self.conn.execute(
            f"""SELECT {hour.format(t='begin_at')}, SUM(kind = 0), SUM(kind = 1), COUNT(wait_s), TOTAL(wait_s)
                FROM report_stays WHERE day BETWEEN ? AND ?{where} GROUP BY 1""",
            (offset_s, days.first, days.last, *scope_params)).fetchall()
        for r in begin:
            out.setdefault(r[0], dict.fromkeys(COUNT_COLUMNS, 0)).update(
                issued=int(r[1]), transferred_in=int(r[2]), called=int(r[3]), wait_sum=int(r[4]))
        ends = self.conn.execute(
            f"""SELECT {hour.format(t='COALESCE(end_at, begin_at)')}, SUM(outcome = 'done'), SUM(outcome = 'no_show'),
                       SUM(outcome = 'cancelled'), SUM(outcome = 'expired'), SUM(outcome = 'transferred_out')
                FROM report_stays WHERE day BETWEEN ? AND ? AND outcome IS NOT NULL{where} GROUP BY 1""",
            (offset_s, days.first, days.last, *scope_params)).fetchall()
        for r in ends:
            out.setdefault(r[0], dict.fromkeys(COUNT_COLUMNS, 0)).update(
                served=int(r[1]), no_show=int(r[2]), cancelled=int(r[3]), expired=int(r[4]), transferred_out=int(r[5]))
        visits = self.conn.execute(
            f"""SELECT {hour.format(t='called_at')}, COUNT(*), COUNT(started_at),
                       TOTAL(MAX(0, CAST(ROUND(started_at - called_at) AS INTEGER))),
                       TOTAL(MAX(0, CAST(ROUND(ended_at - started_at) AS INTEGER))),
                       TOTAL(MAX(0, CAST(ROUND(ended_at - called_at) AS INTEGER)))
                FROM service_log WHERE day BETWEEN ? AND ?{where} GROUP BY 1""",
            (offset_s, days.first, days.last, *scope_params)).fetchall()
        for r in visits:
            out.setdefault(r[0], dict.fromkeys(COUNT_COLUMNS, 0)).update(
                visits=int(r[1]), started=int(r[2]), walk_sum=int(r[3]), service_sum=int(r[4]), busy_sum=int(r[5]))
        hist = _Hist(f"""SELECT {hour.format(t='begin_at')}, service, wait_s, COUNT(*) FROM report_stays
                         WHERE day BETWEEN ? AND ? AND wait_s IS NOT NULL{where} GROUP BY 1, 2, 3""",
                     [offset_s, days.first, days.last, *scope_params])
        return out, self._percentiles(hist, "h.g", services, default_target_s)

    # --- charts -----------------------------------------------------------------------------------------
    def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued) for the heat map."""
        where, scope_params = _scope("service", scope)
        rows = self.conn.execute(
            f"""SELECT day, CAST((begin_at + ?) % 86400 AS INTEGER) / 3600, COUNT(*) FROM report_stays
                WHERE day BETWEEN ? AND ? AND kind = 0{where} GROUP BY 1, 2 ORDER BY 1, 2""",
            (offset_s, days.first, days.last, *scope_params)).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays in each waiting-time class (< 5, 5-10, 10-15, 15-30, 30-60, >= 60 min)."""
        hist = self._histogram(days, "service", scope)
        cases = " ".join(f"WHEN wait_s < {bound} THEN {i}" for i, bound in enumerate(WAIT_BUCKETS))
        rows = self.conn.execute(
            f"SELECT g, CASE {cases} ELSE {len(WAIT_BUCKETS)} END, SUM(n) FROM ({hist.sql}) GROUP BY 1, 2",
            hist.params).fetchall()
        out: dict[str, list[int]] = {}
        for g, bucket, n in rows:
            out.setdefault(str(g), [0] * (len(WAIT_BUCKETS) + 1))[int(bucket)] += int(n)
        return out

    def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end and busy seconds (calls to visit ends)."""
        where, scope_params = _scope("c.service", scope)
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


def _lower_priority() -> None:
    """Lower this thread's CPU priority (Linux applies nice values per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REPORT_NICE)
    except (AttributeError, OSError):  # another system, or not allowed: reports still run
        log.debug("report thread keeps its priority")


class ReportReader:
    """The report connection: its own read-only SQLite connection in its own low-priority thread,
    opened on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._sql: ReportSql | None = None
        self._lock = asyncio.Lock()

    def _connect(self) -> ReportSql:
        _lower_priority()
        target = self.path if self.path == ":memory:" else f"file:{Path(self.path).resolve()}?mode=ro"
        conn = sqlite3.connect(target, uri=self.path != ":memory:", check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA cache_size = -32000")  # 32 MB: a year of summaries stays in memory
        return ReportSql(conn)

    async def run(self, work: Callable[[ReportSql], T]) -> T:
        """Run `work(sql)` in the report thread (one query at a time)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports")
                self._sql = await loop.run_in_executor(self._executor, self._connect)
            assert self._sql is not None
            return await loop.run_in_executor(self._executor, work, self._sql)

    async def close(self) -> None:
        """Close the connection and stop the thread."""
        if self._executor is None:
            return
        sql, executor = self._sql, self._executor
        self._executor = self._sql = None
        if sql is not None:
            await asyncio.get_running_loop().run_in_executor(executor, sql.conn.close)
        executor.shutdown(wait=False)


class SqliteReportQueries:
    """The `ReportQueries` of the SQLite store (see kiosk/storage/base.py)."""

    def __init__(self, reader: ReportReader) -> None:
        self.reader = reader

    async def counts(self, days: DayRange, by: str, services: Sequence[ServiceInfo],
                     scope: Sequence[str] | None) -> dict[str, dict[str, int]]:
        """Per group, the summed counts and duration sums of the stays and visits in the range."""
        return await self.reader.run(lambda sql: sql.counts(days, by, services, scope))

    async def waits(self, days: DayRange, by: str, services: Sequence[ServiceInfo], scope: Sequence[str] | None,
                    default_target_s: int) -> dict[str, WaitStats]:
        """Per group, the wait statistics of the stays called in the range."""
        return await self.reader.run(lambda sql: sql.waits(days, by, services, scope, default_target_s))

    async def hours(self, days: DayRange, offset_s: int, services: Sequence[ServiceInfo],
                    scope: Sequence[str] | None, default_target_s: int
                    ) -> tuple[dict[str, dict[str, int]], dict[str, WaitStats]]:
        """Per local hour of the day, counts and wait statistics."""
        return await self.reader.run(lambda sql: sql.hours(days, offset_s, services, scope, default_target_s))

    async def arrivals(self, days: DayRange, offset_s: int, scope: Sequence[str] | None) -> list[tuple[str, int, int]]:
        """(day, local hour, tickets issued)."""
        return await self.reader.run(lambda sql: sql.arrivals(days, offset_s, scope))

    async def wait_classes(self, days: DayRange, scope: Sequence[str] | None) -> dict[str, list[int]]:
        """Per service, called stays per waiting-time class."""
        return await self.reader.run(lambda sql: sql.wait_classes(days, scope))

    async def counter_days(self, days: DayRange, scope: Sequence[str] | None) -> list[dict[str, Any]]:
        """Per counter and day: first call, last visit end, busy seconds."""
        return await self.reader.run(lambda sql: sql.counter_days(days, scope))

    async def pauses(self, start: float, end: float) -> list[tuple[str, str, float]]:
        """The counters' pause and resume actions between two times."""
        return await self.reader.run(lambda sql: sql.pauses(start, end))

    async def longest_waits(self, day: str) -> dict[str, float]:
        """Per service, when today's longest-waiting uncalled ticket joined its queue."""
        return await self.reader.run(lambda sql: sql.longest_waits(day))


__all__ = ["ReportReader", "SqliteReportQueries", "WAIT_BUCKETS", "month_split"]
