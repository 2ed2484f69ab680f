"""The staff console in a real headless Chromium: login, buttons, shortcuts, two tabs, CSRF."""

from __future__ import annotations

from kiosk.web.appkeys import AUTH, QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, login, take


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
    assert await page.text_content("#waiting tr[data-number=B001] .why") == "Lansia"
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
    await page.get_by_role("button", name="Tidak Hadir T").click()
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


# --- at the real size (the demo hall) -----------------------------------------------------------------
from tests.demo_hall import demo_server, staff_page  # noqa: E402,F401 - the fixture


async def test_next_on_a_called_ticket_asks_first_and_a_no_show_goes_back(demo_server, browser, aiohttp_client):  # noqa: F811
    server = await demo_server()
    client = await aiohttp_client(server)
    for _ in range(3):
        await take(client, "A", kiosk="K1")
    context, page = await staff_page(browser, server, "siti", "officer", ("1",))
    problems = PageProblems(page)
    problems.expect("/call")  # the 409 that makes the console ask is the point
    await page.goto(str(server.make_url("/staff/counter/1")))
    await page.wait_for_function("() => window.giliranConsole.refreshes >= 1")
    number = "() => document.getElementById('current-number').textContent"
    await page.keyboard.press("n")
    await page.wait_for_function(f"{number} === 'A001'")
    # A second "next" a moment later would end A001's turn: the console asks instead.
    await page.keyboard.press("n")
    await page.wait_for_selector("#confirm[open]")
    assert await page.text_content("#confirm-number") == "A001"
    await page.screenshot(path=artifact("console-confirm-no-show.png"))
    await page.keyboard.press("n")  # keys do nothing while it asks
    assert await page.evaluate(number) == "A001"
    await page.click("#confirm-cancel")
    assert await page.is_hidden("#confirm") and await page.evaluate(number) == "A001"
    ticket = (await (await client.get("/api/counters/1/queue", headers=await login(client, "sri", "supervisor")))
              .json())
    assert [t["number"] for t in ticket] == ["A002", "A003"], "nothing moved"
    await page.get_by_role("button", name="Panggil Berikutnya").click()
    await page.click("#confirm-yes")
    await page.wait_for_function(f"{number} === 'A002'")
    await page.wait_for_selector("#noshows tr[data-number=A001]")
    # The officer puts A001 back (the citizen came after all); it waits in its old place.
    await page.get_by_role("button", name="Masukkan A001 kembali ke antrean").click()
    await page.wait_for_selector("#waiting tr[data-number=A001]")
    assert await page.eval_on_selector_all("#waiting tr", "(rows) => rows.map(r => r.dataset.number)") == ["A001", "A003"]
    # "Panggil nomor..." calls a chosen number, with the same question for the called A002.
    await page.keyboard.press("p")
    await page.fill("#call-number", "a003")
    await page.click("#call-submit")
    await page.wait_for_selector("#confirm[open]")
    await page.click("#confirm-yes")
    await page.wait_for_function(f"{number} === 'A003'")
    # A reprint of the current ticket goes to its kiosk's printer.
    await page.keyboard.press("c")
    await page.wait_for_function("() => document.getElementById('message').textContent.includes('dicetak ulang')")
    audit = await (await client.get("/api/audit?limit=20", headers=await login(client, "adi", "admin"))).json()
    rows = [(a["action"], a["ticket_number"]) for a in reversed(audit) if a["username"] == "siti"]
    assert rows == [("login", None), ("next", "A001"), ("no_show", "A001"), ("next", "A002"), ("requeue", "A001"),
                    ("no_show", "A002"), ("call_number", "A003"), ("reprint", "A003")], rows
    problems.check()
    await context.close()


