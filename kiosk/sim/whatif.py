"""Capacity questions for admins, answered by simulating the day through the real queue:

- `counters_what_if`: with this profile, how long would citizens of service X wait with N counters
  on it (the hall's counters calling X changed to N; every other counter as it is)?
- `staffing`: how many counters does X need in each hour to keep the 90th percentile of its waits
  under a target (X on counters of its own)?

Only the services that share counters with X are simulated (the rest of the hall cannot change
their waits); the citizens are drawn once from the profile with the hall as it is, so every variant
serves the same people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.hall.parse import parse_hall
from kiosk.queue.models import CANCELLED
from kiosk.sim.engine import DaySimulation
from kiosk.sim.measures import percentile
from kiosk.sim.plan import Citizen, CounterDay, DayPlan, plan_day
from kiosk.sim.profile import Profile

MAX_COUNTERS = 40
MAX_ROUNDS = 40
SIM_PREFIX = "SIM"  # ids of counters the what-if adds


class WhatIfError(Exception):
    """A question that cannot be asked of this hall (unknown service, bad number)."""


def with_counters(config: HallConfig, code: str, n: int) -> HallConfig:
    """The hall with exactly `n` counters calling `code`: counters are added (calling only it) or the
    last ones calling it stop calling it (a counter left with nothing to call is removed)."""
    if config.service(code) is None:
        raise WhatIfError(f"layanan {code} tidak ada di aula ini")
    if not 0 <= n <= MAX_COUNTERS:
        raise WhatIfError(f"jumlah loket harus 0 sampai {MAX_COUNTERS}")
    doc: dict[str, Any] = dict(config.raw)
    counters = [dict(c) for c in doc.get("counters", [])]
    serving = [c for c in counters if code in c.get("services", [])]
    for counter in serving[n:] if n < len(serving) else []:
        counter["services"] = [s for s in counter["services"] if s != code]
    counters = [c for c in counters if c.get("services")]
    for i in range(len(serving), n):
        counters.append({"id": f"{SIM_PREFIX}{i + 1}", "name": f"Loket simulasi {i + 1}", "services": [code]})
    doc["counters"] = counters
    return parse_hall(doc, config.source)


def group_hall(config: HallConfig, code: str) -> HallConfig:
    """Only `code` and the services linked to it by shared counters, with those counters."""
    group, counters = {code}, []
    changed = True
    while changed:
        changed = False
        for counter in config.counters:
            if group & set(counter.services) and not set(counter.services) <= group:
                group |= set(counter.services)
                changed = True
    counters = [c.id for c in config.counters if group & set(c.services)]
    doc: dict[str, Any] = {k: v for k, v in config.raw.items() if k not in ("zones",)}
    doc["services"] = [s for s in doc.get("services", []) if s["code"] in group]
    doc["counters"] = [c for c in doc.get("counters", []) if c["id"] in counters]
    agencies = {s["agency"] for s in doc["services"]}
    doc["agencies"] = [a for a in doc.get("agencies", []) if a["code"] in agencies]
    return parse_hall(doc, config.source)


@dataclass(frozen=True)
class Outcome:
    """A citizen's day in a variant: the wait to the call, or for one still waiting when the counters
    closed, to the closing (at least that long: a capacity answer must not drop them); None for one
    who cancelled."""

    citizen: Citizen
    wait: float | None
    called: bool


async def _run(plan: DayPlan, seed: int) -> list[Outcome]:
    record = await DaySimulation(plan, seed, observe=False).run()
    end = plan.midnight + max((c.close for c in plan.counters), default=0)
    outcomes = {id(c): Outcome(c, None, False) for c in plan.citizens}
    for ticket in record.tickets:
        citizen = record.citizens.get(ticket.id)
        if citizen is None or ticket.state == CANCELLED:
            continue
        called_at = ticket.called_at if ticket.called_at is not None else max(end, ticket.issued_at)
        outcomes[id(citizen)] = Outcome(citizen, called_at - ticket.issued_at, ticket.called_at is not None)
    return [outcomes[id(c)] for c in plan.citizens]


def _by_hour(results: list[Outcome], code: str, start: int = 0) -> dict[int, list[float]]:
    """Waits of `code` by hour of arrival; an arrival before `start` counts from `start` (no counter could
    call it sooner)."""
    hours: dict[int, list[float]] = {}
    for r in results:
        if r.citizen.service == code and r.wait is not None:
            early = max(0, start - r.citizen.at)
            hours.setdefault(max(r.citizen.at, start) // 3600, []).append(max(0.0, r.wait - early))
    return hours


def _summary(results: list[Outcome], code: str) -> dict[str, Any]:
    mine = [r for r in results if r.citizen.service == code]
    waits = [r.wait for r in mine if r.wait is not None]
    p50, p90 = percentile(waits, 50), percentile(waits, 90)
    return {"tickets": len(mine), "called": sum(r.called for r in mine),
            "unserved": sum(1 for r in mine if r.wait is not None and not r.called),
            "wait_p50_s": None if p50 is None else round(p50), "wait_p90_s": None if p90 is None else round(p90)}


async def counters_what_if(config: HallConfig, profile: Profile, code: str, n: int,
                           seeds: list[int]) -> dict[str, Any]:
    """Waits of `code` (and of the services sharing its counters) with the hall as it is and with `n`
    counters on it, over the same citizens."""
    changed = with_counters(config, code, n)
    out: dict[str, Any] = {"service": code, "counters_now": len(config.counters_for(code)), "counters": n,
                           "seeds": seeds, "now": {}, "what_if": {}, "hours": {}}
    for label, hall in (("now", config), ("what_if", changed)):
        sub = group_hall(hall, code)
        results: list[Outcome] = []
        for seed in seeds:
            citizens = _citizens(config, profile, seed, {s.code for s in sub.services})
            results += await _run(_replan(sub, profile, seed, citizens), seed)
        out[label] = _summary(results, code) | {"counters": len(hall.counters_for(code)),
                                                "shared_with": sorted(s.code for s in sub.services if s.code != code)}
        for hour, ws in _by_hour(results, code).items():
            p90 = percentile(ws, 90)
            out["hours"].setdefault(hour, {})[label] = None if p90 is None else round(p90)
    out["hours"] = dict(sorted(out["hours"].items()))
    return out


def _citizens(config: HallConfig, profile: Profile, seed: int, services: set[str]) -> list[Citizen]:
    """The day's citizens of these services, drawn with the hall as it is."""
    return [c for c in plan_day(config, profile, seed).citizens if c.service in services]


