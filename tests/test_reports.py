"""Reports on worked examples: a day built with the injected clock (transfers, a requeued no-show,
a cancel, a visit across midnight, a ticket expired at midnight), every field of every grouping
checked against numbers worked out by hand in docs/reports.md's terms."""

from __future__ import annotations

import math
import random
import sqlite3
from datetime import date

import pytest

from kiosk.hall.parse import parse_hall
from kiosk.queue.clock import FakeClock
from kiosk.reports.period import Period
from kiosk.reports.summary import Summaries, service_infos
from kiosk.runtime import Runtime
from kiosk.storage.base import DayRange
from kiosk.storage.postgres.report_hours import DERIVED_HOURS as PG_DERIVED_HOURS
from kiosk.storage.postgres.report_schema import DERIVED_STAYS as PG_DERIVED_STAYS
from kiosk.storage.sqlite.migrations import MIGRATIONS
from kiosk.storage.sqlite.report_hours import DERIVED_HOURS
from kiosk.storage.sqlite.report_schema import DERIVED_STAYS
from kiosk.storage.sqlite.report_summary import COUNT_COLUMNS
from tests.conftest import ON_POSTGRES, hall_dict, wib

DAY = date(2026, 11, 25)
BEFORE_REPORTS = next(i for i, script in enumerate(MIGRATIONS) if "report_stays" in script)  # schema then
FIELDS = ("issued", "served", "no_show", "cancelled", "expired", "transferred_out", "transferred_in", "called",
          "wait_p50_s", "wait_p90_s", "wait_mean_s", "walk_mean_s", "service_mean_s", "within_target_pct")


def row(*values):
    return dict(zip(FIELDS, values, strict=True))


def fields(r):
    return {k: r[k] for k in FIELDS}


@pytest.fixture
def hall():
    doc = hall_dict()
    doc["services"][1]["target_wait_minutes"] = 6  # B: 360 s; A and P: the default 30 minutes
    return parse_hall(doc, "test-hall.toml")


async def worked_day(runtime: Runtime, clock: FakeClock) -> None:
    """The day of docs/reports.md's worked example (times from 09:00:00 WIB)."""
    q = runtime.queue
    clock.set(wib(2026, 11, 25, 9, 0))
    a1, a2, b1 = await q.issue("A"), await q.issue("A"), await q.issue("B")

    def at(seconds: int) -> None:
        clock.set(wib(2026, 11, 25, 9, 0))
        clock.advance(seconds)

    at(120)
    assert (await q.call_next("1", "siti"))[0].number == a1.number
    at(150)
    await q.start_service("1", "siti")
    at(450)
    await q.finish("1", "siti")
    at(460)
    assert (await q.call_next("2", "budi"))[0].number == a2.number
    at(520)
    await q.no_show("2", "budi")
    at(530)
    assert (await q.call_next("1", "siti"))[0].number == b1.number
    at(560)
    await q.start_service("1", "siti")
    at(660)
    await q.transfer("1", "P", "siti")
    at(700)
    await q.requeue(a2.token, "sri")
    at(760)
    assert (await q.call_next("3", "dewi"))[0].number == b1.number
    at(790)
    await q.start_service("3", "dewi")
    at(800)
    assert (await q.call_next("2", "budi"))[0].number == a2.number
    at(820)
    await q.start_service("2", "budi")
    at(900)
    a3 = await q.issue("A")
    at(1000)
    await q.cancel(a3.token)
    at(1020)
    await q.finish("2", "budi")
    at(1090)
    await q.finish("3", "dewi")
    # Late evening: B2 served across midnight, B3 still waiting at midnight (expired).
    clock.set(wib(2026, 11, 25, 23, 50))
    b2 = await q.issue("B")
    clock.set(wib(2026, 11, 25, 23, 55))
    assert (await q.call_next("1", "siti"))[0].number == b2.number
    clock.set(wib(2026, 11, 25, 23, 56))
    await q.start_service("1", "siti")
    clock.set(wib(2026, 11, 25, 23, 58))
    await q.issue("B")
    clock.set(wib(2026, 11, 26, 0, 5))
    await q.finish("1", "siti")  # the first write of the 26th also expires B3


