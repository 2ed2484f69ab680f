"""Exactly once under load (issue 15): thousands of SMS through the `http` provider to a gateway
stand-in that counts every message it receives, while kiosks issue, counters call and phones
read their tickets' pages; not one arrives twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from aiohttp import web

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.web.appkeys import QUEUE
from tests.conftest import hall_dict, query

TICKETS = 5200  # each gets "approaching" and "called": more than 10,000 messages


@pytest.mark.timeout(900)  # on PostgreSQL each of the 10,000 records is a transaction with its own flush
async def test_ten_thousand_sms_under_load_none_twice(aiohttp_client, db_at):
    received: Counter[tuple[str, str]] = Counter()
    called_told: set[str] = set()

    async def gateway(request: web.Request) -> web.Response:
        body = await request.json()
        received[(body["to"], body["message"])] += 1
        if " DIPANGGIL" in body["message"]:
            called_told.add(body["message"].split()[2])
        return web.json_response({"ok": True})

    gw = web.Application()
    gw.router.add_post("/kirim", gateway)
    runner = web.AppRunner(gw)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    doc = hall_dict(alerts={"approach_ahead": 3, "approach_minutes": 0, "retry_first_s": 0.2},
                    sms={"provider": "http", "base_url": url, "path": "/kirim", "rate_per_minute": 100000})
    db = db_at("once")
    client = await aiohttp_client(create_app(Settings(db=db), config=parse_hall(doc), synchronous="NORMAL",
                                             printing=False))
    queue = client.server.app[QUEUE]
    tokens: list[str] = []
    issued = asyncio.Event()
    rng = random.Random(15)

    async def kiosk(first: int) -> None:
        for i in range(first, TICKETS, 4):
            ticket = await queue.issue("B", phone=f"0812{10_000_000 + i}")
            tokens.append(ticket.token)
            if i % 8 == first:
                await asyncio.sleep(0)

    async def counter(counter_id: str) -> None:
        while not (issued.is_set() and await queue.store.reads.waiting_count(queue.today(), "B") == 0):
            called, _ = await queue.call_next(counter_id, None)
            # The citizen comes once the SMS arrived: the next call ends this visit, and would drop
            # a "called" SMS still unsent (it would not count).
            async with asyncio.timeout(60):
                while called and called.number not in called_told:
                    await asyncio.sleep(0.005)
            await asyncio.sleep(0.001 if called else 0.05)

    async def phone() -> None:  # citizens' status pages read through the shared reader connection
        while not issued.is_set() or await queue.store.reads.waiting_count(queue.today(), "B"):
            if tokens:
                resp = await client.get(f"/api/tickets/{rng.choice(tokens[-50:])}")
                assert resp.status == 200
            await asyncio.sleep(0.002)

    workers = [asyncio.create_task(counter(c)) for c in ("1", "4", "5", "6", "7", "8", "9", "10")]
    workers += [asyncio.create_task(phone()) for _ in range(4)]
    await asyncio.gather(*(kiosk(k) for k in range(4)))
    issued.set()
    await asyncio.gather(*workers)

    def rows(sql: str) -> list[tuple]:
        return query(db, sql)

    async with asyncio.timeout(120):
        while rows("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"):
            await asyncio.sleep(0.2)
    twice = {key: n for key, n in received.items() if n > 1}
    sent = Counter((address, text) for address, text in rows("SELECT address, text FROM outbox WHERE state = 'sent'"))
    print(f"\n{sum(received.values())} messages received, {len(twice)} of them more than once")
    assert sum(received.values()) >= 10_000, sum(received.values())
    assert twice == {}, f"{len(twice)} of {sum(received.values())} messages arrived more than once"
    assert sent == received, "every message recorded as sent arrived once, and every one that arrived is recorded sent"
    await runner.cleanup()
