"""The online queue's service: slots with places left, bookings (make, see, cancel, check in),
numbers taken from home for today, the limits per verified identity, and the gate that keeps the
walk-in part of a quota and closes the kiosk on closed days. Every write goes through the queue's
`Writer`: a count and the row it allows are read and written in one store transaction, so
concurrent requests never pass a slot's capacity or the online share (docs/booking.md)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import date
from typing import Any

from kiosk.booking import rules
from kiosk.booking.verify import Verifier
from kiosk.hall.config import Service
from kiosk.queue.errors import Conflict, Forbidden, NotFound, Unprocessable
from kiosk.queue.issuing import Issued, Take
from kiosk.queue.models import Ticket
from kiosk.queue.service import QueueService
from kiosk.queue.writer import Work

log = logging.getLogger(__name__)
CODE_DIGITS = 8  # a booking's code: digits, typed on the kiosk's keypad
ORIGINS = {"remote": "daring", "slot": "booking"}


def channel_of(identity: str) -> tuple[str, str]:
    """(outbox channel, address) of an identity ('sms:+62…', 'telegram:<chat>')."""
    channel, _, address = identity.partition(":")
    return channel, address


class BookingService:
    """Bookings and remote numbers of one hall, on the queue's writer."""

    def __init__(self, queue: QueueService) -> None:
        self.queue = queue
        self.writer = queue.writer
        self.verifier = Verifier(self.writer)
        self._origins: tuple[str, dict[int, str]] = ("", {})  # today's ticket id -> origin, for views
        queue.issuer.gates.append(self._gate)
        queue.views.extensions.append(self._mark_view)
        queue.views.origin_of = self.origin_of
        queue.views.kiosk_counts = self._kiosk_counts
        self.writer.on_new_day(self._roll_over)

    async def start(self) -> None:
        """Learn which of today's tickets came from the online queue (the console marks them)."""
        day = self.writer.today()
        found = await self.writer.store.reads.booking_tickets(day)
        self._origins = (day, {tid: kind for tid, (kind, _) in found.items()})

    # --- the rules applied to issuing -----------------------------------------------------------
    async def _gate(self, w: Work, service: Service, take: Take, issued: int) -> None:
        """Closed days close the kiosk too; a walk-in ticket stays within the walk-in part."""
        config = self.writer.config
        day = date.fromisoformat(w.day)
        rules.check_open_day(config, day)  # the hours within a day stay each service's `hours`
        part = rules.walk_in_part(service)
        if take.origin is None and part is not None and service.online.remote_share:
            _, online_tickets = await w.q.online_counts(service.code, w.day)
            if issued - online_tickets >= part:
                raise Conflict(f"Kuota antrean di tempat untuk {service.name} hari ini sudah habis "
                               f"({part} nomor). Sisa kuota hanya untuk antrean daring.", code="quota_exhausted")

    async def _kiosk_counts(self, issued: dict[str, int]) -> tuple[dict[str, int], str | None]:
        """For the kiosk's overview: the walk-in part's use (tickets of the kiosk, plus the online part
        kept aside) and why today is closed, if it is."""
        config = self.writer.config
        day = self.writer.today()
        closed = config.days.closed(date.fromisoformat(day))
        shared = [s for s in config.services if s.online.remote_share and s.daily_quota is not None]
        if not shared:
            return issued, closed
        online = await self.writer.store.reads.online_ticket_counts(day)
        counted = dict(issued)
        for service in shared:
            counted[service.code] = (issued.get(service.code, 0) - online.get(service.code, 0)
                                     + service.online.remote_share)
        return counted, closed

    def origin_of(self, ticket: Ticket) -> str | None:
        """'booking' or 'daring' for today's tickets of the online queue, None for the kiosk's."""
        day, origins = self._origins
        kind = origins.get(ticket.id) if ticket.day == day else None
        return ORIGINS.get(kind or "")

    def _mark_view(self, ticket: Ticket, view: dict[str, Any]) -> None:
        view["origin"] = self.origin_of(ticket) or "kios"

    def _remember(self, day: str, ticket_id: int, kind: str) -> None:
        if self._origins[0] != day:
            self._origins = (day, {})
        self._origins[1][ticket_id] = kind

    async def _roll_over(self, w: Work) -> None:
        expired = await w.q.expire_bookings(w.day, w.now)
        await w.q.forget_verifications(w.now - 3600)
        if expired:
            log.info("day %s begins: %d bookings never checked in expired", w.day, expired)

    # --- reading -----------------------------------------------------------------------------
    def service(self, code: str) -> Service:
        """The service, or 404 `unknown_service`."""
        return self.queue.issuer.service(code)

    def _day(self, text: str | None) -> date:
        if not text:
            return self.writer.local_now().date()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise Unprocessable(f"Tanggal '{text[:20]}' tidak valid (TTTT-BB-HH).", code="invalid_date") from None

    async def slots(self, service_code: str, day_text: str | None) -> dict[str, Any]:
        """A service's slots on a day with places left (past slots are not offered)."""
        service = self.service(service_code)
        day = self._day(day_text)
        config = self.writer.config
        now_local = self.writer.local_now()
        rules.check_window(config, service, day, now_local)
        closed = rules.closed_reason(config, day)
        taken = await self.writer.store.reads.slot_counts(service.code, day.isoformat())
        used, _ = await self.writer.store.reads.online_counts(service.code, day.isoformat())
        share_left = max(0, service.online.remote_share - used)
        now = self.writer.clock.now()
        slots = [{"time": s.label, "capacity": s.capacity, "left": min(max(0, s.capacity - taken.get(s.start, 0)),
                                                                         share_left)}
                 for s in rules.day_slots(config, service, day) if s.start > now]
        first, last = rules.bookable_days(config, service, now_local)
        return {"service": service.code, "service_name": service.name, "date": day.isoformat(),
                "day_text": rules.weekday_text(day), "closed": closed, "slots": slots, "online_left": share_left,
                "window": {"first": first.isoformat(), "last": last.isoformat()}}

    async def booking(self, code: str) -> dict[str, Any]:
        """A booking as its holder sees it (never the phone)."""
        row = await self.writer.store.reads.booking_by_code(code) if code.isdigit() else None
        if row is None:
            raise NotFound("Kode booking tidak ditemukan.", code="unknown_booking")
        return await self._view(row)

    async def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        service = self.writer.config.service(row["service"])
        ticket = await self.writer.store.reads.ticket_by_id(row["ticket_id"]) if row["ticket_id"] else None
        day = date.fromisoformat(row["day"])
        return {"code": row["code"], "kind": row["kind"], "service": row["service"],
                "service_name": service.name if service else row["service"], "date": row["day"],
                "day_text": rules.weekday_text(day), "time": row["slot_label"], "state": row["state"],
                "ticket": None if ticket is None else {"number": ticket.number, "state": ticket.state,
                                                       "status_url": self.queue.views.status_url(ticket),
                                                       "token": ticket.token},
                "status_url": f"{self.writer.config.hall.public_url}/booking/{row['code']}"}

    # --- limits -------------------------------------------------------------------------------
    async def _check_limits(self, w: Work, identity: str, service: Service, day: date) -> None:
        booking = self.writer.config.booking
        if await w.q.identity_count(identity, service.code, day.isoformat(), day.isoformat()) >= booking.per_day:
            raise Conflict(f"Batas antrean daring tercapai: {booking.per_day} nomor per hari untuk layanan "
                           f"{service.name}.", code="booking_limit")
        monday, sunday = rules.week_of(day)
        if await w.q.identity_count(identity, service.code, monday.isoformat(), sunday.isoformat()) \
                >= booking.per_week:
            raise Conflict(f"Batas antrean daring tercapai: {booking.per_week} nomor per minggu untuk layanan "
                           f"{service.name}.", code="booking_limit")

    async def _check_share(self, w: Work, service: Service, day: str) -> None:
        used, _ = await w.q.online_counts(service.code, day)
        if used >= service.online.remote_share:
            raise Conflict(f"Kuota antrean daring {service.name} untuk {day} sudah habis "
                           f"({service.online.remote_share} nomor). Silakan datang langsung atau pilih hari lain.",
                           code="remote_quota_exhausted")

    async def _new_code(self, w: Work) -> str:
        while True:
            code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
            if await w.q.booking_by_code(code) is None:
                return code

    # --- booking a slot ------------------------------------------------------------------------
    async def book(self, identity: str, service_code: str, day_text: str | None, slot_label: str) -> dict[str, Any]:
        """Book a slot for a verified identity; 409 `slot_full`, `remote_quota_exhausted`,
        `booking_limit`, `closed_day`."""
        service = self.service(service_code)
        day = self._day(day_text)
        config = self.writer.config
        rules.check_window(config, service, day, self.writer.local_now())
        rules.check_open_day(config, day)
        slot = next((s for s in rules.day_slots(config, service, day) if s.label == slot_label), None)
        if slot is None:
            raise Unprocessable(f"Jam {slot_label[:8]} bukan jadwal layanan {service.name} pada {day.isoformat()}.",
                                code="unknown_slot")
        who = await self.verifier.pseudonym(identity)
        await self._still_open(service, day.isoformat(), slot)
        async with self.writer.write(issuing=True) as w:  # no ticket, counter or visit changes
            if slot.start <= w.now:
                raise Unprocessable("Jadwal itu sudah lewat; pilih jam lain.", code="slot_past")
            await self._check_limits(w, who, service, day)
            taken = (await w.q.slot_counts(service.code, day.isoformat())).get(slot.start, 0)
            if taken >= slot.capacity:
                raise Conflict(f"Jadwal {slot.label} pada {day.isoformat()} sudah penuh; pilih jam lain.",
                               code="slot_full")
            await self._check_share(w, service, day.isoformat())
            row = await w.q.add_booking(code=await self._new_code(w), kind="slot", service=service.code,
                                        day=day.isoformat(), slot_start=slot.start, slot_label=slot.label,
                                        identity=who, contact=identity, state="booked", at=w.now)
            channel, address = channel_of(identity)
            text = (f"Booking {service.name} {rules.weekday_text(day)} pukul {slot.label}. Kode: {row['code']}. "
                    f"Ketik kode di kios saat tiba.")
            await w.q.enqueue_message(ticket_id=None, stage="booking", channel=channel, address=address,
                                      text=text, key=f"booking:{row['id']}:made", at=w.now)
            w.notify("alert.queued", {"channel": channel})
        log.info("booking %s: %s %s %s", row["code"], service.code, row["day"], slot.label)
        return await self._view(row)

    async def _still_open(self, service: Service, day: str, slot: rules.Slot) -> None:
        """Refuse a full slot or share from what is committed, without waiting for the writer (the
        morning the window opens, most requests are refusals). Places only free up by a
        cancellation, so a refusal read here was true a moment ago; a booking is only ever made
        after the same checks inside the write transaction."""
        reads = self.writer.store.quick
        if (await reads.slot_counts(service.code, day)).get(slot.start, 0) >= slot.capacity:
            raise Conflict(f"Jadwal {slot.label} pada {day} sudah penuh; pilih jam lain.", code="slot_full")
        used, _ = await reads.online_counts(service.code, day)
        if used >= service.online.remote_share:
            raise Conflict(f"Kuota antrean daring {service.name} untuk {day} sudah habis "
                           f"({service.online.remote_share} nomor). Silakan datang langsung atau pilih hari lain.",
                           code="remote_quota_exhausted")

    async def cancel(self, code: str, identity: str) -> dict[str, Any]:
        """Cancel one's own booking before it is checked in (frees its place)."""
        who = await self.verifier.pseudonym(identity)
        async with self.writer.write() as w:
            row = await w.q.booking_by_code(code) if code.isdigit() else None
            if row is None:
                raise NotFound("Kode booking tidak ditemukan.", code="unknown_booking")
            if row["identity"] != who:
                raise Forbidden("Booking ini bukan milik nomor yang Anda konfirmasi.", code="not_your_booking")
            if row["state"] != "booked" or not await w.q.set_booking_state(row["id"], "booked", "cancelled", w.now):
                raise Conflict("Booking ini tidak dapat dibatalkan lagi (sudah check-in, batal atau kedaluwarsa).",
                               code="booking_not_open")
            row = await w.q.booking_by_code(code)
        assert row is not None
        return await self._view(row)

    # --- tickets: from home today, and at check-in -----------------------------------------------
    async def take_remote(self, identity: str, service_code: str) -> Issued:
        """Today's number taken from home, within the online share; it is called like any ticket and
        the turn alerts go to the identity's phone or chat."""
        service = self.service(service_code)
        config = self.writer.config
        if service.online.booking == "off":
            raise Unprocessable(f"Layanan {service.name} tidak menerima antrean daring.", code="booking_off")
        now_local = self.writer.local_now()
        rules.check_open_day(config, now_local.date())
        if not rules.open_now(config, now_local.date(), now_local.time()):
            hours = config.days.hours_on(now_local.date())
            raise Conflict(f"Antrean daring hari ini hanya pada jam buka ({hours.text if hours else '-'}).",
                           code="service_closed")
        who = await self.verifier.pseudonym(identity)
        async with self.writer.write(issuing=True) as w:
            await self._check_limits(w, who, service, date.fromisoformat(w.day))
            await self._check_share(w, service, w.day)
            issued = await self._issue(w, service, who, identity, "remote", None, None)
        return issued

    async def check_in(self, code: str, kiosk: str | None = None) -> dict[str, Any]:
        """A booking checked in at the hall becomes a ticket (rules.check_in_place says where)."""
        config = self.writer.config
        printer = None
        if kiosk is not None:
            station = config.kiosk(kiosk)
            if station is None:
                raise Unprocessable(f"Kios '{kiosk}' tidak dikenal.", code="unknown_kiosk")
            printer = station.printer
        async with self.writer.write(issuing=True) as w:
            row = await w.q.booking_by_code(code) if code.isdigit() else None
            if row is None or row["kind"] != "slot":
                raise NotFound("Kode booking tidak ditemukan. Periksa kembali kodenya.", code="unknown_booking")
            if row["state"] != "booked":
                raise Conflict(_not_open(row["state"]), code="booking_not_open")
            if row["day"] != w.day:
                raise Conflict(f"Booking ini untuk {rules.weekday_text(date.fromisoformat(row['day']))}, "
                               f"bukan hari ini.", code="not_today")
            early = config.booking.check_in_early_minutes
            if w.now < row["slot_start"] - early * 60:
                raise Conflict(f"Terlalu awal: check-in dibuka {early} menit sebelum jadwal {row['slot_label']}.",
                               code="too_early")
            service = self.service(row["service"])
            place = rules.check_in_place(row["slot_start"], w.now, config.booking.grace_minutes)
            ticket, view = await self._issue(w, service, row["identity"], row["contact"], "slot", place, printer,
                                             booking=row)
        result = await self._view({**row, "state": "checked_in", "ticket_id": ticket.id})
        result["ticket_view"] = view
        result["late"] = place is None
        return result

    async def _issue(self, w: Work, service: Service, who: str, contact: str | None, kind: str,
                     place: float | None, printer: str | None, booking: dict[str, Any] | None = None) -> Issued:
        take = Take(service.code, False, None, None, None, printer, asyncio.get_running_loop().create_future(),
                    origin=kind, place=place)
        ticket, view = await self.queue.issuer.issue_in(w, take)
        if booking is None:
            booking = await w.q.add_booking(code=await self._new_code(w), kind=kind, service=service.code, day=w.day,
                                            slot_start=None, slot_label=None, identity=who, contact=contact,
                                            state="booked", at=w.now)
        if not await w.q.set_booking_state(booking["id"], "booked", "checked_in", w.now, ticket.id):
            raise Conflict("Booking ini sudah dipakai.", code="booking_not_open")
        channel, address = channel_of(contact or "")
        if channel in ("sms", "telegram") and await w.q.subscribe(ticket.id, channel, address, w.now):
            w.change("subscribed", ticket, channel=channel, address=address)
            w.moved.add(service.code)
        if place is not None:
            w.moved.add(service.code)  # it joined ahead of others: their places changed
        await self.queue.loads.changed(w, service.code, moved=place is not None)
        self._remember(w.day, ticket.id, kind)
        view["origin"] = ORIGINS[kind]
        view["booking_code"] = booking["code"]
        return ticket, view


def _not_open(state: str) -> str:
    return {"checked_in": "Booking ini sudah check-in; lihat nomor antrean Anda.",
            "cancelled": "Booking ini sudah dibatalkan.",
            "expired": "Booking ini sudah kedaluwarsa."}.get(state, "Booking ini tidak berlaku.")
