"""The public REST API: shapes, error codes in JSON with Indonesian messages, flood limit, pages."""

from __future__ import annotations

import asyncio

from tests.conftest import login, take, wib


def _error(body):
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


async def test_health_and_services(client):
    resp = await client.get("/api/health")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    await take(client, "A")
    services = {s["code"]: s for s in await (await client.get("/api/services")).json()}
    assert set(services) == {"A", "B", "P"}
    a = services["A"]
    assert {k: a[k] for k in ("code", "name", "agency", "open", "waiting", "quota_left")} == {
        "code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL", "open": True, "waiting": 1, "quota_left": 4}
    assert a["estimated_wait_s"] is None and a["estimated_wait_known"] is False  # no counter works A yet
    assert a["estimated_wait_text"] == "belum dapat diperkirakan"


async def test_take_ticket_answers_201_with_the_contract(client):
    body = await take(client, "B", priority=True, phone="+62 812-3456-7890")
    assert body["number"] == "B001" and body["service"] == "B" and body["state"] == "waiting"
    assert body["ahead"] == 0 and body["estimated_wait_s"] is None and body["priority"] is True
    assert body["issued_at"] == "2026-11-25T09:00:00+07:00"
    assert body["status_url"] == f"http://hall.test/t/{body['token']}"
    assert len(body["token"]) >= 22, "at least 128 random bits"
    assert "phone" not in body and "0812" not in str(body) and "3456" not in str(body)
    second = await take(client, "B")
    assert second["ahead"] == 1 and second["estimated_wait_known"] is False


async def test_ticket_status_and_cancel(client, admin):
    ticket = await take(client, "A")
    resp = await client.get(f"/api/tickets/{ticket['token']}")
    status = await resp.json()
    assert {k: status[k] for k in ("number", "service", "state", "ahead", "estimated_wait_s", "counter")} == {
        "number": "A001", "service": "A", "state": "waiting", "ahead": 0, "estimated_wait_s": None, "counter": None}
    resp = await client.delete(f"/api/tickets/{ticket['token']}")
    assert resp.status == 200 and (await resp.json())["state"] == "cancelled"
    resp = await client.delete(f"/api/tickets/{ticket['token']}")
    assert resp.status == 409 and _error(await resp.json()) == "invalid_transition"
    called = await take(client, "A")
    await client.post("/api/counters/1/next", headers=admin)
    status = await (await client.get(f"/api/tickets/{called['token']}")).json()
    assert (status["state"], status["counter"], status["counter_name"]) == ("called", "1", "Loket 1")


async def test_errors_are_json_with_codes(client):
    cases = [
        ({"service": "Q"}, 404, "unknown_service"),
        ({"service": "A", "phone": "12345"}, 422, "invalid_phone"),
        ({"service": "A", "priority": "ya"}, 400, "bad_request"),
        ({"service": 7}, 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"service": "A", "priority_reason": "vip"}, 422, "invalid_priority"),
        ({"service": "P"}, 201, None),
    ]
    for payload, status, code in cases:
        resp = await client.post("/api/tickets", json=payload)
        assert resp.status == status, payload
        if code:
            body = await resp.json()
            assert _error(body) == code
            assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    as_json = {"Content-Type": "application/json"}
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe"):
        resp = await client.post("/api/tickets", data=raw, headers=as_json)
        assert resp.status == 400 and _error(await resp.json()) == "bad_request"
    resp = await client.post("/api/tickets", data=b'{"service": "A"}')  # JSON, but not said to be
    assert resp.status == 415 and _error(await resp.json()) == "unsupported_media_type"
    resp = await client.post("/api/tickets", data=b"x" * 100_000, headers=as_json)
    assert resp.status == 413 and _error(await resp.json()) == "payload_too_large"
    resp = await client.get("/api/tickets/nope")
    assert resp.status == 404 and _error(await resp.json()) == "unknown_ticket"
    resp = await client.get("/api/nothing-here")
    assert resp.status == 404 and _error(await resp.json()) == "not_found"
    resp = await client.put("/api/tickets")
    assert resp.status == 405 and _error(await resp.json()) == "method_not_allowed"


async def test_closed_and_full_services(client, clock):
    clock.set(wib(2026, 11, 25, 13, 0))
    resp = await client.post("/api/tickets", json={"service": "P"})
    assert resp.status == 409 and _error(await resp.json()) == "service_closed"
    for _ in range(5):
        await take(client, "A")
    resp = await client.post("/api/tickets", json={"service": "A"})
    body = await resp.json()
    assert resp.status == 409 and _error(body) == "quota_exhausted"
    assert "Kuota harian" in body["error"]["message"]


