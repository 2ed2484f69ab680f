"""Benchmark: staff `next` call -> `ticket.called` at every connected display/event-stream client.

Starts the real server as a subprocess on a fresh database, connects N raw SSE clients from this
process (plain asyncio sockets, so the client side stays cheap), presses "next" K times and
measures, for each call, the time from the staff call's HTTP answer to the event at each client.

Run: .venv/bin/python -m benchmarks.display_bench [--clients 1000] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.server_process import ServerProcess, run_cli, write_hall

PASSWORD = "rahasia-bench"


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """One event-stream reader that notes when each ticket.called arrives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.arrivals: dict[str, float] = {}
        self.ready = asyncio.Event()

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        event = None
        try:
            while line := await reader.readline():
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                    if event == b"snapshot":
                        self.ready.set()
                elif line.startswith(b"data: ") and event == b"ticket.called":
                    at = time.perf_counter()
                    number = line.split(b'"number": "', 1)[1].split(b'"', 1)[0].decode()
                    self.arrivals[number] = at
        finally:
            writer.close()


async def bench(clients: int, calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config, db = write_hall(Path(tmp)), Path(tmp) / "bench.sqlite3"
        await run_cli("user", "add", "bench", "--role", "supervisor", "--password-stdin", "--config", str(config),
                      "--db", str(db), stdin=PASSWORD + "\n")
        server = ServerProcess(config, db)
        url = await server.start()
        port = int(url.rsplit(":", 1)[1])
        assert server.proc is not None
        rss_idle = rss_mb(server.proc.pid)
        readers = [Client(port) for _ in range(clients)]
        tasks = [asyncio.create_task(r.run()) for r in readers]
        async with asyncio.timeout(120):
            await asyncio.gather(*(r.ready.wait() for r in readers))
        rss_connected = rss_mb(server.proc.pid)
        latencies: list[float] = []
        per_call_all: list[float] = []
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/api/login", json={"username": "bench", "password": PASSWORD}) as r:
                headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
            for _ in range(calls):
                async with session.post(f"{url}/api/tickets", json={"service": "A"}) as r:
                    number = (await r.json())["number"]
                await asyncio.sleep(0.3)
                async with session.post(f"{url}/api/counters/1/next", headers=headers) as r:
                    assert r.status == 200
                    answered = time.perf_counter()
                async with asyncio.timeout(30):
                    while not all(number in c.arrivals for c in readers):
                        await asyncio.sleep(0.002)
                deliveries = [c.arrivals[number] - answered for c in readers]
                latencies += deliveries
                per_call_all.append(max(deliveries))
        rss_after = rss_mb(server.proc.pid)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.stop()
    latencies.sort()
    per_call_all.sort()
    return {
        "clients": clients, "calls": calls,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "all_clients_p50_ms": statistics.median(per_call_all) * 1000,
        "all_clients_max_ms": per_call_all[-1] * 1000,
        "rss_idle_mb": rss_idle, "rss_connected_mb": rss_connected, "rss_after_mb": rss_after,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.clients * 2 + 256)), hard))
    os.environ.setdefault("GILIRAN_LOG_LEVEL", "WARNING")
    r = asyncio.run(bench(args.clients, args.calls))
    print(f"call -> display, {r['clients']} SSE clients, {r['calls']} calls: per delivery p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms; last client per call p50 {r['all_clients_p50_ms']:.1f} ms, "
          f"max {r['all_clients_max_ms']:.1f} ms")
    print(f"server RSS: idle {r['rss_idle_mb']:.0f} MB, {r['clients']} clients connected "
          f"{r['rss_connected_mb']:.0f} MB, after the calls {r['rss_after_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
