"""The print spool: one worker per printer sends its durable jobs in order, retrying with back-off."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.hall.config import HallConfig, Printer
from kiosk.queue.clock import to_local
from kiosk.queue.errors import Unavailable
from kiosk.queue.events import EventBus
from kiosk.queue.hall import HallService
from kiosk.queue.models import PRIORITY_REASONS, PrintJob, Ticket
from kiosk.queue.printing import PrintJobs
from kiosk.queue.service import QueueService
from kiosk.support.aio import stop_tasks, wait_event
from printers.devices import device_refusal
from printers.drivers import DRIVERS, OK, UNKNOWN, Driver, PrinterFault, RefusedDriver, Rendered
from printers.encode import escpos_bytes
from printers.layout import TicketFacts, paper_for, ticket_layout

log = logging.getLogger(__name__)

IDLE_PROBE_S = 30.0


@dataclass
class PrinterHealth:
    """What staff see of a printer."""

    state: str = UNKNOWN
    last_error: str | None = None
    last_printed_at: float | None = None
    checked_at: float | None = None


class PrinterWorker:
    """Prints one printer's jobs strictly in order; a job leaves the queue only once confirmed."""

    def __init__(self, printer: Printer, driver: Driver, queue: QueueService, printing: PrintJobs) -> None:
        self.printer = printer
        self.driver = driver
        self.queue = queue
        self.printing = printing
        self.health = PrinterHealth()
        self.wake = asyncio.Event()
        self.backoff = min(1.0, printer.retry_max_s)

    @property
    def config(self) -> HallConfig:
        """The hall as it is now (admins change it at run time)."""
        return self.queue.config

    async def render(self, job: PrintJob, ticket: Ticket) -> Rendered:
        """Lay out and encode a ticket for this printer."""
        view = await self.queue.views.ticket_view(ticket)
        service = self.config.service(ticket.service)
        agency = self.config.agency(service.agency) if service else None
        hint = self.config.tickets.alert_hint
        if view.get("telegram_url"):  # promise only the channels that run
            hint += " Pemberitahuan lewat Telegram tersedia di halaman itu."
        late = job.told_unprinted_at if job.kind == "ticket" else None
        facts = TicketFacts(
            hall=self.config.hall.name,
            agency=agency.name if agency else "",
            service=view["service_name"],
            number=ticket.number,
            priority_label=PRIORITY_REASONS.get(ticket.priority_reason or "", "Prioritas") if ticket.priority else None,
            issued=to_local(ticket.issued_at, self.config.hall.tz),
            ahead=view["ahead"],
            estimated_wait_s=view["estimated_wait_s"],
            status_url=view["status_url"],
            alert_hint=hint,
            footer=self.config.tickets.footer,
            reprint=job.kind == "reprint" or job.partial,
            late_at=to_local(late, self.config.hall.tz) if late is not None else None,
        )
        paper = self.driver.paper
        layout = ticket_layout(facts, paper)
        data = await asyncio.to_thread(escpos_bytes, layout, paper) if not paper.native_qr \
            else escpos_bytes(layout, paper)
        return Rendered(name=f"{job.id:06d}-{ticket.number}", layout=layout, data=data)

    async def run(self) -> None:
        """Work until cancelled."""
        while True:
            try:
                item = await self.printing.next_job(self.printer.id)
                if item is None:
                    await self._idle()
                    continue
                job, ticket = item
                await self._print(job, ticket)
            except asyncio.CancelledError:
                raise
            except Unavailable:  # the database is away (the jobs wait in it): try again shortly
                log.warning("printer %s: database unavailable; jobs wait", self.printer.id)
                await asyncio.sleep(self.backoff)
                self.backoff = min(self.backoff * 2, self.printer.retry_max_s)
            except Exception:
                # A bug or a database hiccup must not end printing for the day.
                log.exception("printer %s: worker error; retrying", self.printer.id)
                await asyncio.sleep(self.backoff)
                self.backoff = min(self.backoff * 2, self.printer.retry_max_s)

    async def _print(self, job: PrintJob, ticket: Ticket) -> None:
        rendered = await self.render(job, ticket)
        try:
            await self.driver.deliver(rendered)
        except PrinterFault as fault:
            if (fault.state, fault.message) != (self.health.state, self.health.last_error):
                log.warning("printer %s: %s (%s); %s stays queued and is retried", self.printer.id, fault.message,
                            fault.state, ticket.number)
            self.health = replace(self.health, state=fault.state, last_error=fault.message, checked_at=time.time())
            await self.printing.record(job, sent=False, error=fault.message, partial=fault.partial)
            # New tickets do not cut the back-off short: they queue behind this one, in order.
            await asyncio.sleep(self.backoff)
            self.backoff = min(self.backoff * 2, self.printer.retry_max_s)
            return
        await self.printing.record(job, sent=True)
        self.backoff = min(1.0, self.printer.retry_max_s)
        if self.health.last_error:
            log.info("printer %s: printing again (%s)", self.printer.id, ticket.number)
        now = time.time()
        self.health = PrinterHealth(state=OK, last_error=None, last_printed_at=now, checked_at=now)

    async def _idle(self) -> None:
        woke = await self._sleep(IDLE_PROBE_S)
        if not woke:
            state = await self.driver.status()
            self.health = replace(self.health, state=state, checked_at=time.time())

    async def _sleep(self, seconds: float) -> bool:
        """Wait for a wake-up or the time; True when woken."""
        try:
            return await wait_event(self.wake, seconds)
        finally:
            self.wake.clear()


