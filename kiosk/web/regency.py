"""The regency's view across halls (read only): each hall's figures for today, and each hall's
report summary over a period (today, this week, this month), from every hall sharing the database
(PostgreSQL; an SQLite database holds one hall). For the `regency` role (and admins); a regency
account acts on nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from aiohttp import web

from kiosk.hall.config import ConfigError
from kiosk.hall.parse import parse_hall
from kiosk.reports.period import Period
from kiosk.reports.summary import Summaries
from kiosk.storage.base import ReportQueries, Store
from kiosk.web.appkeys import QUEUE, STORE
from kiosk.web.http import SESSION_COOKIE, csrf_for, ok, staff
from kiosk.web.pages import render

REGENCY_VIEWERS = ("regency", "admin")
PERIODS = {"today": "Hari ini", "week": "Minggu ini", "month": "Bulan ini"}
routes = web.RouteTableDef()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _HallReports:
    """Another hall's report reads, shaped like the store the summaries read from."""

    reports: ReportQueries


async def _today(request: web.Request) -> dict[str, Any]:
    queue = request.app[QUEUE]
    day = queue.today()
    halls = await request.app[STORE].reads.halls_day(day, queue.clock.now())
    totals = {k: sum(h[k] for h in halls) for k in ("issued", "waiting", "at_counters", "served", "no_show")}
    return {"day": day, "halls": halls, "totals": totals}


async def _period(request: web.Request, preset: str) -> dict[str, Any]:
    """Each hall's summary (the total row of its report) over a period."""
    store = request.app[STORE]
    period = Period.preset(preset, date.fromisoformat(request.app[QUEUE].today()))
    rows = []
    for hall, doc in (await store.regency_halls()).items():
        if doc is None:
            continue
        try:
            config = parse_hall(json.loads(doc), f"hall {hall}")
        except (ValueError, ConfigError) as exc:
            log.warning("hall %s: its document cannot be read for the regency's summary: %s", hall, exc)
            continue
        summary = await Summaries(cast(Store, _HallReports(store.reports_of(hall))), config).summary(
            period, "total", None)
        rows.append({"hall": hall, "name": config.hall.name} | summary["total"])
    rows.sort(key=lambda r: str(r["name"]).lower())
    return {"preset": preset, "from": period.first.isoformat(), "to": period.last.isoformat(), "text": period.text(),
            "rows": rows}


@routes.get("/api/regency/halls")
async def halls(request: web.Request) -> web.Response:
    """Regency and admin: every hall of the database with today's figures."""
    await staff(request, REGENCY_VIEWERS)
    return ok(await _today(request))


@routes.get("/api/regency/summary")
async def summary(request: web.Request) -> web.Response:
    """Regency and admin: every hall's report summary over today, this week or this month (`range`)."""
    await staff(request, REGENCY_VIEWERS)
    preset = request.query.get("range", "today")
    return ok(await _period(request, preset if preset in PERIODS else "today"))


@routes.get("/kabupaten")
async def regency_page(request: web.Request) -> web.StreamResponse:
    """Regency and admin: today's figures of every hall, and their summaries over a period."""
    if SESSION_COOKIE not in request.cookies:
        raise web.HTTPSeeOther("/staff/login")
    user = await staff(request, REGENCY_VIEWERS)
    preset = request.query.get("range", "today")
    preset = preset if preset in PERIODS else "today"
    html = render("regency.html", hall=request.app[QUEUE].config.hall, user=user, **await _today(request),
                  period=await _period(request, preset), periods=PERIODS,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]))
    return web.Response(text=html, content_type="text/html")
