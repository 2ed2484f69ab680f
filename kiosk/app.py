"""The composition root: `create_app(settings)` is what the CLI, the tests and benchmarks start."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from kiosk.hall.config import ConfigError, HallConfig
from kiosk.hall.parse import load_hall, parse_hall
from kiosk.queue.clock import Clock, SystemClock
from kiosk.queue.events import EventBus
from kiosk.queue.hall import HALL_KEY
from kiosk.runtime import Runtime
from kiosk.settings import Settings
from kiosk.staff.auth import StaffAuth
from kiosk.storage import create_store, is_shared, shown, stored_setting_of
from kiosk.support.aio import stop_tasks
from kiosk.support.ratelimit import RateLimiter
from kiosk.web.admin import routes as admin_routes
from kiosk.web.api import routes
from kiosk.web.appkeys import AUTH, BUS, CLOCK, FOLLOWING, HALL, PRINTING, QUEUE, SETTINGS, STORE, TICKET_LIMITER
from kiosk.web.booking import setup_booking
from kiosk.web.citizen import public_url_warning
from kiosk.web.citizen import routes as citizen_routes
from kiosk.web.console_api import routes as console_routes
from kiosk.web.middlewares import add_security_headers, error_middleware
from kiosk.web.regency import routes as regency_routes
from kiosk.web.reports import routes as report_routes
from kiosk.web.simulation import setup_simulation
from kiosk.web.staff_pages import routes as staff_page_routes
from kiosk.web.survey import setup_survey
from kiosk.web.users_api import routes as users_routes
from kiosk.web.watch import setup_watch

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
STATIC = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings, *, config: HallConfig | None = None, clock: Clock | None = None,
               synchronous: str = "FULL", printing: bool = True) -> web.Application:
    """Build the server for one hall; raises ConfigError for a wrong hall file.

    The hall file (or `config`) seeds an empty database; after that the database's copy, which
    admins change at run time, is the hall.
    """
    hall = hall_id(settings, config)
    config = hall_in_use(settings, config, hall)
    clock = clock or SystemClock()
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY)
    store = create_store(settings.db, hall=hall, synchronous=synchronous)
    bus = EventBus()
    runtime = Runtime.build(store, config, clock, bus)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[STORE] = store
    app[BUS] = bus
    app[QUEUE] = runtime.queue
    app[HALL] = runtime.hall
    app[PRINTING] = runtime.printing
    app[FOLLOWING] = runtime.following
    app[AUTH] = StaffAuth(store, config, clock)
    app[TICKET_LIMITER] = RateLimiter(config.limits.tickets_per_minute, config.limits.ticket_burst, clock.now,
                                      store.buckets, "tickets")

    async def follow_limits(old: HallConfig, new: HallConfig) -> None:
        app[TICKET_LIMITER].configure(new.limits.tickets_per_minute, new.limits.ticket_burst)
        app[AUTH].configure(new)
    app[HALL].on_reconfigure(follow_limits)
    app.cleanup_ctx.append(_database)
    app.on_shutdown.append(_close_streams)
    app.on_response_prepare.append(add_security_headers)
    app.add_routes(routes)
    app.add_routes(citizen_routes)
    app.add_routes(console_routes)
    app.add_routes(staff_page_routes)
    setup_simulation(app)  # before admin's /admin/{section}
    app.add_routes(admin_routes)
    app.add_routes(users_routes)
    app.add_routes(regency_routes)
    app.add_routes(report_routes)
    setup_survey(app)
    setup_watch(app, app[QUEUE], bus)
    setup_booking(app, runtime.bookings)  # the online queue (docs/booking.md)
    from display.web import setup_display  # the composition root is the one place rooms are wired in
    setup_display(app)
    from notifier.web import setup_notifier
    setup_notifier(app)
    from notifier.survey_chat import setup_survey_chat
    setup_survey_chat(app)  # after the notifier: its hook follows the alert policy's
    from notifier.sla import setup_sla
    setup_sla(app)
    if printing:
        from printers.web import setup_printing
        setup_printing(app)
    app.router.add_static("/static/", STATIC, name="static")
    return app


def hall_id(settings: Settings, seed: HallConfig | None = None) -> str | None:
    """Which hall of a shared database this is: --hall / GILIRAN_HALL, else the hall file's (or
    `seed`'s) `[hall] id` if it has one; None leaves it to the database URL (`?hall=`) or the default
    hall. An SQLite file holds one hall and needs no name."""
    if settings.hall:
        return settings.hall
    if not is_shared(settings.db):
        return None
    config = seed if seed is not None else load_hall(settings.config)
    named = config.raw.get("hall", {}).get("id")
    return str(named) if named else None


def hall_in_use(settings: Settings, seed: HallConfig | None = None, hall: str | None = None) -> HallConfig:
    """The database's hall document if it has one, else the hall file (or `seed`)."""
    try:
        stored = stored_setting_of(settings.db, HALL_KEY, hall=hall)
    except ValueError as exc:  # a hall id the URL and the file disagree on
        raise ConfigError(str(exc)) from None
    if stored is not None:
        try:
            return parse_hall(json.loads(stored), f"{shown(settings.db, hall)} (hall kept in the database)")
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{exc}; fix it on the admin pages or replace it: giliran hall import FILE") from None
    return seed or load_hall(settings.config)


async def _database(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    await app[HALL].start()
    users = await store.reads.users()
    if not users:
        log.warning("belum ada akun petugas: buat dengan 'giliran user add NAMA --role admin --password-stdin'")
    follower = asyncio.get_running_loop().create_task(app[HALL].follow(app[BUS]), name="hall-follow")
    config = app[QUEUE].config
    log.info("%s: %d layanan, %d loket, database %s", config.hall.name, len(config.services),
             len(config.counters), store.path)
    if warning := public_url_warning(config):
        log.warning("%s", warning)
    yield
    await stop_tasks([follower])
    await store.close()


async def _close_streams(app: web.Application) -> None:
    app[BUS].close()
