"""HTTP routes of the JSON API: kiosks and citizens (services, tickets, the event stream) and staff
at counters (login, the counter actions, requeue, reprint, the audit log)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from kiosk import __version__
from kiosk.queue.errors import Forbidden, NotFound
from kiosk.queue.models import Ticket
from kiosk.staff.auth import require_counter, require_role
from kiosk.support.netaddr import address_in
from kiosk.web.appkeys import AUTH, PRINTING, QUEUE, SETTINGS, STORE, TICKET_LIMITER
from kiosk.web.http import SESSION_COOKIE, bearer, field, json_body, ok, staff
from kiosk.web.sse import stream_events

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


# --- public ------------------------------------------------------------------------------
@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    """Liveness: the server answers and its database reads."""
    await request.app[STORE].reads.last_event_id()
    return ok({"status": "ok", "version": __version__})


@routes.get("/api/hall")
async def hall(request: web.Request) -> web.Response:
    """The hall's name, time and agencies."""
    config = request.app[QUEUE].config
    queue = request.app[QUEUE]
    return ok({
        "name": config.hall.name,
        "timezone": config.hall.timezone,
        "now": queue.local_now().isoformat(timespec="seconds"),
        "agencies": [{"code": a.code, "name": a.name} for a in config.agencies],
        "counters": [{"id": c.id, "name": c.name, "services": list(c.services)} for c in config.counters],
    })


@routes.get("/api/services")
async def services(request: web.Request) -> web.Response:
    """Every service with whether it is open, people waiting, quota left and estimated wait."""
    return ok(await request.app[QUEUE].views.services_overview())


@routes.post("/api/tickets")
async def take_ticket(request: web.Request) -> web.Response:
    """Take a number (201 once it is durably stored)."""
    data = await json_body(request)
    service = field(data, "service", str, required=True, max_len=8)
    priority = field(data, "priority", bool) or False
    reason = field(data, "priority_reason", str, max_len=32)
    phone = field(data, "phone", str, max_len=40)
    kiosk = field(data, "kiosk", str, max_len=32)
    if kiosk is not None:
        check_kiosk(request, kiosk)
    await request.app[TICKET_LIMITER].check(
        request.remote or "?", "Terlalu banyak nomor diambil dari perangkat ini. Tunggu sebentar.")
    queue = request.app[QUEUE]
    ticket, view = await queue.take(service, priority=priority, priority_reason=reason, phone=phone, kiosk=kiosk)
    view["print"] = await _print_outcome(request, ticket)
    return ok(view, status=201)


def check_kiosk(request: web.Request, kiosk_id: str) -> None:
    """A ticket "from kiosk K1" prints on K1's printer: when the hall binds K1 to addresses or a key,
    only that kiosk may say so (403 `kiosk_not_allowed` otherwise; the citizen's page can still
    take a number without naming a kiosk)."""
    station = request.app[QUEUE].config.kiosk(kiosk_id)
    if station is None:
        return  # the queue answers 422 unknown_kiosk
    key = request.app[SETTINGS].kiosk_keys.get(station.id)
    if key is not None and hmac.compare_digest(request.headers.get("X-Kiosk-Key", ""), key):
        return
    if station.addresses and address_in(request.remote or "", station.addresses):
        return
    if key is not None or station.addresses:
        log.warning("ticket for kiosk %s refused from %s (not that kiosk)", station.id, request.remote)
        raise Forbidden(f"Perangkat ini bukan {station.name}; tiket tidak dapat dicetak di sana.",
                        code="kiosk_not_allowed")


async def _print_outcome(request: web.Request, ticket: Ticket) -> dict[str, Any] | None:
    """Whether the kiosk's printer confirmed the ticket within its short wait, or it is still queued."""
    config = request.app[QUEUE].config
    station = config.kiosk(ticket.kiosk) if ticket.kiosk else None
    printer = config.printer(station.printer) if station and station.printer else None
    if printer is None:
        return None
    job = await request.app[PRINTING].wait_for(ticket, printer.confirm_wait_s)
    if job is None:
        return None
    if job.state == "sent":
        return {"printer": printer.id, "state": "printed", "message": None, "error": None}
    # The citizen is told now that the ticket is not printed; the hall's late_print says what then.
    job = await request.app[PRINTING].told_unprinted(job)
    if job.state == "dropped":
        return {"printer": printer.id, "state": "dropped", "error": job.last_error,
                "message": "Printer bermasalah: tiket tidak dicetak. Catat nomor antrean di layar atau pindai kode "
                           "QR; petugas loket dapat mencetaknya bila perlu."}
    return {"printer": printer.id, "state": "queued", "error": job.last_error,
            "message": "Printer bermasalah; tiket akan dicetak saat printer siap. "
                       "Simpan nomor antrean yang tampil di layar."}


@routes.get("/api/tickets/{token}")
async def ticket_status(request: web.Request) -> web.Response:
    """A ticket's state, people ahead, estimated wait and counter."""
    queue = request.app[QUEUE]
    return ok(await queue.views.ticket_view(await queue.ticket(request.match_info["token"])))


@routes.delete("/api/tickets/{token}")
async def cancel_ticket(request: web.Request) -> web.Response:
    """The citizen cancels a waiting ticket."""
    queue = request.app[QUEUE]
    return ok(await queue.views.ticket_view(await queue.cancel(request.match_info["token"])))


