"""The bundled demo hall (MPP Purwakarta at its planned size: 100+ services, two floors) for the
browser tests of the pages at the real size; the small hall in conftest.py stays for domain tests."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from kiosk.app import create_app
from kiosk.hall.config import DEMO_HALL, HallConfig
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.web.appkeys import AUTH, QUEUE
from tests.conftest import PASSWORD


def demo_doc() -> dict[str, Any]:
    """The demo hall's document, to adjust for one test."""
    return copy.deepcopy(tomllib.loads(DEMO_HALL.read_text(encoding="utf-8")))


def demo_config(**changes: Any) -> HallConfig:
    """The demo hall with sections replaced (e.g. kiosks=[...]); flood limits off for tests."""
    doc = demo_doc() | {"limits": {"tickets_per_minute": 100000, "ticket_burst": 100000}} | changes
    return parse_hall(doc, "demo-hall")


@pytest.fixture
def demo_server(aiohttp_server, db_at, tmp_path, clock):
    """A server of the demo hall (or of `demo_config(**changes)`) on a fresh database."""
    async def make(config: HallConfig | None = None):
        app = create_app(Settings(db=db_at("demo"), var=tmp_path), config=config or demo_config(), clock=clock,
                         synchronous="NORMAL")
        return await aiohttp_server(app)
    return make


async def staff_page(browser, server, username: str, role: str, counters: tuple[str, ...] = (),
                     viewport: tuple[int, int] = (1366, 768)):
    """A browser context logged in as a new staff user (through the login form), and its page."""
    app = server.app
    await app[AUTH].add_user(username, PASSWORD, role, counters, app[QUEUE].config)
    context = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = await context.new_page()
    await page.goto(str(server.make_url("/staff/login")))
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff")
    return context, page
