"""The reports' tables and triggers in PostgreSQL's words (the PostgreSQL form of the reports'
migration; kiosk/storage/sqlite/report_schema.py says what each table and number means). Part of
an applied migration: never edit, add a new migration.

What differs from SQLite's: booleans are cast to integers where they are counted; a duration's
whole seconds come from `whole_seconds()` (rounding halves away from zero on numeric, as SQLite's
ROUND does; PostgreSQL's round() of a double rounds halves to even); scalar MIN/MAX become
LEAST/GREATEST; `IS NOT` becomes `IS DISTINCT FROM`; an upsert names its conflict target; the
summary triggers are one plpgsql function per source table, each run in the writer's transaction.
"""

from __future__ import annotations

WHOLE_SECONDS = """
CREATE FUNCTION whole_seconds(d double precision) RETURNS integer LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN d IS NULL THEN NULL ELSE GREATEST(0, round(d::numeric))::integer END $$;
"""

REPORT_TABLES = """
CREATE TABLE report_stays (
    day text NOT NULL,
    ticket_id bigint NOT NULL,
    stay integer NOT NULL,
    service text NOT NULL,
    kind integer NOT NULL,
    begin_at double precision NOT NULL,
    first_call_at double precision,
    first_counter text NOT NULL DEFAULT '',
    first_officer text NOT NULL DEFAULT '',
    wait_s integer,
    outcome text,
    end_at double precision,
    end_counter text NOT NULL DEFAULT '',
    end_officer text NOT NULL DEFAULT '',
    PRIMARY KEY (day, ticket_id, stay)
);
CREATE TABLE report_counts (
    day text NOT NULL,
    service text NOT NULL,
    counter text NOT NULL,
    officer text NOT NULL,
    issued integer NOT NULL DEFAULT 0,
    transferred_in integer NOT NULL DEFAULT 0,
    called integer NOT NULL DEFAULT 0,
    wait_sum bigint NOT NULL DEFAULT 0,
    served integer NOT NULL DEFAULT 0,
    no_show integer NOT NULL DEFAULT 0,
    cancelled integer NOT NULL DEFAULT 0,
    expired integer NOT NULL DEFAULT 0,
    transferred_out integer NOT NULL DEFAULT 0,
    visits integer NOT NULL DEFAULT 0,
    started integer NOT NULL DEFAULT 0,
    walk_sum bigint NOT NULL DEFAULT 0,
    service_sum bigint NOT NULL DEFAULT 0,
    busy_sum bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, service, counter, officer)
);
CREATE TABLE report_counter_days (
    day text NOT NULL,
    counter text NOT NULL,
    first_call_at double precision NOT NULL,
    last_end_at double precision NOT NULL,
    PRIMARY KEY (day, counter)
);
CREATE INDEX report_waits_service ON report_stays (service, wait_s, day, first_counter, first_officer)
    WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_counter ON report_stays (first_counter, wait_s, day, service) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_officer ON report_stays (first_officer, wait_s, day, service) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_all ON report_stays (wait_s, day, service, begin_at) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_day ON report_stays (day, service, wait_s, first_counter, first_officer)
    WHERE wait_s IS NOT NULL;
"""

_ADD_FIRST = """
        INSERT INTO report_counts AS c (day, service, counter, officer, issued, transferred_in, called, wait_sum)
            VALUES (NEW.day, NEW.service, NEW.first_counter, NEW.first_officer, (NEW.kind = 0)::int,
                    (NEW.kind = 1)::int, (NEW.wait_s IS NOT NULL)::int, COALESCE(NEW.wait_s, 0))
            ON CONFLICT (day, service, counter, officer) DO UPDATE SET issued = c.issued + excluded.issued,
                transferred_in = c.transferred_in + excluded.transferred_in, called = c.called + excluded.called,
                wait_sum = c.wait_sum + excluded.wait_sum;"""
_SUB_FIRST = """
        UPDATE report_counts SET issued = issued - (OLD.kind = 0)::int,
                transferred_in = transferred_in - (OLD.kind = 1)::int,
                called = called - (OLD.wait_s IS NOT NULL)::int, wait_sum = wait_sum - COALESCE(OLD.wait_s, 0)
            WHERE day = OLD.day AND service = OLD.service AND counter = OLD.first_counter
            AND officer = OLD.first_officer;"""
