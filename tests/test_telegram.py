"""Turn alerts through the real python-telegram-bot against a local Bot API stand-in."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.app import create_app
from kiosk.hall.config import ConfigError
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from notifier.web import BOT, OUTBOX
from tests.conftest import hall_dict, login, take
from tests.sms_standins import GatewayStandIn
from tests.telegram_standin import BotApiStandIn
from tests.test_admin import page_session

CHAT, OTHER = 5550001, 5550002
ALERTS = {"approach_ahead": 2, "approach_minutes": 0, "retry_first_s": 0.2, "give_up_minutes": 5}
HALL = {"name": "MPP Uji", "timezone": "Asia/Jakarta", "public_url": "https://hall.test"}


@pytest.fixture
async def telegram():
    standin = BotApiStandIn()
    standin.url = await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def bot_client(aiohttp_client, tmp_path, telegram, db_at):
    async def make(mode: str = "polling", **alerts):
        config = parse_hall(hall_dict(alerts=ALERTS | alerts, hall=HALL, services=[
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
    await until(lambda: len(telegram.texts(CHAT)) == 6, show=lambda: telegram.texts(CHAT))
    await asyncio.sleep(1.5)  # nothing more may come
    texts = telegram.texts(CHAT)
    assert len(texts) == 6
    assert "pertanyaan 1/9" in texts[5]  # the satisfaction survey follows the last word (docs/survey.md)
    assert texts[2] == "📢 Nomor A006 DIPANGGIL. Silakan menuju Loket 2 sekarang."
    assert texts[3].startswith("📢 Nomor A006 dipanggil ulang") and texts[4].startswith("Layanan untuk nomor A006")
    assert not any(number in "".join(texts) for number in ("A002", "A003", "A004", "A005")), \
        "never another citizen's data"
    times = [t for t, chat in telegram.send_times if chat == CHAT]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False)), "at most one message per second to a chat"
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    assert [(m["stage"], m["state"]) for m in log] == [
        ("subscribed", "sent"), ("approaching", "sent"), ("called", "sent"), ("recalled", "sent"), ("done", "sent"),
        ("survey", "sent")]
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
    for _ in range(3):
        await take(client, "B")
    ticket = await take(client, "B")  # B004: three ahead, not close yet (no "approaching" in between)

    async def says(chat: int, text: str, count: int) -> str:
        telegram.user_sends(chat, text)
        await until(lambda: len(telegram.texts(chat)) == count, show=lambda: telegram.texts(chat))
        return telegram.texts(chat)[-1]

    assert "Kode tiket tidak dikenal" in await says(CHAT, "/start tidak-ada-token", 1)
    assert "Belum ada nomor antrean" in await says(CHAT, "/status", 2)
    assert (await says(CHAT, f"/start {ticket['token']}", 3)).startswith("✅ Pemberitahuan aktif")
    assert "Nomor B004 (Kartu Keluarga): menunggu." in await says(CHAT, "/status", 4)
    assert "Nomor B004 (Kartu Keluarga): menunggu." in await says(CHAT, "status", 5), "a plain word works too"
    assert "BATAL" in await says(CHAT, "/bantuan", 6)
    assert "BATAL" in await says(CHAT, "apa ini?", 7), "an unknown word gets the short help"
    assert await says(CHAT, "/batal", 8) == "Batalkan nomor antrean B004?"
    assert telegram.sent[-1].reply_markup["inline_keyboard"][0][0]["callback_data"] == f"batal:{ticket['token']}"
    telegram.user_presses(OTHER, f"batal:{ticket['token']}")  # a stranger forging the button
    await until(lambda: any("tidak terhubung" in t for t in telegram.texts(OTHER)))
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "waiting"
    telegram.user_presses(CHAT, f"batal:{ticket['token']}")
    await until(lambda: any("sudah dibatalkan" in t for t in telegram.texts(CHAT)))
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "cancelled"
    assert telegram.calls.count("answerCallbackQuery") == 2, "every pressed button is acknowledged"
    staff = await login(client, "budi", "supervisor")
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    assert [m["stage"] for m in log if m["state"] == "sent"].count("reply") >= 3, \
        "the bot's answers are outbox messages like any alert"


async def test_buttons_under_the_confirmation_defer_once_and_show_the_status(telegram, bot_client):
    client = await bot_client(approach_ahead=0)
    first = await take(client, "B")
    mine = await take(client, "B")
    behind = [await take(client, "B") for _ in range(3)]
    telegram.user_sends(CHAT, f"/start {mine['token']}")
    await until(lambda: len(telegram.texts(CHAT)) == 1)
    buttons = [b["callback_data"] for row in telegram.sent[-1].reply_markup["inline_keyboard"] for b in row]
    assert buttons == [f"status:{mine['token']}", f"tunda:{mine['token']}", f"batal?:{mine['token']}"]
    telegram.user_presses(CHAT, f"tunda:{mine['token']}")
    await until(lambda: len(telegram.texts(CHAT)) == 2, show=lambda: telegram.texts(CHAT))
    assert "ditunda. Orang di depan Anda sekarang: 3" in telegram.texts(CHAT)[1]
    telegram.user_sends(CHAT, "TUNDA")
    await until(lambda: len(telegram.texts(CHAT)) == 3, show=lambda: telegram.texts(CHAT))
    assert "sudah pernah ditunda; penundaan hanya sekali" in telegram.texts(CHAT)[2]
    staff = await login(client, "siti", "officer", ("1",))
    order = []
    for _ in range(5):
        order.append((await (await client.post("/api/counters/1/next", headers=staff)).json())["ticket"]["number"])
    assert order == [first["number"], behind[0]["number"], behind[1]["number"], mine["number"],
                     behind[2]["number"]], "two went ahead, then it was called"


async def test_a_revoked_bot_token_never_delays_sms_and_admins_are_told(telegram, aiohttp_client, db_at, caplog):
    gateway = GatewayStandIn("/kirim", ok_status=200, ok_body={"ok": True})
    url = await gateway.start()
    config = parse_hall(hall_dict(alerts=ALERTS, sms={"provider": "http", "base_url": url, "path": "/kirim"}))
    settings = Settings(db=db_at("tg"), telegram_token=telegram.token, telegram_api_url=telegram.url)
    client = await aiohttp_client(create_app(settings, config=config, synchronous="NORMAL"))
    async with asyncio.timeout(10):
        while client.server.app[BOT].username is None:
            await asyncio.sleep(0.05)
    staff = await login(client, "siti", "officer", ("2",))
    for _ in range(3):
        await take(client, "A")
    ticket = await take(client, "A")  # three ahead: not close yet
    telegram.user_sends(CHAT, f"/start {ticket['token']}")  # the chat follows first ...
    await until(lambda: len(telegram.texts(CHAT)) == 1)
    resp = await client.post(f"/api/tickets/{ticket['token']}/phone", json={"phone": "0812-3456-7890"})
    assert resp.status == 200  # ... then a phone: each Telegram message comes before its SMS in the outbox
    await asyncio.sleep(1.2)  # the chat's one-message-a-second gate is open again: its message goes first
    telegram.token = "dicabut"  # the bot's token is revoked: every Bot API call now answers 401
    for _ in range(4):  # "approaching", then "called"
        await client.post("/api/counters/2/next", headers=staff)
    await until(lambda: any("DIPANGGIL" in r["json"]["message"] for r in gateway.requests), timeout=10)
    await until(lambda: client.server.app[OUTBOX].loops["telegram"].state == "down")
    health = {c["channel"]: c for c in await (await client.get("/api/alerts/health", headers=staff)).json()}
    assert health["telegram"]["state"] == "down" and "GILIRAN_TELEGRAM_TOKEN" in health["telegram"]["last_error"]
    assert health["telegram"]["pending"] >= 1 and health["sms"]["state"] == "ok"
    log = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    waiting = [m for m in log if m["channel"] == "telegram" and m["state"] == "pending"]
    assert waiting and waiting[0]["attempts"] == 1 and "401" in waiting[0]["last_error"], \
        "Telegram's messages wait (the first tried once, then the channel waits; none lost) while SMS went"
    assert all(m["attempts"] == 0 for m in waiting[1:]), "a channel that is down is not hammered"
    await page_session(client, "pengelola", "admin")
    assert "Pemberitahuan Telegram berhenti" in await (await client.get("/admin")).text()
    loud = [r for r in caplog.records if r.levelname == "ERROR" and "TELEGRAM CHANNEL DOWN" in r.getMessage()]
    assert len(loud) == 1, "said loudly, once"
    await gateway.stop()


async def test_a_token_refused_at_start_is_shown_to_admins(telegram, aiohttp_client, db_at, caplog):
    settings = Settings(db=db_at("tg"), telegram_token="999:salah", telegram_api_url=telegram.url)
    client = await aiohttp_client(create_app(settings, config=parse_hall(hall_dict()), synchronous="NORMAL"))
    await until(lambda: any("TELEGRAM BOT CANNOT START" in r.getMessage() for r in caplog.records))
    staff = await login(client, "admin", "admin")
    health = {c["channel"]: c for c in await (await client.get("/api/alerts/health", headers=staff)).json()}
    assert health["telegram"]["state"] == "down" and "401/404" in health["telegram"]["last_error"]


def test_telegram_settings_are_checked_before_start(tmp_path):
    from kiosk.settings import SettingsError

    env = {"GILIRAN_TELEGRAM_TOKEN": "1:x", "GILIRAN_TELEGRAM_MODE": "webhook"}
    for bad in ("rahasia webhook", "rahasia!", "x" * 257):
        with pytest.raises(SettingsError, match="GILIRAN_TELEGRAM_SECRET must be 1-256"):
            Settings.load(env | {"GILIRAN_TELEGRAM_SECRET": bad})
    settings = Settings.load(env | {"GILIRAN_TELEGRAM_SECRET": "Rahasia_Webhook-2026"}, db=str(tmp_path / "x.db"))
    for url, ok in (("http://hall.test", False), ("https://hall.test:8080", False), ("https://hall.test", True),
                    ("https://hall.test:8443", True), ("https://hall.test:88", True)):
        config = parse_hall(hall_dict(hall={"name": "MPP", "timezone": "Asia/Jakarta", "public_url": url}))
        if ok:
            create_app(settings, config=config)
        else:
            with pytest.raises(ConfigError, match="public_url: Telegram sends webhooks only"):
                create_app(settings, config=config)


def test_serve_refuses_a_webhook_telegram_cannot_reach(tmp_path, monkeypatch, capsys):
    from kiosk.cli import main

    hall = tmp_path / "hall.toml"
    hall.write_text('[hall]\nname = "MPP"\npublic_url = "http://192.168.1.5:8080"\n'
                    '[[agencies]]\ncode = "D"\nname = "Dukcapil"\n[[services]]\ncode = "A"\nname = "KTP"\n'
                    'agency = "D"\n[[counters]]\nid = "1"\nname = "Loket 1"\nservices = ["A"]\n')
    monkeypatch.setenv("GILIRAN_TELEGRAM_TOKEN", "1:x")
    monkeypatch.setenv("GILIRAN_TELEGRAM_MODE", "webhook")
    monkeypatch.setenv("GILIRAN_TELEGRAM_SECRET", "rahasia")
    assert main(["serve", "--config", str(hall), "--db", str(tmp_path / "x.db"), "--port", "0"]) == 2
    assert "Telegram sends webhooks only over HTTPS" in capsys.readouterr().err


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
