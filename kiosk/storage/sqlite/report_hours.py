"""The hourly summary (migration 13): per day x service x hour, what the report "by hour of the day"
counts, kept by triggers on `report_stays` and `service_log` inside the tickets' own transactions
(the same rule as the other report tables, kiosk/storage/sqlite/report_schema.py). Part of an
applied migration: never edit, add a new migration.

The hour is the **UTC** hour of the event, `CAST(epoch AS INTEGER) / 3600 % 24`: the trigger needs
no time zone, and a hall whose offset is a whole number of hours (WIB +7, WITA +8, WIT +9) reads its
local hour as (UTC hour + offset) mod 24, exactly what the report computes from the stays
(`CAST((epoch + offset) % 86400 AS INTEGER) / 3600`). A hall with a fractional offset is reported
from the stays themselves (report_summary.by_hour).

What goes in which hour (docs/reports.md, "by hour"):
- a stay's arrival (issued or transferred in) and its wait: the hour it began;
- its outcome: the hour it ended (an expired stay, which has no end time: the hour it began);
- a visit (walk, service and busy time): the hour of its call.
Every change of a stay takes its old contribution away and adds its new one, as for report_counts.
"""

from __future__ import annotations

COLUMNS = ("issued", "transferred_in", "called", "wait_sum", "served", "no_show", "cancelled", "expired",
           "transferred_out", "visits", "started", "walk_sum", "service_sum", "busy_sum")

HOURS_TABLE = "CREATE TABLE report_hours (\n    day TEXT NOT NULL,\n    service TEXT NOT NULL,\n" \
    "    hour INTEGER NOT NULL,\n" + "".join(f"    {c} INTEGER NOT NULL DEFAULT 0,\n" for c in COLUMNS) + \
    "    PRIMARY KEY (day, service, hour)\n) WITHOUT ROWID;\n"


def utc_hour(column: str) -> str:
    """The UTC hour (0-23) of an epoch column."""
    return f"CAST({column} AS INTEGER) / 3600 % 24"


# Which columns a stay's beginning, its end and a visit add to (the outcomes in the order of END).
FIRST = ("issued", "transferred_in", "called", "wait_sum")
END = ("served", "no_show", "cancelled", "expired", "transferred_out")
VISIT = ("visits", "started", "walk_sum", "service_sum", "busy_sum")
OUTCOMES = ("done", "no_show", "cancelled", "expired", "transferred_out")


def _first_values(row: str) -> list[str]:
    return [f"{row}.kind = 0", f"{row}.kind = 1", f"{row}.wait_s IS NOT NULL", f"COALESCE({row}.wait_s, 0)"]


def _end_values(row: str) -> list[str]:
    return [f"{row}.outcome = '{o}'" for o in OUTCOMES]


def _change(row: str, columns: tuple[str, ...], hour: str, values: list[str], where: str, sub: bool) -> str:
    """Add a stay's contribution (an upsert), or take it away (an update of the row it was added to)."""
    if sub:
        sets = ", ".join(f"{c} = {c} - ({v})" for c, v in zip(columns, values, strict=True))
        return (f"    UPDATE report_hours SET {sets}\n"
                f"        WHERE {where} AND day = {row}.day AND service = {row}.service AND hour = {hour};\n")
    sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in columns)
    return (f"    INSERT INTO report_hours (day, service, hour, {', '.join(columns)})\n"
            f"        SELECT {row}.day, {row}.service, {hour}, {', '.join(values)} WHERE {where}\n"
            f"        ON CONFLICT DO UPDATE SET {sets};\n")


def _first(row: str, sub: bool = False) -> str:
    return _change(row, FIRST, utc_hour(f"{row}.begin_at"), _first_values(row), "true", sub)


def _end(row: str, sub: bool = False) -> str:
    return _change(row, END, utc_hour(f"COALESCE({row}.end_at, {row}.begin_at)"), _end_values(row),
                   f"{row}.outcome IS NOT NULL", sub)


