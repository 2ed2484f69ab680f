"""The reports' hourly summary in PostgreSQL's words (migration 13; kiosk/storage/sqlite/report_hours.py
says what it holds and why the hour is UTC). Part of an applied migration: never edit, add a new one.

One plpgsql function keeps it from the stays (the old contribution of a changed stay taken away, the
new one added) and one from the visit log, both in the writer's transaction.
"""

from __future__ import annotations

from kiosk.storage.sqlite.report_hours import COLUMNS, END, FIRST, OUTCOMES, VISIT

_SUMS = {"wait_sum", "walk_sum", "service_sum", "busy_sum"}

HOURS_TABLE = ("CREATE TABLE report_hours (\n    day text NOT NULL,\n    service text NOT NULL,\n"
               "    hour integer NOT NULL,\n"
               + "".join(f"    {c} {'bigint' if c in _SUMS else 'integer'} NOT NULL DEFAULT 0,\n" for c in COLUMNS)
               + "    PRIMARY KEY (day, service, hour)\n);\n")


def utc_hour(column: str) -> str:
    """The UTC hour (0-23) of an epoch column (SQLite's CAST(column AS INTEGER) / 3600 % 24)."""
    return f"(trunc({column})::bigint / 3600 % 24)::int"


def _first_values(row: str) -> list[str]:
    return [f"({row}.kind = 0)::int", f"({row}.kind = 1)::int", f"({row}.wait_s IS NOT NULL)::int",
            f"COALESCE({row}.wait_s, 0)"]


def _end_values(row: str) -> list[str]:
    return [f"({row}.outcome = '{o}')::int" for o in OUTCOMES]


def _add(row: str, columns: tuple[str, ...], hour: str, values: list[str]) -> str:
    sets = ", ".join(f"{c} = h.{c} + excluded.{c}" for c in columns)
    return (f"\n        INSERT INTO report_hours AS h (day, service, hour, {', '.join(columns)})"
            f"\n            VALUES ({row}.day, {row}.service, {hour}, {', '.join(values)})"
            f"\n            ON CONFLICT (day, service, hour) DO UPDATE SET {sets};")


def _sub(row: str, columns: tuple[str, ...], hour: str, values: list[str]) -> str:
    sets = ", ".join(f"{c} = {c} - {v}" for c, v in zip(columns, values, strict=True))
    return (f"\n        UPDATE report_hours SET {sets}"
            f"\n            WHERE day = {row}.day AND service = {row}.service AND hour = {hour};")


def _first(row: str, sub: bool = False) -> str:
    return (_sub if sub else _add)(row, FIRST, utc_hour(f"{row}.begin_at"), _first_values(row))


def _end(row: str, sub: bool = False) -> str:
    return (f"\n        IF {row}.outcome IS NOT NULL THEN"
            + (_sub if sub else _add)(row, END, utc_hour(f"COALESCE({row}.end_at, {row}.begin_at)"), _end_values(row))
            + "\n        END IF;")


_VISIT_VALUES = ("1, (NEW.started_at IS NOT NULL)::int, COALESCE(whole_seconds(NEW.started_at - NEW.called_at), 0), "
                 "COALESCE(whole_seconds(NEW.ended_at - NEW.started_at), 0), "
                 "whole_seconds(NEW.ended_at - NEW.called_at)")

HOURS_TRIGGERS = f"""
CREATE FUNCTION report_hours_sync() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    first_changed boolean := TG_OP <> 'UPDATE' OR OLD.kind IS DISTINCT FROM NEW.kind
        OR OLD.wait_s IS DISTINCT FROM NEW.wait_s OR OLD.service IS DISTINCT FROM NEW.service
        OR OLD.begin_at IS DISTINCT FROM NEW.begin_at OR OLD.day IS DISTINCT FROM NEW.day;
    end_changed boolean := TG_OP <> 'UPDATE' OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.end_at IS DISTINCT FROM NEW.end_at OR OLD.service IS DISTINCT FROM NEW.service
        OR OLD.begin_at IS DISTINCT FROM NEW.begin_at OR OLD.day IS DISTINCT FROM NEW.day;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND first_changed THEN{_first('OLD', sub=True)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND first_changed THEN{_first('NEW')}
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND end_changed THEN{_end('OLD', sub=True)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND end_changed THEN{_end('NEW')}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_hours_sync AFTER INSERT OR UPDATE OR DELETE ON report_stays
    FOR EACH ROW EXECUTE FUNCTION report_hours_sync();

CREATE FUNCTION report_hours_visit() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO report_hours AS h (day, service, hour, {', '.join(VISIT)})
        VALUES (NEW.day, NEW.service, {utc_hour('NEW.called_at')}, {_VISIT_VALUES})
        ON CONFLICT (day, service, hour) DO UPDATE SET {', '.join(f'{c} = h.{c} + excluded.{c}' for c in VISIT)};
    RETURN NULL;
END $$;
CREATE TRIGGER report_hours_visit AFTER INSERT ON service_log FOR EACH ROW EXECUTE FUNCTION report_hours_visit();
"""

# The hourly summary derived from the stays and the visit log (the backfill; what the tests hold the
# triggers to).
DERIVED_HOURS = f"""
SELECT day, service, hour, {', '.join(f'SUM({c})::bigint' for c in COLUMNS)} FROM (
    SELECT day, service, {utc_hour('begin_at')} AS hour, (kind = 0)::int AS issued,
           (kind = 1)::int AS transferred_in, (wait_s IS NOT NULL)::int AS called,
           COALESCE(wait_s, 0) AS wait_sum, 0 AS served, 0 AS no_show, 0 AS cancelled, 0 AS expired,
           0 AS transferred_out, 0 AS visits, 0 AS started, 0 AS walk_sum, 0 AS service_sum, 0 AS busy_sum
    FROM report_stays
    UNION ALL
    SELECT day, service, {utc_hour('COALESCE(end_at, begin_at)')}, 0, 0, 0, 0, (outcome = 'done')::int,
           (outcome = 'no_show')::int, (outcome = 'cancelled')::int, (outcome = 'expired')::int,
           (outcome = 'transferred_out')::int, 0, 0, 0, 0, 0
    FROM report_stays WHERE outcome IS NOT NULL
    UNION ALL
    SELECT day, service, {utc_hour('called_at')}, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           {_VISIT_VALUES.replace('NEW.', '')}
    FROM service_log) e
GROUP BY 1, 2, 3
"""

HOURS_MIGRATION = (HOURS_TABLE + HOURS_TRIGGERS + f"INSERT INTO report_hours (day, service, hour, "
                   f"{', '.join(COLUMNS)}) {DERIVED_HOURS};\n")
