"""The waiting-time forecast on worked examples (docs/estimates.md): shared counters, the priority
rule, visits in progress, paused counters, no-shows, the usual pace at that hour, issuing, and an
estimate that holds still while nothing real changes."""

from __future__ import annotations

import math

import pytest

from kiosk.hall.parse import parse_hall
from kiosk.queue import loads as loads_module
from kiosk.queue.estimate import Desk, Forecast, Pace, pace_of, simple_wait_seconds
from kiosk.queue.models import CounterState
from tests.conftest import hall_dict, wib

SERVICES = [{"code": "X", "name": "Layanan X", "agency": "DUKCAPIL", "service_minutes": 5},
            {"code": "Y", "name": "Layanan Y", "agency": "DUKCAPIL", "service_minutes": 10},
            {"code": "S", "name": "Layanan S", "agency": "IMIGRASI", "service_minutes": 7}]
COUNTERS = [{"id": "1", "name": "Loket 1", "services": ["X", "Y"]},
            {"id": "2", "name": "Loket 2", "services": ["X"]},
            {"id": "5", "name": "Loket 5", "services": ["S"]},
            {"id": "6", "name": "Loket 6", "services": ["S"]},
            {"id": "7", "name": "Loket 7", "services": ["S"]}]


@pytest.fixture
async def rt(runtime_factory):
    return await runtime_factory(parse_hall(hall_dict(services=SERVICES, counters=COUNTERS)))


async def view_of(rt, ticket):
    return await rt.queue.views.ticket_view(await rt.queue.store.reads.ticket_by_token(ticket.token))


async def test_no_counter_working_cannot_be_estimated_and_says_so(rt, clock):
    # The issue's case: three counters configured, nobody at them yet. The formula used before
    # said 3 ahead x 7 min / 3 counters = 7 minutes, then 14 after the first call.
    tickets = [await rt.queue.issue("S") for _ in range(4)]
    view = await view_of(rt, tickets[3])
    assert view["ahead"] == 3 and view["estimated_wait_s"] is None and view["estimated_wait_known"] is False
    assert view["estimated_wait_text"] == "belum dapat diperkirakan"
    overview = {s["code"]: s for s in await rt.queue.views.services_overview()}
    assert overview["S"]["estimated_wait_text"] == "belum dapat diperkirakan"
    await rt.queue.call_next("5", "siti")  # one counter works: its visit, then two more before ours
    view = await view_of(rt, tickets[3])
    assert view["ahead"] == 2 and view["estimated_wait_s"] == 3 * 420 and view["estimated_wait_known"] is True
    # Nothing real changes for 30 seconds, then a citizen starts following by Telegram (a write
    # that changes nothing the forecast rests on): the expected call stays where it was.
    clock.advance(30)
    assert (await view_of(rt, tickets[3]))["estimated_wait_s"] == 3 * 420 - 30
    await rt.following.subscribe(tickets[2].token, "telegram", "77")
    assert (await view_of(rt, tickets[3]))["estimated_wait_s"] == 3 * 420 - 30
    # Two more counters open: ours is called when the first of three is free after the two ahead.
    await rt.queue.call_next("6", "siti")
    await rt.queue.call_next("7", "siti")
    view = await view_of(rt, tickets[3])
    assert view["ahead"] == 0 and view["estimated_wait_s"] == 420 - 30, "counter 5 frees first (called 30 s earlier)"


async def test_the_only_counter_paused_gives_no_estimate_not_less_than_a_minute(rt):
    ticket = await rt.queue.issue("S")
    await rt.queue.resume("5", "siti")  # open, idle: the ticket is next
    await rt.queue.issue("S")
    assert (await view_of(rt, ticket))["estimated_wait_text"] == "kurang dari 1 menit"
    await rt.queue.pause("5", "siti")
    view = await view_of(rt, ticket)
    assert view["estimated_wait_s"] is None and view["estimated_wait_text"] == "belum dapat diperkirakan"


