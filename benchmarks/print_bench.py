"""Benchmark: lay out and encode tickets, and push them through the print worker into the TCP stand-in.

Run: .venv/bin/python -m benchmarks.print_bench   (or `make bench-print`)
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from printers.encode import escpos_bytes
from printers.layout import TicketFacts, paper_for, ticket_layout
from printers.preview import preview_png
from tests.conftest import hall_dict
from tests.escpos_reader import read_escpos
from tests.printer_standin import PrinterStandIn

FACTS = TicketFacts(
    hall="Mal Pelayanan Publik Kabupaten Purwakarta", agency="Dinas Kependudukan dan Pencatatan Sipil",
    service="KTP Elektronik", number="A123", priority_label=None,
    issued=datetime(2026, 11, 25, 9, 5, tzinfo=ZoneInfo("Asia/Jakarta")), ahead=12, estimated_wait_s=1500,
    status_url="http://localhost:8080/t/x3J9aQ0bZk2LmN4pR6sT8uVw",
    alert_hint="Pindai kode QR untuk melihat giliran Anda dan menerima pemberitahuan.",
    footer="Terima kasih telah menunggu dengan tertib.")


def encode_times(profile: str, rounds: int = 1000) -> list[float]:
    paper = paper_for(profile)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        escpos_bytes(ticket_layout(FACTS, paper), paper)
        times.append(time.perf_counter() - start)
    return times


async def worker_throughput(tickets: int = 300) -> tuple[float, int]:
    standin = PrinterStandIn()
    await standin.start()
    with tempfile.TemporaryDirectory() as tmp:
        doc = hall_dict(
            limits={"tickets_per_minute": 10**6, "ticket_burst": 10**6},
            services=[{"code": "A", "name": "KTP", "agency": "DUKCAPIL"}],
            printers=[{"id": "P1", "driver": "network", "host": "127.0.0.1", "port": standin.port,
                       "profile": "TM-T88V", "confirm_wait_s": 0, "retry_max_s": 0.1}],
            kiosks=[{"id": "K1", "name": "Kios", "printer": "P1"}],
            counters=[{"id": "1", "name": "Loket 1", "services": ["A"]}])
        app = create_app(Settings(db=Path(tmp) / "bench.sqlite3", port=0), config=parse_hall(doc))
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        port = standin.port
        await standin.stop()  # the printer is off while the tickets are queued ...
        async with aiohttp.ClientSession() as session:
            for _ in range(tickets):
                async with session.post(f"{url}/api/tickets", json={"service": "A", "kiosk": "K1"}) as resp:
                    assert resp.status == 201
        start = time.perf_counter()
        await standin.start(port)  # ... and the timing starts when it comes back
        async with asyncio.timeout(300):
            while len(standin.printed) < tickets:
                await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        numbers = [next(t for t, size in read_escpos(d).lines if size == 4) for d in standin.printed]
        await runner.cleanup()
    await standin.stop()
    assert len(numbers) == len(set(numbers)), "a ticket printed twice"
    return elapsed, len(numbers)


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    print("Ticket layout + ESC/POS encoding (median of 1,000, ms):")
    for profile in ("TM-T88V", "TM-T20II", "POS-5890"):
        times = encode_times(profile)
        print(f"  {profile:9s} median {statistics.median(times) * 1000:6.2f}  p99 "
              f"{sorted(times)[int(len(times) * 0.99)] * 1000:6.2f}  bytes "
              f"{len(escpos_bytes(ticket_layout(FACTS, paper_for(profile)), paper_for(profile)))}")
    paper = paper_for("TM-T88V")
    start = time.perf_counter()
    for _ in range(100):
        preview_png(ticket_layout(FACTS, paper), paper)
    print(f"  PNG preview (80 mm) mean {(time.perf_counter() - start) * 10:6.2f}")
    elapsed, count = asyncio.run(worker_throughput())
    print(f"Print worker into the TCP 9100 stand-in (status query before and after each ticket): "
          f"{count} tickets in {elapsed:.2f} s = {count / elapsed:.0f} tickets/s, none twice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
