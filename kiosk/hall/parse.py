"""Parsing a hall document (TOML from a file, or JSON from the database) into a checked `HallConfig`.

One function per section; each names the file, the entry and the key of a problem. The sections
the reacting rooms read (printers, kiosks, tickets, zones, display, alerts, SMS) are in rooms.py.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.hall.booking import SERVICE_BOOKING_KEYS, parse_booking_rules, parse_days, parse_service_online
from kiosk.hall.config import (
    AGENCY_CODE,
    COUNTER_ID,
    DEFAULT_HALL_ID,
    HALL_ID,
    HOURS_RANGE,
    PICTOGRAMS,
    SERVICE_CODE,
    Agency,
    ConfigError,
    Counter,
    HallConfig,
    HallInfo,
    Hours,
    Limits,
    QueueRules,
    Service,
)
from kiosk.hall.reader import MAX_NAME, Reader
from kiosk.hall.rooms import (
    parse_alerts,
    parse_display,
    parse_kiosks,
    parse_printers,
    parse_search,
    parse_sms,
    parse_tickets,
    parse_whatsapp,
    parse_zones,
)
from kiosk.hall.survey_parse import parse_survey

SECTIONS = {"hall", "agencies", "services", "counters", "queue", "limits", "printers", "kiosks", "tickets", "zones",
            "display", "alerts", "sms", "whatsapp", "search", "week", "holidays", "booking", "survey"}


def load_hall(path: str | Path) -> HallConfig:
    """Read and check a hall file; raises ConfigError naming file, entry and key."""
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not a hall file: values nested too deeply") from None
    return parse_hall(raw, source)


def parse_hall(raw: dict[str, Any], source: str = "<hall>") -> HallConfig:
    """Check a parsed hall document; raises ConfigError naming file, entry and key."""
    top = Reader(source, "top level", raw)
    top.unknown_keys(SECTIONS)
    hall = _hall_info(Reader(source, "[hall]", top.get("hall", dict, required=True)))
    agencies = _agencies(top)
    services = _services(top, {a.code for a in agencies})
    counters = _counters(top, {s.code for s in services})
    queue = _queue_rules(Reader(source, "[queue]", top.get("queue", dict, {})))
    limits = _limits(Reader(source, "[limits]", top.get("limits", dict, {})))
    printers = parse_printers(source, top.entries("printers"))
    return HallConfig(
        source=source,
        raw=json.loads(json.dumps(raw)),
        hall=hall,
        agencies=agencies,
        services=services,
        counters=counters,
        queue=queue,
        limits=limits,
        printers=printers,
        kiosks=parse_kiosks(source, top.entries("kiosks"), printers),
        tickets=parse_tickets(Reader(source, "[tickets]", top.get("tickets", dict, {}))),
        zones=parse_zones(source, top.entries("zones"), agencies, services, counters),
        display=parse_display(Reader(source, "[display]", top.get("display", dict, {}))),
        alerts=parse_alerts(Reader(source, "[alerts]", top.get("alerts", dict, {}))),
        sms=parse_sms(Reader(source, "[sms]", top.get("sms", dict, {}))),
        whatsapp=parse_whatsapp(Reader(source, "[whatsapp]", top.get("whatsapp", dict, {}))),
        search=parse_search(Reader(source, "[search]", top.get("search", dict, {}))),
        days=parse_days(Reader(source, "[week]", top.get("week", dict, {})), top.entries("holidays"), parse_hours),
        booking=parse_booking_rules(Reader(source, "[booking]", top.get("booking", dict, {}))),
        survey=parse_survey(Reader(source, "[survey]", top.get("survey", dict, {}))),
    )


def _hall_info(h: Reader) -> HallInfo:
    h.unknown_keys({"id", "name", "timezone", "public_url"})
    hall_id = h.text("id", DEFAULT_HALL_ID)
    if not HALL_ID.match(hall_id):
        h.fail("id", f"'{hall_id}' must be lower-case letters, digits and '-' (at most 40), e.g. 'mpp-purwakarta'")
    tz_name = h.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        h.fail("timezone", f"unknown time zone '{tz_name}' (for example 'Asia/Jakarta')")
    public_url = h.text("public_url", "http://localhost:8080").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", public_url):
        h.fail("public_url", f"must start with http:// or https://, not '{public_url}'")
    return HallInfo(name=h.name("name"), timezone=tz_name, public_url=public_url, id=hall_id)


def _agencies(top: Reader) -> tuple[Agency, ...]:
    agencies: list[Agency] = []
    for i, entry in enumerate(top.entries("agencies", required=True)):
        r = Reader(top.source, f"agencies[{i}]", entry)
        code = r.text("code")
        r.where = f"agencies[{i}] (code '{code}')"
        r.unknown_keys({"code", "name", "short_name", "icon"})
        if not AGENCY_CODE.match(code):
            r.fail("code", f"'{code}' must be letters, digits, '-' or '_' (at most 32)")
        if any(a.code == code for a in agencies):
            r.fail("code", f"duplicate agency code '{code}'")
        icon = r.text("icon", Agency.icon)
        if icon not in PICTOGRAMS:
            r.fail("icon", f"'{icon}' is not one of the pictograms: {', '.join(PICTOGRAMS)}")
        agencies.append(Agency(code=code, name=r.name("name"), short_name=r.name("short_name", None), icon=icon))
    if not agencies:
        top.fail("agencies", "at least one agency is needed")
    return tuple(agencies)


SERVICE_KEYS = {"code", "name", "agency", "daily_quota", "hours", "service_minutes", "approach_ahead",
                "approach_minutes", "target_wait_minutes", "keywords"} | SERVICE_BOOKING_KEYS


def _services(top: Reader, agency_codes: set[str]) -> tuple[Service, ...]:
    services: list[Service] = []
    for i, entry in enumerate(top.entries("services", required=True)):
        r = Reader(top.source, f"services[{i}]", entry)
        code = r.text("code")
        r.where = f"services[{i}] (code '{code}')"
        r.unknown_keys(SERVICE_KEYS)
        if not SERVICE_CODE.match(code):
            r.fail("code", f"'{code}' must be 1-2 capital letters (the ticket prefix)")
        if any(s.code == code for s in services):
            r.fail("code", f"duplicate service code '{code}'")
        services.append(_service(r, code, agency_codes))
    if not services:
        top.fail("services", "at least one service is needed")
    return tuple(services)


def _service(r: Reader, code: str, agency_codes: set[str]) -> Service:
    agency = r.text("agency")
    if agency not in agency_codes:
        r.fail("agency", f"unknown agency '{agency}'")
    quota = r.get("daily_quota", int, None)
    if quota is not None and quota < 1:
        r.fail("daily_quota", "must be at least 1 (leave it out for no quota)")
    if quota is not None and quota > 100000:
        r.fail("daily_quota", "must be at most 100000 (leave it out for no quota)")
    hours = None
    hours_text = r.text("hours", None)
    if hours_text is not None:
        try:
            hours = parse_hours(hours_text)
        except ValueError as exc:
            r.fail("hours", str(exc))
    minutes = r.number("service_minutes", None)
    if minutes is not None and not 0 < minutes <= 480:
        r.fail("service_minutes", "must be between 0 and 480")
    ahead = r.get("approach_ahead", int, None)
    if ahead is not None and not 0 <= ahead <= 100:
        r.fail("approach_ahead", "must be between 0 and 100")
    approach_minutes = r.number("approach_minutes", None)
    if approach_minutes is not None and not 0 <= approach_minutes <= 240:
        r.fail("approach_minutes", "must be between 0 and 240")
    target = r.number("target_wait_minutes", None)
    if target is not None and not 1 <= target <= 1440:
        r.fail("target_wait_minutes", "must be between 1 and 1440")
    keywords = r.get("keywords", list, [])
    if not all(isinstance(k, str) and k.strip() for k in keywords):
        r.fail("keywords", "must be a list of words (text)")
    for keyword in keywords:
        r.check_text("keywords", keyword, max_len=MAX_NAME, newlines=False)
    return Service(code=code, name=r.name("name"), agency=agency, daily_quota=quota, hours=hours,
                   service_minutes=minutes or None, approach_ahead=ahead, approach_minutes=approach_minutes,
                   target_wait_minutes=target, keywords=tuple(k.strip() for k in keywords),
                   online=parse_service_online(r, quota))


def _counters(top: Reader, service_codes: set[str]) -> tuple[Counter, ...]:
    counters: list[Counter] = []
    for i, entry in enumerate(top.entries("counters", required=True)):
        r = Reader(top.source, f"counters[{i}]", entry)
        cid = str(r.get("id", (str, int)))
        r.where = f"counters[{i}] (id '{cid}')"
        r.unknown_keys({"id", "name", "services"})
        if not COUNTER_ID.match(cid):
            r.fail("id", f"'{cid}' must be letters, digits, '-' or '_' (at most 16)")
        if any(c.id == cid for c in counters):
            r.fail("id", f"duplicate counter id '{cid}'")
        codes = r.get("services", list)
        if not codes:
            r.fail("services", "must list at least one service")
        for code in codes:
            if code not in service_codes:
                r.fail("services", f"unknown service '{code}'")
        if len(set(codes)) != len(codes):
            r.fail("services", "lists a service twice")
        counters.append(Counter(id=cid, name=r.name("name", f"Loket {cid}"), services=tuple(codes)))
    if not counters:
        top.fail("counters", "at least one counter is needed")
    return tuple(counters)


def _queue_rules(q: Reader) -> QueueRules:
    q.unknown_keys({"priority_max_in_row", "default_service_minutes", "defer_places", "target_wait_minutes"})
    in_row = q.get("priority_max_in_row", int, QueueRules.priority_max_in_row)
    if in_row < 1:
        q.fail("priority_max_in_row", "must be at least 1")
    default_minutes = q.number("default_service_minutes", QueueRules.default_service_minutes) or 0.0
    if not 0 < default_minutes <= 480:
        q.fail("default_service_minutes", "must be between 0 and 480")
    if in_row > 100:
        q.fail("priority_max_in_row", "must be at most 100")
    defer = q.get("defer_places", int, QueueRules.defer_places)
    if not 0 <= defer <= 20:
        q.fail("defer_places", "must be between 0 (no deferring) and 20")
    target = q.number("target_wait_minutes", QueueRules.target_wait_minutes) or 0.0
    if not 1 <= target <= 1440:
        q.fail("target_wait_minutes", "must be between 1 and 1440")
    return QueueRules(priority_max_in_row=in_row, default_service_minutes=default_minutes, defer_places=defer,
                      target_wait_minutes=target)


def _limits(lim: Reader) -> Limits:
    lim.unknown_keys({"tickets_per_minute", "ticket_burst", "login_failures", "login_window_s",
                      "connections_per_address", "request_timeout_s"})
    # Ranges a hall can use: beyond them a limit is either no limit at all or a locked door.
    return Limits(
        tickets_per_minute=lim.number("tickets_per_minute", Limits.tickets_per_minute, 0.1, 1e9) or 0.0,
        ticket_burst=lim.whole("ticket_burst", Limits.ticket_burst, 1, 10**9),
        login_failures=lim.whole("login_failures", Limits.login_failures, 1, 1000),
        login_window_s=lim.number("login_window_s", Limits.login_window_s, 1, 86400) or 0.0,
        connections_per_address=lim.whole("connections_per_address", Limits.connections_per_address, 8, 100000),
        request_timeout_s=lim.number("request_timeout_s", Limits.request_timeout_s, 1, 300) or 0.0,
    )


def parse_hours(text: str) -> Hours:
    """Parse "08:00-15:00" or "08:00-12:00, 13:00-15:00"; raises ValueError."""
    windows = []
    for part in text.split(","):
        m = HOURS_RANGE.match(part)
        if not m:
            raise ValueError(f"'{part.strip()}' is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"'{part.strip()}' is not a time of day")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"'{part.strip()}' ends before it starts")
        windows.append((start, end))
    return Hours(tuple(windows), text)
