"""The composition root: `create_app(settings)` is what the CLI, the tests and benchmarks start."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from kiosk.api import routes
from kiosk.citizen import routes as citizen_routes
from kiosk.staff_pages import routes as staff_page_routes
from kiosk.auth import StaffAuth
from kiosk.clock import Clock, SystemClock
from kiosk.config import HallConfig, load_hall
from kiosk.domain import QueueService
from kiosk.events import EventBus
from kiosk.middlewares import add_security_headers, error_middleware
from kiosk.ratelimit import RateLimiter
from kiosk.settings import Settings
from kiosk.store import Store
from kiosk.typedefs import AUTH, BUS, CLOCK, CONFIG, QUEUE, SETTINGS, STORE, TICKET_LIMITER

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, *, config: HallConfig | None = None, clock: Clock | None = None,
               synchronous: str = "FULL", printing: bool = True) -> web.Application:
    """Build the server for one hall; raises ConfigError for a wrong hall file."""
    config = config or load_hall(settings.config)
    clock = clock or SystemClock()
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    store = Store(settings.db, synchronous=synchronous)
    bus = EventBus()
    app[SETTINGS] = settings
    app[CONFIG] = config
    app[CLOCK] = clock
    app[STORE] = store
    app[BUS] = bus
    app[QUEUE] = QueueService(store, config, clock, bus)
    app[AUTH] = StaffAuth(store, config, clock)
    app[TICKET_LIMITER] = RateLimiter(config.limits.tickets_per_minute, config.limits.ticket_burst, clock.now)
    app.cleanup_ctx.append(_database)
    app.on_shutdown.append(_close_streams)
    app.on_response_prepare.append(add_security_headers)
    app.add_routes(routes)
    app.add_routes(citizen_routes)
    app.add_routes(staff_page_routes)
    from display.web import setup_display  # the composition root is the one place rooms are wired in
    setup_display(app)
    from notifier.web import setup_notifier
    setup_notifier(app)
    if config.printers and printing:
        from printers.web import setup_printing
        setup_printing(app)
    app.router.add_static("/static/", STATIC, name="static")
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    await app[QUEUE].start()
    users = await store.reads.users()
    if not users:
        log.warning("belum ada akun petugas: buat dengan 'giliran user add NAMA --role admin --password-stdin'")
    log.info("%s: %d layanan, %d loket, database %s", app[CONFIG].hall.name, len(app[CONFIG].services),
             len(app[CONFIG].counters), store.path)
    yield
    await store.close()


async def _close_streams(app: web.Application) -> None:
    app[BUS].close()
