"""Printer drivers: a small base class with one abstract method, and one class per connection kind.

`Driver.deliver()` is the one public entry: it logs, times out and turns every failure into a
`PrinterFault` carrying the printer state it implies. Blocking python-escpos devices run in a
thread; network printers get the ESC/POS bytes on an asyncio socket, so nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
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

    async def deliver(self, ticket: Rendered) -> None:
        """Print one ticket; returns once the printer has it, raises PrinterFault otherwise.

        Failures are not logged here: the spool logs when a printer's state changes, not on
        every retry.
        """
        try:
            await asyncio.wait_for(self._send(ticket), self.printer.timeout_s * 2)
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
            writer.write(ticket.data)
            await asyncio.wait_for(writer.drain(), self.printer.timeout_s)
            if self.printer.status_queries:
                # The printer answers only after it has worked through everything before the query.
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

    def _device(self) -> Any:
        from escpos import printer as escpos_printer

        o = self.printer.options
        profile = self.printer.profile
        kind = self.printer.driver
        if kind == "usb":
            return escpos_printer.Usb(o["vendor_id"], o["product_id"], timeout=int(self.printer.timeout_s * 1000),
                                      in_ep=o.get("in_ep", 0x82), out_ep=o.get("out_ep", 0x01), profile=profile)
        if kind == "serial":
            return escpos_printer.Serial(o["devfile"], baudrate=o.get("baudrate", 9600),
                                         timeout=self.printer.timeout_s, profile=profile,
                                         **{k: o[k] for k in ("bytesize", "parity", "stopbits", "dsrdtr") if k in o})
        if kind == "file":
            return escpos_printer.File(o["devfile"], profile=profile)
        if kind == "cups":
            return escpos_printer.CupsPrinter(o["printer_name"], profile=profile,
                                              **{k: o[k] for k in ("host", "port") if k in o})
        raise ValueError(kind)

    def _print(self, data: bytes) -> None:
        device = self._device()
        if hasattr(device, "is_usable") and not device.is_usable():
            raise PrinterFault(UNKNOWN, f"driver {self.printer.driver} needs its extra: pip install "
                                        f"'giliran[{self.printer.driver}]'")
        try:
            device.open()
            if (self.printer.status_queries and self.printer.driver in ("usb", "serial")
                    and device.paper_status() == 0):
                raise PrinterFault(PAPER_OUT, "kertas printer habis")
            device._raw(data)
        finally:
            device.close()

    async def _send(self, ticket: Rendered) -> None:
        try:
            await asyncio.to_thread(self._print, ticket.data)
        except PrinterFault:
            raise
        except Exception as exc:  # python-escpos raises its own and the device libraries' errors
            raise PrinterFault(OFFLINE, f"printer tidak dapat dipakai: {exc}", partial=True) from None

    async def status(self) -> str:
        if self.printer.driver not in ("usb", "serial") or not self.printer.status_queries:
            return UNKNOWN

        def ask() -> str:
            device = self._device()
            try:
                device.open()
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
