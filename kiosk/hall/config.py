"""The hall document: TOML from a file (or JSON from the database) checked into frozen dataclasses."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SERVICE_CODE = re.compile(r"^[A-Z]{1,2}$")
AGENCY_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
COUNTER_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
HOURS_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")

DEMO_HALL = Path(__file__).parent / "demo" / "mpp-purwakarta.toml"


class ConfigError(Exception):
    """A hall file that cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class Hours:
    """Opening windows of a service, in the hall's local time."""

    windows: tuple[tuple[time, time], ...]
    text: str

    def is_open(self, local: time) -> bool:
        """Whether tickets may be taken at this local time of day."""
        return any(start <= local < end for start, end in self.windows)


@dataclass(frozen=True)
class Agency:
    """An agency (instansi) with its counters in the hall."""

    code: str
    name: str


@dataclass(frozen=True)
class Service:
    """A service (layanan) citizens take numbers for."""

    code: str
    name: str
    agency: str
    daily_quota: int | None = None
    hours: Hours | None = None
    service_minutes: float | None = None
    approach_ahead: int | None = None
    approach_minutes: float | None = None


@dataclass(frozen=True)
class Counter:
    """A counter (loket) and the services it calls."""

    id: str
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class QueueRules:
    """How the queue is ordered and estimated."""

    priority_max_in_row: int = 2
    default_service_minutes: float = 6.0


@dataclass(frozen=True)
class Limits:
    """Flood and brute-force limits."""

    tickets_per_minute: float = 20.0
    ticket_burst: int = 10
    login_failures: int = 5
    login_window_s: float = 300.0


PRINTER_DRIVERS = ("network", "usb", "serial", "file", "cups", "preview")
PRINTER_OPTIONS = {
    "network": {"host", "port"},
    "usb": {"vendor_id", "product_id", "interface", "in_ep", "out_ep"},
    "serial": {"devfile", "baudrate", "bytesize", "parity", "stopbits", "dsrdtr"},
    "file": {"devfile"},
    "cups": {"printer_name", "host", "port"},
    "preview": {"directory"},
}


@dataclass(frozen=True)
class Printer:
    """A thermal printer and how to reach it (options follow python-escpos's parameters)."""

    id: str
    driver: str
    profile: str
    options: dict[str, Any]
    timeout_s: float = 10.0
    status_queries: bool = True
    confirm_wait_s: float = 1.5
    retry_max_s: float = 10.0

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class Kiosk:
    """A ticket machine, with the printer its tickets come out of."""

    id: str
    name: str
    printer: str | None = None
    reset_after_s: float = 30.0


@dataclass(frozen=True)
class TicketText:
    """Words printed on every ticket."""

    footer: str = "Terima kasih. Simpan tiket ini sampai layanan selesai."
    alert_hint: str = "Pindai kode QR untuk melihat giliran Anda dan menerima pemberitahuan."


@dataclass(frozen=True)
class Zone:
    """A part of the hall with its own display: a set of agencies or counters."""

    id: str
    name: str
    counters: tuple[str, ...]


@dataclass(frozen=True)
class DisplaySettings:
    """How the hall TV speaks and what it shows."""

    phrase: str = "Nomor antrean {number}, silakan menuju {counter}."
    read_numbers: str = "words"  # words: "A dua belas"; digits: "A nol satu dua"
    ticker: str = "Selamat datang di Mal Pelayanan Publik. Budayakan antre dengan tertib."
    recent_calls: int = 8
    stale_after_s: float = 30.0
    voice: str = "id"


SMS_PROVIDERS = ("log", "smsgate", "zenziva", "gammu", "http")


@dataclass(frozen=True)
class Alerts:
    """When citizens are told their turn approaches, and how long delivery may keep trying."""

    approach_ahead: int = 3
    approach_minutes: float = 10.0
    give_up_minutes: float = 30.0
    telegram_per_second: float = 25.0
    retry_first_s: float = 2.0


