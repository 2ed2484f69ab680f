"""The staff console in a real headless Chromium: login, buttons, shortcuts, two tabs, CSRF."""

from __future__ import annotations

from kiosk.web.appkeys import AUTH, QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, take


async def test_cookie_writes_need_the_csrf_token(client):
    app = client.server.app
    await app[AUTH].add_user("siti", PASSWORD, "officer", ("1",), app[QUEUE].config)
    async def form_csrf() -> str:
        return (await client.get("/staff/login")).cookies["giliran_login_csrf"].value

    await form_csrf()
    resp = await client.post("/staff/login", data={"username": "siti", "password": PASSWORD, "csrf": "salah"})
    assert resp.status == 403 and "kedaluwarsa" in await resp.text()
    resp = await client.post("/staff/login", data={"username": "siti", "password": "tebakan",
                                                    "csrf": await form_csrf()}, allow_redirects=False)
    assert resp.status == 401 and "salah" in await resp.text()
    resp = await client.post("/staff/login", data={"username": "siti", "password": PASSWORD,
                                                    "csrf": await form_csrf()}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/staff"
    cookie = resp.cookies["giliran_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    await take(client, "A")
    resp = await client.post("/api/counters/1/next")  # the cookie alone, as a forged cross-site form would
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "csrf_failed"
    page = await (await client.get("/staff/counter/1")).text()
    token = page.split('data-csrf="')[1].split('"')[0]
    resp = await client.post("/api/counters/1/next", headers={"X-CSRF-Token": token})
    assert resp.status == 200
    assert (await client.get("/api/counters")).status == 200, "reads need no CSRF token"
    assert (await client.get("/staff/counter/3")).status == 403, "an officer only opens their counters"


async def test_a_morning_at_the_counter(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await app[AUTH].add_user("siti", PASSWORD, "officer", ("1", "2"), app[QUEUE].config)
    await take(client, "A")
    await take(client, "B", priority_reason="lansia")
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/staff")))
    assert page.url.endswith("/staff/login")
    await page.fill("#username", "siti")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.click("text=Loket 1")
    await page.wait_for_function("() => window.giliranConsole && window.giliranConsole.refreshes >= 1")
    assert await page.text_content("#waiting-count") == "2"
    assert "★" in await page.text_content("#waiting")
    second = await context.new_page()  # a second tab on the same counter
    await second.goto(page.url)
    await second.wait_for_function("() => window.giliranConsole && window.giliranConsole.refreshes >= 1")
    await page.get_by_role("button", name="Panggil Berikutnya").click()
    await page.wait_for_function("() => document.getElementById('current-number').textContent === 'B001'")
    await second.wait_for_function("() => document.getElementById('current-number').textContent === 'B001'")
    await page.keyboard.press("m")  # Mulai Layani
    await second.wait_for_function(
        "() => document.getElementById('current-state').textContent === 'Sedang dilayani'")
    await page.screenshot(path=artifact("staff-console.png"), full_page=True)
    await page.get_by_role("button", name="Selesai").click()
    await page.wait_for_function("() => document.getElementById('served').textContent === '1'")
    await page.keyboard.press("n")
    await page.wait_for_function("() => document.getElementById('current-number').textContent === 'A001'")
    await page.get_by_role("button", name="Tidak Hadir").click()
    await page.wait_for_function("() => document.getElementById('current-number').textContent === '—'")
    await page.get_by_role("button", name="Istirahat").click()
    await second.wait_for_function("() => document.getElementById('pause').textContent === 'Lanjutkan'")
    assert await page.is_disabled("button[data-action=next]")
    await page.get_by_role("button", name="Lanjutkan").click()
    await page.wait_for_function("() => !document.querySelector('button[data-action=next]').disabled")
    problems.check()
    await context.close()


async def test_supervisor_view_and_audit_page(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await app[AUTH].add_user("sri", PASSWORD, "supervisor", (), app[QUEUE].config)
    await app[AUTH].add_user("siti", PASSWORD, "officer", ("1",), app[QUEUE].config)
    officer = await client.post("/api/login", json={"username": "siti", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await officer.json())['token']}"}
    await take(client, "A")
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/staff/login")))
    await page.fill("#username", "sri")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff")
    await page.goto(str(server.make_url("/staff/supervisor")))
    await page.wait_for_function("() => window.giliranSupervisor && window.giliranSupervisor.refreshes >= 1")
    await client.post("/api/counters/1/next", headers=headers)
    await page.wait_for_function(
        "() => document.querySelector('tr[data-counter=\"1\"] td:nth-child(3)').textContent === 'A001'")
    assert await page.text_content('tr[data-counter="1"] td:nth-child(2)') == "dipanggil"
    await page.screenshot(path=artifact("supervisor.png"), full_page=True)
    await page.goto(str(server.make_url("/staff/audit?username=siti&action=next")))
    rows = await page.locator("tbody tr").all_text_contents()
    assert len(rows) == 1 and "siti" in rows[0] and "A001" in rows[0]
    problems.check()
    await page.close()
    # An officer is not a supervisor.
    await client.post("/staff/login", data={"username": "siti", "password": PASSWORD,
                                            "csrf": (await client.get("/staff/login")).cookies["giliran_login_csrf"].value})
    assert (await client.get("/staff/supervisor")).status == 403
    assert (await client.get("/staff/audit")).status == 403
