"""The hall display: `/display` and `/display/{zone}`, its enriched event stream, audio and running text."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from display.callout import sentence
from display.chime import chime_wav
from display.speech import Speech
from kiosk.hall.config import HallConfig, Zone
from kiosk.queue.errors import NotFound
from kiosk.queue.models import Event
from kiosk.web.appkeys import HALL, QUEUE, SETTINGS
from kiosk.web.http import field, json_body, ok, staff
from kiosk.web.pages import render
from kiosk.web.sse import stream_events

log = logging.getLogger(__name__)
SPEECH = web.AppKey("speech", Speech)
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
                  tts=request.app[SPEECH].available)
    return web.Response(text=html, content_type="text/html")


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
            snapshot["recent_calls"] = [c for c in snapshot["recent_calls"] if c.get("counter") in zone.counters]
        snapshot["recent_calls"] = snapshot["recent_calls"][:config.display.recent_calls]
        snapshot["zone"] = None if zone is None else {"id": zone.id, "name": zone.name}
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


def setup_display(app: web.Application) -> None:
    """Add the display routes, its static files and the speech cache beside the database."""
    config = app[QUEUE].config
    app[SPEECH] = Speech(app[SETTINGS].data_dir / "speech", voice=config.display.voice)
    app.add_routes(routes)
    app.router.add_static("/display-static/", STATIC, name="display_static")
    log.debug("display ready: %d zones, speech %s", len(config.zones),
              "espeak-ng" if app[SPEECH].available else "browser only")
