"""The alert policy inside the queue's transactions: what is queued, once, and when."""

from __future__ import annotations

from kiosk.hall.parse import parse_hall
from notifier.policy import AlertPolicy
from tests.conftest import hall_dict

SERVICES = [{"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL"},
            {"code": "B", "name": "Kartu Keluarga", "agency": "DUKCAPIL", "approach_ahead": 0,
             "approach_minutes": 0},
            {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}]


async def make(runtime_factory, **alerts):
    config = parse_hall(hall_dict(services=SERVICES, alerts={"approach_ahead": 3, "approach_minutes": 10} | alerts))
    runtime = await runtime_factory(config)
    runtime.writer.add_hook(AlertPolicy(runtime.queue))
    return runtime


async def stages(runtime, ticket):
    return [(m["stage"], m["channel"], m["state"]) for m in await runtime.following.messages(ticket.token)]


async def test_approaching_by_people_ahead_fires_once(runtime_factory):
    rt = await make(runtime_factory, approach_minutes=0)
    queue = rt.queue
    waiting = [await queue.issue("A") for _ in range(5)]
    mine = await queue.issue("A")
    await rt.following.subscribe(mine.token, "telegram", "42")
    assert await stages(rt, mine) == [("subscribed", "telegram", "pending")]
    await queue.call_next("2", "siti")  # 4 ahead
    assert len(await stages(rt, mine)) == 1
    await queue.call_next("2", "siti")  # 3 ahead: approaching
    await queue.call_next("2", "siti")
    await queue.cancel(waiting[4].token)
    assert await stages(rt, mine) == [("subscribed", "telegram", "pending"), ("approaching", "telegram", "pending")]


async def test_approaching_by_estimated_minutes(runtime_factory):
    rt = await make(runtime_factory, approach_ahead=0, approach_minutes=8)
    queue = rt.queue
    for _ in range(3):
        await queue.issue("P")
    mine = await queue.issue("P")  # 3 ahead x 5 min / 1 counter = 15 min
    await rt.following.subscribe(mine.token, "sms", "+6281234567890")
    assert await stages(rt, mine) == [], "SMS has no confirmation message"
    await queue.call_next("3", "siti")  # 2 ahead: 10 min
    assert await stages(rt, mine) == []
    await queue.call_next("3", "siti")  # 1 ahead: 5 min <= 8
    assert await stages(rt, mine) == [("approaching", "sms", "pending")]


async def test_per_service_override_and_sms_stages(runtime_factory):
    rt = await make(runtime_factory)
    queue = rt.queue
    first = await queue.issue("B")
    mine = await queue.issue("B", phone="0812 3456 7890")
    await rt.following.subscribe(mine.token, "telegram", "42")
    assert ("approaching", "telegram", "pending") not in await stages(rt, mine), "B: only when nobody is ahead"
    await queue.call_next("1", "siti")
    assert first.number == "B001"
    got = await stages(rt, mine)
    assert ("approaching", "sms", "pending") in got and ("approaching", "telegram", "pending") in got
    await queue.call_next("1", "siti")
    await queue.recall("1", "siti")
    await queue.transfer("1", "A", "siti")
    got = await stages(rt, mine)
    assert ("called", "sms", "pending") in got and ("recalled", "telegram", "pending") in got
    assert ("recalled", "sms", "pending") not in got and ("transferred", "sms", "pending") not in got
    assert ("transferred", "telegram", "pending") in got


async def test_nothing_waits_to_be_sent_once_the_ticket_is_over(runtime_factory):
    rt = await make(runtime_factory)
    queue = rt.queue
    mine = await queue.issue("A")
    await rt.following.subscribe(mine.token, "telegram", "42")
    await queue.call_next("2", "siti")
    await queue.start_service("2", "siti")
    await queue.finish("2", "siti")
    got = await stages(rt, mine)
    assert got[-1] == ("done", "telegram", "pending")
    assert all(state == "cancelled" for _, _, state in got[:-1])


async def test_subscribing_to_a_finished_or_unknown_ticket_is_refused(runtime_factory):
    import pytest

    from kiosk.queue.errors import Conflict, NotFound
    rt = await make(runtime_factory)
    queue = rt.queue
    ticket = await queue.issue("A")
    await queue.cancel(ticket.token)
    with pytest.raises(Conflict) as info:
        await rt.following.subscribe(ticket.token, "telegram", "42")
    assert info.value.code == "ticket_closed"
    with pytest.raises(NotFound):
        await rt.following.subscribe("nope", "telegram", "42")


async def test_phone_numbers_leave_with_the_day(runtime_factory, clock):
    rt = await make(runtime_factory)
    queue = rt.queue
    mine = await queue.issue("A", phone="0812 3456 7890")
    for _ in range(2):
        await queue.issue("A")
    clock.advance(24 * 3600)
    await queue.issue("A")
    rows = await queue.store.reads.messages_for_ticket(mine.id)
    assert all(r["address"] == "" for r in rows if r["channel"] == "sms")
    assert await queue.store.reads.subscriptions(mine.id) == []
    assert (await queue.store.reads.ticket_by_id(mine.id)).phone is None
