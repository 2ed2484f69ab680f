"""The touch kiosk in a real headless Chromium, at the MPP's real size (the demo hall: 109 services of
22 agencies): agency tiles on one screen, three taps to any ticket, the search on the kiosk's own
keyboard, the phone on its own keypad, back to the start from any step, Indonesian errors."""

from __future__ import annotations

import pytest

from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.demo_hall import demo_config, demo_doc, demo_server  # noqa: F401 - the fixture

SIZES = (({"width": 1080, "height": 1920}, "portrait"), ({"width": 1920, "height": 1080}, "landscape"))


def kiosks(reset_after_s: float = 45, printer: str | None = "P1") -> list[dict]:
    return [{"id": "K1", "name": "Kios Lobi Utama", "reset_after_s": reset_after_s}
            | ({"printer": printer} if printer else {})]


async def inside(page, selector: str) -> bool:
    """Whether the element is wholly on screen (no scrolling needed)."""
    return await page.evaluate("""(s) => { const r = document.querySelector(s).getBoundingClientRect();
        return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }""", selector)


async def tap_keys(page, text: str) -> None:
    """Type on the kiosk's own keyboard, one key at a time, as a finger would."""
    for char in text:
        await page.click(f"#keyboard .key[data-key='{' ' if char == ' ' else char}']")


async def test_every_service_is_three_taps_away(demo_server, browser):  # noqa: F811
    config = demo_config()
    server = await demo_server(config)
    for size, name in SIZES:
        page = await browser.new_page(viewport=size)
        problems = PageProblems(page)
        await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
        tiles = page.locator(".tile")
        assert await tiles.count() == len(config.agencies) == 22
        await page.wait_for_function("() => window.giliranKiosk.services.length > 100")
        for i in range(await tiles.count()):  # every agency on the first screen, large, with its pictogram
            tile = tiles.nth(i)
            box = await tile.bounding_box()
            assert box["y"] + box["height"] <= size["height"] and box["height"] >= 96, (name, i, box)
            assert await tile.locator("img").evaluate("(img) => img.naturalWidth > 0")
        assert await inside(page, "#open-search")
        assert await page.locator("a[href]").count() == 0, "no links out of the kiosk"
        await page.screenshot(path=artifact(f"kiosk-{name}-start.png"))
        for agency in config.agencies:  # tap 1: the agency; its services all on one screen
            await page.click(f".tile[data-agency={agency.code}]")
            await page.wait_for_selector("#step-agency:not([hidden])")
            shown = await page.eval_on_selector_all("#agency-services .service-btn", "(bs) => bs.map(b => b.dataset.service)")
            assert shown == [s.code for s in config.services if s.agency == agency.code], agency.code
            for code in shown:
                assert await inside(page, f".service-btn[data-service={code}]"), (name, code)
            if agency.code == "IMIGRASI":
                assert await page.is_disabled(".service-btn[data-service=PM]"), "Pengambilan Paspor opens at 13:00"
                assert "Tutup" in await page.text_content(".service-btn[data-service=PM] .why")
                await page.screenshot(path=artifact(f"kiosk-{name}-agency.png"))
            await page.click("#step-agency .back")
        # Tap 1, 2, 3: agency, service, "not priority" -> the number on screen.
        await page.click(".tile[data-agency=KEMENAG]")
        await page.click(".service-btn[data-service=HJ]")
        await page.wait_for_selector("#step-priority:not([hidden])")
        await page.screenshot(path=artifact(f"kiosk-{name}-priority.png"))
        await page.locator(".choice[data-priority=lansia]").dblclick()  # a double tap: one ticket
        await page.wait_for_selector("#step-ticket:not([hidden])")
        assert await page.text_content("#t-number") in ("HJ001", "HJ002")
        assert "Prioritas" in await page.text_content("#t-service")
        assert await page.text_content("#t-zone") == "Tunggu panggilan di Lantai 1 · Zona B · Perizinan, Pertanahan dan Keagamaan"
        assert "dicetak" in await page.text_content("#t-print")
        assert await page.locator("#phone-form").count() == 0, "no SMS offered: the demo hall has no SMS gateway"
        await page.wait_for_function("() => document.getElementById('t-qr').naturalWidth > 0")
        await page.screenshot(path=artifact(f"kiosk-{name}-ticket.png"))
        problems.check()
        await page.close()


