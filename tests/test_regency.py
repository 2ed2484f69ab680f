"""The regency role: today's figures of every hall sharing the database, read only."""

from __future__ import annotations

from kiosk.hall.parse import parse_hall
from kiosk.queue.events import EventBus
from kiosk.runtime import Runtime
from kiosk.storage import create_store
from kiosk.storage.base import DayRange
from kiosk.web.appkeys import STORE
from tests.conftest import PASSWORD, hall_dict, login, take


async def test_a_regency_account_reads_the_halls_and_acts_on_nothing(client, clock):
    staff = await login(client, "siti", "officer", ("1",))
    for _ in range(3):
        await take(client, "B")
    await client.post("/api/counters/1/next", headers=staff)
    clock.advance(120)
    regency = await login(client, "bupati", "regency")
    resp = await client.get("/api/regency/halls", headers=regency)
    assert resp.status == 200
    body = await resp.json()
    # This hall (on PostgreSQL the suite's other halls share the database and are listed too).
    here = getattr(client.server.app[STORE], "location", None)
    (hall,) = [h for h in body["halls"] if h["hall"] == (here.hall if here else "default")]
    assert (hall["name"], hall["issued"], hall["waiting"], hall["at_counters"]) == ("MPP Uji <b>Coba</b>", 3, 2, 1)
    assert hall["mean_wait_s"] == 0 and hall["longest_wait_s"] == 120
    assert body["totals"]["issued"] == sum(h["issued"] for h in body["halls"]) >= 3
    resp = await client.get("/api/regency/summary?range=week", headers=regency)
    (summary,) = [r for r in (await resp.json())["rows"] if r["hall"] == hall["hall"]]
    assert (summary["name"], summary["issued"], summary["called"], summary["wait_p50_s"]) == \
        ("MPP Uji <b>Coba</b>", 3, 1, 0), "the hall's report, as /laporan computes it"
    for method, path in (("POST", "/api/counters/1/next"), ("GET", "/api/counters"), ("GET", "/api/admin/hall"),
                         ("GET", "/api/users"), ("GET", "/api/audit")):
        resp = await client.request(method, path, headers=regency)
        assert resp.status == 403, (path, resp.status)
    assert (await client.get("/api/regency/halls", headers=staff)).status == 403


async def test_the_regency_page_after_login(client):
    await login(client, "bupati", "regency")
    form = (await client.get("/staff/login")).cookies["giliran_login_csrf"].value
    resp = await client.post("/staff/login", data={"username": "bupati", "password": PASSWORD, "csrf": form})
    assert resp.status == 200 and str(resp.url).endswith("/kabupaten"), "a regency account lands on its page"
    html = await resp.text()
    assert "MPP Uji &lt;b&gt;Coba&lt;/b&gt;" in html and "hanya baca" in html
    assert 'href="/staff"' not in html, "no counter work offered"
    assert (await client.get("/kabupaten", allow_redirects=False)).status == 200


async def test_every_hall_of_a_shared_database(pg_server, clock):
    stores = []
    try:
        for hall, name, tickets in (("kec-a", "Kecamatan A", 2), ("kec-b", "Kecamatan B", 5)):
            store = create_store(f"{pg_server}?hall={hall}")
            stores.append(store)
            await store.open()
            doc = hall_dict(hall={"name": name, "timezone": "Asia/Jakarta", "id": hall})
            runtime = Runtime.build(store, parse_hall(doc), clock, EventBus())
            await runtime.start()
            for _ in range(tickets):
                await runtime.queue.issue("B")
        halls = {h["hall"]: h for h in await stores[0].reads.halls_day(runtime.queue.today(), clock.now())}
        assert (halls["kec-a"]["name"], halls["kec-a"]["issued"]) == ("Kecamatan A", 2)
        assert (halls["kec-b"]["name"], halls["kec-b"]["waiting"]) == ("Kecamatan B", 5)
        documents = await stores[0].regency_halls()
        assert "Kecamatan B" in documents["kec-b"], "every hall's document, read from the first hall's store"
        day = DayRange(runtime.queue.today(), runtime.queue.today())
        _, total = await stores[0].reports_of("kec-b").summary(day, "total", [], None, 1800, 25200)
        assert total.counts["issued"] == 5, "another hall's report, read only"
    finally:
        for store in stores:
            await store.close()


async def test_the_command_line_makes_regency_accounts(tmp_path, db_at):
    from tests.server_process import run_cli, write_hall
    config, db = write_hall(tmp_path), db_at("cli-regency")
    code, _, err = await run_cli("user", "add", "bupati", "--role", "regency", "--password-stdin", "--config", str(config),
                                 "--db", str(db), stdin=PASSWORD + "\n")
    assert code == 0, err
    code, out, _ = await run_cli("user", "list", "--config", str(config), "--db", str(db))
    assert out.splitlines() == ["bupati\tregency\t-\t-\tactive"]  # name, role, counters, agencies, state
