"""What the counter console needs beyond the plain counter actions (api.py): calling with its
safeguards (the number the console shows, a confirmed no-show, a chosen number) and the day's
no-shows to put back."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kiosk.queue.errors import NotFound
from kiosk.queue.models import PRIORITY_REASONS, Ticket, User
from kiosk.staff.auth import require_counter
from kiosk.web.appkeys import QUEUE
from kiosk.web.http import field, json_body, ok, staff

routes = web.RouteTableDef()


async def _counter(request: web.Request) -> tuple[User, str]:
    """The staff user and the counter of the path, which they must work."""
    user = await staff(request)
    counter_id = request.match_info["id"]
    if request.app[QUEUE].config.counter(counter_id) is None:
        raise NotFound(f"Loket '{counter_id}' tidak dikenal.", code="unknown_counter")
    require_counter(user, counter_id)
    return user, counter_id


@routes.post("/api/counters/{id}/call")
async def call(request: web.Request) -> web.Response:
    """Staff: call the next ticket, or `number`; refused (409) when `expect` (the number the console
    shows as current, "" for none) is out of date, or when a called ticket would end as a no-show
    without `"no_show": true`."""
    user, counter_id = await _counter(request)
    data = await json_body(request) if request.can_read_body else {}
    number = field(data, "number", str, max_len=8)
    expect = field(data, "expect", str, max_len=8)
    confirmed = field(data, "no_show", bool) or False
    queue = request.app[QUEUE]
    ticket: Ticket | None
    if number:
        ticket, closed = await queue.call_number(counter_id, number, user.username, expect=expect,
                                                 confirm_no_show=confirmed)
    else:
        ticket, closed = await queue.call_next(counter_id, user.username, expect=expect, confirm_no_show=confirmed)
    return ok({"ticket": await queue.views.ticket_view(ticket) if ticket else None,
               "closed": None if closed is None else {"number": closed.number, "state": closed.state}})


@routes.get("/api/counters/{id}/no-shows")
async def no_shows(request: web.Request) -> web.Response:
    """Staff: today's no-shows of the counter's services, latest first, to put back in the queue."""
    _, counter_id = await _counter(request)
    queue = request.app[QUEUE]
    now = queue.clock.now()
    return ok([_row(queue.iso(t.finished_at), t, now) for t in await queue.no_shows(counter_id)])


def _row(finished_at: str | None, ticket: Ticket, now: float) -> dict[str, Any]:
    return {"number": ticket.number, "service": ticket.service, "token": ticket.token, "priority": ticket.priority,
            "priority_reason": ticket.priority_reason,
            "priority_label": PRIORITY_REASONS.get(ticket.priority_reason or "") if ticket.priority else None,
            "finished_at": finished_at, "since_s": round(now - (ticket.finished_at or now))}
