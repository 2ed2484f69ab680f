"""The supervisors' chat: one message through the outbox and python-telegram-bot (to the Bot API
stand-in) when a service's longest wait crosses its target, at most once per service per hour."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.sla import SLA
from notifier.web import BOT
from tests.conftest import hall_dict, login, take, wib
from tests.telegram_standin import BotApiStandIn

CHAT = -1001234567


@pytest.fixture
async def telegram():
    standin = BotApiStandIn()
    standin.url = await standin.start()
    yield standin
    await standin.stop()


async def until(condition, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_one_message_when_a_service_crosses_its_target(aiohttp_client, db_at, telegram, clock):
    config = parse_hall(hall_dict(alerts={"supervisor_chat": str(CHAT)}, services=[
        {"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL", "target_wait_minutes": 10},
        {"code": "B", "name": "Kartu Keluarga", "agency": "DUKCAPIL"},
        {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}]))
    settings = Settings(db=db_at("sla"), telegram_token=telegram.token, telegram_api_url=telegram.url)
    client = await aiohttp_client(create_app(settings, config=config, clock=clock, synchronous="NORMAL"))
    async with asyncio.timeout(10):
        while client.server.app[BOT].username is None:
            await asyncio.sleep(0.05)
    sla = client.server.app[SLA]
    officer = await login(client, "siti", "officer", ("2",))
    clock.set(wib(2026, 11, 25, 9, 0))
    await take(client, "A")
    await take(client, "B")
    clock.advance(9 * 60)
    assert await sla.check() == []  # 9 of 10 minutes: amber on the page, no message yet
    clock.advance(61)
    assert await sla.check() == ["A"]
    await until(lambda: telegram.texts(CHAT))
    assert telegram.texts(CHAT) == ["⚠️ Antrean KTP Elektronik (A) melewati target: tunggu terlama 10 menit "
                                    "(target 10 menit), 1 orang menunggu. — MPP Uji <b>Coba</b>"]
    clock.advance(60)
    assert await sla.check() == [], "still past the target: no second message"
    # A001 is called; A002 then waits past the target again within the hour: no message.
    await client.post("/api/counters/2/next", headers=officer)
    await take(client, "A")
    assert await sla.check() == []
    clock.advance(11 * 60)
    assert await sla.check() == [], "crossed again, but within the hour"
    await client.post("/api/counters/2/next", headers=officer)
    await take(client, "A")
    assert await sla.check() == []
    clock.advance(50 * 60)  # more than an hour after A's message; B001 has now waited 72 of its 30 minutes
    assert await sla.check() == ["A", "B"]
    await until(lambda: len(telegram.texts(CHAT)) == 2)
    clock.advance(2)  # Telegram's one message per second to a chat (the outbox's gate runs on the hall's clock)
    await until(lambda: len(telegram.texts(CHAT)) == 3)
    assert "Kartu Keluarga (B) melewati target: tunggu terlama 72 menit (target 30 menit)" in telegram.texts(CHAT)[2]
    resp = await client.get(f"/api/tickets/{(await take(client, 'B'))['token']}/messages",
                            headers=await login(client, "sri", "supervisor"))
    assert await resp.json() == [], "the supervisors' message belongs to no citizen's ticket"