async def test_one_client_flooding_is_limited(client_for, clock):
    client = await client_for(limits={"tickets_per_minute": 6, "ticket_burst": 3})
    statuses = [(await client.post("/api/tickets", json={"service": "B"})).status for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    resp = await client.post("/api/tickets", json={"service": "B"})
    assert _error(await resp.json()) == "rate_limited" and int(resp.headers["Retry-After"]) == 10
    clock.advance(10)
    assert (await client.post("/api/tickets", json={"service": "B"})).status == 201
    services = {s["code"]: s for s in await (await client.get("/api/services")).json()}
    assert services["B"]["waiting"] == 4, "refused requests created nothing"


async def test_pages_escape_and_speak_indonesian(client):
    ticket = await take(client, "A")
    resp = await client.get(f"/t/{ticket['token']}")
    html = await resp.text()
    assert resp.status == 200 and "A001" in html and "Orang di depan Anda" in html
    assert "MPP Uji &lt;b&gt;Coba&lt;/b&gt;" in html and "<b>Coba</b>" not in html
    assert "Rabu, 25 November 2026 pukul 09.00 WIB" in html
    resp = await client.get("/t/wrong-token")
    html = await resp.text()
    assert resp.status == 404 and "Nomor antrean tidak ditemukan." in html and "A001" not in html
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = await client.get("/")
    assert resp.status == 200 and "3 layanan" in await resp.text()
    assert (await client.get("/static/giliran.css")).status == 200


async def test_concurrent_takes_never_share_a_number(client):
    results = await asyncio.gather(*(client.post("/api/tickets", json={"service": "B"}) for _ in range(40)))
    numbers = [(await r.json())["number"] for r in results]
    assert sorted(numbers) == [f"B{i:03d}" for i in range(1, 41)]


async def test_staff_counter_flow(client):
    headers = await login(client, "siti", "officer", ("1", "2"))
    first = await take(client, "A")
    await take(client, "B")
    resp = await client.post("/api/counters/1/next", headers=headers)
    body = await resp.json()
    assert resp.status == 200 and body["ticket"]["number"] == "A001" and body["closed"] is None
    assert (await (await client.post("/api/counters/1/recall", headers=headers)).json())["ticket"]["recalls"] == 1
    assert (await (await client.post("/api/counters/1/start", headers=headers)).json())["ticket"]["state"] == \
        "serving"
    resp = await client.post("/api/counters/1/transfer", headers=headers, json={"service": "B"})
    assert (await resp.json())["ticket"]["service"] == "B"
    resp = await client.post("/api/counters/1/next", headers=headers)
    assert (await resp.json())["ticket"]["number"] == "A001", "kept its arrival, first in B"
    resp = await client.post("/api/counters/1/no-show", headers=headers)
    assert (await resp.json())["ticket"]["state"] == "no_show"
    resp = await client.post(f"/api/tickets/{first['token']}/requeue", headers=headers)
    assert (await resp.json())["state"] == "waiting"
    for _ in range(2):
        resp = await client.post("/api/counters/1/next", headers=headers)
        assert resp.status == 200
    await client.post("/api/counters/1/start", headers=headers)
    resp = await client.post("/api/counters/1/finish", headers=headers)
    assert (await resp.json())["ticket"]["state"] == "done"
    resp = await client.post("/api/counters/1/next", headers=headers)
    assert resp.status == 204
    resp = await client.post("/api/counters/1/pause", headers=headers)
    assert (await resp.json())["paused"] is True
    resp = await client.post("/api/counters/1/next", headers=headers)
    assert resp.status == 409 and _error(await resp.json()) == "counter_paused"
    resp = await client.post("/api/counters/1/resume", headers=headers)
    assert (await resp.json())["paused"] is False
    resp = await client.post("/api/counters/1/finish", headers=headers)
    assert resp.status == 409 and _error(await resp.json()) == "no_current_ticket"
    counters = {c["id"]: c for c in await (await client.get("/api/counters", headers=headers)).json()}
    assert counters["1"]["served_today"] == 1 and counters["1"]["mine"] and not counters["3"]["mine"]
    resp = await client.post("/api/counters/99/next", headers=headers)
    assert resp.status == 404 and _error(await resp.json()) == "unknown_counter"
    resp = await client.post("/api/counters/1/transfer", headers=headers, json={})
    assert resp.status == 400


async def test_audit_log_records_who_did_what(client, admin):
    officer = await login(client, "budi", "officer", ("1",))
    await take(client, "A")
    await client.post("/api/counters/1/next", headers=officer)
    resp = await client.get("/api/audit", headers=admin)
    entries = await resp.json()
    assert (entries[0]["username"], entries[0]["action"], entries[0]["ticket_number"]) == ("budi", "next", "A001")
    assert (await client.get("/api/audit", headers=officer)).status == 403
