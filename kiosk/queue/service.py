"""The queue domain: issuing tickets and working counters, one write transaction per action.

Every change runs inside `Store.transaction()`; its events are written in the same
transaction and published on the bus only after the commit.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.queue.clock import Clock, to_local
from kiosk.hall.config import ConfigError, HallConfig, Service, parse_hall
from kiosk.queue.errors import Conflict, DomainError, InvalidTransition, NotFound, Unavailable, Unprocessable
from kiosk.queue.i18n import format_wait
from kiosk.queue.estimate import estimated_wait_seconds, mean_service_seconds
from kiosk.queue.events import EventBus
from kiosk.queue.models import (
    CALLED, CANCELLED, DONE, NO_SHOW, PRIORITY_REASONS, SERVING, STATE_LABELS, WAITING, CounterState,
    Event, PrintJob, Ticket,
)
from kiosk.queue.phone import normalise_phone
from kiosk.storage.sqlite import HALL_KEY, Queries, Store

log = logging.getLogger(__name__)

TOKEN_BYTES = 18  # 144 bits; 24 URL-safe characters, fits a Telegram deep link
TOKENS_PER_READ = 256
EVENT_RETENTION_S = 3 * 24 * 3600


class TicketTokens:
    """Citizens' ticket tokens: TOKEN_BYTES from the OS's CSPRNG each (as `secrets.token_urlsafe`),
    read for TOKENS_PER_READ tickets at once: one system call, where the loop gives the GIL away,
    per 256 tickets instead of one per ticket."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def next(self) -> str:
        if self._at + TOKEN_BYTES > len(self._pool):
            self._pool, self._at = os.urandom(TOKEN_BYTES * TOKENS_PER_READ), 0
        chunk = self._pool[self._at:self._at + TOKEN_BYTES]
        self._at += TOKEN_BYTES
        return base64.urlsafe_b64encode(chunk).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class ServiceLoad:
    """How busy one service is right now."""

    waiting: int
    servers: int
    mean_service_s: float

    def wait_for(self, ahead: int) -> int:
        """Estimated seconds for someone with `ahead` people before them."""
        return estimated_wait_seconds(ahead, self.servers, self.mean_service_s)


@dataclass(frozen=True)
class Change:
    """Something that happened to a ticket in a write transaction (for the reacting rooms' hooks)."""

    kind: str  # issued, subscribed, called, recalled, serving, done, no_show, transferred, cancelled, requeued
    ticket: Ticket
    detail: dict[str, Any] = field(default_factory=dict)


ISSUE_BATCH = 128  # tickets issued in one write transaction at most
ISSUE_SLICE = 64  # between slices of a big batch, the event loop serves others (reads, streams)


@dataclass(eq=False)
class _Take:
    """A ticket asked for, waiting for the next issuing transaction."""

    service: str
    priority: bool
    priority_reason: str | None
    phone: str | None
    kiosk: str | None
    printer: str | None
    done: asyncio.Future[tuple[Ticket, dict[str, Any]]]


@dataclass
class _Work:
    """One write transaction of the domain: its queries, time, changes and pending events."""

    q: Queries
    now: float
    day: str
    events: list[Event] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    moved: set[str] = field(default_factory=set)  # services whose queue moved
    loads: dict[str, ServiceLoad] = field(default_factory=dict)  # per service, until a ticket changes
    waiting: dict[str, int] = field(default_factory=dict)  # per service, when known without a read

    def change(self, kind: str, ticket: Ticket, **detail: Any) -> None:
        """Note a ticket change for the hooks that run before the commit."""
        self.changes.append(Change(kind, ticket, detail))
        self.loads.clear()
        self.waiting.clear()

    async def emit(self, type_: str, data: dict[str, Any]) -> None:
        """A public event, stored with the change and published after the commit."""
        self.events.append(await self.q.insert_event(type_, data, self.now))

    def notify(self, type_: str, data: dict[str, Any]) -> None:
        """An in-process event for the reacting rooms, published after the commit, never stored."""
        self.events.append(Event(id=0, type=type_, data=data, at=self.now, public=False))


