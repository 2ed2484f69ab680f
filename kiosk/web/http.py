"""The small HTTP helpers every room's routes use: JSON answers and bodies, checked fields, and the
staff behind a request (bearer token, or the cookie session with its CSRF header)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from aiohttp import web

from kiosk.queue.errors import BadRequest, Forbidden, Unauthorized
from kiosk.queue.models import ROLES, User
from kiosk.staff.auth import require_role
from kiosk.support.jsontext import dumps
from kiosk.web.appkeys import AUTH

STAFF_ROLES = ROLES
SESSION_COOKIE = "giliran_session"
LOGIN_CSRF_COOKIE = "giliran_login_csrf"


def csrf_for(session_token: str) -> str:
    """The CSRF token of a cookie session: derived from the secret cookie, so a page of another site
    (which cannot read the cookie) cannot know it."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:40]


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
