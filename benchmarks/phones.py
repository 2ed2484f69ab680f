"""Phones following their tickets' status streams, in a process of their own (so their reading
does not slow the load generator that measures ticket issue).

    python -m benchmarks.phones PORT < tokens   # prints READY once all are connected,
                                                # then the number of updates received on each
                                                # line read from stdin, and exits at EOF
"""

from __future__ import annotations

import asyncio
import resource
import sys


class Phone:
    """One status page's stream: counts the `ticket` events it receives."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.updates = 0
        self.ready = asyncio.Event()

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(f"GET /api/tickets/{self.token}/events HTTP/1.1\r\nHost: x\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        try:
            while line := await reader.readline():
                if line.startswith(b"event: ticket"):
                    self.updates += 1
                    self.ready.set()
        finally:
            writer.close()


async def main(port: int, tokens: list[str]) -> None:
    phones = [Phone(port, t) for t in tokens]
    tasks = [asyncio.create_task(p.run()) for p in phones]
    await asyncio.gather(*(p.ready.wait() for p in phones))
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(sum(p.updates for p in phones), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (10000, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    first = sys.stdin.readline().split()
    asyncio.run(main(int(sys.argv[1]), first))
