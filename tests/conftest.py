"""Shared fixtures: a small test hall, a movable clock, the app and a logged-in staff client."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.app import create_app
from kiosk.hall.config import HallConfig
from kiosk.hall.parse import parse_hall
from kiosk.queue.clock import FakeClock
from kiosk.queue.events import EventBus
from kiosk.queue.service import QueueService
from kiosk.runtime import Runtime
from kiosk.settings import Settings
from kiosk.storage import Store, create_store
from kiosk.web.appkeys import AUTH, QUEUE

WIB = ZoneInfo("Asia/Jakarta")
PASSWORD = "rahasia-123"


def hall_dict(**overrides: Any) -> dict[str, Any]:
    """A small hall: services A (quota 5), B, P (morning only), ten counters."""
    doc: dict[str, Any] = {
        "hall": {"name": "MPP Uji <b>Coba</b>", "timezone": "Asia/Jakarta", "public_url": "http://hall.test"},
        "queue": {"priority_max_in_row": 2, "default_service_minutes": 5},
        "limits": {"tickets_per_minute": 100000, "ticket_burst": 100000},
        "agencies": [{"code": "DUKCAPIL", "name": "Disdukcapil"}, {"code": "IMIGRASI", "name": "Imigrasi"}],
        "services": [
            {"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL", "daily_quota": 5},
            {"code": "B", "name": "Kartu Keluarga", "agency": "DUKCAPIL"},
            {"code": "P", "name": "Paspor", "agency": "IMIGRASI", "hours": "08:00-12:00"},
        ],
        "counters": [{"id": "1", "name": "Loket 1", "services": ["A", "B"]},
                     {"id": "2", "name": "Loket 2", "services": ["A"]},
                     {"id": "3", "name": "Loket 3", "services": ["P"]}]
        + [{"id": str(i), "name": f"Loket {i}", "services": ["A", "B"]} for i in range(4, 11)],
        # A preview printer writes under the database's folder (the test's tmp_path).
        "printers": [{"id": "PV", "driver": "preview", "profile": "TM-T88V"}],
        "kiosks": [{"id": "KV", "name": "Kios Uji", "printer": "PV"}],
    }
    doc.update(overrides)
    return doc


def wib(*args: int) -> datetime:
    """An aware datetime in the hall's zone."""
    return datetime(*args, tzinfo=WIB)


@pytest.fixture
def config() -> HallConfig:
    return parse_hall(hall_dict(), "test-hall.toml")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wib(2026, 11, 25, 9, 0))


@pytest.fixture
async def runtime_factory(tmp_path: Path, clock: FakeClock):
    """Builds a hall's services on fresh databases; closes them all afterwards."""
    stores: list[Store] = []

    async def make(config: HallConfig) -> Runtime:
        store = create_store(tmp_path / f"q{len(stores)}.sqlite3", synchronous="NORMAL")
        stores.append(store)
        await store.open()
        runtime = Runtime.build(store, config, clock, EventBus())
        await runtime.start()
        return runtime

    yield make
    for store in stores:
        await store.close()


@pytest.fixture
def queue_factory(runtime_factory):
    """Builds queue services on fresh databases."""
    async def make(config: HallConfig) -> QueueService:
        return (await runtime_factory(config)).queue
    return make


@pytest.fixture
async def runtime(runtime_factory, config: HallConfig) -> Runtime:
    return await runtime_factory(config)


@pytest.fixture
async def queue(runtime: Runtime) -> QueueService:
    return runtime.queue


@pytest.fixture
def app(tmp_path: Path, config: HallConfig, clock: FakeClock):
    return create_app(Settings(db=tmp_path / "app.sqlite3"), config=config, clock=clock, synchronous="NORMAL")


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app)


@pytest.fixture
def client_for(aiohttp_client, tmp_path: Path, clock: FakeClock):
    """A client of a server for a hall built from `hall_dict(**overrides)`."""
    async def make(**overrides: Any):
        config = parse_hall(hall_dict(**overrides), "test-hall.toml")
        app = create_app(Settings(db=tmp_path / "custom.sqlite3"), config=config, clock=clock,
                         synchronous="NORMAL")
        return await aiohttp_client(app)
    return make


async def login(client, username: str, role: str, counters: tuple[str, ...] = ()) -> dict[str, str]:
    """Create a user and return the Authorization header of a fresh session."""
    app = client.server.app
    await app[AUTH].add_user(username, PASSWORD, role, counters, app[QUEUE].config)
    resp = await client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


@pytest.fixture
async def admin(client) -> dict[str, str]:
    return await login(client, "admin", "admin")


async def take(client, service: str = "A", **extra: Any) -> dict[str, Any]:
    """Take a ticket through the API, expecting 201."""
    resp = await client.post("/api/tickets", json={"service": service, **extra})
    assert resp.status == 201, await resp.text()
    return await resp.json()
