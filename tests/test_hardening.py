"""Hostile admins, malformed requests and abusive clients (issue 15): each gets a clear refusal and
breaks nothing."""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.queue.errors import TooManyRequests, Unauthorized
from kiosk.settings import Settings
from kiosk.web.appkeys import AUTH, BUS, CLOCK, QUEUE, SETTINGS, STORE
from tests.conftest import PASSWORD, hall_dict, login, take

SURROGATE = b'"\\ud800"'  # a lone surrogate, valid JSON text but not a Unicode string


def raw_json(template: str) -> bytes:
    """A JSON body whose `@` is replaced by a lone surrogate string."""
    return template.encode().replace(b"@", SURROGATE)


async def assert_refused(resp, status: int = 400) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["error"]["code"] and body["error"]["message"]
    return body


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


JSON = {"Content-Type": "application/json"}


async def test_lone_surrogates_are_refused_everywhere(client, admin, no_tracebacks):
    officer = await login(client, "siti", "officer", ("1",))
    ticket = await take(client, "A")
    await client.post("/api/counters/1/next", headers=officer)
    cases = [
        ("POST", "/api/tickets", raw_json('{"service": @}'), {}),
        ("POST", "/api/tickets", raw_json('{"service": "A", "phone": @}'), {}),
        ("POST", "/api/login", raw_json('{"username": @, "password": "x"}'), {}),
        ("POST", "/api/counters/1/transfer", raw_json('{"service": @}'), officer),
        ("POST", f"/api/tickets/{ticket['token']}/reprint", raw_json('{"printer": @}'), admin),
        ("PUT", "/api/admin/services/A", raw_json('{"name": @}'), admin),
        ("PUT", "/api/display/ticker", raw_json('{"text": @}'), admin),
        ("POST", f"/api/tickets/{ticket['token']}/phone", raw_json('{"phone": @}'), {}),
        ("POST", "/api/tickets", raw_json('{@: "A"}'), {}),
    ]
    for method, path, body, headers in cases:
        resp = await client.request(method, path, data=body, headers=JSON | headers)
        await assert_refused(resp)


async def test_a_nul_character_is_refused_before_any_store_sees_it(client, admin, no_tracebacks):
    """PostgreSQL's text cannot hold NUL (SQLite's can): a token, a query or a JSON string with one
    is a 400 on either store, never a 500 from the database."""
    ticket = await take(client, "A")
    for path in (f"/api/tickets/{ticket['token']}%00", "/api/tickets/%00", "/t/x%00y",
                 "/api/services?x=%00", "/api/reports/summary?from=2026-11-01%00&to=2026-11-02"):
        resp = await client.get(path, headers=admin)
        assert resp.status == 400, (path, resp.status)
    await assert_refused(await client.post("/api/tickets", data=b'{"service": "A\\u0000"}', headers=JSON))
    await assert_refused(await client.post("/api/tickets", data=b'{"service": "A", "phone": "0812\\u0000"}',
                                           headers=JSON))
    assert (await client.get(f"/api/tickets/{ticket['token']}")).status == 200, "the ticket itself is fine"


async def test_deep_json_and_broken_encodings_are_bad_requests(client, no_tracebacks):
    await assert_refused(await client.post("/api/tickets", data=b"[" * 5000 + b"]" * 5000, headers=JSON))
    await assert_refused(await client.post("/api/tickets", data=b'{"a":' * 3000 + b"1" + b"}" * 3000,
                                           headers=JSON))
    resp = await client.post("/api/tickets", data=b"this is not gzip",
                             headers=JSON | {"Content-Encoding": "gzip"})
    await assert_refused(resp)
    good = gzip.compress(b'{"service": "A"}')
    resp = await client.post("/api/tickets", data=good, headers=JSON | {"Content-Encoding": "gzip"})
    assert resp.status == 201, "a real gzip body is still understood"


