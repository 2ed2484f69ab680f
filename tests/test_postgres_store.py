"""The PostgreSQL store itself: statement translation, the two migration lists in step, halls kept
apart, events in commit order across processes, exclusive work, shared rate limits. (The whole
suite runs on PostgreSQL too with GILIRAN_TEST_DB=postgresql; these need a server either way and
are skipped when PostgreSQL is not installed.)"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import pytest

from kiosk.hall.parse import parse_hall
from kiosk.queue.clock import FakeClock
from kiosk.queue.errors import TooManyRequests
from kiosk.queue.events import EventBus
from kiosk.runtime import Runtime
from kiosk.storage import create_store
from kiosk.storage.postgres.connection import translate
from kiosk.storage.postgres.dsn import locate, schema_of
from kiosk.storage.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
from kiosk.storage.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from kiosk.support.ratelimit import RateLimiter
from tests.conftest import hall_dict, wib


def test_statements_are_translated_once_outside_quotes():
    assert translate("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?") == \
        ("SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2", "rows", None)
    assert translate("SELECT ?1, ?2, ?1")[0] == "SELECT $1, $2, $1"
    assert translate("INSERT INTO events (at) VALUES (?)") == ("INSERT INTO events (at) VALUES ($1)", "insert", "events")
    assert translate("INSERT INTO users (a) VALUES (?) RETURNING *")[1] == "rows"
    assert translate("UPDATE t SET a = 'it''s ?' WHERE id = ?")[0] == "UPDATE t SET a = 'it''s ?' WHERE id = $1"
    assert translate("DELETE FROM t WHERE id = ?")[1] == "run"


def test_a_hall_is_named_by_the_url_or_the_hall_file():
    assert locate("postgresql://u:secret@db:5433/regency?hall=mpp-a").hall == "mpp-a"
    where = locate("postgresql://u:secret@db:5433/regency?hall=mpp-a&sslmode=require")
    assert where.dsn == "postgresql://u:secret@db:5433/regency?sslmode=require", "asyncpg never sees hall="
    assert "secret" not in where.shown and "mpp-a" in where.shown
    assert locate("postgresql://db/regency", "mpp-b").schema == "hall_mpp_b" == schema_of("mpp-b")
    assert locate("postgresql://db/regency").hall == "default"
    assert (locate("postgresql://db/regency?pool=4").pool, locate("postgresql://db/regency").pool) == (4, 10)
    assert "pool" not in locate("postgresql://db/regency?pool=4").dsn
    with pytest.raises(ValueError, match="pool size"):
        locate("postgresql://db/regency?pool=0")
    with pytest.raises(ValueError, match="names hall 'mpp-a' but the hall is 'mpp-b'"):
        locate("postgresql://db/regency?hall=mpp-a", "mpp-b")
    with pytest.raises(ValueError, match="lower-case"):
        locate("postgresql://db/regency?hall=Hall_1")


def test_both_stores_have_one_entry_per_schema_change():
    assert len(PG_MIGRATIONS) == len(SQLITE_MIGRATIONS), \
        "a migration added to one store needs its form in the other (kiosk/storage/*/migrations.py)"


async def test_both_stores_reach_the_same_tables_and_columns(pg_server, tmp_path):
    sqlite_store = create_store(tmp_path / "parity.sqlite3")
    await sqlite_store.open()
    await sqlite_store.close()
    with closing(sqlite3.connect(tmp_path / "parity.sqlite3")) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        lite = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    store = create_store(f"{pg_server}?hall=parity")
    await store.open()
    try:
        rows = await store.reads._all("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'hall_parity'")
    finally:
        await store.close()
    pg: dict[str, set[str]] = {}
    for row in rows:
        pg.setdefault(row[0], set()).add(row[1])
    for own in ("schema_version", "rate_buckets"):  # the PostgreSQL store's bookkeeping
        pg.pop(own)
    assert pg == lite


async def test_an_older_hall_schema_keeps_its_queue_order(pg_server, clock, config):
    # The PostgreSQL form of test_numbering's upgrade test: schema 5, three waiting tickets, then 6.
    import asyncpg
    conn = await asyncpg.connect(pg_server)
    try:
        await conn.execute("CREATE SCHEMA hall_old5; SET search_path = hall_old5")
        for script in PG_MIGRATIONS[:5]:
            await conn.execute(script)
        await conn.execute("CREATE TABLE schema_version (version integer NOT NULL); "
                           "INSERT INTO schema_version VALUES (5)")
        for seq in (1, 2, 3):
            await conn.execute("INSERT INTO tickets (token, day, prefix, seq, number, service, state, issued_at) "
                               "VALUES ($1, '2026-11-25', 'B', $2, $3, 'B', 'waiting', $4)",
                               f"tok{seq}", seq, f"B{seq:03d}", clock.now() + seq)
    finally:
        await conn.close()
    store = create_store(f"{pg_server}?hall=old5")
    await store.open()
    try:
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        assert (await runtime.queue.issue("B")).number == "B004"
        called = [(await runtime.queue.call_next("1", "siti"))[0].number for _ in range(4)]
        assert called == ["B001", "B002", "B003", "B004"]
        assert await store.reads.waiting_count(runtime.queue.today(), "B") == 0, "the trigger kept the count"
    finally:
        await store.close()


async def _runtime(url: str, clock: FakeClock, **hall) -> tuple[Runtime, EventBus]:
    store = create_store(url)
    bus = EventBus(maxsize=100_000)
    runtime = Runtime.build(store, parse_hall(hall_dict(**hall)), clock, bus)
    await store.open()
    await runtime.start()
    return runtime, bus


async def test_two_halls_in_one_database_never_see_each_other(pg_server, clock):
    a, _ = await _runtime(f"{pg_server}?hall=kota-a", clock)
    b, _ = await _runtime(f"{pg_server}?hall=kota-b", clock)
    try:
        for _ in range(3):
            await a.queue.issue("A")
        ticket = await b.queue.issue("A")
        assert ticket.number == "A001", "each hall numbers its own tickets"
        assert await b.writer.store.reads.ticket_by_token((await a.queue.issue("B")).token) is None
        async with a.writer.store.transaction() as q:
            await q.add_user("siti", "hash", "admin", [], clock.now())
        assert await b.writer.store.reads.user_by_name("siti") is None
        assert await a.writer.store.reads.user_by_name("SITI") is not None, "names compare without case"
        assert (await b.writer.store.reads.issued_counts(b.queue.today())) == {"A": 1}
    finally:
        await a.writer.store.close()
        await b.writer.store.close()


async def test_every_process_sees_every_event_once_in_commit_order(pg_server, clock):
    # Two "processes" (two stores, two buses) of one hall issue and call at the same time: each bus
    # gets every public event of the hall exactly once, in id order, whoever wrote it.
    url = f"{pg_server}?hall=relay"
    one, bus1 = await _runtime(url, clock)
    two, bus2 = await _runtime(url, clock)
    subs = [bus1.subscribe(), bus2.subscribe()]
    try:
        async def issue(rt: Runtime, n: int) -> None:
            for i in range(n):
                await rt.queue.issue("B", priority=i % 5 == 0)

        async def call(rt: Runtime, counter: str, n: int) -> None:
            for _ in range(n):
                await rt.queue.call_next(counter, None)
        await asyncio.gather(issue(one, 60), issue(two, 60), call(one, "1", 20), call(two, "4", 20))
        newest = await one.writer.store.reads.last_event_id()
        every = [e.id for e in await one.writer.store.reads.events_after(0)]
        for sub in subs:
            seen: list[int] = []
            async with asyncio.timeout(10):
                while not seen or seen[-1] < newest:
                    event = await sub.next(5)
                    assert event is not None, f"stopped at {seen[-1:]} of {newest}"
                    if event.public:
                        seen.append(event.id)
            assert seen == every
    finally:
        for sub in subs:
            sub.close()
        await one.writer.store.close()
        await two.writer.store.close()


async def test_exclusive_work_runs_in_one_process_and_moves_when_it_stops(pg_server):
    from kiosk.storage.postgres.store import PgStore
    stores = [create_store(f"{pg_server}?hall=locks") for _ in range(2)]
    for store in stores:
        await store.open()
        assert isinstance(store, PgStore)
        store._locks.poll_s = 0.05
    running: list[int] = []

    def body(n: int):
        async def work() -> None:
            running.append(n)
            await asyncio.Event().wait()
        return work
    tasks = [asyncio.create_task(store.exclusive("printer/P1", body(n))) for n, store in enumerate(stores)]
    try:
        async with asyncio.timeout(10):
            while not running:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert len(running) == 1, "one process at a time"
        first = running[0]
        assert stores[first].runs_here("printer/P1") and not stores[1 - first].runs_here("printer/P1")
        await stores[first].close()  # that process goes away: its session (and lock) ends
        async with asyncio.timeout(10):
            while len(running) < 2:
                await asyncio.sleep(0.01)
        assert running == [first, 1 - first]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for store in stores:
            await store.close()


async def test_shared_rate_limits_match_the_in_memory_ones(pg_server):
    # The same sequence of attempts against the in-memory buckets and the database's gives the same
    # answers and the same waits, and two "processes" share the database's.
    store = create_store(f"{pg_server}?hall=limits")
    await store.open()
    try:
        clock = FakeClock(wib(2026, 11, 25, 9, 0))
        local = RateLimiter(6, 3, clock.now)
        shared = [RateLimiter(6, 3, clock.now, store.buckets, "tickets") for _ in range(2)]
        outcomes: list[tuple[bool, bool]] = []
        for step in range(40):
            clock.advance(0.0 if step % 4 else 7.0)
            ok_local = ok_shared = True
            try:
                local.take("kiosk", "x")
            except TooManyRequests:
                ok_local = False
            try:
                await shared[step % 2].check("kiosk", "x")
            except TooManyRequests as exc:
                ok_shared = False
                assert exc.retry_after == pytest.approx(local.retry_after("kiosk"))
            outcomes.append((ok_local, ok_shared))
            assert await shared[0].wait("kiosk") == pytest.approx(local.retry_after("kiosk"))
        assert all(a == b for a, b in outcomes) and {a for a, _ in outcomes} == {True, False}
    finally:
        await store.close()


async def test_a_hall_change_made_in_one_process_is_in_force_in_the_others(pg_server, clock):
    url = f"{pg_server}?hall=admin-edit"
    one, bus1 = await _runtime(url, clock)
    two, bus2 = await _runtime(url, clock)
    follow = asyncio.create_task(two.hall.follow(bus2))
    seen: list[int | None] = []
    two.hall.on_reconfigure(lambda old, new: asyncio.sleep(0, seen.append(new.service("A").daily_quota)))
    try:
        def quota(n: int):
            def edit(raw: dict) -> dict:
                doc = {**raw, "services": [dict(s) for s in raw["services"]]}
                doc["services"][0]["daily_quota"] = n
                return doc
            return edit
        await one.hall.change(quota(9), "admin", "services A")
        async with asyncio.timeout(10):
            while two.queue.config.service("A").daily_quota != 9:
                await asyncio.sleep(0.01)
        assert seen == [9], "the rooms of the other process follow too"
        # An edit made in the second process starts from the newest document, not its own copy.
        two.writer.config = parse_hall(hall_dict())  # as if the first change had not been heard yet
        await two.hall.change(lambda raw: {**raw, "hall": {**raw["hall"], "name": "MPP Baru"}}, "admin", "hall")
        stored = await one.writer.store.reads.setting("hall")
        assert '"daily_quota": 9' in stored and "MPP Baru" in stored
    finally:
        follow.cancel()
        await asyncio.gather(follow, return_exceptions=True)
        await one.writer.store.close()
        await two.writer.store.close()


async def test_a_database_that_cannot_be_reached_is_said_plainly(tmp_path):
    from tests.server_process import run_cli
    for command in (("user", "list"), ("serve", "--port", "0"), ("hall", "export")):
        code, _, err = await run_cli(*command, "--db", "postgresql://giliran:rahasia@127.0.0.1:9/regency")
        assert code == 1, (command, err)
        assert "Penyimpanan data sedang bermasalah" in err and "127.0.0.1" in err
        assert "rahasia" not in err and "Traceback" not in err, err


async def test_an_older_hall_gets_its_history_summarised(pg_server, clock):
    # The PostgreSQL form of test_reports' upgrade test: a worked day, then the hall as it was before
    # the reports' migration (no report tables, triggers or agencies), opened again: migration 8
    # derives the stays and the summaries equal what the triggers had kept.
    import asyncpg

    from kiosk.reports.period import Period
    from kiosk.reports.summary import Summaries
    from tests.test_reports import DAY, worked_day
    doc = hall_dict()
    doc["services"][1]["target_wait_minutes"] = 6
    hall = parse_hall(doc)
    url = f"{pg_server}?hall=before-reports"
    store = create_store(url)
    await store.open()
    runtime = Runtime.build(store, hall, clock, EventBus())
    await runtime.start()
    await worked_day(runtime, clock)
    before = {by: await Summaries(store, hall).summary(Period(DAY, DAY), by, None) for by in ("counter", "hour")}
    kept = sorted(tuple(r) for r in await store.reads._all("SELECT * FROM report_stays"))
    hours = sorted(tuple(r) for r in await store.reads._all("SELECT * FROM report_hours") if any(tuple(r)[3:]))
    await store.close()
    before_reports = next(i for i, script in enumerate(PG_MIGRATIONS) if "report_stays" in script)
    conn = await asyncpg.connect(pg_server, server_settings={"search_path": "hall_before_reports"})
    try:
        await conn.execute(
            "DROP TRIGGER report_ticket_issued ON tickets; DROP TRIGGER report_ticket_called ON tickets; "
            "DROP TRIGGER report_ticket_closed ON tickets; DROP TRIGGER report_ticket_requeued ON tickets; "
            "DROP TRIGGER report_ticket_transferred ON tickets; DROP TRIGGER report_visit_logged ON service_log; "
            "DROP TRIGGER report_hours_visit ON service_log; "  # migration 13, after them
            "DROP TABLE report_stays, report_counts, report_counter_days, report_hours; "
            "DROP FUNCTION report_ticket_issued, report_ticket_called, report_ticket_closed, report_ticket_requeued, "
            "report_ticket_transferred, report_visit_logged, report_stays_sync, report_hours_sync, "
            "report_hours_visit, whole_seconds; "
            "ALTER TABLE users DROP COLUMN agencies; ALTER TABLE print_jobs DROP COLUMN told_unprinted_at; "
            "DROP TABLE bookings, verifications, identities, survey_responses; "  # migrations 11 and 12, after them
            f"UPDATE schema_version SET version = {before_reports}")
    finally:
        await conn.close()
    store = create_store(url)
    await store.open()
    try:
        assert sorted(tuple(r) for r in await store.reads._all("SELECT * FROM report_stays")) == kept
        assert sorted(tuple(r) for r in await store.reads._all("SELECT * FROM report_hours")
                      if any(tuple(r)[3:])) == hours
        for by, summary in before.items():
            assert await Summaries(store, hall).summary(Period(DAY, DAY), by, None) == summary
    finally:
        await store.close()


async def _worked_days(rt: Runtime, clock: FakeClock) -> None:
    """Two days of visits at odd fractions of a second (the hour of a call is cut, not rounded),
    done and no-show, a cancellation, a priority ticket, and a visit still going at the end."""
    for day in (23, 24):
        clock.set(wib(2026, 11, day, 8, 59, 59))
        clock.advance(0.6)  # 08:59:59.6: the hour of a call at this moment is 8 on both stores
        tickets = [await rt.queue.issue(code, priority=prio) for code, prio in
                   (("A", False), ("A", True), ("B", False), ("A", False), ("B", True), ("P", False), ("B", False))]
        for counter, seconds in (("1", 200.3), ("2", 301.9), ("3", 95.5), ("1", 140.25)):
            await rt.queue.call_next(counter, None)
            clock.advance(20.7)
            await rt.queue.start_service(counter, None)
            clock.advance(seconds)
            await rt.queue.finish(counter, None)
        await rt.queue.call_next("2", None)
        clock.advance(33.3)
        await rt.queue.no_show("2", None)
        await rt.queue.cancel(tickets[-1].token)
        await rt.queue.call_next("1", None)  # a visit in progress
        for code, prio in (("B", False), ("A", True), ("B", False), ("B", False), ("B", True)):  # still waiting
            clock.advance(12.5)
            await rt.queue.issue(code, priority=prio)


async def _forecast_reads(rt: Runtime) -> dict[str, object]:
    q, day = rt.writer.store.reads, rt.queue.today()
    services, counters = ["A", "B", "P", "Z"], [str(i) for i in range(1, 11)]
    return {
        "lanes": sorted(await q.waiting_lanes(day, services, 2)),
        "flow": await q.day_flow(day, services, rt.writer.clock.now() - 3600),
        "ended": [t.number for t in await q.ended_tickets(day, services, "no_show", 5)],
        "ended_none": await q.ended_tickets(day, [], "done", 5),
        "recent": await q.recent_visits(day, services, 3),
        "usual": await q.usual_visits("2026-11-01", day, 7 * 3600),
        "desks": await q.desk_states(day, counters),
        "by_number": (await q.ticket_by_number(day, "B001")).token,
        "day": ([t.number for t in await q.day_tickets(day)], await q.day_visits(day)),
    }


async def test_the_forecasts_reads_answer_as_on_sqlite(pg_server, tmp_path, clock):
    # Issue 20's reads are worded apart on PostgreSQL (kiosk/storage/postgres/forecast.py): the same
    # two days give the same answers, to the last float (sums of the same doubles in another order
    # may differ in the last bits: compared as such).
    answers = []
    for db in (str(tmp_path / "forecast.sqlite3"), f"{pg_server}?hall=forecast-reads"):
        clock.set(wib(2026, 11, 23, 7, 0))  # a hall's day never goes back: start before the first
        runtime, _ = await _runtime(db, clock)
        try:
            await _worked_days(runtime, clock)
            answers.append(await _forecast_reads(runtime))
        finally:
            await runtime.writer.store.close()
    lite, pg = answers
    assert lite["usual"].keys() == pg["usual"].keys()
    assert ("A", 8) in lite["usual"], "called at 08:59:59.6: hour 8 (rounding would say 9)"
    for key, (n, total, squares) in lite["usual"].items():
        assert pg["usual"][key] == (n, pytest.approx(total, rel=1e-12), pytest.approx(squares, rel=1e-12))
    lite_tokens = lite.pop("by_number"), pg.pop("by_number")
    assert all(lite_tokens)
    del lite["usual"], pg["usual"]
    assert lite == pg
    assert lite["lanes"] and lite["recent"]["A"] and lite["ended"] and lite["desks"]["1"][1] is not None


async def test_a_day_is_replayed_from_a_postgresql_hall_read_only(pg_server, clock):
    # giliran simulate's [replay] database may name a hall of a PostgreSQL database: its day is read
    # on a read-only connection (a hall that is not there is said, never created).
    from kiosk.sim.profile import ProfileError, parse_profile
    from kiosk.sim.run import replayed
    from kiosk.storage import read_day_of

    clock.set(wib(2026, 3, 2, 8, 0))
    runtime, _ = await _runtime(f"{pg_server}?hall=replayed", clock)
    try:
        for minute in (0, 7):
            clock.set(wib(2026, 3, 2, 8, minute))
            await runtime.queue.issue("B", priority=minute == 7)
    finally:
        await runtime.writer.store.close()
    text = '[profile]\nname = "uji"\ndate = "2026-03-09"\n[replay]\ndatabase = "{}"\nday = "2026-03-02"\n'
    arrivals = await replayed(parse_hall(hall_dict()), parse_profile(text.format(f"{pg_server}?hall=replayed"), "u.toml"))
    assert arrivals == [(8 * 3600, "B", False), (8 * 3600 + 420, "B", True)]
    with pytest.raises(ProfileError, match="no such hall"):
        await replayed(parse_hall(hall_dict()), parse_profile(text.format(f"{pg_server}?hall=nowhere"), "u.toml"))
    with pytest.raises(LookupError):
        await read_day_of(f"{pg_server}?hall=nowhere", "2026-03-02")
    import asyncpg
    conn = await asyncpg.connect(pg_server)
    try:
        assert await conn.fetchval("SELECT count(*) FROM information_schema.schemata "
                                   "WHERE schema_name = 'hall_nowhere'") == 0
    finally:
        await conn.close()
