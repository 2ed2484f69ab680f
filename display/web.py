"""The hall display: `/display` and `/display/{zone}`, its enriched event stream, audio and running text."""

from __future__ import annotations

import asyncio
import hmac
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from display.callout import sentence
from display.chime import chime_wav
from display.media import TYPES, MediaStore
from display.speech import Speech
from kiosk.hall.config import HallConfig, Zone
from kiosk.queue.errors import DomainError, Forbidden, NotFound, Unprocessable
from kiosk.queue.models import Event, User
from kiosk.web.appkeys import HALL, QUEUE, SETTINGS
from kiosk.web.http import SESSION_COOKIE, csrf_for, field, json_body, ok, staff
from kiosk.web.pages import render
from kiosk.web.sse import stream_events
from kiosk.web.staff_pages import logged_in

log = logging.getLogger(__name__)
SPEECH = web.AppKey("speech", Speech)
MEDIA = web.AppKey("media", MediaStore)
STATIC = Path(__file__).parent / "static"
routes = web.RouteTableDef()


def _zone(config: HallConfig, zone_id: str | None) -> Zone | None:
    if zone_id is None:
        return None
    zone = config.zone(zone_id)
    if zone is None:
        raise NotFound(f"Zona tampilan '{zone_id}' tidak ada di berkas aula.", code="unknown_zone")
    return zone


def _zone_services(config: HallConfig, zone: Zone | None) -> set[str] | None:
    if zone is None:
        return None
    return {code for cid in zone.counters if (c := config.counter(cid)) for code in c.services}


@routes.get("/display")
@routes.get("/display/{zone}")
async def display_page(request: web.Request) -> web.Response:
    """The TV page: calls, recent calls, queues, clock, running text."""
    config = request.app[QUEUE].config
    zone = _zone(config, request.match_info.get("zone"))
    settings = config.display
    html = render("display.html", package="display", hall=config.hall, zone=zone,
                  sound=request.query.get("sound", "1") != "0", timezone=config.hall.timezone,
                  stale_after_s=settings.stale_after_s, recent_calls=settings.recent_calls,
                  tts=request.app[SPEECH].available, data=_page_data(config, zone))
    return web.Response(text=html, content_type="text/html")


def _tag(config: HallConfig, zone: Zone | None, place: Zone | None) -> str | None:
    """Where a counter or service is, as a row of this display says it: nothing when the display is
    that very zone (or the hall has no zones)."""
    if place is None or (zone is not None and place.id == zone.id):
        return None
    return place.label


def _page_data(config: HallConfig, zone: Zone | None) -> dict[str, Any]:
    """What the display's script needs from the hall document: where each counter and service is."""
    return {"counters": {c.id: _tag(config, zone, config.zone_of_counter(c.id)) for c in config.counters},
            "services": {s.code: _tag(config, zone, config.zone_of_service(s.code)) for s in config.services},
            "zones": [z.label for z in config.zones]}


@routes.get("/display-events")
async def display_events(request: web.Request) -> web.StreamResponse:
    """The public stream for displays: calls carry their spoken sentence; `?zone=` keeps one wing's."""
    config = request.app[QUEUE].config
    zone = _zone(config, request.query.get("zone") or None)
    services = _zone_services(config, zone)
    speech = request.app[SPEECH]

    async def enrich(event: Event) -> dict[str, Any] | None:
        data = dict(event.data)
        if event.type == "ticket.called":
            if zone is not None and data.get("counter") not in zone.counters:
                return None
            return data | _speech_fields(config, speech, data)
        if event.type == "queue.changed" and services is not None and data.get("service") not in services:
            return None
        return data

    async def extend(snapshot: dict[str, Any]) -> dict[str, Any]:
        if zone is not None:
            assert services is not None
            snapshot["services"] = [s for s in snapshot["services"] if s["code"] in services]
        # Enough of the day's calls that, each number once (a recall moves it up), the list is full.
        calls = await request.app[QUEUE].views.recent_calls(60)
        if zone is not None:
            calls = [c for c in calls if c.get("counter") in zone.counters]
        latest: dict[str, dict[str, Any]] = {}
        for call in calls:  # newest first: a number's latest call keeps its place
            latest.setdefault(call["number"], call)
        snapshot["recent_calls"] = list(latest.values())[:config.display.recent_calls]
        snapshot["zone"] = None if zone is None else {"id": zone.id, "name": zone.name}
        snapshot["playlist"] = [f"/display-media/{name}" for name in config.display.playlist]
        snapshot["image_seconds"] = config.display.image_seconds
        snapshot["places"] = _page_data(config, zone)
        return snapshot

    return await stream_events(request, transform=enrich, extend_snapshot=extend)


