"""Citizens following their ticket (a Telegram chat, an SMS phone) and the outbox of messages to
them: what the notifier room reads and reports through. The messages themselves are written by
the notifier's transaction hook, in the queue's own transactions."""

from __future__ import annotations

from typing import Any

from kiosk.queue.errors import Conflict, Unprocessable
from kiosk.queue.models import CALLED, SERVING, STATE_LABELS, WAITING, Ticket
from kiosk.queue.phone import normalise_phone
from kiosk.queue.writer import Writer, ticket_in


def mask_address(address: str) -> str:
    """Staff see enough of a phone or chat id to recognise it, not to copy it."""
    if len(address) <= 6:
        return "…" if address else ""
    return address[:4] + "…" + address[-3:]


def check_phone(value: Any) -> str | None:
    """A phone field from a request: None, or a normalised +62 number (422 otherwise)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Unprocessable("Nomor HP harus berupa teks.", code="invalid_phone")
    return normalise_phone(value)


class Following:
    """Subscriptions to tickets and the delivery records of their messages."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def subscribe(self, token: str, channel: str, address: str) -> tuple[Ticket, bool]:
        """A chat or phone follows a ticket of today that is not over; (ticket, newly subscribed)."""
        async with self.writer.write() as w:
            ticket = await ticket_in(w.q, token)
            if ticket.day != w.day or ticket.state not in (WAITING, CALLED, SERVING):
                raise Conflict(f"Nomor {ticket.number} sudah {STATE_LABELS[ticket.state]}; pemberitahuan tidak "
                               "bisa diaktifkan.", code="ticket_closed")
            created = await w.q.subscribe(ticket.id, channel, address, w.now)
            if created:
                w.change("subscribed", ticket, channel=channel, address=address)
                w.moved.add(ticket.service)  # maybe already close to the counter
        return ticket, created

    async def add_phone(self, token: str, phone: Any) -> Ticket:
        """The citizen adds a phone number for SMS alerts (from the status page or kiosk)."""
        e164 = check_phone(phone)
        if e164 is None:
            raise Unprocessable("Isi nomor HP.", code="invalid_phone")
        ticket, _ = await self.subscribe(token, "sms", e164)
        async with self.writer.write() as w:
            await w.q.set_phone(ticket.id, e164)
        return ticket

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """Stop all alerts to a chat or phone (it blocked the bot, or asked to stop)."""
        async with self.writer.write() as w:
            return await w.q.unsubscribe_address(channel, address)

    async def tickets_of(self, channel: str, address: str, *, today_only: bool = True) -> list[Ticket]:
        """The tickets (of today) a chat or phone follows, newest first."""
        tickets = await self.writer.store.reads.chat_tickets(channel, address)
        today = self.writer.today()
        return [t for t in tickets if t.day == today] if today_only else tickets

    async def pending(self, limit: int) -> list[dict[str, Any]]:
        """Unsent messages, oldest first."""
        return await self.writer.store.reads.pending_messages(limit)

    async def record_attempt(self, message_id: int, *, state: str, next_attempt_at: float,
                             error: str | None) -> None:
        """The notifier reports one delivery attempt of an outbox message."""
        async with self.writer.write() as w:
            await w.q.message_attempt(message_id, state=state, at=w.now, next_attempt_at=next_attempt_at,
                                      error=error)

    async def messages(self, token: str) -> list[dict[str, Any]]:
        """What was sent, is pending or failed for a ticket (addresses shown masked)."""
        ticket = await ticket_in(self.writer.store.reads, token)
        rows = await self.writer.store.reads.messages_for_ticket(ticket.id)
        iso = self.writer.iso
        return [{
            "stage": r["stage"], "channel": r["channel"], "to": mask_address(r["address"]), "state": r["state"],
            "attempts": r["attempts"], "last_error": r["last_error"], "text": r["text"],
            "created_at": iso(r["created_at"]), "sent_at": iso(r["sent_at"]),
        } for r in rows]
