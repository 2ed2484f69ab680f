"""The touch kiosk in a real headless Chromium: take a number, see it, double taps, closed services."""

from __future__ import annotations

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import hall_dict, wib


@pytest.fixture
async def served(aiohttp_server, db_at, clock):
    clock.set(wib(2026, 11, 25, 13, 0))  # Paspor (08:00-12:00) is closed now
    config = parse_hall(hall_dict(kiosks=[{"id": "KV", "name": "Kios Lobi", "printer": "PV", "reset_after_s": 5}]))
    app = create_app(Settings(db=db_at("kiosk")), config=config, clock=clock, synchronous="NORMAL")
    return await aiohttp_server(app)


async def test_take_a_number_at_the_kiosk(served, browser, aiohttp_client):  # noqa: F811
    client = await aiohttp_client(served)
    for size, name in (({"width": 1080, "height": 1920}, "portrait"), ({"width": 1920, "height": 1080}, "landscape")):
        page = await browser.new_page(viewport=size)
        problems = PageProblems(page)
        await page.goto(str(served.make_url("/kiosk?kiosk=KV")))
        await page.wait_for_selector(".service-btn[data-service=A]")
        assert await page.is_disabled(".service-btn[data-service=P]")
        assert "Tutup" in await page.text_content(".service-btn[data-service=P] .why")
        box = await page.locator(".service-btn[data-service=A]").bounding_box()
        assert box["height"] >= 64, "large touch targets"
        assert await page.locator("a[href]").count() == 0, "no links out of the kiosk"
        await page.screenshot(path=artifact(f"kiosk-{name}-start.png"))
        await page.fill("#search", "keluarga")
        assert await page.locator(".service-btn").count() == 1
        await page.fill("#search", "")
        await page.click(".service-btn[data-service=A]")
        await page.wait_for_selector("#step-priority:not([hidden])")
        # A double tap on the choice: one ticket.
        await page.locator(".choice[data-priority=lansia]").dblclick()
        await page.wait_for_selector("#step-ticket:not([hidden])")
        number = await page.text_content("#t-number")
        assert number in ("A001", "A002")
        assert "Prioritas" in await page.text_content("#t-service")
        assert "dicetak" in await page.text_content("#t-print")
        await page.wait_for_function("() => document.getElementById('t-qr').naturalWidth > 0")
        await page.screenshot(path=artifact(f"kiosk-{name}-ticket.png"))
        problems.expect("/phone")  # the wrong number below is refused with 422, on purpose
        await page.fill("#phone", "12345")
        await page.click("#phone-form button")
        await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tidak valid')")
        await page.fill("#phone", "0812 3456 7890")
        await page.click("#phone-form button")
        await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tersimpan')")
        # The screen returns to the start by itself.
        await page.wait_for_selector("#step-service:not([hidden])", timeout=15000)
        problems.check()
        await page.close()
    services = {s["code"]: s for s in await (await client.get("/api/services")).json()}
    assert services["A"]["waiting"] == 2, "two kiosk sessions, two tickets, despite the double taps"
