"""Hostile input: a fuzzed public API, unguessable tickets, and one kiosk flooding the rest."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from tests.conftest import hall_dict, take
from tests.server_process import HALL_TOML

ROUTES = [
    ("POST", "/api/tickets"), ("GET", "/api/tickets/{token}"), ("DELETE", "/api/tickets/{token}"),
    ("POST", "/api/tickets/{token}/phone"), ("GET", "/api/services"), ("GET", "/api/hall"),
    ("POST", "/api/login"), ("GET", "/t/{token}"), ("GET", "/t/{token}/qr.svg"), ("GET", "/kiosk"),
    ("GET", "/display/{token}"), ("GET", "/api/display/ticker"), ("POST", "/api/counters/{token}/next"),
    ("PUT", "/api/admin/{token}/{token}"), ("POST", "/admin/{token}"), ("POST", "/staff/login"),
    ("POST", "/telegram/webhook"), ("GET", "/api/audit"), ("GET", "/{token}"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
ticket_fields = st.fixed_dictionaries({}, optional={
    "service": json_values | st.sampled_from(["A", "B", "P", "ZZ", "a", ""]),
    "priority": json_values, "priority_reason": json_values | st.sampled_from(["lansia", "hamil", ""]),
    "phone": json_values | st.sampled_from(["0812 3456 7890", "+62", "0" * 40]),
    "kiosk": json_values | st.sampled_from(["KV", "K9", ""]),
    "username": json_values, "password": json_values, "daily_quota": json_values})
valid_ticket = st.fixed_dictionaries({"service": st.sampled_from(["A", "B"])}, optional={
    "priority_reason": st.sampled_from(["lansia", "disabilitas"]), "phone": st.sampled_from(["0812 3456 7890"]),
    "kiosk": st.just("KV")})
surrogates = st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}")
# Malformed classes (issue 15): lone surrogates inside JSON strings, nesting far deeper than any
# request, "gzip" bodies that are not gzip, and forms whose bytes are not UTF-8.
hostile = (st.tuples(st.just("surrogate"), st.tuples(st.sampled_from(["service", "username", "text", "name"]),
                                                     surrogates).map(lambda p: f'{{"{p[0]}": "x{p[1]}"}}'.encode()))
           | st.tuples(st.just("deep"), st.integers(33, 6000).map(lambda n: b"[" * n + b"]" * n))
           | st.tuples(st.just("gzip"), st.binary(max_size=60))
           | st.tuples(st.just("formbytes"), st.binary(min_size=1, max_size=60)))
bodies = (st.tuples(st.just("json"), valid_ticket | ticket_fields | json_values)
          | st.tuples(st.just("raw"), st.binary(max_size=200))
          | st.tuples(st.just("form"), st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4))
          | hostile)
requests = st.lists(st.tuples(st.sampled_from(ROUTES), st.text(max_size=30), bodies,
                              st.dictionaries(st.sampled_from(["q", "zone", "kiosk", "sound", "limit", "last_event_id"]),
                                              st.text(max_size=12), max_size=3)),
                    min_size=10, max_size=10)


@pytest.fixture
def server_url(tmp_path, db_at):
    """The real server in a subprocess (the fuzzer below talks to it from a plain, blocking client)."""
    hall = tmp_path / "hall.toml"
    hall.write_text(HALL_TOML)
    with (tmp_path / "server.log").open("wb") as log_file, subprocess.Popen(
            [sys.executable, "-m", "kiosk", "serve", "--config", str(hall), "--db", str(db_at("fuzz")),
             "--port", "0"], stdout=subprocess.PIPE, stderr=log_file,
            env=os.environ | {"PYTHONUNBUFFERED": "1"}) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("GILIRAN_READY port="), (tmp_path / "server.log").read_text()
        yield int(line.split("=")[1])
        proc.terminate()
        proc.wait(20)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_fuzzed_public_api_never_errors_or_leaks(server_url):
    seen: dict[str, Any] = {"requests": 0, "statuses": set(), "kinds": {}}
    conn = http.client.HTTPConnection("127.0.0.1", server_url, timeout=10)

    @settings(max_examples=520, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(batch=requests)
    def send(batch):
        for (method, path), token, (kind, body), query in batch:
            url = path.replace("{token}", quote(token, safe="") or "x")
            if query:
                url += "?" + urlencode(query)
            headers, data = {}, None
            if method != "GET":
                if kind == "json":
                    data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
                elif kind in ("raw", "surrogate", "deep"):
                    data, headers["Content-Type"] = body, "application/json"
                elif kind == "gzip":
                    data, headers["Content-Type"], headers["Content-Encoding"] = body, "application/json", "gzip"
                elif kind == "formbytes":
                    data, headers["Content-Type"] = b"username=" + body, "application/x-www-form-urlencoded"
                else:
                    data, headers["Content-Type"] = urlencode(body).encode(), "application/x-www-form-urlencoded"
            conn.request(method, url, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode(errors="replace")
            seen["requests"] += 1
            if method != "GET":
                seen["kinds"][kind] = seen["kinds"].get(kind, 0) + 1
            seen["statuses"].add(resp.status)
            assert resp.status < 500, (method, url, kind, body, resp.status, text[:300])
            assert "Traceback" not in text and 'File "' not in text, (method, url)

    try:
        send()
        conn.request("GET", "/api/health")
        assert conn.getresponse().status == 200, "the server is alive"
    finally:
        conn.close()
    print(f"fuzz: {seen['requests']} requests, statuses {sorted(seen['statuses'])}, bodies by kind {seen['kinds']}")
    assert seen["requests"] >= 5000, seen
    assert all(seen["kinds"].get(k, 0) >= 100 for k in ("surrogate", "deep", "gzip", "formbytes")), seen["kinds"]
    assert {200, 201, 400, 404}.issubset(seen["statuses"]), seen["statuses"]  # valid tickets too, not only refusals


async def test_the_server_is_alive_after_garbage_on_the_wire(aiohttp_server, app):
    server = await aiohttp_server(app)
    for junk in (b"\x00\xff" * 500, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{",
                 b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"):
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(junk)
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(2000), 2)
        except TimeoutError:
            answer = b""  # still waiting for the rest of a request that never comes: fine
        assert b"Traceback" not in answer and not answer.startswith(b"HTTP/1.1 5"), (junk[:40], answer[:200])
        writer.close()
    async with aiohttp.ClientSession() as session, session.get(server.make_url("/api/health")) as resp:
        assert resp.status == 200


async def test_ticket_tokens_are_unguessable_and_wrong_ones_reveal_nothing(client):
    tokens = [(await take(client, "B"))["token"] for _ in range(300)]  # more than one read of randomness
    assert len(set(tokens)) == 300
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
    first = tokens[0]
    for wrong in (first[:-1] + ("A" if first[-1] != "A" else "B"), first.lower(), "B001", "1", first + "x"):
        for path in (f"/t/{wrong}", f"/api/tickets/{wrong}", f"/t/{wrong}/qr.svg", f"/api/tickets/{wrong}/events"):
            resp = await client.get(path)
            text = await resp.text()
            assert resp.status == 404, path
            assert "B001" not in text and "Kartu Keluarga" not in text, "a wrong token shows no ticket"


async def test_one_kiosk_flooding_neither_slows_others_nor_drains_the_quota(aiohttp_server, db_at, clock):
    hall = hall_dict(limits={"tickets_per_minute": 6, "ticket_burst": 3},
                     services=[{"code": "A", "name": "KTP", "agency": "DUKCAPIL", "daily_quota": 50},
                               {"code": "B", "name": "KK", "agency": "DUKCAPIL"},
                               {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}])
    app = create_app(Settings(db=db_at("flood")), config=parse_hall(hall), clock=clock,
                     synchronous="NORMAL")
    server = await aiohttp_server(app)
    url = str(server.make_url("/api/tickets"))

    async def kiosk(address: str, count: int, pause: float) -> tuple[list[int], list[float]]:
        statuses, latencies = [], []
        connector = aiohttp.TCPConnector(local_addr=(address, 0))  # each kiosk has its own address
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(count):
                started = time.perf_counter()
                async with session.post(url, json={"service": "A"}) as resp:
                    statuses.append(resp.status)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(pause)
        return statuses, latencies

    flood, honest = await asyncio.gather(kiosk("127.0.0.2", 300, 0), kiosk("127.0.0.3", 3, 0.05))
    assert flood[0].count(201) == 3 and flood[0].count(429) == 297, "the flooding kiosk gets its burst, then 429"
    assert honest[0] == [201, 201, 201], "another kiosk is served all the while"
    async with aiohttp.ClientSession() as session, session.get(server.make_url("/api/services")) as resp:
        services = {s["code"]: s for s in await resp.json()}
    assert services["A"]["quota_left"] == 44, "one kiosk took only its rate's worth of the quota"
