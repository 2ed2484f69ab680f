"""HTTP routes: the public API for kiosks and citizens, the staff API, and small pages."""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from kiosk import __version__
from kiosk.queue.clock import to_local
from kiosk.staff.auth import SESSION_COOKIE, csrf_for, require_counter, require_role
from kiosk.queue.errors import BadRequest, Forbidden, NotFound, Unauthorized
from kiosk.queue.i18n import format_datetime, format_wait
from kiosk.support.jsontext import dumps
from kiosk.queue.models import ROLES, User
from kiosk.web.pages import render
from kiosk.web.sse import stream_events
from kiosk.web.appkeys import AUTH, PRINTING, QUEUE, STORE, TICKET_LIMITER

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

STAFF_ROLES = ROLES


def ok(data: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(data, status=status, dumps=dumps)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or 400 `bad_request`."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("Isi permintaan harus JSON yang valid.") from None
    if not isinstance(data, dict):
        raise BadRequest("Isi permintaan harus berupa objek JSON.")
    return data


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = False,
          max_len: int = 200) -> Any:
    """One checked field of a JSON body; 400 `bad_request` naming it when wrong."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"Kolom '{name}' wajib diisi.")
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise BadRequest(f"Kolom '{name}' tidak sesuai jenisnya.")
    if isinstance(value, str) and len(value) > max_len:
        raise BadRequest(f"Kolom '{name}' terlalu panjang.")
    return value


def bearer(request: web.Request) -> str | None:
    """The bearer token of the request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def staff(request: web.Request, roles: tuple[str, ...] = STAFF_ROLES) -> User:
    """The logged-in staff user with one of the roles; 401/403 otherwise.

    API clients send a bearer token; the staff pages use the session cookie, and then every write
    must carry the session's CSRF token in `X-CSRF-Token` (403 `csrf_failed` otherwise).
    """
    token = bearer(request)
    cookie = None if token else request.cookies.get(SESSION_COOKIE)
    try:
        user = await request.app[AUTH].user_for(token or cookie)
    except Unauthorized as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="giliran"')
        raise
    if cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(given, csrf_for(cookie)):
            raise Forbidden("Permintaan ditolak (token CSRF tidak cocok). Muat ulang halaman.", code="csrf_failed")
    require_role(user, roles)
    return user


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
    request.app[TICKET_LIMITER].take(
        request.remote or "?", "Terlalu banyak nomor diambil dari perangkat ini. Tunggu sebentar.")
    queue = request.app[QUEUE]
    ticket, view = await queue.take(service, priority=priority, priority_reason=reason, phone=phone, kiosk=kiosk)
    view["print"] = await _print_outcome(request, ticket)
    return ok(view, status=201)


async def _print_outcome(request: web.Request, ticket) -> dict[str, Any] | None:
    """Whether the kiosk's printer confirmed the ticket within its short wait, or it is still queued."""
    config = request.app[QUEUE].config
    station = config.kiosk(ticket.kiosk) if ticket.kiosk else None
    printer = config.printer(station.printer) if station and station.printer else None
    if printer is None:
        return None
    job = await request.app[PRINTING].wait_for(ticket, printer.confirm_wait_s)
    if job is None:
        return None
    printed = job.state == "sent"
    return {"printer": printer.id, "state": "printed" if printed else "queued",
            "message": None if printed else "Printer bermasalah; tiket akan dicetak saat printer siap. "
                                            "Simpan nomor antrean yang tampil di layar.",
            "error": job.last_error}


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
    """Every counter with its current ticket and queue."""
    user = await staff(request)
    rows = await request.app[QUEUE].views.counters_overview()
    for row in rows:
        row["mine"] = user.may_work(row["id"])
    return ok(rows)


def _counter_action(action: str):
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
    """Staff: the tickets waiting for a counter's services, in calling order per class."""
    await staff(request)
    counter = request.app[QUEUE].config.counter(request.match_info["id"])
    if counter is None:
        raise NotFound(f"Loket '{request.match_info['id']}' tidak dikenal.", code="unknown_counter")
    queue = request.app[QUEUE]
    tickets = await request.app[STORE].reads.waiting_list(queue.today(), counter.services)
    return ok([{"number": t.number, "service": t.service, "priority": t.priority,
                "priority_reason": t.priority_reason, "issued_at": queue.iso(t.issued_at)} for t in tickets])


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
    """Staff: print a ticket again (on its kiosk's printer, or `{"printer": "P1"}`)."""
    user = await staff(request)
    printer = None
    if request.can_read_body:
        printer = field(await json_body(request), "printer", str, max_len=16)
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


@routes.get("/api/users")
async def users(request: web.Request) -> web.Response:
    """Admin: every staff account (never a password hash)."""
    await staff(request, ("admin",))
    return ok([{"username": u.username, "role": u.role, "counters": list(u.counters), "disabled": u.disabled}
               for u in await request.app[STORE].reads.users()])


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.Response:
    """Admin: create an account."""
    actor = await staff(request, ("admin",))
    data = await json_body(request)
    counters = data.get("counters") or []
    if not isinstance(counters, list) or not all(isinstance(c, str) for c in counters):
        raise BadRequest("Kolom 'counters' harus daftar id loket.")
    user = await request.app[AUTH].add_user(field(data, "username", str, required=True, max_len=64),
                                            field(data, "password", str, required=True, max_len=1024),
                                            field(data, "role", str, required=True, max_len=16), counters,
                                            request.app[QUEUE].config)
    async with request.app[STORE].transaction() as q:
        await q.audit(at=request.app[QUEUE].clock.now(), username=actor.username, action="add_user",
                      detail=f"{user.username} ({user.role})")
    return ok({"username": user.username, "role": user.role, "counters": list(user.counters)}, status=201)


@routes.post("/api/users/{name}/password")
async def reset_password(request: web.Request) -> web.Response:
    """Admin: reset a password (the user's sessions end)."""
    actor = await staff(request, ("admin",))
    password = field(await json_body(request), "password", str, required=True, max_len=1024)
    user = await request.app[AUTH].reset_password(request.match_info["name"], password, actor.username)
    return ok({"username": user.username, "status": "password_reset"})


@routes.post("/api/users/{name}/disable")
@routes.post("/api/users/{name}/enable")
async def disable_user(request: web.Request) -> web.Response:
    """Admin: switch an account off (its sessions end) or on."""
    actor = await staff(request, ("admin",))
    disabled = request.path.endswith("/disable")
    user = await request.app[AUTH].set_disabled(request.match_info["name"], disabled, actor.username)
    return ok({"username": user.username, "disabled": disabled})


# --- pages -------------------------------------------------------------------------------------
@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """A landing page naming the hall."""
    config = request.app[QUEUE].config
    html = render("index.html", hall=config.hall, services=config.services, agencies=config.agencies,
                  counters=config.counters)
    return web.Response(text=html, content_type="text/html")


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    """The browser's tab icon."""
    return web.FileResponse(Path(__file__).parent / "static" / "favicon.svg",
                            headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})


@routes.get("/t/{token}")
async def ticket_page(request: web.Request) -> web.Response:
    """The citizen's ticket page (what the QR code opens); never shows a phone or a name."""
    queue = request.app[QUEUE]
    ticket = await queue.ticket(request.match_info["token"])
    view = await queue.views.ticket_view(ticket)
    issued = to_local(ticket.issued_at, request.app[QUEUE].config.hall.tz)
    html = render("ticket.html", t=view, hall=request.app[QUEUE].config.hall,
                  wait_text=format_wait(view["estimated_wait_s"]), issued_text=format_datetime(issued))
    return web.Response(text=html, content_type="text/html")
