"""The satisfaction survey's report reads on PostgreSQL: the same statements as the SQLite store's
(kiosk/storage/sqlite/survey.py, plain SQL translated once), run in the report's read-only snapshot.
The responses themselves are written by the SQLite store's `SurveySql` through PgConnection."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from kiosk.storage.base import DayRange
from kiosk.storage.postgres.connection import translate
from kiosk.storage.sqlite.survey import (
    PROFILE_FIELDS,
    Statement,
    comments,
    comments_statement,
    profile_rows,
    profile_statement,
    served,
    served_statement,
    tallies,
    tallies_statement,
)


async def _fetch(conn: asyncpg.Connection, statement: Statement) -> list[Any]:
    return list(await conn.fetch(translate(statement[0])[0], *statement[1]))


class PgSurveyReportSql:
    """The IKM's sums (a mixin of PgReportQueries: `self._snapshot()`)."""

    def _snapshot(self) -> AbstractAsyncContextManager[asyncpg.Connection]:  # provided by PgReportQueries
        raise NotImplementedError

    async def survey_sums(self, days: DayRange, scope: Sequence[str] | None
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The responses' tallies and the tickets served, per (service, counter, officer, month), from
        one snapshot."""
        async with self._snapshot() as conn:
            return (tallies(await _fetch(conn, tallies_statement(days, scope))),
                    served(await _fetch(conn, served_statement(days, scope))))

    async def survey_comments(self, days: DayRange, scope: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        """The suggestions written, newest first: day, service, text (never who wrote them)."""
        async with self._snapshot() as conn:
            return comments(await _fetch(conn, comments_statement(days, scope, limit)))

    async def survey_profile(self, days: DayRange, scope: Sequence[str] | None) -> list[tuple[str, str, int]]:
        """Respondents per profile answer: (field, value or '' when not given, count)."""
        out: list[tuple[str, str, int]] = []
        async with self._snapshot() as conn:
            for name, column in PROFILE_FIELDS:
                out.extend(profile_rows(name, await _fetch(conn, profile_statement(column, days, scope))))
        return out

