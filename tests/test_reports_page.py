"""/laporan in headless Chromium on a month of demo history: the range picker, the summaries, charts
with their tables, the downloads, the print layout (A4), and an agency-limited supervisor's view.
Screenshots land in tests/artifacts/."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.reports.demo import days_before, write_history
from kiosk.settings import Settings
from kiosk.storage import create_store
from kiosk.web.appkeys import AUTH, QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, hall_dict, take


@pytest.fixture
async def history_server(aiohttp_server, db_at, clock):
    """A server on a database with the 35 days before the test's day (25 November 2026) of history."""
    doc = hall_dict(limits={"tickets_per_minute": 100000, "ticket_burst": 100000})
    for service in doc["services"]:
        service.pop("daily_quota", None)
        service.pop("hours", None)
    doc["services"][0]["target_wait_minutes"] = 20
    config = parse_hall(doc, "test-hall.toml")
    db = db_at("history")
    store = create_store(db, synchronous="OFF")
    await store.open()
    written, tickets, _ = await write_history(store, config, list(days_before(date(2026, 11, 25), 35)), 900, 18)
    await store.close()
    assert written == 30 and tickets > 10_000  # five Sundays closed
    app = create_app(Settings(db=db), config=config, clock=clock, synchronous="NORMAL")
    server = await aiohttp_server(app)
    await app[AUTH].add_user("kepala", PASSWORD, "admin", (), app[QUEUE].config)
    await app[AUTH].add_user("imi", PASSWORD, "supervisor", (), app[QUEUE].config, ["IMIGRASI"])
    return server


async def login_page(page, server, username: str) -> None:
    await page.goto(str(server.make_url("/staff/login")))
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff")


async def test_the_report_page_on_a_month_of_history(history_server, browser):  # noqa: F811
    server = history_server
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    problems = PageProblems(page)
    await login_page(page, server, "kepala")
    await page.click("text=laporan")
    await page.wait_for_url("**/laporan")
    assert "25 November 2026" in await page.text_content("h1"), "this month by default (1-25 November)"
    await page.check("input[value=custom]")
    assert await page.is_enabled("#r-from")
    await page.fill("#r-from", "2026-10-20")
    await page.fill("#r-to", "2026-11-24")
    await page.click("button:has-text('Tampilkan')")
    await page.wait_for_url("**/laporan?range=custom*")
    assert "20 Oktober 2026 – 24 November 2026" in await page.text_content("h1")
    await page.click("text=Indeks Kepuasan Masyarakat")  # the survey's index for the same range
    await page.wait_for_url("**/laporan/ikm?range=custom*")
    assert "20 Oktober 2026 – 24 November 2026" in await page.text_content("h1")
    await page.go_back()
    for by in ("service", "agency", "counter", "officer"):
        rows = await page.locator(f"#ringkasan-{by} tbody tr").count()
        assert rows >= 2, by
        assert await page.text_content(f"#ringkasan-{by} tr.total th") == "Jumlah"
    total = [t.strip() for t in await page.locator("#ringkasan-service tr.total td").all_text_contents()]
    issued = int(total[0])
    assert issued > 8000
    for chart in ("per-jam", "sebaran-tunggu", "kedatangan", "utilisasi"):
        svg = page.locator(f"#grafik-{chart} svg")
        assert await svg.get_attribute("role") == "img"
        assert (await page.text_content(f"#grafik-{chart} svg title")).strip()
        assert await page.locator(f"#grafik-{chart} + .chart-table tbody tr").count() >= 1
    # The hourly chart's table adds up to the tickets issued.
    hourly = await page.locator("#grafik-per-jam + .chart-table tbody tr").all()
    assert sum([int((await r.locator("td").nth(1).text_content()) or 0) for r in hourly]) == issued
    await page.screenshot(path=artifact("laporan.png"), full_page=True)
    problems.expect("/api/reports/")  # a link that turns into a download ends its navigation (ERR_ABORTED)
    async with page.expect_download() as download:
        await page.click("a[data-export=service-csv]")
    data = (await (await download.value).path()).read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[-1][1] == "Jumlah" and int(rows[-1][2]) == issued
    async with page.expect_download() as download:
        await page.click("text=semua tabel (XLSX)")
    book = load_workbook(io.BytesIO((await (await download.value).path()).read_bytes()))
    assert book["Per layanan"]["A1"].value.endswith("20 Oktober 2026 – 24 November 2026")
    await page.emulate_media(media="print")
    await page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    assert not await page.is_visible("form.filters") and not await page.is_visible("nav.staff-nav")
    await page.screenshot(path=artifact("laporan-print.png"), full_page=True)
    await page.pdf(path=artifact("laporan.pdf"), format="A4", print_background=True)
    problems.check()
    await context.close()


async def test_a_limited_supervisor_and_a_bad_range(history_server, browser):  # noqa: F811
    server = history_server
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    problems = PageProblems(page)
    await login_page(page, server, "imi")
    await page.goto(str(server.make_url("/laporan?range=week")))
    assert "Hanya instansi: Imigrasi" in await page.text_content(".report-head")
    labels = await page.locator("#ringkasan-service tbody th").all_text_contents()
    assert [label.split(" (")[0] for label in labels] == ["Paspor", "Jumlah"]
    await page.screenshot(path=artifact("laporan-instansi.png"), full_page=True)
    problems.expect("/laporan?range=custom")
    await page.goto(str(server.make_url("/laporan?range=custom&from=2026-11-24&to=2026-11-01")))
    assert "tidak boleh sebelum" in await page.text_content("[role=alert]")
    problems.check()
    await page.close()


async def test_the_supervisor_sees_waits_run_towards_their_target(aiohttp_server, app, browser, aiohttp_client,  # noqa: F811
                                                                  clock):
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await app[AUTH].add_user("sri", PASSWORD, "supervisor", (), app[QUEUE].config)
    await take(client, "A")  # default target: 30 minutes
    clock.advance(23 * 60)
    await take(client, "B")
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    problems = PageProblems(page)
    await login_page(page, server, "sri")
    await page.goto(str(server.make_url("/staff/supervisor")))
    await page.wait_for_function("() => window.giliranSupervisor && window.giliranSupervisor.slaRefreshes >= 1")
    row = page.locator('#sla tr[data-service="A"]')
    assert await row.get_attribute("class") == "sla-amber"  # 23 of 30 minutes
    assert "mendekati target" in await row.text_content() and "23 mnt" in await row.text_content()
    assert await page.locator('#sla tr[data-service="B"]').get_attribute("class") == "sla-ok"
    clock.advance(7 * 60)
    await take(client, "B")  # any queue event refreshes the view
    await page.wait_for_function(
        "() => document.querySelector('#sla tr[data-service=\"A\"]').className === 'sla-red'")
    assert "melewati target" in await row.text_content()
    await page.screenshot(path=artifact("supervisor-sla.png"), full_page=True)
    problems.check()
    await page.close()
