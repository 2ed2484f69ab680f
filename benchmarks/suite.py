"""`make bench`: Giliran measured against baselines taken in the same run, on this machine.

Every scenario starts the real server (`giliran serve`) as a subprocess with a fresh database and
drives it over loopback from this process. The baselines (benchmarks/baseline.py) are driven by
the same load generator, so a faster or slower machine does not change the verdict.

Run: python -m benchmarks.suite [--seconds 20] [--only issue,next,display,status,day,startup]
Results: benchmarks/results/latest.md and latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.display_bench import bench as display_bench
from benchmarks.display_bench import rss_mb
from benchmarks.loadgen import Connection, Result, hammer
from tests.server_process import ServerProcess, run_cli

RESULTS = Path(__file__).parent / "results"
PASSWORD = "rahasia-bench"
SERVICES = ("A", "B", "C", "D")
COUNTERS = 40

# The bench hall: four services, forty counters; only the flood limit is raised (as the issue allows).
HALL = """
[hall]
name = "MPP Bench"
timezone = "Asia/Jakarta"
public_url = "http://127.0.0.1"

[limits]
tickets_per_minute = 100000000
ticket_burst = 100000000
connections_per_address = 100000  # the load comes from one address

[[agencies]]
code = "DUKCAPIL"
name = "Disdukcapil"
""" + "".join(f'\n[[services]]\ncode = "{s}"\nname = "Layanan {s}"\nagency = "DUKCAPIL"\n' for s in SERVICES) + "".join(
    f'\n[[counters]]\nid = "{i}"\nname = "Loket {i}"\nservices = ["A", "B", "C", "D"]\n' for i in range(1, COUNTERS + 1))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Hall:
    """A fresh database and hall file in a temporary folder, with a supervisor account."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.dir.mkdir()
        self.config = self.dir / "hall.toml"
        self.config.write_text(HALL)
        self.db = self.dir / "giliran.sqlite3"

    async def server(self) -> ServerProcess:
        code, _, err = await run_cli("user", "add", "bench", "--role", "supervisor", "--password-stdin",
                                     "--config", str(self.config), "--db", str(self.db), stdin=PASSWORD + "\n")
        assert code == 0, err
        server = ServerProcess(self.config, self.db, env={"GILIRAN_LOG_LEVEL": "WARNING"})
        await server.start()
        return server


async def token(url: str) -> dict[str, str]:
    host, _, port = url.removeprefix("http://").partition(":")
    conn = Connection(host, int(port))
    status, body = await conn.request("POST", "/api/login",
                                      json.dumps({"username": "bench", "password": PASSWORD}).encode())
    conn.close()
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


def issue_request(worker: int, n: int):
    return "POST", "/api/tickets", {"service": SERVICES[(worker + n) % len(SERVICES)]}, None


def row(result: Result) -> dict[str, Any]:
    return {"requests_per_s": round(result.throughput, 1), "p50_ms": round(result.pct(50), 2),
            "p99_ms": round(result.pct(99), 2), "ok": result.ok,
            "errors": {str(k): v for k, v in result.statuses.items() if k not in (200, 201, 204)}}


# --- scenarios ---------------------------------------------------------------------------------------
async def scenario_issue(root: Path, seconds: float) -> dict[str, Any]:
    """Ticket issue against baselines A and B at 32 and 128 concurrent clients."""
    out: dict[str, Any] = {}
    for name in ("baseline_a", "baseline_b", "giliran"):
        hall = Hall(root, f"issue-{name}")
        if name == "giliran":
            server = await hall.server()
        else:
            server = ServerProcess(hall.config, hall.db, argv=["-m", "benchmarks.baseline", "--mode", name[-1],
                                                                "--db", str(hall.db)])
            await server.start()
        out[name] = {}
        for concurrency in (32, 128):
            result = await hammer(server.url, concurrency, seconds, issue_request)
            out[name][str(concurrency)] = row(result)
        await server.stop()
    if out["giliran"]["32"]["ok"]:
        with sqlite3.connect(root / "issue-giliran" / "giliran.sqlite3") as conn:
            stored = conn.execute("SELECT COUNT(*), COUNT(DISTINCT number || day) FROM tickets").fetchone()
        total = sum(out["giliran"][c]["ok"] for c in ("32", "128"))
        out["giliran"]["stored"] = {"acknowledged": total, "in_database": stored[0], "distinct_numbers": stored[1]}
    for c in ("32", "128"):
        g = out["giliran"][c]["requests_per_s"]
        out["giliran"][c]["vs_a"] = round(g / out["baseline_a"][c]["requests_per_s"], 2)
        out["giliran"][c]["vs_b"] = round(g / out["baseline_b"][c]["requests_per_s"], 2)
    return out


