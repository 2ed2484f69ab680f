"""A profile applied to a hall: every service's arrivals and service times, every counter's shift,
and the citizens of the day drawn from them with a seed (the same seed draws the same day)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.parse import parse_hall
from kiosk.queue.models import PRIORITY_REASONS
from kiosk.sim.profile import Demand, Profile, Shift

DAY_S = 24 * 3600
FRIDAY = 4


@dataclass(frozen=True)
class Citizen:
    """One arrival of the day and what that citizen will do."""

    at: int  # second of the day
    service: str
    priority_reason: str | None
    follow: str | None  # "telegram", "sms" or None
    follow_after_s: float  # a Telegram follower scans the QR code this long after taking the ticket
    patience_s: float | None  # gives up (cancels) after waiting this long; None: never
    no_show: bool
    walk_s: float
    service_s: float


@dataclass(frozen=True)
class CounterDay:
    """A counter's day: open, breaks, close (seconds of the day)."""

    id: str
    open: int
    close: int
    breaks: tuple[tuple[int, int], ...]


@dataclass
class DayPlan:
    """What the engine runs."""

    config: HallConfig
    profile: Profile
    midnight: float  # epoch of the day's local midnight
    counters: list[CounterDay]
    citizens: list[Citizen]
    service_means: dict[str, float]  # seconds at the counter (without walking), per service
    warnings: list[str] = field(default_factory=list)


def with_alerts(config: HallConfig, alerts: dict[str, float]) -> HallConfig:
    """The hall with the profile's approach rule for the run (every service follows it)."""
    if not alerts:
        return config
    doc: dict[str, Any] = dict(config.raw)
    doc["alerts"] = dict(doc.get("alerts", {})) | {k: int(v) if k == "approach_ahead" else v
                                                     for k, v in alerts.items()}
    doc["services"] = [{k: v for k, v in s.items() if k not in alerts} for s in doc.get("services", [])]
    return parse_hall(doc, config.source)


def service_mean_s(config: HallConfig, code: str, demand: Demand) -> float:
    """A service's mean time at the counter in the profile (its own, or the hall's times a factor)."""
    st = demand.service_time
    if st.mean_minutes is not None:
        return 60 * st.mean_minutes
    service = config.service(code)
    minutes = (service.service_minutes if service else None) or config.queue.default_service_minutes
    return 60 * minutes * st.hall_factor


def plan_day(config: HallConfig, profile: Profile, seed: int,
             replayed: list[tuple[int, str, bool]] | None = None) -> DayPlan:
    """Apply `profile` to `config` and draw the day's citizens with `seed`."""
    config = with_alerts(config, profile.alerts)
    warnings = [f"profile names service {code}, which this hall does not have: left out"
                for code in sorted(profile.services) if config.service(code) is None]
    warnings += [f"profile names counter {cid}, which this hall does not have: left out"
                 for cid in sorted(profile.counters) if config.counter(cid) is None]
    midnight = datetime.combine(profile.day, time(0), config.hall.tz).timestamp()
    counters = _counter_days(config, profile)
    means = {s.code: service_mean_s(config, s.code, profile.demand(s.code)) for s in config.services}
    if replayed is not None:
        known = [r for r in replayed if config.service(r[1])]
        if len(known) < len(replayed):
            warnings.append(f"{len(replayed) - len(known)} replayed tickets of services this hall does not have: "
                            "left out")
        citizens = _replay(config, profile, seed, known, means)
    else:
        working = {c.id for c in counters}
        citizens = []
        for service in config.services:
            rates = _rates(config, profile, service.code, means, working)
            citizens += _draw(profile.demand(service.code), service.code, rates, means[service.code],
                              random.Random(f"{seed}:arrivals:{service.code}"))
    citizens.sort(key=lambda c: (c.at, c.service))
    return DayPlan(config, profile, midnight, counters, citizens, means, warnings)


def _counter_days(config: HallConfig, profile: Profile) -> list[CounterDay]:
    friday = profile.day.weekday() == FRIDAY
    turns: dict[str, int] = {}  # counters of one agency so far (for staggered breaks)
    days = []
    for counter in config.counters:
        shift: Shift = profile.shift(counter.id)
        if shift.absent:
            continue
        service = config.service(counter.services[0]) if counter.services else None
        agency = service.agency if service else ""
        turn = turns.get(agency, 0)
        turns[agency] = turn + 1
        if friday and shift.friday_breaks is not None:
            breaks = shift.friday_breaks
        else:
            # Turns start where the previous one began plus the stagger, as long as the break still
            # ends by closing; then they start again from the first (two counters at lunch together).
            step = int(shift.stagger_breaks_minutes * 60)
            last_end = max((b for _, b in shift.breaks), default=shift.close)
            slots = 1 + (shift.close - last_end) // step if step > 0 and last_end < shift.close else 1
            offset = (turn % slots) * step
            breaks = tuple((a + offset, b + offset) for a, b in shift.breaks)
        breaks = tuple((max(a, shift.open), min(b, shift.close)) for a, b in breaks
                       if b > shift.open and a < shift.close)
        days.append(CounterDay(counter.id, shift.open, shift.close, breaks))
    return days


