"""The summary's SQL: counts and sums from `report_counts`, and exact wait percentiles read from the
partial indexes of called stays ordered by wait (the reports' migration).

A percentile by nearest rank is the wait at position k = ceil(p/100 x n) of a group's sorted waits;
`ORDER BY wait_s LIMIT 1 OFFSET k-1` on an index that starts with the group's column and then
`wait_s` walks the index in order and stops there: no sort, no sample left out. The group's n (and
the sum for the mean) comes from `report_counts`, read in the same snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import Any

from kiosk.storage.base import DayRange, GroupStats, ServiceInfo, WaitStats, waits_by_hour

COUNT_COLUMNS = ("issued", "transferred_in", "called", "wait_sum", "served", "no_show", "cancelled", "expired",
                 "transferred_out", "visits", "started", "walk_sum", "service_sum", "busy_sum")
GROUP_OF_COUNTS = {"service": "c.service", "agency": "v.agency", "counter": "c.counter", "officer": "c.officer",
                   "day": "c.day", "total": "''"}
GROUP_OF_STAYS = {"service": "s.service", "agency": "v.agency", "counter": "s.first_counter",
                  "officer": "s.first_officer", "day": "s.day", "total": "''"}
# The index each grouping walks to a rank, and the column it starts with.
RANK_INDEX = {"service": ("report_waits_service", "service"), "counter": ("report_waits_counter", "first_counter"),
              "officer": ("report_waits_officer", "first_officer")}
# Percentiles: a group walks its index in wait order over ranges longer than a week (a shorter
# range numbers its own few waits); the total sorts its own days up to two months, then walks.
SHORT_RANGE_DAYS = 7
LONG_RANGE_DAYS = 62
TOTAL = "*"  # the key of the total among the groups' ranks (no code, id or username has a star)


def rank(p: int, n: int) -> int:
    """The nearest rank of the p-th percentile of n values (1-based): ceil(p x n / 100)."""
    return max(1, -(-p * n // 100))


def scope_sql(column: str, scope: Sequence[str] | None) -> tuple[str, list[Any]]:
    """` AND column IN (...)` for an agency-limited user (nothing when unlimited)."""
    if scope is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(scope)) or 'NULL'})", list(scope)


def load_services(conn: sqlite3.Connection, days: DayRange, services: Sequence[ServiceInfo],
                  default_target_s: int) -> None:
    """The hall's services, with agency and target, in an indexed temporary table of the report
    connection (also the codes of services removed since, found in the range: no agency, the default target)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_svc (service TEXT PRIMARY KEY, agency TEXT NOT NULL, "
                 "target INTEGER NOT NULL) WITHOUT ROWID")
    conn.execute("DELETE FROM report_svc")
    conn.executemany("INSERT INTO report_svc VALUES (?, ?, ?)", [(s.code, s.agency, s.target_s) for s in services])
    conn.execute("INSERT OR IGNORE INTO report_svc SELECT DISTINCT service, '', ? FROM report_counts "
                 "WHERE day BETWEEN ? AND ?", (default_target_s, days.first, days.last))


def counts(conn: sqlite3.Connection, days: DayRange, by: str, scope: Sequence[str] | None
           ) -> dict[str, dict[str, int]]:
    """Per group, the summed counts and duration sums of the stays and visits in the range."""
    where, params = scope_sql("c.service", scope)
    sums = ", ".join(f"SUM(c.{c})" for c in COUNT_COLUMNS)
    rows = conn.execute(
        f"SELECT {GROUP_OF_COUNTS[by]} AS g, {sums} FROM report_counts c JOIN report_svc v ON v.service = c.service "
        f"WHERE c.day BETWEEN ? AND ?{where} GROUP BY g", (days.first, days.last, *params)).fetchall()
    return {str(r[0]): dict(zip(COUNT_COLUMNS, (int(v or 0) for v in r[1:]), strict=True)) for r in rows}


