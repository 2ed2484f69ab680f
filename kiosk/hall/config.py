"""The hall document's model: frozen dataclasses of a checked hall (parse.py builds them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.hall.online import BookingRules, HallDays, ServiceOnline
from kiosk.hall.survey import SurveySettings

SERVICE_CODE = re.compile(r"^[A-Z]{1,2}$")
AGENCY_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
COUNTER_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
HOURS_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")
# A hall's id names its data in a database shared by many halls (PostgreSQL: schema hall_<id>).
HALL_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
DEFAULT_HALL_ID = "default"
# A file of the display's playlist (uploaded by admins into var/media/): images and videos browsers play.
MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}\.(png|jpg|jpeg|webp|gif|mp4|webm)$")

DEMO_HALL = Path(__file__).parent / "demo" / "mpp-purwakarta.toml"

# The agency pictograms the kiosk has (kiosk/web/static/pictograms/<name>.svg, drawn for Giliran).
PICTOGRAMS = ("identitas", "paspor", "izin", "tanah", "agama", "pengadilan", "kendaraan", "polisi", "hukum",
              "pajak", "rumah", "bank", "pensiun", "kesehatan", "perisai", "medis", "pekerja", "sosial", "air",
              "listrik", "usaha", "sekolah", "kantor", "informasi")
LATE_PRINT = ("print", "drop")


class ConfigError(Exception):
    """A hall file that cannot be used; the message names the file, the entry and the key.

    `where` (e.g. "services[3] (code 'D')"), `key` and `problem` are the parts of the message, so
    the admin pages can say it in Indonesian with the form's labels (kiosk/hall/messages.py).
    """

    def __init__(self, message: str, *, where: str | None = None, key: str | None = None,
                 problem: str | None = None) -> None:
        super().__init__(message)
        self.where = where
        self.key = key
        self.problem = problem


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
    short_name: str | None = None  # what the kiosk's tile says ("Disdukcapil"); the name when left out
    icon: str = "kantor"  # one of PICTOGRAMS

    @property
    def label(self) -> str:
        """The short name, or the name."""
        return self.short_name or self.name


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
    target_wait_minutes: float | None = None  # None: the hall's [queue] target_wait_minutes
    keywords: tuple[str, ...] = ()  # more words the kiosk's search finds it by
    online: ServiceOnline = field(default_factory=ServiceOnline)  # remote share, booking, slots (docs/booking.md)


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
    target_wait_minutes: float = 30.0  # a service's waiting-time target unless it sets its own (reports, SLA)
    defer_places: int = 2  # TUNDA lets this many go ahead, once per ticket; 0: the hall does not allow it


@dataclass(frozen=True)
class Limits:
    """Flood and brute-force limits."""

    tickets_per_minute: float = 20.0
    ticket_burst: int = 10
    login_failures: int = 5
    login_window_s: float = 300.0
    connections_per_address: int = 256
    request_timeout_s: float = 10.0  # to send a request's head (and its body) once connected


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
    addresses: tuple[str, ...] = ()  # when set, only these addresses (IPs or networks) print as this kiosk


@dataclass(frozen=True)
class TicketText:
    """Words printed on every ticket."""

    footer: str = "Terima kasih. Simpan tiket ini sampai layanan selesai."
    alert_hint: str = "Pindai kode QR untuk melihat giliran Anda dan menerima pemberitahuan."
    # A ticket the kiosk already called "belum tercetak" when its printer comes back: "print" it
    # late (marked as such), or "drop" it (staff reprint it from the console on request).
    late_print: str = "print"


@dataclass(frozen=True)
class Zone:
    """A part of the hall with its own display: a set of agencies or counters."""

    id: str
    name: str
    counters: tuple[str, ...]
    short_name: str | None = None  # the tag on the display's rows ("Lt 1 · Zona A"); the name when left out

    @property
    def label(self) -> str:
        """The short name, or the name."""
        return self.short_name or self.name


@dataclass(frozen=True)
class DisplaySettings:
    """How the hall TV speaks and what it shows."""

    phrase: str = "Nomor antrean {number}, silakan menuju {counter}."
    read_numbers: str = "words"  # words: "A dua belas"; digits: "A nol satu dua"
    ticker: str = "Selamat datang di Mal Pelayanan Publik. Budayakan antre dengan tertib."
    recent_calls: int = 8
    stale_after_s: float = 30.0
    voice: str = "id"
    playlist: tuple[str, ...] = ()  # images and videos admins uploaded (var/media/), shown in turn
    image_seconds: float = 12.0  # how long an image of the playlist stays


@dataclass(frozen=True)
class SearchSettings:
    """What the kiosk's search knows besides the services' names: groups of words that mean the same."""

    synonyms: tuple[tuple[str, ...], ...] = ()


SMS_PROVIDERS = ("log", "smsgate", "zenziva", "gammu", "http")


@dataclass(frozen=True)
class Alerts:
    """When citizens are told their turn approaches, and how long delivery may keep trying."""

    approach_ahead: int = 3
    approach_minutes: float = 10.0
    give_up_minutes: float = 30.0
    telegram_per_second: float = 25.0
    retry_first_s: float = 2.0
    supervisor_chat: str | None = None  # a Telegram chat told when a service's longest wait crosses its target


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
    gammu_config: str | None = None  # gammu-smsd-inject -c FILE (default: gammu's /etc/gammu-smsdrc)
    gammu_inbox: str | None = None  # Gammu SMSD's FILES-backend inbox folder: replies are read from it


WHATSAPP_PROVIDERS = ("log", "cloud", "fonnte", "wablas")
# The facts each stage's approved template takes, in order ({{1}}, {{2}}, ...), on Meta's Cloud API.
WHATSAPP_TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "subscribed": ("number", "service", "ahead", "wait"),
    "approaching": ("number", "ahead", "wait"),
    "called": ("number", "counter"),
    "recalled": ("number", "counter"),
    "transferred": ("number", "service", "ahead"),
    "no_show": ("number",),
    "done": ("number",),
}


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp channel (secrets come from GILIRAN_WHATSAPP_* environment variables)."""

    provider: str = "log"
    number: str | None = None  # the hall's WhatsApp number, digits with the country code (wa.me links)
    base_url: str | None = None  # cloud: https://graph.facebook.com; fonnte: https://api.fonnte.com; wablas: the server
    api_version: str = "v23.0"  # cloud: the Graph API version
    phone_number_id: str | None = None  # cloud: the sending number's id (not a secret)
    language: str = "id"  # cloud: the approved templates' language code
    templates: dict[str, str] = field(default_factory=dict)  # cloud: stage -> approved template name
    rate_per_minute: float = 60.0
    timeout_s: float = 10.0

    def __hash__(self) -> int:
        return hash((self.provider, self.number, self.base_url, tuple(sorted(self.templates.items()))))


