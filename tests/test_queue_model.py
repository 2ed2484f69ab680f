"""A stateful property test: the queue behaves like a small in-memory model, whatever staff press."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kiosk.hall.parse import parse_hall
from kiosk.queue.clock import FakeClock
from kiosk.queue.errors import DomainError
from kiosk.queue.events import EventBus
from kiosk.runtime import Runtime
from kiosk.storage import create_store
from tests.conftest import ON_POSTGRES, hall_dict, wib, wipe

DB_AT: list = []  # the running test's db_at (a state machine takes no fixtures)


@pytest.fixture(autouse=True)
def _databases(db_at):
    DB_AT[:] = [db_at]


CONFIG = parse_hall(hall_dict(
    services=[{"code": "A", "name": "KTP", "agency": "DUKCAPIL", "daily_quota": 6},
              {"code": "B", "name": "KK", "agency": "DUKCAPIL"}],
    counters=[{"id": "1", "name": "Loket 1", "services": ["A", "B"]},
              {"id": "2", "name": "Loket 2", "services": ["A"]},
              {"id": "3", "name": "Loket 3", "services": ["B"]}],
))
COUNTERS = {c.id: c.services for c in CONFIG.counters}
MAX_IN_ROW = CONFIG.queue.priority_max_in_row


@dataclass
class ModelTicket:
    id: int
    token: str
    number: str
    service: str
    priority: bool
    state: str = "waiting"
    counter: str | None = None


class QueueMachine(RuleBasedStateMachine):
    """Drives QueueService and a plain-Python model side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        db = DB_AT[0]("m")
        wipe(db)  # each example starts from an empty database
        self.store = create_store(db, synchronous="OFF")
        self.clock = FakeClock(wib(2026, 11, 25, 9, 0))
        self.runtime = Runtime.build(self.store, CONFIG, self.clock, EventBus())
        self.queue = self.runtime.queue
        self.tickets: list[ModelTicket] = []
        self.seq = {"A": 0, "B": 0}
        self.paused = dict.fromkeys(COUNTERS, False)
        self.streak = dict.fromkeys(COUNTERS, 0)

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def attempt(self, coro):
        """(result, error code) of a domain call."""
        try:
            return self.run(coro), None
        except DomainError as exc:
            return None, exc.code

    @initialize()
    def open_store(self) -> None:
        self.run(self.store.open())
        self.run(self.runtime.start())

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()

    # --- model helpers ----------------------------------------------------------------
    def at(self, counter: str) -> ModelTicket | None:
        return next((t for t in self.tickets if t.counter == counter and t.state in ("called", "serving")), None)

    def expected_next(self, counter: str) -> ModelTicket | None:
        waiting = [t for t in self.tickets if t.state == "waiting" and t.service in COUNTERS[counter]]
        prio = [t for t in waiting if t.priority]
        normal = [t for t in waiting if not t.priority]
        if prio and normal:
            if self.streak[counter] < MAX_IN_ROW:
                self.streak[counter] += 1
                return prio[0]
            self.streak[counter] = 0
            return normal[0]
        self.streak[counter] = 0 if (prio or normal) else self.streak[counter]
        return (prio or normal or [None])[0]

    # --- rules --------------------------------------------------------------------------
    @rule(service=st.sampled_from(["A", "B"]), priority=st.booleans())
    def issue(self, service: str, priority: bool) -> None:
        ticket, error = self.attempt(self.queue.issue(service, priority=priority))
        used = sum(1 for t in self.tickets if t.number.startswith(service) and t.state != "cancelled")
        if service == "A" and used >= 6:
            assert error == "quota_exhausted"
            return
        assert error is None
        self.seq[service] += 1
        assert ticket.number == f"{service}{self.seq[service]:03d}"
        self.tickets.append(ModelTicket(ticket.id, ticket.token, ticket.number, service, priority))

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def call_next(self, counter: str) -> None:
        result, error = self.attempt(self.queue.call_next(counter, "uji"))
        if self.paused[counter]:
            assert error == "counter_paused"
            return
        assert error is None
        called, closed = result
        current = self.at(counter)
        if current is not None:
            current.state = "done" if current.state == "serving" else "no_show"
            current.counter = None
            assert closed is not None and closed.id == current.id and closed.state == current.state
        else:
            assert closed is None
        expected = self.expected_next(counter)
        if expected is None:
            assert called is None
        else:
            assert called is not None and called.id == expected.id, (called, expected)
            expected.state, expected.counter = "called", counter

    def _counter_action(self, counter: str, method, allowed: tuple[str, ...], after: str | None) -> None:
        current = self.at(counter)
        result, error = self.attempt(method(counter, "uji"))
        if current is None:
            assert error == "no_current_ticket"
        elif current.state not in allowed:
            assert error == "invalid_transition"
        else:
            assert error is None and result.id == current.id
            if after:
                current.state = after
                if after not in ("called", "serving"):
                    current.counter = None

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def recall(self, counter: str) -> None:
        self._counter_action(counter, self.queue.recall, ("called",), None)

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def start(self, counter: str) -> None:
        self._counter_action(counter, self.queue.start_service, ("called",), "serving")

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def finish(self, counter: str) -> None:
        self._counter_action(counter, self.queue.finish, ("serving",), "done")

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def no_show(self, counter: str) -> None:
        self._counter_action(counter, self.queue.no_show, ("called",), "no_show")

    @rule(counter=st.sampled_from(sorted(COUNTERS)), service=st.sampled_from(["A", "B"]))
    def transfer(self, counter: str, service: str) -> None:
        current = self.at(counter)
        result, error = self.attempt(self.queue.transfer(counter, service, "uji"))
        if current is None:
            assert error == "no_current_ticket"
        elif current.service == service:
            assert error == "same_service"
        else:
            assert error is None and result.number == current.number
            current.state, current.counter, current.service = "waiting", None, service

    @rule(data=st.data())
    def cancel(self, data) -> None:
        if not self.tickets:
            return
        ticket = data.draw(st.sampled_from(self.tickets))
        _, error = self.attempt(self.queue.cancel(ticket.token))
        if ticket.state == "waiting":
            assert error is None
            ticket.state = "cancelled"
        else:
            assert error == "invalid_transition"

    @rule(data=st.data())
    def requeue(self, data) -> None:
        if not self.tickets:
            return
        ticket = data.draw(st.sampled_from(self.tickets))
        _, error = self.attempt(self.queue.requeue(ticket.token, "uji"))
        if ticket.state == "no_show":
            assert error is None
            ticket.state = "waiting"
        else:
            assert error == "invalid_transition"

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def pause(self, counter: str) -> None:
        _, error = self.attempt(self.queue.pause(counter, "uji"))
        if self.at(counter) is not None:
            assert error == "counter_busy"
        else:
            assert error is None
            self.paused[counter] = True

    @rule(counter=st.sampled_from(sorted(COUNTERS)))
    def resume(self, counter: str) -> None:
        _, error = self.attempt(self.queue.resume(counter, "uji"))
        assert error is None
        self.paused[counter] = False

    @rule(seconds=st.integers(1, 900))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    # --- invariants -------------------------------------------------------------------------
    @invariant()
    def store_matches_model(self) -> None:
        if not self.tickets:
            return
        reads = self.store.reads
        for expected in self.tickets:
            actual = self.run(reads.ticket_by_id(expected.id))
            assert (actual.state, actual.service, actual.number) == (expected.state, expected.service,
                                                                   expected.number)
            assert actual.counter_id == expected.counter or expected.state not in ("called", "serving")
        holding = self.run(reads.counter_tickets())
        assert {cid: t.id for cid, t in holding.items()} == {
            t.counter: t.id for t in self.tickets if t.state in ("called", "serving")}
        waiting = self.run(reads.waiting_counts(self.queue.today()))
        for service in ("A", "B"):
            assert waiting.get(service, 0) == sum(t.state == "waiting" and t.service == service
                                                  for t in self.tickets)


# On PostgreSQL every step is a round trip to the server: a quarter of the examples keeps the pass
# lean (the rules are the store's; SQLite runs all 200).
QueueMachine.TestCase.settings = settings(max_examples=50 if ON_POSTGRES else 200, stateful_step_count=40, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestQueueModel = QueueMachine.TestCase