def within_target(conn: sqlite3.Connection, days: DayRange, by: str, scope: Sequence[str] | None) -> dict[str, int]:
    """Per group, the called stays whose wait was at or under their service's target."""
    where, params = scope_sql("s.service", scope)
    if long_range(days):  # per service, the index's range of waits up to the target
        source = ("report_svc v JOIN report_stays s INDEXED BY report_waits_service "
                  "ON s.service = v.service AND s.wait_s <= v.target")
    else:  # the range's own days
        source = ("report_stays s INDEXED BY report_waits_day JOIN report_svc v ON v.service = s.service "
                  "AND s.wait_s <= v.target")
    rows = conn.execute(f"SELECT {GROUP_OF_STAYS[by]}, COUNT(*) FROM {source} WHERE s.wait_s IS NOT NULL "
                        f"AND s.day BETWEEN ? AND ?{where} GROUP BY 1", (days.first, days.last, *params)).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def span_days(days: DayRange) -> int:
    """How many days a range has."""
    return (date.fromisoformat(days.last) - date.fromisoformat(days.first)).days + 1


def long_range(days: DayRange) -> bool:
    """Whether a range is long enough to read by the wait indexes rather than by its own days."""
    return span_days(days) >= LONG_RANGE_DAYS


def _at_ranks(conn: sqlite3.Connection, source: str, where: str, params: Sequence[Any], n: int) -> tuple[int, int]:
    """The waits at the p50 and p90 ranks, in one walk (or one sort): the first and the last of the
    waits from rank k50 to rank k90."""
    k50, k90 = rank(50, n), rank(90, n)
    row = conn.execute(f"SELECT MIN(wait_s), MAX(wait_s) FROM (SELECT wait_s FROM {source} WHERE wait_s IS NOT NULL "
                       f"AND {where} ORDER BY wait_s LIMIT ? OFFSET ?)", (*params, k90 - k50 + 1, k50 - 1)).fetchone()
    return (int(row[0]), int(row[1])) if row and row[0] is not None else (0, 0)


def walk_percentiles(conn: sqlite3.Connection, days: DayRange, by: str, key: str, n: int,
                     scope: Sequence[str] | None) -> tuple[int, int]:
    """(p50, p90) of one group's n waits, walking the group's index in wait order (long ranges)."""
    where, params = scope_sql("service", scope)
    span = "day BETWEEN ? AND ?"
    if by in RANK_INDEX:
        index, column = RANK_INDEX[by]
        source, cond, args = f"report_stays INDEXED BY {index}", f"{column} = ? AND {span}{where}", \
            [key, days.first, days.last, *params]
    elif by == "agency":
        codes = [r[0] for r in conn.execute("SELECT service FROM report_svc WHERE agency = ?", (key,))]
        inside, more = scope_sql("service", codes)
        source, cond, args = "report_stays", f"{span}{inside}{where}", [days.first, days.last, *more, *params]
    elif by == "day":
        source, cond, args = "report_stays INDEXED BY report_waits_day", f"day = ?{where}", [key, *params]
    else:  # the total: its own days sorted, or over two months the index of all waits walked
        source = "report_stays INDEXED BY " + ("report_waits_all" if long_range(days) else "report_waits_day")
        cond, args = f"{span}{where}", [days.first, days.last, *params]
    return _at_ranks(conn, source, cond, args, n)


