"""The day simulator's engine: a day's events in time order, each one a call to the real queue
(take a number, call, start, finish, no-show, cancel, follow, pause, resume) on a temporary
database, with the injected clock set to the event's moment. Between events nothing runs, so a
day takes as long as its transactions, and the same plan gives the same day.

After every event it reads, as a citizen's page would (kiosk/web/watch.py), the estimate of every
ticket of the services that moved, by the forecast and by the formula used before, and keeps the
ones that changed what the citizen sees.
"""

from __future__ import annotations

import heapq
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.queue.clock import FakeClock
from kiosk.queue.errors import Conflict
from kiosk.queue.events import EventBus
from kiosk.queue.i18n import format_wait
from kiosk.queue.models import Event, Ticket
from kiosk.queue.writer import Hook
from kiosk.runtime import Runtime
from kiosk.sim.plan import Citizen, CounterDay, DayPlan
from kiosk.storage import create_store

SAMPLE_S = 300  # queue lengths are sampled this often
MOVED = ("queue.changed", "ticket.called")  # what refreshes a citizen's page (kiosk/web/watch.py)
ALL_PLACES = 1e18

HookFactory = Callable[[Runtime], Hook]


class RecordingBus(EventBus):
    """The bus, keeping which services moved since it was last asked."""

    def __init__(self) -> None:
        super().__init__()
        self.moved: set[str] = set()

    def publish(self, event: Event) -> None:
        if event.type in MOVED:
            self.moved.add(str(event.data.get("service", "")))
        super().publish(event)


@dataclass
class Shown:
    """Estimates a citizen saw: (ticket id, moment, seconds or None) each time the view changed."""

    at_issue: dict[int, tuple[float, int | None]] = field(default_factory=dict)
    later: list[tuple[int, float, int | None]] = field(default_factory=list)
    last: dict[int, tuple[int, str]] = field(default_factory=dict)

    def see(self, ticket_id: int, now: float, ahead: int, wait: int | None) -> None:
        view = (ahead, format_wait(wait))
        if self.last.get(ticket_id) != view:
            self.last[ticket_id] = view
            self.later.append((ticket_id, now, wait))


@dataclass
class DayRecord:
    """Everything the measures need, read back from the day's database and the engine's notes."""

    plan: DayPlan
    seed: int
    day: str
    tickets: list[Ticket]
    visits: list[dict[str, Any]]
    approach: list[dict[str, Any]]
    forecast: Shown
    formula: Shown
    followed: dict[int, tuple[str, float]]  # ticket id -> (channel, since)
    samples: list[tuple[float, dict[str, int]]]
    open_s: dict[str, float]  # per counter, seconds open (shift less breaks)
    refused: dict[str, int]
    citizens: dict[int, Citizen]  # ticket id -> who took it
    events: int
    wall_s: float


@dataclass
class _Desk:
    day: CounterDay
    services: tuple[str, ...]
    state: str = "off"  # off (not open yet), idle, busy, paused, closed (for the day)
    citizen: Citizen | None = None
    stop: tuple[str, int] | None = None  # ("break", until) or ("close", 0) once the visit ends
    since: float | None = None  # open since (for the open time)


