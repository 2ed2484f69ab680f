"""The server-sent event stream of public events: snapshot or resume, then live, with heartbeats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from kiosk.queue.events import Subscription
from kiosk.queue.models import Event
from kiosk.support.jsontext import dumps
from kiosk.web.appkeys import BUS, HALL, QUEUE, STORE

HEARTBEAT_S = 10.0
# A reconnecting client is sent what it missed only if that is a short gap of today (a display that
# lost the network for a moment); further behind, a fresh snapshot tells it everything it can use
# in one message (an old id must not make the server replay days of events: a cheap attack).
REPLAY_MAX = 500

log = logging.getLogger(__name__)
Transform = Callable[[Event], Awaitable[dict[str, Any] | None]]  # None: not for this client


async def _same(event: Event) -> dict[str, Any] | None:
    return event.data


async def snapshot(request: web.Request) -> dict[str, Any]:
    """What a new client needs before the live events: services, the day's last calls, running text."""
    views = request.app[QUEUE].views
    return {"hall": request.app[QUEUE].config.hall.name,
            "services": await views.services_overview(),
            "recent_calls": await views.recent_calls(),
            "ticker": await request.app[HALL].ticker()}


async def stream_events(request: web.Request, transform: Transform = _same,
                        extend_snapshot: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
                        ) -> web.StreamResponse:
    """Stream public events; a client resuming with Last-Event-ID gets every event it missed."""
    reads = request.app[STORE].reads
    subscription = request.app[BUS].subscribe()
    stream = EventSourceResponse()
    await stream.prepare(request)
    # The ping task ends when the client goes away; then the subscription ends too.
    watcher = asyncio.create_task(_close_when_gone(stream, subscription))
    try:
        last = stream.last_event_id or request.query.get("last_event_id")
        sent = int(last) if last and last.isdigit() and len(last) < 19 else None
        newest = await reads.last_event_id()
        backlog = [] if sent is None or not 0 <= newest - sent <= REPLAY_MAX else await reads.events_after(sent)
        midnight = request.app[QUEUE].local_now().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        if sent is None or not 0 <= newest - sent <= REPLAY_MAX or (backlog and backlog[0].at < midnight):
            data = await snapshot(request)
            if extend_snapshot is not None:
                data = await extend_snapshot(data)
            await stream.send(dumps(data), id=str(newest), event="snapshot")
            sent = newest
        else:
            for missed in backlog:
                await _send(stream, missed, transform)
                sent = missed.id
        while True:
            try:
                event = await subscription.next(HEARTBEAT_S)
            except StopAsyncIteration:
                break
            if event is None:
                # A named event (not a comment) so pages can tell a live but quiet hall from a dead link.
                await stream.send(dumps({"at": request.app[QUEUE].iso(request.app[QUEUE].clock.now())}),
                                  event="heartbeat")
            elif event.public and event.id > sent:
                await _send(stream, event, transform)
                sent = event.id
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        subscription.close()
        watcher.cancel()
        stream.stop_streaming()
    return stream


async def _send(stream: EventSourceResponse, event: Event, transform: Transform) -> None:
    """One event to one client; an event this client's transform cannot handle is skipped (logged),
    never the end of the stream."""
    try:
        data = await transform(event)
        text = None if data is None else dumps(data)
    except Exception:
        log.exception("event %d (%s) could not be sent to a stream; skipped", event.id, event.type)
        return
    if text is not None:
        await stream.send(text, id=str(event.id), event=event.type)


async def _close_when_gone(stream: EventSourceResponse, subscription: Subscription) -> None:
    await stream.wait()
    subscription.close()
