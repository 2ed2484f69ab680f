"""Shared fixtures: a small test hall, a movable clock, the app and a logged-in staff client."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
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

# Which store the suite runs on: GILIRAN_TEST_DB unset or "sqlite" (the default), "postgresql" (a
# throwaway cluster started for the session, or the server in GILIRAN_PG_DSN), or a postgresql:// URL.
TEST_DB = os.environ.get("GILIRAN_TEST_DB", "sqlite").strip() or "sqlite"
ON_POSTGRES = TEST_DB != "sqlite"
_halls = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about the SQLite store itself (skipped on PostgreSQL)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        skip = pytest.mark.skip(reason="about the SQLite store itself")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    return f"giliran store: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL database for the session's halls: a fresh database on the server named by
    GILIRAN_TEST_DB / GILIRAN_PG_DSN, or on a cluster started here; dropped at the end."""
    import asyncio
    import secrets

    import asyncpg

    from tests.pgcluster import Cluster, server_binaries
    cluster = None
    server = TEST_DB if "://" in TEST_DB else os.environ.get("GILIRAN_PG_DSN")
    if not server:
        if server_binaries() is None:
            pytest.skip("PostgreSQL is not installed and GILIRAN_PG_DSN is not set")
        cluster = Cluster()
        cluster.start()
        server = cluster.url()
    name = f"giliran_t{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        if cluster is not None:
            cluster.destroy()
        else:
            asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(autouse=ON_POSTGRES)
def _files_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On PostgreSQL a server keeps its files (print previews, speech) in var/: the test's folder here."""
    import kiosk.settings
    monkeypatch.setattr(kiosk.settings, "DEFAULT_VAR", tmp_path)
    monkeypatch.setenv("GILIRAN_VAR", str(tmp_path))  # and servers started in a subprocess


def wipe(db: str | Path) -> None:
    """Empty a test database for the next example of a property test (cheaper than a new one)."""
    if isinstance(db, Path):
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)
        return
    import asyncio

    import asyncpg

    from kiosk.storage.postgres.dsn import locate
    where = locate(db)

    async def truncate() -> None:
        conn = await asyncpg.connect(where.dsn)
        try:
            tables = [r[0] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_version'",
                where.schema)]
            if tables:
                await conn.execute(f"TRUNCATE {', '.join(f'{where.schema}.{t}' for t in tables)} RESTART IDENTITY")
        finally:
            await conn.close()
    asyncio.run(truncate())


def query(db: str | Path, sql: str) -> list[tuple]:
    """Rows of a read-only statement on a test's database, whichever store holds it."""
    if isinstance(db, Path):
        import sqlite3
        from contextlib import closing
        with closing(sqlite3.connect(db)) as conn:
            return conn.execute(sql).fetchall()
    import asyncio
    import threading

    import asyncpg

    from kiosk.storage.postgres.dsn import locate
    where = locate(db)
    found: list[list[tuple]] = []

    async def fetch() -> None:
        conn = await asyncpg.connect(where.dsn, server_settings={"search_path": where.schema})
        try:
            found.append([tuple(r) for r in await conn.fetch(sql)])
        finally:
            await conn.close()
    # A loop of its own in a thread: the callers are synchronous, inside the test's running loop.
    thread = threading.Thread(target=lambda: asyncio.run(fetch()))
    thread.start()
    thread.join()
    return found[0]


@pytest.fixture
def db_at(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str | Path]:
    """A test's databases by name: an SQLite file in tmp_path, or (on PostgreSQL) a hall of its own
    in the session's database. The same name gives the same database within a test."""
    if not ON_POSTGRES:
        return lambda name: tmp_path / (name if "." in name else f"{name}.sqlite3")
    server = request.getfixturevalue("pg_server")
    test = next(_halls)
    return lambda name: f"{server}?hall=t{test}-{re.sub(r'[^a-z0-9]+', '-', name.lower().split('.')[0]).strip('-')[:24]}"


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
async def runtime_factory(db_at, clock: FakeClock):
    """Builds a hall's services on fresh databases; closes them all afterwards."""
    stores: list[Store] = []

    async def make(config: HallConfig) -> Runtime:
        store = create_store(db_at(f"q{len(stores)}"), synchronous="NORMAL")
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
def app(db_at, config: HallConfig, clock: FakeClock):
    return create_app(Settings(db=db_at("app")), config=config, clock=clock, synchronous="NORMAL")


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app)


@pytest.fixture
def client_for(aiohttp_client, db_at, clock: FakeClock):
    """A client of a server for a hall built from `hall_dict(**overrides)`."""
    async def make(**overrides: Any):
        config = parse_hall(hall_dict(**overrides), "test-hall.toml")
        app = create_app(Settings(db=db_at("custom")), config=config, clock=clock,
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
