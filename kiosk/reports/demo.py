"""Realistic history for a hall (`giliran demo-history --days N`): each past day simulated as a queue,
so waits grow with the morning rush and the counters' capacity, as in a real hall.

Per day: closed on Sundays, Saturday mornings only; arrivals peak mid-morning. Each service gets a
share by its counters' capacity for it; the day's demand is at most `per_day` and at most 70% of what
the counters can serve (waits come from the rush, not from a hall that never catches up), never past
a service's quota. Each counter calls the oldest ticket of its services when free. About 4% of called
tickets do not come (a quarter of those are put back and served later), 2% give up while waiting,
2.5% are transferred to another service of their agency, and whoever still waits when the counters
close expires. Service times follow each service's `service_minutes` (log-normal). Officers are
named per counter (petugas-<counter>), each counter takes a lunch break (a pause and a resume). The
same seed gives the same history.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from kiosk.hall.config import HallConfig, Service
from kiosk.storage.base import Store

HOURS = ((7.75, 0.5), (8, 1.4), (9, 1.6), (10, 1.3), (11, 1.0), (12, 0.5), (13, 0.8), (14, 0.5))  # (start, weight)
WEEKDAY_LOAD = (1.15, 1.0, 1.0, 0.95, 0.85, 0.45, 0.0)  # Monday..Sunday
CLOSE = 16.5  # counters stop calling at 16:30
NO_SHOW, REQUEUE, CANCEL, TRANSFER = 0.04, 0.25, 0.02, 0.025


@dataclass
class _Ticket:
    id: int
    service: str
    issued_at: float
    seq: int
    state: str = "waiting"
    joined_at: float = 0.0
    visits: list[dict[str, Any]] = field(default_factory=list)
    moved_to: str | None = None
    first_service: str = ""
    finished_at: float | None = None
    gives_up: float | None = None  # when this citizen leaves if not called by then


@dataclass
class Day:
    """What one simulated day writes."""

    tickets: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    transfers: list[dict[str, Any]]
    later_visits: list[dict[str, Any]]
    audit: list[tuple[float, str, str, str]]


def _arrival(rng: random.Random, day: date, tz: Any, saturday: bool) -> float:
    slots = HOURS[:4] if saturday else HOURS
    start, _ = rng.choices(slots, weights=[w for _, w in slots])[0]
    hour = start + rng.random() * (0.25 if start == 7.75 else 1.0)
    local = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=hour)
    return local.timestamp()


def _service_s(rng: random.Random, service: Service, default_minutes: float) -> float:
    mean = 60 * (service.service_minutes or default_minutes)
    sigma = 0.5
    return max(30.0, rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma))


def simulate_day(config: HallConfig, day: date, per_day: int, rng: random.Random, first_id: int) -> Day:
    """One day of the hall (nothing on a Sunday)."""
    load = WEEKDAY_LOAD[day.weekday()]
    tz = config.hall.tz
    if load == 0 or not config.services or not config.counters:
        return Day([], [], [], [], [])
    weights = capacity(config)
    total = max(1, round(min(per_day, 0.7 * sum(weights.values())) * load * rng.uniform(0.9, 1.1)))
    issued: dict[str, int] = {}
    tickets: list[_Ticket] = []
    for _ in range(total):
        code = rng.choices(list(weights), weights=list(weights.values()))[0]
        service = config.service(code)
        assert service is not None
        if service.daily_quota and issued.get(code, 0) >= service.daily_quota:
            continue
        issued[code] = issued.get(code, 0) + 1
        at = _arrival(rng, day, tz, day.weekday() == 5)
        gives_up = at + rng.uniform(600, 3600) if rng.random() < CANCEL else None
        tickets.append(_Ticket(0, code, at, 0, joined_at=at, first_service=code, gives_up=gives_up))
    tickets.sort(key=lambda t: t.issued_at)
    seqs: dict[str, int] = {}
    for i, t in enumerate(tickets):
        t.id = first_id + i
        seqs[t.service] = seqs.get(t.service, 0) + 1
        t.seq = seqs[t.service]
    audit = _run_counters(config, day, tickets, rng)
    return _rows(config, day, tickets, audit)


def capacity(config: HallConfig) -> dict[str, float]:
    """Per service, how many tickets its counters can serve in a day (each counter's 7.5 hours of
    service shared equally among its services)."""
    out = {s.code: 0.0 for s in config.services}
    for counter in config.counters:
        minutes = [(config.service(c).service_minutes or config.queue.default_service_minutes)  # type: ignore[union-attr]
                   for c in counter.services if config.service(c)]
        if not minutes:
            continue
        visits = 7.5 * 3600 / (60 * sum(minutes) / len(minutes) + 60)
        for code in counter.services:
            if code in out:
                out[code] += visits / len(counter.services)
    return {code: n for code, n in out.items() if n > 0}


def _run_counters(config: HallConfig, day: date, tickets: list[_Ticket], rng: random.Random
                  ) -> list[tuple[float, str, str, str]]:
    """Counters call the oldest waiting ticket of their services whenever they are free."""
    tz = config.hall.tz
    opening = datetime.combine(day, time(8), tzinfo=tz).timestamp()
    closing = datetime.combine(day, time(0), tzinfo=tz).timestamp() + CLOSE * 3600
    lunch = datetime.combine(day, time(11, 30) if day.weekday() == 4 else time(12), tzinfo=tz).timestamp()
    queues: dict[str, deque[_Ticket]] = {s.code: deque() for s in config.services}
    arrivals: list[tuple[float, int, _Ticket]] = [(t.issued_at, t.id, t) for t in tickets]
    heapq.heapify(arrivals)
    free = [(opening + rng.uniform(0, 600), c.id) for c in config.counters]
    heapq.heapify(free)
    counters = {c.id: c for c in config.counters}
    audit: list[tuple[float, str, str, str]] = []
    lunched: set[str] = set()
    while free:
        now, cid = heapq.heappop(free)
        if now >= closing:
            continue
        while arrivals and arrivals[0][0] <= now:
            _, _, t = heapq.heappop(arrivals)
            if t.state == "waiting":
                queues[t.service].append(t)
        if cid not in lunched and now >= lunch:  # each counter takes its lunch break once
            lunched.add(cid)
            back = now + rng.uniform(45, 60) * 60
            audit += [(now, f"petugas-{cid}", "pause", cid), (back, f"petugas-{cid}", "resume", cid)]
            heapq.heappush(free, (back, cid))
            continue
        ticket = _oldest(queues, counters[cid].services, now)
        if ticket is None:
            upcoming = [a for a in arrivals if a[2].service in counters[cid].services]
            nxt = min((a[0] for a in upcoming), default=closing)
            heapq.heappush(free, (max(now + 30, nxt), cid))
            continue
        heapq.heappush(free, (_serve(config, ticket, cid, now, rng, arrivals), cid))
    for t in tickets:  # still waiting when the counters closed (or gave up before)
        if t.state == "waiting":
            gave_up = t.gives_up is not None and not t.visits and t.gives_up < closing
            t.state, t.finished_at = ("cancelled", t.gives_up) if gave_up else ("expired", None)
    return sorted(audit)


def _oldest(queues: dict[str, deque[_Ticket]], services: tuple[str, ...], now: float) -> _Ticket | None:
    """The longest-waiting ticket of these services, leaving out those who gave up meanwhile."""
    best: _Ticket | None = None
    for code in services:
        q = queues.get(code)
        while q and (q[0].state != "waiting" or (q[0].gives_up is not None and q[0].gives_up <= now
                                                  and not q[0].visits)):
            gone = q.popleft()
            if gone.state == "waiting":
                gone.state, gone.finished_at = "cancelled", gone.gives_up
        if q and (best is None or q[0].joined_at < best.joined_at):
            best = q[0]
    if best is not None:
        queues[best.service].popleft()
    return best


def _serve(config: HallConfig, t: _Ticket, cid: str, now: float, rng: random.Random,
           arrivals: list[tuple[float, int, _Ticket]]) -> float:
    """One visit at a counter; returns when the counter is free again."""
    officer = f"petugas-{cid}"
    visit: dict[str, Any] = {"service": t.service, "counter_id": cid, "username": officer, "called_at": now}
    t.visits.append(visit)
    if rng.random() < NO_SHOW:
        end = now + rng.uniform(60, 150)
        visit.update(started_at=None, ended_at=end, outcome="no_show")
        if rng.random() < REQUEUE and len(t.visits) == 1 and t.moved_to is None:
            t.joined_at = end + rng.uniform(300, 1200)  # back in line, in its own place
            heapq.heappush(arrivals, (t.joined_at, t.id, t))
        else:
            t.state, t.finished_at = "no_show", end
        return end
    start = now + rng.uniform(15, 90)
    service = config.service(t.service)
    assert service is not None
    end = start + _service_s(rng, service, config.queue.default_service_minutes)
    others = [s.code for s in config.services if s.agency == service.agency and s.code != t.service]
    if t.moved_to is None and others and rng.random() < TRANSFER:
        end = start + (end - start) * 0.3
        visit.update(started_at=start, ended_at=end, outcome="transferred")
        t.moved_to = t.service = rng.choice(others)
        t.joined_at = end
        heapq.heappush(arrivals, (end, t.id, t))
        return end
    visit.update(started_at=start, ended_at=end, outcome="done")
    t.state, t.finished_at = "done", end
    return end


def _rows(config: HallConfig, day: date, tickets: list[_Ticket], audit: list[tuple[float, str, str, str]]) -> Day:
    """Tickets as the queue leaves them; one that ended cancelled or expired is written waiting and
    closed after its visits (as the queue would: the end comes last)."""
    iso = day.isoformat()
    rows: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    transfers: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for t in tickets:
        last: dict[str, Any] = t.visits[-1] if t.visits else {}
        first_counter = last["counter_id"] if last and t.state in ("done", "no_show") else None
        rows.append({"id": t.id, "token": f"demo-{iso}-{t.id}", "day": iso, "prefix": t.first_service, "seq": t.seq,
                     "number": f"{t.first_service}{t.seq:03d}", "service": t.first_service, "priority": 0,
                     "priority_reason": None, "issued_at": t.issued_at, "final": t.state,
                     "state": "waiting" if t.state in ("cancelled", "expired") else t.state,
                     "called_at": last["called_at"] if first_counter else None,
                     "started_at": last.get("started_at") if first_counter else None,
                     "finished_at": t.finished_at if t.state not in ("cancelled", "expired") else None,
                     "ended_at": t.finished_at, "counter_id": first_counter, "recalls": 0, "transfers": 0,
                     "kiosk": None, "place": t.issued_at})
        moved = False
        for v in t.visits:
            (later if moved else visits).append({"ticket_id": t.id, "day": iso, **v})
            moved = moved or v["outcome"] == "transferred"
        if t.moved_to is not None:
            transfers.append({"id": t.id, "service": t.moved_to})
    return Day(rows, visits, transfers, later, audit)


def days_before(today: date, count: int) -> Iterator[date]:
    """The `count` days before `today`, oldest first."""
    for n in range(count, 0, -1):
        yield today - timedelta(days=n)


async def write_history(store: Store, config: HallConfig, days: list[date], per_day: int, seed: int,
                        progress: Any = None) -> tuple[int, int, int]:
    """Simulate and write each day that has no tickets yet, one transaction per day; returns
    (open days written, tickets written, days left alone because they had tickets)."""
    rng = random.Random(seed)
    taken = await store.reads.days_with_tickets(days[0].isoformat(), days[-1].isoformat())
    written = tickets = 0
    for day in days:
        if day.isoformat() in taken:
            continue
        async with store.transaction() as q:
            history = simulate_day(config, day, per_day, rng, await q.next_ticket_id())
            await q.add_history(history.tickets, history.visits, history.transfers, history.later_visits,
                                history.audit)
        if history.tickets:  # not a closed day
            written, tickets = written + 1, tickets + len(history.tickets)
        if progress is not None and written % 30 == 0:
            progress(f"{day}: {tickets} tickets so far")
    return written, tickets, len(taken)
