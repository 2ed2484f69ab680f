"""Checking the hall's days and online queue: `[week]` (hours per weekday), `[[holidays]]`, each
service's online keys (`remote_share`, `booking`, slots, booking window) and `[booking]`
(docs/booking.md). The checked data is in kiosk/hall/online.py; kiosk/booking/ applies it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from kiosk.hall.config import Hours
from kiosk.hall.online import BookingRules, HallDays, Holiday, ServiceOnline
from kiosk.hall.reader import Reader

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BOOKING_MODES = ("off", "same_day", "days_ahead")
CLOSED_WORDS = ("", "tutup", "closed")
HHMM = re.compile(r"^(\d{2}):(\d{2})$")
SERVICE_BOOKING_KEYS = {"remote_share", "booking", "slot_minutes", "slot_capacity", "booking_days",
                        "booking_opens"}


def parse_days(r: Reader, holidays: list[Any], parse_hours: Callable[[str], Hours]) -> HallDays:
    """The `[week]` section (hours per weekday) and the `[[holidays]]` entries."""
    week: tuple[Hours | None, ...] | None = None
    if r.table:
        r.unknown_keys(set(WEEKDAYS))
        days: list[Hours | None] = []
        for name in WEEKDAYS:
            text = r.get(name, str, "")
            if text.strip().lower() in CLOSED_WORDS:
                days.append(None)
                continue
            try:
                days.append(parse_hours(text))
            except ValueError as exc:
                r.fail(name, str(exc))
        week = tuple(days)
    found: list[Holiday] = []
    for i, entry in enumerate(holidays):
        h = Reader(r.source, f"holidays[{i}]", entry)
        h.unknown_keys({"date", "name"})
        raw = h.get("date", str, required=True)
        try:
            when = date.fromisoformat(raw)
        except ValueError:
            h.fail("date", f"'{raw}' is not a date YYYY-MM-DD")
        if any(x.date == when for x in found):
            h.fail("date", f"{when.isoformat()} is listed twice")
        found.append(Holiday(when, h.name("name")))
    return HallDays(week=week, holidays=tuple(sorted(found, key=lambda x: x.date)))


def parse_service_online(r: Reader, daily_quota: int | None) -> ServiceOnline:
    """A service's online keys (in its `[[services]]` entry)."""
    mode = r.text("booking", "off")
    if mode not in BOOKING_MODES:
        r.fail("booking", f"must be one of {', '.join(BOOKING_MODES)}, not '{mode}'")
    share = r.whole("remote_share", 0, 0, 100000)
    if share and daily_quota is None:
        r.fail("remote_share", "needs a daily_quota (the online part is a part of it)")
    if daily_quota is not None and share > daily_quota:
        r.fail("remote_share", f"must be at most daily_quota ({daily_quota})")
    if mode != "off" and not share:
        r.fail("remote_share", "must be at least 1 when booking is on (the numbers taken online)")
    minutes = r.whole("slot_minutes", ServiceOnline.slot_minutes, 5, 240)
    capacity = r.whole("slot_capacity", ServiceOnline.slot_capacity, 1, 1000)
    days = r.whole("booking_days", ServiceOnline.booking_days, 1, 90)
    opens_text = r.text("booking_opens", "00:00")
    m = HHMM.match(opens_text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        r.fail("booking_opens", f"'{opens_text}' is not a time HH:MM")
    return ServiceOnline(remote_share=share, booking=mode, slot_minutes=minutes, slot_capacity=capacity,
                         booking_days=days, booking_opens=time(int(m.group(1)), int(m.group(2))))


BOOKING_KEYS = {"check_in_early_minutes", "grace_minutes", "code_minutes", "code_attempts", "codes_per_hour",
                "identity_hours", "per_day", "per_week", "per_address_per_hour", "reminder_day_before",
                "reminder_minutes_before"}


def parse_booking_rules(r: Reader) -> BookingRules:
    """The `[booking]` section."""
    r.unknown_keys(BOOKING_KEYS)
    reminder = r.text("reminder_day_before", "16:00")
    m = HHMM.match(reminder)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        r.fail("reminder_day_before", f"'{reminder}' is not a time HH:MM")
    per_day = r.whole("per_day", BookingRules.per_day, 1, 20)
    per_week = r.whole("per_week", BookingRules.per_week, 1, 100)
    if per_week < per_day:
        r.fail("per_week", f"must be at least per_day ({per_day})")
    return BookingRules(
        check_in_early_minutes=r.whole("check_in_early_minutes", BookingRules.check_in_early_minutes, 0, 720),
        grace_minutes=r.whole("grace_minutes", BookingRules.grace_minutes, 0, 240),
        code_minutes=r.whole("code_minutes", BookingRules.code_minutes, 1, 60),
        code_attempts=r.whole("code_attempts", BookingRules.code_attempts, 1, 20),
        codes_per_hour=r.whole("codes_per_hour", BookingRules.codes_per_hour, 1, 60),
        identity_hours=r.whole("identity_hours", BookingRules.identity_hours, 1, 72),
        per_day=per_day, per_week=per_week,
        per_address_per_hour=r.whole("per_address_per_hour", BookingRules.per_address_per_hour, 10, 10**7),
        reminder_day_before=time(int(m.group(1)), int(m.group(2))),
        reminder_minutes_before=r.whole("reminder_minutes_before", BookingRules.reminder_minutes_before, 5, 720),
    )


def slot_starts(hours: Hours, minutes: int) -> list[time]:
    """The starts of the slots of `minutes` that fit wholly inside the day's windows."""
    starts: list[time] = []
    base = datetime(2000, 1, 1)
    for begin, end in hours.windows:
        at = datetime.combine(base, begin)
        stop = datetime.combine(base, end) if end != time.max else base + timedelta(days=1)
        while at + timedelta(minutes=minutes) <= stop:
            starts.append(at.time())
            at += timedelta(minutes=minutes)
    return starts