_ADD_END = """
        IF NEW.outcome IS NOT NULL THEN
            INSERT INTO report_counts AS c (day, service, counter, officer, served, no_show, cancelled, expired,
                                            transferred_out)
                VALUES (NEW.day, NEW.service, NEW.end_counter, NEW.end_officer, (NEW.outcome = 'done')::int,
                        (NEW.outcome = 'no_show')::int, (NEW.outcome = 'cancelled')::int,
                        (NEW.outcome = 'expired')::int, (NEW.outcome = 'transferred_out')::int)
                ON CONFLICT (day, service, counter, officer) DO UPDATE SET served = c.served + excluded.served,
                    no_show = c.no_show + excluded.no_show, cancelled = c.cancelled + excluded.cancelled,
                    expired = c.expired + excluded.expired,
                    transferred_out = c.transferred_out + excluded.transferred_out;
        END IF;"""
_SUB_END = """
        IF OLD.outcome IS NOT NULL THEN
            UPDATE report_counts SET served = served - (OLD.outcome = 'done')::int,
                    no_show = no_show - (OLD.outcome = 'no_show')::int,
                    cancelled = cancelled - (OLD.outcome = 'cancelled')::int,
                    expired = expired - (OLD.outcome = 'expired')::int,
                    transferred_out = transferred_out - (OLD.outcome = 'transferred_out')::int
                WHERE day = OLD.day AND service = OLD.service AND counter = OLD.end_counter
                AND officer = OLD.end_officer;
        END IF;"""

# The summaries follow every change of a stay: its old contribution taken away, the new one added.
REPORT_SUMMARY_TRIGGERS = f"""
CREATE FUNCTION report_stays_sync() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    first_changed boolean := TG_OP <> 'UPDATE' OR OLD.first_counter IS DISTINCT FROM NEW.first_counter
        OR OLD.first_officer IS DISTINCT FROM NEW.first_officer OR OLD.wait_s IS DISTINCT FROM NEW.wait_s
        OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.service IS DISTINCT FROM NEW.service;
    end_changed boolean := TG_OP <> 'UPDATE' OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.end_counter IS DISTINCT FROM NEW.end_counter OR OLD.end_officer IS DISTINCT FROM NEW.end_officer
        OR OLD.service IS DISTINCT FROM NEW.service;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND first_changed THEN{_SUB_FIRST}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND first_changed THEN{_ADD_FIRST}
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND end_changed THEN{_SUB_END}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND end_changed THEN{_ADD_END}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_stays_sync AFTER INSERT OR UPDATE OR DELETE ON report_stays
    FOR EACH ROW EXECUTE FUNCTION report_stays_sync();
"""