class QueueService:
    """Issues tickets and moves them through counters; the only writer of tickets."""

    def __init__(self, store: Store, config: HallConfig, clock: Clock, bus: EventBus) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.bus = bus
        self._day: str | None = None
        # Per service (counters working it, mean service time) as of the last write: only issuing
        # leaves them as they were, every other write clears them (see _write and work_load).
        self._steady: dict[str, tuple[int, float]] = {}
        self._steady_key: tuple[Any, ...] = ()
        self._tokens = TicketTokens()
        self._takes: list[_Take] = []  # tickets asked for, not yet issued
        self._issuer: asyncio.Task[None] | None = None
        self._print_waiters: dict[int, list[asyncio.Future[PrintJob]]] = {}
        self._hooks: list[Callable[[_Work], Awaitable[None]]] = []
        self._reconfigure: list[Callable[[HallConfig, HallConfig], Awaitable[None]]] = []
        self.view_extensions: list[Callable[[Ticket, dict[str, Any]], None]] = []

    def add_hook(self, hook: Callable[[_Work], Awaitable[None]]) -> None:
        """Run `hook(work)` inside every write transaction that changed a ticket or moved a queue,
        after the change and before the commit. A ticket joining at the back of its queue
        (`issued`, no queue in `work.moved`) brings nobody closer and is not news to a hook.

        A failing hook is rolled back to a savepoint and logged: it never blocks the queue.
        """
        self._hooks.append(hook)

    def on_reconfigure(self, listener: Callable[[HallConfig, HallConfig], Awaitable[None]]) -> None:
        """Call `listener(old, new)` after an admin change to the hall is committed."""
        self._reconfigure.append(listener)

    # --- time ----------------------------------------------------------------------
    def local_now(self):
        """The hall's local time now."""
        return to_local(self.clock.now(), self.config.hall.tz)

    def today(self) -> str:
        """The hall's local date now, as YYYY-MM-DD; never earlier than a day already begun (a clock
        set back across midnight must not reopen yesterday's numbering)."""
        day = self.local_now().date().isoformat()
        return self._day if self._day is not None and day < self._day else day

    def iso(self, epoch: float | None) -> str | None:
        """An epoch time as ISO 8601 with the hall's offset."""
        return None if epoch is None else to_local(epoch, self.config.hall.tz).isoformat(timespec="seconds")

    @asynccontextmanager
    async def _write(self, issuing: bool = False) -> AsyncIterator[_Work]:
        """One write transaction. `issuing`: it only adds tickets (and what hangs on them: print
        jobs, subscriptions, messages), never touches counters or finished visits, so the services'
        counters and service times computed before stay true."""
        now = self.clock.now()
        day = self.today()
        async with self.store.transaction() as q:
            if not issuing:
                self._steady.clear()
            work = _Work(q, now, day)
            if day != self._day:
                await self._roll_over(work)
            yield work
            if self._hooks and (work.moved or any(c.kind != "issued" for c in work.changes)):
                for hook in self._hooks:
                    try:
                        async with q.savepoint("hook"):
                            await hook(work)
                    except Exception:
                        log.exception("a transaction hook failed; the queue change is kept")
        for event in work.events:
            self.bus.publish(event)
        if day != self._day:
            self._day = day

    async def _roll_over(self, work: _Work) -> None:
        expired = await work.q.expire_before(work.day)
        await work.q.expire_print_jobs_before(work.day)
        await work.q.prune_events(work.now - EVENT_RETENTION_S)
        if expired:
            log.info("day %s begins: %d open tickets of earlier days expired", work.day, expired)

    async def start(self) -> None:
        """Bring the database to today (expire earlier days' open tickets); an empty database keeps
        the hall file's document from now on."""
        async with self._write() as w:
            if await w.q.setting(HALL_KEY) is None:
                await w.q.set_setting(HALL_KEY, json.dumps(self.config.raw, ensure_ascii=False), w.now, None)

    async def change_hall(self, edit: Callable[[dict[str, Any]], dict[str, Any]], actor: str,
                          what: str) -> HallConfig:
        """Apply `edit` to the hall document, check it, keep it in the database and use it at once.

        `edit` runs under the writer lock on the newest document, so two admins never undo each other.
        Refuses (409) to remove a service with open tickets today or a counter with a ticket at it.
        """
        old = self.config
        try:
            async with self._write() as w:
                old = self.config
                doc = edit(old.raw)
                await self._check_in_use(w, old, doc)
                try:
                    new = parse_hall(doc, "database")
                except ConfigError as exc:
                    detail = str(exc).removeprefix("database: ")
                    raise Unprocessable(f"Perubahan ditolak: {detail}", code="invalid_hall") from None
                if new.hall.timezone != old.hall.timezone:
                    raise Unprocessable("Zona waktu hanya dapat diubah lewat berkas hall (giliran hall import).",
                                        code="timezone_fixed")
                await self._store_hall(w, new, actor, what)
        except BaseException:
            self.config = old
            raise
        for listener in self._reconfigure:
            try:
                await listener(old, new)
            except Exception:  # one room failing to follow must not undo a committed change
                log.exception("applying the hall change to %s failed", getattr(listener, "__qualname__", listener))
        return new

    @staticmethod
    async def _check_in_use(w: _Work, old: HallConfig, doc: dict[str, Any]) -> None:
        """Refuse to remove a service with open tickets today or a counter with a ticket at it."""
        gone = {s.code for s in old.services} - {str(e.get("code")) for e in doc.get("services", [])
                                                  if isinstance(e, dict)}
        busy = sorted(code for code, n in (await w.q.open_counts(w.day)).items() if code in gone and n)
        if busy:
            raise Conflict(f"Layanan {', '.join(busy)} masih memiliki antrean hari ini; "
                           "hapus setelah antrean selesai.", code="service_in_use")
        gone_counters = {c.id for c in old.counters} - {str(e.get("id")) for e in doc.get("counters", [])
                                                        if isinstance(e, dict)}
        if busy_counters := sorted(gone_counters & set(await w.q.counter_tickets())):
            raise Conflict(f"Loket {', '.join(busy_counters)} sedang memanggil atau melayani.",
                           code="counter_in_use")

    async def _store_hall(self, w: _Work, new: HallConfig, actor: str, what: str) -> None:
        await w.q.set_setting(HALL_KEY, json.dumps(new.raw, ensure_ascii=False), w.now, actor)
        await w.q.audit(at=w.now, username=actor, action="hall", detail=what[:200])
        await w.emit("hall.changed", {"what": what.split(" ")[0]})
        self.config = new
        w.moved.update(s.code for s in new.services)  # hooks re-evaluate (e.g. new alert thresholds)

    # --- look-ups ----------------------------------------------------------------------
    def _service(self, code: str) -> Service:
        service = self.config.service(code)
        if service is None:
            raise NotFound(f"Layanan '{code}' tidak dikenal.", code="unknown_service")
        return service

    def _counter(self, counter_id: str):
        counter = self.config.counter(counter_id)
        if counter is None:
            raise NotFound(f"Loket '{counter_id}' tidak dikenal.", code="unknown_counter")
        return counter

    async def ticket(self, token: str) -> Ticket:
        """The ticket with this token, or 404 `unknown_ticket`."""
        ticket = await self.store.reads.ticket_by_token(token) if token else None
        if ticket is None:
            raise NotFound("Nomor antrean tidak ditemukan.", code="unknown_ticket")
        return ticket

    async def work_load(self, w: _Work, code: str) -> ServiceLoad:
        """One service's load inside a write transaction, computed once until a ticket changes.

        Between writes that only issue tickets, a service's counters and mean service time stay
        what they were: those are kept (until another kind of write, a failed write, a new day or
        a new hall) and only the waiting count is read again.
        """
        if (load := w.loads.get(code)) is not None:
            return load
        key = (self.store.failures, w.day, self.config)
        if key != self._steady_key:
            self._steady.clear()
            self._steady_key = key
        if (steady := self._steady.get(code)) is not None:
            waiting = w.waiting.get(code)
            load = ServiceLoad(await w.q.waiting_count(w.day, code) if waiting is None else waiting, *steady)
        else:
            load = (await self.loads(w.q, (code,)))[code]
            self._steady[code] = (load.servers, load.mean_service_s)
        w.loads[code] = load
        return load

    async def loads(self, q: Queries | None = None, codes: tuple[str, ...] | None = None
                    ) -> dict[str, ServiceLoad]:
        """Per service (all, or `codes`): people waiting, counters working it and mean service time."""
        q = q or self.store.reads
        day = self.today()
        services = self.config.services if codes is None else [s for c in codes if (s := self.config.service(c))]
        one = services[0].code if len(services) == 1 else None
        waiting = await q.waiting_counts(day, one)
        durations = await q.recent_durations(day, service=one)
        active = await q.working_counters(day)
        loads = {}
        for service in services:
            counters = self.config.counters_for(service.code)
            working = [c for c in counters if c.id in active]
            prior_s = 60 * (service.service_minutes or self.config.queue.default_service_minutes)
            loads[service.code] = ServiceLoad(
                waiting=waiting.get(service.code, 0),
                servers=len(working) or len(counters),
                mean_service_s=mean_service_seconds(prior_s, durations.get(service.code)),
            )
        return loads

    def availability(self, service: Service, issued: int) -> tuple[bool, int | None, str | None]:
        """(open by hours, quota left, why no ticket can be taken now or None)."""
        open_now = service.hours is None or service.hours.is_open(self.local_now().time())
        quota_left = None if service.daily_quota is None else max(0, service.daily_quota - issued)
        reason = None
        if not open_now:
            reason = "service_closed"
        elif quota_left == 0:
            reason = "quota_exhausted"
        return open_now, quota_left, reason

    async def services_overview(self) -> list[dict[str, Any]]:
        """What a kiosk shows per service."""
        loads = await self.loads()
        issued = await self.store.reads.issued_counts(self.today())
        rows = []
        for service in self.config.services:
            load = loads[service.code]
            open_now, quota_left, reason = self.availability(service, issued.get(service.code, 0))
            agency = self.config.agency(service.agency)
            rows.append({
                "code": service.code,
                "name": service.name,
                "agency": service.agency,
                "agency_name": agency.name if agency else service.agency,
                "open": open_now,
                "hours": service.hours.text if service.hours else None,
                "waiting": load.waiting,
                "daily_quota": service.daily_quota,
                "quota_left": quota_left,
                "estimated_wait_s": load.wait_for(load.waiting),
                "estimated_wait_text": format_wait(load.wait_for(load.waiting)),
                "unavailable_reason": reason,
            })
        return rows

    async def ticket_view(self, ticket: Ticket, q: Queries | None = None,
                          load: ServiceLoad | None = None, ahead: int | None = None) -> dict[str, Any]:
        """A ticket as the citizen and the API see it (no phone, no name)."""
        q = q or self.store.reads
        wait = 0
        if ticket.state != WAITING:
            ahead = 0
        else:
            if ahead is None:
                ahead = await q.ahead_of(ticket)
            if load is None:
                load = (await self.loads(q, (ticket.service,))).get(ticket.service)
            wait = load.wait_for(ahead) if load else 0
        service = self.config.service(ticket.service)
        counter = self.config.counter(ticket.counter_id) if ticket.counter_id else None
        return {
            "number": ticket.number,
            "service": ticket.service,
            "service_name": service.name if service else ticket.service,
            "state": ticket.state,
            "state_label": STATE_LABELS[ticket.state],
            "priority": ticket.priority,
            "priority_reason": ticket.priority_reason,
            "ahead": ahead,
            "estimated_wait_s": wait,
            "estimated_wait_text": format_wait(wait),
            "counter": ticket.counter_id if ticket.state in (CALLED, SERVING) else None,
            "counter_name": counter.name if counter and ticket.state in (CALLED, SERVING) else None,
            "issued_at": self.iso(ticket.issued_at),
            "called_at": self.iso(ticket.called_at),
            "recalls": ticket.recalls,
            "token": ticket.token,
            "status_url": self.status_url(ticket),
        } | self._extended(ticket)

    def _extended(self, ticket: Ticket) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        for extend in self.view_extensions:
            extend(ticket, extra)
        return extra

    def status_url(self, ticket: Ticket) -> str:
        """The citizen's page for this ticket (what the QR code opens)."""
        return f"{self.config.hall.public_url}/t/{ticket.token}"

    # --- issuing ---------------------------------------------------------------------------
    async def issue(self, service_code: str, *, priority: bool = False, priority_reason: str | None = None,
                    phone: str | None = None, kiosk: str | None = None) -> Ticket:
        """Take a number: enforces hours and quota; the ticket exists once this returns."""
        ticket, _ = await self.take(service_code, priority=priority, priority_reason=priority_reason,
                                    phone=phone, kiosk=kiosk)
        return ticket

    async def take(self, service_code: str, *, priority: bool = False, priority_reason: str | None = None,
                   phone: str | None = None, kiosk: str | None = None) -> tuple[Ticket, dict[str, Any]]:
        """`issue()`, also answering the ticket's view as of its own commit (read in the transaction).

        Tickets asked for at the same moment are issued together: one write transaction (one turn
        of the writer, one `queue.changed` per service) for up to ISSUE_BATCH of them; a refused
        one (closed, quota) leaves the others issued.
        """
        service = self._service(service_code)
        if priority_reason is not None:
            if priority_reason not in PRIORITY_REASONS:
                raise Unprocessable(
                    f"Alasan prioritas harus salah satu dari: {', '.join(PRIORITY_REASONS)}.",
                    code="invalid_priority")
            priority = True
        e164 = check_phone(phone)
        printer = None
        if kiosk is not None:
            station = self.config.kiosk(kiosk)
            if station is None:
                raise Unprocessable(f"Kios '{kiosk}' tidak dikenal.", code="unknown_kiosk")
            printer = station.printer
        loop = asyncio.get_running_loop()
        request = _Take(service.code, priority, priority_reason, e164, kiosk, printer, loop.create_future())
        self._takes.append(request)
        if self._issuer is None or self._issuer.done():
            self._issuer = loop.create_task(self._issue_queued(), name="issue")
        return await request.done

    async def _issue_queued(self) -> None:
        """Issue what `take()` queued, ISSUE_BATCH tickets per write transaction, until none is left."""
        while self._takes:
            takes: list[_Take] = []
            answers: list[tuple[Ticket, dict[str, Any]] | DomainError] = []
            try:
                async with self._write(issuing=True) as w:
                    # Taken once the transaction has begun: those who asked meanwhile come along.
                    takes = self._next_takes()
                    for n, take in enumerate(takes):
                        if n and n % ISSUE_SLICE == 0:
                            await asyncio.sleep(0)
                        answers.append(await self._issue_one(w, take))
                    issued = [a[0] for a in answers if not isinstance(a, DomainError)]
                    for code in sorted({t.service for t in issued}):  # one public event per service
                        await self._queue_changed(w, code, moved=False)  # _issue_in marked who moved
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
            for take, answer in zip(takes, answers):
                if take.done.done():
                    continue
                if isinstance(answer, DomainError):
                    take.done.set_exception(answer)
                else:
                    take.done.set_result(answer)

    def _next_takes(self) -> list[_Take]:
        """Up to ISSUE_BATCH of the queued requests whose callers still wait (a caller gone before
        its turn gets no ticket)."""
        takes = [t for t in self._takes[:ISSUE_BATCH] if not t.done.cancelled()]
        del self._takes[:ISSUE_BATCH]
        return takes

    async def _issue_one(self, w: _Work, take: _Take) -> tuple[Ticket, dict[str, Any]] | DomainError:
        """One ticket inside the issuing transaction; a refusal (closed, quota) is answered to its
        caller alone. Refusals come before anything of the ticket is written, so the others'
        tickets stand and nothing of the refused one does."""
        written = len(w.changes)
        try:
            return await self._issue_in(w, take)
        except DomainError as exc:
            if len(w.changes) != written:  # refused after writing: undo the whole transaction instead
                raise RuntimeError("a ticket was refused after it was written") from exc
            return exc

    async def _issue_in(self, w: _Work, take: _Take) -> tuple[Ticket, dict[str, Any]]:
        service = self._service(take.service)  # the hall may have changed since it was asked for
        seq, issued, waiting = await w.q.issue_counts(w.day, service.code)
        _, _, reason = self.availability(service, issued)
        if reason == "service_closed":
            raise Conflict(f"Layanan {service.name} sedang tutup (jam layanan {service.hours.text}).",
                           code="service_closed")
        if reason == "quota_exhausted":
            raise Conflict(f"Kuota harian layanan {service.name} sudah habis. Silakan datang besok.",
                           code="quota_exhausted")
        ticket = await w.q.insert_ticket(
            token=self._tokens.next(), day=w.day, prefix=service.code, seq=seq,
            number=f"{service.code}{seq:03d}", service=service.code, priority=take.priority,
            priority_reason=take.priority_reason, issued_at=w.now, phone=take.phone, kiosk=take.kiosk)
        if take.printer is not None:
            await self._queue_print(w, take.printer, ticket, "ticket")
        w.change("issued", ticket)
        if take.phone:
            await w.q.subscribe(ticket.id, "sms", take.phone, w.now)
            w.change("subscribed", ticket, channel="sms", address=take.phone)
            w.moved.add(service.code)
        w.waiting[service.code] = waiting + 1  # known without counting again
        load = await self.work_load(w, service.code)
        # A new normal ticket is last in its queue: everyone waiting is ahead (no counting).
        ahead = None if take.priority else load.waiting - 1
        return ticket, await self.ticket_view(ticket, w.q, load, ahead=ahead)

    # --- following a ticket (Telegram chats, SMS) ---------------------------------------------
    async def subscribe(self, token: str, channel: str, address: str) -> tuple[Ticket, bool]:
        """A chat or phone follows a ticket of today that is not over; (ticket, newly subscribed)."""
        async with self._write() as w:
            ticket = await self._ticket_in_tx(w, token)
            if ticket.day != w.day or ticket.state not in (WAITING, CALLED, SERVING):
                raise Conflict(f"Nomor {ticket.number} sudah {STATE_LABELS[ticket.state]}; pemberitahuan tidak "
                               "bisa diaktifkan.", code="ticket_closed")
            created = await w.q.subscribe(ticket.id, channel, address, w.now)
            if created:
                w.change("subscribed", ticket, channel=channel, address=address)
                w.moved.add(ticket.service)  # maybe already close to the counter
        return ticket, created

    async def add_phone(self, token: str, phone: Any) -> Ticket:
        """The citizen adds a phone number for SMS alerts (from the status page or kiosk)."""
        e164 = check_phone(phone)
        if e164 is None:
            raise Unprocessable("Isi nomor HP.", code="invalid_phone")
        ticket, _ = await self.subscribe(token, "sms", e164)
        async with self._write() as w:
            await w.q.set_phone(ticket.id, e164)
        return ticket

    async def record_message_attempt(self, message_id: int, *, state: str, next_attempt_at: float,
                                     error: str | None) -> None:
        """The notifier reports one delivery attempt of an outbox message."""
        async with self._write() as w:
            await w.q.message_attempt(message_id, state=state, at=w.now, next_attempt_at=next_attempt_at,
                                      error=error)

    async def messages(self, token: str) -> list[dict[str, Any]]:
        """What was sent, is pending or failed for a ticket (addresses shown masked)."""
        ticket = await self.ticket(token)
        rows = await self.store.reads.messages_for_ticket(ticket.id)
        return [{
            "stage": r["stage"], "channel": r["channel"], "to": mask_address(r["address"]), "state": r["state"],
            "attempts": r["attempts"], "last_error": r["last_error"], "text": r["text"],
            "created_at": self.iso(r["created_at"]), "sent_at": self.iso(r["sent_at"]),
        } for r in rows]

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """Stop all alerts to a chat or phone (it blocked the bot, or asked to stop)."""
        async with self._write() as w:
            return await w.q.unsubscribe_address(channel, address)

    # --- printing (the printers room reads and reports through these) -------------------------
    async def _queue_print(self, w: _Work, printer_id: str, ticket: Ticket, kind: str) -> PrintJob:
        job = await w.q.add_print_job(printer_id, ticket.id, kind, w.now)
        w.notify("print.queued", {"job": job.id, "printer": printer_id})
        return job

    async def reprint(self, token: str, actor: str, printer_id: str | None = None) -> PrintJob:
        """Staff print a ticket again, on its kiosk's printer or on the one named."""
        ticket = await self.ticket(token)
        if printer_id is None:
            station = self.config.kiosk(ticket.kiosk) if ticket.kiosk else None
            printer_id = station.printer if station else None
        if printer_id is None:
            raise Conflict(f"Nomor {ticket.number} tidak diambil di kios berprinter; pilih printer.",
                           code="no_printer")
        if self.config.printer(printer_id) is None:
            raise NotFound(f"Printer '{printer_id}' tidak dikenal.", code="unknown_printer")
        async with self._write() as w:
            job = await self._queue_print(w, printer_id, ticket, "reprint")
            await w.q.audit(at=w.now, username=actor, action="reprint", ticket_number=ticket.number,
                            detail=printer_id)
        return job

    async def next_print_job(self, printer_id: str) -> tuple[PrintJob, Ticket] | None:
        """The oldest unprinted job of a printer, with its ticket."""
        reads = self.store.reads
        job = await reads.next_print_job(printer_id)
        if job is None:
            return None
        ticket = await reads.ticket_by_id(job.ticket_id)
        assert ticket is not None
        if job.state == "printing":
            # The server stopped during an attempt (a crash): the ticket may already be out, so
            # it is printed again marked as a reprint rather than silently twice.
            job = replace(job, partial=True)
        async with self._write() as w:
            await w.q.start_print_job(job.id)
        return job, ticket

    async def record_print(self, job: PrintJob, *, sent: bool, error: str | None = None,
                           partial: bool = False) -> None:
        """The printers room reports an attempt: sent (confirmed) or failed (the job stays pending).

        `partial` marks a failed attempt during which bytes reached the printer: the retry is
        printed as a reprint, since half a ticket may already be out.
        """
        async with self._write() as w:
            await w.q.finish_print_job(job.id, state="sent" if sent else "pending", at=w.now, error=error,
                                       partial=partial)
            w.notify("print.done" if sent else "print.failed",
                     {"job": job.id, "printer": job.printer_id, "error": error})
        waiters = self._print_waiters.pop(job.id, [])
        if waiters:
            updated = await self.store.reads.print_job(job.id)
            for waiter in waiters:
                if not waiter.done() and updated is not None:
                    waiter.set_result(updated)

    async def wait_for_print(self, ticket: Ticket, timeout: float) -> PrintJob | None:
        """The ticket's print job once its first attempt ended, or as it is after `timeout` seconds."""
        reads = self.store.reads
        job = await reads.job_for_ticket(ticket.id)
        if job is None or job.state not in ("pending", "printing") or job.attempts or timeout <= 0:
            return job
        first = await reads.next_print_job(job.printer_id)
        if first is not None and first.id != job.id and first.attempts:
            return job  # the printer is already failing on an earlier ticket: say "queued" at once
        waiter: asyncio.Future[PrintJob] = asyncio.get_running_loop().create_future()
        self._print_waiters.setdefault(job.id, []).append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return await self.store.reads.print_job(job.id)
        finally:
            waiters = self._print_waiters.get(job.id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._print_waiters.pop(job.id, None)

    async def cancel(self, token: str) -> Ticket:
        """The citizen gives up a waiting ticket."""
        async with self._write() as w:
            ticket = await self._ticket_in_tx(w, token)
            self._require(ticket, (WAITING,), "dibatalkan")
            ticket = await w.q.update_ticket(ticket, WAITING, state=CANCELLED, finished_at=w.now)
            await w.q.audit(at=w.now, username=None, action="cancel", ticket_number=ticket.number)
            w.change("cancelled", ticket)
            await self._queue_changed(w, ticket.service)
        return ticket

    async def requeue(self, token: str, actor: str) -> Ticket:
        """Put a no-show back in its queue, in its original place."""
        async with self._write() as w:
            ticket = await self._ticket_in_tx(w, token)
            self._require(ticket, (NO_SHOW,), "dimasukkan kembali ke antrean")
            if ticket.day != w.day:
                raise InvalidTransition(f"Nomor {ticket.number} berasal dari hari lain.")
            ticket = await w.q.update_ticket(ticket, NO_SHOW, state=WAITING, counter_id=None, called_at=None,
                                             started_at=None, finished_at=None)
            await w.q.audit(at=w.now, username=actor, action="requeue", ticket_number=ticket.number)
            w.change("requeued", ticket)
            await self._queue_changed(w, ticket.service)
        return ticket

    # --- counters ---------------------------------------------------------------------------
    async def call_next(self, counter_id: str, actor: str | None) -> tuple[Ticket | None, Ticket | None]:
        """Close the counter's current ticket and call the next one; (called, closed)."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            state = await w.q.counter_state(counter.id)
            if state.paused:
                raise Conflict(f"{counter.name} sedang istirahat; tekan Lanjutkan dulu.", code="counter_paused")
            closed = await w.q.counter_ticket(counter.id)
            if closed is not None:
                # Next ends the current visit: served means done, never started means no-show.
                outcome = DONE if closed.state == SERVING else NO_SHOW
                closed = await w.q.update_ticket(closed, closed.state, state=outcome, finished_at=w.now)
                await w.q.log_service(closed, ended_at=w.now, outcome=outcome, username=actor)
                w.change(outcome, closed)
            ticket, streak = await self._choose(w, counter.services, state)
            if ticket is not None:
                ticket = await w.q.update_ticket(ticket, WAITING, state=CALLED, counter_id=counter.id,
                                                 called_at=w.now, started_at=None, finished_at=None)
                await self._announce(w, ticket, recall=False)
                w.change("called", ticket)
                await self._queue_changed(w, ticket.service)
            await w.q.save_counter_state(replace(state, priority_streak=streak, active_day=w.day))
            await w.q.audit(at=w.now, username=actor, action="next", counter_id=counter.id,
                            ticket_number=ticket.number if ticket else None,
                            detail=f"{closed.number} -> {closed.state}" if closed else None)
        return ticket, closed

    async def _choose(self, w: _Work, services: tuple[str, ...], state: CounterState) -> tuple[Ticket | None, int]:
        """The priority rule: priority first, but at most N in a row while normal tickets wait."""
        first_priority = await w.q.oldest_waiting(w.day, services, priority=True)
        first_normal = await w.q.oldest_waiting(w.day, services, priority=False)
        if first_priority and first_normal:
            if state.priority_streak < self.config.queue.priority_max_in_row:
                return first_priority, state.priority_streak + 1
            return first_normal, 0
        if first_priority:
            return first_priority, 0
        if first_normal:
            return first_normal, 0
        return None, state.priority_streak

    async def recall(self, counter_id: str, actor: str | None) -> Ticket:
        """Call the counter's called ticket again."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            ticket = await self._current(w, counter)
            self._require(ticket, (CALLED,), "dipanggil ulang")
            ticket = await w.q.update_ticket(ticket, CALLED, recalls=ticket.recalls + 1)
            await self._announce(w, ticket, recall=True)
            w.change("recalled", ticket)
            await w.q.audit(at=w.now, username=actor, action="recall", counter_id=counter.id,
                            ticket_number=ticket.number)
        return ticket

    async def start_service(self, counter_id: str, actor: str | None) -> Ticket:
        """The citizen arrived at the counter: serving starts."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            ticket = await self._current(w, counter)
            self._require(ticket, (CALLED,), "mulai dilayani")
            ticket = await w.q.update_ticket(ticket, CALLED, state=SERVING, started_at=w.now)
            w.change("serving", ticket)
            await w.q.audit(at=w.now, username=actor, action="start", counter_id=counter.id,
                            ticket_number=ticket.number)
            await self._counter_changed(w, counter.id, "start")
        return ticket

    async def finish(self, counter_id: str, actor: str | None) -> Ticket:
        """Serving is over."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            ticket = await self._current(w, counter)
            self._require(ticket, (SERVING,), "diselesaikan")
            ticket = await w.q.update_ticket(ticket, SERVING, state=DONE, finished_at=w.now)
            await w.q.log_service(ticket, ended_at=w.now, outcome=DONE, username=actor)
            w.change("done", ticket)
            await w.q.audit(at=w.now, username=actor, action="finish", counter_id=counter.id,
                            ticket_number=ticket.number)
            await self._counter_changed(w, counter.id, "finish")
            await self._queue_changed(w, ticket.service)
        return ticket

    async def no_show(self, counter_id: str, actor: str | None) -> Ticket:
        """The called citizen did not come."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            ticket = await self._current(w, counter)
            self._require(ticket, (CALLED,), "ditandai tidak hadir")
            ticket = await w.q.update_ticket(ticket, CALLED, state=NO_SHOW, finished_at=w.now)
            await w.q.log_service(ticket, ended_at=w.now, outcome=NO_SHOW, username=actor)
            w.change("no_show", ticket)
            await w.q.audit(at=w.now, username=actor, action="no_show", counter_id=counter.id,
                            ticket_number=ticket.number)
            await self._counter_changed(w, counter.id, "no_show")
        return ticket

    async def transfer(self, counter_id: str, service_code: str, actor: str | None) -> Ticket:
        """Send the counter's ticket to another service's queue, keeping its number and place."""
        counter = self._counter(counter_id)
        target = self._service(service_code)
        async with self._write() as w:
            ticket = await self._current(w, counter)
            self._require(ticket, (CALLED, SERVING), "dialihkan")
            if ticket.service == target.code:
                raise Conflict(f"Nomor {ticket.number} sudah di layanan {target.name}.", code="same_service")
            await w.q.log_service(ticket, ended_at=w.now, outcome="transferred", username=actor)
            source = ticket.service
            ticket = await w.q.update_ticket(ticket, ticket.state, state=WAITING, service=target.code,
                                             counter_id=None, called_at=None, started_at=None,
                                             transfers=ticket.transfers + 1)
            await w.q.audit(at=w.now, username=actor, action="transfer", counter_id=counter.id,
                            ticket_number=ticket.number, detail=f"{source} -> {target.code}")
            w.change("transferred", ticket, source=source)
            await self._queue_changed(w, source)
            await self._queue_changed(w, target.code)
        return ticket

    async def pause(self, counter_id: str, actor: str | None) -> CounterState:
        """The counter takes a break (istirahat)."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            current = await w.q.counter_ticket(counter.id)
            if current is not None:
                raise Conflict(f"Selesaikan nomor {current.number} sebelum istirahat.", code="counter_busy")
            state = replace(await w.q.counter_state(counter.id), paused=True)
            await w.q.save_counter_state(state)
            await w.q.audit(at=w.now, username=actor, action="pause", counter_id=counter.id)
            await self._counter_changed(w, counter.id, "paused")
            await self._queue_changed_for_counter(w, counter)
        return state

    async def resume(self, counter_id: str, actor: str | None) -> CounterState:
        """The counter is back from its break."""
        counter = self._counter(counter_id)
        async with self._write() as w:
            state = replace(await w.q.counter_state(counter.id), paused=False, active_day=w.day)
            await w.q.save_counter_state(state)
            await w.q.audit(at=w.now, username=actor, action="resume", counter_id=counter.id)
            await self._counter_changed(w, counter.id, "open")
            await self._queue_changed_for_counter(w, counter)
        return state

    async def counters_overview(self) -> list[dict[str, Any]]:
        """Every counter: its services, pause state, current ticket, waiting count, served today."""
        reads = self.store.reads
        day = self.today()
        states = await reads.counter_states()
        current = await reads.counter_tickets()
        waiting = await reads.waiting_counts(day)
        served = await reads.served_today(day)
        rows = []
        for counter in self.config.counters:
            state = states.get(counter.id) or CounterState(counter.id, False, 0, None)
            ticket = current.get(counter.id)
            n, total = served.get(counter.id, (0, 0.0))
            rows.append({
                "id": counter.id,
                "name": counter.name,
                "services": list(counter.services),
                "paused": state.paused,
                "current": None if ticket is None else {
                    "number": ticket.number, "service": ticket.service, "state": ticket.state,
                    "token": ticket.token, "priority": ticket.priority,
                    "since": self.iso(ticket.started_at or ticket.called_at),
                },
                "waiting": sum(waiting.get(code, 0) for code in counter.services),
                "served_today": n,
                "mean_service_s": round(total / n) if n else None,
            })
        return rows

    # --- helpers ------------------------------------------------------------------------------
    async def _ticket_in_tx(self, w: _Work, token: str) -> Ticket:
        ticket = await w.q.ticket_by_token(token) if token else None
        if ticket is None:
            raise NotFound("Nomor antrean tidak ditemukan.", code="unknown_ticket")
        return ticket

    async def _current(self, w: _Work, counter) -> Ticket | None:
        return await w.q.counter_ticket(counter.id)

    @staticmethod
    def _require(ticket: Ticket | None, states: tuple[str, ...], action: str) -> None:
        if ticket is None:
            raise Conflict(f"Tidak ada nomor di loket ini yang bisa {action}.", code="no_current_ticket")
        if ticket.state not in states:
            raise InvalidTransition(
                f"Nomor {ticket.number} berstatus '{STATE_LABELS[ticket.state]}', tidak bisa {action}.")

    async def _counter_changed(self, w: _Work, counter_id: str, state: str) -> None:
        """Public: a counter's state changed (its consoles in other tabs refresh)."""
        await w.emit("counter.changed", {"counter": counter_id, "state": state})

    async def _announce(self, w: _Work, ticket: Ticket, *, recall: bool) -> None:
        service = self.config.service(ticket.service)
        counter = self.config.counter(ticket.counter_id or "")
        await w.emit("ticket.called", {
            "number": ticket.number,
            "service": ticket.service,
            "service_name": service.name if service else ticket.service,
            "counter": ticket.counter_id,
            "counter_name": counter.name if counter else ticket.counter_id,
            "recall": recall,
            "priority": ticket.priority,
        })

    async def _queue_changed(self, w: _Work, service_code: str, moved: bool = True) -> None:
        """Public: a service's queue changed. `moved`: people in it may have come closer to a
        counter (a ticket joining at the back brings nobody closer)."""
        if moved:
            w.moved.add(service_code)
        load = await self.work_load(w, service_code)
        await w.emit("queue.changed", {"service": service_code, "waiting": load.waiting,
                                       "estimated_wait_s": load.wait_for(load.waiting)})

    async def _queue_changed_for_counter(self, w: _Work, counter) -> None:
        for code in counter.services:
            await self._queue_changed(w, code)

    async def ticker(self) -> str:
        """The display's running text."""
        stored = await self.store.reads.setting("display.ticker")
        return self.config.display.ticker if stored is None else stored

    async def set_ticker(self, text: str, actor: str) -> str:
        """Change the running text on every display, now."""
        text = " ".join(text.split())
        if len(text) > 500:
            raise Unprocessable("Teks berjalan paling banyak 500 karakter.", code="ticker_too_long")
        async with self._write() as w:
            await w.q.set_setting("display.ticker", text, w.now, actor)
            await w.q.audit(at=w.now, username=actor, action="ticker", detail=text[:200])
            await w.emit("display.ticker", {"text": text})
        return text

    async def recent_calls(self, limit: int = 10) -> list[dict[str, Any]]:
        """Today's latest calls, newest first (for display snapshots)."""
        midnight = self.local_now().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        events = await self.store.reads.recent_events("ticket.called", midnight, limit)
        return [e.data | {"at": self.iso(e.at), "id": e.id} for e in events]


def mask_address(address: str) -> str:
    """Staff see enough of a phone or chat id to recognise it, not to copy it."""
    if len(address) <= 6:
        return "…" if address else ""
    return address[:4] + "…" + address[-3:]


def check_phone(value: Any) -> str | None:
    """A phone field from a request: None, or a normalised +62 number (422 otherwise)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Unprocessable("Nomor HP harus berupa teks.", code="invalid_phone")
    return normalise_phone(value)
