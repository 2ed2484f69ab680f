"""The citizen's ticket page on a phone-sized headless Chromium: live state, the call, SMS, cancel."""

from __future__ import annotations

from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import login, take


async def test_the_ticket_page_follows_the_queue_live(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    staff = await login(client, "siti", "officer", ("2",))
    await take(client, "A")
    mine = await take(client, "A", phone="0857 1111 2299")
    page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    problems = PageProblems(page)
    response = await page.goto(str(server.make_url(f"/t/{mine['token']}")))
    assert len(await response.body()) < 100_000
    assert await page.text_content("#ahead") == "1"
    assert "2299" not in await page.content() and "1111" not in await page.content(), "never the phone"
    await page.wait_for_function("() => window.giliranTicket.refreshes >= 1")
    await client.post("/api/counters/2/next", headers=staff)  # the one ahead
    await page.wait_for_function("() => document.getElementById('ahead').textContent === '0'")
    await client.post("/api/counters/2/next", headers=staff)  # mine
    await page.wait_for_selector("#called:not([hidden])")
    assert await page.text_content("#called-counter") == "Loket 2"
    assert await page.text_content("#state") == "Dipanggil"
    assert await page.is_hidden("#cancel-box")
    await page.screenshot(path=artifact("status-called.png"), full_page=True)
    problems.check()
    await page.close()


async def test_sms_and_cancel_from_the_ticket_page(aiohttp_server, db_at, tmp_path, clock, browser, aiohttp_client):  # noqa: F811
    from kiosk.app import create_app
    from kiosk.hall.parse import parse_hall
    from kiosk.settings import Settings
    from tests.conftest import hall_dict

    config = parse_hall(hall_dict(sms={"provider": "http", "base_url": "http://127.0.0.1:9"}))  # a gateway
    server = await aiohttp_server(create_app(Settings(db=db_at("sms"), var=tmp_path), config=config, clock=clock,
                                             synchronous="NORMAL"))
    client = await aiohttp_client(server)
    ticket = await take(client, "B")
    page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    problems = PageProblems(page)
    problems.expect("/phone")  # the wrong number is refused on purpose
    await page.goto(str(server.make_url(f"/t/{ticket['token']}")))
    await page.fill("#phone", "021 555 1234")
    await page.click("#phone-form button")
    await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tidak valid')")
    await page.fill("#phone", "0812-3456-7890")
    await page.click("#phone-form button")
    await page.wait_for_function("() => document.getElementById('phone-result').textContent.includes('tersimpan')")
    await page.screenshot(path=artifact("status-waiting.png"), full_page=True)
    await page.click("#cancel")
    await page.click("#cancel-confirm")
    await page.wait_for_function("() => document.getElementById('state').textContent === 'Dibatalkan'")
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "cancelled"
    problems.check()
    await page.close()


async def test_cancelling_takes_two_deliberate_taps(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    ticket = await take(client, "B")
    page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    problems = PageProblems(page)
    await page.goto(str(server.make_url(f"/t/{ticket['token']}")))
    assert await page.is_visible("#cancel") and await page.is_hidden("#cancel-confirm"), "one tap never cancels"
    await page.click("#cancel")
    assert await page.is_visible("#cancel-confirm") and await page.is_hidden("#cancel")
    await page.click("#cancel-keep")
    assert await page.is_hidden("#cancel-confirm")
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "waiting"
    problems.check()
    await page.close()


async def test_the_page_follows_a_transfer_asks_for_sound_and_shows_the_number_called(
        aiohttp_server, db_at, tmp_path, clock, browser, aiohttp_client):  # noqa: F811
    from kiosk.app import create_app
    from kiosk.hall.parse import parse_hall
    from kiosk.settings import Settings
    from tests.conftest import hall_dict

    config = parse_hall(hall_dict(sms={"provider": "http", "base_url": "http://127.0.0.1:9"}))
    server = await aiohttp_server(create_app(Settings(db=db_at("s"), var=tmp_path), config=config, clock=clock,
                                             synchronous="NORMAL"))
    client = await aiohttp_client(server)
    staff = await login(client, "siti", "officer", ("1", "2"))
    await take(client, "A")
    mine = await take(client, "A")
    page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    problems = PageProblems(page)
    await page.goto(str(server.make_url(f"/t/{mine['token']}")))
    await page.wait_for_function("() => window.giliranTicket.refreshes >= 1")
    assert await page.text_content("#now-called") == "belum ada"
    # Phones play sound only after a tap: the page asks for it once.
    assert await page.is_visible("#enable-sound")
    await page.click("#enable-sound")
    assert await page.is_hidden("#enable-sound") and await page.is_visible("#sound-ready")
    assert await page.evaluate("window.giliranTicket.soundReady")
    assert await page.is_visible("#phone-form"), "SMS is offered while waiting, with a gateway"
    await client.post("/api/counters/2/next", headers=staff)  # A001, the one ahead
    await page.wait_for_function("() => document.getElementById('now-called').textContent === 'A001'")
    await page.screenshot(path=artifact("status-waiting-now-called.png"), full_page=True)
    await client.post("/api/counters/2/next", headers=staff)  # mine
    await page.wait_for_selector("#called:not([hidden])")
    assert await page.evaluate("window.giliranTicket.beeps") == 1
    assert await page.is_hidden("#phone-form"), "once called, an SMS comes too late"
    assert await page.is_hidden("#cancel-box")
    # The officer sends it to another service: the page says which.
    await client.post("/api/counters/2/transfer", headers=staff, json={"service": "B"})
    await page.wait_for_function("() => document.getElementById('service').textContent === 'Kartu Keluarga'")
    assert await page.text_content("#state") == "Menunggu"
    await page.screenshot(path=artifact("status-transferred.png"), full_page=True)
    problems.check()
    await page.close()


async def test_no_sms_is_offered_or_reported_sent_without_a_gateway(aiohttp_server, app, clock, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    staff = await login(client, "siti", "officer", ("2",))
    ticket = await take(client, "A", phone="0812 3456 7890")
    page = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    problems = PageProblems(page)
    await page.goto(str(server.make_url(f"/t/{ticket['token']}")))
    assert await page.locator("#phone-form").count() == 0, "the hall has no SMS gateway"
    assert "SMS" not in await page.text_content("body")
    await client.post("/api/counters/2/next", headers=staff)  # called: an SMS would go out now
    rows: list = []
    for _ in range(100):  # the outbox tries each message (its rate gate follows the test's clock)
        rows = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
        if rows and all(m["state"] != "pending" for m in rows):
            break
        clock.advance(2)
        await page.wait_for_timeout(100)
    assert rows and all(m["state"] == "failed" and "gateway belum diatur" in m["last_error"] for m in rows), rows
    problems.check()
    await page.close()
