"""The small HTTP helpers every room's routes use: JSON answers and bodies, checked fields, and the
staff behind a request (bearer token, or the cookie session with its CSRF header)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from kiosk.queue.errors import BadRequest, DomainError, Forbidden, Unauthorized
from kiosk.queue.models import HALL_ROLES, User
from kiosk.staff.auth import require_role
from kiosk.support.jsontext import dumps
from kiosk.web.appkeys import AUTH, QUEUE

log = logging.getLogger(__name__)
STAFF_ROLES = HALL_ROLES
SESSION_COOKIE = "giliran_session"
LOGIN_CSRF_COOKIE = "giliran_login_csrf"


def csrf_for(session_token: str) -> str:
    """The CSRF token of a cookie session: derived from the secret cookie, so a page of another site
    (which cannot read the cookie) cannot know it."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:40]


def ok(data: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(data, status=status, dumps=dumps)


MAX_JSON_DEPTH = 32  # no request of ours nests deeper; a body that does is refused before it is used


class RequestTimeout(DomainError):
    """A body that did not arrive in time."""

    code, status = "request_timeout", 408


class UnsupportedMediaType(DomainError):
    """A body that is not of the type the route takes."""

    code, status = "unsupported_media_type", 415


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object: 415 unless sent as `application/json` (a page of another site
    cannot send that without the browser asking first), 400 `bad_request` for anything that is not
    a JSON object of Unicode text (invalid UTF-8, lone surrogates, nesting deeper than any request
    of ours, a compressed body that does not decompress)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Kirim data sebagai JSON (Content-Type: application/json).")
    raw = await body_bytes(request)
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadRequest("Isi permintaan harus JSON yang valid.") from None
    if not isinstance(data, dict):
        raise BadRequest("Isi permintaan harus berupa objek JSON.")
    if not _plain_text(data):
        raise BadRequest("Isi permintaan berisi teks yang tidak valid atau terlalu bertingkat.")
    return data


async def body_bytes(request: web.Request) -> bytes:
    """The request body as bytes; 400 when it cannot be read (e.g. a gzip body that is not gzip)."""
    try:
        async with asyncio.timeout(request.app[QUEUE].config.limits.request_timeout_s):
            return await request.read()
    except TimeoutError:
        log.info("body of %s %s from %s too slow", request.method, request.path, request.remote)
        abandon_body(request)
        raise RequestTimeout("Data terlalu lambat dikirim; coba lagi.") from None
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except (ValueError, OSError, EOFError, HttpProcessingError, RequestPayloadError) as exc:
        log.info("unreadable body on %s %s: %s", request.method, request.path, exc)
        abandon_body(request)
        raise BadRequest("Isi permintaan tidak dapat dibaca.") from None


CLOSE_CONNECTION = web.RequestKey("close_connection", bool)  # answer, then close the connection


def abandon_body(request: web.Request) -> None:
    """Stop reading a body that cannot be read: the answer goes out and the connection closes
    (its next bytes could not be trusted to start a request), instead of the server draining it."""
    request.content.feed_eof()
    request[CLOSE_CONNECTION] = True


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's parser accepts them): refused like any bad body."""
    raise ValueError(f"{name} is not a JSON value")


def _plain_text(data: Any) -> bool:
    """Whether every string in a parsed JSON value is valid Unicode (no lone surrogates, which
    JSON's \\u escapes allow) and it nests at most MAX_JSON_DEPTH levels."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(value, str):
            if not is_unicode(value):
                return False
        elif isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


def is_unicode(text: str) -> bool:
    """Whether a string can be stored and sent as UTF-8 text by either store: no lone surrogates,
    and no NUL character (PostgreSQL's text cannot hold one; nothing a person types contains it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def form_body(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """A posted form; 400 when it is not UTF-8 or cannot be parsed (pages show it in Indonesian)."""
    try:
        async with asyncio.timeout(request.app[QUEUE].config.limits.request_timeout_s):
            form = await request.post()
    except TimeoutError:
        abandon_body(request)
        raise RequestTimeout("Formulir terlalu lambat dikirim; coba lagi.") from None
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except (ValueError, AssertionError, HttpProcessingError, RequestPayloadError) as exc:  # UnicodeDecodeError too
        log.info("unreadable form on %s %s: %s", request.method, request.path, exc)
        if isinstance(exc, (HttpProcessingError, RequestPayloadError)):
            abandon_body(request)
        raise BadRequest("Formulir tidak dapat dibaca (teks harus UTF-8). Muat ulang halaman lalu coba lagi.") \
            from None
    if not all(is_unicode(k) and (not isinstance(v, str) or is_unicode(v)) for k, v in form.items()):
        raise BadRequest("Formulir berisi teks yang tidak valid.")
    return form


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