def _speech_fields(config: HallConfig, speech: Speech, call: dict[str, Any]) -> dict[str, Any]:
    text = sentence(call["number"], call.get("counter_name") or "", call.get("service_name") or "",
                    config.display)
    fields: dict[str, Any] = {"sentence": text, "audio": None}
    if speech.available:
        key = speech.register(text)
        fields["audio"] = f"/display-audio/{key}.wav"
        # Synthesise now, so the file is ready when the display asks after its chime.
        task = asyncio.get_running_loop().create_task(speech.audio(key))
        task.add_done_callback(_log_speech_failure)
    return fields


def _log_speech_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("speech failed: %s", task.exception())


@routes.get("/display-audio/{key}.wav")
async def audio(request: web.Request) -> web.StreamResponse:
    """A call-out sentence spoken by espeak-ng (404 for anything the server did not announce)."""
    key = request.match_info["key"]
    if not key.isalnum() or len(key) != 32:
        raise NotFound("Suara tidak ditemukan.", code="unknown_audio")
    path = await request.app[SPEECH].audio(key)
    if path is None:
        raise NotFound("Suara tidak ditemukan.", code="unknown_audio")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "max-age=86400"})


@routes.get("/display-audio/chime.wav")
async def chime(request: web.Request) -> web.Response:
    """The chime before each call."""
    return web.Response(body=chime_wav(), content_type="audio/wav", headers={"Cache-Control": "max-age=86400"})


@routes.get("/loket/{id}")
async def counter_page(request: web.Request) -> web.Response:
    """The small screen above a counter: its name and the number it serves now (public, like the TV)."""
    config = request.app[QUEUE].config
    counter = config.counter(request.match_info["id"])
    if counter is None:
        raise NotFound(f"Loket '{request.match_info['id']}' tidak ada.", code="unknown_counter")
    html = render("counter.html", package="display", hall=config.hall, counter=counter,
                  zone=config.zone_of_counter(counter.id), timezone=config.hall.timezone,
                  stale_after_s=config.display.stale_after_s, now=await counter_now(request, counter.id))
    return web.Response(text=html, content_type="text/html")


@routes.get("/api/display/counters/{id}")
async def counter_state(request: web.Request) -> web.Response:
    """What a counter-top screen shows: the counter, whether it is on a break, its number now."""
    if request.app[QUEUE].config.counter(request.match_info["id"]) is None:
        raise NotFound(f"Loket '{request.match_info['id']}' tidak ada.", code="unknown_counter")
    return ok(await counter_now(request, request.match_info["id"]))


async def counter_now(request: web.Request, counter_id: str) -> dict[str, Any]:
    """A counter's name, break and current number (never a phone or a name of a citizen)."""
    queue = request.app[QUEUE]
    config = queue.config
    counter = config.counter(counter_id)
    assert counter is not None
    reads = queue.store.reads
    ticket = await reads.counter_ticket(counter_id)
    paused = (await reads.counter_state(counter_id)).paused
    service = config.service(ticket.service) if ticket else None
    return {"id": counter.id, "name": counter.name, "paused": paused,
            "number": ticket.number if ticket else None, "state": ticket.state if ticket else None,
            "service_name": service.name if service else None}


@routes.get("/api/display/ticker")
async def get_ticker(request: web.Request) -> web.Response:
    """The running text shown on every display."""
    return ok({"text": await request.app[HALL].ticker()})


@routes.put("/api/display/ticker")
async def put_ticker(request: web.Request) -> web.Response:
    """Admin or supervisor: change the running text; displays show it at once."""
    user = await staff(request, ("admin", "supervisor"))
    text = field(await json_body(request), "text", str, required=False, max_len=2000)
    return ok({"text": await request.app[HALL].set_ticker(text or "", user.username)})


# --- the playlist: files admins upload, shown beside the calls -------------------------------------
@routes.get("/display-media/{name}")
async def media_file(request: web.Request) -> web.StreamResponse:
    """A file of the display's playlist (images and videos; ranges for videos)."""
    path = request.app[MEDIA].path(request.match_info["name"])
    return web.FileResponse(path, headers={"Content-Type": TYPES[path.suffix.lstrip(".")],
                                           "Cache-Control": "max-age=3600"})


