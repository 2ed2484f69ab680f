"""Waiting-time estimates (docs/estimates.md).

- `Forecast`: what citizens are shown. A forward run of the queue as it stands, by the hall's own
  rules: the counters that work now, each free when its visit in progress is expected to end (given
  how long it has already lasted), calling in turn by the priority rule across the services it
  shares, each visit lasting the service's expected pace (recent visits today, shrunk towards its
  usual pace at this hour, no-shows included). Every waiting ticket gets an expected call time and
  a spread; tickets that no working counter calls get none ("belum dapat diperkirakan").
- `simple_wait_seconds`: the formula used before (people ahead x mean service time / counters
  working), kept because the day simulator measures the forecast against it.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kiosk.storage.base import Lane

PRIOR_WEIGHT = 3  # today's formula: the prior counts as this many observed visits
PACE_PRIOR_VISITS = 5  # the forecast: the prior pace counts as this many visits
PRIOR_SPREAD = 0.6  # coefficient of variation of a visit assumed until visits are seen
USUAL_MIN_VISITS = 10  # an hour of history needs this many visits to be the prior
SPREAD_BOUNDS = (0.15, 2.0)


# --- the formula used before the forecast (kept for the comparison) ----------------------------------
def mean_service_seconds(prior_s: float, observed: tuple[int, float] | None) -> float:
    """Mean time a counter spends per ticket: recent visits blended with the prior."""
    if not observed:
        return prior_s
    count, total = observed
    return (prior_s * PRIOR_WEIGHT + total) / (PRIOR_WEIGHT + count)


def simple_wait_seconds(ahead: int, servers: int, mean_s: float) -> int:
    """Waiting time for someone with `ahead` people before them and `servers` counters working."""
    if ahead <= 0:
        return 0
    return round(ahead * mean_s / max(servers, 1))


# --- how long a visit takes ----------------------------------------------------------------------
def _phi(x: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@dataclass(frozen=True)
class Pace:
    """How long one visit at a counter takes (call to end, no-shows included): a lognormal law."""

    mean_s: float
    spread: float  # coefficient of variation

    @property
    def sigma(self) -> float:
        """The lognormal's shape."""
        return math.sqrt(math.log1p(self.spread ** 2))

    @property
    def var(self) -> float:
        """Variance of one visit (seconds squared)."""
        return (self.mean_s * self.spread) ** 2

    def residual(self, elapsed: float) -> tuple[float, float]:
        """(mean, variance) of what is left of a visit that has lasted `elapsed` seconds so far."""
        if elapsed <= 0:
            return self.mean_s, self.var
        sigma = self.sigma
        mu = math.log(self.mean_s) - sigma ** 2 / 2
        z = (mu - math.log(elapsed)) / sigma
        tail = _phi(z)  # P(visit > elapsed)
        if tail < 1e-12:  # far out in the tail: the asymptotic (Mills ratio) form
            left = elapsed * sigma ** 2 / max(math.log(elapsed) - mu, sigma ** 2)
            return left, left ** 2
        first = math.exp(mu + sigma ** 2 / 2) * _phi(z + sigma) / tail
        second = math.exp(2 * mu + 2 * sigma ** 2) * _phi(z + 2 * sigma) / tail
        left = max(first - elapsed, 1.0)
        return left, max(second - first ** 2, 1.0)


def pace_of(prior_s: float, visits: Sequence[float], usual: tuple[int, float, float] | None = None) -> Pace:
    """A service's pace now: its recent visits today shrunk towards its usual pace at this hour (when
    the history has enough visits), else towards the configured time per ticket."""
    prior_mean, prior_spread = prior_s, PRIOR_SPREAD
    if usual is not None and usual[0] >= USUAL_MIN_VISITS:
        count, total, squares = usual
        prior_mean = total / count
        prior_spread = math.sqrt(max(squares / count - prior_mean ** 2, 0.0)) / max(prior_mean, 1.0)
    prior_mean = max(prior_mean, 1.0)
    prior_spread = min(max(prior_spread, SPREAD_BOUNDS[0]), SPREAD_BOUNDS[1])
    weight = PACE_PRIOR_VISITS
    total = prior_mean * weight + sum(visits)
    squares = prior_mean ** 2 * (1 + prior_spread ** 2) * weight + sum(v * v for v in visits)
    n = weight + len(visits)
    mean = max(total / n, 1.0)
    spread = math.sqrt(max(squares / n - mean ** 2, 0.0)) / mean
    return Pace(mean, min(max(spread, SPREAD_BOUNDS[0]), SPREAD_BOUNDS[1]))


