"""The report tables and the triggers that keep them (the reports' migration; docs/reports.md says what each
number means). These texts are part of an applied migration: never edit them, add a new migration.

Two layers, both kept inside the transaction that changes a ticket, so a report never sees a
summary out of step with the tickets:

1. `report_stays`: one row per *stay*, a ticket's time in one service's queue (from its issue or
   its transfer into the service until it is served, a no-show, cancelled, expired or transferred
   out). Triggers on `tickets` and `service_log` keep it: a new ticket opens stay 0; its first
   call sets the wait (counter known, officer filled in when that visit is logged); a logged
   visit sets the outcome (done, no_show, transferred_out) and the officer; a requeue reopens the
   stay; a transfer opens the next stay, beginning when the transferred visit ended.
2. Summaries of the stays, by generic triggers on `report_stays` (every insert or change takes
   the row's old contribution away and adds the new one): `report_counts` per day x service x
   counter x officer (counts and sums). Visits (walk and service times, busy time) are added to
   `report_counts` by the trigger on `service_log`, and each counter's first call and last visit
   end per day to `report_counter_days`.
3. Partial indexes on the called stays ordered by wait (per service, counter, officer, and all):
   a percentile is the wait at its rank, read by walking one of them in order (docs/reports.md);
   and one by day, for short ranges.

Durations are whole seconds: each one is rounded (halves away from zero) before it is summed,
compared or counted; a negative one (a clock set back) counts as 0.
"""

from __future__ import annotations

REPORT_TABLES = """
CREATE TABLE report_stays (
    day TEXT NOT NULL,
    ticket_id INTEGER NOT NULL,
    stay INTEGER NOT NULL,
    service TEXT NOT NULL,
    kind INTEGER NOT NULL,
    begin_at REAL NOT NULL,
    first_call_at REAL,
    first_counter TEXT NOT NULL DEFAULT '',
    first_officer TEXT NOT NULL DEFAULT '',
    wait_s INTEGER,
    outcome TEXT,
    end_at REAL,
    end_counter TEXT NOT NULL DEFAULT '',
    end_officer TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (day, ticket_id, stay)
) WITHOUT ROWID;
CREATE TABLE report_counts (
    day TEXT NOT NULL,
    service TEXT NOT NULL,
    counter TEXT NOT NULL,
    officer TEXT NOT NULL,
    issued INTEGER NOT NULL DEFAULT 0,
    transferred_in INTEGER NOT NULL DEFAULT 0,
    called INTEGER NOT NULL DEFAULT 0,
    wait_sum INTEGER NOT NULL DEFAULT 0,
    served INTEGER NOT NULL DEFAULT 0,
    no_show INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    transferred_out INTEGER NOT NULL DEFAULT 0,
    visits INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL DEFAULT 0,
    walk_sum INTEGER NOT NULL DEFAULT 0,
    service_sum INTEGER NOT NULL DEFAULT 0,
    busy_sum INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, service, counter, officer)
) WITHOUT ROWID;
CREATE TABLE report_counter_days (
    day TEXT NOT NULL,
    counter TEXT NOT NULL,
    first_call_at REAL NOT NULL,
    last_end_at REAL NOT NULL,
    PRIMARY KEY (day, counter)
) WITHOUT ROWID;
CREATE INDEX report_waits_service ON report_stays (service, wait_s, day, first_counter, first_officer)
    WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_counter ON report_stays (first_counter, wait_s, day, service) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_officer ON report_stays (first_officer, wait_s, day, service) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_all ON report_stays (wait_s, day, service, begin_at) WHERE wait_s IS NOT NULL;
CREATE INDEX report_waits_day ON report_stays (day, service, wait_s, first_counter, first_officer)
    WHERE wait_s IS NOT NULL;
"""

