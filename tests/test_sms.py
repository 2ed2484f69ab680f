"""SMS alerts through real HTTP gateway stand-ins: exact request formats, auth, retries, 160 GSM-7."""

from __future__ import annotations

import asyncio
import base64
import stat

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.messages import is_gsm7, message_text
from tests.conftest import hall_dict, login, take
from tests.sms_standins import GatewayStandIn
from tests.test_admin import page_session

ALERTS = {"approach_ahead": 1, "approach_minutes": 0, "retry_first_s": 0.2}
PHONE, E164 = "0812-3456-7890", "+6281234567890"


async def until(condition, timeout: float = 15.0):
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


@pytest.fixture
def sms_client(aiohttp_client, tmp_path, monkeypatch, db_at):
    async def make(sms: dict):
        monkeypatch.setenv("GILIRAN_SMS_USERNAME", "giliran")
        monkeypatch.setenv("GILIRAN_SMS_PASSWORD", "sandi-gateway")
        monkeypatch.setenv("GILIRAN_SMS_TOKEN", "token-gateway")
        config = parse_hall(hall_dict(alerts=ALERTS, sms=sms | {"rate_per_minute": 600}))
        return await aiohttp_client(create_app(Settings(db=db_at("sms")), config=config,
                                               synchronous="NORMAL"))
    return make


async def _walk_to_the_counter(client) -> dict:
    """A citizen with a phone waits behind two others; staff call all three."""
    staff = await login(client, "siti", "officer", ("2",))
    await take(client, "A")
    await take(client, "A")
    ticket = await take(client, "A", phone=PHONE)
    for _ in range(3):
        await client.post("/api/counters/2/next", headers=staff)
    return ticket


