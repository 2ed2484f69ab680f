"""The console's safeguards in the queue and its API: a stale screen never ends someone's turn, a
called ticket ends as a no-show only when the officer confirms, a chosen number is called out of
turn, today's no-shows go back, and each audit row names the ticket it is about."""

from __future__ import annotations

import pytest

from kiosk.queue.errors import Conflict, NotFound
from tests.conftest import login, take


async def test_next_on_a_called_ticket_asks_first_and_audits_each_ticket(queue):
    first = await queue.issue("A")
    second = await queue.issue("A")
    called, _ = await queue.call_next("1", "siti", expect="")
    assert called.number == "A001"
    with pytest.raises(Conflict) as refused:
        await queue.call_next("1", "siti", expect="A001", confirm_no_show=False)
    assert refused.value.code == "confirm_no_show" and "A001" in refused.value.message
    assert (await queue.ticket(first.token)).state == "called", "nothing happened"
    called, closed = await queue.call_next("1", "siti", expect="A001", confirm_no_show=True)
    assert (called.number, closed.number, closed.state) == ("A002", "A001", "no_show")
    rows = await queue.store.reads.audit_entries(10)
    assert [(r["action"], r["ticket_number"]) for r in rows[:2]] == [("next", "A002"), ("no_show", "A001")], \
        "the no-show sits on its own ticket's line, not on the next one's"
    assert (await queue.ticket(second.token)).state == "called"


async def test_a_stale_console_changes_nothing(queue):
    await queue.issue("A")
    await queue.issue("A")
    await queue.call_next("1", "siti")  # another tab called A001
    with pytest.raises(Conflict) as refused:
        await queue.call_next("1", "budi", expect="")  # this tab still shows nothing
    assert refused.value.code == "current_changed" and "A001" in refused.value.message
    with pytest.raises(Conflict):
        await queue.call_number("1", "A002", "budi", expect="")
    assert [t.number for t in await queue.store.reads.waiting_list(queue.today(), ("A",))] == ["A002"]


async def test_calling_a_chosen_number(queue):
    tickets = [await queue.issue("A") for _ in range(3)]
    passport = await queue.issue("P")
    called, closed = await queue.call_number("1", "a003", "siti", expect="")
    assert (called.number, called.counter_id, closed) == ("A003", "1", None)
    for number, code in (("P001", "other_service"), ("A003", "invalid_transition"), ("A099", "unknown_number")):
        with pytest.raises((Conflict, NotFound)) as refused:
            await queue.call_number("1", number, "siti", expect="A003")
        assert refused.value.code == code, number
    assert (await queue.ticket(passport.token)).state == "waiting"
    # The priority rule's count is not touched: the next call is the oldest waiting one.
    called, closed = await queue.call_next("1", "siti", expect="A003")
    assert (called.number, closed.state) == ("A001", "no_show")
    rows = await queue.store.reads.audit_entries(10, action="call_number")
    assert [(r["ticket_number"], r["counter_id"]) for r in rows] == [("A003", "1")]
    assert tickets[1].number == "A002"


async def test_the_console_api_calls_lists_no_shows_and_puts_them_back(client):
    officer = await login(client, "siti", "officer", ("1",))
    for _ in range(2):
        await take(client, "A")
    resp = await client.post("/api/counters/1/call", headers=officer, json={"expect": ""})
    assert resp.status == 200 and (await resp.json())["ticket"]["number"] == "A001"
    resp = await client.post("/api/counters/1/call", headers=officer, json={"expect": "A001"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "confirm_no_show"
    resp = await client.post("/api/counters/1/call", headers=officer, json={"expect": "A001", "no_show": True})
    body = await resp.json()
    assert body["closed"] == {"number": "A001", "state": "no_show"} and body["ticket"]["number"] == "A002"
    no_shows = await (await client.get("/api/counters/1/no-shows", headers=officer)).json()
    assert [(n["number"], n["service"]) for n in no_shows] == [("A001", "A")] and no_shows[0]["token"]
    resp = await client.post(f"/api/tickets/{no_shows[0]['token']}/requeue", headers=officer)
    assert resp.status == 200 and (await resp.json())["state"] == "waiting"
    assert await (await client.get("/api/counters/1/no-shows", headers=officer)).json() == []
    waiting = await (await client.get("/api/counters/1/queue", headers=officer)).json()
    assert [w["number"] for w in waiting] == ["A001"] and waiting[0]["token"], "back, with its token for a reprint"
    resp = await client.post("/api/counters/1/call", headers=officer, json={"number": "A001", "expect": "A002"})
    assert resp.status == 409, "A002 was called, not served: the officer confirms first"
    resp = await client.post("/api/counters/1/call", headers=officer,
                             json={"number": "A001", "expect": "A002", "no_show": True})
    assert (await resp.json())["ticket"]["number"] == "A001"
    other = await login(client, "joko", "officer", ("2",))
    resp = await client.get("/api/counters/1/no-shows", headers=other)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden_counter"
