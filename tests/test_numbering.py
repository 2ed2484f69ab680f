"""Numbers per service per local day, the midnight rollover, quotas and opening hours."""

from __future__ import annotations

import pytest

from kiosk.queue.errors import Conflict
from kiosk.queue.models import EXPIRED, WAITING, CounterState
from tests.conftest import wib


async def test_numbers_are_per_service_and_zero_padded(queue):
    numbers = [(await queue.issue(code)).number for code in ("A", "A", "B", "A", "B")]
    assert numbers == ["A001", "A002", "B001", "A003", "B002"]


async def test_numbering_restarts_at_local_midnight(queue, clock):
    clock.set(wib(2026, 11, 25, 23, 58))
    await queue.issue("B")
    last = await queue.issue("B")
    await queue.call_next("1", "siti")  # B001 is being called when midnight passes
    assert last.number == "B002" and last.day == "2026-11-25"
    clock.set(wib(2026, 11, 26, 0, 1))  # 17:01 UTC the previous day: the local day decides
    fresh = await queue.issue("B")
    assert (fresh.number, fresh.day) == ("B001", "2026-11-26")
    reads = queue.store.reads
    assert (await reads.ticket_by_token(last.token)).state == EXPIRED
    old_called = await reads.ticket_by_id(last.id - 1)
    assert old_called.state == EXPIRED, "a ticket still called at midnight ends as expired"
    called, closed = await queue.call_next("1", "siti")
    assert called.id == fresh.id and closed is None, "yesterday's tickets never block today"


async def test_phone_numbers_are_erased_when_the_day_is_over(queue, clock):
    ticket = await queue.issue("A", phone="0812-3456-7890")
    assert (await queue.store.reads.ticket_by_token(ticket.token)).phone == "+6281234567890"
    clock.advance(24 * 3600)
    await queue.issue("A")
    assert (await queue.store.reads.ticket_by_token(ticket.token)).phone is None


async def test_daily_quota(queue, clock):
    tickets = [await queue.issue("A") for _ in range(5)]
    with pytest.raises(Conflict) as info:
        await queue.issue("A")
    assert info.value.code == "quota_exhausted" and "Kuota" in info.value.message
    overview = {s["code"]: s for s in await queue.views.services_overview()}
    assert overview["A"]["quota_left"] == 0 and overview["A"]["unavailable_reason"] == "quota_exhausted"
    await queue.cancel(tickets[0].token)
    assert (await queue.issue("A")).number == "A006", "a cancelled number frees quota, numbers never repeat"
    clock.advance(24 * 3600)
    assert (await queue.issue("A")).number == "A001", "the quota is per day"


async def test_opening_hours(queue, clock):
    clock.set(wib(2026, 11, 25, 7, 59))
    with pytest.raises(Conflict) as info:
        await queue.issue("P")
    assert info.value.code == "service_closed" and "08:00-12:00" in info.value.message
    clock.set(wib(2026, 11, 25, 8, 0))
    assert (await queue.issue("P")).state == WAITING
    clock.set(wib(2026, 11, 25, 12, 0))
    with pytest.raises(Conflict):
        await queue.issue("P")
    overview = {s["code"]: s for s in await queue.views.services_overview()}
    assert overview["P"]["open"] is False and overview["P"]["unavailable_reason"] == "service_closed"
    assert overview["B"]["open"] is True and overview["B"]["quota_left"] is None


async def test_clock_jumping_back_neither_reorders_nor_renumbers(queue, clock):
    first = await queue.issue("B")
    clock.advance(-3600)  # an NTP correction
    second = await queue.issue("B")
    assert second.number == "B002"
    called, _ = await queue.call_next("1", "siti")
    assert called.id == first.id


async def test_estimates_use_live_service_times(queue, clock):
    # Prior: 5 minutes per ticket, 8 counters serve B, none at work yet: no estimate (docs/estimates.md).
    for _ in range(8):
        await queue.issue("B")
    view = await queue.views.ticket_view(await queue.issue("B"))
    assert view["ahead"] == 8
    assert view["estimated_wait_s"] is None and view["estimated_wait_text"] == "belum dapat diperkirakan"
    # Only counter 1 works today, and it takes 20 minutes per ticket.
    for _ in range(6):
        await queue.call_next("1", "siti")
        await queue.start_service("1", "siti")
        clock.advance(1200)
        await queue.finish("1", "siti")
    view = await queue.views.ticket_view(await queue.store.reads.ticket_by_token(view["token"]))
    assert view["ahead"] == 2
    mean = (300 * 5 + 6 * 1200) / 11  # the prior counts as five visits
    assert view["estimated_wait_s"] == round(2 * mean), "counter 1 is free: two visits before ours"


