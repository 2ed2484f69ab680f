"""The satisfaction survey's SQL (migration 11, docs/survey.md): responses kept once per ticket and
the served visit a response belongs to (`SurveySql`, on the queue's connections), and the sums the
IKM is computed from (`SurveyReportSql`, on the report connection and thread, in one snapshot, like
every report). Plain SQL (an upsert by `ON CONFLICT`, `CASE` sums), as a PostgreSQL store would
write it too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kiosk.queue.models import Ticket
from kiosk.storage.base import DayRange
from kiosk.storage.sqlite.sql import Sql

if TYPE_CHECKING:
    from kiosk.storage.sqlite.report_reader import ReportReader
from kiosk.storage.sqlite.tickets import ticket_row

ELEMENT_COLUMNS = tuple(f"u{i}" for i in range(1, 10))
PROFILE_COLUMNS = ("gender", "age", "education", "occupation")
_SUMS = ", ".join(f"SUM({c}), COUNT({c})" for c in ELEMENT_COLUMNS)
_DIST = ", ".join(f"SUM(CASE WHEN {c} = {v} THEN 1 ELSE 0 END)" for c in ELEMENT_COLUMNS for v in range(1, 5))


def _scope(column: str, scope: Sequence[str] | None) -> tuple[str, list[Any]]:
    if scope is None:
        return "", []
    if not scope:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join('?' * len(scope))})", list(scope)


class SurveySql(Sql):
    """Survey responses and the sums of the IKM."""

    async def survey_response(self, ticket_id: int) -> dict[str, Any] | None:
        """A ticket's response: its answers (U1..U9, None where not answered), channel, complete."""
        row = await self._one(
            f"SELECT {', '.join(ELEMENT_COLUMNS)}, channel, complete, comment FROM survey_responses "
            "WHERE ticket_id = ?", (ticket_id,))
        if row is None:
            return None
        answers = {f"U{i + 1}": row[i] for i in range(9)}
        return {"answers": answers, "channel": row[9], "complete": bool(row[10]), "comment": row[11]}

    async def save_survey_response(self, *, ticket_id: int, day: str, service: str, agency: str,
                                   counter_id: str | None, officer: str | None, answers: Mapping[str, int | None],
                                   profile: Mapping[str, Any], comment: str | None, channel: str, complete: bool,
                                   at: float) -> None:
        """Insert a ticket's response, or replace the answers of the one it has (one row per ticket)."""
        values = [answers.get(f"U{i}") for i in range(1, 10)]
        prof = [profile.get(c) for c in PROFILE_COLUMNS]
        columns = ("ticket_id", "day", "service", "agency", "counter_id", "officer", *ELEMENT_COLUMNS,
                   *PROFILE_COLUMNS, "comment", "channel", "complete", "created_at", "updated_at")
        updated = (*ELEMENT_COLUMNS, *PROFILE_COLUMNS, "comment", "channel", "complete", "updated_at")
        await self._run(
            f"INSERT INTO survey_responses ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (ticket_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in updated)}",
            (ticket_id, day, service, agency, counter_id, officer, *values, *prof, comment, channel,
             int(complete), at, at))

    async def served_visit(self, ticket_id: int) -> tuple[str, str | None, float] | None:
        """(counter, officer, end) of the visit that served a ticket (outcome done)."""
        row = await self._one(
            "SELECT counter_id, username, ended_at FROM service_log WHERE ticket_id = ? AND outcome = 'done' "
            "ORDER BY ended_at DESC LIMIT 1", (ticket_id,))
        return None if row is None else (str(row[0]), row[1], float(row[2]))

    async def last_served_at(self, day: str, counter_id: str) -> Ticket | None:
        """The ticket a counter served last today (None: none yet)."""
        row = await self._one(
            "SELECT t.* FROM service_log s JOIN tickets t ON t.id = s.ticket_id "
            "WHERE s.day = ? AND s.counter_id = ? AND s.outcome = 'done' ORDER BY s.ended_at DESC, s.id DESC LIMIT 1",
            (day, counter_id))
        return None if row is None else ticket_row(row)


Statement = tuple[str, list[Any]]  # SQL with ? parameters (the PostgreSQL store translates it) and its values


def tallies_statement(days: DayRange, scope: Sequence[str] | None) -> Statement:
    where, params = _scope("service", scope)
    return (f"SELECT service, agency, counter_id, officer, SUBSTR(day, 1, 7), COUNT(*), {_SUMS}, {_DIST} "
            f"FROM survey_responses WHERE day BETWEEN ? AND ?{where} "
            "GROUP BY service, agency, counter_id, officer, SUBSTR(day, 1, 7)", [days.first, days.last, *params])