async def test_undecodable_forms_get_an_indonesian_page(client, admin, no_tracebacks):
    login_page = await client.get("/staff/login")
    csrf = login_page.cookies["giliran_login_csrf"].value
    resp = await client.post("/staff/login", data=b"username=\xff\xfe&password=x&csrf=" + csrf.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 400
    text = await resp.text()
    assert "Traceback" not in text and "tidak" in text.lower()
    # A multipart admin form, from a logged-in admin, with bytes that are not UTF-8.
    from tests.test_admin import page_session
    csrf = await page_session(client, "boss", "admin")
    boundary = "XyZ"
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value
                    + b"\r\n" for name, value in (("csrf", csrf.encode()), ("name", b"\xff\xfe\xfd"))) + \
        f"--{boundary}--\r\n".encode()
    resp = await client.post("/admin/services/A", data=body,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status == 400 and "UTF-8" in await resp.text()
    assert client.server.app[QUEUE].config.service("A").name == "KTP Elektronik", "nothing changed"


# --- 1. printers write to devices, never to the server's files -------------------------------------------
async def test_an_admin_cannot_point_a_printer_at_a_file(client, admin, tmp_path):
    db = str(client.server.app[SETTINGS].db)
    for body in ({"driver": "file", "devfile": db}, {"driver": "file", "devfile": "/etc/passwd"},
                 {"driver": "serial", "devfile": "/dev/../tmp/x"}, {"driver": "preview", "directory": "/tmp"},
                 {"driver": "preview", "directory": "../.."}):
        resp = await client.put("/api/admin/printers/PV", json=body, headers=admin)
        assert resp.status in (400, 422), body  # 400: the admin pages do not even offer a preview folder
        assert (await resp.json())["error"]["code"] in ("invalid_hall", "unknown_field")
    assert client.server.app[QUEUE].config.printer("PV").driver == "preview", "nothing changed"
    resp = await client.put("/api/admin/printers/PV", json={"driver": "file", "devfile": "/dev/usb/lp0"},
                            headers=admin)
    assert resp.status == 200, "a real device path is fine"


@pytest.mark.sqlite_only  # the database is a file in the data directory
async def test_a_listed_path_into_the_data_directory_is_still_refused(aiohttp_client, tmp_path, clock, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "giliran.sqlite3"
    link = tmp_path / "printer"
    link.symlink_to(db)  # listed by mistake at deploy time, but it leads to the database
    monkeypatch.setenv("GILIRAN_PRINTER_DEVICES", str(link))
    config = parse_hall(hall_dict(printers=[{"id": "LP", "driver": "file", "devfile": str(link)}],
                                  kiosks=[{"id": "K1", "name": "Kios", "printer": "LP"}]))
    client = await aiohttp_client(create_app(Settings(db=db), config=config, clock=clock, synchronous="NORMAL"))
    ticket = await take(client, "A", kiosk="K1")
    assert ticket["print"]["state"] == "queued"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    staff = await login(client, "adi", "admin")
    (row,) = await (await client.get("/api/printers", headers=staff)).json()
    assert row["state"] == "offline" and "folder data" in (row["last_error"] or "")


# --- 4. nobody locks a staff member out from elsewhere ------------------------------------------------------
async def test_failed_logins_elsewhere_do_not_lock_the_real_user_out(client):
    await login(client, "siti", "officer", ("1",))
    auth = client.server.app[AUTH]
    for _ in range(12):
        with pytest.raises((Unauthorized, TooManyRequests)):
            await auth.login("siti", "salah-sekali", "10.0.0.9")
    token, user = await auth.login("siti", PASSWORD, "10.0.0.7")  # the real user, at her counter
    assert user.username == "siti" and token
    with pytest.raises(TooManyRequests):
        await auth.login("siti", PASSWORD, "10.0.0.9")  # the guesser's address is slowed down
    with pytest.raises(TooManyRequests):
        await auth.login("budi", "apa-saja-123", "10.0.0.9")  # ... for every user


# --- 6 and 7. admin values that pass must not break the hall ------------------------------------------------
@pytest.mark.parametrize(("section", "body"), [
    ("display", {"phrase": "{number!r:>99999999}"}),
    ("display", {"phrase": "{number.__class__.__mro__}"}),
    ("display", {"phrase": "Nomor {nomor}"}),
    ("limits", {"login_window_s": "inf"}),
    ("limits", {"tickets_per_minute": "NaN"}),
    ("limits", {"ticket_burst": "1e400"}),
    ("counters/2", {"name": "Loket " + "9" * 400}),
    ("services/A", {"name": "KTP\x1b@ Elektronik"}),
    ("services/A", {"name": "KTP\x1dV\x00"}),
    ("agencies/DUKCAPIL", {"name": "Dukcapil\u202e"}),
    ("tickets", {"footer": "Terima kasih\x1b@"}),
])
async def test_values_that_would_break_the_hall_are_refused(client, admin, section, body, no_tracebacks):
    before = client.server.app[QUEUE].config
    resp = await client.put(f"/api/admin/{section}", json=body, headers=admin)
    assert resp.status in (400, 422), (section, body, resp.status)
    assert client.server.app[QUEUE].config is before
    hall = await client.get("/api/admin/hall", headers=admin)
    json.loads(await hall.text(), parse_constant=lambda c: pytest.fail(f"{c} in the hall document"))


async def test_json_constants_are_not_numbers(client, admin):
    resp = await client.put("/api/admin/limits", data=b'{"tickets_per_minute": NaN}', headers=JSON | admin)
    assert resp.status == 400
    resp = await client.put("/api/admin/limits", data=b'{"login_window_s": Infinity}', headers=JSON | admin)
    assert resp.status == 400


def test_check_config_applies_the_same_rules(tmp_path):
    from kiosk.hall.config import ConfigError
    from kiosk.hall.parse import load_hall
    cases = {
        "phrase": 'display = { phrase = "{number:>999999}" }',
        "nan": "limits = { login_window_s = nan }",
        "inf": "limits = { tickets_per_minute = inf }",
        "control": 'tickets = { footer = "a\\u001b@b" }',
        "deep": "x = " + "[" * 3000 + "]" * 3000,
    }
    base = tmp_path / "hall.toml"
    from tests.server_process import HALL_TOML
    for name, line in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(line + "\n" + HALL_TOML)
        with pytest.raises(ConfigError) as info:
            load_hall(path)
        assert str(path) in str(info.value), name
    base.write_text(HALL_TOML)
    load_hall(base)


async def test_a_display_stream_survives_a_bad_event(client, no_tracebacks):
    from tests.test_events import read_events
    store = client.server.app[STORE]
    resp = await client.get("/display-events")
    (snapshot,) = await read_events(resp, 1)
    async with store.transaction() as q:  # an event no hall can produce any more: a runaway counter name
        await q.insert_event("ticket.called", {"number": "A001", "service": "A", "service_name": "KTP",
                                               "counter": "1", "counter_name": "Loket " + "9" * 400,
                                               "recall": False, "priority": False},
                              client.server.app[CLOCK].now())
    client.server.app[BUS].publish((await store.reads.events_after(int(snapshot["id"])))[0])
    await take(client, "B")
    (after,) = await read_events(resp, 1)
    assert after["event"] == "queue.changed", "the bad event was skipped, the stream goes on"
    resp.close()
    resumed = await client.get("/display-events", headers={"Last-Event-ID": snapshot["id"]})
    (again,) = await read_events(resumed, 1)
    assert again["event"] == "queue.changed"
    resumed.close()


# --- 8. a replay is bounded ------------------------------------------------------------------------------
async def test_an_old_event_id_gets_a_snapshot_not_a_replay(client, admin):
    from kiosk.web.sse import REPLAY_MAX
    from tests.test_events import read_events
    for i in range(REPLAY_MAX + 20):
        await client.put("/api/display/ticker", json={"text": f"Pengumuman {i}"}, headers=admin)
    resp = await client.get("/display-events?last_event_id=1")
    (first,) = await read_events(resp, 1)
    assert first["event"] == "snapshot" and first["data"]["ticker"] == f"Pengumuman {REPLAY_MAX + 19}"
    resp.close()
    newest = int(first["id"])
    resp = await client.get(f"/display-events?last_event_id={newest - 2}")
    assert [e["event"] for e in await read_events(resp, 2)] == ["display.ticker", "display.ticker"]
    resp.close()


async def test_yesterdays_event_id_gets_a_snapshot(client, clock):
    from tests.test_events import read_events
    await take(client, "A")
    last = await client.server.app[STORE].reads.last_event_id()
    clock.advance(24 * 3600)
    await take(client, "A")
    resp = await client.get(f"/display-events?last_event_id={last - 1}")
    (first,) = await read_events(resp, 1)
    assert first["event"] == "snapshot"
    resp.close()


# --- 10. officers see their own counters -----------------------------------------------------------------
async def test_officers_are_scoped_to_their_counters(client):
    officer = await login(client, "siti", "officer", ("1",))
    boss = await login(client, "sri", "supervisor")
    mine, other = await take(client, "A", kiosk="KV"), await take(client, "P", kiosk="KV")
    await client.post("/api/counters/3/next", headers=boss)  # P001 at counter 3
    assert (await client.get("/api/counters/1/queue", headers=officer)).status == 200
    assert (await client.get("/api/counters/3/queue", headers=officer)).status == 403
    rows = {r["id"]: r for r in await (await client.get("/api/counters", headers=officer)).json()}
    assert rows["3"]["current"]["number"] == "P001" and "token" not in rows["3"]["current"]
    assert (await client.post(f"/api/tickets/{other['token']}/reprint", headers=officer)).status == 403
    resp = await client.post(f"/api/tickets/{other['token']}/reprint", json={"printer": "PV"}, headers=officer)
    assert resp.status == 403
    assert (await client.post(f"/api/tickets/{mine['token']}/reprint", headers=officer)).status == 202
    assert (await client.post(f"/api/tickets/{other['token']}/reprint", json={"printer": "PV"},
                              headers=boss)).status == 202


# --- 12. another site's page cannot print on a kiosk -------------------------------------------------------
async def test_the_json_api_takes_only_json(client):
    before = await (await client.get("/api/services")).json()
    resp = await client.post("/api/tickets", data='{"service": "A", "kiosk": "KV"}',
                             headers={"Content-Type": "text/plain"})
    await assert_refused(resp, 415)
    assert await (await client.get("/api/services")).json() == before, "no ticket was issued"


async def test_a_kiosk_bound_to_its_address_or_key(client_for, aiohttp_client, db_at, clock):
    bound = hall_dict(kiosks=[{"id": "KV", "name": "Kios Lobi", "printer": "PV", "addresses": ["10.20.30.40"]},
                              {"id": "KK", "name": "Kios Kunci", "printer": "PV"}])
    settings = Settings(db=db_at("kiosks"), kiosk_keys={"KK": "k" * 24})
    client = await aiohttp_client(create_app(settings, config=parse_hall(bound), clock=clock, synchronous="NORMAL"))
    body = await assert_refused(await client.post("/api/tickets", json={"service": "A", "kiosk": "KV"}), 403)
    assert body["error"]["code"] == "kiosk_not_allowed" and "Kios Lobi" in body["error"]["message"]
    await assert_refused(await client.post("/api/tickets", json={"service": "A", "kiosk": "KK"}), 403)
    resp = await client.post("/api/tickets", json={"service": "A", "kiosk": "KK"}, headers={"X-Kiosk-Key": "k" * 24})
    assert resp.status == 201
    assert (await client.post("/api/tickets", json={"service": "A"})).status == 201, "a phone takes no kiosk"


# --- 13. pages with a session or a ticket are not cached ------------------------------------------------------
async def test_private_pages_are_not_cached(client):
    ticket = await take(client, "A")
    for path in ("/staff/login", f"/t/{ticket['token']}", "/api/services"):
        resp = await client.get(path)
        assert resp.headers.get("Cache-Control") == "no-store", path
    from tests.test_admin import page_session
    await page_session(client, "boss", "admin")
    for path in ("/admin", "/staff", "/staff/audit"):
        resp = await client.get(path)
        assert resp.status == 200 and resp.headers.get("Cache-Control") == "no-store", path
