"""A database that refuses writes (disk full) answers 503 with a code, stores nothing partial, recovers."""

from __future__ import annotations

import pytest

from kiosk.web.appkeys import STORE
from tests.conftest import take

pytestmark = pytest.mark.sqlite_only  # SQLite's own disk-full path (PostgreSQL away: test_pg_processes.py)


async def _set_max_pages(client, pages: int) -> None:
    writer = client.server.app[STORE]._writer
    await writer.execute(f"PRAGMA max_page_count = {pages}")


async def test_disk_full_answers_503_and_recovers(client):
    first = await take(client, "B")
    async with client.server.app[STORE]._writer.execute("PRAGMA page_count") as cur:
        pages = (await cur.fetchone())[0]
    await _set_max_pages(client, pages)  # the "disk" is full: no page can be added
    body = {"error": {}}
    for _ in range(200):  # fill the last free space in the pages
        resp = await client.post("/api/tickets", json={"service": "B"})
        if resp.status != 201:
            body = await resp.json()
            break
    assert resp.status == 503 and body["error"]["code"] == "storage_unavailable"
    assert "Penyimpanan" in body["error"]["message"]
    numbers_before = [s for s in await (await client.get("/api/services")).json() if s["code"] == "B"][0]["waiting"]
    await _set_max_pages(client, 1_000_000)  # space returns
    ticket = await take(client, "B")
    assert int(ticket["number"][1:]) == numbers_before + 1, "the refused request left no partial ticket"
    assert (await client.get(f"/api/tickets/{first['token']}")).status == 200
