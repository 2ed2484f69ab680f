"""The sections of the hall document that the reacting rooms read: printers and kiosks, ticket
texts, display zones and phrasing, alert thresholds, the SMS gateway and WhatsApp."""

from __future__ import annotations

import ipaddress
import json
import re
import string
from typing import Any

from kiosk.hall.config import (
    COUNTER_ID,
    LATE_PRINT,
    MEDIA_NAME,
    PRINTER_DRIVERS,
    PRINTER_OPTIONS,
    SMS_PROVIDERS,
    WHATSAPP_PROVIDERS,
    WHATSAPP_TEMPLATE_PARAMS,
    Agency,
    Alerts,
    Counter,
    DisplaySettings,
    Kiosk,
    Printer,
    SearchSettings,
    Service,
    SmsSettings,
    TicketText,
    WhatsAppSettings,
    Zone,
)
from kiosk.hall.devices import devfile_problem, directory_problem
from kiosk.hall.reader import MAX_NAME, Reader

PRINTER_KEYS = {"id", "driver", "profile", "timeout_s", "status_queries", "confirm_wait_s", "retry_max_s"}


def _entry_id(r: Reader, section: str, i: int, taken: list[str]) -> str:
    """The id of a list entry (letters, digits, '-', '_'), unique in its list; names the entry after it."""
    eid = str(r.get("id", (str, int)))
    r.where = f"{section}[{i}] (id '{eid}')"
    if not COUNTER_ID.match(eid):
        r.fail("id", f"'{eid}' must be letters, digits, '-' or '_' (at most 16)")
    if eid in taken:
        r.fail("id", f"duplicate {section.removesuffix('s')} id '{eid}'")
    return eid


def parse_printers(source: str, entries: list[Any]) -> tuple[Printer, ...]:
    """The [[printers]] list: driver, python-escpos profile and the driver's options."""
    from escpos.capabilities import CAPABILITIES  # the profiles python-escpos knows

    profiles = CAPABILITIES["profiles"]
    printers: list[Printer] = []
    for i, entry in enumerate(entries):
        r = Reader(source, f"printers[{i}]", entry)
        pid = _entry_id(r, "printers", i, [p.id for p in printers])
        driver = r.text("driver")
        if driver not in PRINTER_DRIVERS:
            r.fail("driver", f"'{driver}' is not one of {', '.join(PRINTER_DRIVERS)}")
        r.unknown_keys(PRINTER_KEYS | PRINTER_OPTIONS[driver])
        profile = r.text("profile", "TM-T88V")
        if profile not in profiles:
            r.fail("profile", f"unknown python-escpos profile '{profile}' (for example TM-T88V, TM-T20II, "
                              "POS-5890, ZJ-5870)")
        timeout = float(r.get("timeout_s", (int, float), 10.0))
        wait = float(r.get("confirm_wait_s", (int, float), 1.5))
        if not 0 < timeout <= 120:
            r.fail("timeout_s", "must be between 0 and 120 seconds")
        if not 0 <= wait <= 10:
            r.fail("confirm_wait_s", "must be between 0 and 10 seconds")
        retry_max = float(r.get("retry_max_s", (int, float), 10.0))
        if not 0.1 <= retry_max <= 600:
            r.fail("retry_max_s", "must be between 0.1 and 600 seconds")
        printers.append(Printer(id=pid, driver=driver, profile=profile, options=_printer_options(r, driver),
                                timeout_s=timeout, status_queries=r.get("status_queries", bool, driver == "network"),
                                confirm_wait_s=wait, retry_max_s=retry_max))
    return tuple(printers)


def _printer_options(r: Reader, driver: str) -> dict[str, Any]:
    """The options of a printer's driver, checked (they follow python-escpos's parameters)."""
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
        if problem := devfile_problem(r.text("devfile")):
            r.fail("devfile", problem)
    elif driver == "preview" and "directory" in r.table:
        if problem := directory_problem(r.text("directory")):
            r.fail("directory", problem)
    elif driver == "cups":
        r.text("printer_name")
    return options


