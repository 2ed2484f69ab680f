"""The public event stream: snapshot on connect, live calls, resume by Last-Event-ID, prompt shutdown."""

from __future__ import annotations

import asyncio
import json

from kiosk.queue.events import EventBus
from kiosk.queue.models import Event
from kiosk.web.appkeys import BUS
from tests.conftest import login, take


async def read_events(resp, count: int, timeout: float = 5.0) -> list[dict]:
    """Parse `count` SSE events from a streaming response."""
    events: list[dict] = []
    current: dict = {}
    async with asyncio.timeout(timeout):
        while len(events) < count:
            line = (await resp.content.readline()).decode()
            assert line, "stream ended early"
            line = line.rstrip("\r\n")
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
    return events


async def test_snapshot_then_live_calls(client):
    headers = await login(client, "siti", "officer", ("1",))
    await take(client, "A", phone="0812 3456 7890")
    resp = await client.get("/api/events")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    (snapshot,) = await read_events(resp, 1)
    assert snapshot["event"] == "snapshot"
    services = {s["code"]: s for s in snapshot["data"]["services"]}
    assert services["A"]["waiting"] == 1 and snapshot["data"]["recent_calls"] == []
    await client.post("/api/counters/1/next", headers=headers)
    called, changed = await read_events(resp, 2)
    assert called["event"] == "ticket.called" and int(called["id"]) > int(snapshot["id"])
    assert called["data"]["number"] == "A001" and called["data"]["counter_name"] == "Loket 1"
    assert changed["event"] == "queue.changed" and changed["data"]["waiting"] == 0
    raw = json.dumps([snapshot, changed, called])
    assert "0812" not in raw and "+62" not in raw and "token" not in raw, "no phone, no token in public events"
    resp.close()


async def test_resume_from_last_event_id_misses_nothing(client):
    headers = await login(client, "siti", "officer", ("1",))
    for _ in range(3):
        await take(client, "B")
    resp = await client.get("/api/events")
    (snapshot,) = await read_events(resp, 1)
    resp.close()  # the display loses its connection ...
    await client.post("/api/counters/1/next", headers=headers)
    await client.post("/api/counters/1/recall", headers=headers)
    await client.post("/api/counters/1/next", headers=headers)
    # ... and comes back with the id of the last event it saw.
    resp = await client.get("/api/events", headers={"Last-Event-ID": snapshot["id"]})
    events = await read_events(resp, 5)
    calls = [(e["data"]["number"], e["data"]["recall"]) for e in events if e["event"] == "ticket.called"]
    assert calls == [("B001", False), ("B001", True), ("B002", False)]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and ids[0] == int(snapshot["id"]) + 1
    await client.post("/api/counters/1/recall", headers=headers)
    (live,) = await read_events(resp, 1)
    assert live["data"]["recall"] is True and int(live["id"]) == ids[-1] + 1
    resp.close()
    resp = await client.get("/api/events", headers={"Last-Event-ID": "999999"})
    (fresh,) = await read_events(resp, 1)
    assert fresh["event"] == "snapshot", "an id from another database gets a new snapshot"
    assert [c["number"] for c in fresh["data"]["recent_calls"]] == ["B002", "B002", "B001", "B001"]
    resp.close()


async def test_shutdown_closes_streams_promptly(aiohttp_server, app, aiohttp_client):
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    others = app[BUS].subscriber_count  # the print spool listens too
    streams = [await client.get("/api/events") for _ in range(5)]
    for resp in streams:
        await read_events(resp, 1)
    assert app[BUS].subscriber_count == others + 5
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(server.close(), timeout=10)
    assert loop.time() - started < 3, "open streams held up shutdown"
    for resp in streams:
        async with asyncio.timeout(2):
            assert await resp.content.read() == b""
    assert app[BUS].subscriber_count == 0


async def test_a_client_that_goes_away_is_forgotten(client):
    resp = await client.get("/api/events")
    await read_events(resp, 1)
    bus = client.server.app[BUS]
    others = bus.subscriber_count - 1
    resp.close()
    await take(client, "A")  # the next event finds the closed connection
    async with asyncio.timeout(5):
        while bus.subscriber_count > others:
            await asyncio.sleep(0.05)


async def test_a_subscription_for_some_types_is_offered_only_those():
    bus = EventBus()
    prints, everything = bus.subscribe(("print.queued",)), bus.subscribe()
    for i, type_ in enumerate(("queue.changed", "print.queued", "ticket.called")):
        bus.publish(Event(id=i + 1, type=type_, data={}, at=0.0))
    assert (await prints.next(0.1)).type == "print.queued"
    assert await prints.next(0.01) is None, "other types never reach it"
    assert [(await everything.next(0.1)).type for _ in range(3)] == ["queue.changed", "print.queued", "ticket.called"]
