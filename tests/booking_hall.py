"""A test hall with the online queue on: weekday hours with a Friday prayer break, Saturday and
Sunday closed, a holiday, and service A taking numbers online."""

from __future__ import annotations

from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.parse import parse_hall
from tests.conftest import hall_dict

WEEK = {"monday": "08:00-12:00, 13:00-15:00", "tuesday": "08:00-12:00, 13:00-15:00",
        "wednesday": "08:00-12:00, 13:00-15:00", "thursday": "08:00-12:00, 13:00-15:00",
        "friday": "08:00-11:30, 13:00-15:30", "saturday": "tutup", "sunday": ""}


def booking_doc(**service_a: Any) -> dict[str, Any]:
    """The hall: A has a quota of 10, 4 of them online, slots of 30 minutes for 2 people."""
    doc = hall_dict()
    doc["services"][0] = {"code": "A", "name": "KTP Elektronik", "agency": "DUKCAPIL", "daily_quota": 10,
                          "remote_share": 4, "booking": "days_ahead", "slot_minutes": 30, "slot_capacity": 2,
                          "booking_days": 7, "booking_opens": "06:00", **service_a}
    doc["week"] = dict(WEEK)
    doc["holidays"] = [{"date": "2026-12-25", "name": "Hari Raya Natal"},
                       {"date": "2026-12-24", "name": "Cuti Bersama Hari Raya Natal"}]
    doc["booking"] = {"per_day": 1, "per_week": 2, "grace_minutes": 15, "check_in_early_minutes": 120}
    return doc


def booking_hall(**service_a: Any) -> HallConfig:
    """`booking_doc` checked."""
    return parse_hall(booking_doc(**service_a), "booking-hall.toml")
