"""The queue's write transactions: the one way anything of the hall changes.

Every service of the queue (tickets and counters, print jobs, alert subscriptions, the hall
document) writes through `Writer.write()`: one store transaction, one `Work` that collects what
changed and the events to publish, the rooms' hooks before the commit, the events after it.
The writer also keeps what those services share: the hall in force, the clock and the hall's day.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.hall.config import HallConfig
from kiosk.queue.clock import Clock, to_local
from kiosk.queue.errors import NotFound, Unavailable
from kiosk.queue.events import EventBus
from kiosk.queue.models import Event, Ticket
from kiosk.storage.base import Queries, Store

if TYPE_CHECKING:
    from kiosk.queue.loads import ServiceLoad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """Something that happened to a ticket in a write transaction (for the reacting rooms' hooks)."""

    kind: str  # issued, subscribed, called, recalled, serving, done, no_show, transferred, cancelled, requeued
    ticket: Ticket
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Work:
    """One write transaction: its queries, time, changes and pending events."""

    q: Queries
    now: float
    day: str
    events: list[Event] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    moved: set[str] = field(default_factory=set)  # services whose queue moved
    loads: dict[str, ServiceLoad] = field(default_factory=dict)  # per service, until a ticket changes
    waiting: dict[str, int] = field(default_factory=dict)  # per service, when known without a read

    def change(self, kind: str, ticket: Ticket, **detail: Any) -> None:
        """Note a ticket change for the hooks that run before the commit."""
        self.changes.append(Change(kind, ticket, detail))
        self.loads.clear()
        self.waiting.clear()

    async def emit(self, type_: str, data: dict[str, Any]) -> None:
        """A public event, stored with the change and published after the commit."""
        self.events.append(await self.q.insert_event(type_, data, self.now))

    def notify(self, type_: str, data: dict[str, Any]) -> None:
        """An in-process event for the reacting rooms, published after the commit, never stored."""
        self.events.append(Event(id=0, type=type_, data=data, at=self.now, public=False))


Hook = Callable[[Work], Awaitable[None]]


class Writer:
    """Runs the queue's write transactions on one store, with the hall in force and the clock."""

    def __init__(self, store: Store, config: HallConfig, clock: Clock, bus: EventBus) -> None:
        self.store = store
        self.config = config  # the hall in force; replaced whole by HallService.change
        self.clock = clock
        self.bus = bus
        self.publisher = store.publisher(bus)  # committed events to the bus (and other processes')
        self.generation = 0  # counts writes that did more than issue tickets (see Loads)
        self._day: str | None = None
        self._hooks: list[Hook] = []
        self._new_day: list[Hook] = []

    def add_hook(self, hook: Hook) -> None:
        """Run `hook(work)` inside every write transaction that changed a ticket or moved a queue,
        after the change and before the commit. A ticket joining at the back of its queue
        (`issued`, no queue in `work.moved`) brings nobody closer and is not news to a hook.

        A failing hook is rolled back to a savepoint and logged: it never blocks the queue.
        """
        self._hooks.append(hook)

    def on_new_day(self, begin: Hook) -> None:
        """Run `begin(work)` in the first write transaction of each local day (and at start)."""
        self._new_day.append(begin)

    # --- the hall's time -----------------------------------------------------------------
    def local_now(self) -> datetime:
        """The hall's local time now."""
        return to_local(self.clock.now(), self.config.hall.tz)

    def today(self) -> str:
        """The hall's local date now, as YYYY-MM-DD; never earlier than a day already begun (a clock
        set back across midnight must not reopen yesterday's numbering)."""
        day = self.local_now().date().isoformat()
        return self._day if self._day is not None and day < self._day else day

    def iso(self, epoch: float | None) -> str | None:
        """An epoch time as ISO 8601 with the hall's offset."""
        return None if epoch is None else to_local(epoch, self.config.hall.tz).isoformat(timespec="seconds")

    # --- writing -------------------------------------------------------------------------
    @asynccontextmanager
    async def write(self, issuing: bool = False) -> AsyncIterator[Work]:
        """One write transaction. `issuing`: it only adds tickets (and what hangs on them: print
        jobs, subscriptions, messages), never touches counters or finished visits, so the services'
        counters and service times computed before stay true."""
        now = self.clock.now()
        day = self.today()
        async with self.store.transaction() as q:
            if not issuing:
                self.generation += 1
            work = Work(q, now, day)
            if day != self._day:
                for begin in self._new_day:
                    await begin(work)
            yield work
            if self._hooks and (work.moved or any(c.kind != "issued" for c in work.changes)):
                for hook in self._hooks:
                    try:
                        async with q.savepoint("hook"):
                            await hook(work)
                    except Unavailable:  # the store itself failed: the whole transaction is lost
                        raise
                    except Exception:
                        log.exception("a transaction hook failed; the queue change is kept")
            q.announce(work.events)
        self.publisher.committed(work.events)
        if day != self._day:
            self._day = day


async def ticket_in(q: Queries, token: str) -> Ticket:
    """The ticket with this token, or 404 `unknown_ticket`."""
    ticket = await q.ticket_by_token(token) if token else None
    if ticket is None:
        raise NotFound("Nomor antrean tidak ditemukan.", code="unknown_ticket")
    return ticket
