"""`make faults`: what really happens in a hall, injected into the real server, with figures.

Each scenario starts `giliran serve` as a subprocess on a fresh database, next to local
stand-ins (a TCP 9100 printer, an SMS gateway), injects a fault and prints one line of figures;
a scenario that does not hold raises. `tests/test_faults.py` runs the short form in CI.

    python -m benchmarks.faults            # the full suite (a few minutes)
    python -m benchmarks.faults --short    # what CI runs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.escpos_reader import read_escpos
from tests.printer_standin import PrinterStandIn
from tests.server_process import HALL_TOML, ServerProcess, run_cli
from tests.sms_standins import GatewayStandIn

PASSWORD = "rahasia-faults"

# The small hall the other subprocess tests use, with alerts over SMS and a network printer.
HALL = HALL_TOML + """
[alerts]
retry_first_s = 0.2
give_up_minutes = 30

[sms]
provider = "smsgate"
base_url = "{sms_url}"
rate_per_minute = 6000

[[printers]]
id = "P1"
driver = "network"
host = "127.0.0.1"
port = {printer_port}
profile = "TM-T20II"
timeout_s = 2
confirm_wait_s = 0.2
retry_max_s = 0.5

[[kiosks]]
id = "K1"
name = "Kios Uji"
printer = "P1"
"""


class Rig:
    """A hall directory with the stand-ins and one server process at a time."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.dir.mkdir()
        self.db = self.dir / "hall.sqlite3"
        self.printer = PrinterStandIn()
        self.sms = GatewayStandIn("/messages", ok_status=202)
        self.server: ServerProcess | None = None
        self.url = ""

    async def __aenter__(self) -> Rig:
        await self.printer.start()
        sms_url = await self.sms.start()
        self.config = self.dir / "hall.toml"
        self.config.write_text(HALL.replace("{sms_url}", sms_url).replace("{printer_port}", str(self.printer.port)))
        code, _, err = await run_cli("user", "add", "admin", "--role", "admin", "--password-stdin", "--config",
                                     str(self.config), "--db", str(self.db), stdin=PASSWORD + "\n")
        assert code == 0, err
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None and self.server.proc and self.server.proc.returncode is None:
            await self.server.stop()
        await self.printer.stop()
        await self.sms.stop()

    async def start(self) -> str:
        self.server = ServerProcess(self.config, self.db, env={"GILIRAN_LOG_LEVEL": "WARNING",
                                                               "GILIRAN_SMS_USERNAME": "u", "GILIRAN_SMS_PASSWORD": "p"})
        self.url = await self.server.start()
        return self.url

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()


