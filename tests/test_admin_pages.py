"""Staff and admin pages say things in Indonesian (form errors with the form's labels, the audit log,
roles), switch a printer's driver without hand-clearing, and warn while QR codes point at localhost."""

from __future__ import annotations

from kiosk.web.appkeys import QUEUE
from kiosk.web.citizen import _qr_svg
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import login, take
from tests.demo_hall import demo_config, demo_doc, demo_server, staff_page  # noqa: F401 - the fixture


async def test_admins_and_supervisors_read_indonesian(demo_server, browser, aiohttp_client):  # noqa: F811
    server = await demo_server()
    client = await aiohttp_client(server)
    officer = await login(client, "siti", "officer", ("1",))
    await take(client, "A")
    await client.post("/api/counters/1/next", headers=officer)
    context, page = await staff_page(browser, server, "adi", "admin")
    problems = PageProblems(page)
    # A value the hall cannot use: the reason, in Indonesian, naming the field as the form labels it.
    await page.goto(str(server.make_url("/admin/services/SA")))
    await page.fill("#f-hours", "17:00-08:00")
    problems.expect("/admin/services/SA")  # the 422 answer is the point
    await page.get_by_role("button", name="Simpan").click()
    error = await page.text_content("#form-error")
    assert error == "Perubahan ditolak: Layanan SA · Jam layanan: '17:00-08:00' berakhir sebelum dimulai.", error
    await page.screenshot(path=artifact("admin-form-error.png"), full_page=True)
    # The audit log: actions and times as people say them.
    await page.goto(str(server.make_url("/staff/audit")))
    rows = await page.locator("tbody tr").all_text_contents()
    assert any("Panggil berikutnya" in r and "A001" in r and "25 Nov 2026 09.00.00" in r for r in rows), rows
    assert not any("T09:00:00" in r or "\tnext\t" in r for r in rows)
    await page.select_option("select[name=action]", label="Masuk")
    await page.get_by_role("button", name="Saring").click()
    rows = await page.locator("tbody tr").all_text_contents()
    assert rows and all("Masuk" in r for r in rows), rows
    await page.screenshot(path=artifact("audit-1366x768.png"), full_page=True)
    # Roles by their Indonesian names.
    await page.goto(str(server.make_url("/admin/users")))
    roles = await page.locator("tbody tr td:nth-child(2)").all_text_contents()
    assert set(roles) <= {"admin", "pengawas", "petugas loket"} and "petugas loket" in roles, roles
    assert await page.locator("#u-role option").all_text_contents() == ["admin", "pengawas", "petugas loket",
                                                                        "pemantau kabupaten"]
    problems.check()
    await context.close()


async def test_a_printer_switched_back_to_preview_needs_no_hand_clearing(demo_server, browser):  # noqa: F811
    doc = demo_doc()
    printers = doc["printers"] + [{"id": "P3", "driver": "network", "host": "192.0.2.10", "port": 9100,
                                   "profile": "TM-T20II"}]
    server = await demo_server(demo_config(printers=printers))
    context, page = await staff_page(browser, server, "adi", "admin")
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/admin/printers/P3")))
    assert await page.input_value("#f-host") == "192.0.2.10"
    await page.select_option("#f-driver", "preview")  # host and port stay filled in, as a hurried admin leaves them
    await page.get_by_role("button", name="Simpan").click()
    await page.wait_for_selector("text=Tersimpan")
    printer = server.app[QUEUE].config.printer("P3")
    assert printer.driver == "preview" and "host" not in printer.options and "port" not in printer.options
    problems.check()
    await context.close()


async def test_qr_codes_on_localhost_are_warned_about(demo_server, browser, aiohttp_client):  # noqa: F811
    server = await demo_server()  # the demo hall says http://localhost:8080
    context, page = await staff_page(browser, server, "adi", "admin")
    problems = PageProblems(page)
    for path in ("/staff", "/admin", "/admin/services"):  # every staff page shares the navigation
        await page.goto(str(server.make_url(path)))
        notice = await page.text_content(".staff-nav + .banner")
        assert "http://localhost:8080" in notice and "ponsel warga" in notice, (path, notice)
    await page.screenshot(path=artifact("admin-1366x768.png"), full_page=True)
    await page.goto(str(server.make_url("/admin/hall")))
    await page.fill("#f-public_url", "http://192.168.1.10:8080")
    await page.get_by_role("button", name="Simpan").click()
    await page.wait_for_selector("text=Tersimpan")
    await page.goto(str(server.make_url("/admin")))
    assert await page.locator(".staff-nav + .banner").count() == 0, "a hall address: no warning"
    problems.check()
    await context.close()


async def test_the_kiosks_on_screen_qr_uses_the_address_the_kiosk_reached(demo_server, aiohttp_client):  # noqa: F811
    server = await demo_server()
    client = await aiohttp_client(server)
    ticket = await take(client, "A", kiosk="K1")
    assert ticket["status_url"].startswith("http://localhost:8080/t/")
    lan = await client.get(f"/t/{ticket['token']}/qr.svg", headers={"Host": "192.168.1.10:8080"})
    expected = _qr_svg(f"http://192.168.1.10:8080/t/{ticket['token']}")
    assert await lan.read() == expected.body, "the code on screen opens on a phone in the hall network"
    local = await client.get(f"/t/{ticket['token']}/qr.svg", headers={"Host": "localhost:8080"})
    assert await local.read() == _qr_svg(ticket["status_url"]).body
