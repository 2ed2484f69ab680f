"""The hall file: the demo loads, and wrong files name the file, the entry and the key."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.hall.config import DEMO_HALL, ConfigError
from kiosk.hall.parse import load_hall, parse_hall
from tests.conftest import hall_dict

ROOT = Path(__file__).resolve().parent.parent


def test_bundled_demo_is_a_realistic_mpp():
    config = load_hall(ROOT / "examples" / "mpp-purwakarta.toml")
    assert config.hall.name == "Mal Pelayanan Publik Kabupaten Purwakarta"
    assert len(config.agencies) >= 20
    assert len(config.services) >= 100, "the MPP's planned size"
    assert 40 <= len(config.counters) <= 60
    assert {"DUKCAPIL", "DPMPTSP", "ATRBPN", "IMIGRASI", "SAMSAT", "POLRES", "BPJSKES", "BPJSTK", "PDAM", "PA",
            "KEMENAG", "KPP", "PLN", "TASPEN", "BJB", "KEJARI", "DISNAKER", "DINKES"} <= {a.code for a in config.agencies}
    assert all(config.counters_for(s.code) for s in config.services), "every service has a counter"
    assert all(any(s.agency == a.code for s in config.services) for a in config.agencies), "no empty agency"
    # Two floors, each with its zones; every counter is somewhere, in a zone smaller than its floor.
    floors = [config.zone("lantai1"), config.zone("lantai2")]
    assert all(floors) and set(floors[0].counters) | set(floors[1].counters) == {c.id for c in config.counters}
    assert all(config.zone_of_counter(c.id).id.startswith("zona-") for c in config.counters)
    assert len({a.icon for a in config.agencies}) == len(config.agencies), "a pictogram of its own per agency"
    assert sum(1 for s in config.services if s.daily_quota) >= 10 and sum(1 for s in config.services if s.hours) >= 20
    assert config.search.synonyms and config.tickets.late_print == "drop"
    assert replace(load_hall(DEMO_HALL), source=config.source) == config, "examples/ points at the bundled demo"


def _error(doc, source="hall.toml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_hall(doc, source)
    return str(info.value)


def _with(path: str, value, *, delete: bool = False):
    doc = copy.deepcopy(hall_dict())
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if delete:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("counters.0.services", ["A", "X"], "counters[0] (id '1'), key 'services': unknown service 'X'"),
    ("services.1.code", "A", "services[1] (code 'A'), key 'code': duplicate service code 'A'"),
    ("services.0.hours", "8-15", "services[0] (code 'A'), key 'hours': '8-15' is not HH:MM-HH:MM"),
    ("services.0.hours", "15:00-08:00", "key 'hours': '15:00-08:00' ends before it starts"),
    ("services.0.hours", "25:00-26:00", "key 'hours': '25:00-26:00' is not a time of day"),
    ("hall.timezone", "Asia/Jakartaa", "[hall], key 'timezone': unknown time zone 'Asia/Jakartaa'"),
    ("services.0.code", "abc", "key 'code': 'abc' must be 1-2 capital letters"),
    ("services.0.agency", "NOPE", "services[0] (code 'A'), key 'agency': unknown agency 'NOPE'"),
    ("services.0.daily_quota", 0, "key 'daily_quota': must be at least 1"),
    ("services.0.daily_quota", "lots", "key 'daily_quota': must be a whole number, not 'lots'"),
    ("counters.1.id", "1", "counters[1] (id '1'), key 'id': duplicate counter id '1'"),
    ("agencies.1.code", "DUKCAPIL", "agencies[1] (code 'DUKCAPIL'), key 'code': duplicate agency code"),
    ("hall.public_url", "hall.local", "key 'public_url': must start with http:// or https://"),
    ("queue.priority_max_in_row", 0, "[queue], key 'priority_max_in_row': must be at least 1"),
    ("services.0.colour", "red", "services[0] (code 'A'), key 'colour': is not a known key"),
])
def test_wrong_values_are_named(path, value, expected):
    message = _error(_with(path, value))
    assert message.startswith("hall.toml: ")
    assert expected in message


def test_missing_keys_are_named():
    assert "hall.toml: [hall], key 'name': is missing" in _error(_with("hall.name", None, delete=True))
    assert "services[2] (code 'P'), key 'name': is missing" in _error(_with("services.2.name", None, delete=True))
    assert "top level, key 'counters': is missing" in _error(_with("counters", None, delete=True))


def test_file_level_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=f"^{missing}: file not found"):
        load_hall(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[hall\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{broken}: not valid TOML"):
        load_hall(broken)


def test_hours_windows():
    config = parse_hall(_with("services.0.hours", "08:00-12:00, 13:00-15:30"))
    hours = config.service("A").hours
    from datetime import time
    assert hours.is_open(time(8, 0)) and hours.is_open(time(15, 29))
    assert not hours.is_open(time(12, 30)) and not hours.is_open(time(15, 30)) and not hours.is_open(time(7, 59))


def test_whatsapp_sms_and_deferral_keys_are_checked():
    cloud = {"provider": "cloud", "number": "+62 811-0000-1111", "phone_number_id": "106540352242922",
             "templates": {"called": "antrean_dipanggil"}}
    config = parse_hall(hall_dict(whatsapp=cloud, queue={"defer_places": 3},
                                  sms={"provider": "gammu", "gammu_config": "/etc/gammu-hall",
                                       "gammu_inbox": "/var/spool/gammu/inbox/"}))
    assert config.whatsapp.number == "6281100001111" and config.whatsapp.templates == {"called": "antrean_dipanggil"}
    assert config.whatsapp.api_version == "v23.0" and config.whatsapp.language == "id"
    assert config.queue.defer_places == 3 and parse_hall(hall_dict()).queue.defer_places == 2
    assert config.sms.gammu_config == "/etc/gammu-hall" and config.sms.gammu_inbox == "/var/spool/gammu/inbox/"
    assert "[whatsapp], key 'number': is needed" in _error(hall_dict(whatsapp={"provider": "fonnte"}))
    assert "key 'phone_number_id': is needed" in _error(hall_dict(whatsapp={k: v for k, v in cloud.items()
                                                                             if k != "phone_number_id"}))
    assert "key 'base_url': is needed for Wablas" in _error(hall_dict(whatsapp={"provider": "wablas", "number": "628111"
                                                                                                        "1111111"}))
    assert "unknown stage 'hello'" in _error(hall_dict(whatsapp=cloud | {"templates": {"hello": "x"}}))
    assert "lowercase letters" in _error(hall_dict(whatsapp=cloud | {"templates": {"called": "Antrean Dipanggil"}}))
    assert "'provider'" in _error(hall_dict(whatsapp={"provider": "twilio"}))
    assert "defer_places" in _error(hall_dict(queue={"defer_places": -1}))
    assert "key 'path': must start with '/'" in _error(hall_dict(sms={"provider": "smsgate", "base_url": "http://h",
                                                                  "path": "messages"}))
