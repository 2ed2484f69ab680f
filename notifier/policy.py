"""When to tell whom: writes outbox rows inside the queue's own write transaction."""

from __future__ import annotations

from kiosk.config import HallConfig
from kiosk.domain import QueueService, ServiceLoad
from kiosk.models import Ticket
from notifier.messages import SMS_STAGES, message_text

TICKET_STAGES = {"called", "recalled", "transferred", "no_show", "done"}
TERMINAL = {"done", "no_show", "cancelled"}


class AlertPolicy:
    """A transaction hook of the queue: each change and each queue movement may queue messages."""

    def __init__(self, queue: QueueService) -> None:
        self.queue = queue

    @property
    def config(self) -> HallConfig:
        """The hall as it is now (admins change it at run time)."""
        return self.queue.config

    async def __call__(self, work) -> None:
        q = work.q
        loads: dict[str, ServiceLoad] | None = None
        queued = False

        async def load_of(service: str) -> ServiceLoad:
            nonlocal loads
            if loads is None:
                loads = await self.queue.loads(q)
            return loads[service]

        async def enqueue(ticket: Ticket, stage: str, channel: str, address: str, occurrence: str = "") -> None:
            nonlocal queued
            if channel == "sms" and stage not in SMS_STAGES:
                return
            ahead = await q.ahead_of(ticket) if ticket.state == "waiting" else 0
            wait = (await load_of(ticket.service)).wait_for(ahead) if ticket.state == "waiting" else 0
            service = self.config.service(ticket.service)
            counter = self.config.counter(ticket.counter_id) if ticket.counter_id else None
            text = message_text(stage, channel, number=ticket.number, service=service.name if service else "",
                                counter=counter.name if counter else None, ahead=ahead, wait_s=wait,
                                hall=self.config.hall.name)
            key = f"{ticket.id}:{stage}{occurrence}:{channel}:{address}"
            queued |= await q.enqueue_message(ticket_id=ticket.id, stage=stage, channel=channel, address=address,
                                              text=text, key=key, at=work.now)

        services = set(work.moved)
        for change in work.changes:
            ticket = change.ticket
            services.add(ticket.service)
            if change.kind == "subscribed":
                await enqueue(ticket, "subscribed", change.detail["channel"], change.detail["address"])
            elif change.kind in TICKET_STAGES:
                # A ticket can be called again after a requeue or a transfer: each call is its own message.
                occurrence = {"called": f"@{ticket.called_at}", "recalled": f"#{ticket.recalls}",
                              "transferred": f"#{ticket.transfers}"}.get(change.kind, "")
                for channel, address in await q.subscriptions(ticket.id):
                    await enqueue(ticket, change.kind, channel, address, occurrence)
            if change.kind in TERMINAL:
                # Once the ticket is over, nothing still queued about it is sent (but the last word).
                await q.cancel_pending_messages(ticket.id, {change.kind}, f"nomor sudah {change.kind}")

        if services:
            candidates = await q.approach_candidates(work.day, services)
            # Within one service and one class, people ahead only grow along the queue: the first
            # ticket that is not close yet ends the look for that lane (no O(n^2) scan of a long queue).
            lanes: dict[tuple[str, bool], list[Ticket]] = {}
            for ticket in candidates:
                lanes.setdefault((ticket.service, ticket.priority), []).append(ticket)
            for (service, _), lane in lanes.items():
                max_ahead, max_minutes = self.config.approach_rule(service)
                for ticket in lane:
                    ahead = await q.ahead_of(ticket)
                    wait = (await load_of(service)).wait_for(ahead)
                    if ahead > max_ahead and wait > max_minutes * 60:
                        break
                    for channel, address in await q.subscriptions(ticket.id):
                        await enqueue(ticket, "approaching", channel, address)
        if queued:
            work.notify("alert.queued", {})
