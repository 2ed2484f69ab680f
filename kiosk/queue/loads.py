"""How busy each service is: people waiting, counters working it, its pace, and the forecast of its
queue (kiosk/queue/estimate.py, docs/estimates.md); and whether a ticket can be taken now (hours,
quota)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kiosk.hall.config import HallConfig, Service
from kiosk.queue.clock import to_local
from kiosk.queue.estimate import Desk, Forecast, Pace, mean_service_seconds, pace_of, simple_wait_seconds
from kiosk.queue.models import Ticket
from kiosk.queue.writer import Work, Writer
from kiosk.storage.base import DeskRow, Queries

FORECAST_READ = 400  # waiting tickets read per service and class; a longer queue goes on at its rate
FORECAST_TICKETS = 500  # call times run for this many tickets of a group at most; later ones at their rate
REORDERED = {"deferred", "requeued"}  # changes that move a waiting ticket to another place in its queue
RUNS_PER_SECOND = 4  # a group's forecast is run at most this often per second of the hall's clock; in a
#                      burst of calls beyond that, the called tickets leave the last run's places
RECENT_VISITS = 30  # the service's pace today: its last visits
USUAL_DAYS = 28  # its usual pace at this hour: the visits of the last four weeks
STALE_S = 60.0  # a forecast older than this is redone (visits in progress have gone on)
FLOW_S = 300.0  # priority arrivals and drop-outs are read again after this long
ARRIVAL_WINDOW_S = 3600.0  # priority arrivals to come: as many as in the last hour
DROP_PRIOR = 10  # the share of cancellations counts this many tickets that were called, before the day shows its own


@dataclass(frozen=True)
class ServiceLoad:
    """How busy one service is right now, and the forecast of its queue."""

    service: str
    waiting: int
    servers: int  # counters working it now (0: nobody calls it)
    mean_service_s: float  # the expected length of one visit (call to end)
    forecast: Forecast | None = field(default=None, compare=False, repr=False)
    now: float = 0.0

    @property
    def estimable(self) -> bool:
        """Whether a working counter calls this service (else no wait can be estimated)."""
        return self.forecast is not None and self.forecast.serves(self.service)

    def wait_for(self, ahead: int) -> int | None:
        """Estimated seconds until the call of the waiting ticket with `ahead` people before it (or of
        a new ticket, for `ahead` = everyone waiting); None when no counter works the service."""
        return None if self.forecast is None else self.forecast.wait(self.service, ahead, self.now)

    def due(self, ahead: int, notice_s: float) -> bool:
        """Whether the citizen with `ahead` people before them should be told now that their turn
        approaches, for a notice of `notice_s` to twice it (Forecast.due)."""
        return self.forecast is not None and self.forecast.due(self.service, ahead, notice_s, self.now)

    def within(self, notice_s: float) -> int:
        """How many places of each class are `due` now (how far the alert policy looks)."""
        return 0 if self.forecast is None else self.forecast.within(self.service, notice_s, self.now)


@dataclass(frozen=True)
class SimpleLoad:
    """The formula used before the forecast (ahead x mean / counters), for the day simulator's comparison."""

    servers: int
    mean_service_s: float

    def wait_for(self, ahead: int) -> int:
        """Estimated seconds for someone with `ahead` people before them."""
        return simple_wait_seconds(ahead, self.servers, self.mean_service_s)


@dataclass
class _Cached:
    """A group's forecast with what it was built from: it holds while those stay as they were."""

    forecast: Forecast
    fingerprint: tuple[Any, ...]
    waiting: dict[str, int]  # per service, as read plus the tickets admitted since
    generation: tuple[int, int] | None  # the write it was built in and the other processes' writes heard
    #                                     of by then (None: built outside a write)


