"""Reports over HTTP (supervisors and admins; an agency-limited supervisor sees only their agencies):
the summary API with its CSV and XLSX forms, the full workbook, the live waiting-time watch, and
the `/laporan` page. Everything reads through `Store.reports`, never the writer."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from kiosk.hall.config import HallConfig
from kiosk.queue.errors import DomainError, Forbidden
from kiosk.queue.models import User
from kiosk.reports.book import report_book, summary_table
from kiosk.reports.export import filename, to_csv, to_xlsx
from kiosk.reports.period import PRESETS, Period, check_grouping
from kiosk.reports.scope import report_scope, scope_text
from kiosk.reports.sla import sla_watch
from kiosk.reports.summary import Summaries
from kiosk.web.appkeys import QUEUE, STORE
from kiosk.web.http import SESSION_COOKIE, csrf_for, ok, staff
from kiosk.web.pages import render
from kiosk.web.staff_pages import logged_in

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MANAGERS = ("admin", "supervisor")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STEMS = {"service": "layanan", "agency": "instansi", "counter": "loket", "officer": "petugas", "day": "hari",
         "hour": "jam"}


def heading(config: HallConfig, period: Period, user: User) -> str:
    """The title row of an export: the hall, the range, and the agencies of a limited supervisor."""
    limited = scope_text(user, config)
    return f"{config.hall.name} · Laporan {period.text()}" + (f" · Instansi: {limited}" if limited else "")


def download(body: bytes, content_type: str, name: str) -> web.Response:
    """A file to save (never shown inline)."""
    return web.Response(body=body, content_type=content_type, charset="utf-8" if content_type == "text/csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


@routes.get("/api/reports/summary")
@routes.get("/api/reports/summary.csv")
@routes.get("/api/reports/summary.xlsx")
async def summary(request: web.Request) -> web.Response:
    """Supervisor and admin: the summary of a range by service, agency, counter, officer, day or hour."""
    user = await staff(request, MANAGERS)
    queue = request.app[QUEUE]
    config = queue.config
    scope = report_scope(user, config)
    period = Period.from_query(request.query.get("from"), request.query.get("to"), queue.local_now().date())
    by = check_grouping(request.query.get("by"))
    started = time.perf_counter()
    result = await Summaries(request.app[STORE], config).summary(period, by, scope)
    log.info("report %s..%s by %s for %s: %.0f ms", period.first, period.last, by, user.username,
             1000 * (time.perf_counter() - started))
    ext = request.path[len("/api/reports/summary"):]
    if ext == ".csv":
        name = filename(f"laporan-{STEMS[by]}", result["from"], result["to"], "csv")
        return download(to_csv(summary_table(result, by)), "text/csv", name)
    if ext == ".xlsx":
        name = filename(f"laporan-{STEMS[by]}", result["from"], result["to"], "xlsx")
        return download(to_xlsx([summary_table(result, by)], heading(config, period, user)), XLSX, name)
    return ok(result)


@routes.get("/api/reports/workbook.xlsx")
async def workbook(request: web.Request) -> web.Response:
    """Supervisor and admin: everything `/laporan` shows for a range, one sheet per table."""
    user = await staff(request, MANAGERS)
    queue = request.app[QUEUE]
    period = Period.from_query(request.query.get("from"), request.query.get("to"), queue.local_now().date())
    book = await report_book(request.app[STORE], queue.config, period, report_scope(user, queue.config))
    body = to_xlsx(book.tables(), heading(queue.config, period, user))
    return download(body, XLSX, filename("laporan", period.first.isoformat(), period.last.isoformat(), "xlsx"))


@routes.get("/api/reports/sla")
async def sla(request: web.Request) -> web.Response:
    """Supervisor and admin: per service with people waiting, the longest current wait against its target."""
    user = await staff(request, MANAGERS)
    queue = request.app[QUEUE]
    return ok(await sla_watch(request.app[STORE], queue.config, queue.today(), queue.clock.now(),
                              report_scope(user, queue.config)))


def _page_period(request: web.Request, today: Any) -> tuple[str, Period]:
    preset = request.query.get("range", "month")
    if preset not in PRESETS:
        preset = "month"
    if preset == "custom":
        return preset, Period.from_query(request.query.get("from") or None, request.query.get("to") or None, today)
    return preset, Period.preset(preset, today)


async def report_page_user(request: web.Request) -> User:
    """The signed-in supervisor or admin a report page is for (others: an Indonesian 403 page)."""
    user = await logged_in(request)
    if user.role not in MANAGERS:
        raise Forbidden("Laporan hanya untuk supervisor dan admin.")
    return user


def page_range(request: web.Request, today: Any) -> tuple[Period, dict[str, Any], int]:
    """The range a report page shows, the range form's values (_range_form.html) and the status: a
    range that cannot be read shows this month with its message, answered 422."""
    message, status = None, 200
    try:
        preset, period = _page_period(request, today)
    except DomainError as exc:
        preset, period, message, status = "custom", Period.preset("month", today), exc.message, exc.status
    form = {"period": period, "preset": preset, "presets": PRESETS, "message": message,
            "query": urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()}),
            "custom_from": request.query.get("from", period.first.isoformat()),
            "custom_to": request.query.get("to", period.last.isoformat())}
    return period, form, status


@routes.get("/laporan")
async def page(request: web.Request) -> web.StreamResponse:
    """Supervisor and admin: the report page (range picker, summaries, charts, downloads; prints on A4)."""
    user = await report_page_user(request)
    queue = request.app[QUEUE]
    config = queue.config
    period, form, status = page_range(request, queue.local_now().date())
    book = await report_book(request.app[STORE], config, period, report_scope(user, config))
    html = render("laporan.html", hall=config.hall, user=user, csrf=csrf_for(request.cookies[SESSION_COOKIE]),
                  book=book, limited=scope_text(user, config),
                  titles={"service": "Per layanan", "agency": "Per instansi", "counter": "Per loket",
                          "officer": "Per petugas"}, **form)
    return web.Response(text=html, content_type="text/html", status=status)