async def test_the_console_fits_1366x768_and_survives_a_network_blip(demo_server, browser, aiohttp_client):  # noqa: F811
    server = await demo_server()
    client = await aiohttp_client(server)
    for code, reason in (("A", None), ("B", "lansia"), ("F", "ibu_hamil"), ("A", None), ("B", None)):
        await take(client, code, **({"priority_reason": reason} if reason else {}))
    context, page = await staff_page(browser, server, "siti", "officer", ("1",))
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/staff/counter/1")))
    await page.wait_for_function("() => window.giliranConsole.refreshes >= 1")
    # The waiting list beside the buttons: number, service, priority reason, waiting time, no scrolling.
    row = page.locator("#waiting tr[data-number=F001]")
    cells = await row.locator("td").all_text_contents()
    assert cells[:4] == ["F001", "Kartu Identitas Anak (KIA)", "Ibu hamil", "0 mnt"], cells
    for selector in ("#waiting tr:last-child", "button[data-action=next]", "button[data-action=no-show]",
                     "#transfer-service", "#noshow-empty"):
        # Measured in one go in the page (the list is redrawn whenever the queue moves).
        box = await page.eval_on_selector(selector, "(e) => { const r = e.getBoundingClientRect(); "
                                          "return {y: r.top, height: r.height, x: r.left, width: r.width}; }")
        assert box["height"] > 0 and box["y"] + box["height"] <= 768 and box["x"] + box["width"] <= 1366, (selector, box)
    assert await page.evaluate("document.documentElement.scrollHeight") <= 768 + 1, "one screen, no scrolling"
    await page.screenshot(path=artifact("console-1366x768.png"))
    # The green button's focus ring shows (keyboard users see where they are).
    await page.focus("button[data-action=next]")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    ring = await page.eval_on_selector("button[data-action=next]", "(b) => { const s = getComputedStyle(b); "
                                       "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }")
    assert ring[0] == "solid" and ring[1] >= 3 and ring[2] == "rgb(27, 38, 49)", ring
    # A pause says so, clearly.
    await page.get_by_role("button", name="Istirahat").click()
    await page.wait_for_selector("#paused:not([hidden])")
    assert "Loket sedang istirahat" in await page.text_content("#paused")
    assert "Lanjutkan" in await page.text_content("#message")
    await page.get_by_role("button", name="Lanjutkan").click()
    await page.wait_for_selector("#paused", state="hidden")
    # The network drops: the failure is said in Indonesian and the buttons come back at once.
    problems.expect("/api/")
    await context.set_offline(True)
    await page.get_by_role("button", name="Panggil Berikutnya").click()
    await page.wait_for_function("() => document.getElementById('message').textContent.includes('Tidak dapat menghubungi')")
    assert "fetch" not in (await page.text_content("#message")).lower()
    assert await page.is_visible("#offline")
    assert not await page.is_disabled("button[data-action=next]"), "ready to try again while still offline"
    await context.set_offline(False)
    await page.get_by_role("button", name="Panggil Berikutnya").click()
    await page.wait_for_function("() => document.getElementById('current-number').textContent === 'B001'")
    await page.wait_for_selector("#offline", state="hidden")
    problems.check()
    await context.close()


async def test_the_counter_top_screen(demo_server, browser, aiohttp_client):  # noqa: F811
    from tests.demo_hall import demo_config, demo_doc

    doc = demo_doc()
    doc["counters"][8]["name"] = "Loket 9 Perizinan Berusaha, Bangunan, Reklame dan Tata Ruang (Lantai 1, Zona B)"
    server = await demo_server(demo_config(counters=doc["counters"]))
    client = await aiohttp_client(server)
    officer = await login(client, "siti", "officer", ("1", "9"))
    await take(client, "A")
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/loket/1")))
    await page.wait_for_function("() => window.giliranCounter && window.giliranCounter.refreshes >= 1")
    assert await page.text_content("#ct-number") == "—"
    assert await page.text_content("#ct-state") == "Menunggu panggilan berikutnya"
    await client.post("/api/counters/1/next", headers=officer)
    await page.wait_for_function("() => document.getElementById('ct-number').textContent === 'A001'")
    assert await page.text_content("#ct-state") == "Silakan ke loket ini"
    assert "KTP Elektronik" in await page.text_content("#ct-service")
    await page.screenshot(path=artifact("counter-top-1280x720.png"))
    await client.post("/api/counters/1/start", headers=officer)
    await page.wait_for_function("() => document.getElementById('ct-state').textContent === 'Sedang dilayani'")
    await client.post("/api/counters/1/finish", headers=officer)
    await client.post("/api/counters/1/pause", headers=officer)
    await page.wait_for_function("() => document.getElementById('ct-state').textContent === 'Loket istirahat'")
    # A long name an admin typed never leaves the screen: it shrinks, then wraps.
    await page.set_viewport_size({"width": 800, "height": 480})
    await page.goto(str(server.make_url("/loket/9")))
    await page.wait_for_function("() => window.giliranCounter.refreshes >= 1")
    fits = await page.eval_on_selector("#ct-name", "(e) => [e.scrollWidth <= e.clientWidth + 1, "
                                       "e.getBoundingClientRect().right <= innerWidth, e.getBoundingClientRect().bottom <= innerHeight]")
    assert fits == [True, True, True], fits
    await page.screenshot(path=artifact("counter-top-800x480-long-name.png"))
    assert (await client.get("/loket/99")).status == 404
    problems.check()
    await page.close()