async def test_estimate_given_at_issue_follows_counters_and_service_times(queue, clock):
    # Issuing keeps each service's forecast between tickets; any other write (a finished visit, a
    # paused counter) must show in the very next ticket's estimate.
    await queue.take("B")
    _, view = await queue.take("B")
    assert view["ahead"] == 1 and view["estimated_wait_s"] is None, "no counter works B yet"
    for _ in range(2):  # counter 1 takes 20 minutes per visit
        await queue.call_next("1", "siti")
        await queue.start_service("1", "siti")
        clock.advance(1200)
        await queue.finish("1", "siti")
    await queue.take("B")
    _, view = await queue.take("B")
    mean = (300 * 5 + 2 * 1200) / 7
    assert view["ahead"] == 1 and view["estimated_wait_s"] == round(mean), "only counter 1 works today"
    await queue.pause("1", "siti")
    _, view = await queue.take("B")
    assert view["ahead"] == 2 and view["estimated_wait_s"] is None, "no counter working: no estimate"


async def test_estimate_after_an_undone_write_is_not_taken_from_it(queue):
    await queue.take("B")
    with pytest.raises(RuntimeError):
        async with queue.writer.write() as w:  # a write that makes counter 1 active, reads the load, then fails
            await w.q.save_counter_state(CounterState("1", False, 0, w.day))
            assert (await queue.loads.in_work(w, "B")).servers == 1
            raise RuntimeError("the write fails")
    _, view = await queue.take("B")
    assert view["ahead"] == 1 and view["estimated_wait_s"] is None, "the undone change is not used"


async def test_a_clock_set_back_never_puts_new_tickets_ahead(db_at, clock, config):
    # The order of a queue is the tickets' places (the moment each joined): a clock pulled back an
    # hour (an NTP fix) must not let later tickets overtake those already waiting, in this process
    # or after a restart.
    from kiosk.queue.events import EventBus
    from kiosk.runtime import Runtime
    from kiosk.storage import create_store

    async def runtime_on(path):
        store = create_store(path, synchronous="NORMAL")
        await store.open()
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        return store, runtime

    store, rt = await runtime_on(db_at("place"))
    try:
        first = [await rt.queue.issue("B") for _ in range(2)]
        clock.advance(-3600)
        late = await rt.queue.issue("B")
        assert await store.reads.ahead_of(await store.reads.ticket_by_id(late.id)) == 2
    finally:
        await store.close()
    store, rt = await runtime_on(db_at("place"))  # restarted, the clock still an hour back
    try:
        later = await rt.queue.issue("B")
        called = [(await rt.queue.call_next("1", "siti"))[0].number for _ in range(4)]
        assert called == [t.number for t in (*first, late, later)] == ["B001", "B002", "B003", "B004"]
    finally:
        await store.close()


@pytest.mark.sqlite_only  # the PostgreSQL form: tests/test_postgres_store.py
async def test_tickets_of_an_older_database_keep_their_order(tmp_path, clock, config):
    # Schema 5 ordered a queue by ticket id; the migration gives every ticket its place (its issue
    # time), so a database upgraded in the middle of a day calls its waiting tickets in the same order.
    import sqlite3

    from kiosk.queue.events import EventBus
    from kiosk.runtime import Runtime
    from kiosk.storage import create_store
    from kiosk.storage.sqlite.migrations import MIGRATIONS, statements

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:5]:
            for statement in statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 5")
        at = clock.now()
        for seq in (1, 2, 3):
            conn.execute("INSERT INTO tickets (token, day, prefix, seq, number, service, state, issued_at) "
                         "VALUES (?, '2026-11-25', 'B', ?, ?, 'B', 'waiting', ?)",
                         (f"tok{seq}", seq, f"B{seq:03d}", at + seq))
    store = create_store(path, synchronous="NORMAL")
    await store.open()
    try:
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        new = await runtime.queue.issue("B")
        assert new.number == "B004"
        called = [(await runtime.queue.call_next("1", "siti"))[0].number for _ in range(4)]
        assert called == ["B001", "B002", "B003", "B004"]
    finally:
        await store.close()