@dataclass(frozen=True)
class SmsSettings:
    """The SMS gateway (secrets come from GILIRAN_SMS_* environment variables)."""

    provider: str = "log"
    base_url: str | None = None
    path: str | None = None
    rate_per_minute: float = 60.0
    body_template: str | None = None
    timeout_s: float = 10.0
    command: str = "gammu-smsd-inject"


@dataclass(frozen=True)
class HallInfo:
    """The hall itself."""

    name: str
    timezone: str
    public_url: str

    @property
    def tz(self) -> ZoneInfo:
        """The hall's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class HallConfig:
    """Everything the hall file says."""

    source: str
    hall: HallInfo
    agencies: tuple[Agency, ...]
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    queue: QueueRules = field(default_factory=QueueRules)
    limits: Limits = field(default_factory=Limits)
    printers: tuple[Printer, ...] = ()
    kiosks: tuple[Kiosk, ...] = ()
    tickets: TicketText = field(default_factory=TicketText)
    zones: tuple[Zone, ...] = ()
    display: DisplaySettings = field(default_factory=DisplaySettings)
    alerts: Alerts = field(default_factory=Alerts)
    sms: SmsSettings = field(default_factory=SmsSettings)
    # The document this was read from (JSON-safe): what the database keeps and admin pages edit.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def approach_rule(self, service_code: str) -> tuple[int, float]:
        """(people ahead, minutes) at or under which a ticket's turn is "approaching"."""
        service = self.service(service_code)
        ahead = service.approach_ahead if service and service.approach_ahead is not None else self.alerts.approach_ahead
        minutes = service.approach_minutes if service and service.approach_minutes is not None \
            else self.alerts.approach_minutes
        return ahead, minutes

    def zone(self, zone_id: str) -> Zone | None:
        """The zone with this id, if any."""
        return next((z for z in self.zones if z.id == zone_id), None)

    def printer(self, printer_id: str) -> Printer | None:
        """The printer with this id, if any."""
        return next((p for p in self.printers if p.id == printer_id), None)

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        """The kiosk with this id, if any."""
        return next((k for k in self.kiosks if k.id == kiosk_id), None)

    def service(self, code: str) -> Service | None:
        """The service with this code, if any."""
        return self._services_by_code.get(code)

    def counter(self, counter_id: str) -> Counter | None:
        """The counter with this id, if any."""
        return self._counters_by_id.get(counter_id)

    def agency(self, code: str) -> Agency | None:
        """The agency with this code, if any."""
        return self._agencies_by_code.get(code)

    def counters_for(self, service_code: str) -> tuple[Counter, ...]:
        """Counters that call this service."""
        return self._counters_by_service.get(service_code, ())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_services_by_code", {s.code: s for s in self.services})
        object.__setattr__(self, "_counters_by_id", {c.id: c for c in self.counters})
        object.__setattr__(self, "_agencies_by_code", {a.code: a for a in self.agencies})
        object.__setattr__(self, "_counters_by_service", {
            s.code: tuple(c for c in self.counters if s.code in c.services) for s in self.services})