async def login(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(f"{url}/api/login", json={"username": "admin", "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float, step: float = 0.1) -> None:
    async with asyncio.timeout(timeout):
        while True:
            result = condition()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(step)


def printed_numbers(printer: PrinterStandIn) -> list[tuple[str, bool]]:
    """(number, marked as a reprint) for every whole ticket the printer put out."""
    out = []
    for data in printer.printed:
        page = read_escpos(data)
        number = next(text.strip() for text, size in page.lines if size >= 3 and text.strip())
        out.append((number, "CETAK ULANG" in page.text))
    return out


# --- scenarios ---------------------------------------------------------------------------------------
async def crash_under_load(root: Path, rounds: int) -> str:
    """SIGKILL at a random moment while kiosks issue (with SMS numbers, printing) and counters call."""
    rng = random.Random(2026)
    acked: dict[str, str] = {}  # token -> number of every 201 seen
    called: set[str] = set()  # numbers of every 200 of "next"
    async with Rig(root, "crash") as rig:
        for _ in range(rounds):
            url = await rig.start()
            stop = asyncio.Event()
            async with aiohttp.ClientSession() as session:
                headers = await login(session, url)

                async def issue() -> None:
                    while not stop.is_set():
                        body: dict[str, Any] = {"service": rng.choice("AB"), "kiosk": "K1"}
                        if rng.random() < 0.3:
                            body["phone"] = f"0812{rng.randrange(10**7, 10**8)}"
                        try:
                            async with session.post(f"{url}/api/tickets", json=body) as resp:
                                if resp.status == 201:
                                    data = await resp.json()
                                    acked[data["token"]] = data["number"]
                        except (TimeoutError, aiohttp.ClientError):
                            return

                async def work(counter: str) -> None:
                    while not stop.is_set():
                        try:
                            async with session.post(f"{url}/api/counters/{counter}/next", headers=headers) as resp:
                                if resp.status == 200:
                                    called.add((await resp.json())["ticket"]["number"])
                        except (TimeoutError, aiohttp.ClientError):
                            return

                tasks = [asyncio.create_task(issue()) for _ in range(8)]
                tasks += [asyncio.create_task(work(c)) for c in ("1", "2")]
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                assert rig.server is not None
                await rig.server.kill()
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
        await rig.start()  # the last restart: the outboxes drain
        await until(lambda: not rig.rows("SELECT 1 FROM print_jobs WHERE state != 'sent' LIMIT 1")
                    and not rig.rows("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"), 120)
        stored = dict(rig.rows("SELECT token, number FROM tickets"))
        missing = [t for t, n in acked.items() if stored.get(t) != n]
        numbers = Counter(n for (n,) in rig.rows("SELECT number FROM tickets"))
        repeated = [n for n, c in numbers.items() if c > 1]
        still_waiting = [n for (n,) in rig.rows("SELECT number FROM tickets WHERE state = 'waiting'") if n in called]
        prints = printed_numbers(rig.printer)
        first_prints = Counter(n for n, reprint in prints if not reprint)
        twice = [n for n, c in first_prints.items() if c > 1]
        unprinted = [n for n in stored.values() if n not in first_prints and
                     not any(p == n for p, _ in prints)]
        keys = rig.rows("SELECT COUNT(*), COUNT(DISTINCT key) FROM outbox")[0]
        sms_sent = len(rig.sms.requests)
        line = (f"crash under load: {rounds} SIGKILLs; {len(acked)} tickets acknowledged, {len(missing)} lost; "
                f"{len(numbers)} numbers, {len(repeated)} repeated; {len(called)} calls acknowledged, "
                f"{len(still_waiting)} undone; {len(prints)} tickets printed, {len(twice)} printed twice without "
                f"the reprint mark, {len(unprinted)} never printed; outbox {keys[0]} messages ({keys[1]} distinct), "
                f"{sms_sent} SMS requests, 0 pending")
        assert not (missing or repeated or still_waiting or twice or unprinted) and keys[0] == keys[1], line
        return line


async def printer_faults(root: Path, seconds: float) -> str:
    """Refused connections, a printer that never reads, one that closes mid-ticket, paper out."""
    async with Rig(root, "printer") as rig:
        url = await rig.start()
        issued: list[str] = []
        modes = ["off", "silent", "drop", "paper_out", "ok"]
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            phase = 0
            while time.monotonic() - started < seconds:
                mode = modes[phase % len(modes)]
                phase += 1
                await set_printer(rig.printer, mode)
                phase_end = time.monotonic() + seconds / 10
                while time.monotonic() < phase_end:
                    async with session.post(f"{url}/api/tickets", json={"service": "A", "kiosk": "K1"}) as resp:
                        assert resp.status == 201, await resp.text()  # a printer fault never refuses a ticket
                        issued.append((await resp.json())["number"])
                    await asyncio.sleep(0.25)
            await set_printer(rig.printer, "ok")
            await until(lambda: {n for n, _ in printed_numbers(rig.printer)} >= set(issued), 120)
        prints = printed_numbers(rig.printer)
        first = [n for n, reprint in prints if not reprint]
        reprints = [n for n, reprint in prints if reprint]
        in_order = list(first) == sorted(first, key=lambda n: int(n[1:]))
        twice = [n for n, c in Counter(first).items() if c > 1]
        cut = sum(1 for job in rig.printer.jobs if not job.complete and job.data)
        line = (f"printer faults: {seconds:.0f} s of refused/silent/cut/paper-out phases; {len(issued)} tickets, "
                f"every one printed, {len(twice)} twice, in order: {in_order}; {cut} attempts cut mid-print, "
                f"the {len(reprints)} tickets they hit printed again marked CETAK ULANG")
        assert not twice and in_order and set(first) | set(reprints) >= set(issued), line
        return line


async def set_printer(printer: PrinterStandIn, mode: str) -> None:
    printer.paper_out = mode == "paper_out"
    if mode == "off":
        await printer.stop()
        return
    printer.mode = mode if mode in ("silent", "drop") else "ok"
    if printer._server is None:
        await printer.start()


async def gateway_faults(root: Path) -> str:
    """The SMS gateway answers 503 for a while, then recovers; a ticket finished meanwhile gets no
    more than its own messages."""
    async with Rig(root, "gateway") as rig:
        rig.sms.fail_first = 25
        url = await rig.start()
        async with aiohttp.ClientSession() as session:
            headers = await login(session, url)
            tickets = []
            for i in range(10):
                async with session.post(f"{url}/api/tickets",
                                        json={"service": "A", "phone": f"0812555000{i:02d}"}) as resp:
                    tickets.append(await resp.json())
            for _ in range(3):  # three called and finished while the gateway is down
                await session.post(f"{url}/api/counters/1/next", headers=headers)
                await session.post(f"{url}/api/counters/1/finish", headers=headers)
            await until(lambda: not rig.rows("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"), 120)
        sent = rig.rows("SELECT ticket_id, stage, COUNT(*) FROM outbox WHERE state = 'sent' GROUP BY ticket_id, stage")
        dupes = [r for r in sent if r[2] > 1]
        delivered = list(rig.sms.requests[-len(sent):])
        failed = 25
        line = (f"gateway faults: SMS gateway 503 x{failed}, then healthy; {len(rig.sms.requests)} requests, "
                f"{len(sent)} messages delivered once each ({len(dupes)} twice), 0 pending")
        assert not dupes and len(delivered) == len(sent), line
        return line


async def disk_full(root: Path) -> str:
    """The database's disk fills up (RLIMIT_FSIZE on the server process), then space returns."""
    async with Rig(root, "disk") as rig:
        url = await rig.start()
        assert rig.server is not None and rig.server.proc is not None
        pid = rig.server.proc.pid
        async with aiohttp.ClientSession() as session:
            for _ in range(20):
                await session.post(f"{url}/api/tickets", json={"service": "B"})
            await asyncio.sleep(0.5)
            sizes = [p.stat().st_size for p in rig.dir.glob("hall.sqlite3*")]
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (max(sizes) + 4096, resource.RLIM_INFINITY))
            refused, codes = 0, Counter()
            for _ in range(400):
                async with session.post(f"{url}/api/tickets", json={"service": "B"}) as resp:
                    if resp.status != 201:
                        refused += 1
                        codes[(resp.status, (await resp.json())["error"]["code"])] += 1
                        if refused >= 5:
                            break
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            async with session.post(f"{url}/api/tickets", json={"service": "B"}) as resp:
                recovered = resp.status == 201
                after = (await resp.json()).get("number") if recovered else None
        waiting = rig.rows("SELECT COUNT(*), MAX(seq) FROM tickets WHERE service = 'B'")[0]
        line = (f"disk full: {refused} requests refused with {dict(codes)}; recovered: {recovered} ({after}); "
                f"{waiting[0]} tickets stored, highest number {waiting[1]} (no gap, no partial ticket)")
        assert refused and set(codes) == {(503, "storage_unavailable")} and recovered and waiting[0] == waiting[1], line
        return line


async def clock(root: Path) -> str:
    """Midnight while a ticket is served, then the clock jumps back an hour (NTP fix)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kiosk.hall.parse import parse_hall
    from kiosk.queue.clock import FakeClock
    from kiosk.queue.events import EventBus
    from kiosk.runtime import Runtime
    from kiosk.storage import create_store
    from tests.conftest import hall_dict

    clock_ = FakeClock(datetime(2026, 11, 25, 23, 58, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp())
    store = create_store(root / "clock.sqlite3")
    await store.open()
    runtime = Runtime.build(store, parse_hall(hall_dict()), clock_, EventBus())
    await runtime.start()
    queue = runtime.queue
    try:
        late = [await queue.issue("B") for _ in range(2)]
        await queue.call_next("1", "siti")
        await queue.start_service("1", "siti")
        clock_.advance(180)  # 00:01 the next day, while B001 is being served
        done = await queue.finish("1", "siti")
        after_midnight = [await queue.issue("B") for _ in range(3)]
        clock_.advance(-3600)  # NTP pulls the clock back an hour: 23:01 "yesterday"
        jumped = [await queue.issue("B") for _ in range(2)]
        expired = await store.reads.ticket_by_id(late[1].id)
        numbers = [t.number for t in after_midnight + jumped]
        ids = [t.id for t in after_midnight + jumped]
    finally:
        await store.close()
    line = (f"clock: B001 served across midnight ({done.state}); the day before's waiting B002: {expired.state}; "
            f"after midnight {[t.number for t in after_midnight]}, after the clock jumped back an hour "
            f"{[t.number for t in jumped]} (numbering kept, issue order kept)")
    assert done.state == "done" and expired.state == "expired"
    assert len(set(numbers)) == len(numbers) and ids == sorted(ids), line
    return line


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


HOSTILE_BODIES: list[tuple[str, str, bytes, dict[str, str]]] = [
    # (method, path, body, headers): the malformed classes of issue 15, each must be a 4xx
    ("POST", "/api/tickets", b'{"service": "\\ud800"}', {"Content-Type": "application/json"}),
    ("POST", "/api/login", b'{"username": "\\udfff", "password": "x"}', {"Content-Type": "application/json"}),
    ("POST", "/api/tickets", b"[" * 5000 + b"]" * 5000, {"Content-Type": "application/json"}),
    ("POST", "/api/tickets", b"not gzip", {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
    ("POST", "/admin/services", b"not gzip", {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
    ("POST", "/staff/login", b"username=\xff\xfe&password=x", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "/api/tickets", b'{"service": "A", "kiosk": "K1"}', {"Content-Type": "text/plain"}),
]
HOSTILE_ADMIN: list[tuple[str, dict[str, Any]]] = [
    ("display", {"phrase": "{number!r:>99999999}"}), ("display", {"phrase": "{number.__class__.__mro__}"}),
    ("limits", {"login_window_s": "inf"}), ("limits", {"tickets_per_minute": "NaN"}),
    ("counters/1", {"name": "Loket " + "9" * 400}), ("services/A", {"name": "KTP\x1b@"}),
    ("printers/P1", {"driver": "file", "devfile": "/tmp/giliran.sqlite3"}),
]


async def hostile_input(root: Path, rounds: int) -> str:
    """The malformed classes and hostile admin values, `rounds` times each, and 30 clients replaying
    the event stream from id 0, against the real server: every answer a 4xx, no traceback."""
    async with Rig(root, "hostile") as rig:
        url = await rig.start()
        statuses: Counter[int] = Counter()
        async with aiohttp.ClientSession() as session:
            headers = await login(session, url)
            for _ in range(rounds):
                for method, path, body, extra in HOSTILE_BODIES:
                    async with session.request(method, url + path, data=body, headers=extra,
                                               allow_redirects=False) as resp:
                        statuses[resp.status] += 1
                for section, value in HOSTILE_ADMIN:
                    async with session.put(f"{url}/api/admin/{section}", json=value, headers=headers) as resp:
                        statuses[resp.status] += 1
            for i in range(1500):  # a long day's events, then the replay attack of issue 15
                async with session.put(f"{url}/api/display/ticker", json={"text": f"Info {i}"},
                                       headers=headers) as resp:
                    assert resp.status == 200
            replay = [session.get(f"{url}/display-events?last_event_id=0") for _ in range(30)]
            streams = await asyncio.gather(*replay)
            first = [await s.content.readuntil(b"\r\n\r\n") for s in streams]
            health: list[float] = []
            for _ in range(20):
                began = time.perf_counter()
                async with session.get(f"{url}/api/health") as resp:
                    assert resp.status == 200
                health.append(time.perf_counter() - began)
            for stream in streams:
                stream.close()
        log = rig.server.log.read_text() if rig.server else ""
    total = sum(statuses.values())
    fives = sum(n for code, n in statuses.items() if code >= 500)
    snapshots = sum(b"event: snapshot" in f for f in first)
    line = (f"hostile input: {total} malformed requests and hostile admin values, statuses {dict(sorted(statuses.items()))}, "
            f"5xx {fives}, tracebacks in the log {log.count('Traceback')}; 30 clients replaying from event 0 of "
            f"1,500: {snapshots} got a snapshot instead, health max {max(health) * 1000:.0f} ms meanwhile")
    assert fives == 0 and "Traceback" not in log and snapshots == 30, line
    return line


SLOW_HALL_LIMITS = "connections_per_address = 64\nrequest_timeout_s = 3"


async def slow_clients(root: Path, count: int) -> str:
    """`count` connections trickling their headers and `count` stalled bodies from one address
    each: the cap and the deadline free the sockets; another address is served throughout."""
    async with Rig(root, "slow") as rig:
        rig.config.write_text(rig.config.read_text().replace("connections_per_address = 100000", SLOW_HALL_LIMITS))
        url = await rig.start()
        assert rig.server is not None and rig.server.proc is not None
        port = int(url.rsplit(":", 1)[1])
        idle = rss_mb(rig.server.proc.pid)
        conns = []
        refused_at_once = 0
        for i in range(2 * count):
            source = "127.0.0.9" if i < count else "127.0.0.10"
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            except OSError:
                refused_at_once += 1
                continue
            if i < count:
                writer.write(b"GET /api/health HTTP/1.1\r\nHost: ha")
            else:
                writer.write(b"POST /api/tickets HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 500\r\n\r\n{")
            conns.append((reader, writer))
        await asyncio.sleep(0.5)
        peak = rss_mb(rig.server.proc.pid)
        served = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.11", 0))) as session:
            for _ in range(10):
                began = time.perf_counter()
                async with session.get(f"{url}/api/health") as resp:
                    served.append((resp.status, time.perf_counter() - began))
        await asyncio.sleep(3 + 3)

        async def still_open(reader: asyncio.StreamReader) -> bool:
            try:
                while await asyncio.wait_for(reader.read(4096), 0.2):
                    pass
                return False
            except TimeoutError:
                return True
            except ConnectionError:
                return False
        open_after = sum(await asyncio.gather(*(still_open(r) for r, _ in conns)))
        for _, writer in conns:
            writer.close()
        after = rss_mb(rig.server.proc.pid)
    ok = all(status == 200 for status, _ in served)
    line = (f"slow clients: {count} trickling headers + {count} stalled bodies (cap 64 per address, 3 s deadline): "
            f"{open_after} still open after 6 s; another address served {sum(s == 200 for s, _ in served)}/10, "
            f"max {max(t for _, t in served) * 1000:.0f} ms; RSS {idle:.0f} MB idle, {peak:.0f} MB at peak, "
            f"{after:.0f} MB after")
    assert open_after == 0 and ok, line
    return line


async def run(short: bool) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for _name, scenario in (("crash", lambda: crash_under_load(root, 3 if short else 10)),
                               ("printer", lambda: printer_faults(root, 10 if short else 60)),
                               ("gateway", lambda: gateway_faults(root)),
                               ("disk", lambda: disk_full(root)),
                               ("clock", lambda: clock(root)),
                               ("hostile", lambda: hostile_input(root, 3 if short else 30)),
                               ("slow", lambda: slow_clients(root, 100 if short else 2000))):
            line = await scenario()
            print(line, flush=True)
            lines.append(line)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="Giliran's fault suite")
    parser.add_argument("--short", action="store_true", help="the short form CI runs")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "faults.md"))
    args = parser.parse_args()
    os.environ.setdefault("GILIRAN_LOG_LEVEL", "WARNING")
    lines = asyncio.run(run(args.short))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(f"# make faults ({'short' if args.short else 'full'}): "
                              f"{time.strftime('%Y-%m-%d %H:%M %Z')}\n\n" + "\n".join(f"- {x}" for x in lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
