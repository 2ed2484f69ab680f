"""The report API over HTTP: who may read it, the exact JSON, 422 codes for bad ranges, CSV and XLSX
read back the way spreadsheets read them, agency-limited supervisors everywhere, and the live SLA."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from kiosk.web.appkeys import AUTH, QUEUE
from tests.conftest import PASSWORD, login, take, wib

KEYS = {"key", "label", "issued", "served", "no_show", "cancelled", "expired", "transferred_out", "wait_p50_s",
        "wait_p90_s", "wait_mean_s", "walk_mean_s", "service_mean_s", "within_target_pct"}
NAME = "Surat Keterangan Catatan Kepolisian — “baru” · Ühé"


@pytest.fixture
async def hall_client(client_for):
    services = [{"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL"},
                {"code": "B", "name": NAME, "agency": "DUKCAPIL", "target_wait_minutes": 1},
                {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}]
    return await client_for(services=services, hall={"name": "MPP Purwakarta · Uji", "timezone": "Asia/Jakarta",
                                                     "public_url": "http://hall.test"})


async def a_morning(client, clock) -> dict[str, str]:
    """A2 waits 120 s at counter 1, B1 90 s; P1 300 s at counter 3 (IMIGRASI)."""
    officer = await login(client, "siti", "officer", ("1", "3"))
    clock.set(wib(2026, 11, 25, 9, 0))
    await take(client, "A")
    await take(client, "B")
    await take(client, "P")
    clock.advance(90)
    assert (await client.post("/api/counters/4/next", headers=officer)).status == 403
    await client.post("/api/counters/1/next", headers=officer)  # A001 after 90 s
    clock.advance(30)
    await client.post("/api/counters/1/start", headers=officer)
    clock.advance(60)
    await client.post("/api/counters/1/finish", headers=officer)
    await client.post("/api/counters/1/next", headers=officer)  # B001 after 180 s (target 60 s: missed)
    clock.advance(120)
    await client.post("/api/counters/3/next", headers=officer)  # P001 after 300 s
    return officer


async def test_who_may_read_and_the_exact_json(hall_client, clock):
    client = hall_client
    officer = await a_morning(client, clock)
    assert (await client.get("/api/reports/summary")).status == 401
    resp = await client.get("/api/reports/summary", headers=officer)
    assert resp.status == 403
    supervisor = await login(client, "sri", "supervisor")
    resp = await client.get("/api/reports/summary?from=2026-11-25&to=2026-11-25&by=service", headers=supervisor)
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"from", "to", "by", "rows", "total"}
    assert (body["from"], body["to"], body["by"]) == ("2026-11-25", "2026-11-25", "service")
    assert all(set(r) >= KEYS for r in [*body["rows"], body["total"]])
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["A"]["wait_p50_s"] == 90 and rows["A"]["served"] == 1 and rows["A"]["service_mean_s"] == 60.0
    assert rows["B"]["label"] == NAME and rows["B"]["within_target_pct"] == 0.0
    assert rows["P"]["wait_p50_s"] == 300
    assert body["total"]["issued"] == 3 and body["total"]["wait_p50_s"] == 180
    assert (body["total"]["wait_p90_s"], body["total"]["within_target_pct"]) == (300, 66.7)
    # Defaults: today (the hall's day) by service.
    same = await (await client.get("/api/reports/summary", headers=supervisor)).json()
    assert same == body


@pytest.mark.parametrize("query, code", [
    ("from=2026-13-01&to=2026-12-01", "invalid_date"),
    ("from=25-11-2026&to=2026-11-25", "invalid_date"),
    ("from=2026-02-30&to=2026-03-01", "invalid_date"),
    ("from=&to=2026-03-01", "invalid_date"),
    ("from=2026-11-25&to=2026-11-24", "range_reversed"),
    ("from=2025-11-24&to=2026-11-25", "range_too_long"),
    ("from=2026-11-25&to=2026-11-25&by=kiosk", "invalid_grouping"),
])
async def test_bad_ranges_are_refused_with_a_code(client, query, code):
    admin = await login(client, "admin", "admin")
    for suffix in ("", ".csv", ".xlsx"):
        resp = await client.get(f"/api/reports/summary{suffix}?{query}", headers=admin)
        assert resp.status == 422, (suffix, query)
        error = (await resp.json())["error"]
        assert error["code"] == code and error["message"]


async def test_a_year_is_allowed(client):
    admin = await login(client, "admin", "admin")
    resp = await client.get("/api/reports/summary?from=2025-11-26&to=2026-11-25&by=day", headers=admin)
    assert resp.status == 200, await resp.text()


async def test_csv_reads_back_with_indonesian_text_intact(hall_client, clock):
    client = hall_client
    await a_morning(client, clock)
    admin = await login(client, "admin", "admin")
    resp = await client.get("/api/reports/summary.csv?from=2026-11-25&to=2026-11-25&by=service", headers=admin)
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert 'filename="laporan-layanan-2026-11-25.csv"' in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM: Excel then reads the file as UTF-8"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["Kode", "Layanan", "Diambil", "Masuk alihan"]
    assert [r[1] for r in rows[1:]] == ["KTP Elektronik", NAME, "Paspor", "Jumlah"]
    header = rows[0]
    b = dict(zip(header, rows[2], strict=True))
    assert (b["Diambil"], b["Tunggu median (detik)"], b["Dalam target (%)"]) == ("1", "180", "0.0")
    assert raw.count(b"\r\n") == len(rows)


async def test_xlsx_is_a_real_workbook_with_a_title_row(hall_client, clock):
    client = hall_client
    await a_morning(client, clock)
    admin = await login(client, "admin", "admin")
    resp = await client.get("/api/reports/summary.xlsx?from=2026-11-01&to=2026-11-30&by=counter", headers=admin)
    assert resp.status == 200 and resp.content_type.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(await resp.read()))
    assert book.sheetnames == ["Per loket"]
    sheet = book["Per loket"]
    assert sheet["A1"].value == "MPP Purwakarta · Uji · Laporan 1–30 November 2026"
    assert sheet["A2"].value == "Ringkasan per loket"
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert values[0][:3] == ["Kode", "Loket", "Diambil"]
    one = next(v for v in values if v[0] == "1")
    assert one[1] == "Loket 1" and one[2] == 2 and isinstance(one[2], int)
    assert values[3][1] == "Jumlah" and values[3][2] == 3
    whole = await client.get("/api/reports/workbook.xlsx?from=2026-11-25&to=2026-11-25", headers=admin)
    book = load_workbook(io.BytesIO(await whole.read()))
    assert book.sheetnames == ["Per layanan", "Per instansi", "Per loket", "Per petugas", "Per jam (grafik)",
                               "Sebaran tunggu", "Kedatangan", "Utilisasi loket"]
    services = [[c.value for c in row] for row in book["Per layanan"].iter_rows(min_row=5, max_col=2)]
    assert services[1] == ["B", NAME]


async def test_agency_limited_supervisor_sees_only_their_agencies(hall_client, clock):
    client = hall_client
    await a_morning(client, clock)
    app = client.server.app
    await app[AUTH].add_user("imi", PASSWORD, "supervisor", (), app[QUEUE].config, ["IMIGRASI"])
    resp = await client.post("/api/login", json={"username": "imi", "password": PASSWORD})
    imi = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    for by in ("service", "agency", "counter", "officer", "day", "hour"):
        body = await (await client.get(f"/api/reports/summary?from=2026-11-25&to=2026-11-25&by={by}",
                                       headers=imi)).json()
        assert body["total"]["issued"] == 1 and body["total"]["wait_p50_s"] == 300, by
        assert sum(r["issued"] for r in body["rows"]) == 1, by
    body = await (await client.get("/api/reports/summary?by=service", headers=imi)).json()
    assert [r["key"] for r in body["rows"]] == ["P"]
    raw = await (await client.get("/api/reports/summary.csv?by=service", headers=imi)).read()
    assert "KTP" not in raw.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(await (await client.get("/api/reports/workbook.xlsx", headers=imi)).read()))
    assert "Instansi: Imigrasi" in book["Per layanan"]["A1"].value
    cells = {c.value for s in book for row in s.iter_rows() for c in row}
    assert "KTP Elektronik" not in cells and NAME not in cells
    sla = await (await client.get("/api/reports/sla", headers=imi)).json()
    assert sla == []  # P001 was called: nobody of IMIGRASI waits
    admin = await login(client, "admin", "admin")
    resp = await client.post("/api/users", headers=admin, json={"username": "kadis", "password": PASSWORD,
                                                                "role": "supervisor", "agencies": ["NOPE"]})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "unknown_agency"
    resp = await client.post("/api/users", headers=admin, json={"username": "kadis", "password": PASSWORD,
                                                                "role": "officer", "counters": ["1"],
                                                                "agencies": ["IMIGRASI"]})
    assert (await resp.json())["error"]["code"] == "agencies_not_allowed"
    resp = await client.post("/api/users", headers=admin, json={"username": "kadis", "password": PASSWORD,
                                                                "role": "supervisor", "agencies": ["DUKCAPIL"]})
    assert resp.status == 201 and (await resp.json())["agencies"] == ["DUKCAPIL"]
    listed = {u["username"]: u for u in await (await client.get("/api/users", headers=admin)).json()}
    assert listed["kadis"]["agencies"] == ["DUKCAPIL"] and listed["sri"]["agencies"] == [] \
        if "sri" in listed else listed["kadis"]["agencies"] == ["DUKCAPIL"]


async def test_sla_watch_turns_amber_then_red(hall_client, clock):
    client = hall_client
    supervisor = await login(client, "sri", "supervisor")
    clock.set(wib(2026, 11, 25, 9, 0))
    await take(client, "A")  # target 30 minutes
    clock.advance(60)
    await take(client, "A")
    clock.advance(20 * 60 - 60)
    rows = await (await client.get("/api/reports/sla", headers=supervisor)).json()
    assert rows == [{"service": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL", "waiting": 2,
                     "longest_wait_s": 1200, "target_s": 1800, "ratio": 0.67, "level": "ok", "level_label": "aman"}]
    clock.advance(4 * 60)  # 24 minutes: 80% of the target
    rows = await (await client.get("/api/reports/sla", headers=supervisor)).json()
    assert rows[0]["level"] == "amber" and rows[0]["level_label"] == "mendekati target"
    clock.advance(6 * 60)
    rows = await (await client.get("/api/reports/sla", headers=supervisor)).json()
    assert (rows[0]["longest_wait_s"], rows[0]["level"]) == (1800, "red")


async def test_agencies_on_the_users_page_and_the_command_line(client, tmp_path, db_at):
    from tests.server_process import run_cli, write_hall
    from tests.test_admin import page_session

    csrf = await page_session(client, "admin", "admin")
    page = await (await client.get("/admin/users")).text()
    assert 'name="agencies[]" value="IMIGRASI"' in page
    resp = await client.post("/admin/users", data={"csrf": csrf, "action": "add", "username": "kepala.imi",
                                                   "role": "supervisor", "password": PASSWORD,
                                                   "agencies[]": ["IMIGRASI"]}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    page = await (await client.get("/admin/users")).text()
    assert "<td>kepala.imi</td><td>pengawas</td><td>semua</td>\n        <td>IMIGRASI</td>" in page
    resp = await client.post("/admin/users", data={"csrf": csrf, "action": "add", "username": "siti",
                                                   "role": "officer", "password": PASSWORD, "counters[]": ["1"],
                                                   "agencies[]": ["IMIGRASI"]})
    assert resp.status == 422 and "hanya untuk supervisor" in await resp.text()
    config, db = write_hall(tmp_path), db_at("cli")
    common = ("--config", str(config), "--db", str(db))
    code, out, err = await run_cli("user", "add", "sri", "--role", "supervisor", "--agencies", "DUKCAPIL",
                                   "--password-stdin", *common, stdin=PASSWORD + "\n")
    assert code == 0 and "agencies: DUKCAPIL" in out, err
    code, _, err = await run_cli("user", "add", "budi", "--role", "supervisor", "--agencies", "DKP",
                                 "--password-stdin", *common, stdin=PASSWORD + "\n")
    assert code == 1 and "Instansi 'DKP'" in err
    code, out, _ = await run_cli("user", "list", *common)
    assert out.splitlines() == ["sri\tsupervisor\t-\tDUKCAPIL\tactive"]


async def test_demo_history_from_the_command_line(tmp_path, db_at):
    from tests.server_process import run_cli, write_hall

    config, db = write_hall(tmp_path), db_at("demo")
    common = ("--config", str(config), "--db", str(db))
    code, out, err = await run_cli("demo-history", "--days", "8", "--per-day", "300", *common)
    assert code == 0, err
    assert "on 7 days" in out and "0 days that had tickets" in out  # a Sunday is closed
    code, out, _ = await run_cli("demo-history", "--days", "8", "--per-day", "300", *common)
    assert "on 0 days" in out and "7 days that had tickets were left as they were" in out
    code, _, err = await run_cli("demo-history", "--days", "0", *common)
    assert code == 2 and "--days" in err
