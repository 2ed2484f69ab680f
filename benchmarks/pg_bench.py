"""PostgreSQL and several server processes, measured beside SQLite in the same run.

Scenarios (each on a fresh hall; the PostgreSQL cluster is started here unless GILIRAN_PG_DSN names one):

- issue: tickets issued at 32 and 128 concurrent clients: SQLite (one process) against PostgreSQL
  with 1, 2 and 4 `giliran serve` processes of one hall, the clients spread evenly over them
  (round robin, as a proxy would); every acknowledged ticket counted in the database, numbers unique.
- next: 40 counters pressing "next" at once over 4,000 tickets, the counters spread over the processes;
  no ticket called twice.
- display: each call's arrival at screens connected to every process (a call made on the first one),
  from the moment "next" was pressed (the call's own transaction included).

Everything (PostgreSQL, the servers, this load generator) shares the machine's cores: on a 2-core
machine more processes compete for the same CPU, which the figures show as they are.

Run: python -m benchmarks.pg_bench [--seconds 10] [--only issue,next,display] [--processes 1,2,4]
Results: benchmarks/results/pg.md and pg.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.display_bench import Client
from benchmarks.loadgen import Result, hammer
from benchmarks.suite import COUNTERS, HALL, PASSWORD, issue_request, row, token
from tests.pgcluster import Cluster, server_binaries
from tests.server_process import ServerProcess, run_cli

RESULTS = Path(__file__).parent / "results"


class Setup:
    """A hall on SQLite or on the PostgreSQL database, served by N processes."""

    def __init__(self, root: Path, name: str, db: str | Path) -> None:
        self.dir = root / name
        self.dir.mkdir()
        self.config = self.dir / "hall.toml"
        self.config.write_text(HALL.replace("[hall]\n", f'[hall]\nid = "{name}"\n', 1) if isinstance(db, str) else HALL)
        self.db = db
        self.servers: list[ServerProcess] = []

    async def start(self, processes: int) -> list[str]:
        code, _, err = await run_cli("user", "add", "bench", "--role", "supervisor", "--password-stdin",
                                     "--config", str(self.config), "--db", str(self.db), stdin=PASSWORD + "\n")
        assert code == 0, err
        self.servers = [ServerProcess(self.config, self.db, env={"GILIRAN_LOG_LEVEL": "WARNING"},
                                      log=self.dir / f"server-{i}.log") for i in range(processes)]
        return list(await asyncio.gather(*(s.start() for s in self.servers)))

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()


async def spread(urls: list[str], concurrency: int, seconds: float, make, **kw) -> Result:
    """`concurrency` clients split evenly over the processes, run at the same time, as one result."""
    shares = [concurrency // len(urls) + (i < concurrency % len(urls)) for i in range(len(urls))]
    parts = await asyncio.gather(*(hammer(url, n, seconds, make, **kw) for url, n in zip(urls, shares, strict=True)))
    total = Result(seconds=max(p.seconds for p in parts))
    for part in parts:
        total.latencies += part.latencies
        total.statuses.update(part.statuses)
        total.bodies += part.bodies
    return total


async def stored_tickets(db: str | Path, hall: str) -> tuple[int, int]:
    """(tickets, distinct numbers per day) in the hall's database."""
    if isinstance(db, Path):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT COUNT(*), COUNT(DISTINCT number || day) FROM tickets").fetchone()
    conn = await asyncpg.connect(db, server_settings={"search_path": f"hall_{hall.replace('-', '_')}"})
    try:
        found = await conn.fetchrow("SELECT COUNT(*), COUNT(DISTINCT number || day) FROM tickets")
        return int(found[0]), int(found[1])
    finally:
        await conn.close()


