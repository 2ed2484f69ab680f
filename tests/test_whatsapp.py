"""WhatsApp end to end through loopback stand-ins: Meta's Cloud API (templates outside the 24-hour
window, text inside it, signed webhooks, delivery reports) and the Fonnte and Wablas gateways."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.queue.clock import FakeClock
from kiosk.settings import Settings
from tests.conftest import hall_dict, login, query, take, wib
from tests.whatsapp_standin import GRAPH_VERSION, PHONE_NUMBER_ID, CloudStandIn, FonnteStandIn, WablasStandIn

ALERTS = {"approach_ahead": 1, "approach_minutes": 0, "retry_first_s": 0.2, "give_up_minutes": 5}
HALL_NUMBER = "6281100001111"
WA, WA2 = "6281234567890", "6281298765432"
TEMPLATES = {"approaching": "antrean_hampir_tiba", "called": "antrean_dipanggil"}


async def until(condition, timeout: float = 15.0, show=None):
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting; {show() if show else ''}") from None


def rows(client, sql: str) -> list[tuple]:
    return query(client.db, sql)


@pytest.fixture
def wa_client(aiohttp_client, db_at, monkeypatch):
    async def make(whatsapp: dict, clock=None, env: dict | None = None):
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        config = parse_hall(hall_dict(alerts=ALERTS, whatsapp={"number": HALL_NUMBER} | whatsapp))
        db = db_at("wa")
        client = await aiohttp_client(create_app(Settings(db=db), config=config, clock=clock, synchronous="NORMAL"))
        client.db = db
        return client
    return make


@pytest.fixture
async def cloud():
    standin = CloudStandIn()
    await standin.start()
    yield standin
    await standin.stop()


async def cloud_client(wa_client, cloud, clock=None):
    client = await wa_client({"provider": "cloud", "base_url": cloud.url, "phone_number_id": PHONE_NUMBER_ID,
                              "api_version": GRAPH_VERSION, "templates": TEMPLATES}, clock=clock,
                             env={"GILIRAN_WHATSAPP_TOKEN": cloud.token,
                                  "GILIRAN_WHATSAPP_APP_SECRET": cloud.app_secret,
                                  "GILIRAN_WHATSAPP_VERIFY_TOKEN": "verifikasi-aula"})
    cloud.hall_url = str(client.make_url("")).rstrip("/")
    return client


def bodies(cloud: CloudStandIn, wa_id: str) -> list[str]:
    """What a number received: text bodies, or 'template:<name>(<params>)'."""
    out = []
    for b in cloud.texts_to(wa_id):
        if b["type"] == "text":
            out.append(b["text"]["body"])
        else:
            params = [p["text"] for c in b["template"].get("components", []) for p in c["parameters"]]
            out.append(f"template:{b['template']['name']}({', '.join(params)})")
    return out


async def test_cloud_opt_in_by_link_replies_and_alerts(wa_client, cloud):
    client = await cloud_client(wa_client, cloud)
    resp = await client.get("/whatsapp/webhook", params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                                         "hub.verify_token": "salah"})
    assert resp.status == 403
    resp = await client.get("/whatsapp/webhook", params={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                                         "hub.verify_token": "verifikasi-aula"})
    assert resp.status == 200 and await resp.text() == "1158201444"
    staff = await login(client, "siti", "officer", ("2",))
    await take(client, "A")
    await take(client, "A")
    ticket = await take(client, "A")
    assert ticket["whatsapp_url"] == f"https://wa.me/{HALL_NUMBER}?text={quote('Ikuti antrean ' + ticket['token'])}"
    assert await cloud.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(bodies(cloud, WA)) == 1, show=lambda: cloud.sent)
    assert bodies(cloud, WA)[0].startswith("✅ Pemberitahuan aktif untuk nomor antrean A003")
    assert cloud.texts_to(WA)[0]["type"] == "text", "inside the window the citizen opened: free-form text"
    assert await cloud.user_sends(WA, "status") == 200
    await until(lambda: len(bodies(cloud, WA)) == 2)
    assert "Nomor A003 (KTP Elektronik): menunggu. Orang di depan Anda: 2" in bodies(cloud, WA)[1]
    for _ in range(3):
        await client.post("/api/counters/2/next", headers=staff)
    await until(lambda: any("DIPANGGIL" in b for b in bodies(cloud, WA)), show=lambda: bodies(cloud, WA))
    assert bodies(cloud, WA)[2].startswith("⏰ Giliran Anda hampir tiba: nomor A003")
    assert bodies(cloud, WA)[3] == "📢 Nomor A003 DIPANGGIL. Silakan menuju Loket 2 sekarang."
    assert await cloud.user_sends(WA2, "STATUS") == 200  # a number that follows no ticket
    await until(lambda: len(bodies(cloud, WA2)) == 1)
    assert "belum mengikuti nomor antrean" in bodies(cloud, WA2)[0]
    assert await cloud.user_sends(WA2, "halo, antrean saya?") == 200
    await until(lambda: len(bodies(cloud, WA2)) == 2)
    assert "STATUS" in bodies(cloud, WA2)[1] and "BATAL" in bodies(cloud, WA2)[1], "unknown words: the short help"


async def test_a_bad_signature_is_refused_and_nothing_is_stored(wa_client, cloud):
    client = await cloud_client(wa_client, cloud)
    ticket = await take(client, "B")
    payload = cloud.user_message(WA, f"Ikuti antrean {ticket['token']}")
    for headers in ({"Content-Type": "application/json"},
                    {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Type": "application/json"},
                    {"X-Hub-Signature-256": "sha1=abc", "Content-Type": "application/json"}):
        assert await cloud.post(payload, headers=headers) == 403
    cloud.app_secret = "rahasia-orang-lain"  # signed, but with another app's secret
    assert await cloud.post(payload) == 403
    await asyncio.sleep(0.3)
    assert rows(client, "SELECT COUNT(*) FROM inbound") == [(0,)]
    assert rows(client, "SELECT COUNT(*) FROM subscriptions") == [(0,)]
    assert rows(client, "SELECT COUNT(*) FROM outbox") == [(0,)] and cloud.sent == []


async def test_outside_the_window_the_approved_template_goes(wa_client, cloud):
    clock = FakeClock(wib(2026, 11, 25, 0, 5))
    client = await cloud_client(wa_client, cloud, clock)
    for _ in range(2):
        await take(client, "A")
    ticket = await take(client, "A")
    assert await cloud.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(bodies(cloud, WA)) == 1)
    clock.set(wib(2026, 11, 25, 23, 50))  # the citizen wrote 23 h 45 min ago: the window is (nearly) closed
    staff = await login(client, "siti", "officer", ("2",))
    for _ in range(3):
        await client.post("/api/counters/2/next", headers=staff)
    await until(lambda: clock.advance(0.2) or len(bodies(cloud, WA)) == 3, show=lambda: bodies(cloud, WA))
    # The forecast: the visit just called, then the one ahead, 5 minutes each (docs/estimates.md).
    assert bodies(cloud, WA)[1:] == ["template:antrean_hampir_tiba(A003, 1, sekitar 10 menit)",
                                     "template:antrean_dipanggil(A003, Loket 2)"]
    assert cloud.texts_to(WA)[1]["template"]["language"] == {"code": "id"}
    await client.post("/api/counters/2/recall", headers=staff)  # no template for "recalled"
    await until(lambda: clock.advance(0.2) or rows(client, "SELECT state FROM outbox WHERE stage = 'recalled'") == [("failed",)])
    (error,) = rows(client, "SELECT last_error FROM outbox WHERE stage = 'recalled'")[0]
    assert "di luar jendela 24 jam" in error and "recalled" in error


async def test_a_text_reported_undelivered_after_the_window_closed_goes_again_as_template(wa_client, cloud):
    client = await cloud_client(wa_client, cloud)
    staff = await login(client, "siti", "officer", ("2",))
    await take(client, "A")
    await take(client, "A")
    ticket = await take(client, "A")
    assert await cloud.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(bodies(cloud, WA)) == 1)
    cloud.last_inbound[WA] -= 25 * 3600  # Meta sees the window closed (the hall thinks it is open)
    cloud.faults = [(400, 130429)]  # and the first send meets the throughput limit
    for _ in range(2):
        await client.post("/api/counters/2/next", headers=staff)
    await until(lambda: len(bodies(cloud, WA)) == 2, show=lambda: bodies(cloud, WA))
    assert bodies(cloud, WA)[1] == "template:antrean_hampir_tiba(A003, 1, sekitar 10 menit)"
    sql = "SELECT stage, state, key LIKE '%:template' FROM outbox WHERE channel = 'whatsapp' ORDER BY id"
    await until(lambda: rows(client, sql)[-1][1] != "pending")  # sent, and its outcome recorded
    states = rows(client, sql)
    assert states == [("subscribed", "sent", 0), ("approaching", "failed", 0), ("approaching", "sent", 1)], \
        "the text is recorded as not delivered (131047) and the template went once"
    (error,) = rows(client, "SELECT last_error FROM outbox WHERE state = 'failed'")[0]
    assert "24 hours" in error


async def test_cancel_asks_first_and_a_duplicate_delivery_is_answered_once(wa_client, cloud):
    client = await cloud_client(wa_client, cloud)
    for _ in range(3):
        await take(client, "B")
    ticket = await take(client, "B")
    assert await cloud.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(bodies(cloud, WA)) == 1)
    twice = cloud.user_message(WA, "BATAL", message_id="wamid.sekali")
    assert await cloud.post(twice) == 200 and await cloud.post(twice) == 200  # Meta delivers it again
    await until(lambda: len(bodies(cloud, WA)) == 2)
    assert bodies(cloud, WA)[1] == "Untuk membatalkan nomor antrean B004, balas: BATAL B004"
    assert await cloud.user_sends(WA, "BATAL B001") == 200
    await until(lambda: len(bodies(cloud, WA)) == 3)
    assert "B001 bukan nomor yang Anda ikuti" in bodies(cloud, WA)[2], "never another citizen's ticket"
    assert (await (await client.get(f"/api/tickets/{(await take(client, 'B'))['token']}")).json())["state"] \
        == "waiting"
    assert await cloud.user_sends(WA, "batal b004") == 200
    await until(lambda: len(bodies(cloud, WA)) == 4)
    assert bodies(cloud, WA)[3] == "Nomor antrean B004 sudah dibatalkan. Terima kasih."
    assert (await (await client.get(f"/api/tickets/{ticket['token']}")).json())["state"] == "cancelled"
    await asyncio.sleep(1.2)
    assert len(bodies(cloud, WA)) == 4, "the message delivered twice was answered once"


async def test_fonnte_end_to_end(wa_client):
    fonnte = FonnteStandIn(path_secret="jalur-rahasia-123")
    url = await fonnte.start()
    client = await wa_client({"provider": "fonnte", "base_url": url},
                             env={"GILIRAN_WHATSAPP_TOKEN": fonnte.token,
                                  "GILIRAN_WHATSAPP_WEBHOOK_SECRET": fonnte.path_secret})
    fonnte.hall_url = str(client.make_url("")).rstrip("/")
    for _ in range(2):
        await take(client, "B")
    ticket = await take(client, "B")
    for _ in range(2):
        await take(client, "B")
    assert await fonnte.user_sends(WA, f"Ikuti antrean {ticket['token']}", secret="tebakan") == 403
    await asyncio.sleep(0.2)
    assert rows(client, "SELECT COUNT(*) FROM inbound") == [(0,)] and fonnte.sent == []
    assert await fonnte.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(fonnte.sent) == 1)
    assert fonnte.sent[0]["target"] == WA and "Pemberitahuan aktif untuk nomor antrean B003" in fonnte.sent[0]["message"]
    assert await fonnte.user_sends(WA, "TUNDA") == 200
    await until(lambda: len(fonnte.sent) == 2)
    assert "ditunda" in fonnte.sent[1]["message"]
    assert await fonnte.user_sends(WA2, "STATUS") == 200
    await until(lambda: len(fonnte.sent) == 3)
    assert fonnte.sent[2]["target"] == WA2 and "belum mengikuti" in fonnte.sent[2]["message"]
    fonnte.token = "dicabut"
    assert await fonnte.user_sends(WA, "status") == 200
    staff = await login(client, "budi", "supervisor")

    async def health():
        return {c["channel"]: c for c in await (await client.get("/api/alerts/health", headers=staff)).json()}
    await until_async(lambda: health(), lambda h: h["whatsapp"]["state"] == "down")
    assert "token invalid" in (await health())["whatsapp"]["last_error"]
    await fonnte.stop()


async def until_async(fetch, check, timeout: float = 10.0):
    async with asyncio.timeout(timeout):
        while not check(await fetch()):
            await asyncio.sleep(0.1)


async def test_wablas_end_to_end(wa_client):
    wablas = WablasStandIn(path_secret="jalur-wablas-456")
    url = await wablas.start()
    client = await wa_client({"provider": "wablas", "base_url": url},
                             env={"GILIRAN_WHATSAPP_TOKEN": wablas.token,
                                  "GILIRAN_WHATSAPP_SECRET_KEY": wablas.secret_key,
                                  "GILIRAN_WHATSAPP_WEBHOOK_SECRET": wablas.path_secret})
    wablas.hall_url = str(client.make_url("")).rstrip("/")
    staff = await login(client, "siti", "officer", ("1",))
    ticket = await take(client, "B")
    assert await wablas.user_sends(WA, f"Ikuti antrean {ticket['token']}", secret="salah") == 403
    assert await wablas.user_sends(WA, f"Ikuti antrean {ticket['token']}") == 200
    await until(lambda: len(wablas.sent) >= 1)
    assert wablas.sent[0]["phone"] == WA and "B001" in wablas.sent[0]["message"]
    await client.post("/api/counters/1/next", headers=staff)
    await until(lambda: any("DIPANGGIL" in m["message"] for m in wablas.sent), show=lambda: wablas.sent)
    assert await wablas.user_sends(WA, "BATAL") == 200
    await until(lambda: "tidak bisa dibatalkan lagi" in wablas.sent[-1]["message"], show=lambda: wablas.sent)
    assert {m["phone"] for m in wablas.sent} == {WA}
    await wablas.stop()