@pytest.fixture
async def reports(runtime_factory, hall, clock):
    runtime = await runtime_factory(hall)
    await worked_day(runtime, clock)
    return Summaries(runtime.writer.store, hall)


def by_key(summary):
    return {r["key"]: fields(r) for r in summary["rows"]}


TOTAL = row(6, 4, 0, 1, 1, 1, 1, 5, 300, 530, 302.0, 34.0, 288.0, 80.0)


async def test_by_service_every_field(reports):
    s = await reports.summary(Period(DAY, DAY), "service", None)
    assert s["from"] == s["to"] == "2026-11-25" and s["by"] == "service"
    assert [(r["key"], r["label"]) for r in s["rows"]] == [("A", "KTP Elektronik"), ("B", "Kartu Keluarga"),
                                                           ("P", "Paspor")]
    assert by_key(s) == {
        # A1 (wait 120, walk 30, service 300), A2 (no-show, requeued, then served: wait 460 to its first
        # call, walk 20, service 200), A3 cancelled.
        "A": row(3, 2, 0, 1, 0, 0, 0, 2, 120, 460, 290.0, 25.0, 250.0, 100.0),
        # B1 (wait 530, transferred out after 100 s of service), B2 (wait 300 across midnight, walk 60,
        # service 540), B3 expired; target 360 s: one of two within.
        "B": row(3, 1, 0, 0, 1, 1, 0, 2, 300, 530, 415.0, 45.0, 320.0, 50.0),
        # B1's second stay: waited 100 s from its transfer.
        "P": row(0, 1, 0, 0, 0, 0, 1, 1, 100, 100, 100.0, 30.0, 300.0, 100.0),
    }
    assert fields(s["total"]) == TOTAL and s["total"]["label"] == "Jumlah"


async def test_by_agency_counter_officer_day(reports):
    period = Period(DAY, date(2026, 11, 26))
    agency = await reports.summary(period, "agency", None)
    assert by_key(agency) == {
        "DUKCAPIL": row(6, 3, 0, 1, 1, 1, 0, 4, 300, 530, 352.5, 35.0, 285.0, 75.0),
        "IMIGRASI": row(0, 1, 0, 0, 0, 0, 1, 1, 100, 100, 100.0, 30.0, 300.0, 100.0),
    }
    counter = await reports.summary(period, "counter", None)
    assert by_key(counter) == {
        "1": row(3, 2, 0, 0, 0, 1, 0, 3, 300, 530, 316.7, 40.0, 313.3, 66.7),
        "2": row(1, 1, 0, 0, 0, 0, 0, 1, 460, 460, 460.0, 20.0, 200.0, 100.0),
        "3": row(0, 1, 0, 0, 0, 0, 1, 1, 100, 100, 100.0, 30.0, 300.0, 100.0),
        "": row(2, 0, 0, 1, 1, 0, 0, 0, None, None, None, None, None, None),
    }
    assert counter["rows"][-1]["label"] == "Belum dipanggil di loket"
    officer = await reports.summary(period, "officer", None)
    assert by_key(officer) == {"siti": by_key(counter)["1"], "budi": by_key(counter)["2"],
                               "dewi": by_key(counter)["3"], "": by_key(counter)[""]}
    assert [r["key"] for r in officer["rows"]] == ["budi", "dewi", "siti", ""]
    day = await reports.summary(period, "day", None)
    assert [r["label"] for r in day["rows"]] == ["Rabu, 25 November 2026"]
    assert fields(day["rows"][0]) == TOTAL
    for summary in (agency, counter, officer, day):
        assert fields(summary["total"]) == TOTAL, summary["by"]