async def issue_n(url: str, tickets: int, concurrency: int = 32) -> Result:
    """Issue exactly `tickets` tickets as fast as the server takes them."""
    left = [tickets]

    def make(worker: int, n: int):
        left[0] -= 1
        return issue_request(worker, n)

    return await hammer(url, concurrency, 600, make, stop_on=lambda status, body: left[0] <= 0)


async def scenario_next(root: Path, tickets: int = 4000) -> dict[str, Any]:
    """40 counters pressing "next" at once until the queue is empty: every ticket called once."""
    hall = Hall(root, "next")
    server = await hall.server()
    await issue_n(server.url, tickets)
    headers = await token(server.url)

    def make(worker: int, n: int):
        return "POST", f"/api/counters/{worker + 1}/next", None, headers

    result = await hammer(server.url, COUNTERS, 300, make, keep_bodies=True,
                          stop_on=lambda status, body: status == 204)
    await server.stop()
    called = Counter(json.loads(b)["ticket"]["number"] for b in result.bodies if b)
    return row(result) | {"tickets": tickets, "called": sum(called.values()),
                          "duplicates": sum(n - 1 for n in called.values() if n > 1)}


async def scenario_display(clients: list[int], calls: int) -> dict[str, Any]:
    out = {}
    for n in clients:
        out[str(n)] = {k: round(v, 1) for k, v in (await display_bench(n, calls)).items()}
    return out


async def scenario_status(root: Path, seconds: float, phones: int = 2000) -> dict[str, Any]:
    """Ticket issue p99 at 32 clients while 8 counters call, on two fresh servers with the same
    2,000 tickets waiting: one without phones, one with 2,000 phones following their ticket."""
    out: dict[str, Any] = {}
    for label, following in (("without_phones", 0), ("with_phones", phones)):
        hall = Hall(root, f"status-{label}")
        server = await hall.server()
        port = int(server.url.rsplit(":", 1)[1])
        tokens = await issue_n_tokens(server.url, phones)
        headers = await token(server.url)
        phones_proc = None
        if following:  # the phones read in their own process, not in the one that measures
            phones_proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.phones", str(port), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE)
            assert phones_proc.stdin is not None and phones_proc.stdout is not None
            phones_proc.stdin.write((" ".join(tokens[:following]) + "\n").encode())
            async with asyncio.timeout(120):
                assert (await phones_proc.stdout.readline()).strip() == b"READY"

        async def updates() -> int:
            if phones_proc is None:
                return 0
            assert phones_proc.stdin is not None and phones_proc.stdout is not None
            phones_proc.stdin.write(b"count\n")
            return int(await phones_proc.stdout.readline())

        stop = asyncio.Event()

        async def counter(i: int) -> int:
            conn, calls = Connection("127.0.0.1", port), 0
            while not stop.is_set():
                await conn.request("POST", f"/api/counters/{i + 1}/next", None, headers)
                calls += 1
                await asyncio.sleep(0.4)  # 8 counters x 2.5 calls/s = 20 calls/s
            conn.close()
            return calls

        counters = [asyncio.create_task(counter(i)) for i in range(8)]
        before = await updates()
        result = await hammer(server.url, 32, seconds, issue_request)
        stop.set()
        calls = sum(await asyncio.gather(*counters))
        assert server.proc is not None
        out[label] = row(result) | {"calls": calls, "phones": following, "rss_mb": round(rss_mb(server.proc.pid)),
                                    "updates_delivered": await updates() - before}
        if phones_proc is not None:
            assert phones_proc.stdin is not None
            phones_proc.stdin.close()
            await phones_proc.wait()
        await server.stop()
    out["p99_ratio"] = round(out["with_phones"]["p99_ms"] / out["without_phones"]["p99_ms"], 2)
    return out


