"""The online queue's rules as plain functions of the hall and the time (no I/O): which days are
open, the slots of a day, the booking window, the walk-in part of a quota and a booking's place
in the queue at check-in (docs/booking.md, "the rules")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.hall.booking import slot_starts
from kiosk.hall.config import HallConfig, Hours, Service
from kiosk.hall.online import WEEKDAY_NAMES
from kiosk.hall.parse import parse_hours
from kiosk.queue.errors import Conflict, Unprocessable

DEFAULT_HOURS = "08:00-15:00"  # slots of a service with no hours, in a hall with no [week]


@dataclass(frozen=True)
class Slot:
    """One appointment slot of a service on a day."""

    start: float  # epoch seconds
    label: str  # "09:30"
    capacity: int


def closed_reason(config: HallConfig, day: date) -> str | None:
    """Why the hall is closed that day (holiday, weekday closed), or None."""
    return config.days.closed(day)


def check_open_day(config: HallConfig, day: date) -> None:
    """409 `closed_day` when the hall is closed that day."""
    reason = closed_reason(config, day)
    if reason is not None:
        raise Conflict(reason, code="closed_day")


def open_now(config: HallConfig, day: date, local: time) -> bool:
    """Whether the hall's hours of that weekday (if it has any) are running at `local`."""
    hours = config.days.hours_on(day)
    return config.days.week is None or (hours is not None and hours.is_open(local))


def service_hours(config: HallConfig, service: Service, day: date) -> Hours | None:
    """The windows slots are cut from: the weekday's hours, narrowed to the service's own hours."""
    week = config.days.hours_on(day) if config.days.week is not None else parse_hours(DEFAULT_HOURS)
    if week is None:
        return None
    if service.hours is None:
        return week
    windows = []
    for a_start, a_end in week.windows:
        for b_start, b_end in service.hours.windows:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                windows.append((start, end))
    return Hours(tuple(windows), ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in windows)) if windows else None


def day_slots(config: HallConfig, service: Service, day: date) -> list[Slot]:
    """The slots of a service on a day (none on a closed day)."""
    if closed_reason(config, day) is not None:
        return []
    hours = service_hours(config, service, day)
    if hours is None:
        return []
    tz = ZoneInfo(config.hall.timezone)
    online = service.online
    return [Slot(datetime.combine(day, start, tz).timestamp(), f"{start:%H:%M}", online.slot_capacity)
            for start in slot_starts(hours, online.slot_minutes)]


def bookable_days(config: HallConfig, service: Service, now_local: datetime) -> tuple[date, date]:
    """The first and last day a booking may be made for now: today (same_day or days_ahead), up to
    `booking_days` ahead, the last day entering the window at `booking_opens`."""
    online = service.online
    today = now_local.date()
    if online.booking == "same_day":
        return today, today
    ahead = online.booking_days if now_local.time() >= online.booking_opens else online.booking_days - 1
    return today, today + timedelta(days=max(0, ahead))


def check_window(config: HallConfig, service: Service, day: date, now_local: datetime) -> None:
    """422 `booking_closed` when the service takes no bookings, or the day is outside the window."""
    if service.online.booking == "off":
        raise Unprocessable(f"Layanan {service.name} tidak menerima antrean daring.", code="booking_off")
    first, last = bookable_days(config, service, now_local)
    if not first <= day <= last:
        raise Unprocessable(
            f"Tanggal {day.isoformat()} di luar masa pemesanan layanan {service.name} "
            f"({first.isoformat()} sampai {last.isoformat()}; hari baru dibuka pukul "
            f"{service.online.booking_opens:%H:%M}).", code="outside_window")


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week holding `day` (the weekly limit's span)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def walk_in_part(service: Service) -> int | None:
    """The part of a service's daily quota kept for people who come in person (None: no quota).
    With the online part (`remote_share`) it adds up to `daily_quota` exactly."""
    if service.daily_quota is None:
        return None
    return service.daily_quota - service.online.remote_share


def check_in_place(slot_start: float, now: float, grace_minutes: int) -> float | None:
    """A booking's place in its queue when checked in at `now`: its slot's start while it is not
    later than the grace period after it (ahead of walk-ins who came after that time, behind those
    who came before); None when later: it joins at the back like a walk-in."""
    return slot_start if now <= slot_start + grace_minutes * 60 else None


def weekday_text(day: date) -> str:
    """'Senin 2026-12-07'."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.isoformat()}"
