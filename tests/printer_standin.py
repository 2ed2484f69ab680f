"""A stand-in for a network thermal printer: a real TCP server speaking raw ESC/POS on port 0."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"
ONLINE_OK, ONLINE_ERROR = 0x12, 0x1A
PAPER_OK, PAPER_OUT = 0x12, 0x72
TICKET_ENDS = (b"\x1dV\x00", b"\x1dV\x01", b"\x1bd\x06")  # full cut, partial cut, or feed-out


@dataclass
class Job:
    """Bytes received on one connection, without the status queries."""

    data: bytearray = field(default_factory=bytearray)
    complete: bool = False


class PrinterStandIn:
    """Records what it is sent; can be switched off, run out of paper, hang, or drop mid-ticket."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.paper_out = False
        self.mode = "ok"  # ok | silent (accepts, never reads or answers) | drop (closes mid-ticket)
        self.drop_after = 200
        self.answers_status = True
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        """Listen on loopback (the same port again after a stop, when given)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Switch the printer off: connections are refused."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def printed(self) -> list[bytes]:
        """The tickets that came out whole."""
        return [bytes(j.data) for j in self.jobs if j.complete and j.data]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "silent":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass  # the stand-in is shutting down: end quietly
            finally:
                writer.close()
            return
        job = Job()
        self.jobs.append(job)
        pending = b""
        try:
            while chunk := await reader.read(4096):
                pending += chunk
                while True:
                    at = pending.find(DLE_EOT)
                    if at < 0 or len(pending) < at + 3:
                        keep = len(pending) - (1 if pending.endswith(b"\x10") else 0)
                        if at >= 0:
                            keep = at
                        job.data += pending[:keep]
                        pending = pending[keep:]
                        break
                    job.data += pending[:at]
                    kind = pending[at + 2]
                    pending = pending[at + 3:]
                    if self.answers_status:
                        if kind == 1:
                            writer.write(bytes([ONLINE_ERROR if self.paper_out else ONLINE_OK]))
                        elif kind == 4:
                            writer.write(bytes([PAPER_OUT if self.paper_out else PAPER_OK]))
                        await writer.drain()
                if self.mode == "drop" and len(job.data) >= self.drop_after:
                    writer.transport.abort()
                    return
            job.complete = bytes(job.data).endswith(TICKET_ENDS)
        except ConnectionError:
            pass
        finally:
            writer.close()
