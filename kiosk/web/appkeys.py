"""Typed keys for what the application holds."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from kiosk.queue.clock import Clock
from kiosk.queue.events import EventBus
from kiosk.queue.following import Following
from kiosk.queue.hall import HallService
from kiosk.queue.printing import PrintJobs
from kiosk.queue.service import QueueService
from kiosk.settings import Settings
from kiosk.staff.auth import StaffAuth
from kiosk.storage.base import Store
from kiosk.support.ratelimit import RateLimiter

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", EventBus)
QUEUE = web.AppKey("queue", QueueService)
HALL = web.AppKey("hall", HallService)
PRINTING = web.AppKey("printing", PrintJobs)
FOLLOWING = web.AppKey("following", Following)
AUTH = web.AppKey("auth", StaffAuth)
TICKET_LIMITER = web.AppKey("ticket_limiter", RateLimiter)
# Lines admins must see on the admin page (a room adds a function; e.g. an alert channel that is down).
NOTICES: web.AppKey[list[Callable[[], list[str]]]] = web.AppKey("notices", list)
