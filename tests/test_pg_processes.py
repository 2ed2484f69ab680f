"""Several `giliran serve` processes of one hall on one PostgreSQL database (a cluster of the test's
own, so it can be stopped): numbering and calling without gaps or repeats, displays on any process
seeing every call, a process killed under load, PostgreSQL stopped and started under load, and two
halls sharing the database. Skipped when PostgreSQL is not installed."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.pgcluster import Cluster, server_binaries
from tests.printer_standin import PrinterStandIn
from tests.server_process import HALL_TOML, ServerProcess, run_cli

PASSWORD = "rahasia-123"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(server_binaries() is None, reason="PostgreSQL is not installed")]


@pytest.fixture(scope="module")
def cluster():
    """A cluster these tests own (one of them stops and starts it)."""
    c = Cluster()
    c.start()
    yield c
    c.destroy()


def hall_file(directory: Path, hall: str, printer_port: int | None = None) -> Path:
    """The test hall, with its id, and a network printer at a kiosk when a port is given."""
    text = HALL_TOML.replace('[hall]\n', f'[hall]\nid = "{hall}"\n', 1)
    if printer_port is not None:
        text += (f'\n[[printers]]\nid = "P1"\ndriver = "network"\nhost = "127.0.0.1"\nport = {printer_port}\n'
                 f'retry_max_s = 0.5\nconfirm_wait_s = 3\n\n[[kiosks]]\nid = "K1"\nname = "Kios 1"\nprinter = "P1"\n')
    path = directory / f"{hall}.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def start_hall(cluster: Cluster, directory: Path, hall: str, processes: int,
                     printer_port: int | None = None, env: dict[str, str] | None = None
                     ) -> tuple[Path, list[ServerProcess]]:
    config = hall_file(directory, hall, printer_port)
    db = cluster.url()
    code, _, err = await run_cli("user", "add", "admin", "--role", "admin", "--password-stdin", "--config",
                                 str(config), "--db", db, stdin=PASSWORD + "\n")
    assert code == 0, err
    servers = [ServerProcess(config, db, env={"GILIRAN_LOG_LEVEL": "WARNING"} | (env or {}),
                             log=directory / f"{hall}-{i}.log") for i in range(processes)]
    await asyncio.gather(*(s.start() for s in servers))
    return config, servers


async def stop_all(servers: list[ServerProcess]) -> None:
    for server in servers:
        if server.proc is not None and server.proc.returncode is None:
            await server.stop()
        assert "Traceback" not in server.log.read_text(), server.log.read_text()[-3000:]


async def login(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(f"{url}/api/login", json={"username": "admin", "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}


@pytest.mark.parametrize("processes", [2, 3])
async def test_processes_number_and_call_without_gaps_or_repeats(cluster, tmp_path, processes):
    _, servers = await start_hall(cluster, tmp_path, f"multi{processes}", processes)
    urls = [s.url for s in servers]
    issued: list[tuple[str, str]] = []  # (number, token) of every 201
    called: list[str] = []  # the number of every 200 of "next"
    statuses: Counter[int] = Counter()
    try:
        async with aiohttp.ClientSession() as session:
            headers = await login(session, urls[0])  # a session made on one process works on all
            done = asyncio.Event()

            async def kiosk(k: int) -> None:
                rng = random.Random(k)
                for _ in range(40):
                    url = urls[(k + rng.randrange(processes)) % processes]
                    async with session.post(f"{url}/api/tickets", json={"service": rng.choice("AB")}) as resp:
                        statuses[resp.status] += 1
                        if resp.status == 201:
                            body = await resp.json()
                            issued.append((body["number"], body["token"]))

            async def counter(c: str, url: str) -> None:
                while True:
                    async with session.post(f"{url}/api/counters/{c}/next", headers=headers) as resp:
                        statuses[resp.status] += 1
                        if resp.status == 200:
                            called.append((await resp.json())["ticket"]["number"])
                        elif done.is_set():
                            return  # nothing waits any more
                        else:
                            await asyncio.sleep(0.01)

            counters = [asyncio.create_task(counter(c, urls[i % processes])) for i, c in enumerate(("1", "2") * 2)]
            await asyncio.gather(*(kiosk(k) for k in range(8)))
            done.set()
            await asyncio.wait_for(asyncio.gather(*counters), 60)
    finally:
        await stop_all(servers)
    assert set(statuses) <= {200, 201, 204}, statuses
    numbers = [n for n, _ in issued]
    assert len(numbers) == len(set(numbers)) == 320, "no number given twice"
    for prefix in "AB":
        seqs = sorted(int(n[1:]) for n in numbers if n[0] == prefix)
        assert seqs == list(range(1, len(seqs) + 1)), f"service {prefix} numbered without gaps"
    assert Counter(called) == Counter(numbers), "every ticket called exactly once"


async def read_sse(resp: aiohttp.ClientResponse, want: int, timeout: float = 10) -> list[dict]:
    events, current = [], {}
    async with asyncio.timeout(timeout):
        while len(events) < want:
            line = (await resp.content.readline()).decode().rstrip("\r\n")
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
    return events


async def test_a_call_on_one_process_reaches_displays_on_the_others(cluster, tmp_path):
    _, servers = await start_hall(cluster, tmp_path, "display", 3)
    a, b, c = (s.url for s in servers)
    try:
        async with aiohttp.ClientSession() as session:
            headers = await login(session, a)
            for url in (a, b, c):
                async with session.post(f"{url}/api/tickets", json={"service": "A"}) as resp:
                    assert resp.status == 201
            stream = await session.get(f"{b}/api/events")
            (snapshot,) = await read_sse(stream, 1)
            latencies = []
            for _ in range(3):
                started = time.monotonic()
                async with session.post(f"{a}/api/counters/1/next", headers=headers) as resp:
                    number = (await resp.json())["ticket"]["number"]
                while True:
                    (event,) = await read_sse(stream, 1)
                    if event["event"] == "ticket.called":
                        break
                latencies.append(time.monotonic() - started)
                assert event["data"]["number"] == number
            last = event["id"]
            stream.close()
            # The display moves to another process and misses nothing meanwhile.
            async with session.post(f"{c}/api/counters/1/recall", headers=headers) as resp:
                assert resp.status == 200
            async with session.post(f"{b}/api/tickets", json={"service": "B"}) as resp:
                assert resp.status == 201
            async with session.post(f"{a}/api/counters/2/next", headers=headers) as resp:
                assert resp.status == 200
            stream = await session.get(f"{c}/api/events", headers={"Last-Event-ID": last})
            missed = await read_sse(stream, 1)
            while sum(e["event"] == "ticket.called" for e in missed) < 2:
                missed += await read_sse(stream, 1)
            assert missed[0]["event"] != "snapshot"
            assert [int(e["id"]) for e in missed] == list(range(int(last) + 1, int(last) + 1 + len(missed)))
            calls = [(e["data"]["number"], e["data"]["recall"]) for e in missed if e["event"] == "ticket.called"]
            assert calls == [(number, True), ("B001", False)]
            stream.close()
            print(f"\ncall on one process -> display on another: {', '.join(f'{x * 1000:.1f}' for x in latencies)} ms")
    finally:
        await stop_all(servers)


async def test_a_process_killed_under_load_loses_nothing_and_its_printer_moves(cluster, tmp_path):
    printer = PrinterStandIn()
    await printer.start()
    _, servers = await start_hall(cluster, tmp_path, "sigkill", 2, printer.port)
    acked: dict[str, str] = {}
    try:
        async with aiohttp.ClientSession() as session:
            headers = await login(session, servers[0].url)
            driving = []
            for server in servers:
                async with session.get(f"{server.url}/api/printers", headers=headers) as resp:
                    driving.append((await resp.json())[0]["driven_here"])
            assert sorted(driving) == [False, True], "exactly one process drives the printer"
            victim = servers[driving.index(True)]
            survivor = servers[driving.index(False)]
            # A ticket taken on the process that does not print is confirmed printed all the same.
            async with session.post(f"{survivor.url}/api/tickets", json={"service": "A", "kiosk": "K1"}) as resp:
                body = await resp.json()
                assert body["print"]["state"] == "printed", body
                acked[body["token"]] = body["number"]
            stop = asyncio.Event()

            async def kiosk(server: ServerProcess) -> None:
                while not stop.is_set():
                    try:
                        async with session.post(f"{server.url}/api/tickets",
                                                json={"service": "B", "kiosk": "K1"}) as resp:
                            if resp.status == 201:
                                body = await resp.json()
                                acked[body["token"]] = body["number"]
                    except aiohttp.ClientError:
                        if server is victim:
                            return
            tasks = [asyncio.create_task(kiosk(s)) for s in servers for _ in range(3)]
            async with asyncio.timeout(30):
                while len(acked) < 60:
                    await asyncio.sleep(0.01)
            await victim.kill()
            before = len(acked)
            async with asyncio.timeout(30):
                while len(acked) < before + 40:
                    await asyncio.sleep(0.01)
            stop.set()
            await asyncio.gather(*tasks)
            for token, number in acked.items():
                async with session.get(f"{survivor.url}/api/tickets/{token}") as resp:
                    assert resp.status == 200 and (await resp.json())["number"] == number
            numbers = sorted(int(n[1:]) for n in acked.values() if n[0] == "B")
            assert len(numbers) == len(set(numbers)), "no number twice across the crash"
            # The survivor took the printer over and prints everything, the crash's tickets too.
            async with asyncio.timeout(30):
                while True:
                    async with session.get(f"{survivor.url}/api/printers", headers=headers) as resp:
                        row = (await resp.json())[0]
                    if row["driven_here"] and row["pending"] == 0:
                        break
                    await asyncio.sleep(0.2)
            printed = "".join(job.data.decode("cp437", "replace") for job in printer.jobs)
            assert all(number in printed for number in acked.values())
    finally:
        await stop_all(servers)
        await printer.stop()


async def test_postgresql_stopped_and_started_under_load(cluster, tmp_path):
    _, servers = await start_hall(cluster, tmp_path, "outage", 2)
    acked: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    try:
        async with aiohttp.ClientSession() as session:
            stop = asyncio.Event()

            async def kiosk(url: str) -> None:
                while not stop.is_set():
                    async with session.post(f"{url}/api/tickets", json={"service": "A"}) as resp:
                        statuses[resp.status] += 1
                        if resp.status == 201:
                            body = await resp.json()
                            acked[body["token"]] = body["number"]
                        else:
                            body = await resp.json()
                            assert resp.status == 503 and body["error"]["code"] == "storage_unavailable", body
                            await asyncio.sleep(0.05)
            tasks = [asyncio.create_task(kiosk(s.url)) for s in servers for _ in range(3)]
            async with asyncio.timeout(30):
                while len(acked) < 50:
                    await asyncio.sleep(0.01)
            await asyncio.to_thread(cluster.stop, "fast")
            async with asyncio.timeout(30):
                while statuses[503] < 10:
                    await asyncio.sleep(0.01)
            await asyncio.to_thread(cluster.start)
            after = {s.url: len(acked) for s in servers}
            async with asyncio.timeout(60):  # both processes issue again, neither restarted
                while len(acked) < max(after.values()) + 50:
                    await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*tasks)
            assert all(s.proc is not None and s.proc.returncode is None for s in servers)
            for url in (s.url for s in servers):
                async with session.get(f"{url}/api/health") as resp:
                    assert resp.status == 200
            for token, number in acked.items():
                async with session.get(f"{servers[0].url}/api/tickets/{token}") as resp:
                    assert resp.status == 200 and (await resp.json())["number"] == number
        assert set(statuses) == {201, 503}, statuses
        numbers = [int(n[1:]) for n in acked.values()]
        assert len(numbers) == len(set(numbers))
    finally:
        await stop_all(servers)


async def test_two_halls_sharing_a_database_stay_apart(cluster, tmp_path):
    _, (kota,) = await start_hall(cluster, tmp_path, "mpp-kota", 1)
    _, (desa,) = await start_hall(cluster, tmp_path, "gempungan-desa", 1)
    try:
        async with aiohttp.ClientSession() as session:
            tokens = []
            for _ in range(3):
                async with session.post(f"{kota.url}/api/tickets", json={"service": "A"}) as resp:
                    tokens.append((await resp.json())["token"])
            async with session.post(f"{desa.url}/api/tickets", json={"service": "A"}) as resp:
                assert (await resp.json())["number"] == "A001", "each hall numbers its own"
            async with session.get(f"{desa.url}/api/tickets/{tokens[0]}") as resp:
                assert resp.status == 404, "a hall cannot read another's ticket"
            headers = await login(session, kota.url)
            async with session.post(f"{desa.url}/api/counters/1/next", headers=headers) as resp:
                assert resp.status == 401, "a session of one hall is nothing in another"
            async with session.get(f"{desa.url}/api/services") as resp:
                waiting = {s["code"]: s["waiting"] for s in await resp.json()}
            assert waiting["A"] == 1
    finally:
        await stop_all([kota, desa])


async def test_one_process_polls_telegram_and_every_process_answers_through_it(cluster, tmp_path):
    from tests.telegram_standin import BotApiStandIn
    telegram = BotApiStandIn()
    api = await telegram.start()
    env = {"GILIRAN_TELEGRAM_TOKEN": telegram.token, "GILIRAN_TELEGRAM_API_URL": api}
    _, servers = await start_hall(cluster, tmp_path, "telegram", 2, env=env)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{servers[1].url}/api/tickets", json={"service": "A"}) as resp:
                ticket = await resp.json()
            telegram.user_sends(777, f"/start {ticket['token']}")
            async with asyncio.timeout(30):
                while not telegram.texts(777):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(2)  # long enough for a second poller to have collided
        assert telegram.conflicts == 0, "only one process polls Telegram"
        texts = telegram.texts(777)
        assert ticket["number"] in texts[0] and len(texts) == len(set(texts)), "answered once, by one process"
    finally:
        await stop_all(servers)
        await telegram.stop()


async def test_login_throttling_holds_across_processes(cluster, tmp_path):
    _, servers = await start_hall(cluster, tmp_path, "throttle", 2)
    try:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for i in range(7):  # a guesser whose attempts a proxy spreads over both processes
                url = servers[i % 2].url
                async with session.post(f"{url}/api/login", json={"username": "admin", "password": "salah"}) as r:
                    statuses.append(r.status)
        assert statuses == [401] * 5 + [429] * 2, "five failures in all, not five per process"
    finally:
        await stop_all(servers)
