"""Benchmark: reports on a year of history (about 1,000,000 tickets), and ticket issue while they run.

1. `giliran demo-history --days 365` fills a fresh database for a hall of 100 services in 20
   agencies and 120 counters (about 4,000 tickets on a busy weekday);
2. the real server (`giliran serve`) answers `GET /api/reports/summary` for the last month and the
   last year, by every grouping, several times each (the first answer of each is shown apart: cold);
3. ticket issue at 32 clients for N seconds alone, then for N seconds while another client asks
   for year-long reports back to back; the ratio is the share of its throughput issue keeps.

Targets (issue 18): a month < 300 ms, a year < 2 s, issue keeps >= 90% of its throughput.
Run: python -m benchmarks.reports_bench [--days 365] [--per-day 4000] [--seconds 15] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.loadgen import Connection, hammer
from benchmarks.suite import PASSWORD, token
from tests.server_process import ServerProcess, run_cli

AGENCIES, PER_AGENCY, COUNTERS = 20, 5, 120
GROUPS = ("service", "agency", "counter", "officer", "day", "hour")
CODES = [chr(65 + i // 26) + chr(65 + i % 26) for i in range(AGENCIES * PER_AGENCY)]


def issue_request(worker: int, n: int):
    return "POST", "/api/tickets", {"service": CODES[(worker * 7 + n) % len(CODES)]}, None


def hall_toml() -> str:
    """100 services (codes AA..) in 20 agencies; 6 counters per agency, each calling 2-3 of its services."""
    lines = ['[hall]\nname = "MPP Bench Laporan"\ntimezone = "Asia/Jakarta"\npublic_url = "http://127.0.0.1"\n',
             "[limits]\ntickets_per_minute = 100000000\nticket_burst = 100000000\n"]
    codes = CODES
    for a in range(AGENCIES):
        lines.append(f'[[agencies]]\ncode = "AG{a:02d}"\nname = "Instansi {a + 1}"\n')
    for i, code in enumerate(codes):
        lines.append(f'[[services]]\ncode = "{code}"\nname = "Layanan {code}"\nagency = "AG{i // PER_AGENCY:02d}"\n'
                     f"service_minutes = {5 + i % 5}\n")
    per_agency = COUNTERS // AGENCIES
    for c in range(COUNTERS):
        a = c // per_agency
        own = codes[a * PER_AGENCY:(a + 1) * PER_AGENCY]
        chosen = [own[(c + k) % PER_AGENCY] for k in range(2 + c % 2)]
        lines.append(f'[[counters]]\nid = "{c + 1}"\nname = "Loket {c + 1}"\nservices = {json.dumps(chosen)}\n')
    return "\n".join(lines)


def db_size(db: Path) -> int:
    """Bytes of the database and its WAL."""
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


async def timed_get(conn: Connection, path: str, headers: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, status, body bytes) of one request."""
    started = time.perf_counter()
    status, body = await conn.request("GET", path, None, headers)
    return time.perf_counter() - started, status, len(body)


async def report_times(url: str, headers: dict[str, str], ranges: dict[str, tuple[date, date]],
                       repeat: int) -> dict[str, dict[str, dict[str, float]]]:
    host, _, port = url.removeprefix("http://").partition(":")
    conn = Connection(host, int(port))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for label, (first, last) in ranges.items():
        out[label] = {}
        for by in GROUPS:
            path = f"/api/reports/summary?from={first}&to={last}&by={by}"
            times = []
            for _ in range(repeat + 1):
                seconds, status, _ = await timed_get(conn, path, headers)
                assert status == 200, (path, status)
                times.append(seconds)
            out[label][by] = {"cold_ms": round(1000 * times[0], 1),
                              "median_ms": round(1000 * statistics.median(times[1:]), 1),
                              "max_ms": round(1000 * max(times[1:]), 1)}
            print(label, by, out[label][by], flush=True)
        for suffix in (".csv", ".xlsx"):
            seconds, status, size = await timed_get(conn, f"/api/reports/summary{suffix}?from={first}&to={last}"
                                                          f"&by=service", headers)
            assert status == 200
            out[label][suffix] = {"ms": round(1000 * seconds, 1), "bytes": size}
        seconds, status, size = await timed_get(conn, f"/api/reports/workbook.xlsx?from={first}&to={last}", headers)
        out[label]["workbook"] = {"ms": round(1000 * seconds, 1), "bytes": size}
    conn.close()
    return out


