"""Taking a number: hours and quota checked, the ticket numbered per service and day, its print job
and SMS subscription written with it. Tickets asked for at the same moment are issued together,
in one write transaction (one turn of the writer, one `queue.changed` per service)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kiosk.hall.config import Service
from kiosk.queue.errors import Conflict, DomainError, NotFound, Unavailable, Unprocessable
from kiosk.queue.following import check_phone
from kiosk.queue.loads import Loads
from kiosk.queue.models import PRIORITY_REASONS, Ticket
from kiosk.queue.printing import PrintJobs
from kiosk.queue.views import Views
from kiosk.queue.writer import Work, Writer

TOKEN_BYTES = 18  # 144 bits; 24 URL-safe characters, fits a Telegram deep link
TOKENS_PER_READ = 256
ISSUE_BATCH = 128  # tickets issued in one write transaction at most
ISSUE_SLICE = 64  # between slices of a big batch, the event loop serves others (reads, streams)
PLACE_STEP = 1e-6  # seconds between the places of tickets issued in the same instant

Issued = tuple[Ticket, dict[str, Any]]  # the ticket and its view as of its own commit


class TicketTokens:
    """Citizens' ticket tokens: TOKEN_BYTES from the OS's CSPRNG each (as `secrets.token_urlsafe`),
    read for TOKENS_PER_READ tickets at once: one system call, where the loop gives the GIL away,
    per 256 tickets instead of one per ticket."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def next(self) -> str:
        """A new token."""
        if self._at + TOKEN_BYTES > len(self._pool):
            self._pool, self._at = os.urandom(TOKEN_BYTES * TOKENS_PER_READ), 0
        chunk = self._pool[self._at:self._at + TOKEN_BYTES]
        self._at += TOKEN_BYTES
        return base64.urlsafe_b64encode(chunk).rstrip(b"=").decode("ascii")


@dataclass(eq=False)
class Take:
    """A ticket asked for, waiting for the next issuing transaction."""

    service: str
    priority: bool
    priority_reason: str | None
    phone: str | None
    kiosk: str | None
    printer: str | None
    done: asyncio.Future[Issued]
    origin: str | None = None  # None: at the hall; 'remote' or 'slot': the online queue (kiosk/booking/)
    place: float | None = None  # a place chosen by the online queue's rule (None: now, at the back)


# A rule another package adds to issuing (the online queue: closed days, the walk-in part of a quota):
# called with the transaction, the service, the request and the tickets counting against the quota,
# before anything of the ticket is written; it raises a DomainError to refuse.
Gate = Callable[[Work, Service, Take, int], Awaitable[None]]


