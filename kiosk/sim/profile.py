"""A day's profile for the simulator: a TOML file (examples/*.toml, docs/estimates.md).

It describes demand and staffing, not the hall: services and counters are named by code and id,
and `[service_default]` / `[counter_default]` apply to every one the profile does not list, so a
profile keeps working when the hall grows. Errors name the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.storage import is_shared

TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
LAWS = ("lognormal", "exponential", "fixed")
SERVICE_KEYS = {"arrivals", "load", "arrivals_at", "service_time", "priority", "no_show", "cancel",
                "patience_minutes", "follow_telegram", "follow_sms", "walk_seconds", "no_show_wait_seconds"}
COUNTER_KEYS = {"open", "close", "breaks", "friday_breaks", "stagger_breaks_minutes", "absent"}
TOP_KEYS = {"profile", "alerts", "replay", "service_default", "services", "counter_default", "counters"}


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ServiceTime:
    """How long a service takes once the citizen is at the counter."""

    law: str = "lognormal"
    mean_minutes: float | None = None  # None: the hall's service_minutes times `hall_factor`
    hall_factor: float = 1.0
    spread: float = 0.5  # coefficient of variation (lognormal)


@dataclass(frozen=True)
class Demand:
    """Arrivals and habits of one service's citizens (or the default for every unlisted service)."""

    arrivals: tuple[tuple[int, float], ...] = ()  # (second of the day, tickets per hour from then)
    load: tuple[tuple[int, float], ...] = ()  # (second of the day, share of its counters' capacity)
    arrivals_at: tuple[int, ...] = ()  # fixed arrival moments (seconds of the day)
    service_time: ServiceTime = field(default_factory=ServiceTime)
    priority: float = 0.0
    no_show: float = 0.0
    cancel: float = 0.0
    patience_minutes: float = 30.0
    follow_telegram: float = 0.0
    follow_sms: float = 0.0
    walk_seconds: float = 0.0
    no_show_wait_seconds: float = 120.0


@dataclass(frozen=True)
class Shift:
    """A counter's day (or the default for every unlisted counter), in seconds of the day."""

    open: int = 8 * 3600
    close: int = 16 * 3600
    breaks: tuple[tuple[int, int], ...] = ()
    friday_breaks: tuple[tuple[int, int], ...] | None = None  # None: the same as `breaks`
    stagger_breaks_minutes: float = 0.0  # counters of one agency take breaks in turns, this far apart
    absent: bool = False


@dataclass(frozen=True)
class Replay:
    """Arrivals replayed from a real day in a hall's database."""

    database: str
    day: str


@dataclass(frozen=True)
class Profile:
    """A day to simulate."""

    name: str
    source: str
    day: date
    seed: int = 1
    description: str = ""
    alerts: dict[str, float] = field(default_factory=dict)  # approach_ahead / approach_minutes for the run
    replay: Replay | None = None
    service_default: Demand = field(default_factory=Demand)
    services: dict[str, Demand] = field(default_factory=dict)
    counter_default: Shift = field(default_factory=Shift)
    counters: dict[str, Shift] = field(default_factory=dict)

    def demand(self, code: str) -> Demand:
        """A service's demand: its own entry, else the default."""
        return self.services.get(code, self.service_default)

    def shift(self, counter_id: str) -> Shift:
        """A counter's shift: its own entry, else the default."""
        return self.counters.get(counter_id, self.counter_default)


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_profile(text, str(path))