class DaySimulation:
    """Runs one planned day through the real queue."""

    def __init__(self, plan: DayPlan, seed: int, hooks: Sequence[HookFactory] = (), *, observe: bool = True) -> None:
        self.plan = plan
        self.seed = seed
        self.hooks = hooks
        self.observe = observe
        self.clock = FakeClock(plan.midnight)
        self.bus = RecordingBus()
        self.heap: list[tuple[float, int, str, Any]] = []
        self.seq = 0
        self.desks = {d.id: _Desk(d, c.services) for d in plan.counters if (c := plan.config.counter(d.id))}
        self.waiting: dict[int, Ticket] = {}  # tickets the engine knows to be waiting
        self.citizen_of: dict[int, Citizen] = {}
        self.forecast, self.formula = Shown(), Shown()
        self.followed: dict[int, tuple[str, float]] = {}
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.open_s: dict[str, float] = {d.id: 0.0 for d in plan.counters}
        self.refused: dict[str, int] = {}
        self.events = 0
        self.rng = random.Random(f"{seed}:engine")

    async def run(self) -> DayRecord:
        """Simulate the day; returns what happened."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="giliran-sim-") as folder:
            store = create_store(Path(folder) / "day.sqlite3", synchronous="OFF", private=True)
            await store.open()
            try:
                self.runtime = Runtime.build(store, self.plan.config, self.clock, self.bus)
                for hook in self.hooks:
                    self.runtime.writer.add_hook(hook(self.runtime))
                await self.runtime.start()
                self._schedule_day()
                await self._loop()
                day = self.runtime.writer.today()
                reads = store.quick
                tickets, visits = await reads.day_tickets(day), await reads.day_visits(day)
                approach = await reads.day_messages(day, "approaching")
            finally:
                await store.close()
        return DayRecord(self.plan, self.seed, day, tickets, visits, approach, self.forecast, self.formula,
                         self.followed, self.samples, self.open_s, self.refused, self.citizen_of, self.events,
                         time.perf_counter() - started)

    # --- the calendar ----------------------------------------------------------------------------------
    def _at(self, second: float, kind: str, arg: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (self.plan.midnight + second, self.seq, kind, arg))

    def _after(self, seconds: float, kind: str, arg: Any = None) -> None:
        self._at(self.clock.now() - self.plan.midnight + seconds, kind, arg)

    def _schedule_day(self) -> None:
        for desk in self.desks.values():
            self._at(desk.day.open, "open", desk)
            for start, end in desk.day.breaks:
                self._at(start, "break", (desk, end))
            self._at(desk.day.close, "close", desk)
        for citizen in self.plan.citizens:
            self._at(citizen.at, "arrive", citizen)
        first = min([c.at for c in self.plan.citizens] + [d.day.open for d in self.desks.values()], default=0)
        last = max([d.day.close for d in self.desks.values()], default=first)
        for second in range(first - first % SAMPLE_S, last + SAMPLE_S, SAMPLE_S):
            self._at(second, "sample")

    async def _loop(self) -> None:
        handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            "open": self._open, "break": self._break, "close": self._close, "resume": self._resume,
            "arrive": self._arrive, "start": self._start, "finish": self._finish, "no_show": self._no_show,
            "cancel": self._cancel, "follow": self._follow, "sample": self._sample}
        arrivals = len(self.plan.citizens)
        while self.heap:
            if not arrivals and all(d.state == "closed" for d in self.desks.values()):
                break  # the day is over: whoever still waits goes home unserved
            at, _, kind, arg = heapq.heappop(self.heap)
            arrivals -= kind == "arrive"
            self.clock.advance(at - self.clock.now())
            self.bus.moved.clear()
            await handlers[kind](arg)
            self.events += 1
            if self.observe and self.bus.moved:
                await self._observe(sorted(self.bus.moved))

    # --- counters ---------------------------------------------------------------------------------------
    async def _open(self, desk: _Desk) -> None:
        await self.runtime.queue.resume(desk.day.id, "simulasi")
        desk.state, desk.since = "idle", self.clock.now()
        await self._next(desk)

    async def _break(self, arg: tuple[_Desk, int]) -> None:
        desk, until = arg
        if desk.state == "busy":
            desk.stop = ("break", until)
        elif desk.state == "idle":
            await self._pause(desk, "paused")
            self._at(until, "resume", desk)

    async def _resume(self, desk: _Desk) -> None:
        if desk.state == "paused":
            await self._open(desk)

    async def _close(self, desk: _Desk) -> None:
        if desk.state == "busy":
            desk.stop = ("close", 0)
        elif desk.state in ("idle", "paused", "off"):
            if desk.state == "idle":
                await self._pause(desk, "closed")
            desk.state = "closed"

    async def _pause(self, desk: _Desk, state: str) -> None:
        await self.runtime.queue.pause(desk.day.id, "simulasi")
        if desk.since is not None:
            self.open_s[desk.day.id] += self.clock.now() - desk.since
        desk.state, desk.since = state, None

    async def _next(self, desk: _Desk) -> None:
        """The visit is over: the counter stops if it must, else calls the next ticket."""
        if desk.stop is not None:
            kind, until = desk.stop
            desk.stop = None
            await self._pause(desk, "paused" if kind == "break" else "closed")
            if kind == "break":
                self._at(max(until, self.clock.now() - self.plan.midnight), "resume", desk)
            return
        ticket, _ = await self.runtime.queue.call_next(desk.day.id, "simulasi")
        if ticket is None:
            desk.state, desk.citizen = "idle", None
            return
        self.waiting.pop(ticket.id, None)
        citizen = self.citizen_of[ticket.id]
        desk.state, desk.citizen = "busy", citizen
        if citizen.no_show:
            self._after(self.plan.profile.demand(citizen.service).no_show_wait_seconds, "no_show", desk)
        else:
            self._after(citizen.walk_s, "start", desk)

    async def _start(self, desk: _Desk) -> None:
        await self.runtime.queue.start_service(desk.day.id, "simulasi")
        assert desk.citizen is not None
        self._after(desk.citizen.service_s, "finish", desk)

    async def _finish(self, desk: _Desk) -> None:
        await self.runtime.queue.finish(desk.day.id, "simulasi")
        await self._next(desk)

    async def _no_show(self, desk: _Desk) -> None:
        await self.runtime.queue.no_show(desk.day.id, "simulasi")
        await self._next(desk)

    # --- citizens ---------------------------------------------------------------------------------------
    async def _arrive(self, citizen: Citizen) -> None:
        phone = f"+62812{self.rng.randrange(10 ** 7, 10 ** 8)}" if citizen.follow == "sms" else None
        try:
            ticket, view = await self.runtime.queue.take(citizen.service, priority_reason=citizen.priority_reason,
                                                         phone=phone)
        except Conflict as exc:
            self.refused[exc.code] = self.refused.get(exc.code, 0) + 1
            return
        now = self.clock.now()
        self.waiting[ticket.id] = ticket
        self.citizen_of[ticket.id] = citizen
        if citizen.follow == "sms":
            self.followed[ticket.id] = ("sms", now)
        elif citizen.follow == "telegram":
            self._after(citizen.follow_after_s, "follow", ticket)
        if citizen.patience_s is not None:
            self._after(citizen.patience_s, "cancel", ticket)
        if self.observe:
            await self._at_issue(ticket, view, now)
        for desk in self.desks.values():  # an idle counter of this service calls at once
            if desk.state == "idle" and citizen.service in desk.services:
                await self._next(desk)
                if desk.state == "busy":
                    break

    async def _cancel(self, ticket: Ticket) -> None:
        if ticket.id in self.waiting:
            await self.runtime.queue.cancel(ticket.token)
            del self.waiting[ticket.id]

    async def _follow(self, ticket: Ticket) -> None:
        if ticket.id in self.waiting:
            await self.runtime.following.subscribe(ticket.token, "telegram", str(100000 + ticket.id))
            self.followed[ticket.id] = ("telegram", self.clock.now())

    async def _sample(self, _: Any) -> None:
        counts = await self.runtime.writer.store.quick.waiting_counts(self.runtime.writer.today())
        self.samples.append((self.clock.now(), counts))

    # --- what citizens see ------------------------------------------------------------------------------
    async def _at_issue(self, ticket: Ticket, view: dict[str, Any], now: float) -> None:
        loads = self.runtime.queue.loads
        simple = (await loads.simple(self.runtime.writer.store.quick, (ticket.service,)))[ticket.service]
        old = simple.wait_for(view["ahead"])
        self.forecast.at_issue[ticket.id] = (now, view["estimated_wait_s"])
        self.formula.at_issue[ticket.id] = (now, old)
        self.forecast.last[ticket.id] = (view["ahead"], view["estimated_wait_text"])
        self.formula.last[ticket.id] = (view["ahead"], format_wait(old))

    async def _observe(self, services: list[str]) -> None:
        """Every waiting ticket of the moved services, as its page would show it now."""
        quick = self.runtime.writer.store.quick
        loads = self.runtime.queue.loads
        day, now = self.runtime.writer.today(), self.clock.now()
        for code in services:
            if not code or self.plan.config.service(code) is None:
                continue
            order = await quick.waiting_order(day, code, ALL_PLACES)
            if not order:
                continue
            load = (await loads.current(quick, (code,)))[code]
            simple = (await loads.simple(quick, (code,)))[code]
            for ahead, ticket_id in enumerate(order):
                self.forecast.see(ticket_id, now, ahead, load.wait_for(ahead))
                self.formula.see(ticket_id, now, ahead, simple.wait_for(ahead))
