"""The hall's days and online keys: checked with clear messages, slots cut from weekday hours."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.booking import rules
from kiosk.hall.config import ConfigError
from kiosk.hall.parse import parse_hall
from kiosk.web.appkeys import QUEUE
from tests.booking_hall import booking_doc, booking_hall


def test_days_and_online_keys_are_read() -> None:
    config = booking_hall()
    a = config.service("A")
    assert a is not None and a.online.remote_share == 4 and a.online.booking == "days_ahead"
    assert rules.walk_in_part(a) == 6  # with the online part: exactly the daily quota
    assert config.days.closed(date(2026, 11, 28)) == "Layanan tutup setiap hari Sabtu."  # Saturday
    assert "Hari Raya Natal" in (config.days.closed(date(2026, 12, 25)) or "")
    assert config.days.closed(date(2026, 11, 27)) is None  # a Friday


def test_slots_follow_weekday_hours_and_friday_prayer_break() -> None:
    config = booking_hall()
    a = config.service("A")
    assert a is not None
    wednesday = [s.label for s in rules.day_slots(config, a, date(2026, 11, 25))]
    assert wednesday[:3] == ["08:00", "08:30", "09:00"] and "12:00" not in wednesday and "13:00" in wednesday
    assert wednesday[-1] == "14:30" and len(wednesday) == 12
    friday = [s.label for s in rules.day_slots(config, a, date(2026, 11, 27))]
    assert "11:00" in friday and "11:30" not in friday and "12:30" not in friday and friday[-1] == "15:00"
    assert rules.day_slots(config, a, date(2026, 11, 28)) == []  # Saturday closed
    assert rules.day_slots(config, a, date(2026, 12, 25)) == []  # holiday


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"remote_share": 11}, "remote_share", "at most daily_quota"),
    ({"booking": "kadang"}, "booking", "must be one of"),
    ({"remote_share": 0}, "remote_share", "at least 1 when booking is on"),
    ({"slot_minutes": 2}, "slot_minutes", "between"),
    ({"booking_opens": "25:00"}, "booking_opens", "not a time"),
])
def test_wrong_online_keys_are_named(change: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        booking_hall(**change)
    assert err.value.key == key and words in str(err.value)


def test_wrong_days_are_named() -> None:
    doc = booking_doc()
    doc["week"]["friday"] = "08:00-11:30, 13:00-12:00"
    with pytest.raises(ConfigError) as err:
        parse_hall(doc)
    assert err.value.key == "friday"
    doc = booking_doc()
    doc["holidays"].append({"date": "2026-13-01", "name": "X"})
    with pytest.raises(ConfigError) as err:
        parse_hall(doc)
    assert err.value.key == "date"
    doc = booking_doc()
    doc["holidays"].append({"date": "2026-12-25", "name": "lagi"})
    with pytest.raises(ConfigError, match="listed twice"):
        parse_hall(doc)


def test_the_demo_hall_ships_the_national_holidays() -> None:
    from kiosk.hall.config import DEMO_HALL
    from kiosk.hall.parse import load_hall
    config = load_hall(DEMO_HALL)
    assert config.days.holiday(date(2026, 8, 17)) is not None
    assert config.days.holiday(date(2027, 3, 10)) is not None  # Idul Fitri 2027 (estimated)
    assert len([h for h in config.days.holidays if h.date.year == 2026]) == 25


async def test_admins_edit_the_online_keys_with_indonesian_messages(client, admin) -> None:
    resp = await client.put("/api/admin/services/A", headers=admin,
                            json={"booking": "days_ahead", "remote_share": 9, "slot_capacity": 3})
    assert resp.status == 422
    message = (await resp.json())["error"]["message"]
    assert "Kuota daring" in message and "paling banyak sebesar kuota harian (5)" in message
    resp = await client.put("/api/admin/services/A", headers=admin,
                            json={"booking": "days_ahead", "remote_share": 2, "slot_capacity": 3})
    assert resp.status == 200, await resp.text()
    config = client.server.app[QUEUE].config
    assert config.service("A").online.remote_share == 2
    resp = await client.put("/api/admin/week", headers=admin, json={"friday": "08:00-11:30, 13:00-12:00",
                                                                   "saturday": "tutup"})
    assert resp.status == 422 and "Jumat" in (await resp.json())["error"]["message"]
    resp = await client.post("/api/admin/holidays", headers=admin, json={"date": "2026-12-25", "name": "Natal"})
    assert resp.status in (200, 201), await resp.text()
    assert client.server.app[QUEUE].config.days.holiday(date(2026, 12, 25)) is not None
    resp = await client.post("/api/admin/holidays", headers=admin, json={"date": "25-12-2026", "name": "X"})
    assert resp.status == 422 and "bukan tanggal" in (await resp.json())["error"]["message"]
    page = await client.get("/admin/holidays", headers=admin)
    assert page.status == 200