def parse_profile(text: str, source: str = "profile") -> Profile:
    """Check a profile's TOML text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML ({exc})") from None
    _unknown(doc, TOP_KEYS, source, "")
    head = _table(doc, "profile", source)
    _unknown(head, {"name", "description", "date", "seed"}, source, "profile")
    try:
        day = date.fromisoformat(str(head.get("date", "2026-03-02")))
    except ValueError:
        raise ProfileError(f"{source}: profile.date must be YYYY-MM-DD") from None
    seed = head.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ProfileError(f"{source}: profile.seed must be a whole number")
    default = _demand(_table(doc, "service_default", source), Demand(), source, "service_default")
    services = {str(code): _demand(_must_table(entry, source, f"services.{code}"), default, source,
                                   f"services.{code}")
                for code, entry in _table(doc, "services", source).items()}
    shift = _shift(_table(doc, "counter_default", source), Shift(), source, "counter_default")
    counters = {str(cid): _shift(_must_table(entry, source, f"counters.{cid}"), shift, source, f"counters.{cid}")
                for cid, entry in _table(doc, "counters", source).items()}
    return Profile(name=str(head.get("name", Path(source).stem)), source=source, day=day, seed=seed,
                   description=str(head.get("description", "")), alerts=_alerts(doc, source),
                   replay=_replay(doc, source), service_default=default, services=services,
                   counter_default=shift, counters=counters)


# --- sections ----------------------------------------------------------------------------------------
def _alerts(doc: dict[str, Any], source: str) -> dict[str, float]:
    alerts = _table(doc, "alerts", source)
    _unknown(alerts, {"approach_ahead", "approach_minutes"}, source, "alerts")
    out = {}
    for key, low, high in (("approach_ahead", 0, 100), ("approach_minutes", 0, 240)):
        if key in alerts:
            out[key] = _number(alerts[key], source, f"alerts.{key}", low, high)
    return out


def _replay(doc: dict[str, Any], source: str) -> Replay | None:
    if "replay" not in doc:
        return None
    replay = _table(doc, "replay", source)
    _unknown(replay, {"database", "day"}, source, "replay")
    if not isinstance(replay.get("database"), str) or not isinstance(replay.get("day"), str):
        raise ProfileError(f"{source}: replay needs database (a path, or a postgresql:// URL with ?hall=) "
                           "and day (YYYY-MM-DD)")
    try:
        date.fromisoformat(replay["day"])
    except ValueError:
        raise ProfileError(f"{source}: replay.day must be YYYY-MM-DD") from None
    if is_shared(replay["database"]):  # a hall of a PostgreSQL database
        return Replay(replay["database"], replay["day"])
    database = Path(replay["database"])
    if not database.is_absolute():
        database = Path(source).parent / database
    return Replay(str(database), replay["day"])


def _demand(table: dict[str, Any], base: Demand, source: str, where: str) -> Demand:
    _unknown(table, SERVICE_KEYS, source, where)
    changes: dict[str, Any] = {}
    given = [k for k in ("arrivals", "load", "arrivals_at") if k in table]
    if len(given) > 1:
        raise ProfileError(f"{source}: {where}: give one of arrivals, load and arrivals_at, not {', '.join(given)}")
    if given:  # one kind of arrivals replaces whatever the default said
        changes |= {"arrivals": (), "load": (), "arrivals_at": ()}
    if "arrivals" in table:
        changes["arrivals"] = _rates(table["arrivals"], source, f"{where}.arrivals", 10000)
    if "load" in table:
        changes["load"] = _rates(table["load"], source, f"{where}.load", 5)
    if "arrivals_at" in table:
        moments = table["arrivals_at"]
        if not isinstance(moments, list):
            raise ProfileError(f"{source}: {where}.arrivals_at must be a list of times (\"08:05\")")
        changes["arrivals_at"] = tuple(sorted(_time(m, source, f"{where}.arrivals_at") for m in moments))
    if "service_time" in table:
        changes["service_time"] = _service_time(table["service_time"], source, f"{where}.service_time")
    for key in ("priority", "no_show", "cancel", "follow_telegram", "follow_sms"):
        if key in table:
            changes[key] = _number(table[key], source, f"{where}.{key}", 0, 1)
    if float(changes.get("follow_telegram", base.follow_telegram)) + \
            float(changes.get("follow_sms", base.follow_sms)) > 1:
        raise ProfileError(f"{source}: {where}: follow_telegram + follow_sms must not exceed 1")
    for key, high in (("patience_minutes", 600), ("walk_seconds", 1800), ("no_show_wait_seconds", 1800)):
        if key in table:
            changes[key] = _number(table[key], source, f"{where}.{key}", 0, high)
    return replace(base, **changes)


def _service_time(value: Any, source: str, where: str) -> ServiceTime:
    table = _must_table(value, source, where)
    _unknown(table, {"law", "mean_minutes", "hall_factor", "spread"}, source, where)
    law = table.get("law", "lognormal")
    if law not in LAWS:
        raise ProfileError(f"{source}: {where}.law must be one of {', '.join(LAWS)}")
    if "mean_minutes" in table and "hall_factor" in table:
        raise ProfileError(f"{source}: {where}: give mean_minutes or hall_factor, not both")
    mean = _number(table["mean_minutes"], source, f"{where}.mean_minutes", 0.05, 600) if "mean_minutes" in table \
        else None
    factor = _number(table.get("hall_factor", 1.0), source, f"{where}.hall_factor", 0.05, 20)
    spread = _number(table.get("spread", 0.5), source, f"{where}.spread", 0, 5)
    return ServiceTime(law, mean, factor, spread)


def _shift(table: dict[str, Any], base: Shift, source: str, where: str) -> Shift:
    _unknown(table, COUNTER_KEYS, source, where)
    changes: dict[str, Any] = {}
    for key in ("open", "close"):
        if key in table:
            changes[key] = _time(table[key], source, f"{where}.{key}")
    for key in ("breaks", "friday_breaks"):
        if key in table:
            changes[key] = _windows(table[key], source, f"{where}.{key}")
    if "stagger_breaks_minutes" in table:
        changes["stagger_breaks_minutes"] = _number(table["stagger_breaks_minutes"], source,
                                                    f"{where}.stagger_breaks_minutes", 0, 240)
    if "absent" in table:
        if not isinstance(table["absent"], bool):
            raise ProfileError(f"{source}: {where}.absent must be true or false")
        changes["absent"] = table["absent"]
    shift = replace(base, **changes)
    if shift.close <= shift.open:
        raise ProfileError(f"{source}: {where}: close must come after open")
    return shift


# --- values ------------------------------------------------------------------------------------------
def _time(value: Any, source: str, where: str) -> int:
    match = TIME.match(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise ProfileError(f"{source}: {where}: {value!r} is not a time HH:MM")
    return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3] or 0)


def _windows(value: Any, source: str, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise ProfileError(f"{source}: {where} must be a list like [\"12:00-13:00\"]")
    windows = []
    for item in value:
        start, sep, end = str(item).partition("-")
        if not sep:
            raise ProfileError(f"{source}: {where}: {item!r} is not HH:MM-HH:MM")
        window = (_time(start.strip(), source, where), _time(end.strip(), source, where))
        if window[1] <= window[0]:
            raise ProfileError(f"{source}: {where}: {item!r} ends before it starts")
        windows.append(window)
    return tuple(sorted(windows))


def _rates(value: Any, source: str, where: str, high: float) -> tuple[tuple[int, float], ...]:
    table = _must_table(value, source, where)
    rates = sorted((_time(k, source, where), _number(v, source, f"{where}.{k}", 0, high)) for k, v in table.items())
    if not rates:
        raise ProfileError(f"{source}: {where} is empty")
    return tuple(rates)


def _number(value: Any, source: str, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ProfileError(f"{source}: {where} must be a number from {low} to {high}")
    return float(value)


def _table(doc: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    return _must_table(doc.get(key, {}), source, key)


def _must_table(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProfileError(f"{source}: {where} must be a table")
    return value


def _unknown(table: dict[str, Any], known: set[str], source: str, where: str) -> None:
    extra = sorted(set(table) - known)
    if extra:
        place = f"{where}: " if where else ""
        raise ProfileError(f"{source}: {place}unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")
