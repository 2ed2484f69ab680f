"""HTTP of the online queue (docs/booking.md, docs/api.md "Antrean daring"): one-time codes, slots,
bookings, numbers taken from home, check-in; the `/ambil` page and a booking's page with its QR.
The rules are in kiosk/booking/; these routes check input and the per-address flood backstop."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import qrcode
import qrcode.image.svg
from aiohttp import web

from kiosk.booking import reminders
from kiosk.booking.service import BookingService
from kiosk.support.ratelimit import RateLimiter
from kiosk.web.api import _print_outcome, check_kiosk
from kiosk.web.appkeys import HALL, QUEUE
from kiosk.web.http import field, json_body, ok
from kiosk.web.pages import render

log = logging.getLogger(__name__)
BOOKINGS = web.AppKey("bookings", BookingService)
BOOKING_LIMITER = web.AppKey("booking_limiter", RateLimiter)
REMINDERS = web.AppKey("booking_reminders", asyncio.Task)
IDENTITY_HEADER = "X-Identity"
routes = web.RouteTableDef()


def setup_booking(app: web.Application, bookings: BookingService, *, reminders_every_s: float = 60.0) -> None:
    """Add the online queue to the web app (after the database's start in `create_app`)."""
    app[BOOKINGS] = bookings
    rules = bookings.writer.config.booking
    app[BOOKING_LIMITER] = RateLimiter(rules.per_address_per_hour / 60, max(10, rules.per_address_per_hour // 10),
                                       bookings.writer.clock.now)

    async def follow(old: Any, new: Any) -> None:
        app[BOOKING_LIMITER].configure(new.booking.per_address_per_hour / 60,
                                       max(10, new.booking.per_address_per_hour // 10))

    async def running(app: web.Application) -> AsyncIterator[None]:
        await bookings.start()
        task = asyncio.get_running_loop().create_task(reminders.run(bookings, reminders_every_s),
                                                      name="booking-reminders")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app[HALL].on_reconfigure(follow)
    app.cleanup_ctx.append(running)
    app.add_routes(routes)


def _flood(request: web.Request) -> None:
    """The per-address backstop (generous: many phones share one carrier address)."""
    request.app[BOOKING_LIMITER].take(request.remote or "?",
                                      "Terlalu banyak permintaan dari jaringan ini. Tunggu sebentar.")


async def _identity(request: web.Request) -> str:
    return await request.app[BOOKINGS].verifier.identity(request.headers.get(IDENTITY_HEADER))


# --- API -----------------------------------------------------------------------------------------
@routes.post("/api/verify")
async def send_code(request: web.Request) -> web.Response:
    """Send a one-time code to a phone (through the SMS outbox)."""
    data = await json_body(request)
    _flood(request)
    phone = field(data, "phone", str, required=True, max_len=40)
    return ok(await request.app[BOOKINGS].verifier.send_code(phone), status=201)


@routes.post("/api/verify/{verification}")
async def confirm_code(request: web.Request) -> web.Response:
    """Check the code; gives an identity token for the X-Identity header."""
    data = await json_body(request)
    _flood(request)
    code = field(data, "code", str, required=True, max_len=12)
    return ok(await request.app[BOOKINGS].verifier.confirm(request.match_info["verification"][:64], code))


@routes.get("/api/online/services")
async def online_services(request: web.Request) -> web.Response:
    """The services taking numbers online, with their mode and today's online places left."""
    bookings = request.app[BOOKINGS]
    config = request.app[QUEUE].config
    today = request.app[QUEUE].today()
    out = []
    for service in config.services:
        if service.online.booking == "off":
            continue
        used, _ = await bookings.writer.store.reads.online_counts(service.code, today)
        out.append({"code": service.code, "name": service.name, "booking": service.online.booking,
                    "online_left_today": max(0, service.online.remote_share - used)})
    return ok({"services": out, "closed_today": bookings.writer.config.days.closed(
        bookings.writer.local_now().date())})


@routes.get("/api/services/{code}/slots")
async def slots(request: web.Request) -> web.Response:
    """A service's slots on a date (?date=YYYY-MM-DD, today by default) with places left."""
    date = request.query.get("date")
    return ok(await request.app[BOOKINGS].slots(request.match_info["code"][:8], date[:20] if date else None))


@routes.post("/api/bookings")
async def book(request: web.Request) -> web.Response:
    """Book a slot (needs X-Identity)."""
    data = await json_body(request)
    _flood(request)
    service = field(data, "service", str, required=True, max_len=8)
    day = field(data, "date", str, required=True, max_len=20)
    time = field(data, "time", str, required=True, max_len=8)
    identity = await _identity(request)
    return ok(await request.app[BOOKINGS].book(identity, service, day, time), status=201)


@routes.get("/api/bookings/{code}")
async def booking(request: web.Request) -> web.Response:
    """A booking by its code."""
    _flood(request)
    return ok(await request.app[BOOKINGS].booking(request.match_info["code"][:16]))


@routes.delete("/api/bookings/{code}")
async def cancel(request: web.Request) -> web.Response:
    """Cancel one's own booking (needs the X-Identity that made it)."""
    identity = await _identity(request)
    return ok(await request.app[BOOKINGS].cancel(request.match_info["code"][:16], identity))


@routes.post("/api/bookings/{code}/check-in")
async def check_in(request: web.Request) -> web.Response:
    """Check a booking in at the hall (the kiosk's keypad or camera, or a counter): 201 with its ticket."""
    data = await json_body(request)
    kiosk = field(data, "kiosk", str, max_len=32)
    if kiosk is not None:
        check_kiosk(request, kiosk)
    _flood(request)
    result = await request.app[BOOKINGS].check_in(request.match_info["code"][:16], kiosk)
    ticket = await request.app[QUEUE].ticket(result["ticket"]["token"])
    result["ticket_view"]["print"] = await _print_outcome(request, ticket)
    return ok(result, status=201)


@routes.post("/api/remote-tickets")
async def take_remote(request: web.Request) -> web.Response:
    """Today's number taken from home, within the online share (needs X-Identity)."""
    data = await json_body(request)
    _flood(request)
    service = field(data, "service", str, required=True, max_len=8)
    identity = await _identity(request)
    _, view = await request.app[BOOKINGS].take_remote(identity, service)
    return ok(view, status=201)


# --- pages ---------------------------------------------------------------------------------------
@routes.get("/ambil")
async def ambil_page(request: web.Request) -> web.Response:
    """The mobile-first page: confirm a phone, take today's number or book a slot."""
    config = request.app[QUEUE].config
    services = [s for s in config.services if s.online.booking != "off"]
    closed = config.days.closed(request.app[BOOKINGS].writer.local_now().date())
    return web.Response(text=render("booking.html", hall=config.hall, services=services, closed=closed),
                        content_type="text/html")


@routes.get("/booking/{code}")
async def booking_page(request: web.Request) -> web.Response:
    """A booking's page: when and where, its code and QR for the kiosk."""
    view = await request.app[BOOKINGS].booking(request.match_info["code"][:16])
    config = request.app[QUEUE].config
    return web.Response(text=render("booking_view.html", hall=config.hall, b=view), content_type="text/html")


@routes.get("/booking/{code}/qr.svg")
async def booking_qr(request: web.Request) -> web.Response:
    """The booking's QR code (it holds the code the kiosk reads)."""
    view = await request.app[BOOKINGS].booking(request.match_info["code"][:16])
    image = qrcode.make(view["code"], image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return web.Response(body=out.getvalue(), content_type="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=86400"})
