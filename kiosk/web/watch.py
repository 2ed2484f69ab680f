"""Citizens' phones following their own ticket: `GET /api/tickets/{token}/events`.

Hundreds of phones in a busy hall must not cost the queue anything noticeable, so a phone does
not receive the hall's event stream and fetch its ticket on every movement. One watcher listens
to the bus instead:

- a ticket's own news (it is called, served, finished, marked absent) reaches its page within
  URGENT_S;
- people ahead and the estimated wait are refreshed at most every REFRESH_S per service: one pass
  computes every follower of a moved service from the service's waiting order (a page whose
  ticket is still in it needs no read of its own; only tickets that left it are read), in slices
  paced to take a small share of the event loop;
- a page is sent its view only when something it shows changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from kiosk.queue.events import EventBus, Subscription
from kiosk.queue.i18n import format_wait
from kiosk.queue.models import WAITING, Ticket
from kiosk.queue.service import QueueService
from kiosk.support.jsontext import dumps

log = logging.getLogger(__name__)
URGENT_S = 0.2
REFRESH_S = 5.0
HEARTBEAT_S = 15.0
YIELD_EVERY = 20
READ_SLICE = 200
PACE = 4.0
WATCHED = ("queue.changed", "ticket.called", "counter.changed", "hall.changed")
SHOWN = ("state", "ahead", "estimated_wait_text", "counter", "recalls", "service", "now_called")  # what a page shows


@dataclass(eq=False)
class Follower:
    """One open status page."""

    ticket_id: int
    service: str
    number: str
    place: float  # the ticket's place in its queue as last read
    counter: str | None = None
    inbox: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(8))
    view: dict[str, Any] | None = None  # the last view sent

    def offer(self, view: dict[str, Any]) -> None:
        self.view = view
        self.counter = view.get("counter")
        if self.inbox.full():  # a slow phone only needs the newest view
            self.inbox.get_nowait()
        self.inbox.put_nowait(view)


class TicketWatch:
    """Keeps the followers of each service and pushes changed views to them."""

    def __init__(self, queue: QueueService, bus: EventBus) -> None:
        self.queue = queue
        self.bus = bus
        self.by_service: dict[str, set[Follower]] = {}
        self.dirty: set[str] = set()
        self.urgent: set[Follower] = set()
        self.wake = asyncio.Event()
        self.refresh_s = REFRESH_S
        self.send_s = 0.0  # time the status pages' streams spent sending since the last slice
        self.last_call: dict[str, tuple[str, str]] = {}  # per service: (day, the number last called)
        self._task: asyncio.Task[None] | None = None

    def now_called(self, service: str) -> str | None:
        """The number of this service called last today (what the status page shows as "now")."""
        day, number = self.last_call.get(service, ("", ""))
        return number if day == self.queue.today() else None

    def follow(self, ticket: Ticket) -> Follower:
        follower = Follower(ticket.id, ticket.service, ticket.number, ticket.place)
        service = ticket.service
        self.by_service.setdefault(service, set()).add(follower)
        return follower

    def leave(self, follower: Follower) -> None:
        followers = self.by_service.get(follower.service)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self.by_service[follower.service]

    def close(self) -> None:
        """On shutdown: end every status page's stream now."""
        for followers in self.by_service.values():
            for follower in followers:
                if follower.inbox.full():
                    follower.inbox.get_nowait()
                follower.inbox.put_nowait(None)

    @property
    def count(self) -> int:
        return sum(len(f) for f in self.by_service.values())

    async def start(self) -> None:
        subscription = self.bus.subscribe(WATCHED)  # listening from now on, before the first page connects
        today = self.queue.today()
        for call in reversed(await self.queue.views.recent_calls(500)):  # oldest first: the last call wins
            self.last_call[call["service"]] = (today, call["number"])
        self._task = asyncio.create_task(self._run(subscription), name="ticket-watch")

    async def stop(self) -> None:
        if self._task is not None:
            from kiosk.support.aio import stop_tasks
            await stop_tasks([self._task])

    async def _run(self, subscription: Subscription) -> None:
        listener = asyncio.create_task(self._listen(subscription))
        loop = asyncio.get_running_loop()
        next_refresh = 0.0
        try:
            while True:
                await self.wake.wait()
                if self.urgent:
                    urgent, self.urgent = self.urgent, set()
                    by_service: dict[str, list[Follower]] = {}
                    for follower in urgent:
                        by_service.setdefault(follower.service, []).append(follower)
                    for service, followers in by_service.items():
                        await self._push_safely(service, followers)
                if self.dirty and loop.time() >= next_refresh:
                    moved, self.dirty = self.dirty, set()
                    for service in moved:
                        await self._push_safely(service, list(self.by_service.get(service, ())))
                    next_refresh = loop.time() + self.refresh_s
                if not self.urgent and not self.dirty:
                    self.wake.clear()
                await asyncio.sleep(URGENT_S)
        finally:
            listener.cancel()

    async def _listen(self, subscription: Subscription) -> None:
        while True:
            async for event in subscription:
                data = event.data
                if event.type == "queue.changed":
                    self.dirty.add(data.get("service", ""))
                elif event.type == "ticket.called":
                    service = data.get("service", "")
                    self.last_call[service] = (self.queue.today(), data.get("number", ""))
                    self.dirty.add(service)
                    self.urgent.update(f for f in self.by_service.get(service, ()) if f.number == data.get("number"))
                elif event.type == "counter.changed":
                    counter = data.get("counter")
                    self.urgent.update(f for fs in self.by_service.values() for f in fs if f.counter == counter)
                elif event.type == "hall.changed":
                    self.dirty.update(self.by_service)
                else:
                    continue
                self.wake.set()
            if self.bus.closed:
                return
            self.dirty.update(self.by_service)  # dropped for falling behind: refresh everyone
            self.wake.set()
            subscription = self.bus.subscribe(WATCHED)

    async def _push_safely(self, service: str, followers: list[Follower]) -> None:
        if not followers:
            return
        try:
            await self._push(service, followers)
        except Exception:
            log.exception("status pages of service %s were not updated", service)

    async def _push(self, service: str, followers: list[Follower]) -> None:
        reads = self.queue.store.quick  # along indexes: the waiting order, tickets by id
        load = (await self.queue.loads.current(reads, (service,))).get(service)
        upto = max(f.place for f in followers)
        order = {tid: i for i, tid in enumerate(await reads.waiting_order(self.queue.today(), service, upto))}
        # A page that showed its ticket waiting in this service, and finds it still in the waiting
        # order, only needs its place and wait: no ticket is read for it. The others (called,
        # transferred, cancelled, or new) read their ticket and get a whole new view.
        others = [f for f in followers if f.ticket_id not in order or f.view is None
                  or f.view["state"] != WAITING or f.view["service"] != service]
        tickets: dict[int, Any] = {}
        ids = sorted({f.ticket_id for f in others})
        for start in range(0, len(ids), READ_SLICE):
            tickets |= await reads.tickets_by_ids(ids[start:start + READ_SLICE])
        reread = set(others)
        now_called = self.now_called(service)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n, follower in enumerate(followers):
            if n and n % YIELD_EVERY == 0:
                # Paced: after each slice, rest PACE times as long as the slice and the sends to
                # pages took, so a pass over thousands of pages never holds up ticket issue.
                spent, self.send_s = loop.time() - started + self.send_s, 0.0
                await asyncio.sleep(spent * PACE)
                started = loop.time()
            if follower not in reread:
                assert follower.view is not None
                ahead = order[follower.ticket_id]
                wait = load.wait_for(ahead) if load else 0
                text = format_wait(wait)
                if ahead != follower.view["ahead"] or text != follower.view["estimated_wait_text"] \
                        or now_called != follower.view.get("now_called"):
                    follower.offer(follower.view | {"ahead": ahead, "estimated_wait_s": wait,
                                                    "estimated_wait_text": text, "now_called": now_called})
                continue
            ticket = tickets.get(follower.ticket_id)
            if ticket is None:
                continue
            if ticket.service != service:  # transferred: follow it in its new service
                self.leave(follower)
                follower.service = ticket.service
                self.by_service.setdefault(ticket.service, set()).add(follower)
                self.urgent.add(follower)
                self.wake.set()
                continue
            follower.place = ticket.place
            # A waiting ticket missing from the order moved back beyond what was read: the view counts.
            place = order.get(ticket.id) if ticket.state == WAITING else 0
            view = await self.queue.views.ticket_view(ticket, reads, load, ahead=place)
            view["now_called"] = now_called
            if follower.view is None or any(view[k] != follower.view.get(k) for k in SHOWN):
                follower.offer(view)