async def test_by_hour_of_arrival_and_of_each_end(reports):
    s = await reports.summary(Period(DAY, DAY), "hour", None)
    assert [(r["key"], r["label"]) for r in s["rows"]] == [("00", "00.00–01.00"), ("09", "09.00–10.00"),
                                                           ("23", "23.00–00.00")]
    assert by_key(s) == {
        # Served at 00:05 (B2); its visit began at 23:55 and counts there.
        "00": row(0, 1, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None),
        # Waits of those who arrived 09.00-10.00: A1 120, A2 460, B1 530 (over B's 360 s), B1 in P 100.
        "09": row(4, 3, 0, 1, 0, 1, 1, 4, 120, 530, 302.5, 27.5, 225.0, 75.0),
        # B3 expired without a time of its own: counted in the hour it arrived.
        "23": row(2, 0, 0, 0, 1, 0, 0, 1, 300, 300, 300.0, 60.0, 540.0, 100.0),
    }
    assert fields(s["total"]) == TOTAL


async def test_agency_scope_keeps_only_its_services(reports):
    s = await reports.summary(Period(DAY, DAY), "counter", ["P"])
    assert by_key(s) == {"3": row(0, 1, 0, 0, 0, 0, 1, 1, 100, 100, 100.0, 30.0, 300.0, 100.0)}
    assert fields(s["total"]) == by_key(s)["3"]


async def test_percentiles_are_nearest_rank_over_tickets_not_means_of_means(runtime_factory, hall, clock):
    """Two counters (service B): one called 9 tickets after 60 s, the other one after 3,600 s. A mean of the
    counters' medians would be 1,830 s; over the ten tickets the median is 60 s and p90 60 s."""
    runtime = await runtime_factory(hall)
    q = runtime.queue
    clock.set(wib(2026, 11, 25, 9, 0))
    for _ in range(10):
        await q.issue("B")
    clock.advance(60)
    for _ in range(9):
        await q.call_next("1", "siti")
    clock.advance(3540)
    await q.call_next("4", "budi")
    s = await Summaries(runtime.writer.store, hall).summary(Period(DAY, DAY), "counter", None)
    assert (s["total"]["wait_p50_s"], s["total"]["wait_p90_s"], s["total"]["wait_mean_s"]) == (60, 60, 414.0)
    assert by_key(s)["4"]["wait_p50_s"] == 3600
    # The tenth ticket decides p100; p90 of ten is the ninth (nearest rank: ceil(0.9 x 10)).