async def test_counters_shared_between_services(rt):
    # Counter 1 calls X and Y in the order people came; counter 2 only X.
    await rt.queue.resume("1", "siti")
    await rt.queue.resume("2", "siti")
    await rt.queue.pause("1", "siti")  # keep both idle until the queue is there
    await rt.queue.pause("2", "siti")
    y1 = await rt.queue.issue("Y")
    await rt.queue.issue("X")
    x2 = await rt.queue.issue("X")
    await rt.queue.resume("1", "siti")
    await rt.queue.resume("2", "siti")
    load = (await rt.queue.loads.current())["X"]
    # Counter 1 takes Y1 (10 min) at once, counter 2 X1 (5 min); X2 goes to counter 2 after 5 minutes.
    assert [load.wait_for(i) for i in range(3)] == [0, 300, 600]
    assert (await view_of(rt, x2))["estimated_wait_s"] == 300
    assert (await view_of(rt, y1))["estimated_wait_s"] == 0
    # The formula counted only X tickets ahead and both counters as X's: 1 x 5 min / 2.
    simple = (await rt.queue.loads.simple())["X"]
    assert simple.wait_for(1) == 150


async def test_priority_rule_in_the_forecast(rt):
    await rt.queue.resume("2", "siti")
    await rt.queue.pause("2", "siti")
    n1 = await rt.queue.issue("X")
    p = [await rt.queue.issue("X", priority=True) for _ in range(3)]
    await rt.queue.resume("2", "siti")
    # At most two priority calls in a row while a normal ticket waits: P1, P2, N1, P3.
    waits = {t.number: (await view_of(rt, t))["estimated_wait_s"] for t in [n1, *p]}
    assert waits == {p[0].number: 0, p[1].number: 300, n1.number: 600, p[2].number: 900}
    assert (await view_of(rt, n1))["ahead"] == 3, "people ahead still counts every priority ticket"


def test_what_is_left_of_a_visit_in_progress_follows_the_lognormal_law():
    pace = Pace(300.0, 0.6)
    sigma = math.sqrt(math.log(1 + 0.36))
    mu = math.log(300) - sigma ** 2 / 2

    def density(x: float) -> float:
        return math.exp(-(math.log(x) - mu) ** 2 / (2 * sigma ** 2)) / (x * sigma * math.sqrt(2 * math.pi))

    for elapsed in (60.0, 240.0, 600.0):
        step = 0.5
        xs = [elapsed + step * (i + 0.5) for i in range(40000)]
        tail = sum(density(x) for x in xs) * step
        mean_left = sum((x - elapsed) * density(x) for x in xs) * step / tail
        left, var = pace.residual(elapsed)
        assert left == pytest.approx(mean_left, rel=1e-3), elapsed
        assert var > 0
    assert pace.residual(0) == (300.0, pytest.approx((300 * 0.6) ** 2))
    assert pace.residual(240)[0] > 60, "a visit running long is not over in a minute"


def test_pace_shrinks_recent_visits_towards_the_usual_hour_or_the_prior():
    assert pace_of(300, []).mean_s == 300
    # Three served visits of 5 minutes and two no-shows of one minute: no-shows drop out quickly.
    assert pace_of(300, [300, 300, 300, 60, 60]).mean_s == pytest.approx((5 * 300 + 900 + 120) / 10)
    # This hour on past days: 12 visits of 10 minutes outweigh the configured 5 minutes.
    assert pace_of(300, [], (12, 7200.0, 12 * 600.0 ** 2)).mean_s == 600
    assert pace_of(300, [], (3, 1800.0, 3 * 600.0 ** 2)).mean_s == 300, "too few to be the usual pace"


async def test_usual_pace_at_this_hour_from_past_days(runtime_factory, clock):
    clock.set(wib(2026, 11, 24, 9, 0))  # yesterday at nine: twelve visits of ten minutes at two counters
    rt = await runtime_factory(parse_hall(hall_dict(services=SERVICES, counters=COUNTERS)))
    for _ in range(12):
        await rt.queue.issue("X")
    for _ in range(6):
        for counter in ("1", "2"):
            await rt.queue.call_next(counter, "siti")
            await rt.queue.start_service(counter, "siti")
        clock.advance(600)
        for counter in ("1", "2"):
            await rt.queue.finish(counter, "siti")
    clock.set(wib(2026, 11, 25, 9, 30))
    await rt.queue.issue("X")
    await rt.queue.call_next("2", "siti")
    assert (await rt.queue.loads.current())["X"].mean_service_s == 600
    clock.set(wib(2026, 11, 25, 14, 0))  # an hour with no history: the configured 5 minutes
    await rt.queue.issue("X")
    await rt.queue.call_next("1", "siti")
    assert (await rt.queue.loads.current())["X"].mean_service_s == 300


