"""The SQLite schema, as numbered migrations applied in order (PRAGMA user_version counts them).

A new table or column is a new entry at the end; an applied entry is never edited.
"""

from __future__ import annotations

import sqlite3

from kiosk.storage.sqlite.report_hours import HOURS_MIGRATION
from kiosk.storage.sqlite.report_schema import (
    DERIVED_STAYS,
    REPORT_SOURCE_TRIGGERS,
    REPORT_SUMMARY_TRIGGERS,
    REPORT_TABLES,
    REPORT_VISIT_BACKFILL,
)

MIGRATIONS: tuple[str, ...] = (
    # 1: tickets, counters, staff, events, audit
    """
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        day TEXT NOT NULL,
        prefix TEXT NOT NULL,
        seq INTEGER NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        priority_reason TEXT,
        state TEXT NOT NULL,
        issued_at REAL NOT NULL,
        called_at REAL,
        started_at REAL,
        finished_at REAL,
        counter_id TEXT,
        recalls INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0,
        phone TEXT,
        kiosk TEXT,
        UNIQUE (day, prefix, seq)
    );
    CREATE INDEX tickets_queue ON tickets (day, state, service, priority, id);
    CREATE INDEX tickets_counter ON tickets (counter_id, state);
    CREATE TABLE service_log (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        counter_id TEXT NOT NULL,
        username TEXT,
        called_at REAL NOT NULL,
        started_at REAL,
        ended_at REAL NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX service_log_day ON service_log (day, service, outcome, ended_at);
    CREATE TABLE counter_state (
        counter_id TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        priority_streak INTEGER NOT NULL DEFAULT 0,
        active_day TEXT
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        counters TEXT NOT NULL DEFAULT '[]',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        username TEXT,
        action TEXT NOT NULL,
        counter_id TEXT,
        ticket_number TEXT,
        detail TEXT
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 2: durable print jobs
    """
    CREATE TABLE print_jobs (
        id INTEGER PRIMARY KEY,
        printer_id TEXT NOT NULL,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        kind TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        partial INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL
    );
    CREATE INDEX print_jobs_pending ON print_jobs (printer_id, state, id);
    """,
    # 3: settings changed at run time (display running text)
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        updated_by TEXT
    );
    """,
    # 4: turn alerts: who follows a ticket, and the durable outbox of messages
    """
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL,
        UNIQUE (ticket_id, channel, address)
    );
    CREATE INDEX subscriptions_address ON subscriptions (channel, address);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        stage TEXT NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        text TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL
    );
    CREATE INDEX outbox_pending ON outbox (state, id);
    CREATE INDEX outbox_ticket ON outbox (ticket_id, stage);
    """,
    # 5: per day, waiting tickets per service and tickets counting against the quota per prefix,
    # kept by triggers so the hot path reads two numbers instead of counting the day's tickets.
    """
    CREATE TABLE day_counts (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        waiting INTEGER NOT NULL DEFAULT 0,
        issued INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, code)
    ) WITHOUT ROWID;
    INSERT INTO day_counts (day, code, waiting, issued)
        SELECT day, code, SUM(waiting), SUM(issued) FROM (
            SELECT day, service AS code, state = 'waiting' AS waiting, 0 AS issued FROM tickets
            UNION ALL
            SELECT day, prefix AS code, 0 AS waiting, state != 'cancelled' AS issued FROM tickets)
        GROUP BY day, code;
    CREATE TRIGGER day_counts_insert AFTER INSERT ON tickets BEGIN
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.service);
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.prefix);
        UPDATE day_counts SET waiting = waiting + (NEW.state = 'waiting') WHERE day = NEW.day AND code = NEW.service;
        UPDATE day_counts SET issued = issued + (NEW.state != 'cancelled') WHERE day = NEW.day AND code = NEW.prefix;
    END;
    CREATE TRIGGER day_counts_update AFTER UPDATE OF state, service ON tickets BEGIN
        INSERT OR IGNORE INTO day_counts (day, code) VALUES (NEW.day, NEW.service);
        UPDATE day_counts SET waiting = waiting - (OLD.state = 'waiting') WHERE day = OLD.day AND code = OLD.service;
        UPDATE day_counts SET waiting = waiting + (NEW.state = 'waiting') WHERE day = NEW.day AND code = NEW.service;
        UPDATE day_counts SET issued = issued - (OLD.state != 'cancelled') + (NEW.state != 'cancelled')
            WHERE day = NEW.day AND code = NEW.prefix;
    END;
    CREATE TRIGGER day_counts_delete AFTER DELETE ON tickets BEGIN
        UPDATE day_counts SET waiting = waiting - (OLD.state = 'waiting') WHERE day = OLD.day AND code = OLD.service;
        UPDATE day_counts SET issued = issued - (OLD.state != 'cancelled') WHERE day = OLD.day AND code = OLD.prefix;
    END;
    """,
    # 6: a ticket's place in its queue (the moment it joined it; ties go to the older ticket): the
    # order no longer has to be the order of issue (a booking joins at its slot, a deferral moves back).
    """
    ALTER TABLE tickets ADD COLUMN place REAL NOT NULL DEFAULT 0;
    UPDATE tickets SET place = issued_at;
    DROP INDEX tickets_queue;
    CREATE INDEX tickets_queue ON tickets (day, state, service, priority, place);
    """,
    # 7: citizens who answer back and a third channel (WhatsApp). The outbox also carries messages
    # that are about no ticket (a reply to a number that follows none, a note to staff), a JSON
    # `data` (buttons, template parameters) and the provider's message id (for delivery reports);
    # each channel reads its own pending messages. Messages that came in, once each by their
    # provider id. A ticket remembers that its citizen used their one deferral (TUNDA).
    """
    CREATE TABLE outbox_new (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER REFERENCES tickets (id),
        stage TEXT NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        text TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL,
        data TEXT,
        provider_id TEXT
    );
    INSERT INTO outbox_new (id, ticket_id, stage, channel, address, text, key, state, attempts, next_attempt_at,
                            last_error, created_at, sent_at)
        SELECT id, ticket_id, stage, channel, address, text, key, state, attempts, next_attempt_at, last_error,
               created_at, sent_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_new RENAME TO outbox;
    CREATE INDEX outbox_pending ON outbox (channel, state, id);
    CREATE INDEX outbox_ticket ON outbox (ticket_id, stage);
    CREATE INDEX outbox_provider ON outbox (channel, provider_id) WHERE provider_id IS NOT NULL;
    CREATE TABLE inbound (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        external_id TEXT NOT NULL,
        text TEXT NOT NULL,
        received_at REAL NOT NULL,
        handled_at REAL,
        UNIQUE (channel, external_id)
    );
    CREATE INDEX inbound_address ON inbound (channel, address, received_at);
    ALTER TABLE tickets ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
    """,
    # 8: reports (docs/reports.md): one row per stay of a ticket in a service's queue, kept by
    # triggers on tickets and service_log in the same transactions; summaries of the stays and
    # visits per day x service x counter x officer (counts, sums) kept by triggers on the stays;
    # indexes of the called stays by wait. Earlier history is derived once, here.
    REPORT_TABLES + REPORT_SUMMARY_TRIGGERS
    + f"INSERT INTO report_stays (day, ticket_id, stay, service, kind, begin_at, first_call_at, first_counter, "
      f"first_officer, wait_s, outcome, end_at, end_counter, end_officer) {DERIVED_STAYS};\n"
    + REPORT_VISIT_BACKFILL + REPORT_SOURCE_TRIGGERS,
    # 9: staff limited to some agencies (a supervisor sees only their agencies' reports)
    """
    ALTER TABLE users ADD COLUMN agencies TEXT NOT NULL DEFAULT '[]';
    """,
    # 10: when the kiosk told the citizen a ticket was not printed ("belum tercetak"): such a job is
    # then printed late, marked so, or dropped, as the hall's [tickets] late_print says.
    """
    ALTER TABLE print_jobs ADD COLUMN told_unprinted_at REAL;
    """,
    # 11: the online queue (docs/booking.md): bookings of a slot and numbers taken from home (kind
    # 'remote'), each with a pseudonym of the verified identity that took it (for the limits), its
    # phone or chat until its day is over (for reminders), and the ticket it became; one-time codes
    # sent to phones (only their HMAC kept) and the identities they confirmed.
    """
    CREATE TABLE bookings (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        slot_start REAL,
        slot_label TEXT,
        identity TEXT NOT NULL,
        contact TEXT,
        state TEXT NOT NULL,
        created_at REAL NOT NULL,
        ticket_id INTEGER REFERENCES tickets (id),
        checked_in_at REAL,
        ended_at REAL,
        reminded_day INTEGER NOT NULL DEFAULT 0,
        reminded_hour INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX bookings_slot ON bookings (service, day, state, slot_start);
    CREATE INDEX bookings_identity ON bookings (identity, service, day);
    CREATE INDEX bookings_open ON bookings (state, day);
    CREATE INDEX bookings_ticket ON bookings (ticket_id) WHERE ticket_id IS NOT NULL;
    CREATE TABLE verifications (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        phone TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        confirmed_at REAL
    );
    CREATE INDEX verifications_phone ON verifications (phone, created_at);
    CREATE TABLE identities (
        token_hash TEXT PRIMARY KEY,
        identity TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # 12: the satisfaction survey (SKM, docs/survey.md): one response per served ticket, its answers
    # to U1-U9 (1-4; NULL where a partial response stopped), the optional respondent profile and
    # suggestion, where it was given; the service, agency, counter and officer of the visit are
    # copied in, so the IKM per group reads this table alone (never a phone or a chat).
    """
    CREATE TABLE survey_responses (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL UNIQUE REFERENCES tickets (id),
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        agency TEXT NOT NULL,
        counter_id TEXT,
        officer TEXT,
        u1 INTEGER CHECK (u1 BETWEEN 1 AND 4),
        u2 INTEGER CHECK (u2 BETWEEN 1 AND 4),
        u3 INTEGER CHECK (u3 BETWEEN 1 AND 4),
        u4 INTEGER CHECK (u4 BETWEEN 1 AND 4),
        u5 INTEGER CHECK (u5 BETWEEN 1 AND 4),
        u6 INTEGER CHECK (u6 BETWEEN 1 AND 4),
        u7 INTEGER CHECK (u7 BETWEEN 1 AND 4),
        u8 INTEGER CHECK (u8 BETWEEN 1 AND 4),
        u9 INTEGER CHECK (u9 BETWEEN 1 AND 4),
        gender TEXT,
        age INTEGER,
        education TEXT,
        occupation TEXT,
        comment TEXT,
        channel TEXT NOT NULL,
        complete INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX survey_responses_day ON survey_responses (day, service);
    """,
    # 13: the reports' hourly summary (report_hours.py): per day x service x UTC hour, arrivals and waits
    # by the hour a stay began, outcomes by the hour it ended, visits by the hour of the call; kept by
    # triggers on the stays and the visit log, earlier history summed once here.
    HOURS_MIGRATION,
)


def statements(script: str) -> list[str]:
    """A migration script cut into statements (a trigger's body keeps its semicolons)."""

    statements, buffer = [], ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    return statements