# A stay's contribution: "first" (issued or transferred in, and its wait) under the counter and
# officer of its first call; "end" (its outcome) under the counter and officer that ended it.
_ADD_FIRST = """
    INSERT INTO report_counts (day, service, counter, officer, issued, transferred_in, called, wait_sum)
        VALUES (NEW.day, NEW.service, NEW.first_counter, NEW.first_officer, NEW.kind = 0, NEW.kind = 1,
                NEW.wait_s IS NOT NULL, COALESCE(NEW.wait_s, 0))
        ON CONFLICT DO UPDATE SET issued = issued + excluded.issued,
            transferred_in = transferred_in + excluded.transferred_in, called = called + excluded.called,
            wait_sum = wait_sum + excluded.wait_sum;
"""
_SUB_FIRST = """
    UPDATE report_counts SET issued = issued - (OLD.kind = 0), transferred_in = transferred_in - (OLD.kind = 1),
            called = called - (OLD.wait_s IS NOT NULL), wait_sum = wait_sum - COALESCE(OLD.wait_s, 0)
        WHERE day = OLD.day AND service = OLD.service AND counter = OLD.first_counter AND officer = OLD.first_officer;
"""
_ADD_END = """
    INSERT INTO report_counts (day, service, counter, officer, served, no_show, cancelled, expired, transferred_out)
        SELECT NEW.day, NEW.service, NEW.end_counter, NEW.end_officer, NEW.outcome = 'done',
               NEW.outcome = 'no_show', NEW.outcome = 'cancelled', NEW.outcome = 'expired',
               NEW.outcome = 'transferred_out'
        WHERE NEW.outcome IS NOT NULL
        ON CONFLICT DO UPDATE SET served = served + excluded.served, no_show = no_show + excluded.no_show,
            cancelled = cancelled + excluded.cancelled, expired = expired + excluded.expired,
            transferred_out = transferred_out + excluded.transferred_out;
"""
_SUB_END = """
    UPDATE report_counts SET served = served - (OLD.outcome = 'done'), no_show = no_show - (OLD.outcome = 'no_show'),
            cancelled = cancelled - (OLD.outcome = 'cancelled'), expired = expired - (OLD.outcome = 'expired'),
            transferred_out = transferred_out - (OLD.outcome = 'transferred_out')
        WHERE OLD.outcome IS NOT NULL AND day = OLD.day AND service = OLD.service AND counter = OLD.end_counter
        AND officer = OLD.end_officer;
"""

REPORT_SUMMARY_TRIGGERS = f"""
CREATE TRIGGER report_stay_added AFTER INSERT ON report_stays BEGIN
{_ADD_FIRST}
END;
CREATE TRIGGER report_stay_added_ended AFTER INSERT ON report_stays WHEN NEW.outcome IS NOT NULL BEGIN
{_ADD_END}
END;
CREATE TRIGGER report_stay_first_changed AFTER UPDATE ON report_stays
    WHEN OLD.first_counter IS NOT NEW.first_counter OR OLD.first_officer IS NOT NEW.first_officer
      OR OLD.wait_s IS NOT NEW.wait_s OR OLD.kind IS NOT NEW.kind OR OLD.service IS NOT NEW.service
BEGIN
{_SUB_FIRST}{_ADD_FIRST}
END;
CREATE TRIGGER report_stay_end_changed AFTER UPDATE ON report_stays
    WHEN OLD.outcome IS NOT NEW.outcome OR OLD.end_counter IS NOT NEW.end_counter
      OR OLD.end_officer IS NOT NEW.end_officer OR OLD.service IS NOT NEW.service
BEGIN
{_SUB_END}{_ADD_END}
END;
CREATE TRIGGER report_stay_removed AFTER DELETE ON report_stays BEGIN
{_SUB_FIRST}{_SUB_END}
END;
"""

