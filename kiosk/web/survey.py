"""The survey over HTTP (docs/survey.md): citizens answer by their ticket's token, the counter
tablet (`/survei?counter=ID`, no login) answers only for the ticket its counter has just served,
officers see their own aggregate, supervisors and admins read the IKM (agency-scoped like every
report) as JSON, CSV, XLSX and the `/laporan/ikm` page."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from kiosk.hall.survey import EDUCATION, GENDERS, OCCUPATIONS
from kiosk.queue.errors import NotFound
from kiosk.reports.export import filename, to_csv, to_xlsx
from kiosk.reports.period import Period
from kiosk.reports.scope import report_scope, scope_text
from kiosk.survey.results import (
    GROUPINGS,
    check_survey_grouping,
    comments,
    ikm_report,
    ikm_reports,
    own_ikm,
    profile,
)
from kiosk.survey.service import Surveys
from kiosk.survey.tables import (
    comments_table,
    distribution_chart,
    ikm_table,
    profile_table,
    published_table,
    trend_chart,
)
from kiosk.web.appkeys import QUEUE, STORE, SURVEYS
from kiosk.web.http import SESSION_COOKIE, csrf_for, field, json_body, ok, staff
from kiosk.web.pages import render
from kiosk.web.reports import XLSX, download, heading, page_range, report_page_user

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MANAGERS = ("admin", "supervisor")
STEMS = {"service": "layanan", "agency": "instansi", "counter": "loket", "officer": "petugas", "month": "bulan"}


def setup_survey(app: web.Application) -> None:
    """The survey's service, the ticket view's `survey` field and the routes."""
    surveys = Surveys(app[QUEUE].writer)
    app[SURVEYS] = surveys
    app[QUEUE].views.async_extensions.append(surveys.extend_view)
    app.add_routes(routes)


def form_context(request: web.Request) -> dict[str, Any]:
    """What the survey form needs (shared by the ticket page and the tablet)."""
    settings = request.app[SURVEYS].settings
    return {"elements": settings.elements, "genders": GENDERS, "education": EDUCATION, "occupations": OCCUPATIONS,
            "complaints": settings.complaints}


@routes.post("/api/surveys")
async def answer(request: web.Request) -> web.Response:
    """A citizen's answer: by the ticket's `token`, or at the counter tablet by `counter` + `number`."""
    data = await json_body(request)
    surveys = request.app[SURVEYS]
    token = field(data, "token", str, max_len=64)
    args = (data.get("answers"), data.get("respondent"), data.get("comment"))
    if token is None:
        counter = field(data, "counter", str, required=True, max_len=16)
        number = field(data, "number", str, required=True, max_len=8)
        return ok(await surveys.answer_at_counter(counter, number, *args), 201)
    return ok(await surveys.answer(token, *args), 201)


@routes.get("/api/surveys/counter/{id}")
async def tablet_state(request: web.Request) -> web.Response:
    """The counter tablet: the survey of the ticket that counter has just served (number and service), or none."""
    return ok(await request.app[SURVEYS].tablet(request.match_info["id"]))


@routes.get("/api/surveys/mine")
async def mine(request: web.Request) -> web.Response:
    """Staff: their own IKM over the last 90 days, only over at least 10 responses (never an answer)."""
    user = await staff(request)
    queue = request.app[QUEUE]
    return ok(await own_ikm(request.app[STORE], queue.config, user.username, queue.local_now().date()))


@routes.get("/survei")
async def tablet_page(request: web.Request) -> web.Response:
    """The counter-side tablet (kiosk mode, facing the citizen)."""
    config = request.app[QUEUE].config
    counter_id = request.query.get("counter", "")
    counter = config.counter(counter_id)
    if counter is None:
        raise NotFound("Loket tidak ditemukan. Buka /survei?counter=ID dengan ID loket dari berkas aula.",
                       code="unknown_counter")
    html = render("survey_tablet.html", hall=config.hall, counter=counter, **form_context(request))
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


@routes.get("/api/reports/ikm")
@routes.get("/api/reports/ikm.csv")
@routes.get("/api/reports/ikm.xlsx")
async def ikm(request: web.Request) -> web.Response:
    """Supervisor and admin: the IKM per service, agency, counter, officer or month."""
    user = await staff(request, MANAGERS)
    queue = request.app[QUEUE]
    config = queue.config
    scope = report_scope(user, config)
    period = Period.from_query(request.query.get("from"), request.query.get("to"), queue.local_now().date())
    by = check_survey_grouping(request.query.get("by"))
    result = await ikm_report(request.app[STORE], config, period, by, scope)
    ext = request.path[len("/api/reports/ikm"):]
    if ext == ".csv":
        return download(to_csv(ikm_table(result, by)), "text/csv",
                        filename(f"ikm-{STEMS[by]}", result["from"], result["to"], "csv"))
    if ext == ".xlsx":
        notes = await comments(request.app[STORE], config, period, scope)
        people = await profile(request.app[STORE], period, scope)
        book = [published_table(result, config), ikm_table(result, by), profile_table(people), comments_table(notes)]
        return download(to_xlsx(book, heading(config, period, user)), XLSX,
                        filename(f"ikm-{STEMS[by]}", result["from"], result["to"], "xlsx"))
    return ok(result)


@routes.get("/api/reports/ikm/comments")
@routes.get("/api/reports/ikm/comments.csv")
async def ikm_comments(request: web.Request) -> web.Response:
    """Supervisor and admin: the suggestions written, with their service and date only."""
    user = await staff(request, MANAGERS)
    queue = request.app[QUEUE]
    period = Period.from_query(request.query.get("from"), request.query.get("to"), queue.local_now().date())
    rows = await comments(request.app[STORE], queue.config, period, report_scope(user, queue.config))
    if request.path.endswith(".csv"):
        return download(to_csv(comments_table(rows)), "text/csv",
                        filename("saran", period.first.isoformat(), period.last.isoformat(), "csv"))
    return ok({"from": period.first.isoformat(), "to": period.last.isoformat(), "comments": rows})


@routes.get("/laporan/ikm")
async def ikm_page(request: web.Request) -> web.StreamResponse:
    """Supervisor and admin: the IKM page beside /laporan (tables, charts, comments, downloads)."""
    user = await report_page_user(request)
    queue = request.app[QUEUE]
    config = queue.config
    today = queue.local_now().date()
    period, form, status = page_range(request, today)
    scope = report_scope(user, config)
    store = request.app[STORE]
    results = await ikm_reports(store, config, period, GROUPINGS, scope)
    year = Period.of(today.replace(month=1, day=1), today) if period.length < 60 else period
    figures: dict[str, Any] = {"results": results, "distribution": distribution_chart(results["service"]),
               "trend": trend_chart(await ikm_report(store, config, year, "month", scope)),
               "people": await profile(store, period, scope),
               "comments": await comments(store, config, period, scope, 200)}
    html = render("survey_ikm.html", hall=config.hall, user=user, csrf=csrf_for(request.cookies[SESSION_COOKIE]),
                  limited=scope_text(user, config), elements=config.survey.elements,
                  titles={"service": "Per layanan", "agency": "Per instansi", "counter": "Per loket",
                          "officer": "Per petugas", "month": "Per bulan"}, **form, **figures)
    return web.Response(text=html, content_type="text/html", status=status)