# Stays derived from tickets and the visit log, for the history before the reports' migration.
DERIVED_STAYS = """
WITH v AS (
    SELECT l.id, l.ticket_id, l.service, l.counter_id, COALESCE(l.username, '') AS officer, l.called_at,
           l.ended_at, l.outcome,
           COALESCE(SUM((l.outcome = 'transferred')::int) OVER (PARTITION BY l.ticket_id ORDER BY l.id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS stay
    FROM service_log l),
r AS MATERIALIZED (
    SELECT v.*, ROW_NUMBER() OVER (PARTITION BY ticket_id, stay ORDER BY id) AS nf,
           ROW_NUMBER() OVER (PARTITION BY ticket_id, stay ORDER BY id DESC) AS nl
    FROM v),
s AS (
    SELECT id AS ticket_id, 0 AS stay, issued_at AS begin_at FROM tickets
    UNION ALL
    SELECT ticket_id, stay + 1, ended_at FROM v WHERE outcome = 'transferred'),
x AS (
    SELECT t.day, s.ticket_id, s.stay, COALESCE(f.service, t.service) AS service, (s.stay > 0)::int AS kind,
           s.begin_at,
           CASE WHEN f.id IS NOT NULL THEN f.called_at
                WHEN s.stay = t.transfers AND t.state <> 'waiting' THEN t.called_at END AS first_call_at,
           CASE WHEN f.id IS NOT NULL THEN f.counter_id
                WHEN s.stay = t.transfers AND t.state <> 'waiting' AND t.called_at IS NOT NULL
                THEN COALESCE(t.counter_id, '') ELSE '' END AS first_counter,
           COALESCE(f.officer, '') AS first_officer,
           s.stay < t.transfers OR t.state IN ('done', 'no_show') AS by_visit,
           t.state, t.finished_at, t.counter_id, l.ended_at AS l_ended, l.counter_id AS l_counter,
           l.officer AS l_officer, l.outcome AS l_outcome, s.stay < t.transfers AS left_service
    FROM s JOIN tickets t ON t.id = s.ticket_id
    LEFT JOIN r f ON f.ticket_id = s.ticket_id AND f.stay = s.stay AND f.nf = 1
    LEFT JOIN r l ON l.ticket_id = s.ticket_id AND l.stay = s.stay AND l.nl = 1)
SELECT day, ticket_id, stay, service, kind, begin_at, first_call_at, first_counter, first_officer,
       whole_seconds(first_call_at - begin_at) AS wait_s,
       CASE WHEN left_service THEN 'transferred_out'
            WHEN state IN ('cancelled', 'expired') THEN state
            WHEN by_visit THEN l_outcome END AS outcome,
       CASE WHEN by_visit THEN l_ended WHEN state = 'cancelled' THEN finished_at END AS end_at,
       CASE WHEN by_visit THEN l_counter WHEN state = 'expired' THEN COALESCE(counter_id, '') ELSE '' END
           AS end_counter,
       CASE WHEN by_visit THEN l_officer ELSE '' END AS end_officer
FROM x
"""

REPORT_VISIT_BACKFILL = """
INSERT INTO report_counts AS c (day, service, counter, officer, visits, started, walk_sum, service_sum, busy_sum)
    SELECT day, service, counter_id, COALESCE(username, ''), COUNT(*), COUNT(started_at),
           COALESCE(SUM(whole_seconds(started_at - called_at)), 0),
           COALESCE(SUM(whole_seconds(ended_at - started_at)), 0),
           COALESCE(SUM(whole_seconds(ended_at - called_at)), 0)
    FROM service_log GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, service, counter, officer) DO UPDATE SET visits = c.visits + excluded.visits,
        started = c.started + excluded.started, walk_sum = c.walk_sum + excluded.walk_sum,
        service_sum = c.service_sum + excluded.service_sum, busy_sum = c.busy_sum + excluded.busy_sum;
INSERT INTO report_counter_days (day, counter, first_call_at, last_end_at)
    SELECT day, counter_id, MIN(called_at), MAX(ended_at) FROM service_log GROUP BY 1, 2
    ON CONFLICT DO NOTHING;
"""

