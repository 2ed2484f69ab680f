"""A server killed with SIGKILL loses nothing it acknowledged and never repeats a number."""

from __future__ import annotations

import asyncio
import random

import aiohttp

from tests.server_process import ServerProcess, run_cli, write_hall

PASSWORD = "rahasia-123"


async def _login(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(f"{url}/api/login", json={"username": "admin", "password": PASSWORD}) as resp:
        assert resp.status == 200
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_sigkill_while_issuing_loses_no_acknowledged_ticket(tmp_path, db_at):
    config, db = write_hall(tmp_path), db_at("hall")
    code, _, err = await run_cli("user", "add", "admin", "--role", "admin", "--password-stdin", "--config",
                                 str(config), "--db", str(db), stdin=PASSWORD + "\n")
    assert code == 0, err
    rng = random.Random(9)
    acked: dict[str, str] = {}      # token -> number, for every 201 the clients saw
    called: dict[str, str] = {}     # number -> counter, for every 200 of "next"
    for round_ in range(3):
        server = ServerProcess(config, db)
        url = await server.start()
        stop = asyncio.Event()

        async def issue(session: aiohttp.ClientSession) -> None:
            while not stop.is_set():
                try:
                    async with session.post(f"{url}/api/tickets", json={"service": rng.choice("AB")}) as resp:
                        if resp.status == 201:
                            body = await resp.json()
                            acked[body["token"]] = body["number"]
                except aiohttp.ClientError:
                    return

        async def work(session: aiohttp.ClientSession, counter: str, headers: dict[str, str]) -> None:
            while not stop.is_set():
                try:
                    async with session.post(f"{url}/api/counters/{counter}/next", headers=headers) as resp:
                        if resp.status == 200:
                            called[(await resp.json())["ticket"]["number"]] = counter
                except aiohttp.ClientError:
                    return

        async with aiohttp.ClientSession() as session:
            headers = await _login(session, url)
            tasks = [asyncio.create_task(issue(session)) for _ in range(8)]
            tasks += [asyncio.create_task(work(session, c, headers)) for c in ("1", "2")]
            target = 60 * (round_ + 1)
            async with asyncio.timeout(60):
                while len(acked) < target:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(rng.random() * 0.2)  # kill at a random moment, requests in flight
            await server.kill()
            stop.set()
            await asyncio.gather(*tasks)

    server = ServerProcess(config, db)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            for token, number in acked.items():
                async with session.get(f"{url}/api/tickets/{token}") as resp:
                    assert resp.status == 200, f"acknowledged ticket {number} was lost"
                    body = await resp.json()
                    assert body["number"] == number
                    if number in called:
                        assert body["state"] in ("called", "no_show", "expired"), (number, body["state"])
            numbers = list(acked.values())
            for _ in range(20):
                async with session.post(f"{url}/api/tickets", json={"service": "A"}) as resp:
                    assert resp.status == 201
                    numbers.append((await resp.json())["number"])
            assert len(numbers) == len(set(numbers)), "a number was handed out twice"
            assert len(acked) >= 180
    finally:
        assert await server.stop() == 0, "SIGTERM shuts the server down cleanly"
