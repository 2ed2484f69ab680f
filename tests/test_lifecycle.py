"""Ticket lifecycle through the domain: every allowed move, and every refused one."""

from __future__ import annotations

import pytest

from kiosk.queue.errors import Conflict, InvalidTransition, NotFound
from kiosk.queue.models import CALLED, CANCELLED, DONE, NO_SHOW, SERVING, WAITING


async def test_full_visit(queue):
    ticket = await queue.issue("A")
    assert (ticket.number, ticket.state) == ("A001", WAITING)
    called, closed = await queue.call_next("1", "siti")
    assert (called.id, called.state, called.counter_id, closed) == (ticket.id, CALLED, "1", None)
    assert (await queue.recall("1", "siti")).recalls == 1
    assert (await queue.start_service("1", "siti")).state == SERVING
    done = await queue.finish("1", "siti")
    assert done.state == DONE and done.finished_at is not None
    assert await queue.call_next("1", "siti") == (None, None)


async def test_no_show_and_requeue_keeps_the_place(queue):
    first = await queue.issue("A")
    second = await queue.issue("A")
    await queue.call_next("1", "siti")
    assert (await queue.no_show("1", "siti")).state == NO_SHOW
    back = await queue.requeue(first.token, "siti")
    assert back.state == WAITING and back.counter_id is None
    called, _ = await queue.call_next("1", "siti")
    assert called.id == first.id, "a requeued no-show keeps its original place"
    assert (await queue.store.reads.ticket_by_token(second.token)).state == WAITING


async def test_next_closes_the_current_ticket(queue):
    a1, a2, a3 = [await queue.issue("A") for _ in range(3)]
    await queue.call_next("1", "siti")
    called, closed = await queue.call_next("1", "siti")
    assert (closed.id, closed.state) == (a1.id, NO_SHOW), "called but never started: no-show"
    await queue.start_service("1", "siti")
    called, closed = await queue.call_next("1", "siti")
    assert (closed.id, closed.state) == (a2.id, DONE), "being served: done"
    assert called.id == a3.id


async def test_transfer_keeps_number_and_arrival(queue):
    a1 = await queue.issue("A")
    b1 = await queue.issue("B")
    await queue.call_next("2", "siti")  # counter 2 serves only A
    await queue.start_service("2", "siti")
    moved = await queue.transfer("2", "B", "siti")
    assert (moved.number, moved.service, moved.state, moved.counter_id) == ("A001", "B", WAITING, None)
    assert moved.transfers == 1
    called, _ = await queue.call_next("1", "budi")
    assert called.id == a1.id, "arrived before B001, so it is called first in its new queue"
    called, _ = await queue.call_next("1", "budi")
    assert called.id == b1.id


async def test_cancel_only_while_waiting(queue):
    ticket = await queue.issue("B")
    assert (await queue.cancel(ticket.token)).state == CANCELLED
    with pytest.raises(InvalidTransition):
        await queue.cancel(ticket.token)
    other = await queue.issue("B")
    await queue.call_next("1", "siti")
    with pytest.raises(InvalidTransition) as info:
        await queue.cancel(other.token)
    assert info.value.code == "invalid_transition" and "dipanggil" in info.value.message


@pytest.mark.parametrize("action", ["recall", "start_service", "finish", "no_show"])
async def test_actions_without_a_ticket_are_refused(queue, action):
    with pytest.raises(Conflict) as info:
        await getattr(queue, action)("1", "siti")
    assert info.value.code == "no_current_ticket" and info.value.status == 409


async def test_refused_transitions(queue):
    await queue.issue("A")
    await queue.call_next("1", "siti")
    # called: cannot finish before starting
    with pytest.raises(InvalidTransition):
        await queue.finish("1", "siti")
    await queue.start_service("1", "siti")
    # serving: cannot start again, recall, or mark no-show
    for action in (queue.start_service, queue.recall, queue.no_show):
        with pytest.raises(InvalidTransition) as info:
            await action("1", "siti")
        assert info.value.status == 409
    done = await queue.finish("1", "siti")
    # done: cannot be requeued or cancelled
    for action in (queue.requeue, ):
        with pytest.raises(InvalidTransition):
            await action(done.token, "siti")
    with pytest.raises(InvalidTransition):
        await queue.cancel(done.token)
    waiting = await queue.issue("A")
    with pytest.raises(InvalidTransition):
        await queue.requeue(waiting.token, "siti")


async def test_transfer_refusals(queue):
    with pytest.raises(Conflict):
        await queue.transfer("1", "B", "siti")
    await queue.issue("A")
    await queue.call_next("1", "siti")
    with pytest.raises(Conflict) as info:
        await queue.transfer("1", "A", "siti")
    assert info.value.code == "same_service"
    with pytest.raises(NotFound) as info:
        await queue.transfer("1", "ZZ", "siti")
    assert info.value.code == "unknown_service"


async def test_pause_and_resume(queue):
    await queue.issue("A")
    await queue.pause("1", "siti")
    with pytest.raises(Conflict) as info:
        await queue.call_next("1", "siti")
    assert info.value.code == "counter_paused"
    await queue.resume("1", "siti")
    await queue.call_next("1", "siti")
    with pytest.raises(Conflict) as info:
        await queue.pause("1", "siti")
    assert info.value.code == "counter_busy"


async def test_unknown_things(queue):
    with pytest.raises(NotFound) as info:
        await queue.issue("Q")
    assert info.value.code == "unknown_service"
    with pytest.raises(NotFound) as info:
        await queue.call_next("99", "siti")
    assert info.value.code == "unknown_counter"
    with pytest.raises(NotFound) as info:
        await queue.ticket("not-a-token")
    assert info.value.code == "unknown_ticket"


async def test_events_follow_commits(queue):
    sub = queue.bus.subscribe()
    await queue.issue("A")
    await queue.call_next("1", "siti")
    await queue.recall("1", "siti")
    sub.close()
    events = [e async for e in sub]
    kinds = [e.type for e in events]
    assert kinds == ["queue.changed", "ticket.called", "queue.changed", "ticket.called"]
    assert [e.id for e in events] == sorted(e.id for e in events)
    called = events[1].data
    assert called == {"number": "A001", "service": "A", "service_name": "KTP Elektronik", "counter": "1",
                      "counter_name": "Loket 1", "recall": False, "priority": False}
    assert events[3].data["recall"] is True
    stored = await queue.store.reads.events_after(0)
    assert [e.id for e in stored] == [e.id for e in events]


async def test_failed_action_publishes_nothing(queue):
    sub = queue.bus.subscribe()
    with pytest.raises(Conflict):
        await queue.recall("1", "siti")
    with pytest.raises(Conflict):
        await queue.transfer("1", "B", "siti")
    assert queue.bus.subscriber_count == 1
    sub.close()
    assert [e async for e in sub] == []
    assert await queue.store.reads.last_event_id() == 0