# Stays derived from tickets and the visit log (used once for the history before the reports' migration; the
# tests hold the triggers to it). A stay ends at each transferred visit; its first call is its
# first visit's call (or the ticket's current call when no visit of it is logged yet).
DERIVED_STAYS = """
WITH v AS (
    SELECT l.id, l.ticket_id, l.service, l.counter_id, COALESCE(l.username, '') AS officer, l.called_at,
           l.ended_at, l.outcome,
           COALESCE(SUM(l.outcome = 'transferred') OVER (PARTITION BY l.ticket_id ORDER BY l.id
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
    SELECT t.day, s.ticket_id, s.stay, COALESCE(f.service, t.service) AS service, s.stay > 0 AS kind,
           s.begin_at,
           CASE WHEN f.id IS NOT NULL THEN f.called_at
                WHEN s.stay = t.transfers AND t.state != 'waiting' THEN t.called_at END AS first_call_at,
           CASE WHEN f.id IS NOT NULL THEN f.counter_id
                WHEN s.stay = t.transfers AND t.state != 'waiting' AND t.called_at IS NOT NULL
                THEN COALESCE(t.counter_id, '') ELSE '' END AS first_counter,
           COALESCE(f.officer, '') AS first_officer,
           s.stay < t.transfers OR t.state IN ('done', 'no_show') AS by_visit,
           t.state, t.finished_at, t.counter_id, l.ended_at AS l_ended, l.counter_id AS l_counter,
           l.officer AS l_officer, l.outcome AS l_outcome, s.stay < t.transfers AS left_service
    FROM s JOIN tickets t ON t.id = s.ticket_id
    LEFT JOIN r f ON f.ticket_id = s.ticket_id AND f.stay = s.stay AND f.nf = 1
    LEFT JOIN r l ON l.ticket_id = s.ticket_id AND l.stay = s.stay AND l.nl = 1)
SELECT day, ticket_id, stay, service, kind, begin_at, first_call_at, first_counter, first_officer,
       MAX(0, CAST(ROUND(first_call_at - begin_at) AS INTEGER)) AS wait_s,
       CASE WHEN left_service THEN 'transferred_out'
            WHEN state IN ('cancelled', 'expired') THEN state
            WHEN by_visit THEN l_outcome END AS outcome,
       CASE WHEN by_visit THEN l_ended WHEN state = 'cancelled' THEN finished_at END AS end_at,
       CASE WHEN by_visit THEN l_counter WHEN state = 'expired' THEN COALESCE(counter_id, '') ELSE '' END
           AS end_counter,
       CASE WHEN by_visit THEN l_officer ELSE '' END AS end_officer
FROM x
"""

# Visits before the reports' migration, into the summaries (what the trigger on service_log adds from now on).
REPORT_VISIT_BACKFILL = """
INSERT INTO report_counts (day, service, counter, officer, visits, started, walk_sum, service_sum, busy_sum)
    SELECT day, service, counter_id, COALESCE(username, ''), COUNT(*), COUNT(started_at),
           TOTAL(MAX(0, CAST(ROUND(started_at - called_at) AS INTEGER))),
           TOTAL(MAX(0, CAST(ROUND(ended_at - started_at) AS INTEGER))),
           TOTAL(MAX(0, CAST(ROUND(ended_at - called_at) AS INTEGER)))
    FROM service_log WHERE true GROUP BY 1, 2, 3, 4
    ON CONFLICT DO UPDATE SET visits = visits + excluded.visits, started = started + excluded.started,
        walk_sum = walk_sum + excluded.walk_sum, service_sum = service_sum + excluded.service_sum,
        busy_sum = busy_sum + excluded.busy_sum;
INSERT INTO report_counter_days (day, counter, first_call_at, last_end_at)
    SELECT day, counter_id, MIN(called_at), MAX(ended_at) FROM service_log WHERE true GROUP BY 1, 2
    ON CONFLICT DO NOTHING;
"""

