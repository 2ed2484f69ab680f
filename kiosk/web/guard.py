"""Slow and greedy clients at the socket: a per-address connection cap and a deadline for a
connection's first request head.

aiohttp waits as long as a client likes for the headers of a request and keeps any number of
connections per address. Two thousand connections trickling headers, or one address opening
thousands, would hold the server's memory and sockets. `GuardedSite` serves the app like aiohttp's
`TCPSite`, wrapping each connection's protocol:

- an address may hold at most `connections_per_address` connections at once (streams included:
  a hall's displays and the phones behind one carrier address stay far below the default);
  a connection over the cap is closed at once and logged (at most once a minute per address);
- a new connection must send its first request head within `request_timeout_s`, or it is
  closed. Bodies have the same deadline inside the handlers (`kiosk/web/http.py`); idle
  keep-alive connections are closed by aiohttp's keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from aiohttp import web

log = logging.getLogger(__name__)
END_OF_HEAD = b"\r\n\r\n"


class ConnectionGuard:
    """The limits and the live count of connections per address."""

    def __init__(self, connections_per_address: int, request_timeout_s: float) -> None:
        self.per_address = connections_per_address
        self.timeout_s = request_timeout_s
        self.open: Counter[str] = Counter()
        self.refused = 0
        self.timed_out = 0
        self._logged: dict[str, float] = {}

    def configure(self, connections_per_address: int, request_timeout_s: float) -> None:
        """Follow changed limits (new connections use them)."""
        self.per_address = connections_per_address
        self.timeout_s = request_timeout_s

    def admit(self, address: str) -> bool:
        """Count a new connection from `address`, or refuse it (False) when the address is at its cap."""
        if self.open[address] >= self.per_address:
            self.refused += 1
            now = time.monotonic()
            if now - self._logged.get(address, 0.0) > 60:
                self._logged[address] = now
                log.warning("connections from %s refused: %d open (limit %d)", address, self.open[address],
                            self.per_address)
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        """A connection from `address` ended."""
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class GuardedProtocol(asyncio.Protocol):
    """Forwards everything to aiohttp's own protocol, after the guard's checks."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.address: str | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        if not self.guard.admit(address):
            transport.close()
            return
        self.address, self.transport = address, transport
        self.deadline = asyncio.get_running_loop().call_later(self.guard.timeout_s, self._too_slow)
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        self.deadline = None
        self.guard.timed_out += 1
        log.info("connection from %s closed: no request within %.0f s", self.address, self.guard.timeout_s)
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.address is None:
            return
        if self.deadline is not None:
            seen = self.tail + data
            if END_OF_HEAD in seen:
                self.deadline.cancel()
                self.deadline = None
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.address is None:
            return None
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.address is None:
            return
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.guard.release(self.address)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.address is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.address is not None:
            self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """aiohttp's TCP site, every connection passing through a `ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self.guard = guard

    @property
    def name(self) -> str:
        """The URL the site listens on."""
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Listen; each connection gets aiohttp's protocol inside the guard's."""
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: GuardedProtocol(self.guard, server()), self._host,
                                                self._port, backlog=self._backlog, reuse_address=True)
