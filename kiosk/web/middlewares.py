"""The one place where errors become HTTP answers, plus headers every answer carries."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from kiosk.queue.errors import BadRequest, DomainError
from kiosk.support.jsontext import dumps
from kiosk.web.appkeys import QUEUE
from kiosk.web.http import CLOSE_CONNECTION, is_unicode
from kiosk.web.pages import render_error

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: ("bad_request", "Permintaan tidak dapat dipahami."),
    401: ("unauthorized", "Silakan masuk (login) terlebih dahulu."),
    403: ("forbidden", "Anda tidak diizinkan melakukan ini."),
    404: ("not_found", "Halaman atau data yang dicari tidak ada."),
    405: ("method_not_allowed", "Metode permintaan ini tidak didukung di alamat ini."),
    413: ("payload_too_large", "Data yang dikirim terlalu besar."),
    415: ("unsupported_media_type", "Kirim data sebagai JSON."),
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
}


# Pages with a person's session or a ticket's token: never kept by a browser's or a proxy's cache
# (a shared hall PC must not show the next person the last one's console or ticket).
PRIVATE_PAGES = ("/staff", "/admin", "/t/", "/laporan", "/loket", "/survei", "/booking", "/ambil")


def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(request: web.Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.StreamResponse:
    """JSON `{"error": {...}}` for the API, a friendly Indonesian page otherwise."""
    # A message may quote what the client sent; text that is not Unicode must not break the answer.
    message = message.encode("utf-8", "replace").decode("utf-8")
    response: web.StreamResponse
    if is_api(request):
        response = web.json_response({"error": {"code": code, "message": message}}, status=status,
                                     headers=headers, dumps=dumps)
    else:
        response = web.Response(text=render_error(status, message), status=status, content_type="text/html",
                                headers=headers)
    if request.get(CLOSE_CONNECTION):
        response.force_close()
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map domain errors, HTTP errors and crashes to answers without tracebacks."""
    try:
        if not is_unicode(request.path) or not is_unicode(request.query_string):
            # An address with %00 or a lone surrogate names nothing here (and PostgreSQL refuses NUL).
            raise BadRequest("Alamat permintaan berisi karakter yang tidak valid.")
        response = await handler(request)
    except DomainError as exc:
        if exc.status >= 500:
            log.warning("%s %s -> %s %s", request.method, request.path, exc.status, exc.code)
        response = error_response(request, exc.status, exc.code, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect: the login page, a saved form
            await _skip_unread_body(request, exc)
            raise
        code, message = HTTP_CODES.get(exc.status, ("http_error", exc.reason))
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
        response = error_response(request, exc.status, code, message, headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = error_response(request, 500, "internal_error",
                                  "Terjadi kesalahan di server. Petugas sudah dapat melihatnya di log.")
    await _skip_unread_body(request, response)
    return response


async def _skip_unread_body(request: web.Request, response: web.StreamResponse) -> None:
    """A body the route did not read is read and dropped here, where a body that cannot be read
    (a "gzip" body that is not gzip) ends the connection quietly instead of raising in aiohttp."""
    if response.prepared or not request.body_exists or request.content.is_eof():
        return
    try:
        async with asyncio.timeout(request.app[QUEUE].config.limits.request_timeout_s):
            while await request.content.readany():
                pass
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:  # what the payload raises: decoding errors, timeouts, a broken connection
        log.info("unread body of %s %s dropped: %s", request.method, request.path, exc)
        request.content.feed_eof()
        response.force_close()


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer: no sniffing, no framing, no referrer leaking ticket tokens."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if is_api(request) or request.path.startswith(PRIVATE_PAGES):
        response.headers.setdefault("Cache-Control", "no-store")