class PrintSpool:
    """Runs a worker per printer, wakes it when the domain queues a job, and follows printers that
    admins add, change or remove at run time (their jobs wait in the database meanwhile)."""

    def __init__(self, queue: QueueService, printing: PrintJobs, hall: HallService, bus: EventBus,
                 var_dir: Path) -> None:
        self.queue = queue
        self.printing = printing
        self.bus = bus
        self.var_dir = var_dir
        self.workers: dict[str, PrinterWorker] = {p.id: self._worker(p) for p in queue.config.printers}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        hall.on_reconfigure(self._follow)

    @property
    def config(self) -> HallConfig:
        """The hall as it is now."""
        return self.queue.config

    def _worker(self, printer: Printer) -> PrinterWorker:
        if printer.driver == "preview":  # under the data directory unless the deployment listed another
            folder = self.var_dir / str(printer.options.get("directory", "prints"))
            printer = replace(printer, options=printer.options | {"directory": str(folder)})
        driver: Driver = DRIVERS[printer.driver](printer, paper_for(printer.profile))
        path = printer.options.get("devfile")
        if path is not None and (refusal := device_refusal(str(path), self.var_dir)):
            log.error("printer %s: %s", printer.id, refusal)
            driver = RefusedDriver(printer, paper_for(printer.profile), refusal)
        return PrinterWorker(printer, driver, self.queue, self.printing)

    def _run(self, worker: PrinterWorker) -> None:
        # With several server processes on one database, a printer is driven by one of them at a time.
        store = self.queue.writer.store
        self._running[worker.printer.id] = asyncio.create_task(
            store.exclusive(f"printer/{worker.printer.id}", worker.run), name=f"printer-{worker.printer.id}")

    async def start(self) -> None:
        """Start the workers; unfinished jobs from before a restart are picked up at once."""
        for worker in self.workers.values():
            self._run(worker)
        self._tasks.append(asyncio.create_task(self._listen(), name="print-spool"))

    async def _follow(self, old: HallConfig, new: HallConfig) -> None:
        after = {p.id: p for p in new.printers}
        for printer in old.printers:
            if after.get(printer.id) != printer:  # removed or changed: stop its worker
                self.workers.pop(printer.id, None)
                if task := self._running.pop(printer.id, None):
                    await stop_tasks([task])
                log.info("printer %s: %s", printer.id, "changed" if printer.id in after else "removed")
        for pid, printer in after.items():
            if pid not in self.workers:
                self.workers[pid] = worker = self._worker(printer)
                if self._tasks:  # started
                    self._run(worker)

    async def _listen(self) -> None:
        while True:
            subscription = self.bus.subscribe(("print.queued", "print.done", "print.failed"))
            async for event in subscription:
                if event.type != "print.queued":  # printed by this process or another one of the hall
                    if isinstance(event.data.get("job"), int):
                        await self.printing.settled(event.data["job"])
                elif (worker := self.workers.get(event.data.get("printer", ""))):
                    worker.wake.set()
                else:  # jobs of several printers (another process's batch of tickets)
                    for worker in self.workers.values():
                        worker.wake.set()
            if self.bus.closed:
                return
            # Dropped for falling behind: wake everyone (they read the jobs table) and listen again.
            for worker in self.workers.values():
                worker.wake.set()

    async def stop(self) -> None:
        """Cancel the workers; pending jobs stay in the database."""
        await stop_tasks(self._tasks + list(self._running.values()))
        self._tasks.clear()
        self._running.clear()

    async def overview(self) -> list[dict[str, object]]:
        """Each printer's state, jobs waiting and last error."""
        pending = await self.printing.pending_counts()
        rows = []
        for pid, worker in self.workers.items():
            h = worker.health
            rows.append({
                "id": pid,
                "driver": worker.printer.driver,
                "profile": worker.printer.profile,
                "state": h.state,
                "pending": pending.get(pid, 0),
                "last_error": h.last_error,
                "last_printed_at": self.queue.iso(h.last_printed_at),
                "checked_at": self.queue.iso(h.checked_at),
                "kiosks": [k.id for k in self.config.kiosks if k.printer == pid],
                # Several server processes: only the one driving the printer knows its state.
                "driven_here": self.queue.writer.store.runs_here(f"printer/{pid}"),
            })
        return rows