def parse_kiosks(source: str, entries: list[Any], printers: tuple[Printer, ...]) -> tuple[Kiosk, ...]:
    """The [[kiosks]] list: ticket machines and the printer each prints on."""
    kiosks: list[Kiosk] = []
    for i, entry in enumerate(entries):
        r = Reader(source, f"kiosks[{i}]", entry)
        kid = str(r.get("id", (str, int)))
        r.where = f"kiosks[{i}] (id '{kid}')"
        r.unknown_keys({"id", "name", "printer", "reset_after_s", "addresses"})
        kid = _entry_id(r, "kiosks", i, [k.id for k in kiosks])
        addresses = tuple(str(a) for a in r.get("addresses", list, []))
        for address in addresses:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError:
                r.fail("addresses", f"'{address}' is not an IP address or network (e.g. 192.168.1.20)")
        printer = r.text("printer", None)
        if printer is not None and not any(p.id == printer for p in printers):
            r.fail("printer", f"unknown printer '{printer}'")
        reset = float(r.get("reset_after_s", (int, float), Kiosk.reset_after_s))
        if not 5 <= reset <= 600:
            r.fail("reset_after_s", "must be between 5 and 600 seconds")
        kiosks.append(Kiosk(id=kid, name=r.name("name", f"Kios {kid}"), printer=printer, reset_after_s=reset,
                            addresses=addresses))
    return tuple(kiosks)


def parse_tickets(t: Reader) -> TicketText:
    """[tickets]: words printed on every ticket."""
    t.unknown_keys({"footer", "alert_hint", "late_print"})
    late = t.text("late_print", TicketText.late_print)
    if late not in LATE_PRINT:
        t.fail("late_print", f"must be 'print' or 'drop', not '{late}'")
    return TicketText(footer=t.free_text("footer", TicketText.footer),
                      alert_hint=t.free_text("alert_hint", TicketText.alert_hint), late_print=late)


def parse_zones(source: str, entries: list[Any], agencies: tuple[Agency, ...], services: tuple[Service, ...],
                counters: tuple[Counter, ...]) -> tuple[Zone, ...]:
    """The [[zones]] list: parts of the hall with their own display, by agencies or by counters."""
    agency_codes = {a.code for a in agencies}
    zones: list[Zone] = []
    for i, entry in enumerate(entries):
        r = Reader(source, f"zones[{i}]", entry)
        zid = str(r.get("id", (str, int)))
        r.where = f"zones[{i}] (id '{zid}')"
        r.unknown_keys({"id", "name", "short_name", "agencies", "counters"})
        zid = _entry_id(r, "zones", i, [z.id for z in zones])
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
        zones.append(Zone(id=zid, name=r.name("name"), counters=tuple(members),
                          short_name=r.name("short_name", None)))
    return tuple(zones)


PHRASE_FIELDS = ("number", "counter", "service")


def phrase_problem(phrase: str) -> str | None:
    """Why a call-out phrase cannot be used, or None. Only the plain placeholders are allowed: a
    format spec (`{number:>99999999}`), a conversion (`!r`), an attribute or an index
    (`{number.__class__}`) would let the text run away or reach into the program."""
    try:
        parts = list(string.Formatter().parse(phrase))
    except ValueError as exc:
        return str(exc)
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PHRASE_FIELDS:
            return f"unknown placeholder {{{name}}}"
        if spec or conversion:
            return f"{{{name}}} must be written plainly"
    return None


