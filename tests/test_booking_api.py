"""The online queue over HTTP: a phone confirmed with the code captured from the SMS gateway
stand-in, slots, booking, limits, cancel, check-in at the kiosk, a number from home; refusals with
their JSON codes; the /ambil and booking pages."""

from __future__ import annotations

import asyncio
import re

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.messages import is_gsm7
from tests.booking_hall import booking_doc
from tests.conftest import login, wib
from tests.sms_standins import GatewayStandIn

PHONE = "0812-3456-7890"


@pytest.fixture
async def gateway():
    stand_in = GatewayStandIn("/messages")
    yield stand_in, await stand_in.start()
    await stand_in.stop()


@pytest.fixture
async def hall_client(aiohttp_client, tmp_path, clock, gateway, monkeypatch):
    monkeypatch.setenv("GILIRAN_SMS_USERNAME", "giliran")
    monkeypatch.setenv("GILIRAN_SMS_PASSWORD", "sandi")
    doc = booking_doc()
    doc["sms"] = {"provider": "smsgate", "base_url": gateway[1], "rate_per_minute": 600}
    app = create_app(Settings(db=tmp_path / "booking.sqlite3"), config=parse_hall(doc), clock=clock,
                     synchronous="NORMAL")
    return await aiohttp_client(app)


async def sms_code(stand_in: GatewayStandIn, count: int) -> str:
    """The code in the `count`-th SMS the gateway accepted."""
    async with asyncio.timeout(15):
        while len(stand_in.accepted()) < count:
            await asyncio.sleep(0.05)
    text = stand_in.accepted()[count - 1]["json"]["textMessage"]["text"]
    assert len(text) <= 160 and is_gsm7(text)
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


async def confirm(client, stand_in: GatewayStandIn, count: int, phone: str = PHONE) -> dict[str, str]:
    resp = await client.post("/api/verify", json={"phone": phone})
    assert resp.status == 201, await resp.text()
    token = (await resp.json())["verification"]
    code = await sms_code(stand_in, count)
    resp = await client.post(f"/api/verify/{token}", json={"code": code})
    assert resp.status == 200, await resp.text()
    return {"X-Identity": (await resp.json())["identity"]}


async def error_code(resp) -> str:
    return (await resp.json())["error"]["code"]


async def test_book_check_in_and_be_called(hall_client, gateway, clock) -> None:
    client, (stand_in, _) = hall_client, gateway
    me = await confirm(client, stand_in, 1)
    resp = await client.get("/api/services/A/slots?date=2026-11-26")
    slots = await resp.json()
    assert resp.status == 200 and slots["slots"][0] == {"time": "08:00", "capacity": 2, "left": 2}
    resp = await client.post("/api/bookings", json={"service": "A", "date": "2026-11-26", "time": "09:00"})
    assert resp.status == 401 and await error_code(resp) == "identity_required"
    resp = await client.post("/api/bookings", json={"service": "A", "date": "2026-11-26", "time": "09:00"},
                             headers=me)
    assert resp.status == 201
    booking = await resp.json()
    assert re.fullmatch(r"\d{8}", booking["code"]) and booking["state"] == "booked"
    resp = await client.post("/api/bookings", json={"service": "A", "date": "2026-11-26", "time": "10:00"},
                             headers=me)
    assert resp.status == 409 and await error_code(resp) == "booking_limit"
    resp = await client.get(f"/api/bookings/{booking['code']}")
    assert (await resp.json())["time"] == "09:00" and "identity" not in await resp.text()
    assert "+62" not in await resp.text()
    page = await client.get(f"/booking/{booking['code']}")
    assert page.status == 200 and booking["code"] in await page.text()
    qr = await client.get(f"/booking/{booking['code']}/qr.svg")
    assert qr.status == 200 and qr.content_type == "image/svg+xml"

    clock.set(wib(2026, 11, 26, 8, 40))
    resp = await client.post(f"/api/bookings/{booking['code']}/check-in", json={"kiosk": "KV"})
    assert resp.status == 201, await resp.text()
    checked = await resp.json()
    number = checked["ticket"]["number"]
    assert checked["ticket_view"]["origin"] == "booking" and checked["late"] is False
    staff = await login(client, "siti", "officer", ("2",))
    waiting = await (await client.get("/api/counters/2/queue", headers=staff)).json()
    assert [(t["number"], t["origin"]) for t in waiting] == [(number, "booking")]  # the console marks it
    resp = await client.post("/api/counters/2/next", headers=staff)
    called = await resp.json()
    assert resp.status == 200, called
    assert called["ticket"]["number"] == number and called["ticket"]["origin"] == "booking"
    resp = await client.post(f"/api/bookings/{booking['code']}/check-in", json={})
    assert resp.status == 409 and await error_code(resp) == "booking_not_open"