async def issue_n_tokens(url: str, tickets: int) -> list[str]:
    left = [tickets]

    def make(worker: int, n: int):
        left[0] -= 1
        return issue_request(worker, n)

    result = await hammer(url, 16, 600, make, keep_bodies=True, stop_on=lambda s, b: left[0] <= 0)
    return [json.loads(b)["token"] for b in result.bodies]


async def scenario_day(root: Path, tickets: int = 4000) -> dict[str, Any]:
    """A whole day compressed: kiosks issue 4,000 tickets while 40 counters call, start and
    finish; reports server CPU seconds per 1,000 tickets."""
    hall = Hall(root, "day")
    server = await hall.server()
    assert server.proc is not None
    headers = await token(server.url)
    cpu_before = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    issuing = asyncio.create_task(issue_n(server.url, tickets, concurrency=8))
    done = Counter()
    host, _, port = server.url.removeprefix("http://").partition(":")

    async def counter(i: int) -> None:
        conn = Connection(host, int(port))
        idle = 0
        while idle < 20:
            status, _ = await conn.request("POST", f"/api/counters/{i}/next", None, headers)
            if status == 204:
                idle = idle + 1 if issuing.done() else 0
                await asyncio.sleep(0.05)
                continue
            await conn.request("POST", f"/api/counters/{i}/start", None, headers)
            status, _ = await conn.request("POST", f"/api/counters/{i}/finish", None, headers)
            done[status] += 1
        conn.close()

    await asyncio.gather(*(counter(i) for i in range(1, COUNTERS + 1)))
    issued = await issuing
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    rss = rss_mb(server.proc.pid)
    await server.stop()
    return {"tickets": issued.ok, "finished": done[200], "wall_s": round(wall, 1), "server_cpu_s": round(cpu, 1),
            "cpu_s_per_1000_tickets": round(cpu / issued.ok * 1000, 2), "rss_mb": round(rss)}


async def scenario_startup(root: Path, historic: int = 100_000) -> dict[str, Any]:
    """Time from starting `giliran serve` to its READY line: empty, then with 100,000 old tickets."""
    hall = Hall(root, "startup")
    out: dict[str, Any] = {}
    for label in ("empty", f"{historic}_historic"):
        if label != "empty":
            _fill_history(hall.db, historic)
        server = ServerProcess(hall.config, hall.db, env={"GILIRAN_LOG_LEVEL": "WARNING"})
        started = time.perf_counter()
        await server.start()
        ready = time.perf_counter() - started
        assert server.proc is not None
        out[label] = {"ready_s": round(ready, 2), "rss_idle_mb": round(rss_mb(server.proc.pid))}
        await server.stop()
    return out