async def issue_under_reports(url: str, headers: dict[str, str], year: tuple[date, date], seconds: float
                              ) -> dict[str, float]:
    """Ticket issue at 32 clients alone, then while year-long reports run back to back."""
    alone = await hammer(url, 32, seconds, issue_request)
    stop = asyncio.Event()
    done: list[float] = []

    async def reports() -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        conn = Connection(host, int(port))
        n = 0
        while not stop.is_set():
            by = GROUPS[n % 4]  # service, agency, counter, officer
            elapsed, status, _ = await timed_get(conn, f"/api/reports/summary?from={year[0]}&to={year[1]}&by={by}",
                                                 headers)
            assert status == 200
            done.append(elapsed)
            n += 1
        conn.close()

    runner = asyncio.create_task(reports())
    await asyncio.sleep(0.5)  # the reports are running when issue starts
    loaded = await hammer(url, 32, seconds, issue_request)
    stop.set()
    await runner
    return {"alone_tickets_per_s": round(alone.throughput, 1), "alone_p99_ms": round(alone.pct(99), 2),
            "with_reports_tickets_per_s": round(loaded.throughput, 1), "with_reports_p99_ms": round(loaded.pct(99), 2),
            "ratio": round(loaded.throughput / alone.throughput, 3), "year_reports_done": len(done),
            "year_report_median_ms_meanwhile": round(1000 * statistics.median(done), 1) if done else None}


async def bench(days: int, per_day: int, seconds: float, repeat: int, keep: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep or tmp)
        config, db = root / "hall.toml", root / "giliran.sqlite3"
        reuse = keep is not None and await asyncio.to_thread(db.exists)
        started = time.perf_counter()
        if not reuse:
            config.write_text(hall_toml(), encoding="utf-8")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kiosk", "demo-history", "--days", str(days), "--per-day", str(per_day),
                "--config", str(config), "--db", str(db), stdout=asyncio.subprocess.PIPE,
                env=os.environ | {"GILIRAN_LOG_LEVEL": "WARNING"})
            out, _ = await proc.communicate()
            assert proc.returncode == 0
            history = out.decode().strip().splitlines()[-1]
            (root / "history.txt").write_text(history)
            code, _, err = await run_cli("user", "add", "bench", "--role", "supervisor", "--password-stdin",
                                         "--config", str(config), "--db", str(db), stdin=PASSWORD + "\n")
            assert code == 0, err
        else:
            history = (root / "history.txt").read_text() + " (kept from an earlier run)"
        generated = time.perf_counter() - started
        print(history, f"({generated:.0f} s)", flush=True)
        server = ServerProcess(config, db, env={"GILIRAN_LOG_LEVEL": "WARNING"})
        await server.start(timeout=120)
        try:
            headers = await token(server.url)
            today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
            last = today - timedelta(days=1)
            ranges = {"month": (last - timedelta(days=29), last), "year": (today - timedelta(days=365), last)}
            times = await report_times(server.url, headers, ranges, repeat)
            issue = await issue_under_reports(server.url, headers, ranges["year"], seconds)
            print("issue", issue, flush=True)
        finally:
            await server.stop()
        size_mb = round(await asyncio.to_thread(db_size, db) / 2**20)
    return {"history": history, "generated_s": round(generated), "db_mb": size_mb,
            "reports": times, "issue": issue}


def report(result: dict[str, object]) -> str:
    times = result["reports"]
    assert isinstance(times, dict)
    lines = [f"Reports on a year of history: {result['history']} (generated in {result['generated_s']} s; "
             f"database {result['db_mb']} MB)", "",
             "| range | by | first (cold) ms | median ms | max ms |", "|---|---|---:|---:|---:|"]
    for label, rows in times.items():
        for by in GROUPS:
            r = rows[by]
            lines.append(f"| {label} | {by} | {r['cold_ms']} | {r['median_ms']} | {r['max_ms']} |")
    for label, rows in times.items():
        lines.append(f"\n{label}: CSV {rows['.csv']['ms']} ms ({rows['.csv']['bytes']} bytes), XLSX "
                     f"{rows['.xlsx']['ms']} ms, the workbook of everything /laporan shows "
                     f"{rows['workbook']['ms']} ms")
    issue = result["issue"]
    assert isinstance(issue, dict)
    lines.append(f"\nTicket issue at 32 clients: {issue['alone_tickets_per_s']} tickets/s alone (p99 "
                 f"{issue['alone_p99_ms']} ms), {issue['with_reports_tickets_per_s']} while year reports ran back "
                 f"to back (p99 {issue['with_reports_p99_ms']} ms): ratio {issue['ratio']}; "
                 f"{issue['year_reports_done']} year reports meanwhile, median "
                 f"{issue['year_report_median_ms_meanwhile']} ms")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--keep", help="a folder for the history, kept and reused by the next run (issued tickets "
                                       "of a run stay in it)")
    args = parser.parse_args()
    result = asyncio.run(bench(args.days, args.per_day, args.seconds, args.repeat, args.keep))
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
