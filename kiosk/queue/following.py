"""Citizens following their ticket (a Telegram chat, an SMS or WhatsApp phone), the outbox of
messages to them and the messages they send back: what the notifier room reads and reports
through. Alerts themselves are written by the notifier's transaction hook, in the queue's own
transactions; replies and notes go through `queue_message`."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from kiosk.queue.errors import Conflict, Unprocessable
from kiosk.queue.models import CALLED, PHONE_CHANNELS, SERVING, STATE_LABELS, WAITING, Ticket
from kiosk.queue.phone import normalise_phone
from kiosk.queue.writer import Work, Writer, ticket_in

OPEN = (WAITING, CALLED, SERVING)


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
    """Subscriptions to tickets, the delivery records of their messages, and messages that came in."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        writer.on_new_day(self._forget_yesterday)

    async def _forget_yesterday(self, w: Work) -> None:
        """Phone numbers outside tickets (messages that came in, replies) end with their day too."""
        start = datetime.combine(datetime.fromisoformat(w.day).date(), time(0), tzinfo=self.writer.config.hall.tz)
        await w.q.forget_numbers(start.timestamp())

    async def subscribe(self, token: str, channel: str, address: str) -> tuple[Ticket, bool]:
        """A chat or phone follows a ticket of today that is not over; (ticket, newly subscribed).
        A ticket has at most one phone per phone channel (SMS, WhatsApp): a new one replaces it."""
        async with self.writer.write() as w:
            ticket, created = await self._subscribe_in(w, token, channel, address)
        return ticket, created

    async def _subscribe_in(self, w: Work, token: str, channel: str, address: str) -> tuple[Ticket, bool]:
        ticket = await ticket_in(w.q, token)
        if ticket.day != w.day or ticket.state not in OPEN:
            raise Conflict(f"Nomor {ticket.number} sudah {STATE_LABELS[ticket.state]}; pemberitahuan tidak "
                           "bisa diaktifkan.", code="ticket_closed")
        if channel in PHONE_CHANNELS:
            await w.q.replace_subscriptions(ticket.id, channel, address, "diganti nomor lain")
        created = await w.q.subscribe(ticket.id, channel, address, w.now)
        if created:
            w.change("subscribed", ticket, channel=channel, address=address)
            w.moved.add(ticket.service)  # maybe already close to the counter
        return ticket, created

    async def add_phone(self, token: str, phone: Any) -> Ticket:
        """The citizen adds a phone number for SMS alerts (from the status page or kiosk); it
        replaces the number the ticket had."""
        e164 = check_phone(phone)
        if e164 is None:
            raise Unprocessable("Isi nomor HP.", code="invalid_phone")
        async with self.writer.write() as w:
            ticket, _ = await self._subscribe_in(w, token, "sms", e164)
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

    async def followed_today(self, channel: str, address: str) -> Ticket | None:
        """The one ticket a chat or phone follows today that is not over (the newest), if any:
        what its replies are about, never another ticket."""
        return next((t for t in await self.tickets_of(channel, address) if t.state in OPEN), None)

    # --- the outbox --------------------------------------------------------------------------
    async def pending(self, limit: int, channel: str | None = None) -> list[dict[str, Any]]:
        """Unsent messages (of one channel), oldest first."""
        return await self.writer.store.reads.pending_messages(limit, channel)

    async def still_pending(self, message_id: int) -> bool:
        """Whether a message is still to be sent (read just before sending it: it may have been
        cancelled since it was read in a batch)."""
        return await self.writer.store.quick.message_state(message_id) == "pending"

    async def record_attempt(self, message_id: int, *, state: str, next_attempt_at: float,
                             error: str | None, provider_id: str | None = None) -> None:
        """The notifier reports one delivery attempt of an outbox message."""
        async with self.writer.write() as w:
            await w.q.message_attempt(message_id, state=state, at=w.now, next_attempt_at=next_attempt_at,
                                      error=error, provider_id=provider_id)

    async def delivery_failed(self, channel: str, provider_id: str, error: str) -> dict[str, Any] | None:
        """A provider reported a message it had accepted as undelivered; returns that message."""
        async with self.writer.write() as w:
            message = await w.q.message_by_provider_id(channel, provider_id)
            if message is not None:
                await w.q.message_failed_later(message["id"], error)
        return message

    async def queue_message(self, *, channel: str, address: str, stage: str, text: str, key: str,
                            ticket: Ticket | None = None, data: dict[str, Any] | None = None,
                            answers: int | None = None) -> bool:
        """Put one message in the outbox (a reply, a note, a resend), once per key; `answers`: the
        message that came in which it answers (marked handled in the same transaction)."""
        async with self.writer.write() as w:
            queued = await w.q.enqueue_message(ticket_id=ticket.id if ticket else None, stage=stage, channel=channel,
                                               address=address, text=text, key=key, at=w.now, data=data)
            if answers is not None:
                await w.q.inbound_handled(answers, w.now)
            if queued:
                w.notify("alert.queued", {"channel": channel})
        return queued

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """Per (channel, state), how many messages the outbox holds."""
        return await self.writer.store.reads.outbox_counts()

    # --- messages that came in ---------------------------------------------------------------
    async def record_inbound(self, channel: str, address: str, external_id: str, text: str) -> tuple[int, bool]:
        """Keep a message that came in (once per provider id); (its id, whether it was answered before)."""
        async with self.writer.write() as w:
            return await w.q.record_inbound(channel=channel, address=address, external_id=external_id,
                                            text=text[:1000], at=w.now)

    async def answered(self, inbound_id: int) -> None:
        """A message that came in needs no reply of its own (an alert answers it)."""
        async with self.writer.write() as w:
            await w.q.inbound_handled(inbound_id, w.now)

    async def last_inbound_at(self, channel: str, address: str) -> float | None:
        """When this chat or phone last wrote to the hall (WhatsApp's 24-hour window)."""
        return await self.writer.store.quick.last_inbound_at(channel, address)

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
