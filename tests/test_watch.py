"""The status page's own stream: a phone hears about its ticket, only when what it shows changes."""

from __future__ import annotations

import asyncio

from kiosk.web.watch import WATCH
from tests.conftest import login, take
from tests.test_events import read_events


async def test_a_phone_follows_its_ticket_through_calls_and_a_transfer(client):
    staff = await login(client, "siti", "supervisor")
    client.server.app[WATCH].refresh_s = 0.3  # people ahead are refreshed every 5 s in a hall
    first = await take(client, "B")
    mine = await take(client, "B")
    resp = await client.get(f"/api/tickets/{mine['token']}/events")
    [now] = await read_events(resp, 1)
    assert now["event"] == "ticket" and now["data"]["ahead"] == 1 and "phone" not in now["data"]
    for _ in range(5):  # others joining behind change nothing this page shows: nothing is sent
        await take(client, "B")
    await client.post("/api/counters/1/next", headers=staff)  # the one ahead
    [update] = await read_events(resp, 1)
    assert update["data"]["ahead"] == 0 and update["data"]["state"] == "waiting"
    assert first["number"] != mine["number"]
    await client.post("/api/counters/1/next", headers=staff)  # mine
    [called] = await read_events(resp, 1)
    assert called["data"]["state"] == "called" and called["data"]["counter_name"] == "Loket 1"
    await client.post("/api/counters/1/transfer", headers=staff, json={"service": "A"})
    [moved] = await read_events(resp, 1)
    assert moved["data"]["service"] == "A" and moved["data"]["state"] == "waiting"
    watch = client.server.app[WATCH]
    assert {f.service for fs in watch.by_service.values() for f in fs} == {"A"}, "followed into its new service"
    resp.close()
    async with asyncio.timeout(5):
        while watch.count:
            await asyncio.sleep(0.05)


async def test_a_wrong_token_gets_nothing(client):
    resp = await client.get("/api/tickets/bukan-token/events")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_ticket"


async def test_many_pages_each_hear_their_own_place(client):
    # More pages than one slice of a refresh pass: every page learns its own new place once.
    staff = await login(client, "siti", "supervisor")
    client.server.app[WATCH].refresh_s = 0.1
    tickets = [await take(client, "B") for _ in range(45)]
    streams = [await client.get(f"/api/tickets/{t['token']}/events") for t in tickets]
    firsts = [(await read_events(resp, 1))[0]["data"] for resp in streams]
    assert [v["ahead"] for v in firsts] == list(range(45))
    await client.post("/api/counters/1/next", headers=staff)
    [called] = await read_events(streams[0], 1)
    assert called["data"]["state"] == "called"
    updates = [(await read_events(resp, 1))[0]["data"] for resp in streams[1:]]
    assert [v["ahead"] for v in updates] == list(range(44))
    assert all(v["state"] == "waiting" and v["number"] == t["number"] for v, t in zip(updates, tickets[1:], strict=False))
    assert all(v["estimated_wait_text"] for v in updates[1:])
    for resp in streams:
        resp.close()