class Loads:
    """Reads services' loads; keeps each group of services' forecast while nothing real changes."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._cache_key: tuple[Any, ...] = ()
        self._groups: tuple[HallConfig | None, dict[str, tuple[str, ...]]] = (None, {})
        self._usual: tuple[str, dict[tuple[str, int], tuple[int, float, float]]] | None = None
        self._flows: dict[tuple[str, ...], tuple[float, dict[str, float], dict[str, float]]] = {}
        self._runs: dict[tuple[str, ...], tuple[int, int]] = {}  # per group, (clock second, runs in it)

    # --- groups of services that share counters ------------------------------------------------------
    def group(self, code: str) -> tuple[str, ...]:
        """The services linked to this one by counters that call both (directly or through others)."""
        config = self.writer.config
        if self._groups[0] is not config:
            self._groups = (config, _groups_of(config))
        return self._groups[1].get(code, (code,))

    # --- loads -----------------------------------------------------------------------------------------
    async def in_work(self, w: Work, code: str) -> ServiceLoad:
        """One service's load inside a write transaction, computed once until a ticket changes.

        Between writes that only issue tickets, nothing the forecast rests on changes: it is kept,
        and a new ticket joins it at the back (Views.ticket_view admits it); any other write, a
        failed write, a new day or hall, or a minute gone by has it checked or redone.
        """
        if (load := w.loads.get(code)) is not None:
            return load
        cached = await self._forecast(w.q, code, w.now, w.day, in_write=True)
        waiting = w.waiting.get(code)
        if waiting is None:
            waiting = await w.q.waiting_count(w.day, code)
        load = _load(code, waiting, cached.forecast, w.now)
        w.loads[code] = load
        return load

    async def current(self, q: Queries | None = None, codes: tuple[str, ...] | None = None
                      ) -> dict[str, ServiceLoad]:
        """Per service (all, or `codes`): people waiting, counters working it, pace and forecast."""
        q = q or self.writer.store.reads
        config = self.writer.config
        day, now = self.writer.today(), self.writer.clock.now()
        services = config.services if codes is None else [s for c in codes if (s := config.service(c))]
        waiting = await q.waiting_counts(day, services[0].code if len(services) == 1 else None)
        groups = {self.group(s.code) for s in services}
        # Several groups: every counter's state read once, each group checked against it.
        every = (await q.desk_states(day, [c.id for c in config.counters]), waiting) if len(groups) > 1 else None
        loads, seen = {}, {}
        for service in services:
            group = self.group(service.code)
            if group not in seen:  # one check of each group per call
                seen[group] = (await self._forecast(q, service.code, now, day, in_write=False,
                                                    prefetched=every)).forecast
            loads[service.code] = _load(service.code, waiting.get(service.code, 0), seen[group], now)
        return loads

    def admit(self, ticket: Ticket, load: ServiceLoad) -> None:
        """A ticket just issued joins its service's forecast (before its own wait is read)."""
        if load.forecast is None:
            return
        before = len(load.forecast.known)
        load.forecast.admit(ticket.id, ticket.service, ticket.priority, load.now, ticket.place)
        cached = self._cache.get(self.group(ticket.service))
        if cached is not None and cached.forecast is load.forecast and len(load.forecast.known) > before:
            cached.waiting[ticket.service] = cached.waiting.get(ticket.service, 0) + 1

    async def simple(self, q: Queries | None = None, codes: tuple[str, ...] | None = None) -> dict[str, SimpleLoad]:
        """The formula used before the forecast, per service (the day simulator compares the two)."""
        q = q or self.writer.store.reads
        config = self.writer.config
        day = self.writer.today()
        services = config.services if codes is None else [s for c in codes if (s := config.service(c))]
        one = services[0].code if len(services) == 1 else None
        durations = await q.recent_durations(day, service=one)
        active = await q.working_counters(day)
        loads = {}
        for service in services:
            counters = config.counters_for(service.code)
            working = [c for c in counters if c.id in active]
            prior_s = 60 * (service.service_minutes or config.queue.default_service_minutes)
            loads[service.code] = SimpleLoad(len(working) or len(counters),
                                             mean_service_seconds(prior_s, durations.get(service.code)))
        return loads

    async def changed(self, w: Work, service_code: str, moved: bool = True) -> None:
        """Public event: a service's queue changed. `moved`: people in it may have come closer to a
        counter (a ticket joining at the back brings nobody closer)."""
        if moved:
            w.moved.add(service_code)
        for change in w.changes:
            if change.kind in REORDERED:  # a ticket took another place: its group's run is redone
                self._cache.pop(self.group(change.ticket.service), None)
        load = await self.in_work(w, service_code)
        await w.emit("queue.changed", {"service": service_code, "waiting": load.waiting,
                                       "estimated_wait_s": load.wait_for(load.waiting)})

    def availability(self, service: Service, issued: int) -> tuple[bool, int | None, str | None]:
        """(open by hours, quota left, why no ticket can be taken now or None)."""
        open_now = service.hours is None or service.hours.is_open(self.writer.local_now().time())
        quota_left = None if service.daily_quota is None else max(0, service.daily_quota - issued)
        reason = None
        if not open_now:
            reason = "service_closed"
        elif quota_left == 0:
            reason = "quota_exhausted"
        return open_now, quota_left, reason

    # --- the forecast ----------------------------------------------------------------------------------
    async def _forecast(self, q: Queries, code: str, now: float, day: str, *, in_write: bool,
                        prefetched: tuple[dict[str, DeskRow], dict[str, int]] | None = None) -> _Cached:
        """The group's forecast: kept while its fingerprint (counters working, their visits and
        priority streaks, people waiting) is what it was built from and it is under a minute old."""
        writer = self.writer
        # Other processes of the hall (a shared database) call and pause too: a write of theirs heard
        # of since the run means it may rest on what changed, so it is checked like one of ours.
        moment = (writer.generation, writer.publisher.heard)
        key = (writer.store.failures, day, writer.config)
        if key != self._cache_key:
            self._cache.clear()
            self._flows.clear()
            self._cache_key = key
        group = self.group(code)
        cached = self._cache.get(group)
        fresh = cached is not None and not cached.forecast.stale and now - cached.forecast.now < STALE_S
        if cached is not None and fresh and cached.generation == moment and in_write:
            return cached  # only tickets issued since: nothing it rests on can have changed
        desks, fingerprint, waiting = await self._state(q, group, day, prefetched)
        if cached is not None and fresh and cached.fingerprint == fingerprint and cached.waiting == waiting:
            cached.generation = moment if in_write else None
            return cached
        second, runs = self._runs.get(group, (-1, 0))
        if cached is not None and fresh and second == int(now) and runs >= RUNS_PER_SECOND \
                and self._patched(cached, fingerprint, waiting):
            cached.generation = moment if in_write else None
            return cached
        self._runs[group] = (int(now), runs + 1 if second == int(now) else 1)
        lanes = await q.waiting_lanes(day, group, FORECAST_READ) if desks and any(waiting.values()) else []
        read: dict[str, int] = {}
        for lane in lanes:
            read[lane[1]] = read.get(lane[1], 0) + 1
        unread = {c: n - read.get(c, 0) for c, n in waiting.items() if n > read.get(c, 0)}
        paces = await self._paces(q, group, now, day) if desks else {}
        arrivals, drop = await self._flow(q, group, now, day) if desks else ({}, {})
        forecast = Forecast.run(now, desks, lanes, paces, max_in_row=writer.config.queue.priority_max_in_row,
                                unread=unread, arrivals=arrivals, drop=drop, horizon=FORECAST_TICKETS)
        cached = _Cached(forecast, fingerprint, waiting, moment if in_write else None)
        self._cache[group] = cached
        return cached

    @staticmethod
    def _patched(cached: _Cached, fingerprint: tuple[Any, ...], waiting: dict[str, int]) -> bool:
        """A burst of calls right after a run: the called tickets leave the forecast's places and the
        rest stays as run, when every ticket gone from the queue is one a counter now has (else False:
        something else changed, the run is redone)."""
        before = {d[0]: d[1] for d in cached.fingerprint}
        called = {d[1] for d in fingerprint if d[1] and d[1] != before.get(d[0])}
        order = {i for ids in cached.forecast.order.values() for i in ids}
        gone = sum(cached.waiting.values()) - sum(waiting.values())
        if set(before) != {d[0] for d in fingerprint} or gone != len(called & order) or not called <= order:
            return False
        if any(waiting.get(s, 0) > n for s, n in cached.waiting.items()):
            return False
        cached.forecast.leave(called)
        cached.fingerprint, cached.waiting = fingerprint, waiting
        return True

    async def _state(self, q: Queries, group: tuple[str, ...], day: str,
                     read: tuple[dict[str, DeskRow], dict[str, int]] | None = None
                     ) -> tuple[list[Desk], tuple[Any, ...], dict[str, int]]:
        """What a group's forecast rests on: its working counters (their visits in progress and
        priority streaks) and the people waiting (`read`: both already read for every counter and
        service); read first, so a write between reads shows."""
        members = set(group)
        counters = [c for c in self.writer.config.counters if members.intersection(c.services)]
        rows = read[0] if read is not None else await q.desk_states(day, [c.id for c in counters])
        desks = []
        for counter in counters:
            if (row := rows.get(counter.id)) is not None:
                streak, _, service, called_at = row
                busy = (service, called_at) if service is not None and called_at is not None else None
                desks.append(Desk(counter.id, counter.services, busy, streak))
        fingerprint = tuple((d.id, rows[d.id][1], d.busy, d.streak) for d in desks)
        counts = read[1] if read is not None else await q.waiting_counts(day, group[0] if len(group) == 1 else None)
        return desks, fingerprint, {c: counts.get(c, 0) for c in group}

    async def _flow(self, q: Queries, group: tuple[str, ...], now: float, day: str
                    ) -> tuple[dict[str, float], dict[str, float]]:
        """Per service, priority tickets to come per second (as many as in the last hour) and the share
        of waiting tickets cancelled before their call today (shrunk towards none); read every few minutes."""
        cached = self._flows.get(group)
        if cached is not None and 0 <= now - cached[0] < FLOW_S:
            return cached[1], cached[2]
        rows = await q.day_flow(day, group, now - ARRIVAL_WINDOW_S)
        arrivals = {s: r[2] / ARRIVAL_WINDOW_S for s, r in rows.items()}
        drop = {s: r[1] / (r[0] + r[1] + DROP_PRIOR) for s, r in rows.items()}
        self._flows[group] = (now, arrivals, drop)
        return arrivals, drop

    async def _paces(self, q: Queries, group: tuple[str, ...], now: float, day: str) -> dict[str, Pace]:
        """Each service's pace: its last visits today, shrunk towards its usual pace at this hour."""
        config = self.writer.config
        recent = await q.recent_visits(day, group, RECENT_VISITS)
        local = to_local(now, config.hall.tz)
        if self._usual is None or self._usual[0] != day:
            first = (date.fromisoformat(day) - timedelta(days=USUAL_DAYS)).isoformat()
            offset = local.utcoffset()
            self._usual = (day, await q.usual_visits(first, day, int(offset.total_seconds()) if offset else 0))
        paces = {}
        for code in group:
            service = config.service(code)
            minutes = (service.service_minutes if service else None) or config.queue.default_service_minutes
            paces[code] = pace_of(60 * minutes, recent.get(code, []), self._usual[1].get((code, local.hour)))
        return paces


def _load(code: str, waiting: int, forecast: Forecast, now: float) -> ServiceLoad:
    servers = sum(1 for f in forecast.desks if code in f.desk.services)
    pace = forecast.paces.get(code)
    return ServiceLoad(code, waiting, servers, pace.mean_s if pace else 0.0, forecast if servers else None, now)


def _groups_of(config: HallConfig) -> dict[str, tuple[str, ...]]:
    """Services linked by counters that call more than one of them (union-find)."""
    parent = {s.code: s.code for s in config.services}

    def root(code: str) -> str:
        while parent[code] != code:
            parent[code] = parent[parent[code]]
            code = parent[code]
        return code

    for counter in config.counters:
        codes = [c for c in counter.services if c in parent]
        for other in codes[1:]:
            parent[root(other)] = root(codes[0])
    members: dict[str, list[str]] = {}
    for service in config.services:
        members.setdefault(root(service.code), []).append(service.code)
    return {code: tuple(group) for group in members.values() for code in group}