async def _manager(request: web.Request) -> User:
    user = await logged_in(request)
    if user.role not in ("admin", "supervisor"):
        raise Forbidden("Halaman ini untuk admin dan supervisor.")
    return user


def _media_page(request: web.Request, user: User, message: str | None = None, status: int = 200) -> web.Response:
    config = request.app[QUEUE].config
    html = render("admin_media.html", hall=config.hall, user=user, csrf=csrf_for(request.cookies[SESSION_COOKIE]),
                  playlist=config.display.playlist, seconds=config.display.image_seconds, message=message,
                  done=request.query.get("ok", ""))
    return web.Response(text=html, content_type="text/html", status=status)


@routes.get("/admin/tayangan")
async def media_page(request: web.Request) -> web.StreamResponse:
    """Admin and supervisor: the display's playlist, with uploads and removals."""
    return _media_page(request, await _manager(request))


async def _playlist(request: web.Request, user: User, change: Any, what: str) -> None:
    def edit(raw: dict[str, Any]) -> dict[str, Any]:
        doc = dict(raw)
        display = dict(doc.get("display", {}))
        display["playlist"] = change(list(display.get("playlist", [])))
        doc["display"] = display
        return doc
    await request.app[HALL].change(edit, user.username, f"Tayangan layar: {what}")


def _check_csrf(request: web.Request, given: str) -> None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or not hmac.compare_digest(given, csrf_for(token)):
        raise Forbidden("Formulir kedaluwarsa (token CSRF tidak cocok). Muat ulang halaman.", code="csrf_failed")


@routes.post("/admin/tayangan")
async def media_upload(request: web.Request) -> web.StreamResponse:
    """Admin and supervisor: add an image or a video to the playlist (multipart: csrf, then file)."""
    user = await _manager(request)
    try:
        reader = await request.multipart()
        csrf, name = "", None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "csrf":
                csrf = (await part.text())[:100]
            elif part.name == "file" and part.filename:
                _check_csrf(request, csrf)  # before a byte of the file is kept
                name = await request.app[MEDIA].save(part)
        _check_csrf(request, csrf)
        if name is None:
            raise Unprocessable("Pilih berkas gambar atau video.", code="media_missing")
        try:
            await _playlist(request, user, lambda items: [*items, name], f"+{name}")
        except DomainError:
            request.app[MEDIA].remove(name)
            raise
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _media_page(request, user, exc.message, exc.status)
    raise web.HTTPSeeOther(f"/admin/tayangan?ok={quote('Tayangan ditambahkan')}")


@routes.post("/admin/tayangan/{name}/{action}")
async def media_change(request: web.Request) -> web.StreamResponse:
    """Admin and supervisor: move a file up the playlist ("naik") or remove it ("hapus")."""
    user = await _manager(request)
    _check_csrf(request, str((await request.post()).get("csrf", "")))
    name, action = request.match_info["name"], request.match_info["action"]
    if name not in request.app[QUEUE].config.display.playlist or action not in ("naik", "hapus"):
        raise NotFound("Tayangan tidak ditemukan.", code="unknown_media")

    def move(items: list[str]) -> list[str]:
        if action == "hapus":
            return [i for i in items if i != name]
        at = items.index(name)
        if at > 0:
            items[at - 1], items[at] = items[at], items[at - 1]
        return items
    await _playlist(request, user, move, f"{'-' if action == 'hapus' else '^'}{name}")
    if action == "hapus":
        request.app[MEDIA].remove(name)
    raise web.HTTPSeeOther(f"/admin/tayangan?ok={quote('Tersimpan')}")


def setup_display(app: web.Application) -> None:
    """Add the display routes, its static files and the speech cache beside the database."""
    config = app[QUEUE].config
    app[SPEECH] = Speech(app[SETTINGS].data_dir / "speech", voice=config.display.voice)
    app[MEDIA] = MediaStore(app[SETTINGS].data_dir / "media")
    app.add_routes(routes)
    app.router.add_static("/display-static/", STATIC, name="display_static")
    log.debug("display ready: %d zones, speech %s", len(config.zones),
              "espeak-ng" if app[SPEECH].available else "browser only")