def _replan(config: HallConfig, profile: Profile, seed: int, citizens: list[Citizen],
            counters: list[CounterDay] | None = None) -> DayPlan:
    """The plan of `config`'s day with these citizens (and these counters' days, if given)."""
    plan = plan_day(config, profile, seed)
    plan.citizens = list(citizens)
    if counters is not None:
        plan.counters = counters
    return plan


def _erlang_c(c: int, load: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load `load` (Erlangs)."""
    if c <= load:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= load / k
        total += term
    term *= load / c
    last = term * c / (c - load)
    return last / (total + last)


def erlang_counters(per_hour: float, mean_s: float, target_s: float, quantile: float = 0.9) -> int:
    """The fewest counters with which an M/M/c queue keeps P(wait > target) at most 1 - quantile."""
    load = per_hour * mean_s / 3600
    if load <= 0:
        return 0
    c = max(1, math.ceil(load))
    while c < MAX_COUNTERS:
        rate = c / mean_s - per_hour / 3600
        if rate > 0 and _erlang_c(c, load) * math.exp(-rate * target_s) <= 1 - quantile:
            return c
        c += 1
    return MAX_COUNTERS


async def staffing(config: HallConfig, profile: Profile, code: str, target_s: float,
                   seeds: list[int]) -> dict[str, Any]:
    """Counters `code` needs per hour (on counters of its own) to keep its 90th percentile wait, by hour
    of arrival, under `target_s`: started from the Erlang C answer for each hour, raised where the
    simulated day misses the target (a missed hour may need more counters the hour before)."""
    if config.service(code) is None:
        raise WhatIfError(f"layanan {code} tidak ada di aula ini")
    solo = _solo_hall(config, code)
    citizens = {seed: _citizens(config, profile, seed, {code}) for seed in seeds}
    shift = profile.counter_default
    hours = list(range(shift.open // 3600, math.ceil(shift.close / 3600)))
    demand = profile.demand(code)
    mean = (1 - demand.no_show) * (demand.walk_seconds + plan_day(config, profile, seeds[0]).service_means[code]) \
        + demand.no_show * demand.no_show_wait_seconds
    arrivals = {h: sum(1 for cs in citizens.values() for c in cs if max(c.at, shift.open) // 3600 == h) / len(seeds)
                for h in hours}
    need = {h: erlang_counters(arrivals[h], mean, target_s) for h in hours}
    first = dict(need)
    rounds, p90s = 0, {}
    while True:
        rounds += 1
        p90s = await _staffed_p90(solo, profile, code, need, citizens, shift.open)
        missed = [h for h in hours if h in p90s and p90s[h] > target_s]
        if not missed or rounds >= MAX_ROUNDS:
            break
        hour = missed[0]
        # A backlog carried into the hour is cleared faster by a counter more the hour before.
        bump = hour - 1 if hour - 1 in need and need[hour] >= need[hour - 1] + 2 else hour
        if need[bump] >= MAX_COUNTERS:
            break
        need[bump] += 1
    return {"service": code, "target_p90_s": round(target_s), "seeds": seeds, "rounds": rounds,
            "mean_visit_s": round(mean), "met": not missed,
            "hours": [{"hour": h, "arrivals": round(arrivals[h], 1), "erlang": first[h], "counters": need[h],
                       "wait_p90_s": None if p90s.get(h) is None else round(p90s[h])} for h in hours]}


def _solo_hall(config: HallConfig, code: str) -> HallConfig:
    """Only `code`, on MAX_COUNTERS counters of its own."""
    doc: dict[str, Any] = {k: v for k, v in config.raw.items() if k not in ("zones",)}
    doc["services"] = [s for s in doc.get("services", []) if s["code"] == code]
    doc["agencies"] = [a for a in doc.get("agencies", []) if a["code"] == doc["services"][0]["agency"]]
    doc["counters"] = [{"id": f"{SIM_PREFIX}{i + 1}", "name": f"Loket simulasi {i + 1}", "services": [code]}
                       for i in range(MAX_COUNTERS)]
    return parse_hall(doc, config.source)


async def _staffed_p90(solo: HallConfig, profile: Profile, code: str, need: dict[int, int],
                       citizens: dict[int, list[Citizen]], start: int) -> dict[int, float]:
    """90th percentile wait per hour of arrival, pooled over the seeds, with `need[h]` counters open
    in hour h."""
    days = []
    for i in range(MAX_COUNTERS):
        open_hours = [h for h, n in sorted(need.items()) if i < n]
        if not open_hours:
            continue
        gaps = tuple((h * 3600, (h + 1) * 3600) for h in range(open_hours[0], open_hours[-1]) if h not in open_hours)
        days.append(CounterDay(f"{SIM_PREFIX}{i + 1}", open_hours[0] * 3600, (open_hours[-1] + 1) * 3600, gaps))
    pooled: dict[int, list[float]] = {}
    for seed, cs in citizens.items():
        results = await _run(_replan(solo, profile, seed, cs, days), seed)
        for hour, ws in _by_hour(results, code, start).items():
            pooled.setdefault(hour, []).extend(ws)
    return {h: p for h, ws in pooled.items() if (p := percentile(ws, 90)) is not None}
