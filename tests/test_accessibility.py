"""Accessibility of every page: axe-core (WCAG 2.1 A and AA, best practices) in headless Chromium,
Lighthouse's accessibility score for the kiosk, status and staff pages, and page weights.

axe-core and Lighthouse come from npm (`npm ci --prefix tools/a11y`, done by .ci/run); both run on
Debian's chromium. Results land in tests/artifacts/a11y.json.
"""

from __future__ import annotations

import json
import os

import pytest

from kiosk.web.booking import BOOKINGS
from tests.browser import artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, login, take
from tests.demo_hall import demo_server  # noqa: F401 - the fixture
from tools.a11y import lighthouse

AXE = lighthouse.HERE / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def needs(path) -> None:
    if path.exists() and lighthouse.available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{path} missing: .ci/run must run `npm ci --prefix tools/a11y`")
    pytest.skip("npm ci --prefix tools/a11y to check accessibility")


# Steps of the kiosk that a script opens (the page loads at its start screen).
KIOSK_STEPS = {"kiosk-agency": ".tile[data-agency=DUKCAPIL]", "kiosk-search": "#open-search",
               "kiosk-booking": "#open-booking"}
# Pages whose script shows a part after loading: checked once it shows.
SHOWN = {"survey-tablet": "#asking:not([hidden])"}


async def test_every_page_passes_axe(demo_server, browser, aiohttp_client):  # noqa: F811
    needs(AXE)
    server = await demo_server()  # the MPP at its real size: 22 agencies, 109 services
    client = await aiohttp_client(server)
    admin = await login(client, "admin", "admin")
    served = await take(client, "A", kiosk="K1")  # served at counter 1: its survey is open
    for action in ("next", "start", "finish"):
        assert (await client.post(f"/api/counters/1/{action}", headers=admin)).status == 200
    ticket = await take(client, "A", kiosk="K1")
    pages = [("survey", f"/t/{served['token']}", (360, 740), False),
             ("survey-tablet", "/survei?counter=1", (1024, 768), False), ("ikm", "/laporan/ikm", (1366, 768), True),
             ("survey-admin", "/admin/survey", (1366, 768), True),
             ("kiosk", "/kiosk?kiosk=K1", (1080, 1920), False), ("kiosk-agency", "/kiosk?kiosk=K1", (1920, 1080), False),
             ("kiosk-search", "/kiosk?kiosk=K1", (1080, 1920), False), ("status", f"/t/{ticket['token']}", (360, 740), False),
             ("login", "/staff/login", (1366, 768), False), ("console", "/staff/counter/1", (1366, 768), True),
             ("choose", "/staff", (1366, 768), True), ("supervisor", "/staff/supervisor", (1366, 768), True),
             ("audit", "/staff/audit", (1366, 768), True), ("admin", "/admin", (1366, 768), True),
             ("services", "/admin/services", (1366, 768), True), ("service", "/admin/services/A", (1366, 768), True),
             ("counter", "/admin/counters/1", (1366, 768), True), ("alerts", "/admin/alerts", (1366, 768), True),
             ("users", "/admin/users", (1366, 768), True), ("simulasi", "/admin/simulasi", (1366, 768), True),
             ("display", "/display?sound=0", (1920, 1080), False),
             ("laporan", "/laporan", (1366, 768), True), ("laporan-cetak", "/laporan?range=today", (794, 1123), True),
             ("regency", "/kabupaten", (1366, 768), True),
             ("zone-display", "/display/lantai2?sound=0", (1366, 768), False),
             ("counter-top", "/loket/1", (1280, 720), False), ("media", "/admin/tayangan", (1366, 768), True),
             ("search-words", "/admin/search", (1366, 768), True), ("printer", "/admin/printers/P1", (1366, 768), True)]
    # The online queue (docs/booking.md): its phone page, a booking's page, the kiosk's check-in step.
    booked = await server.app[BOOKINGS].book("sms:+6281234567890", "A", "2026-11-26", "09:00")
    pages += [("ambil", "/ambil", (390, 844), False), ("booking", f"/booking/{booked['code']}", (390, 844), False),
              ("kiosk-booking", "/kiosk?kiosk=K1", (1080, 1920), False), ("holidays", "/admin/holidays", (1366, 768), True),
              ("week", "/admin/week", (1366, 768), True)]
    cookie = await lighthouse.session_cookie(str(server.make_url("")).rstrip("/"), "admin", PASSWORD)
    name, _, value = cookie.partition("=")
    # axe is injected by the test itself, so the page's own CSP (own scripts only) is bypassed for it.
    context = await browser.new_context(bypass_csp=True)
    await context.add_cookies([{"name": name, "value": value, "url": str(server.make_url("/"))}])
    source = AXE.read_text()
    report, problems = {}, {}
    for key, path, (width, height), staff in pages:
        page = await context.new_page()
        await page.set_viewport_size({"width": width, "height": height})
        sizes: list[int] = []
        page.on("requestfinished", lambda r: sizes.append(r) if "events" not in r.url else None)
        await page.goto(str(server.make_url(path)), wait_until="networkidle" if not staff else "load")
        await page.wait_for_timeout(300)  # scripts fill the page from the API
        if key in KIOSK_STEPS:
            await page.click(KIOSK_STEPS[key])
            await page.wait_for_timeout(300)
        if key in SHOWN:
            await page.wait_for_selector(SHOWN[key])
        assert not (staff and page.url.endswith("/staff/login")), "the session cookie works"
        await page.evaluate(source)
        result = await page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        weight = 0
        for request in sizes:
            s = await request.sizes()
            weight += s["responseBodySize"] + s["responseHeadersSize"]
        report[key] = {"path": path, "violations": [v["id"] for v in result["violations"]],
                       "passes": len(result["passes"]), "bytes": weight}
        if result["violations"]:
            problems[key] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                             for v in result["violations"]]
        await page.close()
    artifact("a11y.json").write_text(json.dumps(report, indent=2))
    assert problems == {}
    assert report["status"]["bytes"] < 100_000, report["status"]
    await context.close()


async def test_lighthouse_accessibility_is_at_least_95(demo_server, aiohttp_client):  # noqa: F811
    needs(lighthouse.LIGHTHOUSE)
    server = await demo_server()
    client = await aiohttp_client(server)
    await login(client, "siti", "admin")
    base = str(server.make_url("")).rstrip("/")
    ticket = await take(client, "A", kiosk="K1")
    cookie = await lighthouse.session_cookie(base, "siti", PASSWORD)
    scores = [await lighthouse.score(base, "kiosk", "/kiosk?kiosk=K1"),
              await lighthouse.score(base, "status", f"/t/{ticket['token']}", form_factor="mobile"),
              await lighthouse.score(base, "console", "/staff/counter/1", cookie)]
    artifact("lighthouse.md").write_text(lighthouse.table(scores) + "\n")
    assert [(s.name, s.accessibility, s.failed) for s in scores if s.accessibility < 95] == []
    status = next(s for s in scores if s.name == "status")
    assert 0 < status.transferred < 100_000
