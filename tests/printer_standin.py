"""Stand-ins for thermal printers speaking raw ESC/POS: a real TCP server on port 0 (a network
printer) and a pseudo-terminal (a serial printer). Both answer the real-time status queries
(DLE EOT n, at once, as Epson printers do even with data buffered) and, like Epson printers,
the process ID request (GS ( H fn 48) only once everything before it has been printed."""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field

DLE_EOT = b"\x10\x04"
GS_H = b"\x1d\x28\x48\x06\x00\x30\x30"  # + 4 bytes of process ID
ONLINE_OK, ONLINE_ERROR = 0x12, 0x1A
PAPER_OK, PAPER_OUT = 0x12, 0x72
TICKET_ENDS = (b"\x1dV\x00", b"\x1dV\x01", b"\x1bd\x06")  # full cut, partial cut, or feed-out


@dataclass
class Job:
    """Bytes received on one connection, without the status queries and process ID requests."""

    data: bytearray = field(default_factory=bytearray)
    complete: bool = False
    finished_at: float | None = None  # when the paper came out (the process ID was answered)


class EscposParser:
    """Splits what the printer receives into print data and requests it must answer."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        """("data", bytes), ("status", n) and ("process_id", id) in the order they came."""
        self.pending += chunk
        out: list[tuple[str, bytes]] = []
        while self.pending:
            starts = [(i, kind) for kind, marker in (("status", DLE_EOT), ("process_id", GS_H))
                      if (i := self.pending.find(marker)) >= 0]
            if not starts:
                keep = 0
                for marker in (DLE_EOT, GS_H):  # a request cut in two by the network
                    for n in range(len(marker) - 1, 0, -1):
                        if self.pending.endswith(marker[:n]):
                            keep = max(keep, n)
                out.append(("data", self.pending[:len(self.pending) - keep]))
                self.pending = self.pending[len(self.pending) - keep:]
                break
            at, kind = min(starts)
            length = 3 if kind == "status" else len(GS_H) + 4
            if len(self.pending) < at + length:
                out.append(("data", self.pending[:at]))
                self.pending = self.pending[at:]
                break
            out.append(("data", self.pending[:at]))
            out.append((kind, self.pending[at + length - (1 if kind == "status" else 4):at + length]))
            self.pending = self.pending[at + length:]
        return [(k, v) for k, v in out if v or k != "data"]


class PrinterStandIn:
    """Records what it is sent; can be switched off, run out of paper, hang, drop mid-ticket,
    print slowly, jam (take the ticket, answer its status, never finish), or be a clone that does
    not know GS ( H."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.paper_out = False
        self.mode = "ok"  # ok | silent (accepts, never reads or answers) | drop (closes mid-ticket)
        self.drop_after = 200
        self.answers_status = True
        self.answers_process_id = True
        self.print_s = 0.0  # how long the paper takes to come out
        self.jammed = False  # takes tickets, answers status, never finishes printing
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

    def status_byte(self, n: int) -> bytes:
        """The answer to DLE EOT n."""
        if n == 1:
            return bytes([ONLINE_ERROR if self.paper_out else ONLINE_OK])
        if n == 4:
            return bytes([PAPER_OUT if self.paper_out else PAPER_OK])
        return bytes([0x12])

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
        parser = EscposParser()
        printing: list[asyncio.Task[None]] = []

        async def finish(pid: bytes) -> None:
            await asyncio.sleep(self.print_s)
            while self.jammed:
                await asyncio.sleep(0.05)
            job.finished_at = time.monotonic()
            writer.write(b"\x37\x22" + pid + b"\x00")
            await writer.drain()

        try:
            while chunk := await reader.read(4096):
                for kind, value in parser.feed(chunk):
                    if kind == "data":
                        job.data += value
                    elif kind == "status" and self.answers_status:
                        writer.write(self.status_byte(value[0]))
                        await writer.drain()
                    elif kind == "process_id" and self.answers_process_id and not self.paper_out:
                        printing.append(asyncio.create_task(finish(value)))
                if self.mode == "drop" and len(job.data) >= self.drop_after:
                    writer.transport.abort()
                    return
            job.complete = bytes(job.data).endswith(TICKET_ENDS)
        except ConnectionError:
            pass
        finally:
            for task in printing:
                task.cancel()
            writer.close()


class SerialPrinterStandIn:
    """A serial thermal printer on a pseudo-terminal: its device file is `self.devfile`. Answers
    DLE EOT with one byte and GS ( H once the ticket is out; runs in a thread (python-escpos
    reads and writes the serial port from a worker thread)."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.devfile = os.ttyname(slave)
        self._slave = slave  # kept open: a pty loses what was written while no side has it open
        self.received = bytearray()
        self.status_queries = 0
        self.answers_process_id = True
        self.paper_out = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        parser = EscposParser()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            for kind, value in parser.feed(chunk):
                if kind == "data":
                    self.received += value
                elif kind == "status":
                    self.status_queries += 1
                    answer = {1: ONLINE_ERROR if self.paper_out else ONLINE_OK,
                              4: PAPER_OUT if self.paper_out else PAPER_OK}.get(value[0], 0x12)
                    os.write(self.master, bytes([answer]))
                elif kind == "process_id" and self.answers_process_id:
                    os.write(self.master, b"\x37\x22" + value + b"\x00")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)