def ranked_percentiles(conn: sqlite3.Connection, days: DayRange, by: str, scope: Sequence[str] | None
                       ) -> dict[str, tuple[int, int]]:
    """Per group and in total (TOTAL), (p50, p90): the range's waits numbered in order (short ranges)."""
    where, params = scope_sql("s.service", scope)
    join = " JOIN report_svc v ON v.service = s.service" if by == "agency" else ""
    rows = conn.execute(
        f"""WITH w AS MATERIALIZED (SELECT {GROUP_OF_STAYS[by]} AS g, s.wait_s
                                    FROM report_stays s INDEXED BY report_waits_day{join}
                                    WHERE s.day BETWEEN ? AND ? AND s.wait_s IS NOT NULL{where}),
                r AS (SELECT g, wait_s, ROW_NUMBER() OVER (PARTITION BY g ORDER BY wait_s) AS i,
                             COUNT(*) OVER (PARTITION BY g) AS n FROM w
                      UNION ALL
                      SELECT ?, wait_s, ROW_NUMBER() OVER (ORDER BY wait_s), COUNT(*) OVER () FROM w)
            SELECT g, MIN(CASE WHEN i * 100 >= n * 50 THEN wait_s END), MIN(CASE WHEN i * 100 >= n * 90 THEN wait_s END)
            FROM r WHERE i * 100 >= n * 50 GROUP BY g""", (days.first, days.last, *params, TOTAL)).fetchall()
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


def grouped(conn: sqlite3.Connection, days: DayRange, by: str, scope: Sequence[str] | None
            ) -> tuple[dict[str, GroupStats], GroupStats]:
    """Per group (by service, agency, counter, officer or day) and in total: counts and waits. The
    groups partition the stays, so the total's counts and within-target are the groups' sums."""
    sums = counts(conn, days, by, scope)
    ok = within_target(conn, days, by, scope)
    total = {c: sum(g[c] for g in sums.values()) for c in COUNT_COLUMNS}
    if span_days(days) > SHORT_RANGE_DAYS:
        ranks = {key: walk_percentiles(conn, days, by, key, c["called"], scope)
                 for key, c in sums.items() if c["called"]}
        if total["called"]:
            ranks[TOTAL] = walk_percentiles(conn, days, "total", "", total["called"], scope)
    else:
        ranks = ranked_percentiles(conn, days, by, scope)
    out = {key: GroupStats(c, _waits(c, ok.get(key, 0), ranks.get(key))) for key, c in sums.items()}
    return out, GroupStats(total, _waits(total, sum(ok.values()), ranks.get(TOTAL)))


def _waits(c: dict[str, int], within: int, ranks: tuple[int, int] | None) -> WaitStats | None:
    if not c["called"] or ranks is None:
        return None
    return WaitStats(called=c["called"], within_target=within, p50=ranks[0], p90=ranks[1], total_s=c["wait_sum"])


def hour_sql(column: str) -> str:
    """The hall-local hour ('00'-'23') of an epoch time column, given the offset as a parameter."""
    return f"printf('%02d', CAST((({column}) + ?) % 86400 AS INTEGER) / 3600)"


def by_hour(conn: sqlite3.Connection, days: DayRange, offset_s: int, scope: Sequence[str] | None
            ) -> tuple[dict[str, GroupStats], GroupStats]:
    """Per local hour and in total: arrivals and their waits by the hour of arrival, outcomes by the hour
    they happened (an expired stay: the hour it arrived), visits by the hour of the call. A hall whose
    UTC offset is whole hours reads the hourly summary (report_hours.py); any other, the stays."""
    where, params = scope_sql("service", scope)
    if offset_s % 3600 == 0:
        out = _summarised_hours(conn, days, offset_s, where, params)
    else:
        out = _hours_from_stays(conn, days, offset_s, where, params)
    waits, total_waits = _hour_waits(conn, days, offset_s, where, params)
    total = {c: sum(g[c] for g in out.values()) for c in COUNT_COLUMNS}  # the hours partition every count
    return {hour: GroupStats(c, waits.get(hour)) for hour, c in out.items()}, GroupStats(total, total_waits)