@routes.get("/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events of public happenings; resumes from Last-Event-ID."""
    return await stream_events(request)


# --- staff ----------------------------------------------------------------------------------
@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    """Username and password -> bearer token."""
    data = await json_body(request)
    username = field(data, "username", str, required=True, max_len=64)
    password = field(data, "password", str, required=True, max_len=1024)
    token, user = await request.app[AUTH].login(username, password, request.remote or "?")
    return ok({"token": token, "role": user.role, "username": user.username, "counters": list(user.counters)})


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    """End the current session."""
    await staff(request)
    token = bearer(request) or request.cookies.get(SESSION_COOKIE)
    assert token is not None
    await request.app[AUTH].logout(token)
    response = ok({"status": "logged_out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """Who is logged in."""
    user = await staff(request)
    return ok({"username": user.username, "role": user.role, "counters": list(user.counters)})


@routes.get("/api/counters")
async def counters(request: web.Request) -> web.Response:
    """Every counter with its current ticket and queue (a ticket's token only at the user's own counters)."""
    user = await staff(request)
    rows = await request.app[QUEUE].views.counters_overview()
    for row in rows:
        row["mine"] = user.may_work(row["id"])
        if not row["mine"] and row["current"] is not None:
            del row["current"]["token"]
    return ok(rows)


def _counter_action(action: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        user = await staff(request)
        counter_id = request.match_info["id"]
        queue = request.app[QUEUE]
        if request.app[QUEUE].config.counter(counter_id) is not None:
            require_counter(user, counter_id)
        if action == "next":
            ticket, closed = await queue.call_next(counter_id, user.username)
            if ticket is None:
                return web.Response(status=204)
            closed_view = None if closed is None else {"number": closed.number, "state": closed.state}
            return ok({"ticket": await queue.views.ticket_view(ticket), "closed": closed_view})
        if action in ("pause", "resume"):
            await (queue.pause if action == "pause" else queue.resume)(counter_id, user.username)
            row = next(r for r in await queue.views.counters_overview() if r["id"] == counter_id)
            return ok(row)
        if action == "transfer":
            data = await json_body(request)
            target = field(data, "service", str, required=True, max_len=8)
            ticket = await queue.transfer(counter_id, target, user.username)
        else:
            method = {"recall": queue.recall, "start": queue.start_service, "finish": queue.finish,
                      "no-show": queue.no_show}[action]
            ticket = await method(counter_id, user.username)
        return ok({"ticket": await queue.views.ticket_view(ticket)})

    handler.__name__ = f"counter_{action.replace('-', '_')}"
    handler.__doc__ = f"Staff: '{action}' at a counter."
    return handler


@routes.get("/api/counters/{id}/queue")
async def counter_queue(request: web.Request) -> web.Response:
    """Staff: the tickets waiting for a counter's services, in calling order per class (officers: only
    their own counters')."""
    user = await staff(request)
    counter = request.app[QUEUE].config.counter(request.match_info["id"])
    if counter is None:
        raise NotFound(f"Loket '{request.match_info['id']}' tidak dikenal.", code="unknown_counter")
    require_counter(user, counter.id)
    queue = request.app[QUEUE]
    tickets = await request.app[STORE].reads.waiting_list(queue.today(), counter.services)
    now = queue.clock.now()
    return ok([{"number": t.number, "service": t.service, "priority": t.priority,
                "priority_reason": t.priority_reason, "issued_at": queue.iso(t.issued_at), "token": t.token,
                "waited_s": round(now - t.issued_at), "origin": queue.views.origin_of(t)} for t in tickets])


COUNTER_ACTIONS = ("next", "recall", "start", "finish", "no-show", "transfer", "pause", "resume")
for _action in COUNTER_ACTIONS:
    routes.post(f"/api/counters/{{id}}/{_action}")(_counter_action(_action))


@routes.post("/api/tickets/{token}/requeue")
async def requeue(request: web.Request) -> web.Response:
    """Staff: put a no-show back into its queue."""
    user = await staff(request)
    queue = request.app[QUEUE]
    ticket = await queue.ticket(request.match_info["token"])
    if not any(user.may_work(c.id) for c in request.app[QUEUE].config.counters_for(ticket.service)):
        require_role(user, ("admin", "supervisor"))
    return ok(await queue.views.ticket_view(await queue.requeue(ticket.token, user.username)))


@routes.post("/api/tickets/{token}/reprint")
async def reprint(request: web.Request) -> web.Response:
    """Staff: print a ticket again (on its kiosk's printer, or `{"printer": "P1"}`). Officers reprint
    only tickets of the services their counters call."""
    user = await staff(request)
    printer = None
    if request.can_read_body:
        printer = field(await json_body(request), "printer", str, max_len=16)
    if user.role == "officer":
        ticket = await request.app[QUEUE].ticket(request.match_info["token"])
        if not any(user.may_work(c.id) for c in request.app[QUEUE].config.counters_for(ticket.service)):
            raise Forbidden(f"Nomor {ticket.number} bukan layanan loket Anda.", code="forbidden_counter")
    job = await request.app[PRINTING].reprint(request.match_info["token"], user.username, printer)
    return ok({"job": job.id, "printer": job.printer_id, "state": job.state}, status=202)


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    """Admin and supervisor: the newest staff actions, filtered by username, action, counter or ticket."""
    await staff(request, ("admin", "supervisor"))
    return ok(await audit_entries(request))


async def audit_entries(request: web.Request) -> list[dict[str, Any]]:
    """The audit log as the query string asks (shared by the API and the page)."""
    limit_text = request.query.get("limit", "100")
    limit = min(int(limit_text), 1000) if limit_text.isdigit() else 100
    entries = await request.app[STORE].reads.audit_entries(
        limit, username=request.query.get("username") or None, action=request.query.get("action") or None,
        counter_id=request.query.get("counter") or None, ticket_number=request.query.get("ticket") or None)
    queue = request.app[QUEUE]
    for entry in entries:
        entry["at"] = queue.iso(entry["at"])
    return entries
