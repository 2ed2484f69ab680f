"""The display's event stream (zones, sentences, heartbeats) and the running-text API."""

from __future__ import annotations

from kiosk.web import sse
from tests.conftest import login, take
from tests.test_events import read_events


async def test_display_stream_carries_the_sentence_and_audio(client):
    headers = await login(client, "siti", "officer", ("1",))
    await take(client, "A")
    resp = await client.get("/display-events")
    (snapshot,) = await read_events(resp, 1)
    assert snapshot["data"]["zone"] is None and "ticker" in snapshot["data"]
    await client.post("/api/counters/1/next", headers=headers)
    (called, _changed) = await read_events(resp, 2)
    assert called["data"]["sentence"] == "Nomor antrean A satu, silakan menuju loket satu."
    audio = called["data"]["audio"]
    if audio:  # espeak-ng installed: the file is served
        wav = await client.get(audio)
        assert wav.status == 200 and wav.headers["Content-Type"] == "audio/wav"
    resp.close()
    assert (await client.get("/display-audio/" + "0" * 32 + ".wav")).status == 404
    chime = await client.get("/display-audio/chime.wav")
    assert chime.status == 200 and (await chime.read())[:4] == b"RIFF"


async def test_heartbeats_keep_a_quiet_display_alive(client, monkeypatch):
    monkeypatch.setattr(sse, "HEARTBEAT_S", 0.2)
    resp = await client.get("/display-events")
    (snapshot, beat) = await read_events(resp, 2)
    assert beat["event"] == "heartbeat" and "id" not in beat
    resp.close()


async def test_running_text_needs_admin_or_supervisor(client):
    assert (await (await client.get("/api/display/ticker")).json())["text"].startswith("Selamat datang")
    officer = await login(client, "siti", "officer", ("1",))
    resp = await client.put("/api/display/ticker", headers=officer, json={"text": "x"})
    assert resp.status == 403
    resp = await client.put("/api/display/ticker", json={"text": "x"})
    assert resp.status == 401
    supervisor = await login(client, "sri", "supervisor")
    resp = await client.put("/api/display/ticker", headers=supervisor, json={"text": "  Istirahat   pukul 12.00 "})
    assert (await resp.json())["text"] == "Istirahat pukul 12.00"
    resp = await client.put("/api/display/ticker", headers=supervisor, json={"text": "x" * 501})
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "ticker_too_long"
    assert (await (await client.get("/api/display/ticker")).json())["text"] == "Istirahat pukul 12.00"
    stream = await client.get("/api/events")
    (snap,) = await read_events(stream, 1)
    assert snap["data"]["ticker"] == "Istirahat pukul 12.00"
    stream.close()
