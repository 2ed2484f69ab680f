"""The hall display in a real headless Chromium: calls appear, zones filter, markup is escaped."""

from __future__ import annotations

import html
import re

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.web.appkeys import QUEUE
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
    await page.wait_for_selector("#services li")
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


# --- at the real size (the demo hall) -----------------------------------------------------------------
from tests.demo_hall import demo_config, demo_doc, demo_server  # noqa: E402,F401 - the fixture

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8"
                    "cfc0f01f0005000201e2d3b1e40000000049454e44ae426082")  # a 1x1 picture


async def test_the_hall_display_holds_any_name_and_whole_rows(demo_server, browser, aiohttp_client):  # noqa: F811
    doc = demo_doc()
    doc["counters"][8]["name"] = "Loket 9 Imigrasi (Lantai 1)"
    # As long as a name may be (120 characters once names are checked, see issue 15).
    doc["counters"][9]["name"] = ("Loket 10 Perizinan Berusaha, Persetujuan Bangunan Gedung, Reklame, Tata Ruang "
                                  "dan Lingkungan (Lantai 1, Zona B)")
    server = await demo_server(demo_config(counters=doc["counters"]))
    client = await aiohttp_client(server)
    officer = await login(client, "siti", "supervisor")
    for code in ("NB", "NB", "BG", "A", "B", "C", "D", "SK", "PB", "PK", "JD"):
        await take(client, code)
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/display?sound=0")))
    await page.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.connected")
    # Before the first call: no "---" and no dangling "silakan menuju".
    assert await page.is_visible("#now-idle") and await page.is_hidden(".now-to")
    assert "---" not in await page.text_content(".now")
    await page.screenshot(path=artifact("display-1920x1080-before-first-call.png"))

    async def inside_panel(selector: str) -> bool:
        return await page.evaluate("""(s) => { const e = document.querySelector(s).getBoundingClientRect();
            const p = document.querySelector('.now').getBoundingClientRect();
            return e.left >= p.left - 1 && e.right <= p.right + 1 && e.top >= p.top - 1 && e.bottom <= p.bottom + 1
                   && document.querySelector(s).scrollWidth <= document.querySelector(s).clientWidth + 1; }""", selector)

    for counter, name in (("9", "Loket 9 Imigrasi (Lantai 1)"), ("10", doc["counters"][9]["name"])):
        await client.post(f"/api/counters/{counter}/next", headers=officer)
        await page.wait_for_function(f"() => document.getElementById('now-counter').textContent === {name!r}")
        await page.wait_for_timeout(100)
        for part in ("#now-number", "#now-counter", "#now-service", ".now .label"):
            assert await inside_panel(part), (counter, part)
        number_size = await page.eval_on_selector("#now-number", "(e) => parseFloat(getComputedStyle(e).fontSize)")
        assert number_size >= 180, "the number stays huge; only the name gives way"
    await page.screenshot(path=artifact("display-1920x1080-long-counter-name.png"))
    # More calls than the panel holds: only whole rows; a recall moves its number up, never a new row.
    for counter in ("1", "2", "4", "5", "20", "7", "17", "32"):
        await client.post(f"/api/counters/{counter}/next", headers=officer)
    for _ in range(3):
        await client.post("/api/counters/9/recall", headers=officer)
    await page.wait_for_function("() => window.giliranDisplay.recent.length >= 10 && "
                                 "document.querySelector('#recent li').textContent.startsWith('NB001')")
    await page.wait_for_timeout(200)
    rows = await page.evaluate("""() => { const list = document.getElementById('recent').getBoundingClientRect();
        return [...document.querySelectorAll('#recent li')].map(li => { const r = li.getBoundingClientRect();
            return [li.querySelector('.num').textContent, r.top >= list.top - 1 && r.bottom <= list.bottom + 1]; }); }""")
    numbers = [n for n, _ in rows]
    assert all(whole for _, whole in rows), rows
    assert len(numbers) == len(set(numbers)) and numbers[0] == "NB001" and len(numbers) >= 4, numbers
    assert await page.text_content("#recent li:first-child .tag") == "Lt 1 · Zona B", "where the counter is"
    # Services turn a page at a time, one zone per page, named.
    assert await page.text_content("#services-zone") == "Lt 1 · Zona A"
    # Disconnected: the notice never covers the clock.
    await page.evaluate("() => { const real = Date.now; Date.now = () => real() + 120000; }")
    await page.wait_for_selector("#stale", state="visible", timeout=15000)
    overlap = await page.evaluate("""() => { const a = document.getElementById('stale').getBoundingClientRect();
        const b = document.querySelector('.clock').getBoundingClientRect();
        return !(a.bottom <= b.top || a.top >= b.bottom || a.right <= b.left || a.left >= b.right); }""")
    assert not overlap
    await page.screenshot(path=artifact("display-1920x1080-disconnected.png"))
    problems.check()
    await page.close()


async def test_the_playlist_plays_what_admins_upload(demo_server, browser, aiohttp_client):  # noqa: F811
    from tests.demo_hall import staff_page

    server = await demo_server()
    context, admin = await staff_page(browser, server, "adi", "admin")
    problems = PageProblems(admin)
    display = await browser.new_page(viewport={"width": 1920, "height": 1080})
    display_problems = PageProblems(display)
    await display.goto(str(server.make_url("/display?sound=0")))
    await display.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.connected")
    assert await display.is_hidden("#media")
    await admin.goto(str(server.make_url("/admin/tayangan")))
    await admin.set_input_files("#media-file", files=[{"name": "Jadwal Layanan!.png", "mimeType": "image/png",
                                                      "buffer": PNG}])
    await admin.get_by_role("button", name="Unggah dan tayangkan").click()
    await admin.wait_for_selector("text=Tayangan ditambahkan")
    (name,) = server.app[QUEUE].config.display.playlist
    assert name.startswith("jadwal-layanan-") and name.endswith(".png")
    await display.wait_for_selector("#media:not([hidden]) img.media-item")
    assert await display.get_attribute("#media img", "src") == f"/display-media/{name}"
    await display.wait_for_function("() => document.querySelector('#media img').naturalWidth === 1")
    await display.screenshot(path=artifact("display-1920x1080-playlist.png"))
    # Something that is no picture or video is refused, in Indonesian; the playlist stays.
    problems.expect("/admin/tayangan")
    await admin.set_input_files("#media-file", files=[{"name": "virus.png", "mimeType": "image/png",
                                                      "buffer": b"MZ\x90\x00 not a picture"}])
    await admin.get_by_role("button", name="Unggah dan tayangkan").click()
    assert "Berkas harus gambar" in await admin.text_content("#form-error")
    await admin.goto(str(server.make_url("/admin/tayangan")))
    await admin.screenshot(path=artifact("admin-tayangan.png"), full_page=True)
    await admin.get_by_role("button", name=f"Hapus {name}").click()
    await display.wait_for_selector("#media", state="hidden")
    assert (await (await aiohttp_client(server)).get(f"/display-media/{name}")).status == 404
    problems.check()
    display_problems.check()
    await context.close()
    await display.close()
