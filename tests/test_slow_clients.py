"""Slow and greedy clients against the real server (a subprocess): connections that trickle their
headers are closed, one address cannot hold every socket, and others are served meanwhile."""

from __future__ import annotations

import asyncio

import pytest

from tests.server_process import HALL_TOML, ServerProcess

pytestmark = pytest.mark.slow
TIMEOUT_S = 2
CAP = 20


@pytest.fixture
async def server(tmp_path, db_at):
    hall = tmp_path / "hall.toml"
    hall.write_text(HALL_TOML.replace("connections_per_address = 100000",
                                      f"connections_per_address = {CAP}\nrequest_timeout_s = {TIMEOUT_S}"))
    proc = ServerProcess(hall, db_at("slow"))
    port = int((await proc.start()).rsplit(":", 1)[1])
    yield port
    assert await proc.stop() == 0
    assert "Traceback" not in proc.log.read_text()


async def closed(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the server closes the connection within `within` seconds (reading what it sends)."""
    try:
        async with asyncio.timeout(within):
            while await reader.read(4096):
                pass
        return True
    except (TimeoutError, ConnectionResetError):
        return False


async def get_health(port: int, source: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: hall\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status = int((await asyncio.wait_for(reader.readline(), 10)).split()[1])
    writer.close()
    await writer.wait_closed()
    return status


async def test_slow_headers_are_cut_off_and_one_address_cannot_take_every_socket(server):
    port = server
    slow = []
    for _ in range(CAP):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.5", 0))
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: ha")  # and then nothing more for a long time
        slow.append((reader, writer))
    await asyncio.sleep(0.3)
    # Over the cap: closed at once, without an answer.
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.5", 0))
    assert await closed(reader, within=3), "a connection over the per-address cap is refused"
    writer.close()
    # Another address is served while the first one holds its share.
    assert await get_health(port, "127.0.0.6") == 200
    # The trickling ones are cut off after the request deadline.
    results = await asyncio.gather(*(closed(r, within=TIMEOUT_S + 8) for r, _ in slow))
    assert all(results), f"{results.count(False)} slow connections still open"
    for _, w in slow:
        w.close()
    assert await get_health(port, "127.0.0.5") == 200, "the address is served again once its sockets are free"


async def test_a_stalled_body_is_answered_and_closed(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server, local_addr=("127.0.0.7", 0))
    writer.write(b"POST /api/tickets HTTP/1.1\r\nHost: hall\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"service\"")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), TIMEOUT_S + 8)
    assert status.split()[1] == b"408"
    assert await closed(reader, within=5)
    writer.close()
    assert await get_health(server, "127.0.0.7") == 200
