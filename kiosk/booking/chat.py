"""Today's number taken from a chat (the Telegram bot's `/ambil`): the chat is the verified
identity (the bot knows it, no code needed); the answer is one message of text (docs/booking.md)."""

from __future__ import annotations

from kiosk.booking.service import BookingService
from kiosk.booking.verify import telegram_identity
from kiosk.queue.errors import DomainError


def online_services_text(bookings: BookingService) -> str:
    """What `/ambil` alone answers: the services taking numbers from home, with their codes."""
    services = [s for s in bookings.writer.config.services if s.online.booking != "off"]
    if not services:
        return "Belum ada layanan yang menerima antrean daring. Silakan ambil nomor di kios MPP."
    lines = [f"/ambil {s.code} · {s.name}" for s in services]
    return "Ambil nomor antrean hari ini dari sini. Ketik salah satu:\n" + "\n".join(lines)


async def ambil(bookings: BookingService, chat_id: int | str, args: list[str]) -> str:
    """`/ambil [CODE]`: the list of services, or today's number for that service (or why not)."""
    if not args:
        return online_services_text(bookings)
    code = args[0].strip().upper()[:8]
    try:
        _, view = await bookings.take_remote(telegram_identity(chat_id), code)
    except DomainError as exc:
        return f"Maaf, nomor tidak dapat diambil: {exc.message}"
    return (f"Nomor antrean Anda: {view['number']} ({view['service_name']}). Orang di depan Anda: {view['ahead']}; "
            f"perkiraan tunggu {view['estimated_wait_text']}. Kami beri tahu di sini saat giliran Anda dekat; "
            f"datanglah ke MPP sebelum dipanggil. Lihat giliran: {view['status_url']}")
