"""In-process fan-out of committed events to subscribers (SSE streams, reacting rooms)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable

from kiosk.queue.models import Event

log = logging.getLogger(__name__)

_CLOSED = object()


class Subscription:
    """One subscriber's queue of events; iterate it, then leave it."""

    def __init__(self, bus: EventBus, maxsize: int, types: frozenset[str] | None = None) -> None:
        self._bus = bus
        self.types = types  # the event types it is offered (None: all)
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.overflowed = False

    def _offer(self, item: object) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # A subscriber that cannot keep up is dropped; it reconnects and resumes by event id.
            self.overflowed = True
            self._bus.unsubscribe(self)
            self._force_close()

    def _force_close(self) -> None:
        while True:
            try:
                self._queue.put_nowait(_CLOSED)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    async def next(self, timeout: float) -> Event | None:
        """The next event, or None after `timeout` seconds; raises StopAsyncIteration once closed."""
        try:
            async with asyncio.timeout(timeout):
                item = await self._queue.get()
        except TimeoutError:
            return None
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)
            raise StopAsyncIteration
        assert isinstance(item, Event)
        return item

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Event)
            yield item

    def close(self) -> None:
        """Stop this subscription."""
        self._bus.unsubscribe(self)
        self._force_close()


class EventBus:
    """Publishes committed events to every current subscriber, never blocking the publisher."""

    def __init__(self, maxsize: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._maxsize = maxsize
        self.closed = False

    def subscribe(self, types: Iterable[str] | None = None) -> Subscription:
        """A new subscription that sees every event published from now on (or those of `types`:
        a room waiting for one kind of event is not woken by every ticket)."""
        sub = Subscription(self, self._maxsize, None if types is None else frozenset(types))
        if self.closed:
            sub._force_close()
        else:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscription."""
        self._subscribers.discard(sub)

    def publish(self, event: Event) -> None:
        """Hand an event to every subscriber."""
        for sub in list(self._subscribers):
            if sub.types is None or event.type in sub.types:
                sub._offer(event)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are live."""
        return len(self._subscribers)

    def close(self) -> None:
        """End every subscription (on shutdown), so streams finish promptly."""
        self.closed = True
        for sub in list(self._subscribers):
            sub.close()
