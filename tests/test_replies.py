"""Citizens who answer an SMS: SMS Gateway for Android's signed `sms:received` webhook and Gammu
SMSD's inbox folder, answered through the outbox and the gateway stand-in."""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.messages import is_gsm7
from tests.conftest import hall_dict, login, query, take
from tests.sms_standins import GatewayStandIn, smsgate_receives, smsgate_signature

ALERTS = {"approach_ahead": 1, "approach_minutes": 0, "retry_first_s": 0.2}
KEY = "kunci-webhook-hp"
PHONE, OTHER = "+6281234567890", "+6281298765432"


async def until(condition, timeout: float = 15.0, show=None):
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting; {show() if show else ''}") from None


@pytest.fixture
async def gateway():
    standin = GatewayStandIn("/messages")
    standin.url = await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def sms_app(aiohttp_client, db_at, monkeypatch, gateway):
    async def make(**sms):
        monkeypatch.setenv("GILIRAN_SMS_WEBHOOK_KEY", KEY)
        config = parse_hall(hall_dict(alerts=ALERTS, queue={"priority_max_in_row": 2, "defer_places": 2},
                                      sms={"provider": "smsgate", "base_url": gateway.url,
                                           "rate_per_minute": 6000} | sms))
        client = await aiohttp_client(create_app(Settings(db=db_at("r")), config=config,
                                                 synchronous="NORMAL"))
        client.url = str(client.make_url("")).rstrip("/")
        client.db = db_at("r")
        return client
    return make


def sms_to(gateway: GatewayStandIn, phone: str) -> list[str]:
    return [r["json"]["textMessage"]["text"] for r in gateway.accepted() if r["json"]["phoneNumbers"] == [phone]]


def count(client, sql: str) -> int:
    return query(client.db, sql)[0][0]


async def test_sms_replies_status_cancel_with_confirmation_and_defer(sms_app, gateway):
    client = await sms_app()
    staff = await login(client, "siti", "officer", ("1",))
    for _ in range(3):
        await take(client, "B")
    ticket = await take(client, "B", phone="0812-3456-7890")  # B004
    behind = [await take(client, "B") for _ in range(3)]

    async def replies_to(text: str, n: int) -> str:
        assert await smsgate_receives(client.url, PHONE, text, key=KEY) == 200
        await until(lambda: len(sms_to(gateway, PHONE)) == n, show=lambda: sms_to(gateway, PHONE))
        return sms_to(gateway, PHONE)[-1]

    status = await replies_to("status", 1)
    assert status.startswith("Nomor B004 (Kartu Keluarga): menunggu. Orang di depan Anda: 3")
    # No counter works B yet: the wait cannot be estimated (docs/estimates.md).
    assert await replies_to("TUNDA", 2) == ("Giliran nomor B004 ditunda. Orang di depan Anda sekarang: 5 "
                                            "(perkiraan belum dapat diperkirakan).")
    assert "sudah pernah ditunda" in await replies_to("tunda", 3)
    assert await replies_to("BATAL", 4) == "Untuk membatalkan nomor antrean B004, balas: BATAL B004"
    assert "BATAL" in await replies_to("apa?", 5) and "TUNDA" in sms_to(gateway, PHONE)[-1]
    assert all(len(t) <= 160 and is_gsm7(t) for t in sms_to(gateway, PHONE)), "every reply fits one basic SMS"
    order = [(await (await client.post("/api/counters/1/next", headers=staff)).json())["ticket"]["number"]
             for _ in range(5)]
    assert order[3:] == [behind[0]["number"], behind[1]["number"]], "the two behind it went ahead"
    assert await replies_to("BATAL B004", 7) == "Nomor antrean B004 sudah dibatalkan. Terima kasih."
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "cancelled"


