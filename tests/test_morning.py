"""A whole morning in miniature, every page in a real headless Chromium at once: a citizen takes a
number at the kiosk and follows it on a phone, the officer calls and serves it from the console,
the hall display shows the call, and the admin changes a quota that the kiosk shows at once."""

from __future__ import annotations

from kiosk.web.appkeys import QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, login


async def staff_login(context, server, username: str):
    page = await context.new_page()
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/staff")))
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff")
    return page, problems


async def test_a_whole_morning(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await login(client, "siti", "officer", ("1",))
    await login(client, "admin", "admin")
    pages = []

    # The hall display (sound off: the test has no speakers), the kiosk in portrait.
    display = await browser.new_page(viewport={"width": 1920, "height": 1080})
    pages.append(PageProblems(display))
    await display.goto(str(server.make_url("/display?sound=0")))
    await display.wait_for_function("() => window.giliranDisplay && window.giliranDisplay.connected")
    kiosk = await browser.new_page(viewport={"width": 1080, "height": 1920})
    pages.append(PageProblems(kiosk))
    await kiosk.goto(str(server.make_url("/kiosk?kiosk=KV")))
    await kiosk.click(".tile[data-agency=DUKCAPIL]")  # the agency, then its services
    await kiosk.wait_for_selector(".service-btn[data-service=A]")
    assert "sisa kuota 5" in await kiosk.text_content(".service-btn[data-service=A] .meta")
    await kiosk.click(".service-btn[data-service=A]")
    await kiosk.click(".choice.normal")
    await kiosk.wait_for_selector("#step-ticket:not([hidden])")
    assert await kiosk.text_content("#t-number") == "A001"
    token = await kiosk.evaluate("() => window.giliranKiosk.ticket.token")
    await kiosk.screenshot(path=artifact("morning-1-kiosk-ticket.png"))

    # The citizen scans the QR: the status page on a phone.
    phone = await browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    pages.append(PageProblems(phone))
    await phone.goto(str(server.make_url(f"/t/{token}")))
    await phone.wait_for_function("() => window.giliranTicket.refreshes >= 1")
    assert await phone.text_content("#state") == "Menunggu"

    # The officer logs in, opens Loket 1 and calls with the keyboard shortcut.
    officer_context = await browser.new_context(viewport={"width": 1366, "height": 768})
    console, console_problems = await staff_login(officer_context, server, "siti")
    pages.append(console_problems)
    await console.click("text=Loket 1")
    await console.wait_for_function("() => window.giliranConsole && window.giliranConsole.refreshes >= 1")
    await console.keyboard.press("n")
    await console.wait_for_function("() => document.getElementById('current-number').textContent === 'A001'")

    # The display and the phone show the call.
    await display.wait_for_function("() => document.getElementById('now-number').textContent === 'A001'")
    assert await display.text_content("#now-counter") == "Loket 1"
    await phone.wait_for_selector("#called:not([hidden])")
    assert await phone.text_content("#called-counter") == "Loket 1"
    await display.screenshot(path=artifact("morning-2-display-call.png"))
    await phone.screenshot(path=artifact("morning-3-phone-called.png"), full_page=True)

    # The citizen arrives: start serving (M), then finish (S).
    await console.keyboard.press("m")
    await phone.wait_for_function("() => document.getElementById('state').textContent === 'Sedang dilayani'")
    # The console takes the key once it shows the visit started (its finish button is enabled then).
    await console.wait_for_function("() => !document.querySelector('button[data-action=finish]').disabled")
    await console.keyboard.press("s")
    await phone.wait_for_function("() => document.getElementById('state').textContent === 'Selesai'")
    await console.screenshot(path=artifact("morning-4-console.png"))

    # The admin lowers the quota of A; the kiosk, back at its start, shows it without a reload.
    await kiosk.click("#done")
    await kiosk.wait_for_selector("#step-start:not([hidden])")
    await kiosk.click(".tile[data-agency=DUKCAPIL]")
    await kiosk.wait_for_function(  # the kiosk reloads its services when it returns to the start
        "() => document.querySelector('.service-btn[data-service=A] .meta').textContent.includes('sisa kuota 4')")
    admin_context = await browser.new_context(viewport={"width": 1366, "height": 768})
    admin, admin_problems = await staff_login(admin_context, server, "admin")
    pages.append(admin_problems)
    await admin.click("text=pengaturan")
    await admin.screenshot(path=artifact("morning-5-admin.png"), full_page=True)
    await admin.get_by_role("link", name="Layanan").click()
    await admin.get_by_role("link", name="Ubah layanan A").click()
    await admin.fill("#f-daily_quota", "2")
    await admin.get_by_role("button", name="Simpan").click()
    await admin.wait_for_selector("text=Tersimpan")
    await admin.screenshot(path=artifact("morning-6-admin-services.png"), full_page=True)
    if await kiosk.is_visible("#step-start"):  # back at the start after its idle time: open the agency again
        await kiosk.click(".tile[data-agency=DUKCAPIL]")
    await kiosk.wait_for_function(
        "() => document.querySelector('.service-btn[data-service=A] .meta').textContent.includes('sisa kuota 1')")
    assert app[QUEUE].config.service("A").daily_quota == 2

    # A value the hall cannot use is refused on the form, in Indonesian, and changes nothing.
    await admin.goto(str(server.make_url("/admin/services/A")))
    await admin.fill("#f-hours", "17:00-08:00")
    admin_problems.expect("/admin/services/A")  # the 422 answer is the point
    await admin.get_by_role("button", name="Simpan").click()
    assert "Perubahan ditolak" in await admin.text_content("#form-error")
    assert app[QUEUE].config.service("A").hours is None

    # Users page at the laptop size and a small one.
    await admin.goto(str(server.make_url("/admin/users")))
    await admin.screenshot(path=artifact("morning-7-users-1366.png"), full_page=True)
    await admin.set_viewport_size({"width": 800, "height": 1280})
    await admin.goto(str(server.make_url("/admin/counters/1")))
    await admin.screenshot(path=artifact("morning-8-counter-form-800.png"), full_page=True)

    # Log out: the admin pages send the browser back to the login form.
    await admin.get_by_role("button", name="keluar").click()
    await admin.wait_for_url("**/staff/login")
    await admin.goto(str(server.make_url("/admin")))
    assert admin.url.endswith("/staff/login")

    for problems in pages:
        problems.check()
    await officer_context.close()
    await admin_context.close()