def _rates(config: HallConfig, profile: Profile, code: str, means: dict[str, float], working: set[str]
           ) -> list[tuple[int, int, float]]:
    """(from, to, tickets per hour) of a service through the day."""
    demand = profile.demand(code)
    if demand.arrivals_at:
        return []
    steps = demand.arrivals
    if demand.load:
        capacity = _capacity(config, profile, code, means, working)
        steps = tuple((t, share * capacity) for t, share in demand.load)
    return [(start, steps[i + 1][0] if i + 1 < len(steps) else DAY_S, rate) for i, (start, rate) in enumerate(steps)]


def _capacity(config: HallConfig, profile: Profile, code: str, means: dict[str, float], working: set[str]) -> float:
    """Tickets per hour the service's counters can serve (a counter shared by k services gives each
    1/k of its time); a visit is the walk, the service or the no-show wait."""
    demand = profile.demand(code)
    visit = (1 - demand.no_show) * (demand.walk_seconds + means[code]) + demand.no_show * demand.no_show_wait_seconds
    share = sum(1 / len(c.services) for c in config.counters_for(code) if c.id in working)
    return share * 3600 / max(visit, 1.0)


def _draw(demand: Demand, code: str, rates: list[tuple[int, int, float]], mean_s: float,
          rng: random.Random) -> list[Citizen]:
    moments: list[float] = list(demand.arrivals_at)
    for start, end, per_hour in rates:
        t = float(start)
        while per_hour > 0:
            t += rng.expovariate(per_hour / 3600)
            if t >= end:
                break
            moments.append(t)
    return [_citizen(demand, code, int(t), mean_s, rng) for t in moments]


def _replay(config: HallConfig, profile: Profile, seed: int, replayed: list[tuple[int, str, bool]],
            means: dict[str, float]) -> list[Citizen]:
    streams: dict[str, random.Random] = {}
    citizens = []
    for at, code, priority in replayed:
        rng = streams.setdefault(code, random.Random(f"{seed}:replay:{code}"))
        citizen = _citizen(profile.demand(code), code, at, means[code], rng)
        reason = sorted(PRIORITY_REASONS)[int(rng.random() * len(PRIORITY_REASONS))] if priority else None
        citizens.append(Citizen(citizen.at, code, reason, *_rest(citizen)))
    return citizens


def _rest(c: Citizen) -> tuple[Any, ...]:
    return c.follow, c.follow_after_s, c.patience_s, c.no_show, c.walk_s, c.service_s


def _citizen(demand: Demand, code: str, at: int, mean_s: float, rng: random.Random) -> Citizen:
    """What one citizen will do, drawn in a fixed order (the same seed, the same citizen)."""
    reasons = sorted(PRIORITY_REASONS)
    priority = rng.random() < demand.priority
    reason = reasons[int(rng.random() * len(reasons))] if priority else None
    u = rng.random()
    follow = "telegram" if u < demand.follow_telegram else \
        "sms" if u < demand.follow_telegram + demand.follow_sms else None
    follow_after = rng.uniform(30, 180)
    patience = rng.expovariate(1 / (60 * demand.patience_minutes)) if rng.random() < demand.cancel else None
    no_show = rng.random() < demand.no_show
    walk = rng.uniform(0.5, 1.5) * demand.walk_seconds
    return Citizen(at, code, reason, follow, follow_after, patience, no_show, walk,
                   service_seconds(demand, mean_s, rng))


def service_seconds(demand: Demand, mean_s: float, rng: random.Random) -> float:
    """One service time, by the profile's law."""
    st = demand.service_time
    if st.law == "fixed" or st.spread == 0:
        return mean_s
    if st.law == "exponential":
        return rng.expovariate(1 / mean_s)
    sigma = math.sqrt(math.log1p(st.spread ** 2))
    return rng.lognormvariate(math.log(mean_s) - sigma ** 2 / 2, sigma)
