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
    gateway = GatewayStandIn("/message", fail_first=2, fail_status=503)
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


async def test_gammu_inject_command(sms_client, tmp_path):
    record = tmp_path / "injected.txt"
    script = tmp_path / "gammu-smsd-inject"
    script.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {record}\necho >> {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    client = await sms_client({"provider": "gammu", "command": str(script)})
    await _walk_to_the_counter(client)
    await until(lambda: record.exists() and len(record.read_text().splitlines()) >= 2)
    first = record.read_text().splitlines()[0].split("|")
    assert first[:3] == ["TEXT", "081234567890", "-text"] and "hampir dipanggil" in first[3]


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