# --- the forecast ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Desk:
    """A counter working today (open, not paused), as the forecast sees it."""

    id: str
    services: tuple[str, ...]
    busy: tuple[str, float] | None = None  # the visit in progress: its service and when it was called
    streak: int = 0  # priority tickets called in a row (the priority rule)


@dataclass
class _Free:
    """When a desk is expected to be free next, and how uncertain that is."""

    at: float
    var: float
    streak: int
    desk: Desk


@dataclass(frozen=True)
class Eta:
    """A waiting ticket's expected call time (epoch seconds) and its spread (seconds)."""

    at: float
    sd: float


@dataclass
class Forecast:
    """Expected call times of the waiting tickets of a group of services that share counters.

    Built once per real change of the group (see Loads); asking it is cheap. A new normal ticket
    joins at the back (`admit`): it is called after everyone in the group, by the first counter of
    its service to be free at the end of the run, so it extends the run without redoing it.
    """

    now: float
    paces: dict[str, Pace]
    max_in_row: int
    order: dict[str, list[int]] = field(default_factory=dict)  # per service, ids in the order of calling
    priorities: dict[str, int] = field(default_factory=dict)  # per service, priority tickets first in `order`
    etas: dict[int, Eta] = field(default_factory=dict)
    desks: list[_Free] = field(default_factory=list)  # where the run ended (what comes next)
    first_free: dict[str, float] = field(default_factory=dict)  # per service, its next call (a desk free)
    next_look: float = math.inf  # the group's next call (the next time the alert policy looks)
    unread: dict[str, int] = field(default_factory=dict)  # per service, waiting tickets beyond what was read
    known: set[int] = field(default_factory=set)
    last_id: int = 0
    last_place: float = 0.0  # the latest place in the run (a new ticket placed before it is not at the back)
    stale: bool = False  # a priority ticket joined since: the run must be redone
    arrivals: dict[str, float] = field(default_factory=dict)  # per service, priority tickets to come per second
    keep: dict[str, float] = field(default_factory=dict)  # per service, share of the waiting who stay to be called

    cut: bool = False  # the run stopped at its horizon: later places go on at the services' rates
    _tails: dict[str, tuple[int, Eta]] = field(default_factory=dict)  # per service, its last place with a call
    _steps: dict[str, float] = field(default_factory=dict)

    @classmethod
    def run(cls, now: float, desks: Iterable[Desk], lanes: Iterable[Lane], paces: dict[str, Pace], *,
            max_in_row: int, unread: dict[str, int] | None = None, arrivals: dict[str, float] | None = None,
            drop: dict[str, float] | None = None, horizon: int | None = None) -> Forecast:
        """The forecast of the queue as it stands at `now`. `arrivals`: per service, priority tickets
        expected per second (they will go before normal ones); `drop`: per service, the share of
        waiting tickets that will be cancelled before their call; `horizon`: call times are run for
        this many tickets at most (later ones go on at their service's rate)."""
        forecast = cls(now=now, paces=paces, max_in_row=max_in_row, unread=dict(unread or {}),
                       arrivals={s: r for s, r in (arrivals or {}).items() if r > 0},
                       keep={s: 1 - min(max(d, 0.0), 0.9) for s, d in (drop or {}).items()})
        forecast._simulate(list(desks), sorted(lanes, key=lambda t: (t[3], t[0])), horizon)
        return forecast

    def leave(self, ticket_ids: Iterable[int]) -> None:
        """Tickets called (or gone) since the run: later places move up, expected calls stay."""
        gone = set(ticket_ids)
        self._tails.clear()
        for service, order in self.order.items():
            if gone.intersection(order):
                self.priorities[service] -= sum(1 for i in order[:self.priorities[service]] if i in gone)
                self.order[service] = [i for i in order if i not in gone]

    def _visit(self, free: _Free, service: str) -> None:
        """A desk takes a ticket of `service`: it is busy for the expected visit (less the share of
        tickets that will have dropped out)."""
        pace, keep = self.paces[service], self.keep.get(service, 1.0)
        free.at += pace.mean_s * keep
        free.var += pace.var * keep

    def _simulate(self, desks: list[Desk], lanes: list[Lane], horizon: int | None) -> None:
        queues: dict[tuple[str, bool], deque[Lane]] = {}
        for ticket in lanes:
            queues.setdefault((ticket[1], ticket[2]), deque()).append(ticket)
            self.known.add(ticket[0])
            self.last_id = max(self.last_id, ticket[0])
            self.last_place = max(self.last_place, ticket[3])
        for service in {t[1] for t in lanes} | set(self.paces):
            first = [t[0] for t in queues.get((service, True), ())]
            self.priorities[service] = len(first)
            self.order[service] = first + [t[0] for t in queues.get((service, False), ())]
        heap: list[tuple[float, int, _Free]] = []
        for n, desk in enumerate(desks):
            at, var = self.now, 0.0
            if desk.busy is not None and (pace := self.paces.get(desk.busy[0])):
                left, var = pace.residual(self.now - desk.busy[1])
                at += left
            free = _Free(at, var, desk.streak, desk)
            self.desks.append(free)
            for service in desk.services:
                self.first_free[service] = min(self.first_free.get(service, math.inf), at)
            self.next_look = min(self.next_look, at)
            heapq.heappush(heap, (at, n, free))
        # Priority tickets still to come, evenly spread at each service's rate, join the priority lanes
        # when their time comes (negative ids: they are not anybody's ticket yet).
        coming = {s: self.now + 0.5 / r for s, r in self.arrivals.items() if s in self.paces}
        virtual, remaining = 0, len(lanes) if horizon is None else min(len(lanes), horizon)
        self.cut = remaining < len(lanes)
        while heap and remaining:
            _, n, free = heapq.heappop(heap)
            for service, at in coming.items():
                while at <= free.at:
                    virtual -= 1
                    queues.setdefault((service, True), deque()).append((virtual, service, True, at))
                    at += 1 / self.arrivals[service]
                coming[service] = at
            chosen = self._choose(free, queues)
            if chosen is None:
                continue  # nothing more for this desk: it stays free from `free.at`
            if chosen[0] > 0:
                self.etas[chosen[0]] = Eta(free.at, math.sqrt(free.var))
                remaining -= 1
            self._visit(free, chosen[1])
            heapq.heappush(heap, (free.at, n, free))

    def _choose(self, free: _Free, queues: dict[tuple[str, bool], deque[Lane]]) -> Lane | None:
        """The hall's priority rule (QueueService._choose), across the desk's services; None when the
        desk has nothing more to call, or its next ticket is beyond what was read (a very long queue)."""
        if any(self.unread.get(s) and not queues.get((s, True)) and not queues.get((s, False))
               for s in free.desk.services):
            return None
        heads = {}
        for priority in (True, False):
            lane = [queues[(s, priority)] for s in free.desk.services if queues.get((s, priority))]
            if lane:
                heads[priority] = min(lane, key=lambda q: (q[0][3], q[0][0]))
        if True in heads and False in heads:
            if free.streak < self.max_in_row:
                free.streak += 1
                return heads[True].popleft()
            free.streak = 0
            return heads[False].popleft()
        for priority in (True, False):
            if priority in heads:
                free.streak = 0
                return heads[priority].popleft()
        return None

    # --- asking --------------------------------------------------------------------------------------
    def serves(self, service: str) -> bool:
        """Whether a working counter calls this service."""
        return any(service in free.desk.services for free in self.desks)

    def eta(self, service: str, ahead: int) -> Eta | None:
        """The expected call of the waiting ticket of `service` with `ahead` before it (or of a new
        normal ticket, when `ahead` is beyond the waiting ones); None if no counter works it."""
        if not self.serves(service):
            return None
        order = self.order.get(service, [])
        if ahead < len(order) and (eta := self.etas.get(order[ahead])) is not None:
            return eta
        if self.unread.get(service) or self.cut or ahead < len(order):
            # The run stopped short of this place (a very long queue): carry on at the service's rate.
            place, last = self._last_known(service)
            return Eta(last.at + (ahead - place) * self._step(service), last.sd)
        return self._peek(service, ahead - len(order) + 1)

    def _last_known(self, service: str) -> tuple[int, Eta]:
        """The last place of the service's queue with an expected call (-1 and its next call if none)."""
        if (tail := self._tails.get(service)) is None:
            order = self.order.get(service, [])
            place = next((i for i in range(len(order) - 1, -1, -1) if order[i] in self.etas), -1)
            start = Eta(self.first_free.get(service, self.now), 0.0)
            tail = self._tails[service] = (place, self.etas[order[place]] if place >= 0 else start)
        return tail

    def wait(self, service: str, ahead: int, now: float) -> int | None:
        """Expected seconds from `now` until the call (None: no counter works the service)."""
        eta = self.eta(service, ahead)
        return None if eta is None else max(0, round(eta.at - now))

    def due(self, service: str, ahead: int, notice: float, now: float) -> bool:
        """Whether to tell this citizen now that their turn approaches, aiming at a lead between
        `notice` and twice it: yes when now is the look (a call in the group) closest to the middle
        of that window, i.e. the expected wait less half the time to the next look is at most 1.5 x
        `notice`; never for a service no counter works."""
        eta = self.eta(service, ahead)
        if eta is None:
            return False
        return eta.at - now - max(self.next_look - now, 0.0) / 2 <= 1.5 * notice

    def within(self, service: str, notice: float, now: float) -> int:
        """How many places of each class (priority, normal) of the service's queue are `due` now:
        the alert policy looks that far (approach_candidates). Expected calls grow along a lane, so
        the edge is found by halving (a place or two of slack where the priority rule interleaves)."""
        order = self.order.get(service, [])
        priority = self.priorities.get(service, 0)
        reach = 0
        for first, last in ((0, priority), (priority, len(order) + 1)):
            low, high = first, last  # places before `low` are due, from `high` on they are not
            while low < high:
                middle = (low + high) // 2
                if self.due(service, middle, notice, now):
                    low = middle + 1
                else:
                    high = middle
            reach = max(reach, low - first)
        return reach + 2 if reach else 0

    def admit(self, ticket_id: int, service: str, priority: bool, now: float, place: float | None = None) -> None:
        """A ticket just issued: a normal one joins at the back and the run goes on for it; a priority
        one goes before normal tickets, and one given an earlier place (a booking's slot) before
        others, so for those the run is redone when next asked."""
        if ticket_id in self.known or ticket_id <= self.last_id:
            return
        self.known.add(ticket_id)
        self.last_id = ticket_id
        self._tails.pop(service, None)
        if priority or (place is not None and place < self.last_place):
            self.stale = True
            return
        if place is not None:
            self.last_place = place
        order = self.order.setdefault(service, [])
        order.append(ticket_id)
        if self.unread.get(service) or self.cut or not self.serves(service):
            return
        free = self._next_free(service, now)
        self.etas[ticket_id] = Eta(free.at, math.sqrt(free.var))
        self._visit(free, service)
        free.streak = 0

    def _next_free(self, service: str, now: float) -> _Free:
        best = min((f for f in self.desks if service in f.desk.services), key=lambda f: max(f.at, now))
        best.at = max(best.at, now)
        return best

    def _peek(self, service: str, extra: int) -> Eta:
        """The call of the `extra`-th new normal ticket at the back, without admitting it."""
        frees = [(f.at, f.var) for f in self.desks if service in f.desk.services]
        pace, keep = self.paces[service], self.keep.get(service, 1.0)
        at, var = self.now, 0.0
        for _ in range(extra):
            i = min(range(len(frees)), key=lambda k: frees[k][0])
            at, var = frees[i]
            frees[i] = (at + pace.mean_s * keep, var + pace.var * keep)
        return Eta(at, math.sqrt(var))

    def _step(self, service: str) -> float:
        """Seconds between calls of the service deep in a long queue: its counters, each shared with
        the other services it calls that have people waiting."""
        if (step := self._steps.get(service)) is None:
            busy = {s for s, ids in self.order.items() if ids} | {s for s, n in self.unread.items() if n}
            rate = sum(1 / max(1, len(set(f.desk.services) & busy)) for f in self.desks if service in f.desk.services)
            step = self._steps[service] = self.paces[service].mean_s * self.keep.get(service, 1.0) / max(rate, 1e-9)
        return step
