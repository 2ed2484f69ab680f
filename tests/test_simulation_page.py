"""The capacity what-if page (/admin/simulasi): admins only, CSRF, Indonesian refusals, and a real
run in Chromium whose answer is drawn as charts with their tables (screenshot in tests/artifacts/)."""

from __future__ import annotations

import json

from kiosk.web.appkeys import AUTH, QUEUE
from tests.browser import PageProblems, artifact, browser  # noqa: F401 - the fixture
from tests.conftest import PASSWORD, login
from tests.test_accessibility import AXE, TAGS


async def cookie_login(client, username: str, role: str) -> str:
    """Log in through the form; the page's CSRF token."""
    app = client.server.app
    await app[AUTH].add_user(username, PASSWORD, role, (), app[QUEUE].config)
    csrf = (await client.get("/staff/login")).cookies["giliran_login_csrf"].value
    resp = await client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf": csrf},
                             allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get("/admin")).text()
    return page.split('name="csrf" value="')[1].split('"')[0]


async def test_only_admins_and_only_with_the_form_token(client):
    resp = await client.get("/admin/simulasi", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/staff/login"
    await login(client, "sup", "supervisor")
    csrf = await cookie_login(client, "budi", "supervisor")
    resp = await client.get("/admin/simulasi")
    assert resp.status == 403 and "hanya untuk admin" in await resp.text()
    client.session.cookie_jar.clear()
    csrf = await cookie_login(client, "siti", "admin")
    page = await (await client.get("/admin/simulasi")).text()
    assert "Senin pagi ramai" in page and "Jumat sepi" in page and "KTP Elektronik" in page
    resp = await client.post("/admin/simulasi", data={"csrf": "salah", "profile": "hari-sepi", "service": "A",
                                                       "counters": "2", "target": "30", "seed": "1"})
    assert resp.status == 403 and "kedaluwarsa" in await resp.text()
    for field, value, reason in (("service", "ZZ", "Pilih layanan"), ("counters", "banyak", "bilangan bulat 0 sampai"),
                                 ("target", "0", "1 sampai 600 menit"), ("profile", "../etc", "Pilih profil")):
        form = {"csrf": csrf, "profile": "hari-sepi", "service": "A", "counters": "2", "target": "30", "seed": "1"}
        resp = await client.post("/admin/simulasi", data=form | {field: value})
        text = await resp.text()
        assert resp.status == 422 and reason in text, (field, text[:300])
        assert 'role="alert"' in text


async def test_the_command_behind_the_page_answers_in_json(client):
    csrf = await cookie_login(client, "siti", "admin")
    resp = await client.post("/admin/simulasi", data={"csrf": csrf, "profile": "hari-sepi", "service": "P",
                                                       "counters": "2", "target": "20", "seed": "2"})
    text = await resp.text()
    assert resp.status == 200, text[:500]
    assert text.count("<svg") == 2 and "Loket yang dibutuhkan per jam" in text
    assert "Paspor" in text and "Dicoba" in text


async def test_what_if_in_chromium(aiohttp_server, app, browser, aiohttp_client):  # noqa: F811
    server = await aiohttp_server(app)
    client = await aiohttp_client(server)
    await app[AUTH].add_user("siti", PASSWORD, "admin", (), app[QUEUE].config)
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    problems = PageProblems(page)
    await page.goto(str(server.make_url("/staff/login")))
    await page.fill("#username", "siti")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff")  # the login lands before the next page is opened (else it is aborted)
    await page.goto(str(server.make_url("/admin")))
    await page.click("text=Simulasi kapasitas")
    await page.select_option("#f-profile", "senin-ramai")
    await page.select_option("#f-service", "B")
    await page.fill("#f-counters", "3")
    await page.fill("#f-target", "25")
    async with page.expect_navigation(timeout=240_000):
        await page.click("text=Jalankan simulasi")
    result = page.locator("#result")
    assert "Kartu Keluarga" in await result.text_content()
    assert await page.locator("#result svg[role=img]").count() == 2
    body = page.locator("#result table").nth(0).locator("tbody tr")
    now, tried = [await body.nth(i).locator("th, td").all_text_contents() for i in (0, 1)]
    assert now[:2] == ["Sekarang", "8"] and tried[:2] == ["Dicoba", "3"], "B is on eight counters in the test hall"
    assert float(tried[6].split()[0]) > float(now[6].split()[0]), "fewer counters, longer waits"
    tables = await page.locator("#result figure table").count()
    assert tables == 2, "every chart has its numbers beside it"
    await page.screenshot(path=artifact("admin-simulasi.png"), full_page=True)
    if AXE.exists():  # the answer passes axe as the form does (the form is in test_accessibility.py)
        await page.evaluate(AXE.read_text())
        found = await page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        assert [v["id"] for v in found["violations"]] == [], json.dumps(found["violations"])[:2000]
    problems.check()
    await context.close()
    await client.close()