# What keeps the stays: a new ticket, its first call, its end while waiting (cancelled, expired),
# a requeue, a transfer (the transferred visit is logged before the ticket changes service), and
# every visit logged at a counter.
REPORT_SOURCE_TRIGGERS = """
CREATE TRIGGER report_ticket_issued AFTER INSERT ON tickets BEGIN
    INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at, outcome, end_at)
        VALUES (NEW.day, NEW.id, NEW.transfers, NEW.service, NEW.transfers > 0, NEW.issued_at,
                CASE WHEN NEW.state IN ('cancelled', 'expired') THEN NEW.state END,
                CASE WHEN NEW.state = 'cancelled' THEN NEW.finished_at END);
END;
CREATE TRIGGER report_ticket_called AFTER UPDATE OF state ON tickets
    WHEN OLD.state = 'waiting' AND NEW.state = 'called' BEGIN
    UPDATE report_stays SET first_call_at = NEW.called_at, first_counter = COALESCE(NEW.counter_id, ''),
            first_officer = '', wait_s = MAX(0, CAST(ROUND(NEW.called_at - begin_at) AS INTEGER))
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers AND first_call_at IS NULL;
END;
CREATE TRIGGER report_ticket_closed AFTER UPDATE OF state ON tickets
    WHEN NEW.state IN ('cancelled', 'expired') AND OLD.state != NEW.state BEGIN
    UPDATE report_stays SET outcome = NEW.state,
            end_at = CASE WHEN NEW.state = 'cancelled' THEN NEW.finished_at END,
            end_counter = CASE WHEN OLD.state = 'called' THEN COALESCE(OLD.counter_id, '') ELSE '' END,
            end_officer = ''
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers;
END;
CREATE TRIGGER report_ticket_requeued AFTER UPDATE OF state ON tickets
    WHEN OLD.state = 'no_show' AND NEW.state = 'waiting' BEGIN
    UPDATE report_stays SET outcome = NULL, end_at = NULL, end_counter = '', end_officer = ''
        WHERE day = NEW.day AND ticket_id = NEW.id AND stay = NEW.transfers;
END;
CREATE TRIGGER report_ticket_transferred AFTER UPDATE OF transfers ON tickets
    WHEN NEW.transfers > OLD.transfers BEGIN
    INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at)
        VALUES (NEW.day, NEW.id, NEW.transfers, NEW.service, 1,
                COALESCE((SELECT end_at FROM report_stays WHERE day = NEW.day AND ticket_id = NEW.id
                          AND stay = OLD.transfers), NEW.issued_at));
END;
CREATE TRIGGER report_visit_logged AFTER INSERT ON service_log BEGIN
    INSERT INTO report_counts (day, service, counter, officer, visits, started, walk_sum, service_sum, busy_sum)
        VALUES (NEW.day, NEW.service, NEW.counter_id, COALESCE(NEW.username, ''), 1, NEW.started_at IS NOT NULL,
                COALESCE(MAX(0, CAST(ROUND(NEW.started_at - NEW.called_at) AS INTEGER)), 0),
                COALESCE(MAX(0, CAST(ROUND(NEW.ended_at - NEW.started_at) AS INTEGER)), 0),
                MAX(0, CAST(ROUND(NEW.ended_at - NEW.called_at) AS INTEGER)))
        ON CONFLICT DO UPDATE SET visits = visits + 1, started = started + excluded.started,
            walk_sum = walk_sum + excluded.walk_sum, service_sum = service_sum + excluded.service_sum,
            busy_sum = busy_sum + excluded.busy_sum;
    INSERT INTO report_counter_days (day, counter, first_call_at, last_end_at)
        VALUES (NEW.day, NEW.counter_id, NEW.called_at, NEW.ended_at)
        ON CONFLICT DO UPDATE SET first_call_at = MIN(first_call_at, excluded.first_call_at),
            last_end_at = MAX(last_end_at, excluded.last_end_at);
    UPDATE report_stays SET
            first_call_at = COALESCE(first_call_at, NEW.called_at),
            first_counter = CASE WHEN first_call_at IS NULL THEN NEW.counter_id ELSE first_counter END,
            first_officer = CASE WHEN first_call_at IS NULL OR (first_call_at = NEW.called_at
                                 AND first_counter = NEW.counter_id AND first_officer = '')
                            THEN COALESCE(NEW.username, '') ELSE first_officer END,
            wait_s = COALESCE(wait_s, MAX(0, CAST(ROUND(NEW.called_at - begin_at) AS INTEGER))),
            outcome = CASE NEW.outcome WHEN 'transferred' THEN 'transferred_out' ELSE NEW.outcome END,
            end_at = NEW.ended_at, end_counter = NEW.counter_id, end_officer = COALESCE(NEW.username, '')
        WHERE day = NEW.day AND ticket_id = NEW.ticket_id
        AND stay = (SELECT MAX(stay) FROM report_stays WHERE day = NEW.day AND ticket_id = NEW.ticket_id
                    AND service = NEW.service);
END;
"""
