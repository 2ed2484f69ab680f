"""Benchmark: the morning the booking window opens. Thousands of citizens, each with a confirmed
phone, ask at the same moment for the same few slots of tomorrow (each tries a second slot when the
first is full). Reports throughput and p50/p99 of every answer (201 and refusals alike), a baseline
(`GET /api/health` at the same concurrency, same run) and checks that no slot is overbooked and
the online share holds.

The server is the real `giliran serve` in its own process; the confirmed phones are written into
its database before it starts (the SMS codes themselves are not part of this measure).
Run: .venv/bin/python -m benchmarks.booking_bench [--citizens 3000] [--concurrency 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.loadgen import Connection
from kiosk.booking.verify import token_hash
from kiosk.storage import create_store
from tests.server_process import ServerProcess

SLOTS = ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")
CAPACITY = 5
SHARE = 25  # fewer than the slots' places (30): the share is the binding limit for the last ones

HALL = f"""
[hall]
name = "MPP Bench Booking"
timezone = "Asia/Jakarta"
public_url = "http://127.0.0.1"

[limits]
tickets_per_minute = 100000000
ticket_burst = 100000000
connections_per_address = 100000

[booking]
per_address_per_hour = 10000000  # the load comes from one address

[[agencies]]
code = "DUKCAPIL"
name = "Disdukcapil"

[[services]]
code = "A"
name = "KTP Elektronik"
agency = "DUKCAPIL"
daily_quota = 100
remote_share = {SHARE}
booking = "days_ahead"
slot_minutes = 30
slot_capacity = {CAPACITY}
booking_days = 7

[[counters]]
id = "1"
name = "Loket 1"
services = ["A"]
"""


async def seed_identities(db: Path, count: int) -> list[str]:
    """`count` confirmed phones (as /api/verify/{id} would have made), their tokens."""
    store = create_store(db, synchronous="NORMAL")
    await store.open()
    tokens = [secrets.token_urlsafe(24) for _ in range(count)]
    async with store.transaction() as q:
        for n, token in enumerate(tokens):
            await q.add_identity(token_hash(token), f"sms:+62812{n:08d}", time.time() + 86400)
    await store.close()
    return tokens


async def timed(url: str, concurrency: int, jobs: list[tuple[str, str, bytes | None, dict[str, str]]],
                retry: bool) -> tuple[list[float], Counter[int | str], float]:
    """Every job once over `concurrency` keep-alive connections; (latencies of all answers, statuses, seconds)."""
    host, _, port = url.removeprefix("http://").partition(":")
    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    queue = list(reversed(jobs))

    async def worker() -> None:
        connection = Connection(host, int(port))
        while queue:
            method, path, body, headers = queue.pop()
            for attempt in range(2 if retry else 1):
                sent = time.perf_counter()
                try:
                    status, data = await connection.request(method, path, body, headers)
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    statuses["connection_error"] += 1
                    connection.close()
                    break
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                if not (retry and status == 409 and b"slot_full" in data) or attempt:
                    break
                choice = json.loads(body or b"{}")  # full: the citizen taps the next slot once
                choice["time"] = SLOTS[(SLOTS.index(choice["time"]) + 1) % len(SLOTS)]
                body = json.dumps(choice).encode()
        connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses, time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def bench(citizens: int, concurrency: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        config, db = Path(tmp) / "hall.toml", Path(tmp) / "bench.sqlite3"
        config.write_text(HALL)
        tokens = await seed_identities(db, citizens)
        server = ServerProcess(config, db)
        url = await server.start()
        try:
            tomorrow = (datetime.now(ZoneInfo("Asia/Jakarta")).date() + timedelta(days=1)).isoformat()
            health = [("GET", "/api/health", None, {})] * citizens
            base_lat, base_st, base_s = await timed(url, concurrency, health, retry=False)
            jobs = [("POST", "/api/bookings",
                     json.dumps({"service": "A", "date": tomorrow, "time": SLOTS[n % 2]}).encode(),
                     {"X-Identity": token}) for n, token in enumerate(tokens)]
            lat, st, seconds = await timed(url, concurrency, jobs, retry=True)
        finally:
            await server.stop()
        rows = sqlite3.connect(db).execute(
            "SELECT slot_label, COUNT(*) FROM bookings WHERE day = ? AND state = 'booked' GROUP BY slot_label",
            (tomorrow,)).fetchall()
    per_slot = dict(rows)
    booked = sum(per_slot.values())
    over = {slot: n for slot, n in per_slot.items() if n > CAPACITY}
    print(f"Booking window opens: {citizens} citizens, {concurrency} at once, slots {SLOTS[0]} and {SLOTS[1]} "
          f"first (capacity {CAPACITY} each, online share {SHARE})")
    print(f"  bookings: {len(lat)} answers in {seconds:.2f} s = {len(lat) / seconds:.0f}/s; "
          f"p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms; statuses {dict(st)}")
    print(f"  baseline GET /api/health: {len(base_lat) / base_s:.0f}/s; p50 {pct(base_lat, 50):.1f} ms, "
          f"p99 {pct(base_lat, 99):.1f} ms (statuses {dict(base_st)})")
    print(f"  ratio bookings/health throughput: {(len(lat) / seconds) / (len(base_lat) / base_s):.2f}")
    print(f"  booked per slot: {per_slot}; total {booked} (share {SHARE}); overbooked slots: {over or 'none'}")
    return 1 if over or booked > SHARE else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=500)
    args = parser.parse_args()
    sys.exit(asyncio.run(bench(args.citizens, args.concurrency)))


if __name__ == "__main__":
    main()
