"""Print jobs: written in the ticket's own transaction, then printed by the printers room, which
reads and reports each attempt through this service."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from kiosk.queue.errors import Conflict, NotFound
from kiosk.queue.models import PrintJob, Ticket
from kiosk.queue.writer import Work, Writer, ticket_in


class PrintJobs:
    """The durable print jobs of the hall's printers."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._waiters: dict[int, list[asyncio.Future[PrintJob]]] = {}
        writer.on_new_day(self._expire)

    async def _expire(self, w: Work) -> None:
        await w.q.expire_print_jobs_before(w.day)

    async def queue_print(self, w: Work, printer_id: str, ticket: Ticket, kind: str) -> PrintJob:
        """Inside a write: a job for this ticket on this printer (its worker is woken after the commit)."""
        job = await w.q.add_print_job(printer_id, ticket.id, kind, w.now)
        w.notify("print.queued", {"job": job.id, "printer": printer_id})
        return job

    async def reprint(self, token: str, actor: str, printer_id: str | None = None) -> PrintJob:
        """Staff print a ticket again, on its kiosk's printer or on the one named."""
        config = self.writer.config
        ticket = await ticket_in(self.writer.store.reads, token)
        if printer_id is None:
            station = config.kiosk(ticket.kiosk) if ticket.kiosk else None
            printer_id = station.printer if station else None
        if printer_id is None:
            raise Conflict(f"Nomor {ticket.number} tidak diambil di kios berprinter; pilih printer.",
                           code="no_printer")
        if config.printer(printer_id) is None:
            raise NotFound(f"Printer '{printer_id}' tidak dikenal.", code="unknown_printer")
        async with self.writer.write() as w:
            job = await self.queue_print(w, printer_id, ticket, "reprint")
            await w.q.audit(at=w.now, username=actor, action="reprint", ticket_number=ticket.number,
                            detail=printer_id)
        return job

    async def next_job(self, printer_id: str) -> tuple[PrintJob, Ticket] | None:
        """The oldest unprinted job of a printer, with its ticket; marked as being printed."""
        reads = self.writer.store.reads
        job = await reads.next_print_job(printer_id)
        if job is None:
            return None
        ticket = await reads.ticket_by_id(job.ticket_id)
        assert ticket is not None
        if job.state == "printing":
            # The server stopped during an attempt (a crash): the ticket may already be out, so
            # it is printed again marked as a reprint rather than silently twice.
            job = replace(job, partial=True)
        async with self.writer.write() as w:
            await w.q.start_print_job(job.id)
        return job, ticket

    async def told_unprinted(self, job: PrintJob) -> PrintJob:
        """The kiosk told the citizen "belum tercetak" (the printer did not confirm in time). What then
        happens to the job is the hall's `[tickets] late_print`: "print" prints it when the printer
        is back, marked as late; "drop" gives it up (staff reprint it from the console on request;
        an attempt under way now ends first and is not retried)."""
        drop = self.writer.config.tickets.late_print == "drop"
        async with self.writer.write() as w:
            await w.q.tell_unprinted(job.id, w.now, drop=drop)
            updated = await w.q.print_job(job.id)
            ticket = await w.q.ticket_by_id(job.ticket_id)
            what = "tidak dicetak" if drop else "dicetak saat printer siap"
            await w.q.audit(at=w.now, username=None, action="unprinted", detail=f"printer {job.printer_id}: {what}",
                            ticket_number=ticket.number if ticket else None)
        assert updated is not None
        return updated

    async def record(self, job: PrintJob, *, sent: bool, error: str | None = None, partial: bool = False) -> None:
        """The printers room reports an attempt: sent (confirmed) or failed (the job stays pending,
        unless the kiosk already said "belum tercetak" and the hall drops such tickets).

        `partial` marks a failed attempt during which bytes reached the printer: the retry is
        printed as a reprint, since half a ticket may already be out.
        """
        async with self.writer.write() as w:
            state = "sent" if sent else "pending"
            if not sent and self.writer.config.tickets.late_print == "drop":
                current = await w.q.print_job(job.id)
                if current is not None and current.told_unprinted_at is not None:
                    state = "dropped"
            await w.q.finish_print_job(job.id, state=state, at=w.now, error=error, partial=partial)
            w.notify("print.done" if sent else "print.failed",
                     {"job": job.id, "printer": job.printer_id, "error": error})
        await self.settled(job.id)

    async def settled(self, job_id: int) -> None:
        """An attempt at a job ended (here, or in another process of the hall): wake who waits for it."""
        waiters = self._waiters.pop(job_id, [])
        if waiters:
            updated = await self.writer.store.reads.print_job(job_id)
            for waiter in waiters:
                if not waiter.done() and updated is not None:
                    waiter.set_result(updated)

    async def wait_for(self, ticket: Ticket, timeout: float) -> PrintJob | None:
        """The ticket's print job once its first attempt ended, or as it is after `timeout` seconds."""
        reads = self.writer.store.reads
        job = await reads.job_for_ticket(ticket.id)
        if job is None or job.state not in ("pending", "printing") or job.attempts or timeout <= 0:
            return job
        first = await reads.next_print_job(job.printer_id)
        if first is not None and first.id != job.id and first.attempts:
            return job  # the printer is already failing on an earlier ticket: say "queued" at once
        waiter: asyncio.Future[PrintJob] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job.id, []).append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return await reads.print_job(job.id)
        finally:
            waiters = self._waiters.get(job.id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(job.id, None)

    async def pending_counts(self) -> dict[str, int]:
        """Per printer, jobs waiting to be printed."""
        return await self.writer.store.reads.pending_print_counts()