def parse_display(d: Reader) -> DisplaySettings:
    """[display]: the call-out phrase, how numbers are read, the running text, the TV's layout."""
    d.unknown_keys({"phrase", "read_numbers", "ticker", "recent_calls", "stale_after_s", "voice", "playlist",
                    "image_seconds"})
    phrase = d.text("phrase", DisplaySettings.phrase, max_len=300)
    if problem := phrase_problem(phrase):
        d.fail("phrase", f"may use only {{number}}, {{counter}} and {{service}}, without format specs ({problem})")
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
    playlist = d.get("playlist", list, [])
    for name in playlist:
        if not isinstance(name, str) or not MEDIA_NAME.match(name):
            d.fail("playlist", f"{name!r} is not a media file name (letters, digits, '-', '_'; "
                               ".png, .jpg, .webp, .gif, .mp4 or .webm)")
    seconds = float(d.get("image_seconds", (int, float), DisplaySettings.image_seconds))
    if not 3 <= seconds <= 300:
        d.fail("image_seconds", "must be between 3 and 300 seconds")
    return DisplaySettings(phrase=phrase, read_numbers=read, ticker=d.free_text("ticker", DisplaySettings.ticker),
                           recent_calls=recent, stale_after_s=stale, voice=d.text("voice", "id"),
                           playlist=tuple(dict.fromkeys(playlist)), image_seconds=seconds)


def parse_alerts(a: Reader) -> Alerts:
    """[alerts]: when a turn is "approaching", and how long delivery keeps trying."""
    a.unknown_keys({"approach_ahead", "approach_minutes", "give_up_minutes", "telegram_per_second",
                    "retry_first_s", "supervisor_chat"})
    chat = a.get("supervisor_chat", (str, int), None)
    if isinstance(chat, bool) or (chat is not None and not re.fullmatch(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}",
                                                                          str(chat).strip())):
        a.fail("supervisor_chat", "must be a Telegram chat id (e.g. -1001234567890) or a channel's @username")
    alerts = Alerts(
        approach_ahead=a.get("approach_ahead", int, Alerts.approach_ahead),
        approach_minutes=float(a.get("approach_minutes", (int, float), Alerts.approach_minutes)),
        give_up_minutes=float(a.get("give_up_minutes", (int, float), Alerts.give_up_minutes)),
        telegram_per_second=float(a.get("telegram_per_second", (int, float), Alerts.telegram_per_second)),
        retry_first_s=float(a.get("retry_first_s", (int, float), Alerts.retry_first_s)),
        supervisor_chat=str(chat).strip() if chat not in (None, "") else None,
    )
    if not 0.05 <= alerts.retry_first_s <= 600:
        a.fail("retry_first_s", "must be between 0.05 and 600 seconds")
    if not 0 <= alerts.approach_ahead <= 100:
        a.fail("approach_ahead", "must be between 0 and 100")
    if not 0 <= alerts.approach_minutes <= 240:
        a.fail("approach_minutes", "must be between 0 and 240")
    if not 0 < alerts.give_up_minutes <= 24 * 60:
        a.fail("give_up_minutes", "must be between 0 and 1440")
    if not 0 < alerts.telegram_per_second <= 30:
        a.fail("telegram_per_second", "must be between 0 and 30 (Telegram's own limit)")
    return alerts


def _url(r: Reader, key: str) -> str | None:
    url = r.text(key, None)
    if url is not None and not re.match(r"^https?://[^\s/]+", url):
        r.fail(key, f"must start with http:// or https://, not '{url}'")
    return url.rstrip("/") if url else None


def _positive(r: Reader, key: str, default: float, upper: float) -> float:
    value = float(r.get(key, (int, float), default))
    if not 0 < value <= upper:
        r.fail(key, f"must be greater than 0 and at most {upper:g}")
    return value


