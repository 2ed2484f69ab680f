"""Many counters pressing "next" at once: every ticket is called exactly once, never twice."""

from __future__ import annotations

import asyncio
from collections import Counter

from kiosk.typedefs import STORE
from tests.conftest import login, take

TEN_COUNTERS = [{"id": str(i), "name": f"Loket {i}", "services": ["A", "B"]} for i in range(1, 11)]


async def test_fifty_simultaneous_next_calls_across_ten_counters(client_for):
    client = await client_for(counters=TEN_COUNTERS)
    headers = await login(client, "sri", "supervisor")
    waiting = {(await take(client, "A" if i % 6 == 0 else "B"))["number"] for i in range(30)}
    calls = [client.post(f"/api/counters/{i % 10 + 1}/next", headers=headers) for i in range(50)]
    responses = await asyncio.gather(*calls)
    called = []
    for resp in responses:
        assert resp.status in (200, 204), await resp.text()
        if resp.status == 200:
            called.append((await resp.json())["ticket"]["number"])
    duplicates = [n for n, k in Counter(called).items() if k > 1]
    assert duplicates == [], f"handed out twice: {duplicates}"
    assert sorted(called) == sorted(waiting), "every waiting ticket was called"
    assert sum(r.status == 204 for r in responses) == 20
    # Each ticket visited exactly one counter, as the store records it.
    reads = client.server.app[STORE].reads
    async with reads.conn.execute("SELECT ticket_id, COUNT(*), COUNT(DISTINCT counter_id) FROM service_log "
                                  "GROUP BY ticket_id") as cur:
        visits = await cur.fetchall()
    assert len(visits) == 30 and all(n == 1 and counters == 1 for _, n, counters in visits)
