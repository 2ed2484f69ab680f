"""Pages for citizens: the landing page, the touch kiosk and the live ticket page (what the QR
code opens), with the QR codes themselves."""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
import qrcode.image.svg
from aiohttp import web

from kiosk.hall.config import HallConfig
from kiosk.hall.search import search_of
from kiosk.queue.clock import to_local
from kiosk.queue.errors import NotFound
from kiosk.queue.i18n import format_datetime, format_wait
from kiosk.web.appkeys import QUEUE
from kiosk.web.http import ok
from kiosk.web.pages import loopback_url, render
from kiosk.web.watch import WATCH

routes = web.RouteTableDef()
PRIORITY_CHOICES = [("lansia", "Lansia (60 tahun ke atas)"), ("disabilitas", "Penyandang disabilitas"),
                    ("ibu_hamil", "Ibu hamil"), ("ibu_balita", "Ibu dengan balita")]


def _qr_svg(data: str) -> web.Response:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return web.Response(body=out.getvalue(), content_type="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=86400"})


@routes.get("/kiosk")
async def kiosk_page(request: web.Request) -> web.Response:
    """The touch kiosk: services by agency, priority choice, the number on screen."""
    config = request.app[QUEUE].config
    kiosk_id = request.query.get("kiosk") or None
    station = config.kiosk(kiosk_id) if kiosk_id else None
    if kiosk_id and station is None:
        raise NotFound(f"Kios '{kiosk_id}' tidak ada di berkas aula.", code="unknown_kiosk")
    counts = {a.code: sum(1 for s in config.services if s.agency == a.code) for a in config.agencies}
    agencies = [a for a in config.agencies if counts[a.code]]
    html = render("kiosk.html", hall=config.hall, agencies=agencies, counts=counts, kiosk=station,
                  priorities=PRIORITY_CHOICES, reset_after_s=int(station.reset_after_s if station else 30),
                  sms=sms_offered(config), data=_kiosk_data(config))
    return web.Response(text=html, content_type="text/html")


def public_url_warning(config: HallConfig) -> str | None:
    """A start-up warning when the links printed in QR codes only work on the server itself."""
    if not loopback_url(config.hall.public_url):
        return None
    return (f"[hall] public_url is {config.hall.public_url}: the QR codes on printed tickets open only on this "
            "computer, not on citizens' phones; set it to this server's address in the hall network "
            "(e.g. http://192.168.1.10:8080) on /admin/hall or in the hall file")


def sms_offered(config: HallConfig) -> bool:
    """Whether citizens are offered SMS alerts: only when the hall has an SMS gateway (not just a log)."""
    return config.sms.provider != "log"


def _kiosk_data(config: HallConfig) -> dict[str, object]:
    """What the kiosk's script needs besides the services: agencies' names and pictograms, and where
    each service's counters are (the ticket says where to wait)."""
    zones = {}
    for service in config.services:
        zone = config.zone_of_service(service.code)
        if zone is not None:
            zones[service.code] = zone.name
    return {"agencies": {a.code: {"name": a.name, "label": a.label, "icon": a.icon} for a in config.agencies},
            "zones": zones}


@routes.get("/api/kiosk/search")
async def kiosk_search(request: web.Request) -> web.Response:
    """The kiosk's search: service codes matching what was typed, best first (synonyms, typos)."""
    query = request.query.get("q", "")[:80]
    return ok({"query": query, "services": search_of(request.app[QUEUE].config).search(query)})


@routes.get("/t/{token}/qr.svg")
async def ticket_qr(request: web.Request) -> web.Response:
    """The QR code of a ticket's own page (the one the kiosk shows on screen)."""
    queue = request.app[QUEUE]
    url = queue.views.status_url(await queue.ticket(request.match_info["token"]))
    public = queue.config.hall.public_url
    if loopback_url(public) and not loopback_url(f"http://{request.host}"):
        # The hall still says localhost, which no phone can open; the kiosk reached the server at
        # an address of the hall network, which phones on it can: the code on screen uses that.
        url = f"{request.scheme}://{request.host}{url.removeprefix(public)}"
    return _qr_svg(url)


@routes.get("/t/{token}/telegram.svg")
async def telegram_qr(request: web.Request) -> web.Response:
    """The QR code that opens the ticket's Telegram chat (404 without a bot)."""
    queue = request.app[QUEUE]
    view = await queue.views.ticket_view(await queue.ticket(request.match_info["token"]))
    if not view.get("telegram_url"):
        raise NotFound("Bot Telegram belum diatur di aula ini.", code="no_telegram")
    return _qr_svg(view["telegram_url"])


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """A landing page naming the hall."""
    config = request.app[QUEUE].config
    html = render("index.html", hall=config.hall, services=config.services, agencies=config.agencies,
                  counters=config.counters)
    return web.Response(text=html, content_type="text/html")


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    """The browser's tab icon."""
    return web.FileResponse(Path(__file__).parent / "static" / "favicon.svg",
                            headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})


@routes.get("/t/{token}")
async def ticket_page(request: web.Request) -> web.Response:
    """The citizen's ticket page (what the QR code opens); never shows a phone or a name."""
    queue = request.app[QUEUE]
    ticket = await queue.ticket(request.match_info["token"])
    view = await queue.views.ticket_view(ticket)
    view["now_called"] = request.app[WATCH].now_called(ticket.service)
    issued = to_local(ticket.issued_at, queue.config.hall.tz)
    html = render("ticket.html", t=view, hall=queue.config.hall, sms=sms_offered(queue.config),
                  wait_text=format_wait(view["estimated_wait_s"]), issued_text=format_datetime(issued))
    return web.Response(text=html, content_type="text/html")
