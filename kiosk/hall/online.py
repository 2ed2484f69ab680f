"""The hall's days and online queue as checked data: hours per weekday, holidays, each service's
online part and the `[booking]` rules (parsed in kiosk/hall/booking.py; docs/booking.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.hall.config import Hours

WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@dataclass(frozen=True)
class ServiceOnline:
    """A service's online part: numbers taken from home today and appointments on later days."""

    remote_share: int = 0  # of daily_quota: numbers taken online (remote today + bookings of that day)
    booking: str = "off"  # off: no online numbers; same_day: today only; days_ahead: today and later days
    slot_minutes: int = 30
    slot_capacity: int = 4
    booking_days: int = 7  # how many days ahead a booking may be made
    booking_opens: time = time(0, 0)  # from this local hour a new day enters the window


@dataclass(frozen=True)
class Holiday:
    """A day the hall is closed (libur nasional, cuti bersama, a local closure)."""

    date: date
    name: str


@dataclass(frozen=True)
class BookingRules:
    """How online numbers and bookings behave in this hall (the `[booking]` section)."""

    check_in_early_minutes: int = 120  # a booking may be checked in this long before its slot
    grace_minutes: int = 15  # checked in up to this long after its slot starts: keeps its slot's place
    code_minutes: int = 5  # a one-time code is valid this long
    code_attempts: int = 5  # wrong tries before a code is void
    codes_per_hour: int = 3  # codes sent to one phone per hour
    identity_hours: int = 2  # a confirmed phone stays confirmed this long on that device
    per_day: int = 1  # online numbers (bookings and remote tickets) per identity, service and day
    per_week: int = 3  # ... per identity, service and week (Monday to Sunday)
    per_address_per_hour: int = 600  # flood backstop per client address (carrier NAT: keep it generous)
    reminder_day_before: time = time(16, 0)  # local hour of the day before when the first reminder goes
    reminder_minutes_before: int = 60


@dataclass(frozen=True)
class HallDays:
    """Opening hours per weekday (None: no weekly hours, open every day) and the holidays."""

    week: tuple[Hours | None, ...] | None = None  # Monday first; None entry: closed that weekday
    holidays: tuple[Holiday, ...] = ()

    def holiday(self, day: date) -> Holiday | None:
        """The holiday on this date, if any."""
        return next((h for h in self.holidays if h.date == day), None)

    def hours_on(self, day: date) -> Hours | None:
        """The hall's hours that day (None: closed or no weekly hours set: see `closed`)."""
        return None if self.week is None else self.week[day.weekday()]

    def closed(self, day: date) -> str | None:
        """Why the hall is closed that day (an Indonesian sentence), or None when open."""
        holiday = self.holiday(day)
        if holiday is not None:
            return f"{_date_text(day)} adalah hari libur ({holiday.name}); layanan tutup."
        if self.week is not None and self.week[day.weekday()] is None:
            return f"Layanan tutup setiap hari {WEEKDAY_NAMES[day.weekday()]}."
        return None


def _date_text(day: date) -> str:
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.isoformat()}"
