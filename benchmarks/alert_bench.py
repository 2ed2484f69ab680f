"""Benchmark: 2,000 queued alerts delivered through python-telegram-bot to the Bot API stand-in.

Reports delivery time and rate, the fastest overall and per-chat rates seen, and duplicates.
Run: .venv/bin/python -m benchmarks.alert_bench [--alerts 2000] [--chats 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from kiosk.app import create_app
from kiosk.hall.parse import parse_hall
from kiosk.settings import Settings
from kiosk.web.appkeys import FOLLOWING, QUEUE
from notifier.web import BOT
from tests.conftest import hall_dict
from tests.telegram_standin import BotApiStandIn


async def bench(alerts: int, chats: int) -> None:
    standin = BotApiStandIn()
    api = await standin.start()
    with tempfile.TemporaryDirectory() as tmp:
        doc = hall_dict(limits={"tickets_per_minute": 10**6, "ticket_burst": 10**6},
                        services=[{"code": "A", "name": "KTP", "agency": "DUKCAPIL"},
                                  {"code": "B", "name": "KK", "agency": "DUKCAPIL"},
                                  {"code": "P", "name": "Paspor", "agency": "IMIGRASI"}],
                        alerts={"approach_ahead": 0, "approach_minutes": 0})
        settings = Settings(db=Path(tmp) / "alerts.sqlite3", telegram_token=standin.token, telegram_api_url=api)
        from aiohttp import web
        app = create_app(settings, config=parse_hall(doc))
        runner = web.AppRunner(app)
        await runner.setup()
        async with asyncio.timeout(10):
            while app[BOT].username is None:
                await asyncio.sleep(0.05)
        queue = app[QUEUE]
        # Queue the alerts in the database first: each chat follows tickets, one "subscribed" per ticket.
        per_chat = alerts // chats
        started = time.perf_counter()
        for i in range(alerts):
            ticket = await queue.issue("A")
            await app[FOLLOWING].subscribe(ticket.token, "telegram", str(10_000 + i % chats))
        queued = time.perf_counter() - started
        start = time.perf_counter()
        async with asyncio.timeout(600):
            while len(standin.sent) < alerts:
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        await asyncio.sleep(1.0)
        await runner.cleanup()
    await standin.stop()
    dupes = sum(n - 1 for n in Counter((m.chat_id, m.text) for m in standin.sent).values() if n > 1)
    times = [t for t, _ in standin.send_times]
    busiest = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    by_chat: dict[int, list[float]] = defaultdict(list)
    for t, chat in standin.send_times:
        by_chat[chat].append(t)
    closest = min((b - a for ts in by_chat.values() for a, b in zip(ts, ts[1:], strict=False)), default=float("nan"))
    span = times[-1] - times[0]
    print(f"{alerts} alerts to {chats} chats ({per_chat} each) queued in {queued:.1f} s (delivery runs meanwhile); "
          f"last delivered {elapsed:.1f} s after queueing ended; first to last message {span:.1f} s = "
          f"{len(times) / span:.1f} msg/s; busiest second {busiest} messages (limit 30); closest two to one chat "
          f"{closest:.2f} s apart (limit 1 s); duplicates {dupes}; messages {len(standin.sent)} "
          f"(the ticket at the head also gets 'approaching')")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(bench(args.alerts, args.chats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
