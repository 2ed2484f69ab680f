"""Staff pages: login with a cookie session (HttpOnly, SameSite=Strict), counter choice, the console."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any

from aiohttp import web

from kiosk.queue.errors import DomainError, Forbidden, NotFound, Unauthorized
from kiosk.queue.models import PRIORITY_REASONS, User
from kiosk.staff.auth import SESSION_SECONDS
from kiosk.web.appkeys import AUTH, QUEUE
from kiosk.web.http import LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_for, form_body
from kiosk.web.pages import render

routes = web.RouteTableDef()


def _cookie_args(request: web.Request, max_age: int) -> dict[str, Any]:
    return {"httponly": True, "samesite": "Strict", "path": "/", "max_age": max_age,
            "secure": request.secure}


async def _user(request: web.Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await request.app[AUTH].user_for(token)
    except Unauthorized:
        return None


def _login_page(request: web.Request, message: str | None = None, username: str = "", status: int = 200
                ) -> web.Response:
    csrf = secrets.token_urlsafe(24)
    html = render("staff_login.html", hall=request.app[QUEUE].config.hall, csrf=csrf, message=message,
                  username=username)
    response = web.Response(text=html, content_type="text/html", status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, **_cookie_args(request, 3600))
    return response


@routes.get("/staff/login")
async def login_form(request: web.Request) -> web.Response:
    """The login form."""
    return _login_page(request)


@routes.post("/staff/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    """Check the form (with its CSRF token) and start a cookie session."""
    form = await form_body(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return _login_page(request, "Formulir kedaluwarsa. Silakan coba lagi.", status=403)
    username = str(form.get("username", ""))
    try:
        token, _ = await request.app[AUTH].login(username, str(form.get("password", "")), request.remote or "?")
    except DomainError as exc:
        return _login_page(request, exc.message, username=username, status=exc.status)
    response = web.HTTPSeeOther("/staff")
    response.set_cookie(SESSION_COOKIE, token, **_cookie_args(request, SESSION_SECONDS))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logged_in(request: web.Request) -> User:
    """The cookie session's user, or a redirect to the login page."""
    user = await _user(request)
    if user is None:
        raise web.HTTPSeeOther("/staff/login")
    return user


@routes.post("/staff/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the cookie session (the form carries the session's CSRF token)."""
    token = request.cookies.get(SESSION_COOKIE)
    form = await form_body(request)
    if token:
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf_for(token)):
            raise Forbidden("Formulir kedaluwarsa. Muat ulang halaman.", code="csrf_failed")
        await request.app[AUTH].logout(token)
    response = web.HTTPSeeOther("/staff/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.get("/staff")
async def choose_counter(request: web.Request) -> web.StreamResponse:
    """After login: the counters this user may work."""
    user = await logged_in(request)
    if user.role == "regency":  # reads across halls, works at no counter
        raise web.HTTPSeeOther("/kabupaten")
    config = request.app[QUEUE].config
    groups: dict[str, list[Any]] = {}
    for counter in config.counters:
        if user.may_work(counter.id):
            zone = config.zone_of_counter(counter.id)
            groups.setdefault(zone.name if zone else "Loket", []).append(counter)
    html = render("staff_choose.html", hall=config.hall, user=user, groups=groups,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]))
    return web.Response(text=html, content_type="text/html")


@routes.get("/staff/counter/{id}")
async def console(request: web.Request) -> web.StreamResponse:
    """The counter console: current ticket, buttons with shortcuts, the waiting list, live."""
    user = await logged_in(request)
    config = request.app[QUEUE].config
    counter = config.counter(request.match_info["id"])
    if counter is None:
        raise NotFound(f"Loket '{request.match_info['id']}' tidak dikenal.", code="unknown_counter")
    if not user.may_work(counter.id):
        raise Forbidden(f"Anda tidak ditugaskan di {counter.name}.", code="forbidden_counter")
    groups = []
    for agency in config.agencies:
        others = [s for s in config.services if s.agency == agency.code and s.code not in counter.services]
        if others:
            groups.append((agency.label, others))
    data = {"services": {s.code: s.name for s in config.services}, "priorities": PRIORITY_REASONS}
    html = render("staff_console.html", hall=config.hall, user=user, counter=counter, transfer_groups=groups,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]), timezone=config.hall.timezone, data=data)
    return web.Response(text=html, content_type="text/html")


async def _supervisor(request: web.Request) -> User:
    user = await logged_in(request)
    if user.role not in ("admin", "supervisor"):
        raise Forbidden("Halaman ini untuk supervisor dan admin.")
    return user


@routes.get("/staff/supervisor")
async def supervisor(request: web.Request) -> web.StreamResponse:
    """Supervisor and admin: every counter live (who serves what, for how long, queue lengths)."""
    user = await _supervisor(request)
    html = render("staff_supervisor.html", hall=request.app[QUEUE].config.hall, user=user,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]))
    return web.Response(text=html, content_type="text/html")


# What the audit log's actions mean, as staff read them (the log keeps the short English names).
ACTION_LABELS = {
    "next": "Panggil berikutnya", "call_number": "Panggil nomor tertentu", "recall": "Panggil ulang",
    "start": "Mulai layani", "finish": "Selesai dilayani", "no_show": "Tidak hadir", "transfer": "Alihkan layanan",
    "pause": "Istirahat", "resume": "Lanjut melayani", "cancel": "Dibatalkan warga",
    "requeue": "Dimasukkan kembali ke antrean", "reprint": "Cetak ulang", "unprinted": "Tiket tidak tercetak di kios",
    "hall": "Ubah pengaturan aula", "ticker": "Ubah teks berjalan",
    "login": "Masuk", "add_user": "Tambah akun", "reset_password": "Ganti kata sandi",
    "disable": "Nonaktifkan akun", "enable": "Aktifkan akun",
}
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _when(iso: str | None) -> str:
    """'25 Nov 2026 10.42.05' from an ISO time of the hall's zone."""
    if not iso:
        return ""
    at = datetime.fromisoformat(iso)
    return f"{at.day} {SHORT_MONTHS[at.month - 1]} {at.year} {at:%H.%M.%S}"


@routes.get("/staff/audit")
async def audit_page(request: web.Request) -> web.StreamResponse:
    """Supervisor and admin: the audit log of staff and admin actions, with a filter."""
    from kiosk.web.api import audit_entries  # the same query as GET /api/audit

    user = await _supervisor(request)
    entries = await audit_entries(request)
    for entry in entries:
        entry["when"] = _when(entry["at"])
        entry["action_label"] = ACTION_LABELS.get(entry["action"], entry["action"])
    html = render("staff_audit.html", hall=request.app[QUEUE].config.hall, user=user, entries=entries,
                  csrf=csrf_for(request.cookies[SESSION_COOKIE]), actions=ACTION_LABELS,
                  query={k: request.query.get(k, "") for k in ("username", "action", "counter", "ticket")})
    return web.Response(text=html, content_type="text/html")