def parse_sms(m: Reader) -> SmsSettings:
    """[sms]: the gateway (its secrets come from the environment, never the document)."""
    m.unknown_keys({"provider", "base_url", "path", "rate_per_minute", "body_template", "timeout_s", "command",
                    "gammu_config", "gammu_inbox"})
    provider = m.text("provider", "log")
    if provider not in SMS_PROVIDERS:
        m.fail("provider", f"'{provider}' is not one of {', '.join(SMS_PROVIDERS)}")
    base_url = _url(m, "base_url")
    if provider in ("smsgate", "http") and base_url is None:
        m.fail("base_url", f"is needed for provider '{provider}'")
    template = m.text("body_template", None)
    if template is not None:
        try:
            json.loads(template.replace("{phone}", "x").replace("{text}", "x"))
        except ValueError:
            m.fail("body_template", "must be JSON with {phone} and {text} placeholders inside strings")
    path = m.text("path", None)
    if path is not None and not path.startswith("/"):
        m.fail("path", f"must start with '/', not '{path}'")
    return SmsSettings(provider=provider, base_url=base_url, path=path,
                       rate_per_minute=_positive(m, "rate_per_minute", SmsSettings.rate_per_minute, 100000),
                       body_template=template,
                       timeout_s=_positive(m, "timeout_s", SmsSettings.timeout_s, 120),
                       command=m.text("command", SmsSettings.command),
                       gammu_config=m.text("gammu_config", None), gammu_inbox=m.text("gammu_inbox", None))


def parse_whatsapp(m: Reader) -> WhatsAppSettings:
    """[whatsapp]: the provider, the hall's number and (Cloud API) the approved templates; its
    secrets come from the environment, never the document."""
    m.unknown_keys({"provider", "number", "base_url", "api_version", "phone_number_id", "language", "templates",
                    "rate_per_minute", "timeout_s"})
    provider = m.text("provider", "log")
    if provider not in WHATSAPP_PROVIDERS:
        m.fail("provider", f"'{provider}' is not one of {', '.join(WHATSAPP_PROVIDERS)}")
    number = m.text("number", None)
    if number is not None:
        number = re.sub(r"[\s+-]", "", number)
        if not re.fullmatch(r"[1-9][0-9]{7,14}", number):
            m.fail("number", "must be the hall's WhatsApp number with its country code, e.g. '6281234567890'")
    if provider != "log" and number is None:
        m.fail("number", "is needed: citizens write to this number to receive messages")
    base_url = _url(m, "base_url")
    if provider == "wablas" and base_url is None:
        m.fail("base_url", "is needed for Wablas: your account's server, e.g. 'https://solo.wablas.com'")
    phone_number_id = m.text("phone_number_id", None)
    if provider == "cloud" and not (phone_number_id or "").isdigit():
        m.fail("phone_number_id", "is needed for the Cloud API: the number's id from Meta's WhatsApp Manager")
    version = m.text("api_version", WhatsAppSettings.api_version)
    if not re.fullmatch(r"v\d+\.\d+", version):
        m.fail("api_version", f"must look like 'v23.0', not '{version}'")
    templates = m.get("templates", dict, {})
    for stage, name in templates.items():
        if stage not in WHATSAPP_TEMPLATE_PARAMS:
            m.fail("templates", f"unknown stage '{stage}' (one of {', '.join(WHATSAPP_TEMPLATE_PARAMS)})")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
            m.fail("templates", f"'{stage}': a template name is lowercase letters, digits and '_'")
    return WhatsAppSettings(provider=provider, number=number, base_url=base_url, api_version=version,
                            phone_number_id=phone_number_id, language=m.text("language", "id"),
                            templates=dict(templates),
                            rate_per_minute=_positive(m, "rate_per_minute", WhatsAppSettings.rate_per_minute, 6000),
                            timeout_s=_positive(m, "timeout_s", WhatsAppSettings.timeout_s, 120))


def parse_search(s: Reader) -> SearchSettings:
    """[search]: groups of words that mean the same to the kiosk's search (KK = kartu keluarga)."""
    s.unknown_keys({"synonyms"})
    groups = s.get("synonyms", list, [])
    for group in groups:
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(w, str) and w.strip() for w in group):
            s.fail("synonyms", f"{group!r} must be a list of at least two words or phrases")
        for word in group:
            s.check_text("synonyms", word, max_len=MAX_NAME, newlines=False)
    return SearchSettings(synonyms=tuple(tuple(w.strip() for w in group) for group in groups))
