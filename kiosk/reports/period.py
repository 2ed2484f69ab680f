"""Report ranges: the hall's local days from one date to another, checked, and the page's presets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.queue.errors import Unprocessable
from kiosk.storage.base import DayRange

MAX_DAYS = 366
GROUPINGS = ("service", "agency", "counter", "officer", "day", "hour")
PRESETS = {"today": "Hari ini", "week": "Minggu ini", "month": "Bulan ini", "custom": "Pilih tanggal"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def parse_day(text: str | None, name: str, default: date) -> date:
    """A YYYY-MM-DD query value (the default when it is left out); 422 `invalid_date` otherwise."""
    if text is None:
        return default
    if not DATE.match(text):
        raise Unprocessable(f"Tanggal '{name}' harus berformat TTTT-BB-HH, mis. 2026-03-31.", code="invalid_date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unprocessable(f"Tanggal '{name}' tidak ada di kalender: {text}.", code="invalid_date") from None


@dataclass(frozen=True)
class Period:
    """A checked range of the hall's local days."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date, last: date) -> Period:
        """The range, or 422 when it runs backwards or is longer than a year."""
        if last < first:
            raise Unprocessable("Tanggal akhir tidak boleh sebelum tanggal awal.", code="range_reversed")
        if (last - first).days + 1 > MAX_DAYS:
            raise Unprocessable(f"Rentang laporan paling panjang {MAX_DAYS} hari.", code="range_too_long")
        return cls(first, last)

    @classmethod
    def from_query(cls, start: str | None, end: str | None, today: date) -> Period:
        """`from` and `to` of a query (each defaults to today)."""
        return cls.of(parse_day(start, "from", today), parse_day(end, "to", today))

    @classmethod
    def preset(cls, name: str, today: date) -> Period:
        """Today, this week (Monday to today) or this month (the 1st to today)."""
        if name == "week":
            return cls(today - timedelta(days=today.weekday()), today)
        if name == "month":
            return cls(today.replace(day=1), today)
        return cls(today, today)

    @property
    def days(self) -> DayRange:
        """As the storage contract takes it."""
        return DayRange(self.first.isoformat(), self.last.isoformat())

    @property
    def length(self) -> int:
        """How many days."""
        return (self.last - self.first).days + 1

    def text(self) -> str:
        """The range in Indonesian, e.g. '1–31 Maret 2026' or '25 November 2026'."""
        if self.first == self.last:
            return long_date(self.first)
        if (self.first.year, self.first.month) == (self.last.year, self.last.month):
            return f"{self.first.day}–{self.last.day} {MONTHS[self.last.month - 1]} {self.last.year}"
        return f"{long_date(self.first)} – {long_date(self.last)}"


def long_date(day: date) -> str:
    """'25 November 2026'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def day_label(day: date) -> str:
    """'Rabu, 25 November 2026'."""
    return f"{WEEKDAYS[day.weekday()]}, {long_date(day)}"


def check_grouping(by: str | None) -> str:
    """The grouping asked for (service when left out); 422 `invalid_grouping` otherwise."""
    by = by or "service"
    if by not in GROUPINGS:
        raise Unprocessable(f"Pengelompokan '{by}' tidak dikenal; pilih {', '.join(GROUPINGS)}.",
                            code="invalid_grouping")
    return by