async def analyze(db: str, hall: str) -> None:
    """What autovacuum does to a hall's growing tables within a minute."""
    conn = await asyncpg.connect(db, server_settings={"search_path": f"hall_{hall.replace('-', '_')}"})
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def scenario_issue(root: Path, pg: str, seconds: float, processes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runs: list[tuple[str, str | Path, int]] = [("sqlite", root / "issue-sqlite.sqlite3", 1)]
    runs += [(f"pg-{n}", pg, n) for n in processes]
    for name, db, n in runs:
        setup = Setup(root, f"issue-{name}", db)
        urls = await setup.start(n)
        out[name] = {}
        for concurrency in (32, 128):
            out[name][str(concurrency)] = row(await spread(urls, concurrency, seconds, issue_request))
        await setup.stop()
        acked = sum(out[name][c]["ok"] for c in ("32", "128"))
        stored, distinct = await stored_tickets(setup.db, f"issue-{name}")
        out[name]["stored"] = {"acknowledged": acked, "in_database": stored, "distinct_numbers": distinct}
    for name in out:
        for c in ("32", "128"):
            out[name][c]["vs_sqlite"] = round(out[name][c]["requests_per_s"] / out["sqlite"][c]["requests_per_s"], 2)
    return out


async def scenario_next(root: Path, pg: str, processes: list[int], tickets: int = 4000) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runs: list[tuple[str, str | Path, int]] = [("sqlite", root / "next-sqlite.sqlite3", 1)]
    runs += [(f"pg-{n}", pg, n) for n in processes]
    for name, db, n in runs:
        setup = Setup(root, f"next-{name}", db)
        urls = await setup.start(n)
        left = [tickets]

        def one(worker: int, k: int):
            left[0] -= 1
            return issue_request(worker, k)
        await spread(urls, 32, 600, one, stop_on=lambda status, body: left[0] <= 0)
        if isinstance(db, str):
            # 4,000 tickets a few seconds old: autovacuum has not looked at them yet, and without
            # statistics the planner scans the day instead of taking the queue index. On a live hall
            # autovacuum analyzes a growing table within a minute; do that here.
            await analyze(db, f"next-{name}")
        headers = await token(urls[0])
        per = COUNTERS // n

        def make_for(index: int):
            def make(worker: int, k: int):
                return "POST", f"/api/counters/{index * per + worker + 1}/next", None, headers
            return make
        parts = await asyncio.gather(*(hammer(url, per, 300, make_for(i), keep_bodies=True,
                                              stop_on=lambda status, body: status == 204)
                                       for i, url in enumerate(urls)))
        result = Result(seconds=max(p.seconds for p in parts))
        for part in parts:
            result.latencies += part.latencies
            result.statuses.update(part.statuses)
            result.bodies += part.bodies
        await setup.stop()
        called = Counter(json.loads(b)["ticket"]["number"] for b in result.bodies if b)
        out[name] = row(result) | {"tickets": tickets, "called": sum(called.values()),
                                   "duplicates": sum(k - 1 for k in called.values() if k > 1)}
    return out


async def scenario_display(root: Path, pg: str, processes: list[int], screens: int = 300,
                           calls: int = 10) -> dict[str, Any]:
    import aiohttp
    out: dict[str, Any] = {}
    runs: list[tuple[str, str | Path, int]] = [("sqlite", root / "display-sqlite.sqlite3", 1)]
    runs += [(f"pg-{n}", pg, n) for n in processes]
    for name, db, n in runs:
        setup = Setup(root, f"display-{name}", db)
        urls = await setup.start(n)
        readers = [Client(int(urls[i % n].rsplit(":", 1)[1])) for i in range(screens)]
        tasks = [asyncio.create_task(r.run()) for r in readers]
        async with asyncio.timeout(120):
            await asyncio.gather(*(r.ready.wait() for r in readers))
        latencies: list[float] = []
        remote: list[float] = []
        async with aiohttp.ClientSession() as session:
            headers = await token(urls[0])
            for _ in range(calls):
                async with session.post(f"{urls[0]}/api/tickets", json={"service": "A"}) as r:
                    number = (await r.json())["number"]
                await asyncio.sleep(0.2)
                pressed = time.perf_counter()  # from the press: the call's transaction counts too
                async with session.post(f"{urls[0]}/api/counters/1/next", headers=headers) as r:
                    assert r.status == 200
                async with asyncio.timeout(30):
                    while not all(number in c.arrivals for c in readers):
                        await asyncio.sleep(0.002)
                for i, c in enumerate(readers):
                    latencies.append(c.arrivals[number] - pressed)
                    if i % n:
                        remote.append(c.arrivals[number] - pressed)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await setup.stop()
        latencies.sort()
        remote.sort()
        out[name] = {"screens": screens, "calls": calls, "p50_ms": round(statistics.median(latencies) * 1000, 1),
                     "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
                     "other_processes_p50_ms": round(statistics.median(remote) * 1000, 1) if remote else None}
    return out


def report(results: dict[str, Any]) -> str:
    lines = [f"# PostgreSQL and several processes ({results['machine']})", ""]
    if measured := results.get("measured"):
        lines += ["Measured: " + "; ".join(f"{k} {v}" for k, v in measured.items()), ""]
    if "issue" in results:
        lines += ["## Ticket issue (tickets/s; p99 ms)", "", "| setup | 32 clients | p99 | 128 clients | p99 | "
                  "vs SQLite (32/128) | acknowledged = stored, distinct |", "|---|---|---|---|---|---|---|"]
        for name, r in results["issue"].items():
            s = r["stored"]
            lines.append(f"| {name} | {r['32']['requests_per_s']} | {r['32']['p99_ms']} | {r['128']['requests_per_s']} | "
                         f"{r['128']['p99_ms']} | {r['32']['vs_sqlite']} / {r['128']['vs_sqlite']} | "
                         f"{s['acknowledged']} = {s['in_database']}, {s['distinct_numbers']} |")
    if "next" in results:
        lines += ["", "## 40 counters pressing next over 4,000 tickets", "", "| setup | calls/s | p99 ms | called | "
                  "duplicates |", "|---|---|---|---|---|"]
        for name, r in results["next"].items():
            lines.append(f"| {name} | {r['requests_per_s']} | {r['p99_ms']} | {r['called']} | {r['duplicates']} |")
    if "display" in results:
        lines += ["", "## A call reaching screens on every process (from the press of next)", "", "| setup | screens | p50 ms | p99 ms | "
                  "p50 ms on other processes |", "|---|---|---|---|---|"]
        for name, r in results["display"].items():
            lines.append(f"| {name} | {r['screens']} | {r['p50_ms']} | {r['p99_ms']} | {r['other_processes_p50_ms']} |")
    return "\n".join(lines) + "\n"


async def run(only: set[str], seconds: float, processes: list[int]) -> dict[str, Any]:
    cluster = None
    server = os.environ.get("GILIRAN_PG_DSN")
    if not server:
        cluster = Cluster()
        cluster.start()
        server = cluster.url()
    name = f"giliran_bench_{os.getpid()}"
    admin = await asyncpg.connect(server)
    await admin.execute(f"CREATE DATABASE {name}")
    pg = f"{server.rpartition('/')[0]}/{name}"
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores, {sys.platform}"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            if "issue" in only:
                results["issue"] = await scenario_issue(root, pg, seconds, processes)
            if "next" in only:
                results["next"] = await scenario_next(root, pg, processes)
            if "display" in only:
                results["display"] = await scenario_display(root, pg, processes)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
        if cluster is not None:
            cluster.destroy()
    return results


SCENARIOS = ("issue", "next", "display")


def kept(path: Path, results: dict[str, Any], only: set[str]) -> dict[str, Any]:
    """This run's scenarios, with those not run this time kept from the last results (`--only`),
    each with the time it was measured."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        previous = {}
    merged = {k: previous[k] for k in SCENARIOS if k in previous and k not in only and k not in results}
    measured = {k: previous.get("measured", {}).get(k, "an earlier run") for k in merged}
    return results | merged | {"measured": measured | {k: now for k in SCENARIOS if k in results}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default="issue,next,display")
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    if server_binaries() is None and not os.environ.get("GILIRAN_PG_DSN"):
        print("PostgreSQL is not installed (apt-get install postgresql) and GILIRAN_PG_DSN is not set: skipped")
        return 0
    only = set(args.only.split(","))
    results = asyncio.run(run(only, args.seconds, [int(p) for p in args.processes.split(",")]))
    RESULTS.mkdir(exist_ok=True)
    results = kept(RESULTS / "pg.json", results, only)
    (RESULTS / "pg.json").write_text(json.dumps(results, indent=2))
    text = report(results)
    (RESULTS / "pg.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
