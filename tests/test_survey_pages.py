"""The survey in a real headless Chromium: finish at the console -> the counter tablet and the ticket
page show the survey -> answer -> the IKM page; the tablet goes back to idle when the counter's
window passes and never shows another ticket's survey."""

from __future__ import annotations

from kiosk.web.appkeys import AUTH, QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, login, take


async def answer_all(page, value: int) -> None:
    for i in range(1, 10):
        await page.click(f"#q-U{i} label.answer:nth-child({value})")


async def test_from_the_console_to_the_ikm_page(aiohttp_server, app, clock, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await app[AUTH].add_user("siti", PASSWORD, "officer", ("1",), app[QUEUE].config)
    first = await take(client, "A")
    second = await take(client, "A")

    tablet = await browser.new_page(viewport={"width": 1024, "height": 768})
    tablet_problems = PageProblems(tablet)
    await tablet.goto(str(server.make_url("/survei?counter=1")))
    await tablet.wait_for_function("() => window.giliranSurvey && window.giliranSurvey.polls >= 1")
    assert await tablet.is_visible("#idle") and await tablet.is_hidden("#asking")

    phone = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    phone_problems = PageProblems(phone)
    phone_problems.expect("/api/surveys")  # the second answer for the same ticket is refused on purpose
    await phone.goto(str(server.make_url(f"/t/{first['token']}")))
    await phone.wait_for_function("() => window.giliranTicket.refreshes >= 1")
    assert await phone.query_selector("#survei") is None

    console = await browser.new_page(viewport={"width": 1366, "height": 768})
    console_problems = PageProblems(console)
    await console.goto(str(server.make_url("/staff")))
    await console.fill("#username", "siti")
    await console.fill("#password", PASSWORD)
    await console.click("button[type=submit]")
    await console.click("text=Loket 1")
    await console.wait_for_function("() => window.giliranConsole && window.giliranConsole.refreshes >= 1")
    await console.get_by_role("button", name="Panggil Berikutnya").click()
    await console.wait_for_function("() => document.getElementById('current-number').textContent === 'A001'")
    await console.keyboard.press("m")
    await console.wait_for_function(
        "() => document.getElementById('current-state').textContent === 'Sedang dilayani'")
    await console.get_by_role("button", name="Selesai").click()
    await console.wait_for_function("() => document.getElementById('served').textContent === '1'")

    # the ticket page turns into the survey; the tablet shows the ticket just served
    await phone.wait_for_selector("#survei", timeout=15000)
    assert "Tidak sesuai" in await phone.text_content("#q-U1") and "SP4N-LAPOR" in await phone.content()
    await tablet.wait_for_selector("#asking:not([hidden])", timeout=15000)
    assert await tablet.text_content("#tablet-number") == "A001"
    await tablet.screenshot(path=artifact("survey-tablet.png"), full_page=False)
    await tablet.click("#survey-send")  # nothing answered yet
    assert "Pertanyaan 1, 2, 3, 4, 5, 6, 7, 8, 9 belum dijawab" in await tablet.text_content("#survey-error")
    await answer_all(tablet, 4)
    await tablet.click("#survey-send")
    await tablet.wait_for_selector("#thanks:not([hidden])")
    await tablet.screenshot(path=artifact("survey-tablet-thanks.png"))

    # the same ticket on the phone: already answered at the counter, one response kept
    await answer_all(phone, 1)
    await phone.click("#survey-send")
    await phone.wait_for_selector("#survey-thanks:not([hidden])")
    assert "sudah diisi" in await phone.text_content("#survey-thanks-text")

    # the next citizen answers on their own phone, with a profile and a suggestion
    await console.get_by_role("button", name="Panggil Berikutnya").click()
    await console.wait_for_function("() => document.getElementById('current-number').textContent === 'A002'")
    await console.keyboard.press("m")
    await console.wait_for_function(
        "() => document.getElementById('current-state').textContent === 'Sedang dilayani'")
    await console.get_by_role("button", name="Selesai").click()
    await console.wait_for_function("() => document.getElementById('served').textContent === '2'")
    assert "IKM Anda (90 hari): belum cukup penilaian (0 dari minimal 10)" in await console.text_content("#own-ikm")
    await tablet.wait_for_function("() => document.getElementById('tablet-number').textContent === 'A002'",
                                   timeout=15000)
    await phone.goto(str(server.make_url(f"/t/{second['token']}")))
    await answer_all(phone, 3)
    await phone.click("#q-U3 label.answer:nth-child(2)")
    await phone.click("details.profile summary")
    await phone.check("input[name=gender][value=P]")
    await phone.fill("#s-age", "68")
    await phone.select_option("#s-education", "SMA")
    await phone.fill("#s-comment", "Kursi <b>lansia</b> kurang")
    await phone.screenshot(path=artifact("survey-ticket-page.png"), full_page=True)
    await phone.click("#survey-send")
    await phone.wait_for_selector("#survey-thanks:not([hidden])")
    # the tablet never keeps a ticket whose survey is done elsewhere: back to idle
    await tablet.wait_for_selector("#idle:not([hidden])", timeout=15000)

    # the IKM page: A001 all 4, A002 all 3 but U3 = 2 -> sum of NRR 4 x 9 / 2 + (3 x 9 - 1) / 2 = 31
    # -> 31 / 9 x 25 = 86.11 (B)
    sri = await browser.new_page(viewport={"width": 1366, "height": 900})
    sri_problems = PageProblems(sri)
    await login(client, "sri", "supervisor")
    await sri.goto(str(server.make_url("/staff/login")))
    await sri.fill("#username", "sri")
    await sri.fill("#password", PASSWORD)
    async with sri.expect_navigation():  # the login's own page first (going on at once aborts it)
        await sri.click("button[type=submit]")
    await sri.goto(str(server.make_url("/laporan/ikm")))
    assert await sri.text_content("#ikm-total") == "86,11"
    row = await sri.text_content("#tabel-ikm-service tbody tr:first-child")
    assert "KTP Elektronik" in row and "86,11" in row and "B" in row
    assert await sri.query_selector("svg[aria-labelledby='ikm-sebaran-t']") is not None
    assert "Kursi <b>lansia</b> kurang" in await sri.text_content("#saran")  # escaped, shown as typed
    profile = await sri.text_content("#profil")
    assert "Perempuan" in profile and "60+" in profile and "SMA" in profile
    await sri.screenshot(path=artifact("survey-ikm.png"), full_page=True)
    for problems in (tablet_problems, phone_problems, console_problems, sri_problems):
        problems.check()


async def test_the_tablet_returns_to_idle_when_its_window_passes(aiohttp_server, app, clock, browser,  # noqa: F811
                                                                 aiohttp_client):
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    officer = await login(client, "siti", "officer", ("1", "2"))
    await take(client, "A")
    tablet = await browser.new_page(viewport={"width": 1024, "height": 768})
    problems = PageProblems(tablet)
    await tablet.goto(str(server.make_url("/survei?counter=2")))
    for action in ("next", "start", "finish"):
        await client.post("/api/counters/1/" + action, headers=officer)
    polls = await tablet.evaluate("window.giliranSurvey.polls")
    await tablet.wait_for_function(f"() => window.giliranSurvey.polls >= {polls + 2}")
    assert await tablet.is_hidden("#asking"), "counter 2's tablet never shows counter 1's ticket"
    await tablet.goto(str(server.make_url("/survei?counter=1")))
    await tablet.wait_for_selector("#asking:not([hidden])")
    clock.advance(181)
    await tablet.wait_for_selector("#idle:not([hidden])", timeout=15000)
    resp = await client.get("/survei?counter=nope")
    assert resp.status == 404 and "Loket tidak ditemukan" in await resp.text()
    problems.check()
