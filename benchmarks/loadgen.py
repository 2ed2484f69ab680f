"""A small, cheap HTTP/1.1 load generator: keep-alive connections on plain asyncio sockets, each
sending one request at a time for a fixed time, noting every latency and status.

Plain sockets rather than aiohttp's client so the load side costs little CPU on the same 2 cores
as the server; both the baselines and Giliran are driven by exactly this code.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """What one load run saw."""

    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    statuses: Counter = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The p-th percentile latency in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            self.close()
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            data = bytearray()
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                data += await self.reader.readexactly(size + 2)
            await self.reader.readline()
            return status, bytes(data)
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = self.reader = None


async def hammer(url: str, concurrency: int, seconds: float,
                 make: Callable[[int, int], tuple[str, str, Any, dict[str, str] | None]],
                 keep_bodies: bool = False, stop_on: Callable[[int, bytes], bool] | None = None) -> Result:
    """`concurrency` workers send `make(worker, n)` = (method, path, json body or None, headers)
    back to back for `seconds` (or until `stop_on(status, body)` says a worker is done)."""
    host, _, port = url.removeprefix("http://").partition(":")
    start = time.perf_counter()
    deadline = start + seconds
    result = Result(seconds=seconds)

    async def worker(index: int) -> None:
        connection = Connection(host, int(port))
        n = 0
        try:
            while time.perf_counter() < deadline:
                method, path, body, headers = make(index, n)
                n += 1
                payload = None if body is None else json.dumps(body).encode()
                sent = time.perf_counter()
                try:
                    status, data = await connection.request(method, path, payload, headers)
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    result.statuses["connection_error"] += 1
                    connection.close()
                    await asyncio.sleep(0.05)
                    continue
                result.statuses[status] += 1
                if 200 <= status < 300:
                    result.latencies.append(time.perf_counter() - sent)
                    if keep_bodies:
                        result.bodies.append(data)
                if stop_on is not None and stop_on(status, data):
                    return
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    result.seconds = min(seconds, time.perf_counter() - start)
    return result
