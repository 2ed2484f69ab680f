"""`giliran migrate-to`: a hall's SQLite history moves into PostgreSQL whole, verified by counts,
and the hall goes on there where it stopped."""

from __future__ import annotations

import json

from kiosk.hall.parse import parse_hall
from kiosk.queue.events import EventBus
from kiosk.runtime import Runtime
from kiosk.staff.auth import StaffAuth
from kiosk.storage import create_store
from tests.conftest import hall_dict
from tests.server_process import run_cli


async def _history(path, clock) -> dict[str, int]:
    """A morning in an SQLite hall: tickets (one with a phone), calls, a finished visit, a user, a
    print job, a running text. Returns the rows per table."""
    config = parse_hall(hall_dict(hall={"name": "MPP Lama", "timezone": "Asia/Jakarta", "id": "mpp-lama",
                                        "public_url": "http://hall.test"}))
    store = create_store(path)
    await store.open()
    try:
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        queue = runtime.queue
        for i in range(12):
            await queue.take("B", phone="0812 3456 7890" if i == 3 else None, kiosk="KV")
        for _ in range(3):
            await queue.call_next("1", "siti")
        await queue.start_service("1", "siti")
        await queue.finish("1", "siti")
        await queue.issue("A", priority=True, priority_reason="lansia")
        await StaffAuth(store, config, clock).add_user("siti", "rahasia-123", "officer", ["1"], config)
        await runtime.hall.set_ticker("Selamat datang", "siti")
        clock.advance(60)
        rows = await store.reads._all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'")
        return {r[0]: int((await store.reads._one(f"SELECT COUNT(*) FROM {r[0]}"))[0]) for r in rows}
    finally:
        await store.close()


async def test_a_hall_moves_to_postgresql_with_every_row(pg_server, tmp_path, clock):
    source = tmp_path / "lama.sqlite3"
    before = await _history(source, clock)
    assert before["tickets"] == 13 and before["outbox"] + before["subscriptions"] >= 1 and before["users"] == 1
    code, out, err = await run_cli("migrate-to", "--db", pg_server, "--from", str(source))
    assert code == 0, err
    assert "hall_mpp_lama" not in err and "mpp-lama" in out, "the hall's id comes from the hall it kept"
    counted = {line.split()[0]: (int(line.split()[1]), int(line.split()[2])) for line in out.splitlines()
               if line.endswith(" ok")}
    for table, n in before.items():
        assert counted[table] == (n, n), table
    store = create_store(f"{pg_server}?hall=mpp-lama")
    await store.open()
    try:
        assert json.loads(await store.reads.setting("hall"))["hall"]["name"] == "MPP Lama"
        assert await store.reads.setting("display.ticker") == "Selamat datang"
        assert (await store.reads.user_by_name("SITI")).counters == ("1",)
        config = parse_hall(json.loads(await store.reads.setting("hall")))
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        ticket = await runtime.queue.issue("B")
        assert ticket.number == "B013", "numbering goes on where the SQLite hall stopped"
        assert ticket.id == before["tickets"] + 1, "ids go on too"
        assert await store.reads.waiting_count(runtime.queue.today(), "B") == 12 - 3 + 1
        called, _ = await runtime.queue.call_next("2", None)
        assert called.number == "A001", "the priority ticket kept its place"
        events = await store.reads.events_after(0)
        assert [e.id for e in events] == sorted(e.id for e in events) and len(events) > before["events"]
    finally:
        await store.close()
    code, _, err = await run_cli("migrate-to", "--db", pg_server, "--from", str(source))
    assert code == 1 and "already has data" in err, "never into a hall that has data"
    code, _, err = await run_cli("migrate-to", "--db", str(tmp_path / "x.sqlite3"), "--from", str(source))
    assert code == 2 and "PostgreSQL URL" in err