async def test_tickets_issued_between_changes_join_at_the_back(rt):
    await rt.queue.issue("X")
    await rt.queue.issue("X")
    await rt.queue.call_next("1", "siti")
    await rt.queue.call_next("2", "siti")  # both busy, each free in 5 minutes
    waits = [(await rt.queue.take("X"))[1]["estimated_wait_s"] for _ in range(5)]
    assert waits == [300, 300, 600, 600, 900]
    # The same from a forecast built afresh.
    rt.queue.loads._cache.clear()
    load = (await rt.queue.loads.current())["X"]
    assert [load.wait_for(i) for i in range(6)] == [300, 300, 600, 600, 900, 900]


async def test_a_new_priority_ticket_goes_before_normal_ones(rt):
    await rt.queue.issue("X")
    await rt.queue.call_next("2", "siti")
    normal = await rt.queue.issue("X")
    _, view = await rt.queue.take("X", priority=True)
    assert view["ahead"] == 0 and view["estimated_wait_s"] == 300
    assert (await view_of(rt, normal))["estimated_wait_s"] == 600


async def test_estimate_after_an_undone_write_is_not_taken_from_it(rt):
    await rt.queue.take("X")
    with pytest.raises(RuntimeError):
        async with rt.queue.writer.write() as w:  # a write that opens counter 2, reads the load, then fails
            await w.q.save_counter_state(CounterState("2", False, 0, w.day))
            assert (await rt.queue.loads.in_work(w, "X")).servers == 1
            raise RuntimeError("the write fails")
    _, view = await rt.queue.take("X")
    assert view["estimated_wait_s"] is None, "the undone change is not used"


async def test_a_queue_longer_than_what_is_read_goes_on_at_its_rate(rt, monkeypatch):
    monkeypatch.setattr(loads_module, "FORECAST_READ", 4)
    for _ in range(10):
        await rt.queue.issue("X")
    await rt.queue.call_next("2", "siti")  # counter 2 alone: every 5 minutes
    load = (await rt.queue.loads.current())["X"]
    waits = [load.wait_for(i) for i in range(9)]
    assert waits == [300 * (i + 1) for i in range(9)]


def test_forecast_alone_and_the_formula_before_it():
    paces = {"X": Pace(300, 0.5)}
    lanes = [(1, "X", False, 1.0), (2, "X", False, 2.0)]
    forecast = Forecast.run(1000.0, [Desk("1", ("X",), ("X", 1000.0 - 100)), Desk("2", ("X",))], lanes, paces,
                            max_in_row=2)
    assert forecast.wait("X", 0, 1000.0) == 0, "counter 2 is free"
    left = Pace(300, 0.5).residual(100)[0]
    assert forecast.wait("X", 1, 1000.0) == round(left)
    assert forecast.wait("Y", 0, 1000.0) is None
    assert simple_wait_seconds(3, 2, 300) == 450 and simple_wait_seconds(0, 0, 300) == 0


async def test_a_ticket_that_lets_others_go_ahead_gets_their_later_call(rt):
    # Counter 1 (X and Y) alone at work, busy with an X visit: X1, Y1 (10 minutes) and X2 wait.
    await rt.queue.issue("X")
    await rt.queue.call_next("1", "siti")
    x1, _, x2 = await rt.queue.issue("X"), await rt.queue.issue("Y"), await rt.queue.issue("X")
    assert [(await view_of(rt, t))["estimated_wait_s"] for t in (x1, x2)] == [300, 1200]
    await rt.queue.defer(x1.token, "warga")  # TUNDA: X2 goes ahead of X1, and Y1 with it
    assert [(await view_of(rt, t))["estimated_wait_s"] for t in (x2, x1)] == [900, 1200]