class Issuer:
    """Issues tickets in batches; each caller is answered after the COMMIT of its own ticket."""

    def __init__(self, writer: Writer, loads: Loads, views: Views, printing: PrintJobs) -> None:
        self.writer = writer
        self.loads = loads
        self.views = views
        self.printing = printing
        self._tokens = TicketTokens()
        self._place: tuple[str, float] | None = None  # (day, the latest place taken that day)
        self._takes: list[Take] = []  # tickets asked for, not yet issued
        self._task: asyncio.Task[None] | None = None
        self.gates: list[Gate] = []

    def service(self, code: str) -> Service:
        """The service with this code, or 404 `unknown_service`."""
        service = self.writer.config.service(code)
        if service is None:
            raise NotFound(f"Layanan '{code}' tidak dikenal.", code="unknown_service")
        return service

    async def take(self, service_code: str, *, priority: bool = False, priority_reason: str | None = None,
                   phone: str | None = None, kiosk: str | None = None) -> Issued:
        """Take a number: enforces hours and quota; the ticket exists once this returns, with its view
        as of its own commit (read in the transaction).

        A refused one (closed, quota) leaves the others of its batch issued.
        """
        service = self.service(service_code)
        if priority_reason is not None:
            if priority_reason not in PRIORITY_REASONS:
                raise Unprocessable(
                    f"Alasan prioritas harus salah satu dari: {', '.join(PRIORITY_REASONS)}.",
                    code="invalid_priority")
            priority = True
        e164 = check_phone(phone)
        printer = None
        if kiosk is not None:
            station = self.writer.config.kiosk(kiosk)
            if station is None:
                raise Unprocessable(f"Kios '{kiosk}' tidak dikenal.", code="unknown_kiosk")
            printer = station.printer
        loop = asyncio.get_running_loop()
        request = Take(service.code, priority, priority_reason, e164, kiosk, printer, loop.create_future())
        self._takes.append(request)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._issue_queued(), name="issue")
        return await request.done

    async def _issue_queued(self) -> None:
        """Issue what `take()` queued, ISSUE_BATCH tickets per write transaction, until none is left."""
        while self._takes:
            takes: list[Take] = []
            answers: list[Issued | DomainError] = []
            try:
                async with self.writer.write(issuing=True) as w:
                    # Taken once the transaction has begun: those who asked meanwhile come along.
                    takes = self._next_takes()
                    for n, take in enumerate(takes):
                        if n and n % ISSUE_SLICE == 0:
                            await asyncio.sleep(0)
                        answers.append(await self._issue_one(w, take))
                    issued = [a[0] for a in answers if not isinstance(a, DomainError)]
                    for code in sorted({t.service for t in issued}):  # one public event per service
                        await self.loads.changed(w, code, moved=False)  # issue_in marked who moved
            except Exception as exc:  # the transaction failed, nothing of these was kept: each caller hears so
                for take in takes or self._next_takes():
                    if not take.done.done():
                        take.done.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): nobody waits in vain
                for take in takes + self._takes:
                    if not take.done.done():
                        take.done.set_exception(Unavailable("Server sedang berhenti; coba lagi sebentar lagi."))
                self._takes.clear()
                raise
            for take, answer in zip(takes, answers, strict=True):
                if take.done.done():
                    continue
                if isinstance(answer, DomainError):
                    take.done.set_exception(answer)
                else:
                    take.done.set_result(answer)

    def _next_takes(self) -> list[Take]:
        """Up to ISSUE_BATCH of the queued requests whose callers still wait (a caller gone before
        its turn gets no ticket)."""
        takes = [t for t in self._takes[:ISSUE_BATCH] if not t.done.cancelled()]
        del self._takes[:ISSUE_BATCH]
        return takes

    async def _issue_one(self, w: Work, take: Take) -> Issued | DomainError:
        """One ticket inside the issuing transaction; a refusal (closed, quota) is answered to its
        caller alone. Refusals come before anything of the ticket is written, so the others'
        tickets stand and nothing of the refused one does."""
        written = len(w.changes)
        try:
            return await self.issue_in(w, take)
        except Unavailable:  # the store failed (a database away mid-transaction): not a refusal
            raise
        except DomainError as exc:
            if len(w.changes) != written:  # refused after writing: undo the whole transaction instead
                raise RuntimeError("a ticket was refused after it was written") from exc
            return exc

    def place_taken(self, day: str, place: float) -> None:
        """Another rule (a deferral) put a ticket at `place`: new tickets of that day join behind it."""
        if self._place is not None and self._place[0] == day and place > self._place[1]:
            self._place = (day, place)

    async def _next_place(self, w: Work) -> float:
        """A new ticket joins its queue now: its place is the time, always after every place already
        taken today (a clock set back must not put new tickets ahead of those waiting; tickets of one
        instant get places a microsecond apart, so a deferral can always fit between two)."""
        if self._place is None or self._place[0] != w.day:
            self._place = (w.day, await w.q.last_place(w.day) or 0.0)
        place = max(w.now, self._place[1] + PLACE_STEP)
        self._place = (w.day, place)
        return place

    async def issue_in(self, w: Work, take: Take) -> Issued:
        """One ticket, written in `w`."""
        service = self.service(take.service)  # the hall may have changed since it was asked for
        seq, issued, waiting = await w.q.issue_counts(w.day, service.code)
        for gate in self.gates:
            await gate(w, service, take, issued)
        _, _, reason = self.loads.availability(service, issued)
        if reason == "service_closed":
            hours = service.hours.text if service.hours else ""
            raise Conflict(f"Layanan {service.name} sedang tutup (jam layanan {hours}).", code="service_closed")
        if reason == "quota_exhausted":
            raise Conflict(f"Kuota harian layanan {service.name} sudah habis. Silakan datang besok.",
                           code="quota_exhausted")
        ticket = await w.q.insert_ticket(
            token=self._tokens.next(), day=w.day, prefix=service.code, seq=seq,
            number=f"{service.code}{seq:03d}", service=service.code, priority=take.priority,
            priority_reason=take.priority_reason, issued_at=w.now, phone=take.phone, kiosk=take.kiosk,
            place=take.place if take.place is not None else await self._next_place(w))
        if take.printer is not None:
            await self.printing.queue_print(w, take.printer, ticket, "ticket")
        w.change("issued", ticket)
        if take.phone:
            await w.q.subscribe(ticket.id, "sms", take.phone, w.now)
            w.change("subscribed", ticket, channel="sms", address=take.phone)
            w.moved.add(service.code)
        w.waiting[service.code] = waiting + 1  # known without counting again
        load = await self.loads.in_work(w, service.code)
        # A new normal ticket is last in its queue: everyone waiting is ahead (no counting).
        ahead = None if take.priority or take.place is not None else load.waiting - 1
        return ticket, await self.views.ticket_view(ticket, w.q, load, ahead=ahead)
