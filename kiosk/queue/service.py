"""The queue: taking a number, and moving tickets through counters (call, recall, start, finish,
no-show, transfer, pause, cancel, requeue), one write transaction per action.

Every change runs inside `Writer.write()`; its events are written in the same transaction and
published on the bus only after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from kiosk.hall.config import Counter, HallConfig
from kiosk.queue.clock import Clock
from kiosk.queue.errors import Conflict, InvalidTransition, NotFound
from kiosk.queue.events import EventBus
from kiosk.queue.issuing import Issued, Issuer
from kiosk.queue.loads import Loads
from kiosk.queue.models import CALLED, CANCELLED, DONE, NO_SHOW, SERVING, STATE_LABELS, WAITING, CounterState, Ticket
from kiosk.queue.printing import PrintJobs
from kiosk.queue.views import Views
from kiosk.queue.writer import Work, Writer, ticket_in
from kiosk.storage.base import Store

log = logging.getLogger(__name__)

EVENT_RETENTION_S = 3 * 24 * 3600


class QueueService:
    """Issues tickets and moves them through counters; the only writer of tickets."""

    def __init__(self, writer: Writer, printing: PrintJobs) -> None:
        self.writer = writer
        self.loads = Loads(writer)
        self.views = Views(writer, self.loads)
        self.issuer = Issuer(writer, self.loads, self.views, printing)
        writer.on_new_day(self._roll_over)

    @property
    def config(self) -> HallConfig:
        """The hall in force (admins change it at run time)."""
        return self.writer.config

    @property
    def store(self) -> Store:
        """The hall's database."""
        return self.writer.store

    @property
    def clock(self) -> Clock:
        """The injected clock."""
        return self.writer.clock

    @property
    def bus(self) -> EventBus:
        """Where committed events are published."""
        return self.writer.bus

    def local_now(self) -> datetime:
        """The hall's local time now."""
        return self.writer.local_now()

    def today(self) -> str:
        """The hall's local date (YYYY-MM-DD); never goes back."""
        return self.writer.today()

    def iso(self, epoch: float | None) -> str | None:
        """An epoch time as ISO 8601 with the hall's offset."""
        return self.writer.iso(epoch)

    async def _roll_over(self, w: Work) -> None:
        expired = await w.q.expire_before(w.day)
        await w.q.prune_events(w.now - EVENT_RETENTION_S)
        if expired:
            log.info("day %s begins: %d open tickets of earlier days expired", w.day, expired)

    # --- look-ups ---------------------------------------------------------------------------
    def _counter(self, counter_id: str) -> Counter:
        counter = self.config.counter(counter_id)
        if counter is None:
            raise NotFound(f"Loket '{counter_id}' tidak dikenal.", code="unknown_counter")
        return counter

    async def ticket(self, token: str) -> Ticket:
        """The ticket with this token, or 404 `unknown_ticket`."""
        return await ticket_in(self.store.reads, token)

    # --- citizens ---------------------------------------------------------------------------
    async def take(self, service_code: str, *, priority: bool = False, priority_reason: str | None = None,
                   phone: str | None = None, kiosk: str | None = None) -> Issued:
        """Take a number; the ticket and its view as of its own commit (see Issuer.take)."""
        return await self.issuer.take(service_code, priority=priority, priority_reason=priority_reason,
                                      phone=phone, kiosk=kiosk)

    async def issue(self, service_code: str, *, priority: bool = False, priority_reason: str | None = None,
                    phone: str | None = None, kiosk: str | None = None) -> Ticket:
        """Take a number: enforces hours and quota; the ticket exists once this returns."""
        ticket, _ = await self.take(service_code, priority=priority, priority_reason=priority_reason,
                                    phone=phone, kiosk=kiosk)
        return ticket

    async def cancel(self, token: str) -> Ticket:
        """The citizen gives up a waiting ticket."""
        async with self.writer.write() as w:
            ticket = await ticket_in(w.q, token)
            self._require(ticket, (WAITING,), "dibatalkan")
            ticket = await w.q.update_ticket(ticket, WAITING, state=CANCELLED, finished_at=w.now)
            await w.q.audit(at=w.now, username=None, action="cancel", ticket_number=ticket.number)
            w.change("cancelled", ticket)
            await self.loads.changed(w, ticket.service)
        return ticket

    async def requeue(self, token: str, actor: str) -> Ticket:
        """Put a no-show back in its queue, in its original place."""
        async with self.writer.write() as w:
            ticket = await ticket_in(w.q, token)
            self._require(ticket, (NO_SHOW,), "dimasukkan kembali ke antrean")
            if ticket.day != w.day:
                raise InvalidTransition(f"Nomor {ticket.number} berasal dari hari lain.")
            ticket = await w.q.update_ticket(ticket, NO_SHOW, state=WAITING, counter_id=None, called_at=None,
                                             started_at=None, finished_at=None)
            await w.q.audit(at=w.now, username=actor, action="requeue", ticket_number=ticket.number)
            w.change("requeued", ticket)
            await self.loads.changed(w, ticket.service)
        return ticket

    async def defer(self, token: str, actor: str) -> Ticket:
        """TUNDA: the citizen lets the next `[queue] defer_places` tickets of their lane (same
        service, same class) go ahead, once per ticket, if the hall allows it."""
        places = self.config.queue.defer_places
        if places <= 0:
            raise Conflict("Aula ini tidak melayani penundaan giliran.", code="defer_not_allowed")
        async with self.writer.write() as w:
            ticket = await ticket_in(w.q, token)
            if ticket.state != WAITING or ticket.day != w.day:
                raise InvalidTransition(f"Nomor {ticket.number} berstatus '{STATE_LABELS[ticket.state]}', "
                                        "tidak bisa ditunda.")
            if ticket.deferred:
                raise Conflict(f"Giliran nomor {ticket.number} sudah pernah ditunda; penundaan hanya sekali.",
                               code="already_deferred")
            behind = await w.q.lane_after(ticket, places + 64)
            if not behind:
                raise Conflict(f"Tidak ada yang menunggu di belakang nomor {ticket.number}; giliran tetap.",
                               code="nobody_behind")
            ticket = await w.q.update_ticket(ticket, WAITING, place=deferred_place([t.place for t in behind],
                                                                                   places), deferred=True)
            self.issuer.place_taken(w.day, ticket.place)
            await w.q.audit(at=w.now, username=actor, action="defer", ticket_number=ticket.number,
                            detail=f"{min(places, len(behind))} di belakang maju")
            w.change("deferred", ticket)
            await self.loads.changed(w, ticket.service)
        return ticket

    # --- counters ---------------------------------------------------------------------------
    async def call_next(self, counter_id: str, actor: str | None, *, expect: str | None = None,
                        confirm_no_show: bool = True) -> tuple[Ticket | None, Ticket | None]:
        """Close the counter's current ticket and call the next one; (called, closed).

        `expect` is the number the caller believes is current ("" for none): when the counter has
        moved on meanwhile (another tab), nothing happens (409 `current_changed`). With
        `confirm_no_show=False` a called ticket that has not started is not ended as a no-show
        (409 `confirm_no_show`): the console asks the officer first.
        """
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            state = await w.q.counter_state(counter.id)
            if state.paused:
                raise Conflict(f"{counter.name} sedang istirahat; tekan Lanjutkan dulu.", code="counter_paused")
            closed = await self._close_current(w, counter, actor, expect, confirm_no_show)
            ticket, streak = await self._choose(w, counter.services, state)
            # Saved first: the load read below (the forecast) sees this counter at work.
            await w.q.save_counter_state(replace(state, priority_streak=streak, active_day=w.day))
            if ticket is not None:
                ticket = await self._call(w, counter, ticket)
            await w.q.audit(at=w.now, username=actor, action="next", counter_id=counter.id,
                            ticket_number=ticket.number if ticket else None)
        return ticket, closed

    async def call_number(self, counter_id: str, number: str, actor: str | None, *, expect: str | None = None,
                          confirm_no_show: bool = True) -> tuple[Ticket, Ticket | None]:
        """Call one waiting number of this counter's services out of turn ("Panggil nomor..."); the
        current ticket closes as with next. The priority rule's count is left as it is."""
        counter = self._counter(counter_id)
        number = number.strip().upper()
        async with self.writer.write() as w:
            state = await w.q.counter_state(counter.id)
            if state.paused:
                raise Conflict(f"{counter.name} sedang istirahat; tekan Lanjutkan dulu.", code="counter_paused")
            ticket = await w.q.ticket_by_number(w.day, number)
            if ticket is None:
                raise NotFound(f"Nomor {number} tidak ada hari ini.", code="unknown_number")
            if ticket.service not in counter.services:
                raise Conflict(f"Nomor {number} bukan untuk layanan {counter.name}; alihkan dulu ke layanan ini.",
                               code="other_service")
            self._require(ticket, (WAITING,), "dipanggil")
            closed = await self._close_current(w, counter, actor, expect, confirm_no_show)
            await w.q.save_counter_state(replace(state, active_day=w.day))  # before the forecast reads the load
            ticket = await self._call(w, counter, ticket)
            await w.q.audit(at=w.now, username=actor, action="call_number", counter_id=counter.id,
                            ticket_number=ticket.number)
        return ticket, closed

    async def _close_current(self, w: Work, counter: Counter, actor: str | None, expect: str | None,
                             confirm_no_show: bool) -> Ticket | None:
        """End the visit at the counter before a call: served means done, called but never started
        means no-show; each recorded on its own ticket's line of the audit log."""
        closed = await w.q.counter_ticket(counter.id)
        if expect is not None and (closed.number if closed else "") != expect.strip().upper():
            shown = f"nomor {closed.number} ({STATE_LABELS[closed.state]})" if closed else "tidak ada nomor"
            raise Conflict(f"Layar Anda belum terbarui: di {counter.name} sekarang {shown}. Periksa lalu ulangi.",
                           code="current_changed")
        if closed is None:
            return None
        if closed.state == CALLED and not confirm_no_show:
            raise Conflict(f"Nomor {closed.number} sudah dipanggil tetapi belum dilayani. Tandai tidak hadir?",
                           code="confirm_no_show")
        outcome = DONE if closed.state == SERVING else NO_SHOW
        closed = await w.q.update_ticket(closed, closed.state, state=outcome, finished_at=w.now)
        await w.q.log_service(closed, ended_at=w.now, outcome=outcome, username=actor)
        w.change(outcome, closed)
        await w.q.audit(at=w.now, username=actor, action="finish" if outcome == DONE else "no_show",
                        counter_id=counter.id, ticket_number=closed.number, detail="ditutup oleh panggilan berikutnya")
        return closed

    async def _call(self, w: Work, counter: Counter, ticket: Ticket) -> Ticket:
        ticket = await w.q.update_ticket(ticket, WAITING, state=CALLED, counter_id=counter.id,
                                         called_at=w.now, started_at=None, finished_at=None)
        await self._announce(w, ticket, recall=False)
        w.change("called", ticket)
        await self.loads.changed(w, ticket.service)
        return ticket

    async def _choose(self, w: Work, services: tuple[str, ...], state: CounterState) -> tuple[Ticket | None, int]:
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
        async with self.writer.write() as w:
            ticket = await w.q.counter_ticket(counter.id)
            ticket = self._require(ticket, (CALLED,), "dipanggil ulang")
            ticket = await w.q.update_ticket(ticket, CALLED, recalls=ticket.recalls + 1)
            await self._announce(w, ticket, recall=True)
            w.change("recalled", ticket)
            await w.q.audit(at=w.now, username=actor, action="recall", counter_id=counter.id,
                            ticket_number=ticket.number)
        return ticket

    async def start_service(self, counter_id: str, actor: str | None) -> Ticket:
        """The citizen arrived at the counter: serving starts."""
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            ticket = self._require(await w.q.counter_ticket(counter.id), (CALLED,), "mulai dilayani")
            ticket = await w.q.update_ticket(ticket, CALLED, state=SERVING, started_at=w.now)
            w.change("serving", ticket)
            await w.q.audit(at=w.now, username=actor, action="start", counter_id=counter.id,
                            ticket_number=ticket.number)
            await self._counter_changed(w, counter.id, "start")
        return ticket

    async def finish(self, counter_id: str, actor: str | None) -> Ticket:
        """Serving is over."""
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            ticket = self._require(await w.q.counter_ticket(counter.id), (SERVING,), "diselesaikan")
            ticket = await w.q.update_ticket(ticket, SERVING, state=DONE, finished_at=w.now)
            await w.q.log_service(ticket, ended_at=w.now, outcome=DONE, username=actor)
            w.change("done", ticket)
            await w.q.audit(at=w.now, username=actor, action="finish", counter_id=counter.id,
                            ticket_number=ticket.number)
            await self._counter_changed(w, counter.id, "finish")
            await self.loads.changed(w, ticket.service)
        return ticket

    async def no_show(self, counter_id: str, actor: str | None) -> Ticket:
        """The called citizen did not come."""
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            ticket = self._require(await w.q.counter_ticket(counter.id), (CALLED,), "ditandai tidak hadir")
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
        target = self.issuer.service(service_code)
        async with self.writer.write() as w:
            ticket = self._require(await w.q.counter_ticket(counter.id), (CALLED, SERVING), "dialihkan")
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
            await self.loads.changed(w, source)
            await self.loads.changed(w, target.code)
            await self._counter_changed(w, counter.id, "transfer")
        return ticket

    async def no_shows(self, counter_id: str, limit: int = 30) -> list[Ticket]:
        """Today's no-shows of the counter's services, latest first (the console puts them back)."""
        counter = self._counter(counter_id)
        return await self.store.reads.ended_tickets(self.today(), counter.services, NO_SHOW, limit)

    async def pause(self, counter_id: str, actor: str | None) -> CounterState:
        """The counter takes a break (istirahat)."""
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            current = await w.q.counter_ticket(counter.id)
            if current is not None:
                raise Conflict(f"Selesaikan nomor {current.number} sebelum istirahat.", code="counter_busy")
            state = replace(await w.q.counter_state(counter.id), paused=True)
            await w.q.save_counter_state(state)
            await w.q.audit(at=w.now, username=actor, action="pause", counter_id=counter.id)
            await self._counter_changed(w, counter.id, "paused")
            for code in counter.services:
                await self.loads.changed(w, code)
        return state

    async def resume(self, counter_id: str, actor: str | None) -> CounterState:
        """The counter is back from its break."""
        counter = self._counter(counter_id)
        async with self.writer.write() as w:
            state = replace(await w.q.counter_state(counter.id), paused=False, active_day=w.day)
            await w.q.save_counter_state(state)
            await w.q.audit(at=w.now, username=actor, action="resume", counter_id=counter.id)
            await self._counter_changed(w, counter.id, "open")
            for code in counter.services:
                await self.loads.changed(w, code)
        return state

    # --- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _require(ticket: Ticket | None, states: tuple[str, ...], action: str) -> Ticket:
        if ticket is None:
            raise Conflict(f"Tidak ada nomor di loket ini yang bisa {action}.", code="no_current_ticket")
        if ticket.state not in states:
            raise InvalidTransition(
                f"Nomor {ticket.number} berstatus '{STATE_LABELS[ticket.state]}', tidak bisa {action}.")
        return ticket

    async def _counter_changed(self, w: Work, counter_id: str, state: str) -> None:
        """Public: a counter's state changed (its consoles in other tabs refresh)."""
        await w.emit("counter.changed", {"counter": counter_id, "state": state})

    async def _announce(self, w: Work, ticket: Ticket, *, recall: bool) -> None:
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


def deferred_place(behind: list[float], places: int) -> float:
    """The place of a deferred ticket, from the places of the tickets behind it in its lane (in
    order): strictly between the `places`-th and the next one with a later place (their midpoint),
    or the last one's place + 0.001 when fewer follow. Tickets sharing a place are called in issue
    order, so a place equal to theirs cannot sit between them: it goes behind the whole tie."""
    last = behind[min(places, len(behind)) - 1]
    for later in behind[places:]:
        middle = (last + later) / 2
        if last < middle < later:
            return middle
    return behind[-1] + 0.001