WATCH = web.AppKey("ticket_watch", TicketWatch)


async def ticket_events(request: web.Request) -> web.StreamResponse:
    """The status page's stream: a `ticket` event with the ticket's view now, then whenever what the
    page shows changes (state, people ahead, wait, counter); heartbeats keep it open."""
    queue = request.app[WATCH].queue
    ticket = await queue.ticket(request.match_info["token"])
    watch = request.app[WATCH]
    follower = watch.follow(ticket)
    loop = asyncio.get_running_loop()
    stream = EventSourceResponse()
    try:
        follower.offer(await queue.views.ticket_view(ticket) | {"now_called": watch.now_called(ticket.service)})
        await stream.prepare(request)
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    view = await follower.inbox.get()
            except TimeoutError:
                await stream.send("", event="heartbeat")
                continue
            if view is None:  # the server is stopping
                break
            began = loop.time()
            await stream.send(dumps(view), event="ticket")
            watch.send_s += loop.time() - began
    except ConnectionResetError:
        pass
    finally:
        watch.leave(follower)
    return stream


def setup_watch(app: web.Application, queue: QueueService, bus: EventBus) -> None:
    """Add the watcher (started with the app) and its route."""
    app[WATCH] = TicketWatch(queue, bus)

    async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
        await app[WATCH].start()
        yield
        await app[WATCH].stop()

    async def close_streams(app: web.Application) -> None:
        app[WATCH].close()

    app.cleanup_ctx.append(watch_ctx)
    app.on_shutdown.append(close_streams)
    app.router.add_get("/api/tickets/{token}/events", ticket_events)
