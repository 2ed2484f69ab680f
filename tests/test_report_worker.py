"""The SQLite store's reports run in a process of their own (kiosk/storage/sqlite/report_reader.py):
a different process at the lowest CPU priority, a report that fails says why, a killed worker is
replaced, a report given up by its caller does not answer the next one, and the worker ends with
the store."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time

import pytest

from kiosk.storage.sqlite.report_reader import ReportReader
from kiosk.storage.sqlite.reports import ReportSql

pytestmark = pytest.mark.sqlite_only


def whereabouts(sql: ReportSql) -> tuple[int, int, int]:
    """(process id, scheduling policy, tickets) as the worker sees them."""
    policy = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else -1
    return os.getpid(), policy, sql.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]


def slow(sql: ReportSql, seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def broken(sql: ReportSql) -> None:
    sql.conn.execute("SELECT * FROM no_such_table")


class Odd(Exception):
    """An error whose class the server cannot rebuild from its pickle (it wants two arguments)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def odd(sql: ReportSql) -> None:
    raise Odd("laporan", "gagal")


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "hall.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO tickets VALUES (?)", [(i,) for i in range(7)])
    return str(path)


async def test_reports_run_in_another_process_at_idle_priority(database):
    reader = ReportReader(database)
    try:
        pid, policy, tickets = await reader.run(whereabouts)
        assert pid != os.getpid() and pid == reader.pid and tickets == 7
        if hasattr(os, "SCHED_IDLE"):
            assert policy == os.SCHED_IDLE
        assert (await reader.run(whereabouts))[0] == pid  # one worker, kept
    finally:
        await reader.close()
    await asyncio.sleep(0)
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the worker ends with the store (bounded wait)
            os.kill(pid, 0)
            await asyncio.sleep(0.1)


async def test_a_failing_report_raises_its_error_and_the_worker_goes_on(database):
    reader = ReportReader(database)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await reader.run(broken)
        assert (await reader.run(whereabouts))[2] == 7
        with pytest.raises(RuntimeError, match="report failed"):
            await reader.run(odd)
        assert (await reader.run(whereabouts))[2] == 7
    finally:
        await reader.close()


async def test_a_killed_worker_is_replaced(database, caplog):
    reader = ReportReader(database)
    try:
        first = (await reader.run(whereabouts))[0]
        os.kill(first, signal.SIGKILL)
        pid, _, tickets = await reader.run(whereabouts)
        assert pid != first and tickets == 7
        assert "report process stopped" in caplog.text
    finally:
        await reader.close()


async def test_a_report_given_up_does_not_answer_the_next_caller(database):
    reader = ReportReader(database)
    try:
        first = (await reader.run(whereabouts))[0]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.run(slow, 5.0), 0.3)
        pid, _, tickets = await reader.run(whereabouts)  # an answer of its own, not "late"
        assert tickets == 7 and pid != first
    finally:
        await reader.close()


async def test_without_a_process_the_worker_is_a_thread(database, monkeypatch):
    monkeypatch.setenv("GILIRAN_REPORT_PROCESS", "0")
    reader = ReportReader(database)
    try:
        pid, policy, tickets = await reader.run(whereabouts)
        assert pid == os.getpid() and tickets == 7 and reader.pid is None
        if hasattr(os, "SCHED_IDLE"):  # a thread holding the server's GIL is never idle-only (nice 10)
            assert policy == os.SCHED_OTHER
    finally:
        await reader.close()
