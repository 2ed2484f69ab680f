"""HTTP routes for staff accounts (admins only): list, add, new password, disable and enable."""

from __future__ import annotations

from aiohttp import web

from kiosk.queue.errors import BadRequest
from kiosk.web.appkeys import AUTH, QUEUE, STORE
from kiosk.web.http import field, json_body, ok, staff

routes = web.RouteTableDef()


@routes.get("/api/users")
async def users(request: web.Request) -> web.Response:
    """Admin: every staff account (never a password hash)."""
    await staff(request, ("admin",))
    return ok([{"username": u.username, "role": u.role, "counters": list(u.counters), "agencies": list(u.agencies),
                "disabled": u.disabled} for u in await request.app[STORE].reads.users()])


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.Response:
    """Admin: create an account."""
    actor = await staff(request, ("admin",))
    data = await json_body(request)
    counters = data.get("counters") or []
    if not isinstance(counters, list) or not all(isinstance(c, str) for c in counters):
        raise BadRequest("Kolom 'counters' harus daftar id loket.")
    agencies = data.get("agencies") or []
    if not isinstance(agencies, list) or not all(isinstance(a, str) for a in agencies):
        raise BadRequest("Kolom 'agencies' harus daftar kode instansi.")
    user = await request.app[AUTH].add_user(field(data, "username", str, required=True, max_len=64),
                                            field(data, "password", str, required=True, max_len=1024),
                                            field(data, "role", str, required=True, max_len=16), counters,
                                            request.app[QUEUE].config, agencies)
    async with request.app[STORE].transaction() as q:
        await q.audit(at=request.app[QUEUE].clock.now(), username=actor.username, action="add_user",
                      detail=f"{user.username} ({user.role})")
    return ok({"username": user.username, "role": user.role, "counters": list(user.counters),
               "agencies": list(user.agencies)}, status=201)


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
