"""The baselines every figure of `make bench` is set against, measured in the same run.

- A: a bare aiohttp endpoint that parses the same JSON as `POST /api/tickets` and answers, no
  database;
- B: the same plus one INSERT and a durable commit per request in SQLite (WAL,
  synchronous=FULL, one writer behind a lock, through aiosqlite like Giliran): the naive cost of
  "a ticket on disk".

Run: python -m benchmarks.baseline --mode a|b --db FILE (prints GILIRAN_READY port=N)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiosqlite
from aiohttp import web


def make_app(mode: str, db: str) -> web.Application:
    app = web.Application()
    lock = asyncio.Lock()
    state: dict[str, aiosqlite.Connection] = {}

    async def issue(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": {"code": "bad_request"}}, status=400)
        service = data.get("service") if isinstance(data, dict) else None
        if not isinstance(service, str):
            return web.json_response({"error": {"code": "bad_request"}}, status=400)
        number = 0
        if mode == "b":
            conn = state["conn"]
            async with lock:
                await conn.execute("BEGIN IMMEDIATE")
                cursor = await conn.execute("INSERT INTO tickets (service, issued_at) VALUES (?, ?)",
                                            (service, time.time()))
                number = cursor.lastrowid or 0
                await conn.execute("COMMIT")
        return web.json_response({"number": f"{service}{number:03d}", "service": service}, status=201)

    async def database(app: web.Application):
        if mode == "b":
            conn = await aiosqlite.connect(db, isolation_level=None)
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, service TEXT, "
                               "issued_at REAL)")
            state["conn"] = conn
        yield
        if mode == "b":
            await state["conn"].close()

    app.cleanup_ctx.append(database)
    app.router.add_post("/api/tickets", issue)
    return app


async def serve(mode: str, db: str) -> None:
    runner = web.AppRunner(make_app(mode, db), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"GILIRAN_READY port={runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("a", "b"), required=True)
    parser.add_argument("--db", default="baseline.sqlite3")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.mode, args.db))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
