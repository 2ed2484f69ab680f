"""Admin: the hall (agencies, services, counters, kiosks, printers, display, alert thresholds,
limits) changed at run time and kept in the database, staff accounts, and the running text.

Pages use the cookie session and a CSRF field on every form; the JSON API under /api/admin
takes a bearer token (or the cookie with X-CSRF-Token). Admins change everything; supervisors
change the services' daily quotas and hours and the running text.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote

from aiohttp import web

from kiosk.hall.editing import SECTIONS, Section, choices, edit, entry_values, remove, section
from kiosk.queue.errors import DomainError, Forbidden, NotFound
from kiosk.queue.models import ROLES, User
from kiosk.web.appkeys import AUTH, HALL, NOTICES, QUEUE, STORE
from kiosk.web.http import SESSION_COOKIE, csrf_for, form_body, json_body, ok, staff
from kiosk.web.pages import render
from kiosk.web.staff_pages import logged_in

routes = web.RouteTableDef()
MANAGERS = ("admin", "supervisor")
SUPERVISOR_SECTIONS = tuple(name for name, s in SECTIONS.items() if s.supervisor_fields)


def _hall_view(request: web.Request) -> dict[str, Any]:
    return request.app[QUEUE].config.raw


async def _apply(request: web.Request, user: User, spec: Section, key: str | None, values: dict[str, Any], *,
                 create: bool = False, delete: bool = False) -> None:
    if delete:
        assert key is not None
        change = f"{spec.title} {key} dihapus"
        await request.app[HALL].change(lambda raw: remove(raw, spec, key, role=user.role), user.username, change)
        return
    # The audit log says it as the form does: "Layanan A diubah: Kuota harian=2".
    shown = ", ".join(f"{f.label if (f := spec.field(k)) else k}={v}" for k, v in values.items() if k != spec.key)
    entry = " ".join(str(p) for p in (spec.title, key or values.get(spec.key or "", "")) if p)
    change = f"{entry} {'ditambah' if create else 'diubah'}: {shown}"
    await request.app[HALL].change(
        lambda raw: edit(raw, spec, key, values, role=user.role, create=create), user.username, change.strip())


# --- JSON API --------------------------------------------------------------------------------------
@routes.get("/api/admin/hall")
async def api_hall(request: web.Request) -> web.Response:
    """Admin and supervisor: the hall document in use (as kept in the database)."""
    await staff(request, MANAGERS)
    return ok(_hall_view(request))


@routes.post("/api/admin/{section}")
async def api_create(request: web.Request) -> web.Response:
    """Admin: add an entry to a list section (agencies, services, counters, kiosks, printers)."""
    user = await staff(request, ("admin",))
    spec = section(request.match_info["section"])
    if not spec.is_list:
        raise DomainError("Bagian ini bukan daftar; ubah dengan PUT.", code="not_a_list", status=405)
    await _apply(request, user, spec, None, await json_body(request), create=True)
    return ok(_hall_view(request), status=201)


@routes.put("/api/admin/{section}")
async def api_update_table(request: web.Request) -> web.Response:
    """Admin: change a single table (hall, display, alerts, limits, tickets); only the fields sent."""
    user = await staff(request, ("admin",))
    spec = section(request.match_info["section"])
    if spec.is_list:
        raise DomainError("Sebutkan entri yang diubah: /api/admin/BAGIAN/KUNCI.", code="key_needed", status=405)
    await _apply(request, user, spec, None, await json_body(request))
    return ok(_hall_view(request))


@routes.put("/api/admin/{section}/{key}")
async def api_update(request: web.Request) -> web.Response:
    """Admin (supervisor: a service's daily_quota and hours): change one entry; only the fields sent."""
    user = await staff(request, MANAGERS)
    spec = section(request.match_info["section"])
    if not spec.is_list:
        raise DomainError("Bagian ini tidak memiliki entri.", code="not_a_list", status=405)
    await _apply(request, user, spec, request.match_info["key"], await json_body(request))
    return ok(_hall_view(request))


@routes.delete("/api/admin/{section}/{key}")
async def api_delete(request: web.Request) -> web.Response:
    """Admin: remove an entry (refused while it is in use)."""
    user = await staff(request, ("admin",))
    spec = section(request.match_info["section"])
    await _apply(request, user, spec, request.match_info["key"], {}, delete=True)
    return ok(_hall_view(request))


# --- pages ------------------------------------------------------------------------------------------
async def _manager(request: web.Request) -> User:
    user = await logged_in(request)
    if user.role not in MANAGERS:
        raise Forbidden("Halaman ini untuk admin dan supervisor.")
    return user


async def _form(request: web.Request) -> dict[str, Any]:
    """The posted form (multi-valued fields as lists), after checking its CSRF field."""
    form = await form_body(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(str(form.get("csrf", "")), csrf_for(token)):
        raise Forbidden("Formulir kedaluwarsa (token CSRF tidak cocok). Muat ulang halaman.", code="csrf_failed")
    values: dict[str, Any] = {}
    for name in form:
        if name != "csrf":
            items = [str(v) for v in form.getall(name)]
            values[name] = items if name.endswith("[]") else items[-1]
    return {k.removesuffix("[]"): v for k, v in values.items()}


def _page(request: web.Request, template: str, user: User, status: int = 200, **context: Any) -> web.Response:
    html = render(template, hall=request.app[QUEUE].config.hall, user=user, sections=SECTIONS,
                  allowed=_allowed_sections(user), csrf=csrf_for(request.cookies[SESSION_COOKIE]),
                  done=request.query.get("ok", ""), **context)
    return web.Response(text=html, content_type="text/html", status=status)


def _allowed_sections(user: User) -> tuple[str, ...]:
    return tuple(SECTIONS) if user.role == "admin" else SUPERVISOR_SECTIONS


def _section_for(user: User, name: str) -> Section:
    spec = section(name)
    if name not in _allowed_sections(user):
        raise Forbidden("Hanya admin yang boleh mengubah bagian ini.", code="admin_only")
    return spec


def _defaults(request: web.Request, spec: Section) -> dict[str, Any]:
    """A single table's values in use (the hall file may leave some to their defaults)."""
    current = getattr(request.app[QUEUE].config, spec.name)
    return {f.name: getattr(current, f.name) for f in spec.fields} | entry_values(_hall_view(request), spec, None)


@routes.get("/admin")
async def overview(request: web.Request) -> web.StreamResponse:
    """What admins and supervisors can change."""
    user = await _manager(request)
    raw = _hall_view(request)
    counts = {name: len(raw.get(name, [])) for name, s in SECTIONS.items() if s.is_list}
    notices = [line for notes in request.app.get(NOTICES, []) for line in notes()]
    return _page(request, "admin_index.html", user, counts=counts, ticker=await request.app[HALL].ticker(),
                 notices=notices)


@routes.get("/admin/{section}")
async def section_page(request: web.Request) -> web.StreamResponse:
    """A list section's entries with an add form, or a single table's form."""
    user = await _manager(request)
    if request.match_info["section"] == "users":
        return await users_page(request)
    spec = _section_for(user, request.match_info["section"])
    raw = _hall_view(request)
    if not spec.is_list:
        return _edit_page(request, user, spec, None, _defaults(request, spec))
    return _page(request, "admin_section.html", user, spec=spec, entries=raw.get(spec.name, []),
                 choices={f.name: dict(choices(f.choices, raw)) for f in spec.fields if f.choices})


def _edit_page(request: web.Request, user: User, spec: Section, key: str | None, values: dict[str, Any],
               message: str | None = None, status: int = 200, create: bool = False) -> web.Response:
    raw = _hall_view(request)
    editable = {f.name for f in spec.fields} if user.role == "admin" else set(spec.supervisor_fields)
    return _page(request, "admin_edit.html", user, status=status, spec=spec, key=key, values=values,
                 message=message, editable=editable, create=create,
                 choices={f.name: choices(f.choices, raw) for f in spec.fields if f.choices})


@routes.get("/admin/{section}/new")
async def new_page(request: web.Request) -> web.StreamResponse:
    """Admin: the form for a new entry."""
    user = await _manager(request)
    spec = _section_for(user, request.match_info["section"])
    if user.role != "admin" or not spec.is_list:
        raise Forbidden("Hanya admin yang boleh menambah.", code="admin_only")
    return _edit_page(request, user, spec, None, {}, create=True)


@routes.get("/admin/{section}/{key}")
async def edit_page(request: web.Request) -> web.StreamResponse:
    """One entry's form."""
    user = await _manager(request)
    spec = _section_for(user, request.match_info["section"])
    key = request.match_info["key"]
    return _edit_page(request, user, spec, key, entry_values(_hall_view(request), spec, key))


@routes.post("/admin/{section}")
@routes.post("/admin/{section}/{key}")
async def save(request: web.Request) -> web.StreamResponse:
    """Save a form: a new entry (key "new"), a changed entry or a single table; errors come back on the form."""
    user = await _manager(request)
    if request.match_info["section"] == "users":
        return await users_save(request)
    if request.match_info["section"] == "ticker":
        return await ticker_save(request)
    spec = _section_for(user, request.match_info["section"])
    values = await _form(request)
    key = request.match_info.get("key")
    create = key == "new"
    if create:
        key = None
    if spec.is_list == (key is None and not create):
        raise NotFound("Halaman tidak ditemukan.")
    # Unticked boxes send nothing: an entry's multi fields are always part of its form.
    values |= {f.name: values.get(f.name, []) for f in spec.fields if f.kind == "multi"}
    try:
        await _apply(request, user, spec, key, values, create=create)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _edit_page(request, user, spec, key, values, message=exc.message, status=exc.status, create=create)
    raise web.HTTPSeeOther(f"/admin/{spec.name}?ok={quote('Tersimpan')}")


@routes.post("/admin/{section}/{key}/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Admin: remove an entry."""
    user = await _manager(request)
    spec = _section_for(user, request.match_info["section"])
    confirmed = (await _form(request)).get("confirm") == "1"
    key = request.match_info["key"]
    if not confirmed:
        return _edit_page(request, user, spec, key, entry_values(_hall_view(request), spec, key),
                          message="Centang konfirmasi untuk menghapus.", status=422)
    try:
        await _apply(request, user, spec, key, {}, delete=True)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _edit_page(request, user, spec, key, entry_values(_hall_view(request), spec, key),
                          message=exc.message, status=exc.status)
    raise web.HTTPSeeOther(f"/admin/{spec.name}?ok={quote('Dihapus')}")


async def ticker_save(request: web.Request) -> web.StreamResponse:
    """Admin and supervisor: the displays' running text."""
    user = await _manager(request)
    values = await _form(request)
    try:
        await request.app[HALL].set_ticker(str(values.get("text", "")), user.username)
    except DomainError as exc:
        return _page(request, "admin_index.html", user, status=exc.status, message=exc.message,
                     counts={}, ticker=str(values.get("text", "")))
    raise web.HTTPSeeOther(f"/admin?ok={quote('Teks berjalan diperbarui')}")


# --- users ------------------------------------------------------------------------------------------
async def users_page(request: web.Request, message: str | None = None, status: int = 200) -> web.Response:
    """Admin: staff accounts, with forms to add, reset a password and disable or enable."""
    user = await _manager(request)
    if user.role != "admin":
        raise Forbidden("Hanya admin yang mengelola akun.", code="admin_only")
    return _page(request, "admin_users.html", user, status=status, message=message, roles=ROLES,
                 users=await request.app[STORE].reads.users(), counters=request.app[QUEUE].config.counters,
                 agencies=request.app[QUEUE].config.agencies)


async def users_save(request: web.Request) -> web.StreamResponse:
    """Admin: one user form (add, password, disable, enable)."""
    actor = await _manager(request)
    if actor.role != "admin":
        raise Forbidden("Hanya admin yang mengelola akun.", code="admin_only")
    values = await _form(request)
    auth, action = request.app[AUTH], values.get("action")
    username = str(values.get("username", "")).strip()
    try:
        if action == "add":
            counters = values.get("counters", [])
            agencies = values.get("agencies", [])
            new = await auth.add_user(username, str(values.get("password", "")), str(values.get("role", "")),
                                      counters if isinstance(counters, list) else [counters],
                                      request.app[QUEUE].config, agencies if isinstance(agencies, list) else [agencies])
            limited = f"; {','.join(new.agencies)}" if new.agencies else ""
            async with request.app[STORE].transaction() as q:
                await q.audit(at=request.app[QUEUE].clock.now(), username=actor.username, action="add_user",
                              detail=f"{new.username} ({new.role}{limited})")
            done = f"Akun {new.username} dibuat"
        elif action == "password":
            await auth.reset_password(username, str(values.get("password", "")), actor.username)
            done = f"Kata sandi {username} diganti"
        elif action in ("disable", "enable"):
            await auth.set_disabled(username, action == "disable", actor.username)
            done = f"Akun {username} {'dinonaktifkan' if action == 'disable' else 'diaktifkan'}"
        else:
            raise DomainError("Aksi tidak dikenal.", code="bad_request")
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return await users_page(request, exc.message, exc.status)
    raise web.HTTPSeeOther(f"/admin/users?ok={quote(done)}")
