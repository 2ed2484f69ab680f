"""The priority rule: priority first, at most N in a row while normal tickets wait, nobody starves."""

from __future__ import annotations

import random

import pytest

from kiosk.hall.parse import parse_hall
from kiosk.queue.errors import Unprocessable
from tests.conftest import hall_dict


async def _call_all(queue, counter="1"):
    order = []
    while True:
        ticket, _ = await queue.call_next(counter, "siti")
        if ticket is None:
            return order
        order.append(ticket.number + ("*" if ticket.priority else ""))


async def test_at_most_two_priority_calls_in_a_row(queue):
    for code, priority in [("A", False), ("A", False), ("B", True), ("A", True), ("B", True), ("B", True),
                           ("B", False)]:
        await queue.issue(code, priority=priority)
    # FCFS within each class across services A and B; never 3 priority calls while normal ones wait.
    assert await _call_all(queue) == ["B001*", "A003*", "A001", "B002*", "B003*", "A002", "B004"]


async def test_priority_alone_is_called_without_limit(queue):
    for _ in range(4):
        await queue.issue("B", priority=True)
    assert await _call_all(queue) == ["B001*", "B002*", "B003*", "B004*"]


async def test_rule_is_configurable(queue_factory):
    queue = await queue_factory(parse_hall(hall_dict(queue={"priority_max_in_row": 1})))
    for priority in (True, True, True, False, False, False):
        await queue.issue("B", priority=priority)
    assert await _call_all(queue) == ["B001*", "B004", "B002*", "B005", "B003*", "B006"]


async def test_priority_reason_is_checked(queue):
    ticket = await queue.issue("A", priority_reason="lansia")
    assert ticket.priority and ticket.priority_reason == "lansia"
    with pytest.raises(Unprocessable) as info:
        await queue.issue("A", priority_reason="vip")
    assert info.value.code == "invalid_priority"


async def test_long_run_starves_nobody(queue, clock):
    """Priority arrivals alone fill the counter's capacity; normal tickets are still called in bounded time."""
    rng = random.Random(2017)
    n = queue.config.queue.priority_max_in_row
    normal_arrival: dict[int, tuple[int, int]] = {}  # id -> (calls so far, normal tickets ahead)
    waiting_normal = 0
    streak = normal_called = 0
    for calls in range(300):
        await queue.issue("B", priority=True)  # one priority citizen per call: strict priority would starve
        if rng.random() < 0.3:
            ticket = await queue.issue("B")
            normal_arrival[ticket.id] = (calls, waiting_normal)
            waiting_normal += 1
        had_normal = waiting_normal > 0
        ticket, _ = await queue.call_next("1", "siti")
        clock.advance(30)
        if ticket.priority:
            streak = streak + 1 if had_normal else 0
            assert streak <= n, "too many priority calls in a row while a normal ticket waited"
        else:
            streak = 0
            waiting_normal -= 1
            normal_called += 1
            arrived, ahead = normal_arrival.pop(ticket.id)
            # calls made so far, this one included, since the ticket arrived
            assert calls + 1 - arrived <= (n + 1) * (ahead + 1), "a normal ticket waited beyond the bound"
    assert normal_called > 60
    while (ticket := (await queue.call_next("1", "siti"))[0]) is not None:
        normal_arrival.pop(ticket.id, None)
    assert normal_arrival == {}, "every normal ticket was called"
    assert await queue.store.reads.waiting_counts(queue.today()) == {}
