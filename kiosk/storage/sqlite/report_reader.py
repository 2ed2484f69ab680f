"""Where reports run: a process of their own, with a read-only SQLite connection, at a lower CPU priority.

A year-long report is a second or so of SQLite walking hundreds of megabytes of indexes. In the
server's own process that work competed with ticket issue beyond what its lower priority could
stop: the report thread took Python's GIL back after every SQLite step, and both connections shared
SQLite's process-wide locks (`benchmarks/reports_bench.py`: issue kept 59-72% of its throughput
while year reports ran back to back, whatever the thread's nice value). In a process of its own
(a fresh interpreter, `python -m kiosk.storage.sqlite.report_reader`, never a fork of the running
server, and one that imports nothing of the program that started it) nothing of that is shared: the only cost left is
CPU, which its nice value governs, and the database pages it reads through a memory map instead of
copying them. Each call is one read transaction (a snapshot), opened and committed in the worker.

`GILIRAN_REPORT_PROCESS=0` keeps the worker a thread of the server (as does an in-memory database,
which another process cannot open); `GILIRAN_REPORT_PRIORITY` sets its CPU priority: `idle` (the
default, Linux SCHED_IDLE: only CPU time nothing else wants), a nice value, or 0 for the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import pickle
import signal
import sqlite3
import struct
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from kiosk.storage.sqlite.reports import ReportSql

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
# "idle", a nice value, or 0 (GILIRAN_REPORT_NICE, its name before the report process, still counts)
REPORT_PRIORITY = os.environ.get("GILIRAN_REPORT_PRIORITY", os.environ.get("GILIRAN_REPORT_NICE", "idle"))
THREAD_NICE = 10  # a worker thread of the server is never SCHED_IDLE (see _lower_priority)
MMAP_BYTES = 1 << 31  # the database read through a memory map, up to 2 GiB (pages are not copied per read)
_worker = threading.local()  # the worker's ReportSql (one per worker thread or process)


def _lower_priority(thread: bool) -> None:
    """Lower this worker's CPU priority (Linux applies it per thread): `idle` (SCHED_IDLE, the default)
    runs it only on CPU time nothing else wants; a number is a nice value; 0 keeps the server's. A
    worker that is a thread of the server gets nice 10 for `idle`: it holds the server's GIL between
    SQLite steps, and an idle thread holding it would stall the event loop while the CPU is busy."""
    try:
        if REPORT_PRIORITY == "idle" and not thread:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        elif (nice := THREAD_NICE if REPORT_PRIORITY == "idle" else int(REPORT_PRIORITY)) > 0:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError, ValueError):  # another system, not allowed, or a typo: reports still run
        log.warning("the report worker keeps the server's CPU priority (GILIRAN_REPORT_PRIORITY=%s)", REPORT_PRIORITY)


def _open(path: str, thread: bool) -> None:
    """The worker's start: its priority, then its connection, read-only on the database file (its
    own temporary tables may be written)."""
    _lower_priority(thread)
    target = path if path == ":memory:" else f"file:{Path(path).resolve()}?mode=ro"
    conn = sqlite3.connect(target, uri=path != ":memory:", check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA cache_size = -32000")  # 32 MB of pages: the indexes a year walks stay in memory
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    _worker.sql = ReportSql(conn)


def _in_snapshot(work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    """Run `work(sql, *args)` in the worker, inside one read transaction."""
    sql: ReportSql = _worker.sql
    sql.conn.execute("BEGIN")
    try:
        return work(sql, *args, **kwargs)
    finally:
        sql.conn.execute("COMMIT")


def _close() -> None:
    sql: ReportSql | None = getattr(_worker, "sql", None)
    if sql is not None:
        sql.conn.close()
        _worker.sql = None


def in_process(path: str) -> bool:
    """Whether reports of this database run in a process of their own."""
    return path != ":memory:" and os.environ.get("GILIRAN_REPORT_PROCESS", "1") != "0"


class ReportWorkerStopped(RuntimeError):
    """The report process ended (killed, out of memory) before it answered."""


_HEAD = struct.Struct(">I")  # each message: its length, then the pickled (work, args, kwargs) or reply


class _Process:
    """The report process and its pipes: one request, then its reply (pickles of our own child)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, path: str) -> _Process:
        env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # what this process imports
        proc = await asyncio.create_subprocess_exec(  # -P: not the current folder first, the path above
            sys.executable, "-P", "-m", "kiosk.storage.sqlite.report_reader", path,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
        return cls(proc)

    async def call(self, request: tuple[Any, ...]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        data = pickle.dumps(request)
        try:
            self.proc.stdin.write(_HEAD.pack(len(data)) + data)
            await self.proc.stdin.drain()
            (size,) = _HEAD.unpack(await self.proc.stdout.readexactly(_HEAD.size))
            reply = await self.proc.stdout.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            code = self.proc.returncode
            raise ReportWorkerStopped(f"the report process stopped (exit status {code}; its error is in the "
                                      "server's log)") from exc
        try:
            status, value = pickle.loads(reply)
        except Exception as exc:  # an error the server cannot rebuild (its class wants other arguments)
            raise RuntimeError(f"the report failed: {exc!r}") from None
        if status == "error":
            raise value
        return value

    def kill(self) -> None:
        """End the process now (a report no caller waits for), and its pipes."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        if self.proc.stdin is not None:
            self.proc.stdin.close()

    async def stop(self) -> None:
        """End the process: its input closed (it exits after the report under way), or killed."""
        if self.proc.returncode is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class ReportReader:
    """The report worker of one database: started on first use, one report at a time."""

    def __init__(self, path: str) -> None:
        self.path = path if path == ":memory:" else os.path.abspath(path)  # a later chdir changes nothing
        self._process: _Process | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()

    async def run(self, work: Callable[Concatenate[ReportSql, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(sql, *args)` (a function of module level or a method of ReportSql: it travels to the
        worker by name) in one snapshot of the report connection. A report process that died is
        replaced once; a report given up by its caller stops its process (the next one starts anew)."""
        async with self._lock:
            if not in_process(self.path):
                if self._thread is None:
                    self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports", initializer=_open,
                                                      initargs=(self.path, True))
                call = functools.partial(_in_snapshot, work, args, kwargs)
                return await asyncio.get_running_loop().run_in_executor(self._thread, call)
            for attempt in (1, 2):
                if self._process is None:
                    self._process = await _Process.start(self.path)
                try:
                    result: T = await self._process.call((work, args, kwargs))
                    return result
                except ReportWorkerStopped:
                    process, self._process = self._process, None
                    process.kill()
                    if attempt == 2:
                        raise
                    log.warning("the report process stopped; starting another")
                except asyncio.CancelledError:  # its reply would come to the next caller: end it
                    process, self._process = self._process, None
                    process.kill()
                    raise
            raise AssertionError("unreachable")

    @property
    def pid(self) -> int | None:
        """The report process's id, once started."""
        return None if self._process is None else self._process.proc.pid

    async def close(self) -> None:
        """Close the connection and stop the worker."""
        async with self._lock:  # after the report under way
            if self._process is not None:
                process, self._process = self._process, None
                await process.stop()
            if self._thread is not None:
                thread, self._thread = self._thread, None
                await asyncio.get_running_loop().run_in_executor(thread, _close)
                thread.shutdown(wait=False)


def main() -> None:
    """The report process: requests on standard input, replies on a private copy of standard output
    (the real one goes to standard error, so nothing printed can break a reply)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal: the server ends it
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    logging.basicConfig(level=os.environ.get("GILIRAN_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    _open(sys.argv[1], thread=False)
    while len(head := requests.read(_HEAD.size)) == _HEAD.size:  # until the server closes the pipe
        (size,) = _HEAD.unpack(head)
        work, args, kwargs = pickle.loads(requests.read(size))
        try:
            reply = pickle.dumps(("ok", _in_snapshot(work, args, kwargs)))
        except Exception as exc:  # the caller gets it raised
            try:
                reply = pickle.dumps(("error", exc))
            except Exception:
                reply = pickle.dumps(("error", RuntimeError(repr(exc))))
        replies.write(_HEAD.pack(len(reply)) + reply)
        replies.flush()
    _close()
    replies.close()


if __name__ == "__main__":
    main()