async def test_smsgate_gets_its_json_with_basic_auth_and_503_is_retried(sms_client):
    gateway = GatewayStandIn("/messages", fail_first=2, fail_status=503)
    url = await gateway.start()
    client = await sms_client({"provider": "smsgate", "base_url": url})
    await _walk_to_the_counter(client)
    await until(lambda: sum(1 for r in gateway.requests if r.get("json")) >= 4)
    await asyncio.sleep(0.8)
    delivered = gateway.requests[2:]  # the first two met a full queue (503)
    assert [r["json"]["phoneNumbers"] for r in delivered] == [[E164], [E164]]
    texts = [r["json"]["textMessage"]["text"] for r in delivered]
    assert "hampir dipanggil" in texts[0] and "DIPANGGIL" in texts[1] and "Loket 2" in texts[1]
    assert all(len(t) <= 160 and is_gsm7(t) for t in texts)
    auth = gateway.requests[0]["headers"]["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"giliran:sandi-gateway").decode()
    assert "message" not in delivered[0]["json"], "the deprecated field is not used"
    await gateway.stop()


async def test_zenziva_form_fields_and_status(sms_client):
    gateway = GatewayStandIn("/reguler/api/sendsms/", ok_status=200,
                             ok_body={"messageId": "1", "to": "081234567890", "status": "1", "text": "Success"})
    url = await gateway.start()
    client = await sms_client({"provider": "zenziva", "base_url": url, "path": "/reguler/api/sendsms/"})
    await _walk_to_the_counter(client)
    await until(lambda: len(gateway.requests) >= 2)
    form = gateway.requests[0]["form"]
    assert form["userkey"] == "giliran" and form["passkey"] == "sandi-gateway" and form["to"] == "081234567890"
    assert "hampir dipanggil" in form["message"]
    await gateway.stop()


async def test_zenziva_refusal_is_recorded_not_retried_forever(sms_client):
    gateway = GatewayStandIn("/sms", ok_status=200, ok_body={"status": "0", "text": "Saldo tidak cukup"})
    url = await gateway.start()
    client = await sms_client({"provider": "zenziva", "base_url": url, "path": "/sms"})
    ticket = await _walk_to_the_counter(client)
    await until(lambda: len(gateway.requests) >= 2)
    staff = await login(client, "budi", "supervisor")
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    assert {m["state"] for m in log} == {"failed"} and "Saldo tidak cukup" in log[0]["last_error"]
    assert "3456" not in str(log) and log[0]["to"] == "+628…890", "staff see a masked number"
    await gateway.stop()


async def test_generic_http_gateway_uses_the_body_template_and_token(sms_client):
    gateway = GatewayStandIn("/kirim", ok_status=200, ok_body={"ok": True})
    url = await gateway.start()
    template = '{"tujuan": "{phone}", "isi": "{text}", "pengirim": "MPP"}'
    client = await sms_client({"provider": "http", "base_url": url, "path": "/kirim", "body_template": template})
    await _walk_to_the_counter(client)
    await until(lambda: len(gateway.requests) >= 2)
    body = gateway.requests[0]["json"]
    assert body["tujuan"] == E164 and body["pengirim"] == "MPP" and "hampir dipanggil" in body["isi"]
    assert gateway.requests[0]["headers"]["Authorization"] == "Bearer token-gateway"
    await gateway.stop()


def _recording_inject(tmp_path) -> tuple:
    """A stand-in for gammu-smsd-inject that records its argv (one line per call, NUL-separated)
    and answers as the real one does."""
    record = tmp_path / "injected.txt"
    script = tmp_path / "gammu-smsd-inject"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a" >> {record}; done\necho >> {record}\n'
                      f'echo "Written message with ID /var/spool/gammu/outbox/OUTC_$2_sms0.txt"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, record


def _calls(record) -> list[list[str]]:
    return [line.split("\0")[:-1] for line in record.read_text(encoding="utf-8").splitlines() if line]


async def test_gammu_inject_takes_utf8_text_and_the_config_file(sms_client, tmp_path):
    script, record = _recording_inject(tmp_path)
    client = await sms_client({"provider": "gammu", "command": str(script), "gammu_config": "/etc/gammu-hall"})
    await _walk_to_the_counter(client)
    await until(lambda: record.exists() and len(_calls(record)) >= 2)
    first = _calls(record)[0]
    assert first[:5] == ["-c", "/etc/gammu-hall", "TEXT", "081234567890", "-textutf8"], \
        "-textutf8 (the text as UTF-8 whatever the locale), never -text"
    assert "hampir dipanggil" in first[5]
    log = await (await client.get(f"/api/tickets/{(await take(client, 'B'))['token']}/messages",
                                  headers=await login(client, "budi", "supervisor"))).json()
    assert log == []


async def test_gammu_keeps_what_is_not_gsm7_under_a_c_locale(tmp_path, monkeypatch):
    """The real gammu-smsd-inject (FILES backend, no modem), when installed: under LC_ALL=C the
    old `-text` stored "Loket Caf"; `-textutf8` keeps "Café" (and -unicode keeps it in the SMS)."""
    import shutil

    from kiosk.hall.config import SmsSettings
    from notifier.senders import Outgoing
    from notifier.sms import GammuSender

    binary = shutil.which("gammu-smsd-inject")
    if binary is None:
        pytest.skip("gammu-smsd-inject is not installed (apt install gammu-smsd); the argv test above covers it")
    folders = {name: tmp_path / name for name in ("inbox", "outbox", "sent", "error")}
    for folder in folders.values():
        folder.mkdir()
    config = tmp_path / "smsdrc"
    config.write_text("[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\n"
                      + "".join(f"{name}path = {folder}/\n" for name, folder in
                                (("inbox", folders["inbox"]), ("outbox", folders["outbox"]),
                                 ("sentsms", folders["sent"]), ("errorsms", folders["error"])))
                      + f"outboxformat = unicode\nlogfile = {tmp_path / 'log'}\n")
    monkeypatch.setenv("LC_ALL", "C")
    sender = GammuSender(SmsSettings(provider="gammu", command=binary, gammu_config=str(config)), None, {})
    outcome = await sender.deliver(Outgoing(1, "+6281234567890", "Nomor A012 DIPANGGIL. Loket Café 3"))
    assert outcome.sent, outcome
    (written,) = folders["outbox"].glob("OUTC*")
    assert written.read_bytes().decode("utf-16") == "Nomor A012 DIPANGGIL. Loket Café 3"
    assert outcome.provider_id == str(written)


async def test_smsgate_default_path_is_messages_and_an_old_app_gets_the_old_field(sms_client, tmp_path):
    gateway = GatewayStandIn("/messages", legacy_app=True)
    url = await gateway.start()
    client = await sms_client({"provider": "smsgate", "base_url": url})
    await _walk_to_the_counter(client)
    await until(lambda: len(gateway.accepted()) >= 2)
    await asyncio.sleep(0.5)
    bodies = [r["json"] for r in gateway.requests]
    assert "textMessage" in bodies[0] and "message" not in bodies[0], "the current field first"
    assert [b.get("message", "")[:19] for b in bodies[1:]] == ["Giliran: nomor A003"] * 2
    assert all("textMessage" not in b for b in bodies[1:]), "once the app is known to be old, the old field only"
    admin = await login(client, "admin", "admin")
    health = {c["channel"]: c for c in await (await client.get("/api/alerts/health", headers=admin)).json()}
    assert health["sms"]["provider"] == "smsgate" and "sebelum 1.39" in health["sms"]["notice"]
    await page_session(client, "pengelola", "admin")
    page = await (await client.get("/admin")).text()
    assert "versi lama (sebelum 1.39)" in page, "admins see why"
    await gateway.stop()


async def test_smsgate_refusing_both_formats_fails_the_message_with_a_clear_reason(sms_client):
    gateway = GatewayStandIn("/messages", fail_first=100, fail_status=400)
    url = await gateway.start()
    client = await sms_client({"provider": "smsgate", "base_url": url})
    ticket = await _walk_to_the_counter(client)
    await until(lambda: len(gateway.requests) >= 4)
    staff = await login(client, "budi", "supervisor")
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    assert {m["state"] for m in log} == {"failed"}
    assert "format lama juga ditolak" in log[0]["last_error"] and "HTTP 400" in log[0]["last_error"]
    await gateway.stop()


async def test_one_phone_per_ticket_a_new_number_replaces_the_old(sms_client):
    gateway = GatewayStandIn("/kirim", ok_status=200, ok_body={"ok": True})
    url = await gateway.start()
    client = await sms_client({"provider": "http", "base_url": url, "path": "/kirim"})
    staff = await login(client, "siti", "officer", ("2",))
    for _ in range(3):
        await take(client, "A")
    ticket = await take(client, "A")  # three ahead: not close yet
    for i in range(5):
        resp = await client.post(f"/api/tickets/{ticket['token']}/phone", json={"phone": f"0812345678{i:02d}"})
        assert resp.status == (200 if i < 3 else 429), await resp.text()
    assert resp.headers["Retry-After"]
    for _ in range(4):
        await client.post("/api/counters/2/next", headers=staff)
    await until(lambda: len(gateway.requests) >= 2)
    await asyncio.sleep(0.5)
    assert [r["json"]["to"] for r in gateway.requests] == ["+6281234567802"] * 2, \
        "only the last number is told (approaching, called); the numbers it replaced get nothing"
    await gateway.stop()


async def test_adding_phones_is_rate_limited_per_device(sms_client):
    client = await sms_client({"provider": "log"})
    tickets = [await take(client, "B") for _ in range(12)]
    statuses = [(await client.post(f"/api/tickets/{t['token']}/phone", json={"phone": "081234567890"})).status
                for t in tickets]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429], statuses


async def test_phone_added_later_and_refused_numbers(client):
    ticket = await take(client, "B")
    resp = await client.post(f"/api/tickets/{ticket['token']}/phone", json={"phone": "021-555-1234"})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "invalid_phone"
    resp = await client.post(f"/api/tickets/{ticket['token']}/phone", json={"phone": "+62 812 3456 7890"})
    assert resp.status == 200 and "phone" not in await resp.json()
    resp = await client.post("/api/tickets/salah/phone", json={"phone": PHONE})
    assert resp.status == 404


def test_sms_texts_fit_160_gsm7_characters():
    long_service = "Bea Perolehan Hak atas Tanah dan Bangunan (BPHTB) — layanan khusus “prioritas”"
    for stage in ("approaching", "called"):
        text = message_text(stage, "sms", number="TL123", service=long_service,
                            counter="Loket 22 · Kejaksaan Negeri Purwakarta", ahead=12, wait_s=5400)
        assert len(text) <= 160 and is_gsm7(text), text
