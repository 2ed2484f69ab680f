"""Typed keys for what the application holds."""

from __future__ import annotations

from aiohttp import web

from kiosk.staff.auth import StaffAuth
from kiosk.queue.clock import Clock
from kiosk.queue.service import QueueService
from kiosk.queue.events import EventBus
from kiosk.support.ratelimit import RateLimiter
from kiosk.settings import Settings
from kiosk.storage.sqlite import Store

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", EventBus)
QUEUE = web.AppKey("queue", QueueService)
AUTH = web.AppKey("auth", StaffAuth)
TICKET_LIMITER = web.AppKey("ticket_limiter", RateLimiter)
