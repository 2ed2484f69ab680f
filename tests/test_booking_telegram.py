"""Telegram and the online queue through the real python-telegram-bot against the Bot API stand-in:
`/ambil` takes today's number for the chat (the chat is the verified identity, limited like a
phone), and a booking's reminders reach the chat once."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.app import create_app
from kiosk.booking.reminders import send_reminders
from kiosk.booking.verify import telegram_identity
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.web.booking import BOOKINGS
from notifier.web import BOT
from tests.booking_hall import booking_doc
from tests.conftest import wib
from tests.telegram_standin import BotApiStandIn

CHAT = 5550101


@pytest.fixture
async def telegram():
    standin = BotApiStandIn()
    standin.url = await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def bot_client(aiohttp_client, tmp_path, telegram, clock):
    async def make():
        doc = booking_doc()
        doc["alerts"] = {"retry_first_s": 0.2}
        settings = Settings(db=tmp_path / "tg.sqlite3", telegram_token=telegram.token,
                            telegram_api_url=telegram.url, telegram_mode="polling")
        client = await aiohttp_client(create_app(settings, config=parse_hall(doc), clock=clock,
                                                 synchronous="NORMAL"))
        async with asyncio.timeout(10):
            while client.server.app[BOT].username is None:
                await asyncio.sleep(0.05)
        return client
    return make


async def received(telegram: BotApiStandIn, words: str, clock=None) -> list[str]:
    """The chat's messages once one holds `words`; the injected clock moves meanwhile (the outbox keeps
    Telegram's one message per second per chat on it)."""
    async with asyncio.timeout(15):
        while not any(words in t for t in telegram.texts(CHAT)):
            await asyncio.sleep(0.05)
            if clock is not None:
                clock.advance(0.2)
    return telegram.texts(CHAT)


async def test_ambil_takes_todays_number_for_the_chat(bot_client, telegram, clock) -> None:
    bot_client = await bot_client()
    telegram.user_sends(CHAT, "/ambil")
    texts = await received(telegram, "/ambil A · KTP Elektronik", clock)
    assert "/ambil B" not in texts[0]
    telegram.user_sends(CHAT, "/ambil a")
    texts = await received(telegram, "Nomor antrean Anda: A001", clock)
    assert "/t/" in next(t for t in texts if "Nomor antrean Anda: A001" in t)
    await received(telegram, "Pemberitahuan aktif untuk nomor antrean A001", clock)  # it follows A001
    telegram.user_sends(CHAT, "/ambil A")  # the chat is limited like a confirmed phone
    await received(telegram, "Batas antrean daring", clock)
    services = await (await bot_client.get("/api/services")).json()
    assert next(s for s in services if s["code"] == "A")["waiting"] == 1


async def test_reminders_reach_the_chat_once(bot_client, telegram, clock) -> None:
    bot_client = await bot_client()
    bookings = bot_client.server.app[BOOKINGS]
    await bookings.book(telegram_identity(CHAT), "A", "2026-11-26", "10:00")
    await received(telegram, "Booking KTP Elektronik")  # the booking's confirmation
    clock.set(wib(2026, 11, 25, 16, 0))
    assert await send_reminders(bookings) == 1
    clock.set(wib(2026, 11, 25, 16, 5))
    assert await send_reminders(bookings) == 0
    await received(telegram, "Pengingat: booking KTP Elektronik besok", clock)
    for _ in range(20):  # time goes on: nothing more comes
        clock.advance(0.5)
        await asyncio.sleep(0.05)
    assert sum("Pengingat" in t for t in telegram.texts(CHAT)) == 1, "sent once"
