"""Indonesian words for dates and durations."""

from __future__ import annotations

from datetime import datetime

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


def format_date(dt: datetime) -> str:
    """'Rabu, 25 November 2026'."""
    return f"{DAYS[dt.weekday()]}, {dt.day} {MONTHS[dt.month - 1]} {dt.year}"


def format_datetime(dt: datetime) -> str:
    """'Rabu, 25 November 2026 pukul 10.42 WIB' (Indonesian writes times with a dot)."""
    zone = dt.tzname() or ""
    zone = "" if zone.startswith(("+", "-")) else f" {zone}"
    return f"{format_date(dt)} pukul {dt:%H.%M}{zone}"


UNKNOWN_WAIT = "belum dapat diperkirakan"


def format_wait(seconds: int | None) -> str:
    """'kurang dari 1 menit', 'sekitar 12 menit', 'sekitar 1 jam 5 menit'; 'belum dapat diperkirakan'
    for None (no counter works the service now)."""
    if seconds is None:
        return UNKNOWN_WAIT
    minutes = round(seconds / 60)
    if minutes < 1:
        return "kurang dari 1 menit"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"sekitar {minutes} menit"
    return f"sekitar {hours} jam" + (f" {rest} menit" if rest else "")
