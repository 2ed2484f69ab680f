"""How busy each service is: people waiting, counters working it, mean service time; and whether
a ticket can be taken now (hours, quota)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.hall.config import Service
from kiosk.queue.estimate import estimated_wait_seconds, mean_service_seconds
from kiosk.queue.writer import Work, Writer
from kiosk.storage.base import Queries


@dataclass(frozen=True)
class ServiceLoad:
    """How busy one service is right now."""

    waiting: int
    servers: int
    mean_service_s: float

    def wait_for(self, ahead: int) -> int:
        """Estimated seconds for someone with `ahead` people before them."""
        return estimated_wait_seconds(ahead, self.servers, self.mean_service_s)


class Loads:
    """Reads services' loads, and keeps what issuing alone cannot change between writes."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        # Per service (counters working it, mean service time) as of the last write: only issuing
        # leaves them as they were; any other write, an undone write, a new day or hall drops them.
        self._steady: dict[str, tuple[int, float]] = {}
        self._steady_key: tuple[Any, ...] = ()

    async def in_work(self, w: Work, code: str) -> ServiceLoad:
        """One service's load inside a write transaction, computed once until a ticket changes.

        Between writes that only issue tickets, a service's counters and mean service time stay
        what they were: those are kept (until another kind of write, a failed write, a new day or
        a new hall) and only the waiting count is read again.
        """
        if (load := w.loads.get(code)) is not None:
            return load
        writer = self.writer
        # Other processes of the hall (a shared database) change counters too: what they did counts.
        key = (writer.generation, writer.publisher.heard, writer.store.failures, w.day, writer.config)
        if key != self._steady_key:
            self._steady.clear()
            self._steady_key = key
        if (steady := self._steady.get(code)) is not None:
            waiting = w.waiting.get(code)
            load = ServiceLoad(await w.q.waiting_count(w.day, code) if waiting is None else waiting, *steady)
        else:
            load = (await self.current(w.q, (code,)))[code]
            self._steady[code] = (load.servers, load.mean_service_s)
        w.loads[code] = load
        return load

    async def current(self, q: Queries | None = None, codes: tuple[str, ...] | None = None
                      ) -> dict[str, ServiceLoad]:
        """Per service (all, or `codes`): people waiting, counters working it and mean service time."""
        q = q or self.writer.store.reads
        config = self.writer.config
        day = self.writer.today()
        services = config.services if codes is None else [s for c in codes if (s := config.service(c))]
        one = services[0].code if len(services) == 1 else None
        waiting = await q.waiting_counts(day, one)
        durations = await q.recent_durations(day, service=one)
        active = await q.working_counters(day)
        loads = {}
        for service in services:
            counters = config.counters_for(service.code)
            working = [c for c in counters if c.id in active]
            prior_s = 60 * (service.service_minutes or config.queue.default_service_minutes)
            loads[service.code] = ServiceLoad(
                waiting=waiting.get(service.code, 0),
                servers=len(working) or len(counters),
                mean_service_s=mean_service_seconds(prior_s, durations.get(service.code)),
            )
        return loads

    async def changed(self, w: Work, service_code: str, moved: bool = True) -> None:
        """Public event: a service's queue changed. `moved`: people in it may have come closer to a
        counter (a ticket joining at the back brings nobody closer)."""
        if moved:
            w.moved.add(service_code)
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
