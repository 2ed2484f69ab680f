"""The regency's view across halls (read only): each hall's figures for today, from every hall
sharing the database (PostgreSQL; an SQLite database holds one hall). For the `regency` role (and
admins); a regency account acts on nothing."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kiosk.web.appkeys import QUEUE, STORE
from kiosk.web.http import SESSION_COOKIE, csrf_for, ok, staff
from kiosk.web.pages import render

REGENCY_VIEWERS = ("regency", "admin")
routes = web.RouteTableDef()


async def _halls(request: web.Request) -> dict[str, Any]:
    queue = request.app[QUEUE]
    day = queue.today()
    halls = await request.app[STORE].reads.halls_day(day, queue.clock.now())
    totals = {k: sum(h[k] for h in halls) for k in ("issued", "waiting", "at_counters", "served", "no_show")}
    return {"day": day, "halls": halls, "totals": totals}


@routes.get("/api/regency/halls")
async def halls(request: web.Request) -> web.Response:
    """Regency and admin: every hall of the database with today's figures."""
    await staff(request, REGENCY_VIEWERS)
    return ok(await _halls(request))


@routes.get("/kabupaten")
async def regency_page(request: web.Request) -> web.StreamResponse:
    """Regency and admin: today's figures of every hall, in a table."""
    if SESSION_COOKIE not in request.cookies:
        raise web.HTTPSeeOther("/staff/login")
    user = await staff(request, REGENCY_VIEWERS)
    data = await _halls(request)
    html = render("regency.html", hall=request.app[QUEUE].config.hall, user=user, **data,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]))
    return web.Response(text=html, content_type="text/html")