_FIRST_CHANGED = ("OLD.kind IS NOT NEW.kind OR OLD.wait_s IS NOT NEW.wait_s OR OLD.service IS NOT NEW.service "
                  "OR OLD.begin_at IS NOT NEW.begin_at OR OLD.day IS NOT NEW.day")
_END_CHANGED = ("OLD.outcome IS NOT NEW.outcome OR OLD.end_at IS NOT NEW.end_at OR OLD.service IS NOT NEW.service "
                "OR OLD.begin_at IS NOT NEW.begin_at OR OLD.day IS NOT NEW.day")

_VISIT_VALUES = ("1, NEW.started_at IS NOT NULL, "
                 "COALESCE(MAX(0, CAST(ROUND(NEW.started_at - NEW.called_at) AS INTEGER)), 0), "
                 "COALESCE(MAX(0, CAST(ROUND(NEW.ended_at - NEW.started_at) AS INTEGER)), 0), "
                 "MAX(0, CAST(ROUND(NEW.ended_at - NEW.called_at) AS INTEGER))")

HOURS_TRIGGERS = f"""
CREATE TRIGGER report_hours_stay_added AFTER INSERT ON report_stays BEGIN
{_first('NEW')}{_end('NEW')}END;
CREATE TRIGGER report_hours_stay_first_changed AFTER UPDATE ON report_stays WHEN {_FIRST_CHANGED} BEGIN
{_first('OLD', sub=True)}{_first('NEW')}END;
CREATE TRIGGER report_hours_stay_end_changed AFTER UPDATE ON report_stays WHEN {_END_CHANGED} BEGIN
{_end('OLD', sub=True)}{_end('NEW')}END;
CREATE TRIGGER report_hours_stay_removed AFTER DELETE ON report_stays BEGIN
{_first('OLD', sub=True)}{_end('OLD', sub=True)}END;
CREATE TRIGGER report_hours_visit_logged AFTER INSERT ON service_log BEGIN
    INSERT INTO report_hours (day, service, hour, {', '.join(VISIT)})
        VALUES (NEW.day, NEW.service, {utc_hour('NEW.called_at')}, {_VISIT_VALUES})
        ON CONFLICT DO UPDATE SET {', '.join(f'{c} = {c} + excluded.{c}' for c in VISIT)};
END;
"""

# The hourly summary derived from the stays and the visit log: the migration's backfill of earlier
# history, and what the tests hold the triggers to.
DERIVED_HOURS = f"""
SELECT day, service, hour, {', '.join(f'SUM({c})' for c in COLUMNS)} FROM (
    SELECT day, service, {utc_hour('begin_at')} AS hour, kind = 0 AS issued, kind = 1 AS transferred_in,
           wait_s IS NOT NULL AS called, COALESCE(wait_s, 0) AS wait_sum, 0 AS served, 0 AS no_show,
           0 AS cancelled, 0 AS expired, 0 AS transferred_out, 0 AS visits, 0 AS started, 0 AS walk_sum,
           0 AS service_sum, 0 AS busy_sum
    FROM report_stays
    UNION ALL
    SELECT day, service, {utc_hour('COALESCE(end_at, begin_at)')}, 0, 0, 0, 0, outcome = 'done',
           outcome = 'no_show', outcome = 'cancelled', outcome = 'expired', outcome = 'transferred_out',
           0, 0, 0, 0, 0
    FROM report_stays WHERE outcome IS NOT NULL
    UNION ALL
    SELECT day, service, {utc_hour('called_at')}, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           {_VISIT_VALUES.replace('NEW.', '')}
    FROM service_log)
GROUP BY 1, 2, 3
"""

HOURS_MIGRATION = (HOURS_TABLE + HOURS_TRIGGERS + f"INSERT INTO report_hours (day, service, hour, "
                   f"{', '.join(COLUMNS)}) {DERIVED_HOURS};\n")