@dataclass(frozen=True)
class HallInfo:
    """The hall itself."""

    name: str
    timezone: str
    public_url: str
    id: str = DEFAULT_HALL_ID  # which hall's rows, in a database shared by several halls

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
    search: SearchSettings = field(default_factory=SearchSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    days: HallDays = field(default_factory=HallDays)  # hours per weekday, holidays (docs/booking.md)
    booking: BookingRules = field(default_factory=BookingRules)  # the [booking] section
    survey: SurveySettings = field(default_factory=SurveySettings)  # the SKM (kiosk/hall/survey.py)
    # The document this was read from (JSON-safe): what the database keeps and admin pages edit.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Look-ups built once (see __post_init__).
    _services_by_code: dict[str, Service] = field(init=False, compare=False, repr=False)
    _counters_by_id: dict[str, Counter] = field(init=False, compare=False, repr=False)
    _agencies_by_code: dict[str, Agency] = field(init=False, compare=False, repr=False)
    _counters_by_service: dict[str, tuple[Counter, ...]] = field(init=False, compare=False, repr=False)
    # Built on first use by kiosk/hall/search.py (the kiosk's search index of this document).
    _search: object = field(init=False, compare=False, repr=False, default=None)

    def approach_rule(self, service_code: str) -> tuple[int, float]:
        """(people ahead, minutes) at or under which a ticket's turn is "approaching"."""
        service = self.service(service_code)
        ahead = service.approach_ahead if service and service.approach_ahead is not None else self.alerts.approach_ahead
        minutes = service.approach_minutes if service and service.approach_minutes is not None \
            else self.alerts.approach_minutes
        return ahead, minutes

    def target_wait_s(self, service_code: str) -> int:
        """A service's waiting-time target in whole seconds (its own, or the hall's default)."""
        service = self.service(service_code)
        minutes = service.target_wait_minutes if service and service.target_wait_minutes is not None \
            else self.queue.target_wait_minutes
        return round(minutes * 60)

    def zone(self, zone_id: str) -> Zone | None:
        """The zone with this id, if any."""
        return next((z for z in self.zones if z.id == zone_id), None)

    def zone_of_counter(self, counter_id: str) -> Zone | None:
        """Where a counter is: the smallest zone holding it (a floor's zone holds its wings' counters)."""
        holding = [z for z in self.zones if counter_id in z.counters]
        return min(holding, key=lambda z: len(z.counters)) if holding else None

    def zone_of_service(self, service_code: str) -> Zone | None:
        """Where a service is called: the zone of the first counter that calls it."""
        for counter in self.counters_for(service_code):
            if (zone := self.zone_of_counter(counter.id)) is not None:
                return zone
        return None

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
