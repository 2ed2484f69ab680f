"""The survey in a Telegram chat through the real python-telegram-bot against the Bot API stand-in:
one element at a time as inline keyboards, stopping keeps a partial response, a stranger's or a
repeated button stores nothing more; SMS gets a link only when a gateway is configured."""

from __future__ import annotations

import pytest

from kiosk.web.appkeys import STORE
from tests.conftest import login, take
from tests.test_telegram import CHAT, OTHER, bot_client, telegram, until  # noqa: F401 - the fixtures


async def response_of(client, ticket_id: int):
    return await client.server.app[STORE].reads.survey_response(ticket_id)


def buttons(message) -> list[str]:
    return [b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row]


async def serve_followed(client, telegram, chat: int) -> dict:  # noqa: F811
    staff = await login(client, f"siti{chat}", "officer", ("1",))
    ticket = await take(client, "A")
    telegram.user_sends(chat, f"/start {ticket['token']}")
    await until(lambda: len(telegram.texts(chat)) == 1, show=lambda: telegram.texts(chat))
    for action in ("next", "start", "finish"):
        assert (await client.post(f"/api/counters/1/{action}", headers=staff)).status == 200
    return ticket


async def test_questions_one_at_a_time_and_a_partial_kept(telegram, bot_client):  # noqa: F811
    client = await bot_client()
    ticket = await serve_followed(client, telegram, CHAT)
    await until(lambda: any("pertanyaan 1/9" in t for t in telegram.texts(CHAT)), show=lambda: telegram.texts(CHAT))
    first = next(m for m in telegram.sent if "pertanyaan 1/9" in m.text)
    assert "persyaratan" in first.text and "nomor A001" in first.text
    token = ticket["token"]
    assert buttons(first) == [f"skm:{token}:U1:{v}" for v in (1, 2, 3, 4)] + [f"skm:{token}:stop"]
    assert first.reply_markup["inline_keyboard"][3][0]["text"] == "😄 Sangat sesuai"

    telegram.user_presses(OTHER, f"skm:{token}:U1:1")  # a stranger forging the button
    await until(lambda: len(telegram.texts(OTHER)) == 1)
    assert "tidak terhubung" in telegram.texts(OTHER)[0]
    telegram.user_presses(CHAT, f"skm:{token}:U1:4")
    await until(lambda: any("pertanyaan 2/9" in t for t in telegram.texts(CHAT)), show=lambda: telegram.texts(CHAT))
    assert buttons(telegram.sent[-1])[0] == f"skm:{token}:U2:1"
    telegram.user_presses(CHAT, f"skm:{token}:U2:3")
    await until(lambda: any("pertanyaan 3/9" in t for t in telegram.texts(CHAT)))
    telegram.user_presses(CHAT, f"skm:{token}:stop")
    await until(lambda: "sejauh ini sudah tersimpan" in telegram.texts(CHAT)[-1], show=lambda: telegram.texts(CHAT))
    ticket_id = (await client.server.app[STORE].reads.ticket_by_token(token)).id
    saved = await response_of(client, ticket_id)
    assert saved["answers"] == {"U1": 4, "U2": 3, **dict.fromkeys(("U3", "U4", "U5", "U6", "U7", "U8", "U9"))}
    assert (saved["complete"], saved["channel"]) == (False, "telegram")
    assert telegram.calls.count("answerCallbackQuery") == 4

    # the citizen comes back later and finishes: the partial becomes one complete response
    for i, code in enumerate(("U3", "U4", "U5", "U6", "U7", "U8", "U9"), start=3):
        telegram.user_presses(CHAT, f"skm:{token}:{code}:3")
        await until(lambda i=i: any(f"pertanyaan {i + 1}/9" in t for t in telegram.texts(CHAT))
                    or "Terima kasih!" in telegram.texts(CHAT)[-1], show=lambda: telegram.texts(CHAT)[-2:])
    assert "Penilaian Anda sudah kami terima" in telegram.texts(CHAT)[-1]
    saved = await response_of(client, ticket_id)
    assert saved["complete"] and saved["answers"]["U9"] == 3
    telegram.user_presses(CHAT, f"skm:{token}:U1:1")  # an old button: the response is final
    await until(lambda: "sudah diisi" in telegram.texts(CHAT)[-1], show=lambda: telegram.texts(CHAT)[-1])
    assert (await response_of(client, ticket_id))["answers"]["U1"] == 4
    resp = await client.post("/api/surveys", json={"token": token, "answers": dict.fromkeys(
        ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"), 1)})
    assert (await resp.json())["error"]["code"] == "survey_answered"


@pytest.mark.parametrize(("sms", "expected"), [({"provider": "http", "base_url": "http://127.0.0.1:9"}, 1),
                                               ({}, 0)])
async def test_sms_gets_a_link_only_with_a_gateway(client_for, sms, expected):
    client = await client_for(sms=sms)
    staff = await login(client, "siti", "officer", ("1",))
    ticket = await take(client, "A", phone="0812 3456 7890")
    for action in ("next", "start", "finish"):
        assert (await client.post(f"/api/counters/1/{action}", headers=staff)).status == 200
    messages = await (await client.get(f"/api/tickets/{ticket['token']}/messages", headers=staff)).json()
    survey = [m for m in messages if m["stage"] == "survey"]
    assert len(survey) == expected, messages
    if expected:
        assert survey[0]["channel"] == "sms" and len(survey[0]["text"]) <= 160
        assert f"http://hall.test/t/{ticket['token']}" in survey[0]["text"]
