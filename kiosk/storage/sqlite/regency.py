"""What a regency sees of its halls: each hall's figures for a day, read only."""

from __future__ import annotations

import json
from typing import Any

from kiosk.storage.sqlite.sql import Sql

# The figures of one hall's day; `{t}` and `{s}` name its tickets and settings tables (PostgreSQL
# reads every hall's schema with the same statement).
HALL_DAY = """SELECT
        (SELECT value FROM {s} WHERE key = 'hall') AS doc,
        COALESCE(SUM(CASE WHEN state <> 'cancelled' THEN 1 ELSE 0 END), 0) AS issued,
        COALESCE(SUM(CASE WHEN state = 'waiting' THEN 1 ELSE 0 END), 0) AS waiting,
        COALESCE(SUM(CASE WHEN state IN ('called', 'serving') THEN 1 ELSE 0 END), 0) AS at_counters,
        COALESCE(SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END), 0) AS served,
        COALESCE(SUM(CASE WHEN state = 'no_show' THEN 1 ELSE 0 END), 0) AS no_show,
        AVG(CASE WHEN called_at IS NOT NULL THEN called_at - issued_at END) AS mean_wait_s,
        MAX(CASE WHEN state = 'waiting' THEN ? - issued_at END) AS longest_wait_s
    FROM {t} WHERE day = ?"""


def hall_figures(hall: str, row: Any) -> dict[str, Any]:
    """A row of HALL_DAY as the regency overview shows it."""
    doc = json.loads(row["doc"]) if row["doc"] else {}
    name = doc.get("hall", {}).get("name", hall)
    mean, longest = row["mean_wait_s"], row["longest_wait_s"]
    return {"hall": hall, "name": name, "issued": int(row["issued"]), "waiting": int(row["waiting"]),
            "at_counters": int(row["at_counters"]), "served": int(row["served"]), "no_show": int(row["no_show"]),
            "mean_wait_s": None if mean is None else round(float(mean)),
            "longest_wait_s": None if longest is None else round(float(longest))}


class RegencySql(Sql):
    """Read-only figures across halls (an SQLite database holds one)."""

    async def halls_day(self, day: str, now: float) -> list[dict[str, Any]]:
        """Every hall of the database with its figures for `day` (issued, waiting, at counters,
        served, no-shows, mean wait until called, longest current wait), by hall name."""
        row = await self._one(HALL_DAY.format(t="tickets", s="settings"), (now, day))
        assert row is not None
        doc = json.loads(row["doc"]) if row["doc"] else {}
        return [hall_figures(str(doc.get("hall", {}).get("id", "default")), row)]
