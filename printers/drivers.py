"""Printer drivers: a small base class with one abstract method, and one class per connection kind.

`Driver.deliver()` is the one public entry: it logs, times out and turns every failure into a
`PrinterFault` carrying the printer state it implies. Blocking python-escpos devices run in a
thread; network printers get the ESC/POS bytes on an asyncio socket, so nothing blocks the loop.

"Printed" means printed: after a ticket the driver sends `GS ( H` fn 48 (transmit a process ID),
which Epson printers answer only once everything before it has been printed. A printer that
never answers it (many clones) is confirmed by its real-time status (`DLE EOT`) instead, which
only proves the printer received the ticket; the driver learns which kind it talks to from the
first ticket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from kiosk.hall.config import Printer
from printers.layout import Element, Paper

log = logging.getLogger(__name__)

OK, OFFLINE, PAPER_OUT, UNKNOWN = "ok", "offline", "paper_out", "unknown"
STATUS_REPLY_S = 2.0
SERIAL_READ_S = 0.3  # a serial status answer is one byte: read it with a short timeout, never 16 bytes
PROCESS_ID_REPLY = b"\x37\x22"  # header and identifier of the answer to GS ( H fn 48, then 4 bytes and NUL
EXTRAS = {"usb": ("Usb", "usb"), "serial": ("Serial", "serial"), "cups": ("CupsPrinter", "cups")}


def process_id_for(ticket: Rendered) -> bytes:
    """Four printable characters naming this print (the job number's last digits)."""
    digits = "".join(ch for ch in ticket.name.split("-")[0] if ch.isdigit())[-4:]
    return digits.rjust(4, "0").encode("ascii")


def process_id_command(pid: bytes) -> bytes:
    """GS ( H pL pH fn m d1..d4: "answer with this id once everything before it is processed"."""
    return b"\x1d\x28\x48\x06\x00\x30\x30" + pid


def process_id_answered(buffer: bytes, pid: bytes) -> bool:
    """Whether the printer's answer to our process ID request is in what it sent."""
    return PROCESS_ID_REPLY + pid + b"\x00" in buffer


class PrinterFault(Exception):
    """A print attempt failed; `state` says what the printer looks like, `partial` if bytes went out."""

    def __init__(self, state: str, message: str, *, partial: bool = False) -> None:
        super().__init__(message)
        self.state = state
        self.message = message
        self.partial = partial


@dataclass(frozen=True)
class Rendered:
    """One ticket ready for a printer: its layout and its ESC/POS bytes."""

    name: str
    layout: list[Element]
    data: bytes


def paper_state(online_byte: int | None, paper_byte: int | None) -> str:
    """Printer state from the answers to DLE EOT 1 and DLE EOT 4 (None: no answer)."""
    if online_byte is None or paper_byte is None:
        return UNKNOWN
    if paper_byte & 0x60 == 0x60:  # paper-end sensor
        return PAPER_OUT
    if online_byte & 0x08:  # the printer reports itself offline (cover open, error)
        return OFFLINE
    return OK


class Driver(ABC):
    """Sends rendered tickets to one printer."""

    def __init__(self, printer: Printer, paper: Paper) -> None:
        self.printer = printer
        self.paper = paper
        # Whether the printer answers GS ( H (None: not known yet; learned from the first ticket).
        self.process_id: bool | None = None

    async def deliver(self, ticket: Rendered) -> None:
        """Print one ticket; returns once the printer confirmed it, raises PrinterFault otherwise.

        Failures are not logged here: the spool logs when a printer's state changes, not on
        every retry.
        """
        try:
            await asyncio.wait_for(self._send(ticket), self.printer.timeout_s * 3)
        except TimeoutError:
            raise PrinterFault(OFFLINE, "printer tidak menjawab (timeout)", partial=True) from None
        except OSError as exc:
            raise PrinterFault(OFFLINE, f"printer tidak terhubung: {exc.strerror or exc}", partial=True) from None
        log.debug("printer %s: %s printed (%d bytes)", self.printer.id, ticket.name, len(ticket.data))

    @abstractmethod
    async def _send(self, ticket: Rendered) -> None:
        """Put the ticket on paper (or fail with PrinterFault / OSError / TimeoutError)."""

    async def status(self) -> str:
        """ok, offline, paper_out or unknown, where the printer can tell."""
        return UNKNOWN

    def _no_process_id(self) -> None:
        """The printer did not answer GS ( H: if it never has, it is a printer that cannot (from
        now on its status answer confirms); if it used to, the ticket is not confirmed."""
        if self.process_id:
            raise PrinterFault(UNKNOWN, "printer belum menyelesaikan cetakan (tidak ada konfirmasi selesai)",
                               partial=True)
        self.process_id = False
        log.info("printer %s does not answer GS ( H (process ID): a ticket counts as printed once the printer "
                 "answers its status after it", self.printer.id)


class NetworkDriver(Driver):
    """An Ethernet/Wi-Fi printer on a raw TCP port (9100): bytes on an asyncio socket."""

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(self.printer.options["host"], self.printer.options["port"]),
                self.printer.timeout_s)
        except (OSError, TimeoutError) as exc:
            raise PrinterFault(OFFLINE, f"printer tidak dapat dihubungi: {exc}") from None

    @staticmethod
    async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, query: bytes) -> int | None:
        writer.write(query)
        await writer.drain()
        try:
            reply = await asyncio.wait_for(reader.read(1), STATUS_REPLY_S)
        except TimeoutError:
            return None
        return reply[0] if reply else None

    async def _state(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        online = await self._ask(reader, writer, RT_STATUS_ONLINE)
        paper = await self._ask(reader, writer, RT_STATUS_PAPER) if online is not None else None
        return paper_state(online, paper)

    async def _send(self, ticket: Rendered) -> None:
        reader, writer = await self._connect()
        sent_any = False
        try:
            if self.printer.status_queries:
                state = await self._state(reader, writer)
                if state in (PAPER_OUT, OFFLINE):
                    raise PrinterFault(state, "kertas printer habis" if state == PAPER_OUT else "printer offline")
            sent_any = True
            pid = process_id_for(ticket)
            writer.write(ticket.data + (process_id_command(pid) if self.process_id is not False else b""))
            await asyncio.wait_for(writer.drain(), self.printer.timeout_s)
            if self.process_id is not False:
                if await self._printed(reader, pid):
                    self.process_id = True
                    return
                if self.process_id and self.printer.status_queries:
                    state = await self._state(reader, writer)
                    if state in (PAPER_OUT, OFFLINE):
                        raise PrinterFault(state, "printer berhenti saat mencetak", partial=True)
                self._no_process_id()
            if self.printer.status_queries:
                # The printer answers only after it has received everything before the query.
                state = await self._state(reader, writer)
                if state == UNKNOWN:
                    raise PrinterFault(UNKNOWN, "printer tidak mengonfirmasi cetakan", partial=True)
                if state != OK:
                    raise PrinterFault(state, "printer berhenti saat mencetak", partial=True)
        except (OSError, TimeoutError) as exc:
            raise PrinterFault(OFFLINE, f"sambungan printer terputus: {exc or type(exc).__name__}",
                               partial=sent_any) from None
        finally:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (OSError, TimeoutError):
                pass

    async def _printed(self, reader: asyncio.StreamReader, pid: bytes) -> bool:
        """Wait (at most the printer's timeout) for its answer to our process ID: the paper is out."""
        buffer = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.printer.timeout_s
        while not process_id_answered(buffer, pid):
            try:
                chunk = await asyncio.wait_for(reader.read(64), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return False
            if not chunk:
                raise ConnectionResetError("printer closed the connection")
            buffer += chunk
        return True

    async def status(self) -> str:
        if not self.printer.status_queries:
            return UNKNOWN
        try:
            reader, writer = await self._connect()
        except PrinterFault:
            return OFFLINE
        try:
            return await self._state(reader, writer)
        except (OSError, TimeoutError):
            return OFFLINE
        finally:
            writer.close()


class PreviewDriver(Driver):
    """No paper: writes each ticket's ESC/POS bytes and a PNG picture of it to a folder."""

    def __init__(self, printer: Printer, paper: Paper) -> None:
        super().__init__(printer, paper)
        self.directory = Path(printer.options.get("directory", "var/prints"))

    async def _send(self, ticket: Rendered) -> None:
        from printers.preview import preview_png

        def write() -> None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"{ticket.name}.bin").write_bytes(ticket.data)
            (self.directory / f"{ticket.name}.png").write_bytes(preview_png(ticket.layout, self.paper))

        await asyncio.to_thread(write)

    async def status(self) -> str:
        return OK


class RefusedDriver(Driver):
    """A printer whose device path the server refuses (kiosk/hall/devices.py): nothing is written,
    its jobs wait, and staff see why."""

    def __init__(self, printer: Printer, paper: Paper, reason: str) -> None:
        super().__init__(printer, paper)
        self.reason = reason

    async def _send(self, ticket: Rendered) -> None:
        raise PrinterFault(OFFLINE, self.reason)

    async def status(self) -> str:
        return OFFLINE


class EscposDeviceDriver(Driver):
    """USB, serial, device-file and CUPS printers through python-escpos, in a worker thread."""

    def _extra_missing(self) -> str | None:
        """The extra to install when python-escpos cannot use this kind of printer (checked before
        the printer object is made: its constructor would fail first)."""
        from escpos import printer as escpos_printer

        name, extra = EXTRAS.get(self.printer.driver, ("", ""))
        if name and not getattr(escpos_printer, name).is_usable():
            return f"driver '{self.printer.driver}' butuh paket tambahannya: pip install 'giliran[{extra}]'"
        return None

    def _device(self) -> Any:
        from escpos import printer as escpos_printer

        o = self.printer.options
        profile = self.printer.profile
        kind = self.printer.driver
        if kind == "usb":
            return escpos_printer.Usb(o["vendor_id"], o["product_id"], timeout=int(self.printer.timeout_s * 1000),
                                      in_ep=o.get("in_ep", 0x82), out_ep=o.get("out_ep", 0x01), profile=profile)
        if kind == "serial":
            # Reads use a short timeout: python-escpos reads 16 bytes and the printer sends one.
            return escpos_printer.Serial(o["devfile"], baudrate=o.get("baudrate", 9600), timeout=SERIAL_READ_S,
                                         profile=profile,
                                         **{k: o[k] for k in ("bytesize", "parity", "stopbits", "dsrdtr") if k in o})
        if kind == "file":
            return escpos_printer.File(o["devfile"], profile=profile)
        if kind == "cups":
            return escpos_printer.CupsPrinter(o["printer_name"], profile=profile,
                                              **{k: o[k] for k in ("host", "port") if k in o})
        raise ValueError(kind)

    @staticmethod
    def _serial_ask(device: Any, query: bytes) -> int | None:
        """One DLE EOT query on a serial printer: its one-byte answer, or None."""
        port = device.device
        port.reset_input_buffer()
        port.write(query)
        answer = port.read(1)
        return answer[0] if answer else None

    def _serial_printed(self, device: Any, pid: bytes) -> bool:
        """Wait (at most the printer's timeout) for the answer to our process ID."""
        deadline = time.monotonic() + self.printer.timeout_s
        buffer = b""
        while time.monotonic() < deadline:
            buffer += device.device.read(7)
            if process_id_answered(buffer, pid):
                return True
        return False

    def _print(self, data: bytes, pid: bytes) -> None:
        serial = self.printer.driver == "serial"
        device = self._device()
        sent = False
        try:
            device.open()
            if self.printer.status_queries and self.printer.driver in ("usb", "serial"):
                paper = self._serial_ask(device, RT_STATUS_PAPER) if serial else None
                if (paper is not None and paper & 0x60 == 0x60) or (not serial and device.paper_status() == 0):
                    raise PrinterFault(PAPER_OUT, "kertas printer habis")
            sent = True
            device._raw(data)
            if serial and self.process_id is not False:
                device._raw(process_id_command(pid))
                if self._serial_printed(device, pid):
                    self.process_id = True
                    return
                self._no_process_id()
            if serial and self.printer.status_queries:
                state = paper_state(self._serial_ask(device, RT_STATUS_ONLINE),
                                    self._serial_ask(device, RT_STATUS_PAPER))
                if state != OK:
                    raise PrinterFault(state, "printer tidak mengonfirmasi cetakan" if state == UNKNOWN else
                                       "printer berhenti saat mencetak", partial=True)
        except PrinterFault:
            raise
        except Exception as exc:  # python-escpos raises its own and the device libraries' errors
            raise PrinterFault(OFFLINE, f"printer tidak dapat dipakai: {exc}", partial=sent) from None
        finally:
            try:
                device.close()
            except Exception:  # a device that never opened has nothing to close
                log.debug("printer %s: close", self.printer.id, exc_info=True)

    async def _send(self, ticket: Rendered) -> None:
        missing = self._extra_missing()
        if missing:
            raise PrinterFault(OFFLINE, missing)  # nothing was sent: no reprint mark later
        await asyncio.to_thread(self._print, ticket.data, process_id_for(ticket))

    async def status(self) -> str:
        if self.printer.driver not in ("usb", "serial") or not self.printer.status_queries:
            return UNKNOWN
        if self._extra_missing():
            return OFFLINE

        def ask() -> str:
            device = self._device()
            try:
                device.open()
                if self.printer.driver == "serial":
                    return paper_state(self._serial_ask(device, RT_STATUS_ONLINE),
                                       self._serial_ask(device, RT_STATUS_PAPER))
                paper = device.paper_status()
                return PAPER_OUT if paper == 0 else (OK if device.is_online() else OFFLINE)
            finally:
                device.close()
        try:
            return await asyncio.wait_for(asyncio.to_thread(ask), self.printer.timeout_s)
        except Exception:
            return OFFLINE


DRIVERS: dict[str, type[Driver]] = {
    "network": NetworkDriver,
    "preview": PreviewDriver,
    "usb": EscposDeviceDriver,
    "serial": EscposDeviceDriver,
    "file": EscposDeviceDriver,
    "cups": EscposDeviceDriver,
}
