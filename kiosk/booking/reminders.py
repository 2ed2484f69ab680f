"""Reminders of bookings through the outbox: the day before (from `[booking] reminder_day_before`)
and shortly before the slot (`reminder_minutes_before`). Each is written once: the booking's
mark and the outbox row (with a unique key) in one transaction. Bookings never checked in
expire when their day is over (docs/booking.md)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

from kiosk.booking import rules
from kiosk.booking.service import BookingService, channel_of

log = logging.getLogger(__name__)
EVERY_S = 60.0


async def send_reminders(bookings: BookingService) -> int:
    """One pass: queue the reminders due now; returns how many were queued."""
    writer = bookings.writer
    config = writer.config
    rules_ = config.booking
    now = writer.clock.now()
    local = writer.local_now()
    due: list[tuple[dict[str, object], str]] = []
    if local.time() >= rules_.reminder_day_before:
        tomorrow = (local.date() + timedelta(days=1)).isoformat()
        due += [(row, "day") for row in await writer.store.reads.day_reminders_due(tomorrow)]
    soon = now + rules_.reminder_minutes_before * 60
    due += [(row, "hour") for row in await writer.store.reads.hour_reminders_due(now, soon)]
    queued = 0
    for row, which in due:
        service = config.service(str(row["service"]))
        name = service.name if service else str(row["service"])
        day = rules.weekday_text(date.fromisoformat(str(row["day"])))
        when = "besok" if which == "day" else "sebentar lagi"
        text = (f"Pengingat: booking {name} {when}, {day} pukul {row['slot_label']}. Kode: {row['code']}. "
                f"Ketik kode di kios saat tiba.")
        channel, address = channel_of(str(row["contact"]))
        async with writer.write() as w:
            if not await w.q.mark_reminded(int(str(row["id"])), which):
                continue  # another pass queued it
            await w.q.enqueue_message(ticket_id=None, stage=f"reminder_{which}", channel=channel, address=address,
                                      text=text, key=f"booking:{row['id']}:{which}", at=w.now)
            w.notify("alert.queued", {"channel": channel})
        queued += 1
    return queued


async def expire_bookings(bookings: BookingService) -> int:
    """Bookings of days gone by that were never checked in: expired (also done at a new day's first write)."""
    async with bookings.writer.write() as w:
        return await w.q.expire_bookings(w.day, w.now)


async def run(bookings: BookingService, every_s: float = EVERY_S) -> None:
    """The reminder loop (a task of the web app)."""
    day = None
    while True:
        try:
            await send_reminders(bookings)
            if day != bookings.writer.today():  # once a day (a new day's first write does it too)
                await expire_bookings(bookings)
                day = bookings.writer.today()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("booking reminders: a pass failed; trying again in %.0f s", every_s)
        await asyncio.sleep(every_s)