def _fill_history(db: Path, count: int) -> None:
    """Earlier days' finished tickets, as months of a busy hall leave behind."""
    with sqlite3.connect(db) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(tickets)")]
        base = time.time() - 90 * 86400
        rows = []
        for i in range(count):
            day_index, seq = divmod(i, 1500)
            values = {"token": f"hist{i:012d}", "day": time.strftime("%Y-%m-%d", time.gmtime(base + day_index * 86400)),
                      "prefix": "A", "seq": seq + 1, "number": f"A{seq + 1:03d}", "service": "A", "state": "done",
                      "priority": 0, "issued_at": base + day_index * 86400 + seq, "recalls": 0, "transfers": 0}
            rows.append(tuple(values.get(c) for c in columns if c != "id"))
        names = [c for c in columns if c != "id"]
        conn.executemany(f"INSERT INTO tickets ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)


# --- report ------------------------------------------------------------------------------------------
def report(results: dict[str, Any]) -> str:
    lines = [f"# make bench: {results['when']}", "", f"Machine: {results['machine']}", ""]
    if issue := results.get("issue"):
        lines += ["## Ticket issue (`POST /api/tickets`, durable)", "",
                  "| server | clients | tickets/s | p50 ms | p99 ms | vs A | vs B |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name in ("baseline_a", "baseline_b", "giliran"):
            for c in ("32", "128"):
                r = issue[name][c]
                lines.append(f"| {name} | {c} | {r['requests_per_s']} | {r['p50_ms']} | {r['p99_ms']} | "
                             f"{r.get('vs_a', '')} | {r.get('vs_b', '')} |")
        if "stored" in issue["giliran"]:
            lines += ["", f"Acknowledged vs stored: {issue['giliran']['stored']}"]
        lines.append("")
    if nxt := results.get("next"):
        lines += ["## Call next (40 counters at once)", "",
                  f"{nxt['called']} of {nxt['tickets']} tickets called, duplicates {nxt['duplicates']}; "
                  f"p50 {nxt['p50_ms']} ms, p99 {nxt['p99_ms']} ms, {nxt['requests_per_s']} calls/s", ""]
    if disp := results.get("display"):
        lines += ["## Call -> display", "", "| SSE clients | p50 ms | p99 ms | last client p50 ms | max ms | RSS idle MB | RSS connected MB |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for n, r in disp.items():
            lines.append(f"| {n} | {r['p50_ms']} | {r['p99_ms']} | {r['all_clients_p50_ms']} | {r['all_clients_max_ms']} | "
                         f"{r['rss_idle_mb']} | {r['rss_connected_mb']} |")
        lines.append("")
    if st := results.get("status"):
        a, b = st["without_phones"], st["with_phones"]
        lines += ["## Status pages (2,000 phones following their ticket)", "",
                  f"Ticket issue at 32 clients with counters calling: p99 {a['p99_ms']} ms alone, {b['p99_ms']} ms with "
                  f"{b['phones']} phones (ratio {st['p99_ratio']}); {a['requests_per_s']} vs {b['requests_per_s']} tickets/s; "
                  f"{b['updates_delivered']} updates pushed to phones; server RSS {b['rss_mb']} MB", ""]
    if day := results.get("day"):
        lines += ["## A whole day, compressed", "",
                  f"{day['tickets']} tickets issued, {day['finished']} served and finished by 40 counters in "
                  f"{day['wall_s']} s; server CPU {day['server_cpu_s']} s = {day['cpu_s_per_1000_tickets']} s per "
                  f"1,000 tickets; RSS {day['rss_mb']} MB", ""]
    if su := results.get("startup"):
        lines += ["## Start-up", ""] + [f"- {k}: ready in {v['ready_s']} s, idle RSS {v['rss_idle_mb']} MB"
                                        for k, v in su.items()] + [""]
    return "\n".join(lines)


async def run(only: set[str], seconds: float, clients: list[int], calls: int) -> dict[str, Any]:
    results: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        steps = {"issue": lambda: scenario_issue(root, seconds), "next": lambda: scenario_next(root),
                 "display": lambda: scenario_display(clients, calls), "status": lambda: scenario_status(root, seconds),
                 "day": lambda: scenario_day(root), "startup": lambda: scenario_startup(root)}
        for name, step in steps.items():
            if name in only:
                print(f"running {name}…", flush=True)
                results[name] = await step()
                print(json.dumps(results[name]), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="Giliran's benchmark suite")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", default="issue,next,display,status,day,startup")
    parser.add_argument("--clients", default="1000,3000", help="SSE clients for the display scenario")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out", default=str(RESULTS / "latest"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 10000)), hard))
    os.environ.setdefault("GILIRAN_LOG_LEVEL", "WARNING")
    results = asyncio.run(run(set(args.only.split(",")), args.seconds, [int(c) for c in args.clients.split(",")],
                              args.calls))
    text = report(results)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".md").write_text(text + "\n")
    Path(args.out + ".json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