class _Reader:
    """Checks one table of the file, naming where a problem is."""

    def __init__(self, source: str, where: str, table: Any) -> None:
        self.source = source
        self.where = where
        if not isinstance(table, dict):
            self.fail(None, "must be a table")
        self.table: dict[str, Any] = table

    def fail(self, key: str | None, problem: str) -> None:
        place = f"{self.where}, key '{key}'" if key else self.where
        raise ConfigError(f"{self.source}: {place}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False) -> Any:
        if key not in self.table:
            if required or default is ...:
                self.fail(key, "is missing")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.fail(key, f"must be {_kind_name(kinds)}, not {value!r}")
        if not isinstance(value, kinds):
            self.fail(key, f"must be {_kind_name(kinds)}, not {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                self.fail(key, f"is not a known key (known: {', '.join(sorted(allowed))})")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _parse_printers(source: str, entries: list[Any]) -> tuple[Printer, ...]:
    from escpos.capabilities import CAPABILITIES  # the profiles python-escpos knows

    profiles = CAPABILITIES["profiles"]

    printers: list[Printer] = []
    for i, entry in enumerate(entries):
        r = _Reader(source, f"printers[{i}]", entry)
        pid = str(r.get("id", (str, int)))
        r.where = f"printers[{i}] (id '{pid}')"
        if not COUNTER_ID.match(pid):
            r.fail("id", f"'{pid}' must be letters, digits, '-' or '_' (at most 16)")
        if any(p.id == pid for p in printers):
            r.fail("id", f"duplicate printer id '{pid}'")
        driver = r.text("driver")
        if driver not in PRINTER_DRIVERS:
            r.fail("driver", f"'{driver}' is not one of {', '.join(PRINTER_DRIVERS)}")
        common = {"id", "driver", "profile", "timeout_s", "status_queries", "confirm_wait_s", "retry_max_s"}
        r.unknown_keys(common | PRINTER_OPTIONS[driver])
        profile = r.text("profile", "TM-T88V" if driver != "preview" else "TM-T88V")
        if profile not in profiles:
            r.fail("profile", f"unknown python-escpos profile '{profile}' (for example TM-T88V, TM-T20II, "
                              "POS-5890, ZJ-5870)")
        options = {k: v for k, v in r.table.items() if k in PRINTER_OPTIONS[driver]}
        if driver == "network":
            r.text("host")
            port = r.get("port", int, 9100)
            if not 0 < port < 65536:
                r.fail("port", f"{port} is not a port number")
            options["port"] = port
        elif driver == "usb":
            for key in ("vendor_id", "product_id"):
                value = r.get(key, (int, str))
                try:
                    options[key] = value if isinstance(value, int) else int(value, 16)
                except ValueError:
                    r.fail(key, f"'{value}' is not a USB id like 0x04b8")
        elif driver in ("serial", "file"):
            r.text("devfile")
        elif driver == "cups":
            r.text("printer_name")
        timeout = float(r.get("timeout_s", (int, float), 10.0))
        wait = float(r.get("confirm_wait_s", (int, float), 1.5))
        if not 0 < timeout <= 120:
            r.fail("timeout_s", "must be between 0 and 120 seconds")
        if not 0 <= wait <= 10:
            r.fail("confirm_wait_s", "must be between 0 and 10 seconds")
        retry_max = float(r.get("retry_max_s", (int, float), 10.0))
        if not 0.1 <= retry_max <= 600:
            r.fail("retry_max_s", "must be between 0.1 and 600 seconds")
        printers.append(Printer(id=pid, driver=driver, profile=profile, options=options, timeout_s=timeout,
                                status_queries=r.get("status_queries", bool, driver == "network"),
                                confirm_wait_s=wait, retry_max_s=retry_max))
    return tuple(printers)


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
    return parse_hall(raw, source)


def parse_hall(raw: dict[str, Any], source: str = "<hall>") -> HallConfig:
    """Check a parsed hall document; raises ConfigError naming file, entry and key."""
    top = _Reader(source, "top level", raw)
    top.unknown_keys({"hall", "agencies", "services", "counters", "queue", "limits", "printers", "kiosks",
                      "tickets", "zones", "display", "alerts", "sms"})

    h = _Reader(source, "[hall]", top.get("hall", dict, required=True))
    h.unknown_keys({"name", "timezone", "public_url"})
    tz_name = h.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        h.fail("timezone", f"unknown time zone '{tz_name}' (for example 'Asia/Jakarta')")
    public_url = h.text("public_url", "http://localhost:8080").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", public_url):
        h.fail("public_url", f"must start with http:// or https://, not '{public_url}'")
    hall = HallInfo(name=h.text("name"), timezone=tz_name, public_url=public_url)

    agencies: list[Agency] = []
    for i, entry in enumerate(top.get("agencies", list, required=True)):
        r = _Reader(source, f"agencies[{i}]", entry)
        code = r.text("code")
        r.where = f"agencies[{i}] (code '{code}')"
        r.unknown_keys({"code", "name"})
        if not AGENCY_CODE.match(code):
            r.fail("code", f"'{code}' must be letters, digits, '-' or '_' (at most 32)")
        if any(a.code == code for a in agencies):
            r.fail("code", f"duplicate agency code '{code}'")
        agencies.append(Agency(code=code, name=r.text("name")))
    if not agencies:
        top.fail("agencies", "at least one agency is needed")

    services: list[Service] = []
    agency_codes = {a.code for a in agencies}
    for i, entry in enumerate(top.get("services", list, required=True)):
        r = _Reader(source, f"services[{i}]", entry)
        code = r.text("code")
        r.where = f"services[{i}] (code '{code}')"
        r.unknown_keys({"code", "name", "agency", "daily_quota", "hours", "service_minutes", "approach_ahead",
                        "approach_minutes"})
        if not SERVICE_CODE.match(code):
            r.fail("code", f"'{code}' must be 1-2 capital letters (the ticket prefix)")
        if any(s.code == code for s in services):
            r.fail("code", f"duplicate service code '{code}'")
        agency = r.text("agency")
        if agency not in agency_codes:
            r.fail("agency", f"unknown agency '{agency}'")
        quota = r.get("daily_quota", int, None)
        if quota is not None and quota < 1:
            r.fail("daily_quota", "must be at least 1 (leave it out for no quota)")
        hours = None
        hours_text = r.text("hours", None)
        if hours_text is not None:
            try:
                hours = parse_hours(hours_text)
            except ValueError as exc:
                r.fail("hours", str(exc))
        minutes = r.get("service_minutes", (int, float), None)
        if minutes is not None and not 0 < minutes <= 480:
            r.fail("service_minutes", "must be between 0 and 480")
        ahead = r.get("approach_ahead", int, None)
        if ahead is not None and not 0 <= ahead <= 100:
            r.fail("approach_ahead", "must be between 0 and 100")
        approach_minutes = r.get("approach_minutes", (int, float), None)
        if approach_minutes is not None and not 0 <= approach_minutes <= 240:
            r.fail("approach_minutes", "must be between 0 and 240")
        services.append(Service(code=code, name=r.text("name"), agency=agency, daily_quota=quota,
                                hours=hours, service_minutes=float(minutes) if minutes else None,
                                approach_ahead=ahead,
                                approach_minutes=float(approach_minutes) if approach_minutes is not None else None))
    if not services:
        top.fail("services", "at least one service is needed")

    counters: list[Counter] = []
    service_codes = {s.code for s in services}
    for i, entry in enumerate(top.get("counters", list, required=True)):
        r = _Reader(source, f"counters[{i}]", entry)
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
        counters.append(Counter(id=cid, name=r.text("name", f"Loket {cid}"), services=tuple(codes)))
    if not counters:
        top.fail("counters", "at least one counter is needed")

    q = _Reader(source, "[queue]", top.get("queue", dict, {}))
    q.unknown_keys({"priority_max_in_row", "default_service_minutes"})
    in_row = q.get("priority_max_in_row", int, QueueRules.priority_max_in_row)
    if in_row < 1:
        q.fail("priority_max_in_row", "must be at least 1")
    default_minutes = q.get("default_service_minutes", (int, float), QueueRules.default_service_minutes)
    if not 0 < default_minutes <= 480:
        q.fail("default_service_minutes", "must be between 0 and 480")

    lim = _Reader(source, "[limits]", top.get("limits", dict, {}))
    lim.unknown_keys({"tickets_per_minute", "ticket_burst", "login_failures", "login_window_s"})
    limits = Limits(
        tickets_per_minute=float(lim.get("tickets_per_minute", (int, float), Limits.tickets_per_minute)),
        ticket_burst=lim.get("ticket_burst", int, Limits.ticket_burst),
        login_failures=lim.get("login_failures", int, Limits.login_failures),
        login_window_s=float(lim.get("login_window_s", (int, float), Limits.login_window_s)),
    )
    for key in ("tickets_per_minute", "ticket_burst", "login_failures", "login_window_s"):
        if getattr(limits, key) <= 0:
            lim.fail(key, "must be greater than 0")

    printers = _parse_printers(source, top.get("printers", list, []))
    kiosks: list[Kiosk] = []
    for i, entry in enumerate(top.get("kiosks", list, [])):
        r = _Reader(source, f"kiosks[{i}]", entry)
        kid = str(r.get("id", (str, int)))
        r.where = f"kiosks[{i}] (id '{kid}')"
        r.unknown_keys({"id", "name", "printer", "reset_after_s"})
        if not COUNTER_ID.match(kid):
            r.fail("id", f"'{kid}' must be letters, digits, '-' or '_' (at most 16)")
        if any(k.id == kid for k in kiosks):
            r.fail("id", f"duplicate kiosk id '{kid}'")
        printer = r.text("printer", None)
        if printer is not None and not any(p.id == printer for p in printers):
            r.fail("printer", f"unknown printer '{printer}'")
        reset = float(r.get("reset_after_s", (int, float), Kiosk.reset_after_s))
        if not 5 <= reset <= 600:
            r.fail("reset_after_s", "must be between 5 and 600 seconds")
        kiosks.append(Kiosk(id=kid, name=r.text("name", f"Kios {kid}"), printer=printer, reset_after_s=reset))
    t = _Reader(source, "[tickets]", top.get("tickets", dict, {}))
    t.unknown_keys({"footer", "alert_hint"})
    tickets = TicketText(footer=t.get("footer", str, TicketText.footer),
                         alert_hint=t.get("alert_hint", str, TicketText.alert_hint))

    zones: list[Zone] = []
    for i, entry in enumerate(top.get("zones", list, [])):
        r = _Reader(source, f"zones[{i}]", entry)
        zid = str(r.get("id", (str, int)))
        r.where = f"zones[{i}] (id '{zid}')"
        r.unknown_keys({"id", "name", "agencies", "counters"})
        if not COUNTER_ID.match(zid):
            r.fail("id", f"'{zid}' must be letters, digits, '-' or '_' (at most 16)")
        if any(z.id == zid for z in zones):
            r.fail("id", f"duplicate zone id '{zid}'")
        if ("agencies" in r.table) == ("counters" in r.table):
            r.fail("agencies", "give either 'agencies' or 'counters'")
        members: list[str] = []
        if "agencies" in r.table:
            for code in r.get("agencies", list):
                if code not in agency_codes:
                    r.fail("agencies", f"unknown agency '{code}'")
                agency_services = {s.code for s in services if s.agency == code}
                members += [c.id for c in counters if set(c.services) & agency_services and c.id not in members]
        else:
            for cid in r.get("counters", list):
                if not any(c.id == str(cid) for c in counters):
                    r.fail("counters", f"unknown counter '{cid}'")
                members.append(str(cid))
        if not members:
            r.fail("agencies", "the zone has no counters")
        zones.append(Zone(id=zid, name=r.text("name"), counters=tuple(members)))
    d = _Reader(source, "[display]", top.get("display", dict, {}))
    d.unknown_keys({"phrase", "read_numbers", "ticker", "recent_calls", "stale_after_s", "voice"})
    phrase = d.text("phrase", DisplaySettings.phrase)
    try:
        phrase.format(number="A1", counter="Loket 1", service="KTP")
    except (KeyError, IndexError, ValueError) as exc:
        d.fail("phrase", f"may use only {{number}}, {{counter}} and {{service}} ({exc})")
    read = d.text("read_numbers", DisplaySettings.read_numbers)
    if read not in ("words", "digits"):
        d.fail("read_numbers", f"must be 'words' or 'digits', not '{read}'")
    recent = d.get("recent_calls", int, DisplaySettings.recent_calls)
    if not 1 <= recent <= 20:
        d.fail("recent_calls", "must be between 1 and 20")
    stale = float(d.get("stale_after_s", (int, float), DisplaySettings.stale_after_s))
    if not 15 <= stale <= 600:
        # The server sends a heartbeat every 10 s: a shorter limit would flag a quiet, healthy hall.
        d.fail("stale_after_s", "must be between 15 and 600 seconds (heartbeats come every 10 s)")
    display = DisplaySettings(phrase=phrase, read_numbers=read, ticker=d.get("ticker", str, DisplaySettings.ticker),
                              recent_calls=recent, stale_after_s=stale, voice=d.text("voice", "id"))

    a = _Reader(source, "[alerts]", top.get("alerts", dict, {}))
    a.unknown_keys({"approach_ahead", "approach_minutes", "give_up_minutes", "telegram_per_second",
                    "retry_first_s"})
    alerts = Alerts(
        approach_ahead=a.get("approach_ahead", int, Alerts.approach_ahead),
        approach_minutes=float(a.get("approach_minutes", (int, float), Alerts.approach_minutes)),
        give_up_minutes=float(a.get("give_up_minutes", (int, float), Alerts.give_up_minutes)),
        telegram_per_second=float(a.get("telegram_per_second", (int, float), Alerts.telegram_per_second)),
        retry_first_s=float(a.get("retry_first_s", (int, float), Alerts.retry_first_s)),
    )
    if not 0.05 <= alerts.retry_first_s <= 600:
        a.fail("retry_first_s", "must be between 0.05 and 600 seconds")
    if not 0 <= alerts.approach_ahead <= 100:
        a.fail("approach_ahead", "must be between 0 and 100")
    if not 0 < alerts.give_up_minutes <= 24 * 60:
        a.fail("give_up_minutes", "must be between 0 and 1440")
    if not 0 < alerts.telegram_per_second <= 30:
        a.fail("telegram_per_second", "must be between 0 and 30 (Telegram's own limit)")
    m = _Reader(source, "[sms]", top.get("sms", dict, {}))
    m.unknown_keys({"provider", "base_url", "path", "rate_per_minute", "body_template", "timeout_s", "command"})
    provider = m.text("provider", "log")
    if provider not in SMS_PROVIDERS:
        m.fail("provider", f"'{provider}' is not one of {', '.join(SMS_PROVIDERS)}")
    base_url = m.text("base_url", None)
    if base_url is not None and not re.match(r"^https?://[^\s/]+", base_url):
        m.fail("base_url", f"must start with http:// or https://, not '{base_url}'")
    if provider in ("smsgate", "http") and base_url is None:
        m.fail("base_url", f"is needed for provider '{provider}'")
    template = m.text("body_template", None)
    if template is not None:
        try:
            json.loads(template.replace("{phone}", "x").replace("{text}", "x"))
        except ValueError:
            m.fail("body_template", "must be JSON with {phone} and {text} placeholders inside strings")
    sms = SmsSettings(provider=provider, base_url=base_url.rstrip("/") if base_url else None,
                      path=m.text("path", None),
                      rate_per_minute=float(m.get("rate_per_minute", (int, float), SmsSettings.rate_per_minute)),
                      body_template=template,
                      timeout_s=float(m.get("timeout_s", (int, float), SmsSettings.timeout_s)),
                      command=m.text("command", SmsSettings.command))
    if sms.rate_per_minute <= 0:
        m.fail("rate_per_minute", "must be greater than 0")

    return HallConfig(
        source=source,
        raw=json.loads(json.dumps(raw)),
        alerts=alerts,
        sms=sms,
        zones=tuple(zones),
        display=display,
        printers=printers,
        kiosks=tuple(kiosks),
        tickets=tickets,
        hall=hall,
        agencies=tuple(agencies),
        services=tuple(services),
        counters=tuple(counters),
        queue=QueueRules(priority_max_in_row=in_row, default_service_minutes=float(default_minutes)),
        limits=limits,
    )
