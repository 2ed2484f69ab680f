"""Many counters pressing "next" at once: every ticket is called exactly once, never twice."""

from __future__ import annotations

import asyncio
from collections import Counter

from kiosk.queue.errors import Conflict
from kiosk.web.appkeys import STORE
from tests.conftest import login, take

TEN_COUNTERS = [{"id": str(i), "name": f"Loket {i}", "services": ["A", "B"]} for i in range(1, 11)]


async def test_fifty_simultaneous_next_calls_across_ten_counters(client_for):
    client = await client_for(counters=TEN_COUNTERS)
    headers = await login(client, "sri", "supervisor")
    waiting = {(await take(client, "A" if i % 6 == 0 else "B"))["number"] for i in range(30)}
    calls = [client.post(f"/api/counters/{i % 10 + 1}/next", headers=headers) for i in range(50)]
    responses = await asyncio.gather(*calls)
    called = []
    for resp in responses:
        assert resp.status in (200, 204), await resp.text()
        if resp.status == 200:
            called.append((await resp.json())["ticket"]["number"])
    duplicates = [n for n, k in Counter(called).items() if k > 1]
    assert duplicates == [], f"handed out twice: {duplicates}"
    assert sorted(called) == sorted(waiting), "every waiting ticket was called"
    assert sum(r.status == 204 for r in responses) == 20
    # Each ticket visited exactly one counter, as the store records it.
    reads = client.server.app[STORE].reads
    async with reads.conn.execute("SELECT ticket_id, COUNT(*), COUNT(DISTINCT counter_id) FROM service_log "
                                  "GROUP BY ticket_id") as cur:
        visits = await cur.fetchall()
    assert len(visits) == 30 and all(n == 1 and counters == 1 for _, n, counters in visits)


async def test_tickets_asked_for_together_are_issued_together_and_refused_alone(queue):
    # Service A has a daily quota of 5. Twelve people press at once: they share write
    # transactions, yet the three over the quota are refused alone and the rest are issued.
    events = queue.bus.subscribe()
    asked = ["A"] * 8 + ["B"] * 4
    results = await asyncio.gather(*(queue.take(code) for code in asked), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Conflict)]
    issued = [r[0].number for r in results if not isinstance(r, BaseException)]
    assert len(refused) == 3 and all(r.code == "quota_exhausted" for r in refused)
    assert sorted(issued) == ["A001", "A002", "A003", "A004", "A005", "B001", "B002", "B003", "B004"]
    views = [r[1] for r in results if not isinstance(r, BaseException)]
    assert sorted(v["ahead"] for v in views if v["service"] == "B") == [0, 1, 2, 3]
    reads = queue.store.reads
    assert await reads.waiting_counts(queue.today()) == {"A": 5, "B": 4}
    changed = []
    while (event := await events.next(0.05)) is not None:
        if event.type == "queue.changed":
            changed.append((event.data["service"], event.data["waiting"]))
    assert changed[-1][1] in (4, 5) and {s for s, _ in changed} == {"A", "B"}
    assert len(changed) < len(issued), "one queue.changed per service per transaction, not per ticket"
    assert dict(changed) == {"A": 5, "B": 4}, "the last word on each queue is its true count"


async def test_a_caller_gone_before_its_turn_gets_no_ticket(queue):
    first = asyncio.ensure_future(queue.take("B"))
    second = asyncio.ensure_future(queue.take("B"))
    await asyncio.sleep(0)  # both are queued; the first transaction has not begun
    second.cancel()
    ticket, _ = await first
    assert ticket.number == "B001"
    assert (await asyncio.gather(second, return_exceptions=True))[0].__class__ is asyncio.CancelledError
    assert (await queue.take("B"))[0].number == "B002", "the cancelled request took no number"


async def test_a_refusal_after_writing_undoes_the_whole_batch_rather_than_keep_part(queue, monkeypatch):
    # Guard for future changes: refusals must come before a ticket is written. One that comes
    # after would leave a ticket its caller was told it did not get; the batch is undone instead.
    real = queue.issuer.issue_in

    async def refuses_late(w, take):
        answer = await real(w, take)
        if take.service == "A":
            raise Conflict("late refusal", code="late")
        return answer

    monkeypatch.setattr(queue.issuer, "issue_in", refuses_late)
    results = await asyncio.gather(queue.take("B"), queue.take("A"), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await queue.store.reads.waiting_counts(queue.today()) == {}, "nothing of the batch was kept"
    monkeypatch.undo()
    assert (await queue.take("B"))[0].number == "B001"