def tallies(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        sums = {f"U{i + 1}": int(r[6 + 2 * i] or 0) for i in range(9)}
        counts = {f"U{i + 1}": int(r[7 + 2 * i] or 0) for i in range(9)}
        dist = {f"U{i + 1}": [int(r[24 + 4 * i + v] or 0) for v in range(4)] for i in range(9)}
        out.append({"service": r[0], "agency": r[1], "counter": r[2], "officer": r[3], "month": r[4],
                    "responses": int(r[5]), "sums": sums, "counts": counts, "dist": dist})
    return out


def served_statement(days: DayRange, scope: Sequence[str] | None) -> Statement:
    """Tickets served per (service, counter, officer, month), from the reports' own sums (the
    counter and officer that ended the stay, docs/reports.md)."""
    where, params = _scope("service", scope)
    return (f"SELECT service, counter, officer, SUBSTR(day, 1, 7), SUM(served) FROM report_counts "
            f"WHERE day BETWEEN ? AND ? AND served > 0{where} GROUP BY service, counter, officer, SUBSTR(day, 1, 7)",
            [days.first, days.last, *params])


def served(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{"service": r[0], "counter": r[1] or None, "officer": r[2] or None, "month": r[3], "served": int(r[4])}
            for r in rows]


def comments_statement(days: DayRange, scope: Sequence[str] | None, limit: int) -> Statement:
    where, params = _scope("service", scope)
    return (f"SELECT day, service, comment FROM survey_responses WHERE day BETWEEN ? AND ? AND comment IS NOT NULL "
            f"AND comment <> ''{where} ORDER BY day DESC, updated_at DESC LIMIT ?",
            [days.first, days.last, *params, limit])


def comments(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{"day": r[0], "service": r[1], "comment": r[2]} for r in rows]


_AGE = ("CASE WHEN age IS NULL THEN NULL WHEN age < 25 THEN '< 25' WHEN age < 40 THEN '25-39' "
        "WHEN age < 60 THEN '40-59' ELSE '60+' END")
PROFILE_FIELDS = (("gender", "gender"), ("age", _AGE), ("education", "education"), ("occupation", "occupation"))


def profile_statement(column: str, days: DayRange, scope: Sequence[str] | None) -> Statement:
    where, params = _scope("service", scope)
    return (f"SELECT {column}, COUNT(*) FROM survey_responses WHERE day BETWEEN ? AND ?{where} "
            f"GROUP BY {column} ORDER BY {column}", [days.first, days.last, *params])


def profile_rows(name: str, rows: Iterable[Sequence[Any]]) -> list[tuple[str, str, int]]:
    return [(name, "" if r[0] is None else str(r[0]), int(r[1])) for r in rows]


def _all(conn: sqlite3.Connection, statement: Statement) -> list[Any]:
    return conn.execute(statement[0], statement[1]).fetchall()


def _profile(conn: sqlite3.Connection, days: DayRange, scope: Sequence[str] | None) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for name, column in PROFILE_FIELDS:
        out.extend(profile_rows(name, _all(conn, profile_statement(column, days, scope))))
    return out


class SurveyReportWork:
    """The IKM's sums, run in the report worker (a mixin of ReportSql, kiosk/storage/sqlite/reports.py)."""

    conn: sqlite3.Connection

    def survey_sums(self, days: DayRange, scope: Sequence[str] | None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (tallies(_all(self.conn, tallies_statement(days, scope))),
                served(_all(self.conn, served_statement(days, scope))))

    def survey_comments(self, days: DayRange, scope: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        return comments(_all(self.conn, comments_statement(days, scope, limit)))

    def survey_profile(self, days: DayRange, scope: Sequence[str] | None) -> list[tuple[str, str, int]]:
        return _profile(self.conn, days, scope)


class SurveyReportSql:
    """The IKM's sums on the report worker (a mixin of SqliteReportQueries: `self.reader.run`)."""

    reader: ReportReader

    async def survey_sums(self, days: DayRange, scope: Sequence[str] | None
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The responses' tallies and the tickets served, per (service, counter, officer, month), from
        one snapshot."""
        return await self.reader.run(SurveyReportWork.survey_sums, days, scope)

    async def survey_comments(self, days: DayRange, scope: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        """The suggestions written, newest first: day, service, text (never who wrote them)."""
        return await self.reader.run(SurveyReportWork.survey_comments, days, scope, limit)

    async def survey_profile(self, days: DayRange, scope: Sequence[str] | None) -> list[tuple[str, str, int]]:
        """Respondents per profile answer: (field, value or '' when not given, count)."""
        return await self.reader.run(SurveyReportWork.survey_profile, days, scope)
