"""What citizens, kiosks and staff see of the queue: a ticket's view (never a phone or a name),
the services a kiosk offers, the counters' overview and the day's last calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.queue.i18n import format_wait
from kiosk.queue.loads import Loads, ServiceLoad
from kiosk.queue.models import CALLED, SERVING, STATE_LABELS, WAITING, CounterState, Ticket
from kiosk.queue.writer import Writer
from kiosk.storage.base import Queries

ViewExtension = Callable[[Ticket, dict[str, Any]], None]


class Views:
    """Builds the views; rooms may add fields to a ticket's view (`extensions`, e.g. its Telegram link)."""

    def __init__(self, writer: Writer, loads: Loads) -> None:
        self.writer = writer
        self.loads = loads
        self.extensions: list[ViewExtension] = []

    async def services_overview(self) -> list[dict[str, Any]]:
        """What a kiosk shows per service."""
        config = self.writer.config
        loads = await self.loads.current()
        issued = await self.writer.store.reads.issued_counts(self.writer.today())
        rows = []
        for service in config.services:
            load = loads[service.code]
            wait = load.wait_for(load.waiting)  # a new ticket's
            open_now, quota_left, reason = self.loads.availability(service, issued.get(service.code, 0))
            agency = config.agency(service.agency)
            rows.append({
                "code": service.code,
                "name": service.name,
                "agency": service.agency,
                "agency_name": agency.name if agency else service.agency,
                "open": open_now,
                "hours": service.hours.text if service.hours else None,
                "waiting": load.waiting,
                "daily_quota": service.daily_quota,
                "quota_left": quota_left,
                "estimated_wait_s": wait,
                "estimated_wait_text": format_wait(wait),
                "estimated_wait_known": wait is not None,
                "unavailable_reason": reason,
            })
        return rows

    async def ticket_view(self, ticket: Ticket, q: Queries | None = None,
                          load: ServiceLoad | None = None, ahead: int | None = None) -> dict[str, Any]:
        """A ticket as the citizen and the API see it (no phone, no name)."""
        q = q or self.writer.store.reads
        config = self.writer.config
        wait: int | None = 0
        if ticket.state != WAITING:
            ahead = 0
        else:
            if ahead is None:
                ahead = await q.ahead_of(ticket)
            if load is None:
                load = (await self.loads.current(q, (ticket.service,))).get(ticket.service)
            if load is not None:
                self.loads.admit(ticket, load)  # a ticket just issued joins the forecast first
            wait = load.wait_for(ahead) if load else None
        service = config.service(ticket.service)
        counter = config.counter(ticket.counter_id) if ticket.counter_id else None
        at_counter = ticket.state in (CALLED, SERVING)
        view = {
            "number": ticket.number,
            "service": ticket.service,
            "service_name": service.name if service else ticket.service,
            "state": ticket.state,
            "state_label": STATE_LABELS[ticket.state],
            "priority": ticket.priority,
            "priority_reason": ticket.priority_reason,
            "ahead": ahead,
            "estimated_wait_s": wait,  # None: no counter works the service now
            "estimated_wait_text": format_wait(wait),
            "estimated_wait_known": wait is not None,
            "counter": ticket.counter_id if at_counter else None,
            "counter_name": counter.name if counter and at_counter else None,
            "issued_at": self.writer.iso(ticket.issued_at),
            "called_at": self.writer.iso(ticket.called_at),
            "recalls": ticket.recalls,
            "token": ticket.token,
            "status_url": self.status_url(ticket),
        }
        for extend in self.extensions:
            extend(ticket, view)
        return view

    def status_url(self, ticket: Ticket) -> str:
        """The citizen's page for this ticket (what the QR code opens)."""
        return f"{self.writer.config.hall.public_url}/t/{ticket.token}"

    async def counters_overview(self) -> list[dict[str, Any]]:
        """Every counter: its services, pause state, current ticket, waiting count, served today."""
        reads = self.writer.store.reads
        day = self.writer.today()
        states = await reads.counter_states()
        current = await reads.counter_tickets()
        waiting = await reads.waiting_counts(day)
        served = await reads.served_today(day)
        rows = []
        for counter in self.writer.config.counters:
            state = states.get(counter.id) or CounterState(counter.id, False, 0, None)
            ticket = current.get(counter.id)
            n, total = served.get(counter.id, (0, 0.0))
            rows.append({
                "id": counter.id,
                "name": counter.name,
                "services": list(counter.services),
                "paused": state.paused,
                "current": None if ticket is None else {
                    "number": ticket.number, "service": ticket.service, "state": ticket.state,
                    "token": ticket.token, "priority": ticket.priority, "priority_reason": ticket.priority_reason,
                    "since": self.writer.iso(ticket.started_at or ticket.called_at),
                },
                "waiting": sum(waiting.get(code, 0) for code in counter.services),
                "served_today": n,
                "mean_service_s": round(total / n) if n else None,
            })
        return rows

    async def recent_calls(self, limit: int = 10) -> list[dict[str, Any]]:
        """Today's latest calls, newest first (for display snapshots)."""
        midnight = self.writer.local_now().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        events = await self.writer.store.reads.recent_events("ticket.called", midnight, limit)
        return [e.data | {"at": self.writer.iso(e.at), "id": e.id} for e in events]