async def test_a_number_that_follows_no_ticket_gets_told_and_nothing_else(sms_app, gateway):
    client = await sms_app()
    await take(client, "B", phone="0812-3456-7890")
    assert await smsgate_receives(client.url, OTHER, "BATAL", key=KEY) == 200
    await until(lambda: len(sms_to(gateway, OTHER)) == 1)
    assert sms_to(gateway, OTHER)[0].startswith("Nomor ini belum mengikuti nomor antrean hari ini")
    assert count(client, "SELECT COUNT(*) FROM tickets WHERE state = 'cancelled'") == 0


async def test_a_bad_or_stale_signature_is_refused_and_nothing_is_stored(sms_app, gateway):
    client = await sms_app()
    for _ in range(2):
        await take(client, "B")
    await take(client, "B", phone="0812-3456-7890")
    assert await smsgate_receives(client.url, PHONE, "BATAL", key="kunci-lain") == 403
    assert await smsgate_receives(client.url, PHONE, "BATAL", key=KEY, timestamp=time.time() - 3600) == 403
    assert await smsgate_receives(client.url, PHONE, "BATAL", key=KEY, signature="zz") == 403
    await asyncio.sleep(0.3)
    assert count(client, "SELECT COUNT(*) FROM inbound") == 0 and gateway.requests == []
    assert smsgate_signature("k3y", b'{"event":"sms:received"}', "1700000000") == \
        "35f4c01635a23606e1335aabf48938f7f0acc9af2b232bc0fbe0a7f3179b442a", "the app's own test vector"


async def test_a_redelivered_webhook_is_answered_once(sms_app, gateway):
    client = await sms_app()
    for _ in range(2):
        await take(client, "B")
    await take(client, "B", phone="0812-3456-7890")
    for _ in range(3):  # the phone retries when it missed our answer
        assert await smsgate_receives(client.url, PHONE, "STATUS", key=KEY, event_id="Ab3xYz") == 200
    await until(lambda: len(sms_to(gateway, PHONE)) >= 1)
    await asyncio.sleep(0.5)
    assert len(sms_to(gateway, PHONE)) == 1


def inbox_file(folder, sender: str, text: str, serial: int = 0, part: int = 0) -> None:
    """What Gammu SMSD writes with InboxFormat = unicode (UTF-16 with a BOM)."""
    (folder / f"IN20261125_091530_{serial:02d}_{sender}_{part:02d}.txt").write_bytes(text.encode("utf-16"))


async def test_gammu_inbox_files_are_answered_once(sms_app, gateway, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    client = await sms_app(gammu_inbox=str(inbox))
    for _ in range(2):
        await take(client, "B")
    await take(client, "B", phone="0812-3456-7890")
    inbox_file(inbox, PHONE, "Status")
    inbox_file(inbox, "+6281298765432", "TUNDA", serial=1)
    inbox_file(inbox, "1234", "PROMO pulsa murah", serial=2)  # an operator's short number: set aside
    await until(lambda: len(gateway.accepted()) >= 2, show=lambda: gateway.requests)
    assert sms_to(gateway, PHONE)[0].startswith("Nomor B003 (Kartu Keluarga): menunggu. Orang di depan Anda: 2")
    assert sms_to(gateway, OTHER)[0].startswith("Nomor ini belum mengikuti")
    assert list(inbox.glob("IN*")) == [] and len(list((inbox / "giliran-selesai").iterdir())) == 3
    await asyncio.sleep(2.5)
    assert len(gateway.accepted()) == 2, "each file once"


async def test_a_number_writing_again_and_again_gets_ten_answers_then_one_an_hour(sms_app, gateway):
    client = await sms_app()
    for i in range(13):
        assert await smsgate_receives(client.url, OTHER, f"halo {i}", key=KEY) == 200
    await until(lambda: len(sms_to(gateway, OTHER)) >= 10)
    await asyncio.sleep(1.0)
    assert len(sms_to(gateway, OTHER)) == 10, "each answer costs the hall an SMS"
    assert count(client, "SELECT COUNT(*) FROM inbound WHERE handled_at IS NOT NULL") == 13, "all kept, all handled"