async def test_percentiles_across_months_equal_a_sort_of_the_waits(runtime_factory, hall, clock):
    """Ranges across month ends (short and long: the total sorts its days or walks the index of all
    waits): the percentiles equal those of the waits sorted here, and by day they add up the same."""
    clock.set(wib(2026, 10, 30, 8, 0))
    runtime = await runtime_factory(hall)
    q = runtime.queue
    rng = random.Random(7)
    for month, day in ((10, 30), (10, 31), (11, 1), (11, 15), (11, 30), (12, 1)):
        clock.set(wib(2026, month, day, 9, 0))
        for _ in range(4):
            await q.issue("B")
        for counter in ("1", "4", "5"):
            clock.advance(rng.randint(1, 900))
            await q.call_next(counter, "siti")
    reports = Summaries(runtime.writer.store, hall)
    for first, last in ((date(2026, 10, 31), date(2026, 12, 1)), (date(2026, 11, 1), date(2026, 11, 30)),
                        (date(2026, 10, 30), date(2026, 11, 15)), (date(2026, 1, 1), date(2026, 12, 31))):
        whole = await reports.summary(Period(first, last), "service", None)
        per_day = await reports.summary(Period(first, last), "day", None)
        assert fields(whole["total"]) == fields(per_day["total"])
        waits = sorted(w for w in await _waits(runtime, first, last))
        assert whole["total"]["called"] == len(waits)
        assert whole["total"]["wait_p50_s"] == waits[(len(waits) + 1) // 2 - 1]
        assert whole["total"]["wait_p90_s"] == waits[-(-9 * len(waits) // 10) - 1]


async def _waits(runtime: Runtime, first: date, last: date) -> list[int]:
    rows = await runtime.writer.store.reads._all(  # type: ignore[attr-defined]
        "SELECT wait_s FROM report_stays WHERE day BETWEEN ? AND ? AND wait_s IS NOT NULL",
        (first.isoformat(), last.isoformat()))
    return [r[0] for r in rows]


async def random_days(runtime: Runtime, clock: FakeClock) -> None:
    """The worked day, then two more days of 400 random actions at four counters (issues, calls,
    starts, finishes, no-shows, transfers, requeues, cancels; refused ones included)."""
    await worked_day(runtime, clock)
    q = runtime.queue
    rng = random.Random(18)
    clock.set(wib(2026, 11, 26, 8, 0))
    tokens = []
    for step in range(400):
        clock.advance(rng.randint(1, 120))
        counter = rng.choice(["1", "2", "3", "4"])
        action = rng.random()
        try:
            if action < 0.35:
                tokens.append((await q.issue(rng.choice("ABP"))).token)
            elif action < 0.6:
                await q.call_next(counter, f"u{counter}")
            elif action < 0.72:
                await q.start_service(counter, f"u{counter}")
            elif action < 0.82:
                await q.finish(counter, f"u{counter}")
            elif action < 0.87:
                await q.no_show(counter, f"u{counter}")
            elif action < 0.91:
                await q.transfer(counter, rng.choice("ABP"), f"u{counter}")
            elif action < 0.95 and tokens:
                await q.requeue(rng.choice(tokens), "sri")
            elif tokens:
                await q.cancel(rng.choice(tokens))
        except Exception as exc:  # a refused action (nothing to finish, closed service) is part of a day
            assert getattr(exc, "status", 0) in (400, 404, 409, 422), exc
        if step == 300:
            clock.set(wib(2026, 11, 27, 8, 0))


async def test_summaries_kept_by_triggers_equal_a_rebuild_from_the_tickets(runtime_factory, hall, clock):
    """Random days at the counters; the stays the triggers kept equal the ones derived from the
    tickets and visit log afterwards, and every summary row equals the stays summed."""
    runtime = await runtime_factory(hall)
    await random_days(runtime, clock)
    reads = runtime.writer.store.reads  # the triggers of the store that runs (SQLite's, or their plpgsql form)

    async def rows(sql: str) -> list[tuple]:
        return [tuple(r) for r in await reads._all(sql)]  # type: ignore[attr-defined]
    kept = sorted(await rows("SELECT * FROM report_stays"))
    derived = sorted(await rows(PG_DERIVED_STAYS if ON_POSTGRES else DERIVED_STAYS))
    assert kept == derived and len(kept) > 100
    columns = "issued, transferred_in, called, wait_sum, served, no_show, cancelled, expired, transferred_out"

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"
    summed = await rows(
        f"""SELECT day, service, counter, officer, SUM(issued), SUM(transferred_in), SUM(called), SUM(wait_sum),
                   SUM(served), SUM(no_show), SUM(cancelled), SUM(expired), SUM(transferred_out) FROM (
              SELECT day, service, first_counter AS counter, first_officer AS officer, {flag('kind = 0')} AS issued,
                     {flag('kind = 1')} AS transferred_in, {flag('wait_s IS NOT NULL')} AS called,
                     COALESCE(wait_s, 0) AS wait_sum, 0 AS served, 0 AS no_show, 0 AS cancelled, 0 AS expired,
                     0 AS transferred_out
              FROM report_stays
              UNION ALL
              SELECT day, service, end_counter, end_officer, 0, 0, 0, 0, {flag("outcome = 'done'")},
                     {flag("outcome = 'no_show'")}, {flag("outcome = 'cancelled'")}, {flag("outcome = 'expired'")},
                     {flag("outcome = 'transferred_out'")}
              FROM report_stays WHERE outcome IS NOT NULL) s
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""")
    stored = await rows(f"SELECT day, service, counter, officer, {columns} FROM report_counts "
                        f"WHERE issued + transferred_in + called + served + no_show + cancelled + expired "
                        f"+ transferred_out > 0 ORDER BY 1, 2, 3, 4")
    assert [r for r in summed if any(r[4:])] == stored
    # The hourly summary (migration 13) equals the stays and visits summed per day x service x UTC hour.
    kept_hours = await rows("SELECT * FROM report_hours ORDER BY 1, 2, 3")
    derived_hours = sorted(await rows(PG_DERIVED_HOURS if ON_POSTGRES else DERIVED_HOURS))
    assert [r for r in kept_hours if any(r[3:])] == [r for r in derived_hours if any(r[3:])]
    assert len(derived_hours) > 20


def whole(seconds: float | None) -> int:
    """A duration in whole seconds as the reports count it: halves away from zero, negative as 0."""
    return 0 if seconds is None or seconds < 0 else math.floor(seconds + 0.5)


def hours_of(stays: list[tuple], visits: list[tuple], offset_s: int, targets: dict[str, int]
             ) -> tuple[dict[str, dict[str, int]], dict[str, tuple[int, int, int, int]]]:
    """By hand from the raw rows: per local hour, the counts, and (called, within target, p50, p90) of
    the waits of the stays that began then."""
    def hour(at: float) -> str:
        return f"{int(at + offset_s) % 86400 // 3600:02d}"
    counts: dict[str, dict[str, int]] = {}
    waits: dict[str, list[tuple[int, str]]] = {}

    def add(h: str, **values: int) -> None:
        cell = counts.setdefault(h, dict.fromkeys(COUNT_COLUMNS, 0))
        for key, value in values.items():
            cell[key] += value
    for service, kind, begin_at, wait_s, outcome, end_at in stays:
        add(hour(begin_at), issued=int(kind == 0), transferred_in=int(kind == 1), called=int(wait_s is not None),
            wait_sum=wait_s or 0)
        if wait_s is not None:
            waits.setdefault(hour(begin_at), []).append((wait_s, service))
        if outcome is not None:
            name = "served" if outcome == "done" else outcome
            add(hour(end_at if end_at is not None else begin_at), **{name: 1})
    for called_at, started_at, ended_at in visits:
        add(hour(called_at), visits=1, started=int(started_at is not None),
            walk_sum=whole(started_at - called_at) if started_at is not None else 0,
            service_sum=whole(ended_at - started_at) if started_at is not None else 0,
            busy_sum=whole(ended_at - called_at))
    ranked = {}
    for h, ws in waits.items():
        ordered = sorted(w for w, _ in ws)
        n = len(ordered)
        ranked[h] = (n, sum(w <= targets[svc] for w, svc in ws), ordered[math.ceil(n * 50 / 100) - 1],
                     ordered[math.ceil(n * 90 / 100) - 1])
    return counts, ranked


@pytest.mark.parametrize("offset_h", [7, 8, 9, 0, -3, 5.5])
async def test_hours_of_the_day_equal_the_stays_counted_by_hand(runtime_factory, hall, clock, offset_h):
    """Random days; by hour of the day, for halls at UTC+7, +8, +9 (the hourly summary), 0 and -3
    (the hour moves to another UTC hour) and +5:30 (read from the stays): every count, the waits'
    percentiles and the share within target equal the raw rows counted here, and so do the charts'
    arrivals and served-per-hour."""
    runtime = await runtime_factory(hall)
    await random_days(runtime, clock)
    store, offset_s = runtime.writer.store, int(offset_h * 3600)
    reads = store.reads
    days = DayRange("2026-11-25", "2026-11-27")
    services = service_infos(runtime.writer.config)
    targets = {s.code: s.target_s for s in services}
    stays = [tuple(r) for r in await reads._all(  # type: ignore[attr-defined]
        "SELECT service, kind, begin_at, wait_s, outcome, end_at FROM report_stays")]
    visits = [tuple(r) for r in await reads._all(  # type: ignore[attr-defined]
        "SELECT called_at, started_at, ended_at FROM service_log")]
    counts, ranked = hours_of(stays, visits, offset_s, targets)
    hours, total = await store.reports.summary(days, "hour", services, None, 1800, offset_s)
    assert {h: g.counts for h, g in hours.items()} == counts
    assert {h: (g.waits.called, g.waits.within_target, g.waits.p50, g.waits.p90) for h, g in hours.items()
            if g.waits} == ranked
    assert total.counts == {c: sum(h[c] for h in counts.values()) for c in COUNT_COLUMNS}
    _, whole_range = await store.reports.summary(days, "total", services, None, 1800, offset_s)
    assert total == whole_range
    arrivals = await store.reports.arrivals(days, offset_s, None)
    by_hand: dict[tuple[str, int], int] = {}
    for day, begin_at in await reads._all("SELECT day, begin_at FROM report_stays WHERE kind = 0"):  # type: ignore
        key = (day, int(begin_at + offset_s) % 86400 // 3600)
        by_hand[key] = by_hand.get(key, 0) + 1
    assert {(d, h): n for d, h, n in arrivals} == by_hand
    assert [(d, h) for d, h, _ in arrivals] == sorted(by_hand)
    served = await store.reports.served_hours(days, offset_s, None)
    assert served == {int(h): c["served"] for h, c in counts.items() if c["served"]}
    scoped, _ = await store.reports.summary(days, "hour", services, ["A"], 1800, offset_s)
    only_a, _ = hours_of([s for s in stays if s[0] == "A"], [], offset_s, targets)
    assert {h: g.counts["issued"] for h, g in scoped.items() if g.counts["issued"]} == \
        {h: c["issued"] for h, c in only_a.items() if c["issued"]}


@pytest.mark.sqlite_only  # the PostgreSQL form: tests/test_postgres_store.py
async def test_an_older_database_gets_its_history_summarised(runtime_factory, hall, clock, tmp_path):
    """A database from before the reports is migrated: its tickets' stays are derived once and the
    summaries equal what the triggers would have kept."""
    runtime = await runtime_factory(hall)
    await worked_day(runtime, clock)
    store = runtime.writer.store
    before = await Summaries(store, hall).summary(Period(DAY, DAY), "counter", None)
    await store.close()
    with sqlite3.connect(store.path) as conn:
        kept = sorted(conn.execute("SELECT * FROM report_stays").fetchall())
        triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                               "AND name LIKE 'report%'")]
        assert len(triggers) == 16
        hours = sorted(r for r in conn.execute("SELECT * FROM report_hours") if any(r[3:]))
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE report_hours")  # migration 13, after them
        for table in ("report_stays", "report_counts", "report_counter_days"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE users DROP COLUMN agencies")
        conn.execute("ALTER TABLE print_jobs DROP COLUMN told_unprinted_at")  # migration 10, after them
        for table in ("bookings", "verifications", "identities"):  # the online queue's migration, after them
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE survey_responses")  # the survey's migration, after them
        conn.execute(f"PRAGMA user_version = {BEFORE_REPORTS}")
    await store.open()
    try:
        with sqlite3.connect(store.path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert sorted(conn.execute("SELECT * FROM report_stays").fetchall()) == kept
            assert sorted(r for r in conn.execute("SELECT * FROM report_hours") if any(r[3:])) == hours
        after = await Summaries(store, hall).summary(Period(DAY, DAY), "counter", None)
        assert after == before
    finally:
        await store.close()
        await store.open()  # the fixture closes it again


@pytest.mark.parametrize("by", ["service", "agency", "counter", "officer", "day", "hour"])
async def test_a_long_range_walks_the_indexes_to_the_same_numbers(reports, by):
    """Ranges from 62 days on read each percentile by walking an index in wait order; shorter ones
    number their own days' waits. The worked day gives the same rows either way."""
    short = await reports.summary(Period(DAY, DAY), by, None)
    long = await reports.summary(Period(date(2026, 6, 1), date(2026, 12, 31)), by, None)
    assert long["rows"] == short["rows"] and long["total"] == short["total"]
    scoped = await reports.summary(Period(date(2026, 6, 1), date(2026, 12, 31)), by, ["A", "B"])
    assert scoped["total"]["called"] == 4 and scoped["total"]["wait_p50_s"] == 300