def _summarised_hours(conn: sqlite3.Connection, days: DayRange, offset_s: int, where: str, params: list[Any]
                      ) -> dict[str, dict[str, int]]:
    """The hourly summary's rows of the range, summed per UTC hour and moved to the local hour; an hour
    whose every count went back to 0 (a stay's end moved to another hour) has nothing to report."""
    sums = ", ".join(f"SUM({c})" for c in COUNT_COLUMNS)
    rows = conn.execute(f"SELECT hour, {sums} FROM report_hours WHERE day BETWEEN ? AND ?{where} GROUP BY hour",
                        (days.first, days.last, *params)).fetchall()
    shift = offset_s // 3600
    return {f"{(int(r[0]) + shift) % 24:02d}": dict(zip(COUNT_COLUMNS, (int(v or 0) for v in r[1:]), strict=True))
            for r in rows if any(r[1:])}


def _hours_from_stays(conn: sqlite3.Connection, days: DayRange, offset_s: int, where: str, params: list[Any]
                      ) -> dict[str, dict[str, int]]:
    """The same counts read from the stays and the visit log (a hall whose offset is not whole hours)."""
    span = (days.first, days.last)
    out: dict[str, dict[str, int]] = {}

    def put(hour: str, **values: int) -> None:
        out.setdefault(hour, dict.fromkeys(COUNT_COLUMNS, 0)).update(values)

    for r in conn.execute(
            f"""SELECT {hour_sql('begin_at')}, SUM(kind = 0), SUM(kind = 1), COUNT(wait_s), TOTAL(wait_s)
                FROM report_stays WHERE day BETWEEN ? AND ?{where} GROUP BY 1""", (offset_s, *span, *params)):
        put(r[0], issued=int(r[1]), transferred_in=int(r[2]), called=int(r[3]), wait_sum=int(r[4]))
    for r in conn.execute(
            f"""SELECT {hour_sql('COALESCE(end_at, begin_at)')}, SUM(outcome = 'done'), SUM(outcome = 'no_show'),
                       SUM(outcome = 'cancelled'), SUM(outcome = 'expired'), SUM(outcome = 'transferred_out')
                FROM report_stays WHERE day BETWEEN ? AND ? AND outcome IS NOT NULL{where} GROUP BY 1""",
            (offset_s, *span, *params)):
        put(r[0], served=int(r[1]), no_show=int(r[2]), cancelled=int(r[3]), expired=int(r[4]),
            transferred_out=int(r[5]))
    for r in conn.execute(
            f"""SELECT {hour_sql('called_at')}, COUNT(*), COUNT(started_at),
                       TOTAL(MAX(0, CAST(ROUND(started_at - called_at) AS INTEGER))),
                       TOTAL(MAX(0, CAST(ROUND(ended_at - started_at) AS INTEGER))),
                       TOTAL(MAX(0, CAST(ROUND(ended_at - called_at) AS INTEGER)))
                FROM service_log WHERE day BETWEEN ? AND ?{where} GROUP BY 1""", (offset_s, *span, *params)):
        put(r[0], visits=int(r[1]), started=int(r[2]), walk_sum=int(r[3]), service_sum=int(r[4]), busy_sum=int(r[5]))
    return out


def _hour_waits(conn: sqlite3.Connection, days: DayRange, offset_s: int, where: str, params: list[Any]
                ) -> tuple[dict[str, WaitStats], WaitStats | None]:
    """Per hour of arrival and in total, the waits' percentiles: the index of all waits walked in wait
    order gives (wait, hour, count, within target) rows, few (waits repeat), in which each hour's
    ranks and the total's are counted."""
    rows = conn.execute(
        f"""SELECT s.wait_s, {hour_sql('s.begin_at')}, COUNT(*), SUM(s.wait_s <= v.target)
            FROM report_stays s INDEXED BY report_waits_all JOIN report_svc v ON v.service = s.service
            WHERE s.wait_s IS NOT NULL AND s.day BETWEEN ? AND ?{where.replace('service', 's.service')}
            GROUP BY 1, 2 ORDER BY 1""", (offset_s, days.first, days.last, *params)).fetchall()
    return waits_by_hour(rows)
