"""The hall display in a real headless Chromium: calls appear, zones filter, markup is escaped."""

from __future__ import annotations

import html
import re

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import hall_dict, login, take

ZONED = {
    "agencies": [{"code": "DUKCAPIL", "name": "Disdukcapil"}, {"code": "IMIGRASI", "name": "Imigrasi"}],
    "services": [{"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL"},
              {"code": "B", "name": "Kartu <img src=x onerror=alert(1)> Keluarga", "agency": "DUKCAPIL"},
              {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}],
    "counters": [{"id": "1", "name": "Loket 1", "services": ["A", "B"]},
              {"id": "2", "name": "Loket 2", "services": ["A"]},
              {"id": "3", "name": "Loket 3", "services": ["P"]}],
    "zones": [{"id": "lantai1", "name": "Lantai 1 · Dukcapil", "agencies": ["DUKCAPIL"]},
           {"id": "lantai2", "name": "Lantai 2", "counters": ["3"]}],
}


@pytest.fixture
async def served(aiohttp_server, db_at, clock):
    config = parse_hall(hall_dict(**ZONED))
    app = create_app(Settings(db=db_at("display")), config=config, clock=clock, synchronous="NORMAL")
    server = await aiohttp_server(app)
    return server


async def test_a_call_shows_on_the_display(served, browser, aiohttp_client):  # noqa: F811
    client = await aiohttp_client(served)
    headers = await login(client, "siti", "officer", ("1", "2", "3"))
    await take(client, "A")
    await take(client, "B")
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems = PageProblems(page)
    await page.goto(str(served.make_url("/display")))
    await page.wait_for_function(
        "() => window.giliranDisplay && window.giliranDisplay.connected")
    await page.wait_for_selector("#services li[data-service=A]")
    await client.post("/api/counters/2/next", headers=headers)
    await page.wait_for_function(
        "() => document.getElementById('now-number').textContent === 'A001'")
    assert await page.text_content("#now-counter") == "Loket 2"
    assert "A001" in await page.text_content("#recent")
    await page.wait_for_function(
        "() => document.querySelector('#services li[data-service=A] .wait b').textContent === '0'")
    # Markup in a service name is text, never HTML.
    b_name = await page.text_content("#services li[data-service=B] .name")
    assert b_name == "Kartu <img src=x onerror=alert(1)> Keluarga"
    assert await page.locator("#services img").count() == 0
    # The clock and date are Indonesian, in the hall's zone.
    date = await page.text_content("#date")
    assert re.match(r"^(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} (Januari|Februari|Maret|April|Mei|"
                    r"Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4}$", date), date
    # The running text changes at run time for every display.
    admin = await login(client, "adi", "admin")
    resp = await client.put("/api/display/ticker", headers=admin, json={"text": "Loket 5 <b>tutup</b> pukul 12.00"})
    assert resp.status == 200
    await page.wait_for_function(
        "() => document.getElementById('ticker-text').textContent === 'Loket 5 <b>tutup</b> pukul 12.00'")
    # The call-out was queued and spoken (chime, then espeak-ng audio or the browser's voice).
    await client.post("/api/counters/2/recall", headers=headers)
    await page.wait_for_function(
        "() => window.giliranDisplay.spoken.length >= 2", timeout=30000)
    spoken = await page.evaluate("window.giliranDisplay.spoken")
    assert spoken[:2] == ["Nomor antrean A satu, silakan menuju loket dua."] * 2, "a recall is announced again"
    await page.screenshot(path=artifact("display-1920x1080.png"))
    await page.set_viewport_size({"width": 1366, "height": 768})
    await page.screenshot(path=artifact("display-1366x768.png"))
    await page.set_viewport_size({"width": 1080, "height": 1920})
    await page.screenshot(path=artifact("display-portrait.png"))
    problems.check()
    await page.close()


async def test_a_zone_display_shows_only_its_counters(served, browser, aiohttp_client):  # noqa: F811
    client = await aiohttp_client(served)
    headers = await login(client, "sri", "supervisor")
    await take(client, "A")
    await take(client, "P")
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    problems = PageProblems(page)
    await page.goto(str(served.make_url("/display/lantai2?sound=0")))
    await page.wait_for_function(
        "() => window.giliranDisplay && window.giliranDisplay.connected")
    assert await page.text_content(".zone-name") == "Lantai 2"
    assert [await li.get_attribute("data-service") for li in await page.query_selector_all("#services li")] == ["P"]
    await client.post("/api/counters/1/next", headers=headers)  # Dukcapil, the other wing
    await client.post("/api/counters/3/next", headers=headers)  # Imigrasi, this wing
    await page.wait_for_function(
        "() => document.getElementById('now-number').textContent === 'P001'")
    assert "A001" not in await page.text_content("#recent")
    assert await page.text_content("#now-counter") == "Loket 3"
    assert await page.evaluate("window.giliranDisplay.spoken") == [], "?sound=0 mutes the display"
    problems.check()
    await page.close()
    resp = await client.get("/display/nowhere")
    assert resp.status == 404 and "Zona tampilan 'nowhere' tidak ada" in html.unescape(await resp.text())


async def test_a_stale_display_says_so_and_recovers(served, browser, aiohttp_client, monkeypatch):  # noqa: F811
    from kiosk.web import sse
    monkeypatch.setattr(sse, "HEARTBEAT_S", 3600.0)  # a server that has gone quiet: no heartbeats
    client = await aiohttp_client(served)
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    problems = PageProblems(page)
    await page.goto(str(served.make_url("/display?sound=0")))
    await page.wait_for_function(
        "() => window.giliranDisplay && window.giliranDisplay.connected")
    assert await page.is_hidden("#stale")
    # Nothing arrives for longer than the stale limit (30 s in this hall).
    await page.evaluate("() => { const real = Date.now; Date.now = () => real() + 60000; }")
    await page.wait_for_selector("#stale", state="visible", timeout=15000)
    assert "Tidak terhubung ke server" in await page.text_content("#stale")
    await take(client, "A")  # news arrives: the warning goes away
    await page.wait_for_selector("#stale", state="hidden", timeout=15000)
    await page.wait_for_timeout(2500)  # the clock ticks every second: it must stay hidden
    assert await page.is_hidden("#stale")
    problems.check()
    await page.close()