async def test_codes_are_checked_expire_and_are_rate_limited(hall_client, gateway, clock) -> None:
    client, (stand_in, _) = hall_client, gateway
    resp = await client.post("/api/verify", json={"phone": "12345"})
    assert resp.status == 422
    resp = await client.post("/api/verify", json={"phone": PHONE})
    token = (await resp.json())["verification"]
    code = await sms_code(stand_in, 1)
    wrong = "000000" if code != "000000" else "111111"
    resp = await client.post(f"/api/verify/{token}", json={"code": wrong})
    assert resp.status == 422 and await error_code(resp) == "invalid_code"
    clock.advance(6 * 60)  # codes last 5 minutes
    resp = await client.post(f"/api/verify/{token}", json={"code": code})
    assert resp.status == 409 and await error_code(resp) == "code_expired"
    for _ in range(2):
        assert (await client.post("/api/verify", json={"phone": PHONE})).status == 201
    resp = await client.post("/api/verify", json={"phone": PHONE})
    assert resp.status == 429 and await error_code(resp) == "code_rate_limited"
    clock.advance(3600)
    assert (await client.post("/api/verify", json={"phone": PHONE})).status == 201


async def test_code_is_not_kept_in_clear_and_cancel_needs_the_owner(hall_client, gateway) -> None:
    client, (stand_in, _) = hall_client, gateway
    me = await confirm(client, stand_in, 1)
    other = await confirm(client, stand_in, 2, phone="0813-1111-2222")
    resp = await client.post("/api/bookings", json={"service": "A", "date": "2026-11-27", "time": "13:00"},
                             headers=me)
    code = (await resp.json())["code"]
    resp = await client.delete(f"/api/bookings/{code}", headers=other)
    assert resp.status == 403 and await error_code(resp) == "not_your_booking"
    resp = await client.delete(f"/api/bookings/{code}", headers=me)
    assert resp.status == 200 and (await resp.json())["state"] == "cancelled"
    resp = await client.get("/api/services/A/slots?date=2026-11-27")
    assert next(s for s in (await resp.json())["slots"] if s["time"] == "13:00")["left"] == 2


async def test_number_from_home_and_closed_days(hall_client, gateway, clock) -> None:
    client, (stand_in, _) = hall_client, gateway
    me = await confirm(client, stand_in, 1)
    resp = await client.post("/api/remote-tickets", json={"service": "A"}, headers=me)
    assert resp.status == 201
    ticket = await resp.json()
    assert ticket["origin"] == "daring" and ticket["number"].startswith("A")
    resp = await client.post("/api/remote-tickets", json={"service": "A"}, headers=me)
    assert resp.status == 409 and await error_code(resp) == "booking_limit"
    resp = await client.post("/api/remote-tickets", json={"service": "B"}, headers=me)
    assert resp.status == 422 and await error_code(resp) == "booking_off"
    resp = await client.get("/api/services/A/slots?date=2026-11-28")  # Saturday
    assert (await resp.json())["slots"] == [] and "Sabtu" in (await resp.json())["closed"]
    resp = await client.post("/api/bookings", json={"service": "A", "date": "2026-11-28", "time": "09:00"},
                             headers=me)
    assert resp.status == 409 and await error_code(resp) == "closed_day"
    resp = await client.get("/api/services/A/slots?date=2026-12-20")
    assert resp.status == 422 and await error_code(resp) == "outside_window"
    clock.set(wib(2026, 11, 28, 9, 0))
    resp = await client.post("/api/tickets", json={"service": "B"})
    assert resp.status == 409 and await error_code(resp) == "closed_day"
    page = await client.get("/ambil")
    assert page.status == 200 and "Layanan tutup setiap hari Sabtu" in await page.text()
