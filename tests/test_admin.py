"""Admin at run time: the hall kept in the database, changed without a restart, guarded by role."""

from __future__ import annotations

import asyncio
import json

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.storage import create_store
from kiosk.web.appkeys import QUEUE
from tests.conftest import PASSWORD, hall_dict, login, take
from tests.escpos_reader import read_escpos
from tests.printer_standin import PrinterStandIn
from tests.server_process import run_cli


async def services(client) -> dict[str, dict]:
    return {s["code"]: s for s in await (await client.get("/api/services")).json()}


async def test_a_quota_change_takes_effect_at_once_and_survives_a_restart(aiohttp_client, db_at, clock):
    seed = parse_hall(hall_dict(), "hall.toml")
    settings = Settings(db=db_at("hall"))
    client = await aiohttp_client(create_app(settings, config=seed, clock=clock, synchronous="NORMAL"))
    admin = await login(client, "admin", "admin")
    await take(client, "A")
    resp = await client.put("/api/admin/services/A", json={"daily_quota": 2}, headers=admin)
    assert resp.status == 200, await resp.text()
    assert (await services(client))["A"]["quota_left"] == 1
    await take(client, "A")
    resp = await client.post("/api/tickets", json={"service": "A"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "quota_exhausted"
    audit = await (await client.get("/api/audit?action=hall", headers=admin)).json()
    assert audit[0]["username"] == "admin" and "Kuota harian=2" in audit[0]["detail"]
    await client.close()

    # The hall file only seeds an empty database: a restart with the same (or another) file keeps it.
    client = await aiohttp_client(create_app(settings, config=seed, clock=clock, synchronous="NORMAL"))
    assert (await services(client))["A"]["daily_quota"] == 2
    assert client.server.app[QUEUE].config.service("A").daily_quota == 2
    await client.close()


async def test_bad_values_are_refused_with_the_reason_and_nothing_changes(client, admin):
    before = client.server.app[QUEUE].config
    # Each problem in Indonesian, naming the entry and the field as the admin form labels them.
    for body, needle in (({"daily_quota": 0}, "Layanan A · Kuota harian: paling sedikit 1 (kosongkan jika tanpa kuota)"),
                         ({"hours": "25:00-26:00"}, "Layanan A · Jam layanan: '25:00-26:00' bukan jam yang ada"),
                         ({"hours": "8-12"}, "Jam layanan: '8-12' bukan jam berbentuk JJ:MM-JJ:MM"),
                         ({"agency": "NOPE"}, "Layanan A · Instansi: instansi 'NOPE' tidak ada"),
                         ({"daily_quota": "banyak"}, "Kuota harian: harus berupa angka")):
        resp = await client.put("/api/admin/services/A", json=body, headers=admin)
        error = (await resp.json())["error"]
        assert resp.status == 422 and needle in error["message"], (body, error)
    resp = await client.put("/api/admin/services/A", json={"colour": "red"}, headers=admin)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "unknown_field"
    resp = await client.delete("/api/admin/agencies/DUKCAPIL", headers=admin)  # its services still name it
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "invalid_hall"
    resp = await client.put("/api/admin/services/ZZ", json={"name": "x"}, headers=admin)
    assert resp.status == 404
    assert client.server.app[QUEUE].config is before


async def test_in_use_entries_cannot_be_removed(client, admin):
    await take(client, "B")
    resp = await client.delete("/api/admin/services/B", headers=admin)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "service_in_use"
    officer = await login(client, "siti", "officer", ("1",))
    resp = await client.post("/api/counters/1/next", headers=officer)
    assert resp.status == 200
    resp = await client.delete("/api/admin/counters/1", headers=admin)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "counter_in_use"
    assert (await client.delete("/api/admin/counters/3", headers=admin)).status == 200
    assert client.server.app[QUEUE].config.counter("3") is None


async def test_a_new_service_and_counter_work_without_a_restart(client, admin):
    resp = await client.post("/api/admin/services", headers=admin, json={
        "code": "KT", "name": "Kartu Tani", "agency": "DUKCAPIL", "daily_quota": 50, "hours": "08:00-15:00"})
    assert resp.status == 201, await resp.text()
    resp = await client.post("/api/admin/counters", headers=admin,
                             json={"id": "11", "name": "Loket 11", "services": ["KT"]})
    assert resp.status == 201, await resp.text()
    ticket = await take(client, "KT")
    assert ticket["number"] == "KT001"
    officer = await login(client, "tani", "officer", ("11",))
    called = (await (await client.post("/api/counters/11/next", headers=officer)).json())["ticket"]
    assert called["number"] == "KT001" and called["counter"] == "11"


async def test_roles_supervisor_changes_quota_only(client, admin):
    supervisor = await login(client, "sri", "supervisor")
    officer = await login(client, "siti", "officer", ("1",))
    resp = await client.put("/api/admin/services/A", json={"daily_quota": 40, "hours": "08:00-12:00"},
                            headers=supervisor)
    assert resp.status == 200, await resp.text()
    resp = await client.put("/api/admin/services/A", json={"name": "Ganti nama"}, headers=supervisor)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "admin_only"
    for method, path, body in (("POST", "/api/admin/services", {"code": "Q", "name": "q", "agency": "DUKCAPIL"}),
                               ("PUT", "/api/admin/alerts", {"approach_ahead": 1}),
                               ("DELETE", "/api/admin/services/B", None)):
        resp = await client.request(method, path, json=body, headers=supervisor)
        assert resp.status == 403, (method, path)
    resp = await client.put("/api/admin/services/A", json={"daily_quota": 1}, headers=officer)
    assert resp.status == 403
    service = client.server.app[QUEUE].config.service("A")
    assert (service.daily_quota, service.hours.text, service.name) == (40, "08:00-12:00", "KTP Elektronik")


async def test_limits_follow_at_once(client, admin):
    resp = await client.put("/api/admin/limits", headers=admin, json={"tickets_per_minute": 1, "ticket_burst": 2})
    assert resp.status == 200, await resp.text()
    statuses = [(await client.post("/api/tickets", json={"service": "A"})).status for _ in range(3)]
    assert statuses == [201, 201, 429]


async def test_a_printer_added_at_run_time_prints(aiohttp_client, clock, db_at):
    standin = PrinterStandIn()
    await standin.start()
    try:
        config = parse_hall(hall_dict(kiosks=[{"id": "K1", "name": "Kios"}]), "hall.toml")
        client = await aiohttp_client(create_app(Settings(db=db_at("p")), config=config, clock=clock,
                                                 synchronous="NORMAL"))
        admin = await login(client, "admin", "admin")
        resp = await client.post("/api/admin/printers", headers=admin, json={
            "id": "P9", "driver": "network", "profile": "TM-T20II", "host": "127.0.0.1", "port": standin.port})
        assert resp.status == 201, await resp.text()
        resp = await client.put("/api/admin/kiosks/K1", headers=admin, json={"printer": "P9"})
        assert resp.status == 200, await resp.text()
        ticket = await take(client, "A", kiosk="K1")
        for _ in range(100):
            if standin.printed:
                break
            await asyncio.sleep(0.05)
        assert ticket["number"] in read_escpos(standin.printed[0]).text
        printers = await (await client.get("/api/printers", headers=admin)).json()
        assert ("P9", ["K1"]) in [(p["id"], p["kiosks"]) for p in printers]
        await client.close()
    finally:
        await standin.stop()


async def test_hall_import_replaces_the_database_copy(tmp_path, db_at):
    db = db_at("i")
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text('[hall]\nname = "Aula Satu"\n[[agencies]]\ncode = "X"\nname = "X"\n'
                     '[[services]]\ncode = "A"\nname = "A"\nagency = "X"\n[[counters]]\nid = "1"\nservices = ["A"]\n')
    second.write_text(first.read_text().replace("Aula Satu", "Aula Dua"))
    for path in (first, second):
        code, _, err = await run_cli("hall", "import", str(path), "--db", str(db))
        assert code == 0, err
    code, out, err = await run_cli("hall", "export", "--db", str(db))
    assert code == 0 and json.loads(out)["hall"]["name"] == "Aula Dua", err
    store = create_store(db)
    await store.open()
    try:
        assert len(await store.reads.audit_entries(action="hall")) == 2
    finally:
        await store.close()
    bad = tmp_path / "bad.toml"
    bad.write_text(first.read_text().replace('services = ["A"]', 'services = ["Z"]'))
    code, _, err = await run_cli("hall", "import", str(bad), "--db", str(db))
    assert code == 2 and "unknown service 'Z'" in err


# --- pages ---------------------------------------------------------------------------------------------
async def page_session(client, username: str, role: str) -> str:
    """Log in through the form; returns the page CSRF token of the session."""
    await login(client, username, role)
    form = (await client.get("/staff/login")).cookies["giliran_login_csrf"].value
    resp = await client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf": form},
                             allow_redirects=False)
    assert resp.status == 303
    html = await (await client.get("/admin")).text()
    return html.split('name="csrf" value="')[1].split('"')[0]


async def test_admin_forms_need_csrf_and_show_errors_in_indonesian(client):
    csrf = await page_session(client, "admin", "admin")
    resp = await client.post("/admin/services/A", data={"daily_quota": "5"})
    assert resp.status == 403 and "kedaluwarsa" in await resp.text()
    resp = await client.post("/admin/services/A", data={"csrf": csrf, "daily_quota": "0"})
    text = await resp.text()
    assert resp.status == 422 and "Perubahan ditolak" in text and 'value="0"' in text
    resp = await client.post("/admin/services/A", data={"csrf": csrf, "daily_quota": "5", "name": "Layanan A"},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/admin/services?ok=")
    assert client.server.app[QUEUE].config.service("A").daily_quota == 5
    # Counters: unticking every box is refused, ticking saves exactly what is ticked.
    resp = await client.post("/admin/counters/2", data={"csrf": csrf, "name": "Loket 2"})
    assert resp.status == 422 and "Layanan yang dipanggil wajib diisi" in await resp.text()
    resp = await client.post("/admin/counters/2", data={"csrf": csrf, "name": "Loket Dua", "services[]": ["A", "B"]},
                             allow_redirects=False)
    assert resp.status == 303
    assert client.server.app[QUEUE].config.counter("2").services == ("A", "B")


async def test_stored_markup_is_escaped_on_every_page(client, admin):
    evil = '<img src=x onerror="alert(1)">'
    await client.put("/api/admin/services/A", json={"name": evil}, headers=admin)
    await client.put("/api/admin/hall", json={"name": evil}, headers=admin)
    await client.put("/api/display/ticker", json={"text": evil}, headers=admin)
    await page_session(client, "boss", "admin")
    ticket = await take(client, "A")
    for path in ("/admin", "/admin/services", "/admin/services/A", "/admin/hall", "/admin/users", "/staff",
                 "/staff/supervisor", "/staff/audit", "/", "/kiosk", "/display", f"/t/{ticket['token']}",
                 "/staff/counter/1"):
        html = await (await client.get(path)).text()
        assert "<img src=x" not in html, path
    assert "&lt;img src=x" in await (await client.get("/admin/services")).text()


async def test_logout_ends_the_session(client):
    csrf = await page_session(client, "admin", "admin")
    resp = await client.post("/staff/logout", data={"csrf": "salah"}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/staff/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/staff/login"
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/staff/login"


async def test_users_page_adds_resets_and_disables(client):
    csrf = await page_session(client, "admin", "admin")
    resp = await client.post("/admin/users", data={"csrf": csrf, "action": "add", "username": "budi",
                                                   "password": "pendek", "role": "officer"})
    assert resp.status == 422 and "minimal" in await resp.text()
    resp = await client.post("/admin/users", data={"csrf": csrf, "action": "add", "username": "budi",
                                                   "password": "rahasia-budi", "role": "officer",
                                                   "counters[]": ["1", "2"]}, allow_redirects=False)
    assert resp.status == 303
    resp = await client.post("/api/login", json={"username": "budi", "password": "rahasia-budi"})
    assert resp.status == 200 and (await resp.json())["counters"] == ["1", "2"]
    token = (await resp.json())["token"]
    await client.post("/admin/users", data={"csrf": csrf, "action": "password", "username": "budi",
                                            "password": "sandi-baru-123"})
    assert (await client.get("/api/counters", headers={"Authorization": f"Bearer {token}"})).status == 401
    await client.post("/admin/users", data={"csrf": csrf, "action": "disable", "username": "budi"})
    resp = await client.post("/api/login", json={"username": "budi", "password": "sandi-baru-123"})
    assert resp.status == 401
    html = await (await client.get("/admin/users")).text()
    assert "budi" in html and "nonaktif" in html
