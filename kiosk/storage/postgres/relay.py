"""Events across the processes of one hall: every committed event reaches this process's bus
once and in commit order, whichever process committed it.

How: every write transaction takes the hall's advisory lock first, so event ids are handed out in
commit order (docs/postgres.md). A transaction with events or notices ends with a NOTIFY on the
hall's channel (delivered by PostgreSQL after the COMMIT, in commit order) carrying the process
that wrote it, its newest event id and its in-process notices (print.queued, alert.queued...).
Each process LISTENs on one connection of its own:

- its own transactions: their events are published as soon as the COMMIT returns, after the
  events other processes committed just before them (read inside the transaction, see `gap`);
- another process's: its events are read from the table (`id > last`), its notices come in the
  message itself;
- whichever path comes first publishes; `last` makes sure nothing is published twice or out of
  order. After the listening connection was lost, the events of the time away are read from the
  table (a stream resuming by Last-Event-ID reads the table too).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from kiosk.queue.errors import Unavailable
from kiosk.queue.events import EventBus
from kiosk.queue.models import Event
from kiosk.support.jsontext import dumps

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes
RECONNECT_S = (0.2, 0.5, 1.0, 2.0, 5.0)

EventReader = Callable[[int, int | None], Awaitable[list[Event]]]


def payload(process: str, events: Sequence[Event]) -> str | None:
    """The NOTIFY text for a transaction's events and notices (None when it has neither)."""
    public = [e.id for e in events if e.public]
    notices = [[e.type, e.data] for e in events if not e.public]
    if not public and not notices:
        return None
    text = dumps({"p": process, "e": max(public, default=0), "n": notices})
    if len(text.encode()) > MAX_PAYLOAD:
        # Too many notices (a batch of tickets): their kinds still wake the rooms that read the tables.
        kinds = sorted({e.type for e in events if not e.public})
        text = dumps({"p": process, "e": max(public, default=0), "n": [[k, {}] for k in kinds]})
    return text


class Relay:
    """Publishes the hall's committed events on this process's bus in commit order."""

    def __init__(self, bus: EventBus, read: EventReader) -> None:
        self.bus = bus
        self.read = read  # events with last < id <= upto (upto None: all), oldest first
        self.process = secrets.token_hex(8)  # this process, in the NOTIFY payloads
        self.last = 0  # the newest event id published here
        self.heard = 0  # other processes' transactions heard of
        self._own: dict[int, list[Event]] = {}  # own transactions' events by their newest id, until published
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # --- own transactions --------------------------------------------------------------------
    def committing(self, gap: list[Event], events: Sequence[Event]) -> None:
        """Inside a transaction, just before its COMMIT: the events others committed since `last`
        (read in this transaction) and this one's own, so that whichever path comes first (the
        writer after the COMMIT, or the listener hearing the NOTIFY) publishes them in order."""
        public = [*gap, *(e for e in events if e.public)]
        if public:
            self._own[public[-1].id] = public

    def committed(self, events: Sequence[Event]) -> None:
        """After the COMMIT: publish this transaction's events (unless the listener did already)
        and its notices."""
        public = [e for e in events if e.public]
        if public:
            batch = self._own.pop(public[-1].id, public)
            self._publish(batch)
        for event in events:
            if not event.public:
                self.bus.publish(event)

    def abandoned(self, events: Sequence[Event]) -> None:
        """The COMMIT failed: forget what was kept for it."""
        public = [e for e in events if e.public]
        if public:
            self._own.pop(public[-1].id, None)

    def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.id > self.last:
                self.bus.publish(event)
                self.last = event.id

    # --- other processes -----------------------------------------------------------------------
    def notified(self, connection: object, pid: int, channel: str, text: str) -> None:
        """asyncpg's listener callback: handled in order by `_follow`."""
        self._queue.put_nowait(text)

    async def follow(self) -> None:
        """Handle what the listening connection hears, in order, until cancelled."""
        while True:
            text = await self._queue.get()
            try:
                if text is None:  # the connection was lost and is back: read what was missed
                    await self._catch_up(None)
                else:
                    await self._handle(json.loads(text))
            except asyncio.CancelledError:
                raise
            except Unavailable:  # the database went away while reading: read everything missed later
                log.warning("events of other processes not read yet (database unavailable); trying again")
                await asyncio.sleep(RECONNECT_S[2])
                self._queue.put_nowait(None)
            except Exception:
                log.exception("a notification from another process could not be handled")

    async def _handle(self, message: dict[str, Any]) -> None:
        newest = int(message.get("e") or 0)
        if message.get("p") == self.process:
            batch = self._own.pop(newest, None) if newest else None
            if batch:
                self._publish(batch)
            return  # own notices were published by the writer
        self.heard += 1
        if newest > self.last:
            await self._catch_up(newest)
        for kind, data in message.get("n") or []:
            self.bus.publish(Event(id=0, type=str(kind), data=dict(data), at=0.0, public=False))

    async def _catch_up(self, upto: int | None) -> None:
        async with self._lock:
            if upto is not None and upto <= self.last:
                return
            self._publish(await self.read(self.last, upto))

    def resumed(self) -> None:
        """The listening connection is back: read the events committed meanwhile."""
        self._queue.put_nowait(None)


async def listen(dsn: str, channel: str, relay: Relay, ready: asyncio.Event,
                 connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
    """Keep one connection LISTENing on the hall's channel, reconnecting when it is lost."""
    attempt = 0
    first = True
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect()
            lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def gone(_conn: object) -> None:
                if not lost.done():
                    lost.set_result(None)
            conn.add_termination_listener(gone)
            await conn.add_listener(channel, relay.notified)
            if first:
                first = False
                ready.set()
            else:
                log.info("listening to the hall's other processes again")
                relay.resumed()
            attempt = 0
            await lost
            log.warning("lost the connection that hears the hall's other processes; reconnecting")
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            if attempt == 0:
                log.warning("cannot listen to the hall's other processes (%s); retrying", exc)
            await asyncio.sleep(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
            attempt += 1
        finally:
            if conn is not None and not conn.is_closed():
                await asyncio.shield(conn.close(timeout=2))
