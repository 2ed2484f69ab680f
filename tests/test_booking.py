"""The online queue's rules with the injected clock across days: the online share and the walk-in
part add up to the daily quota (also under many simultaneous requests), slots never overbooked,
limits per identity, closed days, the check-in ordering rule and its bound, expiry, reminders once."""

from __future__ import annotations

import asyncio
import random

import pytest

from kiosk.booking.reminders import send_reminders
from kiosk.queue.errors import Conflict, DomainError
from tests.booking_hall import booking_hall
from tests.conftest import wib

PHONE = "sms:+6281234500{:03d}"


@pytest.fixture
async def hall(runtime_factory):
    return await runtime_factory(booking_hall())


def who(n: int) -> str:
    return PHONE.format(n)


async def codes_of(coros) -> list[str]:
    """Each outcome: 'ok' or the refusal's code."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    out = []
    for r in results:
        if isinstance(r, DomainError):
            out.append(r.code)
        elif isinstance(r, BaseException):
            raise r
        else:
            out.append("ok")
    return out


async def test_online_share_and_walk_in_part_add_up_to_the_daily_quota(hall) -> None:
    outcomes = [await _outcome(hall.bookings.take_remote(who(n), "A")) for n in range(5)]
    assert outcomes == ["ok"] * 4 + ["remote_quota_exhausted"]
    walk_ins = [await _outcome(hall.queue.take("A")) for _ in range(7)]
    assert walk_ins == ["ok"] * 6 + ["quota_exhausted"]
    assert (await hall.writer.store.reads.issued_counts("2026-11-25"))["A"] == 10  # daily_quota exactly


async def test_walk_ins_cannot_take_the_online_part(hall) -> None:
    assert await _kiosk_a(hall) == (6, None)  # the kiosk shows the walk-in part left
    await hall.queue.take("A")
    await hall.bookings.take_remote(who(1), "A")
    assert await _kiosk_a(hall) == (5, None)  # a number from home uses the online part, not the kiosk's
    assert [await _outcome(hall.queue.take("A")) for _ in range(6)] == ["ok"] * 5 + ["quota_exhausted"]
    assert await _kiosk_a(hall) == (0, "quota_exhausted")
    assert await _outcome(hall.bookings.take_remote(who(2), "A")) == "ok"


async def _kiosk_a(hall) -> tuple[int, str | None]:
    row = next(s for s in await hall.queue.views.services_overview() if s["code"] == "A")
    return row["quota_left"], row["unavailable_reason"]


async def test_many_simultaneous_requests_never_pass_the_share_or_a_slot(hall, clock) -> None:
    remote = await codes_of(hall.bookings.take_remote(who(n), "A") for n in range(60))
    assert remote.count("ok") == 4 and set(remote) == {"ok", "remote_quota_exhausted"}
    clock.set(wib(2026, 11, 30, 7, 0))  # Monday: a new day, its share untouched
    booked = await codes_of(hall.bookings.book(who(100 + n), "A", "2026-12-01", "09:00") for n in range(60))
    assert booked.count("ok") == 2 and set(booked) == {"ok", "slot_full"}
    slots = await hall.bookings.slots("A", "2026-12-01")
    assert next(s for s in slots["slots"] if s["time"] == "09:00")["left"] == 0
    spread = await codes_of(hall.bookings.book(who(200 + n), "A", "2026-12-01", label)
                            for n, label in enumerate(["10:00", "10:00", "10:30", "10:30", "13:00"] * 4))
    assert spread.count("ok") == 2  # the share (4) holds across slots: 2 + 2
    # Both limits are reached; which one a refusal names depends on the order the store saw them.
    assert "remote_quota_exhausted" in spread and set(spread) <= {"ok", "slot_full", "remote_quota_exhausted"}


async def test_limits_belong_to_the_identity(hall, clock) -> None:
    b = hall.bookings
    await b.book(who(1), "A", "2026-11-26", "09:00")
    assert await _outcome(b.book(who(1), "A", "2026-11-26", "10:00")) == "booking_limit"  # per day
    await b.book(who(1), "A", "2026-11-27", "09:00")
    clock.set(wib(2026, 11, 25, 9, 1))
    assert await _outcome(b.take_remote(who(1), "A")) == "booking_limit"  # per week: 2 already
    assert await _outcome(b.take_remote(who(2), "A")) == "ok"  # someone else is not limited
    first = (await hall.writer.store.reads.identity_bookings(await b.verifier.pseudonym(who(1)), "2026-11-26"))[0]
    await b.cancel(first["code"], who(1))  # a cancelled booking no longer counts
    assert await _outcome(b.take_remote(who(1), "A")) == "ok"
    with pytest.raises(DomainError) as err:
        await b.cancel(first["code"], who(3))
    assert err.value.code == "booking_not_open" or err.value.code == "not_your_booking"


async def test_closed_days_close_bookings_and_the_kiosk(hall, clock) -> None:
    clock.set(wib(2026, 12, 20, 9, 0))  # a Sunday: the 24th and 25th are in the window
    for day in ("2026-12-24", "2026-12-25", "2026-12-26"):  # cuti bersama, Natal, a Saturday
        assert await _outcome(hall.bookings.book(who(1), "A", day, "09:00")) in ("closed_day", "unknown_slot")
        assert (await hall.bookings.slots("A", day))["slots"] == []
    with pytest.raises(Conflict) as err:
        await hall.queue.take("B")
    assert err.value.code == "closed_day" and "Minggu" in err.value.message
    assert {s["unavailable_reason"] for s in await hall.queue.views.services_overview()} == {"closed_day"}
    clock.set(wib(2026, 12, 25, 9, 0))
    with pytest.raises(Conflict) as err:
        await hall.queue.take("B")
    assert err.value.code == "closed_day" and "Hari Raya Natal" in err.value.message
    clock.set(wib(2026, 12, 28, 9, 0))  # Monday: open again
    await hall.queue.take("B")


async def test_a_booking_checked_in_before_its_slot_joins_at_its_slot_time(hall, clock) -> None:
    q, b = hall.queue, hall.bookings
    clock.set(wib(2026, 11, 25, 8, 0))
    early = await b.book(who(1), "A", "2026-11-25", "10:00")
    late = await b.book(who(2), "A", "2026-11-25", "10:30")
    clock.set(wib(2026, 11, 25, 9, 0))
    w1 = await q.issue("A")
    clock.set(wib(2026, 11, 25, 9, 30))
    checked = await b.check_in(early["code"])
    assert checked["late"] is False and checked["ticket_view"]["origin"] == "booking"
    # Its place is ahead in time, not "the latest place taken" (what a restarted issuer reads).
    assert await hall.writer.store.reads.last_place("2026-11-25") == pytest.approx(w1.place)
    clock.set(wib(2026, 11, 25, 9, 45))
    w2 = await q.issue("A")  # came before 10:00: ahead of the booking
    clock.set(wib(2026, 11, 25, 10, 5))
    w3 = await q.issue("A")  # came after 10:00: behind it
    clock.set(wib(2026, 11, 25, 10, 40))
    w4 = await q.issue("A")
    clock.set(wib(2026, 11, 25, 10, 50))  # 20 minutes after 10:30, grace 15: a walk-in now
    lated = await b.check_in(late["code"])
    assert lated["late"] is True
    assert await hall.writer.store.reads.last_place("2026-11-25") == pytest.approx(wib(2026, 11, 25, 10, 50)
                                                                                    .timestamp())
    order = []
    for _ in range(6):
        called, _ = await q.call_next("2", None)
        order.append(called.number if called else None)
    assert order == [w1.number, w2.number, checked["ticket"]["number"], w3.number, w4.number,
                     lated["ticket"]["number"]]


async def test_check_in_refusals(hall, clock) -> None:
    b = hall.bookings
    booking = await b.book(who(1), "A", "2026-11-26", "13:00")
    assert await _outcome(b.check_in(booking["code"])) == "not_today"
    clock.set(wib(2026, 11, 26, 10, 0))
    assert await _outcome(b.check_in(booking["code"])) == "too_early"  # 3 hours before, 2 allowed
    assert await _outcome(b.check_in("99999999")) == "unknown_booking"
    clock.set(wib(2026, 11, 26, 12, 30))
    await b.check_in(booking["code"])
    assert await _outcome(b.check_in(booking["code"])) == "booking_not_open"


async def test_no_rule_starves_walk_ins_or_bookings(hall, clock) -> None:
    """Random mornings: the call order is exactly by effective arrival (a walk-in: when it came; a
    booking checked in by its slot's start + grace: the slot's start; later: when it checked in).
    So a walk-in is passed only by bookings whose slot began before it came (at most the capacity
    of those slots), and a booking only by walk-ins who came before its slot: no one waits forever."""
    rng = random.Random(21)
    for day in (26, 27):  # Thursday, Friday (prayer break)
        events: list[tuple[float, str, str | None]] = []
        base = wib(2026, 11, day, 8, 0).timestamp()
        clock.set(wib(2026, 11, day - 1, 8, 0))
        slots = [s["time"] for s in (await hall.bookings.slots("A", f"2026-11-{day}"))["slots"]][:6]
        for n, label in enumerate(rng.sample(slots, 4)):
            booking = await hall.bookings.book(who(day * 100 + n), "A", f"2026-11-{day}", label)
            h, m = map(int, label.split(":"))
            start = wib(2026, 11, day, h, m).timestamp()
            events.append((start + rng.uniform(-100, 30) * 60 if h > 8 else start + rng.uniform(-15, 30) * 60,
                           "booking", booking["code"]))
        events += [(base + rng.uniform(0, 150) * 60, "walk_in", None) for _ in range(6)]
        expected: list[tuple[float, str]] = []
        for at, kind, code in sorted(events):
            clock.set(wib(2026, 11, day, 8, 0))
            clock.advance(at - base)
            if kind == "walk_in":
                expected.append((at, (await hall.queue.issue("A")).number))
            else:
                assert code is not None
                checked = await hall.bookings.check_in(code)
                slot_start = at if checked["late"] else _slot_epoch(day, checked["time"])
                expected.append((slot_start, checked["ticket"]["number"]))
        order = []
        for _ in events:
            called, _ = await hall.queue.call_next("2", None)
            assert called is not None
            order.append(called.number)
        assert order == [number for _, number in sorted(expected)]


async def test_unused_bookings_expire(hall, clock) -> None:
    booking = await hall.bookings.book(who(1), "A", "2026-11-26", "09:00")
    clock.set(wib(2026, 11, 27, 8, 0))
    await hall.queue.issue("B")  # the new day's first write
    assert (await hall.bookings.booking(booking["code"]))["state"] == "expired"
    row = await hall.writer.store.reads.booking_by_code(booking["code"])
    assert row["contact"] is None and row["identity"].startswith("id:")  # the phone is forgotten
    assert "+62" not in row["identity"] and "81234500001" not in row["identity"]


async def test_reminders_are_sent_once(hall, clock) -> None:
    await hall.bookings.book(who(1), "A", "2026-11-26", "10:00")
    clock.set(wib(2026, 11, 25, 15, 59))
    assert await send_reminders(hall.bookings) == 0
    clock.set(wib(2026, 11, 25, 16, 0))
    assert await send_reminders(hall.bookings) == 1
    assert await asyncio.gather(send_reminders(hall.bookings), send_reminders(hall.bookings)) == [0, 0]
    assert await _stages(hall) == ["booking", "reminder_day"]
    clock.set(wib(2026, 11, 26, 8, 59))
    assert await send_reminders(hall.bookings) == 0
    clock.set(wib(2026, 11, 26, 9, 0))
    assert await send_reminders(hall.bookings) == 1
    clock.set(wib(2026, 11, 26, 9, 30))
    assert await send_reminders(hall.bookings) == 0
    # Unsent messages to numbers end with their day (privacy); today's reminder is there once.
    assert await _stages(hall) == ["reminder_hour"]


async def _stages(hall) -> list[str]:
    sent = await hall.writer.store.reads.pending_messages(channel="sms")
    assert all(m["address"] == "+6281234500001" for m in sent)
    return sorted(m["stage"] for m in sent)


def _slot_epoch(day: int, label: str) -> float:
    h, m = map(int, label.split(":"))
    return wib(2026, 11, day, h, m).timestamp()


async def _outcome(coro) -> str:
    try:
        await coro
    except DomainError as exc:
        return exc.code
    return "ok"
