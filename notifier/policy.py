"""When to tell whom: writes outbox rows inside the queue's own write transaction."""

from __future__ import annotations

from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.queue.i18n import format_wait
from kiosk.queue.loads import ServiceLoad
from kiosk.queue.models import Ticket
from kiosk.queue.service import QueueService
from kiosk.queue.writer import Work
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

    async def __call__(self, work: Work) -> None:
        q = work.q
        queued = False

        async def load_of(service: str) -> ServiceLoad:
            return await self.queue.loads.in_work(work, service)

        async def enqueue(ticket: Ticket, stage: str, channel: str, address: str, occurrence: str = "") -> None:
            nonlocal queued
            if channel == "sms" and stage not in SMS_STAGES:
                return
            ahead = await q.ahead_of(ticket) if ticket.state == "waiting" else 0
            wait = (await load_of(ticket.service)).wait_for(ahead) if ticket.state == "waiting" else 0
            service = self.config.service(ticket.service)
            counter = self.config.counter(ticket.counter_id) if ticket.counter_id else None
            facts: dict[str, Any] = {"number": ticket.number, "service": service.name if service else "",
                     "counter": counter.name if counter else "", "ahead": ahead, "wait": format_wait(wait)}
            text = message_text(stage, channel, number=ticket.number, service=service.name if service else "",
                                counter=counter.name if counter else None, ahead=ahead, wait_s=wait,
                                hall=self.config.hall.name)
            key = f"{ticket.id}:{stage}{occurrence}:{channel}:{address}"
            queued |= await q.enqueue_message(ticket_id=ticket.id, stage=stage, channel=channel, address=address,
                                              text=text, key=key, at=work.now,
                                              data=message_data(stage, channel, ticket, facts))

        services = set(work.moved)
        for change in work.changes:
            ticket = change.ticket
            if change.kind != "issued":  # a ticket joining at the back brings nobody closer
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

        for service in sorted(services):
            # Only the head of the queue can be close: people ahead grow along each class's lane,
            # and the wait grows with them, so the look stops at the farthest place that can qualify.
            max_ahead, max_minutes = self.config.approach_rule(service)
            load = await load_of(service)
            # By minutes: the forecast says when a notice of max_minutes to twice it is best sent
            # (docs/estimates.md).
            head = max(max_ahead, load.within(max_minutes * 60)) + 1
            for ticket in await q.approach_candidates(work.day, service, head):
                ahead = await q.ahead_of(ticket)
                if ahead > max_ahead and not load.due(ahead, max_minutes * 60):
                    continue
                for channel, address in await q.subscriptions(ticket.id):
                    await enqueue(ticket, "approaching", channel, address)
        if queued:
            work.notify("alert.queued", {})


def message_data(stage: str, channel: str, ticket: Ticket, facts: dict[str, Any]) -> dict[str, Any] | None:
    """What a channel needs beside the text: WhatsApp's template parameters, Telegram's buttons."""
    if channel == "whatsapp":
        return {"facts": facts}
    if channel == "telegram" and stage in ("subscribed", "approaching") and ticket.state == "waiting":
        return {"buttons": ticket_buttons(ticket.token)}
    return None


def ticket_buttons(token: str) -> list[list[list[str]]]:
    """Telegram buttons under a message about a waiting ticket: status, defer, cancel (asks first)."""
    return [[["Cek status", f"status:{token}"], ["Tunda giliran", f"tunda:{token}"]],
            [["Batalkan nomor", f"batal?:{token}"]]]
