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


async def test_sms_and_cancel_from_the_ticket_page(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
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