# What keeps the stays: a new ticket, its first call, its end while waiting, a requeue, a transfer,
# and every visit logged at a counter (the same rules as SQLite's triggers, one function each).
REPORT_SOURCE_TRIGGERS = """
CREATE FUNCTION report_ticket_issued() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at, outcome, end_at)
        VALUES (NEW.day, NEW.id, NEW.transfers, NEW.service, (NEW.transfers > 0)::int, NEW.issued_at,
                CASE WHEN NEW.state IN ('cancelled', 'expired') THEN NEW.state END,
                CASE WHEN NEW.state = 'cancelled' THEN NEW.finished_at END);
    RETURN NULL;
END $$;
CREATE TRIGGER report_ticket_issued AFTER INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION report_ticket_issued();

CREATE FUNCTION report_ticket_called() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE report_stays SET first_call_at = NEW.called_at, first_counter = COALESCE(NEW.counter_id, ''),
            first_officer = '', wait_s = whole_seconds(NEW.called_at - begin_at)
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers AND first_call_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER report_ticket_called AFTER UPDATE OF state ON tickets
    FOR EACH ROW WHEN (OLD.state = 'waiting' AND NEW.state = 'called') EXECUTE FUNCTION report_ticket_called();

CREATE FUNCTION report_ticket_closed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE report_stays SET outcome = NEW.state,
            end_at = CASE WHEN NEW.state = 'cancelled' THEN NEW.finished_at END,
            end_counter = CASE WHEN OLD.state = 'called' THEN COALESCE(OLD.counter_id, '') ELSE '' END,
            end_officer = ''
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers;
    RETURN NULL;
END $$;
CREATE TRIGGER report_ticket_closed AFTER UPDATE OF state ON tickets
    FOR EACH ROW WHEN (NEW.state IN ('cancelled', 'expired') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION report_ticket_closed();

CREATE FUNCTION report_ticket_requeued() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE report_stays SET outcome = NULL, end_at = NULL, end_counter = '', end_officer = ''
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers;
    RETURN NULL;
END $$;
CREATE TRIGGER report_ticket_requeued AFTER UPDATE OF state ON tickets
    FOR EACH ROW WHEN (OLD.state = 'no_show' AND NEW.state = 'waiting') EXECUTE FUNCTION report_ticket_requeued();

CREATE FUNCTION report_ticket_transferred() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at)
        VALUES (NEW.day, NEW.id, NEW.transfers, NEW.service, 1,
                COALESCE((SELECT end_at FROM report_stays WHERE day = NEW.day AND ticket_id = NEW.id
                          AND stay = OLD.transfers), NEW.issued_at));
    RETURN NULL;
END $$;
CREATE TRIGGER report_ticket_transferred AFTER UPDATE OF transfers ON tickets
    FOR EACH ROW WHEN (NEW.transfers > OLD.transfers) EXECUTE FUNCTION report_ticket_transferred();

CREATE FUNCTION report_visit_logged() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO report_counts AS c (day, service, counter, officer, visits, started, walk_sum, service_sum, busy_sum)
        VALUES (NEW.day, NEW.service, NEW.counter_id, COALESCE(NEW.username, ''), 1,
                (NEW.started_at IS NOT NULL)::int, COALESCE(whole_seconds(NEW.started_at - NEW.called_at), 0),
                COALESCE(whole_seconds(NEW.ended_at - NEW.started_at), 0),
                whole_seconds(NEW.ended_at - NEW.called_at))
        ON CONFLICT (day, service, counter, officer) DO UPDATE SET visits = c.visits + 1,
            started = c.started + excluded.started, walk_sum = c.walk_sum + excluded.walk_sum,
            service_sum = c.service_sum + excluded.service_sum, busy_sum = c.busy_sum + excluded.busy_sum;
    INSERT INTO report_counter_days AS d (day, counter, first_call_at, last_end_at)
        VALUES (NEW.day, NEW.counter_id, NEW.called_at, NEW.ended_at)
        ON CONFLICT (day, counter) DO UPDATE SET first_call_at = LEAST(d.first_call_at, excluded.first_call_at),
            last_end_at = GREATEST(d.last_end_at, excluded.last_end_at);
    UPDATE report_stays SET
            first_call_at = COALESCE(first_call_at, NEW.called_at),
            first_counter = CASE WHEN first_call_at IS NULL THEN NEW.counter_id ELSE first_counter END,
            first_officer = CASE WHEN first_call_at IS NULL OR (first_call_at = NEW.called_at
                                 AND first_counter = NEW.counter_id AND first_officer = '')
                            THEN COALESCE(NEW.username, '') ELSE first_officer END,
            wait_s = COALESCE(wait_s, whole_seconds(NEW.called_at - begin_at)),
            outcome = CASE NEW.outcome WHEN 'transferred' THEN 'transferred_out' ELSE NEW.outcome END,
            end_at = NEW.ended_at, end_counter = NEW.counter_id, end_officer = COALESCE(NEW.username, '')
        WHERE day = NEW.day AND ticket_id = NEW.ticket_id
        AND stay = (SELECT MAX(stay) FROM report_stays WHERE day = NEW.day AND ticket_id = NEW.ticket_id
                    AND service = NEW.service);
    RETURN NULL;
END $$;
CREATE TRIGGER report_visit_logged AFTER INSERT ON service_log FOR EACH ROW EXECUTE FUNCTION report_visit_logged();
"""

REPORT_MIGRATION = (WHOLE_SECONDS + REPORT_TABLES + REPORT_SUMMARY_TRIGGERS
                    + "INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at, first_call_at, "
                      "first_counter, first_officer, wait_s, outcome, end_at, end_counter, end_officer) "
                    + DERIVED_STAYS + ";\n" + REPORT_VISIT_BACKFILL + REPORT_SOURCE_TRIGGERS)
