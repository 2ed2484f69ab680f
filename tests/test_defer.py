"""TUNDA: a waiting citizen lets the next `defer_places` tickets of their lane go ahead, once."""

from __future__ import annotations

import pytest

from kiosk.hall.parse import parse_hall
from kiosk.queue.errors import Conflict, InvalidTransition
from kiosk.queue.service import deferred_place
from tests.conftest import hall_dict


async def calls(queue, counter: str, n: int) -> list[str]:
    numbers = []
    for _ in range(n):
        called, _ = await queue.call_next(counter, "siti")
        numbers.append(called.number if called else None)
    return numbers


async def test_deferring_lets_the_next_two_of_its_lane_go_ahead_once(queue):
    b1, b2, b3, b4, b5 = [await queue.issue("B") for _ in range(5)]
    p1 = await queue.issue("B", priority=True, priority_reason="lansia")
    moved = await queue.defer(b2.token, "warga (sms)")
    assert moved.deferred and b4.place < moved.place < b5.place, "strictly between the 2nd behind and the next"
    assert moved.place == (b4.place + b5.place) / 2
    with pytest.raises(Conflict) as again:
        await queue.defer(b2.token, "warga (sms)")
    assert again.value.code == "already_deferred"
    assert (await queue.store.reads.ticket_by_token(b2.token)).deferred, "the once is kept in the database"
    # counter 1 calls A and B: the priority ticket first (another lane: it was never behind b2)
    assert await calls(queue, "1", 6) == [p1.number, b1.number, b3.number, b4.number, b2.number, b5.number]


async def test_near_the_back_it_goes_last_and_alone_it_stays(queue):
    b1, b2, b3 = [await queue.issue("B") for _ in range(3)]
    moved = await queue.defer(b2.token, "warga")
    assert moved.place == pytest.approx(b3.place + 0.001), "fewer than two behind: just behind the last"
    b4 = await queue.issue("B")  # joins behind it, even in the same instant
    assert b4.place >= moved.place
    with pytest.raises(Conflict) as alone:
        await queue.defer(b4.token, "warga")
    assert alone.value.code == "nobody_behind"
    assert not (await queue.store.reads.ticket_by_token(b4.token)).deferred, "a refusal uses nothing up"
    assert await calls(queue, "1", 4) == [b1.number, b3.number, b2.number, b4.number]


async def test_tickets_of_one_instant_each_get_their_own_place(queue):
    tied = [await queue.issue("B") for _ in range(4)]  # the test clock does not move
    assert [t.place for t in tied] == sorted({t.place for t in tied}), "distinct and increasing"
    moved = await queue.defer(tied[0].token, "warga")
    assert tied[2].place < moved.place < tied[3].place


async def test_only_a_waiting_ticket_of_today_and_only_where_the_hall_allows(queue_factory):
    queue = await queue_factory(parse_hall(hall_dict(queue={"defer_places": 0})))
    ticket = await queue.issue("B")
    await queue.issue("B")
    with pytest.raises(Conflict) as refused:
        await queue.defer(ticket.token, "warga")
    assert refused.value.code == "defer_not_allowed"
    queue = await queue_factory(parse_hall(hall_dict(queue={"defer_places": 3})))
    first, *_ = [await queue.issue("B") for _ in range(5)]
    await queue.call_next("1", "siti")
    with pytest.raises(InvalidTransition):
        await queue.defer(first.token, "warga")


def test_places_tied_with_the_last_one_passed_go_behind_the_whole_tie():
    assert deferred_place([10.0, 20.0, 30.0], 2) == 25.0
    assert deferred_place([10.0, 20.0, 20.0, 30.0], 2) == 25.0, "an equal place cannot sit between two ties"
    assert deferred_place([10.0, 20.0], 2) == pytest.approx(20.001)
    assert deferred_place([10.0], 2) == pytest.approx(10.001)
