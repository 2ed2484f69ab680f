"""Turn alerts through the real python-telegram-bot against a local Bot API stand-in."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.web import BOT
from tests.conftest import hall_dict, login, take
from tests.telegram_standin import BotApiStandIn

CHAT, OTHER = 5550001, 5550002
ALERTS = {"approach_ahead": 2, "approach_minutes": 0, "retry_first_s": 0.2, "give_up_minutes": 5}


@pytest.fixture
async def telegram():
    standin = BotApiStandIn()
    standin.url = await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def bot_client(aiohttp_client, tmp_path, telegram, db_at):
    async def make(mode: str = "polling", **alerts):
        config = parse_hall(hall_dict(alerts=ALERTS | alerts, services=[
            {"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL"},
            {"code": "B", "name": "Kartu Keluarga", "agency": "DUKCAPIL"},
            {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}]))
        settings = Settings(db=db_at("tg"), telegram_token=telegram.token,
                            telegram_api_url=telegram.url, telegram_mode=mode,
                            telegram_secret="rahasia-webhook" if mode == "webhook" else None)
        client = await aiohttp_client(create_app(settings, config=config, synchronous="NORMAL"))
        async with asyncio.timeout(10):
            while client.server.app[BOT].username is None:  # getMe answered: the bot is up
                await asyncio.sleep(0.05)
        return client
    return make


async def until(condition, timeout: float = 15.0, show=None):
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting; {show() if show else ''}") from None


async def test_a_citizen_follows_a_ticket_and_gets_each_alert_once(telegram, bot_client):
    client = await bot_client()
    staff = await login(client, "siti", "officer", ("2",))
    for _ in range(5):
        await take(client, "A")  # A001..A005
    ticket = await take(client, "A")
    assert ticket["telegram_url"] == f"https://t.me/GiliranUjiBot?start={ticket['token']}"
    telegram.user_sends(CHAT, f"/start {ticket['token']}")
    await until(lambda: len(telegram.texts(CHAT)) == 1, show=lambda: (telegram.calls[-5:], telegram._updates))
    assert "Pemberitahuan aktif untuk nomor antrean A006" in telegram.texts(CHAT)[0]
    assert "Orang di depan Anda: 5" in telegram.texts(CHAT)[0]
    for _ in range(3):
        await client.post("/api/counters/2/next", headers=staff)  # A001, A002, A003 called: 2 ahead now
    await until(lambda: len(telegram.texts(CHAT)) == 2, show=lambda: telegram.texts(CHAT))
    assert "hampir tiba: nomor A006, 2 orang lagi" in telegram.texts(CHAT)[1]
    for _ in range(3):
        await client.post("/api/counters/2/next", headers=staff)  # ... A006 called
    await client.post("/api/counters/2/recall", headers=staff)
    await until(lambda: len(telegram.texts(CHAT)) == 4, show=lambda: telegram.texts(CHAT))
    await client.post("/api/counters/2/start", headers=staff)
    await client.post("/api/counters/2/finish", headers=staff)
    await until(lambda: len(telegram.texts(CHAT)) == 5, show=lambda: telegram.texts(CHAT))
    await asyncio.sleep(1.5)  # nothing more may come
    texts = telegram.texts(CHAT)
    assert len(texts) == 5
    assert texts[2] == "📢 Nomor A006 DIPANGGIL. Silakan menuju Loket 2 sekarang."
    assert texts[3].startswith("📢 Nomor A006 dipanggil ulang") and texts[4].startswith("Layanan untuk nomor A006")
    assert not any(number in "".join(texts) for number in ("A002", "A003", "A004", "A005")), \
        "never another citizen's data"
    times = [t for t, chat in telegram.send_times if chat == CHAT]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False)), "at most one message per second to a chat"
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    assert [(m["stage"], m["state"]) for m in log] == [
        ("subscribed", "sent"), ("approaching", "sent"), ("called", "sent"), ("recalled", "sent"), ("done", "sent")]
    assert (await client.get(f"/api/tickets/{ticket['token']}/messages")).status == 401


async def test_telegram_errors_then_health_deliver_everything_once(telegram, bot_client):
    client = await bot_client()
    staff = await login(client, "siti", "officer", ("2",))
    telegram.faults = [(500, None), (500, None), (429, 1), (500, None)]
    await take(client, "A")
    ticket = await take(client, "A")
    telegram.user_sends(CHAT, f"/start {ticket['token']}")
    await until(lambda: telegram._updates == [] and "sendMessage" in telegram.calls)
    await client.post("/api/counters/2/next", headers=staff)  # A001
    await client.post("/api/counters/2/next", headers=staff)  # this ticket
    await until(lambda: len(telegram.texts(CHAT)) >= 2, timeout=20)
    await asyncio.sleep(1.5)
    texts = telegram.texts(CHAT)
    assert len(texts) == 3 and texts[0].startswith("✅") and "hampir tiba" in texts[1] and "DIPANGGIL" in texts[2]
    assert telegram.faults == [], "the stand-in's failures were all met and retried"


async def test_a_chat_that_blocked_the_bot_is_unsubscribed(telegram, bot_client):
    client = await bot_client()
    staff = await login(client, "siti", "officer", ("2",))
    first, second = await take(client, "A"), await take(client, "A")
    telegram.blocked.add(CHAT)
    telegram.user_sends(CHAT, f"/start {first['token']}")
    telegram.user_sends(OTHER, f"/start {second['token']}")
    await until(lambda: len(telegram.texts(OTHER)) >= 1)
    await asyncio.sleep(0.5)
    log = await (await client.get(f"/api/tickets/{first['token']}/messages", headers=staff)).json()
    assert log[0]["state"] == "failed" and "blocked" in log[0]["last_error"]
    for _ in range(2):
        await client.post("/api/counters/2/next", headers=staff)  # A001, then A002 (the other chat's)
    await until(lambda: any("DIPANGGIL" in t for t in telegram.texts(OTHER)), show=lambda: telegram.texts(OTHER))
    log = await (await client.get(f"/api/tickets/{first['token']}/messages", headers=staff)).json()
    assert [(m["stage"], m["state"]) for m in log] == [("subscribed", "failed"), ("approaching", "cancelled")], \
        "what was queued is dropped, and nothing new (no 'called') is queued for a blocked chat"
    assert telegram.texts(CHAT) == []


async def test_commands_status_cancel_help_and_bad_tokens(telegram, bot_client):
    client = await bot_client()
    ticket = await take(client, "B")
    telegram.user_sends(CHAT, "/start tidak-ada-token")
    await until(lambda: len(telegram.texts(CHAT)) == 1)
    assert "tidak ditemukan" in telegram.texts(CHAT)[0]
    telegram.user_sends(CHAT, "/status")
    await until(lambda: len(telegram.texts(CHAT)) == 2)
    assert "Belum ada nomor antrean" in telegram.texts(CHAT)[1]
    telegram.user_sends(CHAT, f"/start {ticket['token']}")
    await until(lambda: len(telegram.texts(CHAT)) == 3)
    telegram.user_sends(CHAT, "/status")
    await until(lambda: len(telegram.texts(CHAT)) == 4)
    assert "Nomor B001 (Kartu Keluarga): menunggu." in telegram.texts(CHAT)[3]
    telegram.user_sends(CHAT, "/bantuan")
    await until(lambda: len(telegram.texts(CHAT)) == 5, show=lambda: telegram.texts(CHAT))
    assert "/batal" in telegram.texts(CHAT)[4]
    telegram.user_sends(CHAT, "/batal")
    await until(lambda: len(telegram.texts(CHAT)) == 6)
    assert telegram.texts(CHAT)[5] == "Batalkan nomor antrean B001?"
    assert telegram.sent[-1].reply_markup["inline_keyboard"][0][0]["callback_data"] == f"batal:{ticket['token']}"
    telegram.user_presses(OTHER, f"batal:{ticket['token']}")  # a stranger forging the button
    await until(lambda: any("tidak terhubung" in m.text for m in telegram.sent))
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "waiting"
    telegram.user_presses(CHAT, f"batal:{ticket['token']}")
    await until(lambda: any("sudah dibatalkan" in m.text for m in telegram.sent))
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "cancelled"


async def test_webhook_mode_checks_the_secret(telegram, bot_client):
    client = await bot_client(mode="webhook")
    assert telegram.webhook["url"] == "http://hall.test/telegram/webhook"
    assert telegram.webhook["secret_token"] == "rahasia-webhook"
    assert "getUpdates" not in telegram.calls
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/bantuan",
              "chat": {"id": CHAT, "type": "private"}, "from": {"id": CHAT, "is_bot": False, "first_name": "W"},
              "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}
    resp = await client.post("/telegram/webhook", json=update)
    assert resp.status == 403
    resp = await client.post("/telegram/webhook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "salah"})
    assert resp.status == 403
    resp = await client.post("/telegram/webhook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "rahasia-webhook"})
    assert resp.status == 200
    await until(lambda: len(telegram.texts(CHAT)) == 1)
    assert "Saya bot antrean" in telegram.texts(CHAT)[0]


async def test_messages_pending_at_a_crash_are_delivered_once_after_restart(telegram, tmp_path, db_at):
    from tests.server_process import ServerProcess, write_hall

    config = write_hall(tmp_path)
    config.write_text(config.read_text() + "\n[alerts]\nretry_first_s = 0.2\napproach_ahead = 1\n")
    env = {"GILIRAN_TELEGRAM_TOKEN": telegram.token, "GILIRAN_TELEGRAM_API_URL": telegram.url}
    telegram.faults = [(500, None)] * 10_000  # Telegram is down
    server = ServerProcess(config, db_at("crash"), env)
    url = await server.start()
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/tickets", json={"service": "A"}) as resp:
            ticket = await resp.json()
        telegram.user_sends(CHAT, f"/start {ticket['token']}")
        try:
            await until(lambda: len(telegram.faults) < 10_000 - 3)  # a few attempts failed
        finally:
            await server.kill()
        telegram.faults.clear()  # Telegram is back
        server = ServerProcess(config, db_at("crash"), env)
        await server.start()
        try:
            await until(lambda: len(telegram.texts(CHAT)) >= 2)
            await asyncio.sleep(1.5)
            texts = telegram.texts(CHAT)
            assert len(texts) == 2 and texts[0].startswith("✅") and "hampir tiba" in texts[1]
        finally:
            await server.stop()
