"""Typed keys for what the application holds."""

from __future__ import annotations

from aiohttp import web

from kiosk.auth import StaffAuth
from kiosk.clock import Clock
from kiosk.domain import QueueService
from kiosk.events import EventBus
from kiosk.ratelimit import RateLimiter
from kiosk.settings import Settings
from kiosk.store import Store

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", EventBus)
QUEUE = web.AppKey("queue", QueueService)
AUTH = web.AppKey("auth", StaffAuth)
TICKET_LIMITER = web.AppKey("ticket_limiter", RateLimiter)
