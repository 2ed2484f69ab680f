"""Every page of the demo hall (the MPP at its real size: 109 services, 22 agencies, 42 counters, two
floors) at the screen it is made for, with a queue going: nothing runs off the side of the screen,
no request fails, and a screenshot of each lands in tests/artifacts/real-size/."""

from __future__ import annotations

from tests.browser import ARTIFACTS, PageProblems, browser  # noqa: F401 - the fixture
from tests.conftest import login, take
from tests.demo_hall import demo_server, staff_page  # noqa: F401 - the fixture

KIOSK_PORTRAIT, KIOSK_LANDSCAPE, TV, LAPTOP, PHONE, COUNTER_TOP = (1080, 1920), (1920, 1080), (1920, 1080), \
    (1366, 768), (360, 740), (1280, 720)


async def test_every_page_at_the_real_size(demo_server, browser, aiohttp_client):  # noqa: F811
    server = await demo_server()
    client = await aiohttp_client(server)
    officer = await login(client, "sri", "supervisor")
    tickets = [await take(client, code, kiosk="K1") for code in ("A", "A", "B", "PB", "SK", "PK", "JD", "NB", "AK")]
    await take(client, "B", priority_reason="lansia")
    for counter in ("1", "7", "20", "17"):
        await client.post(f"/api/counters/{counter}/next", headers=officer)
    public = [("kiosk-portrait", "/kiosk?kiosk=K1", KIOSK_PORTRAIT), ("kiosk-landscape", "/kiosk?kiosk=K2", KIOSK_LANDSCAPE),
              ("ticket-phone", f"/t/{tickets[-1]['token']}", PHONE), ("display-tv", "/display?sound=0", TV),
              ("display-laptop", "/display?sound=0", LAPTOP), ("display-portrait", "/display?sound=0", (1080, 1920)),
              ("display-floor-2", "/display/lantai2?sound=0", TV), ("display-zone-a", "/display/zona-a?sound=0", TV),
              ("counter-top", "/loket/1", COUNTER_TOP), ("counter-top-small", "/loket/20", (800, 480)),
              ("login", "/staff/login", LAPTOP), ("landing", "/", LAPTOP)]
    staff = [("staff-choose", "/staff"), ("console", "/staff/counter/1"), ("supervisor", "/staff/supervisor"),
             ("audit", "/staff/audit"), ("admin", "/admin"), ("admin-services", "/admin/services"),
             ("admin-service", "/admin/services/A"), ("admin-agency", "/admin/agencies/DUKCAPIL"),
             ("admin-counters", "/admin/counters"), ("admin-counter", "/admin/counters/1"),
             ("admin-search", "/admin/search"), ("admin-tickets", "/admin/tickets"), ("admin-display", "/admin/display"),
             ("admin-media", "/admin/tayangan"), ("admin-users", "/admin/users")]
    folder = ARTIFACTS / "real-size"
    folder.mkdir(parents=True, exist_ok=True)
    pages = [(name, path, size, None) for name, path, size in public]
    context, staff_tab = await staff_page(browser, server, "adi", "admin")
    await staff_tab.close()
    pages += [(name, path, LAPTOP, context) for name, path in staff]
    for name, path, (width, height), ctx in pages:
        page = await (ctx.new_page() if ctx else browser.new_page())
        await page.set_viewport_size({"width": width, "height": height})
        problems = PageProblems(page)
        await page.goto(str(server.make_url(path)))
        await page.wait_for_timeout(600)  # scripts fill the page from the API and the streams
        overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, (name, overflow)
        await page.screenshot(path=folder / f"{name}-{width}x{height}.png", full_page=not path.startswith(
            ("/kiosk", "/display", "/loket")))
        problems.check()
        await page.close()
    await context.close()
