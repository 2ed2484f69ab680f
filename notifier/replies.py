"""Citizens who answer back: STATUS, BATAL (with a confirmation), TUNDA and a ticket's code, on
Telegram, WhatsApp and SMS alike.

A message that came in is kept once per provider id; it is matched only to the ticket that chat
or phone follows today (never to another's); the answer is an outbox message like any alert,
written in the same transaction that marks the incoming message answered.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from kiosk.hall.config import HallConfig
from kiosk.queue.errors import DomainError
from kiosk.queue.following import Following
from kiosk.queue.i18n import format_wait
from kiosk.queue.models import STATE_LABELS, WAITING, Ticket
from kiosk.queue.service import QueueService
from kiosk.support.ratelimit import RateLimiter
from notifier.messages import sms_safe

log = logging.getLogger(__name__)

TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,43}(?![A-Za-z0-9_-])")
COMMANDS = {
    "/START": "start",
    "STATUS": "status", "CEK": "status", "POSISI": "status", "/STATUS": "status",
    "BATAL": "cancel", "/BATAL": "cancel",
    "TUNDA": "defer", "/TUNDA": "defer",
    "BANTUAN": "help", "HELP": "help", "INFO": "help", "MENU": "help", "/BANTUAN": "help", "/HELP": "help",
}
# Answers cost the hall money on SMS (and outside WhatsApp's window): a number writing again and
# again gets a few answers, then one an hour more (what it writes is still kept and acted on).
REPLIES_PER_HOUR, REPLY_BURST = 1.0, 10


@dataclass(frozen=True)
class Answer:
    """What to send back (nothing when the answer is an alert the queue writes itself)."""

    text: str | None
    ticket: Ticket | None = None
    data: dict[str, Any] = field(default_factory=dict)


def help_text(channel: str, hall: str, defer_places: int) -> str:
    """The short help; on SMS it fits one message."""
    defer = f", TUNDA (mundur {defer_places} giliran, sekali)" if defer_places else ""
    if channel == "sms":
        return sms_safe(f"Giliran: balas STATUS (posisi antrean), BATAL (batalkan nomor){defer}.")
    defer_line = f"• TUNDA — biarkan {defer_places} orang di belakang Anda maju lebih dulu (sekali saja)\n" \
        if defer_places else ""
    return (f"Layanan pesan antrean {hall}.\n"
            "• STATUS — posisi antrean dan perkiraan waktu tunggu\n"
            "• BATAL — membatalkan nomor antrean Anda (diminta konfirmasi)\n"
            f"{defer_line}"
            "Kami mengirim pesan saat giliran Anda sudah dekat dan saat nomor Anda dipanggil.")


class Replies:
    """Answers what citizens write, through the outbox."""

    def __init__(self, queue: QueueService, following: Following) -> None:
        self.queue = queue
        self.following = following
        self.limit = RateLimiter(REPLIES_PER_HOUR / 60, REPLY_BURST, queue.clock.now)

    @property
    def config(self) -> HallConfig:
        """The hall as it is now."""
        return self.queue.config

    async def handle(self, channel: str, address: str, text: str, external_id: str) -> None:
        """A message that came in: keep it (once), answer it through the outbox."""
        inbound_id, answered = await self.following.record_inbound(channel, address, external_id, text)
        if answered:
            log.info("%s message %s was answered before (delivered twice by the provider)", channel, external_id)
            return
        try:
            answer = await self.answer(channel, address, text)
        except DomainError as exc:
            answer = Answer(exc.message)
        await self._send(channel, address, answer, inbound_id)

    async def handle_button(self, channel: str, address: str, data: str, external_id: str) -> None:
        """A button pressed under one of our messages (`action:token`)."""
        inbound_id, answered = await self.following.record_inbound(channel, address, external_id, data)
        if answered:
            return
        action, _, token = data.partition(":")
        try:
            answer = await self.button(channel, address, action, token)
        except DomainError as exc:
            answer = Answer(exc.message)
        await self._send(channel, address, answer, inbound_id)

    async def _send(self, channel: str, address: str, answer: Answer, inbound_id: int) -> None:
        text = answer.text
        if text is not None and self.limit.retry_after(f"{channel}:{address}") > 0:
            log.info("%s: no answer to a number that wrote too often (message %s)", channel, inbound_id)
            text = None
        if text is None:  # answered by an alert (a new subscription's confirmation), or not at all
            await self.following.answered(inbound_id)
            return
        self.limit.take(f"{channel}:{address}", "")
        if channel == "sms":
            text = sms_safe(text)
        await self.following.queue_message(channel=channel, address=address, stage="reply", text=text,
                                           key=f"reply:{channel}:{inbound_id}", ticket=answer.ticket,
                                           data=answer.data or None, answers=inbound_id)

    # --- what a message means ----------------------------------------------------------------
    async def answer(self, channel: str, address: str, text: str) -> Answer:
        """The answer to a text: a command about the followed ticket, a ticket's code, or help."""
        words = text.strip().split()
        command = COMMANDS.get(words[0].upper().split("@")[0]) if words else None
        if command is None:
            token = TOKEN.search(text)
            if token:
                return await self.follow(channel, address, token.group(0))
            return Answer(help_text(channel, self.config.hall.name, self.config.queue.defer_places))
        if command == "start":  # Telegram's /start <token> (the ticket's QR code or link)
            return await self.follow(channel, address, words[1]) if len(words) > 1 else \
                Answer(help_text(channel, self.config.hall.name, self.config.queue.defer_places))
        if command == "help":
            return Answer(help_text(channel, self.config.hall.name, self.config.queue.defer_places))
        ticket = await self.following.followed_today(channel, address)
        if ticket is None:
            return Answer(self._not_following(channel))
        if command == "status":
            return Answer(await self.status_text(ticket), ticket)
        if command == "defer":
            return await self._defer(channel, ticket)
        return await self._cancel(channel, ticket, words[1] if len(words) > 1 else None)

    async def button(self, channel: str, address: str, action: str, token: str) -> Answer:
        """A Telegram button: only for a ticket this chat follows today."""
        if action == "batal" and token == "-":
            return Answer("Baik, nomor antrean Anda tetap aktif.")
        ticket = next((t for t in await self.following.tickets_of(channel, address) if t.token == token), None)
        if ticket is None:
            return Answer("Nomor antrean ini tidak terhubung dengan percakapan ini.")
        if action == "status":
            return Answer(await self.status_text(ticket), ticket)
        if action == "tunda":
            return await self._defer(channel, ticket)
        if action == "batal?":
            return await self._cancel(channel, ticket, None)
        if action == "batal":
            return await self._cancel(channel, ticket, ticket.number)
        return Answer(help_text(channel, self.config.hall.name, self.config.queue.defer_places))

    async def follow(self, channel: str, address: str, token: str) -> Answer:
        """A ticket's code (the wa.me link's text, or typed): this chat or phone follows it."""
        try:
            ticket, created = await self.following.subscribe(token, channel, address)
        except DomainError as exc:
            if exc.code == "unknown_ticket":
                return Answer("Kode tiket tidak dikenal. Buka lagi tautan di halaman tiket Anda, atau tanyakan "
                              "petugas.")
            raise
        if created:
            return Answer(None, ticket)  # the confirmation comes as the "subscribed" alert
        return Answer("Pemberitahuan sudah aktif.\n" + await self.status_text(ticket), ticket)

    async def status_text(self, ticket: Ticket) -> str:
        """Where a ticket stands."""
        view = await self.queue.views.ticket_view(ticket)
        line = f"Nomor {view['number']} ({view['service_name']}): {STATE_LABELS[ticket.state]}."
        if ticket.state == WAITING:
            line += f" Orang di depan Anda: {view['ahead']}. Perkiraan waktu tunggu: " \
                    f"{format_wait(view['estimated_wait_s'])}."
        elif view["counter_name"]:
            line += f" Silakan menuju {view['counter_name']}."
        return line

    async def _cancel(self, channel: str, ticket: Ticket, confirm: str | None) -> Answer:
        """BATAL asks first; BATAL <number> (or the button) cancels."""
        if ticket.state != WAITING:
            return Answer(f"Nomor {ticket.number} sedang {STATE_LABELS[ticket.state]}; tidak bisa dibatalkan lagi.",
                          ticket)
        if confirm is None:
            data = {"buttons": [[["Ya, batalkan", f"batal:{ticket.token}"], ["Tidak", "batal:-"]]]} \
                if channel == "telegram" else {}
            question = f"Batalkan nomor antrean {ticket.number}?" if channel == "telegram" else \
                f"Untuk membatalkan nomor antrean {ticket.number}, balas: BATAL {ticket.number}"
            return Answer(question, ticket, data)
        if confirm.upper() != ticket.number.upper():
            return Answer(f"Nomor {confirm} bukan nomor yang Anda ikuti. Untuk membatalkan nomor {ticket.number}, "
                          f"balas: BATAL {ticket.number}", ticket)
        ticket = await self.queue.cancel(ticket.token)
        log.info("ticket %s cancelled by its citizen (%s)", ticket.number, channel)
        return Answer(f"Nomor antrean {ticket.number} sudah dibatalkan. Terima kasih.", ticket)

    async def _defer(self, channel: str, ticket: Ticket) -> Answer:
        """TUNDA: let the next ones go ahead, once."""
        ticket = await self.queue.defer(ticket.token, actor=f"warga ({channel})")
        view = await self.queue.views.ticket_view(ticket)
        data = {"buttons": [[["Cek status", f"status:{ticket.token}"]]]} if channel == "telegram" else {}
        return Answer(f"Giliran nomor {ticket.number} ditunda. Orang di depan Anda sekarang: {view['ahead']} "
                      f"(perkiraan {format_wait(view['estimated_wait_s'])}).", ticket, data)

    def _not_following(self, channel: str) -> str:
        if channel == "telegram":
            return "Belum ada nomor antrean yang Anda ikuti hari ini. Pindai kode QR pada tiket Anda untuk mulai."
        return "Nomor ini belum mengikuti nomor antrean hari ini. Buka halaman tiket Anda (kode QR) untuk mulai."