async def test_search_on_the_kiosks_own_keyboard(demo_server, browser):  # noqa: F811
    server = await demo_server()
    page = await browser.new_page(viewport={"width": 1080, "height": 1920})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await page.click("#open-search")
    await page.wait_for_selector("#step-search:not([hidden])")
    assert await page.get_attribute("#search", "inputmode") == "none", "no system keyboard pops up"
    for key in await page.locator("#keyboard .key").all():  # large keys, all on screen
        box = await key.bounding_box()
        assert box["height"] >= 64 and box["width"] >= 60 and box["y"] + box["height"] <= 1920, box

    async def results() -> list[str]:
        await page.wait_for_function("() => window.giliranKiosk.answered === document.getElementById('search').value")
        return await page.eval_on_selector_all("#search-results .service-btn", "(bs) => bs.map(b => b.dataset.service)")

    for typed, first in (("kk", "B"), ("akte lahir", "C"), ("stnk", "PK"), ("e-ktp", "A"), ("perpanjang sim", "SI"),
                         ("pasport", "PB")):
        await page.click("#keyboard .key[data-key=clear]")
        await tap_keys(page, typed)
        found = await results()
        assert found and found[0] == first, (typed, found)
        if typed == "stnk":
            assert {"PK", "PL", "BN", "MK"} <= set(found)
            await page.screenshot(path=artifact("kiosk-portrait-search.png"))
    await page.click("#keyboard .key[data-key=backspace]")
    assert await page.input_value("#search") == "paspor"
    await page.click("#search-results .service-btn[data-service=PB]")  # a result is tapped like a service
    await page.wait_for_selector("#step-priority:not([hidden])")
    assert "Paspor Baru" in await page.text_content("#chosen-service")
    problems.check()
    await page.close()


@pytest.mark.parametrize("step", ["priority", "search", "ticket"])
async def test_the_kiosk_returns_to_the_start_from_any_step(demo_server, browser, step):  # noqa: F811
    server = await demo_server(demo_config(kiosks=kiosks(reset_after_s=6)))
    page = await browser.new_page(viewport={"width": 1080, "height": 1920})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    if step == "search":
        await page.click("#open-search")
        await tap_keys(page, "ktp")
    else:
        await page.click(".tile[data-agency=DUKCAPIL]")
        await page.click(".service-btn[data-service=B]")
        if step == "ticket":
            await page.click(".choice.normal")
            await page.wait_for_selector("#step-ticket:not([hidden])")
    # A citizen walks away: a countdown shows, then the start screen comes back, empty.
    if step == "ticket":
        await page.wait_for_function("() => Number(document.getElementById('countdown').textContent) <= 4")
    else:
        await page.wait_for_selector("#idle:not([hidden])", timeout=10000)
        count = int(await page.text_content("#idle-count"))
        assert 1 <= count <= 3, count
        await page.screenshot(path=artifact(f"kiosk-portrait-countdown-{step}.png"))
    await page.wait_for_selector("#step-start:not([hidden])", timeout=10000)
    state = await page.evaluate("({chosen: window.giliranKiosk.chosen, resets: window.giliranKiosk.resets})")
    assert state == {"chosen": None, "resets": 1}
    assert await page.input_value("#search") == "" and await page.is_hidden("#idle")
    # A touch keeps the screen: the next citizen's choice is not cut short.
    await page.click(".tile[data-agency=DUKCAPIL]")
    for _ in range(4):
        await page.wait_for_timeout(1000)
        await page.mouse.click(5, 400)
    assert await page.is_visible("#step-agency")
    problems.check()
    await page.close()


async def test_phone_on_the_keypad_when_the_hall_has_an_sms_gateway(demo_server, browser):  # noqa: F811
    server = await demo_server(demo_config(sms={"provider": "http", "base_url": "http://127.0.0.1:9"}))
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems = PageProblems(page)
    problems.expect("/phone")  # the wrong number below is refused with 422, on purpose
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await page.click(".tile[data-agency=SAMSAT]")
    await page.click(".service-btn[data-service=PK]")
    await page.click(".choice.normal")
    await page.wait_for_selector("#step-ticket:not([hidden])")
    assert await page.get_attribute("#phone", "inputmode") == "none"
    for key in await page.locator("#keypad .key").all():
        assert (await key.bounding_box())["height"] >= 64
    for digit in "12345":
        await page.click(f"#keypad .key[data-key='{digit}']")
    await page.click("#phone-form button[type=submit]")
    await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tidak valid')")
    await page.click("#keypad .key[data-key=clear]")
    for digit in "081234567890":
        await page.click(f"#keypad .key[data-key='{digit}']")
    assert await page.input_value("#phone") == "081234567890"
    await page.click("#phone-form button[type=submit]")
    await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tersimpan')")
    await page.screenshot(path=artifact("kiosk-landscape-phone.png"))
    problems.check()
    await page.close()


async def test_a_network_failure_is_said_in_indonesian(demo_server, browser):  # noqa: F811
    server = await demo_server()
    context = await browser.new_context(viewport={"width": 1080, "height": 1920})
    page = await context.new_page()
    problems = PageProblems(page)
    problems.expect("/api/")  # requests fail on purpose while the network is down
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await page.click(".tile[data-agency=DUKCAPIL]")
    await page.click(".service-btn[data-service=A]")
    await context.set_offline(True)
    await page.click(".choice.normal")
    await page.wait_for_selector("#error:not([hidden])")
    message = await page.text_content("#error")
    assert "Tidak dapat terhubung ke server antrean" in message and "fetch" not in message.lower(), message
    await context.set_offline(False)
    problems.check()
    await context.close()


async def test_a_ticket_the_printer_could_not_print_is_said_so(demo_server, browser):  # noqa: F811
    doc = demo_doc()
    printers = [{"id": "P9", "driver": "network", "host": "127.0.0.1", "port": 9, "profile": "TM-T88V",
                 "timeout_s": 1, "confirm_wait_s": 0.5, "retry_max_s": 1}]
    server = await demo_server(demo_config(printers=doc["printers"] + printers, kiosks=kiosks(printer="P9")))
    page = await browser.new_page(viewport={"width": 1080, "height": 1920})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await page.click(".tile[data-agency=DUKCAPIL]")
    await page.click(".service-btn[data-service=A]")
    await page.click(".choice.normal")
    await page.wait_for_selector("#step-ticket:not([hidden])")
    text = await page.text_content("#t-print")
    assert "tidak dicetak" in text and "petugas loket dapat mencetaknya" in text, text
    await page.screenshot(path=artifact("kiosk-portrait-unprinted.png"))
    problems.check()
    await page.close()


async def test_a_kiosk_bound_to_a_key_sends_it(aiohttp_server, db_at, tmp_path, clock, browser):  # noqa: F811
    """A kiosk opened at /kiosk?kiosk=K1#key=... keeps the key (also after a reload, when the address
    no longer shows it) and sends it with every ticket; the same page without the key is refused in
    Indonesian and no ticket is issued."""
    from kiosk.app import create_app
    from kiosk.settings import Settings

    key = "kunci-kios-lobi-" + "x" * 16
    app = create_app(Settings(db=db_at("keyed"), var=tmp_path, kiosk_keys={"K1": key}), config=demo_config(),
                     clock=clock, synchronous="NORMAL")
    server = await aiohttp_server(app)

    async def take(page) -> None:
        await page.click(".tile[data-agency=DUKCAPIL]")
        await page.click(".service-btn[data-service=A]")
        await page.click(".choice.normal")

    stranger = await browser.new_context(viewport={"width": 1080, "height": 1920})
    page = await stranger.new_page()
    problems = PageProblems(page)
    problems.expect("/api/tickets")  # refused with 403 on purpose
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")))
    await take(page)
    await page.wait_for_selector("#error:not([hidden])")
    assert "bukan Kios Lobi Utama" in await page.text_content("#error")
    problems.check()
    await stranger.close()

    context = await browser.new_context(viewport={"width": 1080, "height": 1920})
    page = await context.new_page()
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/kiosk?kiosk=K1")) + f"#key={key}")
    assert "key=" not in page.url, "the key leaves the address bar"
    await take(page)
    await page.wait_for_selector("#step-ticket:not([hidden])")
    assert (await page.text_content("#t-number")).strip() == "A001"
    await page.reload()  # the kiosk reloads itself when the hall changes: the key stays
    await take(page)
    await page.wait_for_selector("#step-ticket:not([hidden])")
    assert (await page.text_content("#t-number")).strip() == "A002"
    problems.check()
    await context.close()
