"""The Telegram bot inside our own aiohttp server (python-telegram-bot 22; no run_polling).

Long polling by default (most hall intranets have no public address); webhook mode with the
secret-token header when GILIRAN_TELEGRAM_MODE=webhook.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")  # time periods as timedelta (python-telegram-bot's future default)

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from kiosk.hall.config import HallConfig
from kiosk.queue.errors import DomainError
from kiosk.queue.following import Following
from kiosk.queue.i18n import format_wait
from kiosk.queue.models import STATE_LABELS, Ticket
from kiosk.queue.service import QueueService
from notifier.senders import Permanent, Retry, Sender

log = logging.getLogger(__name__)

HELP = ("Saya bot antrean {hall}.\n\n"
        "• Pindai kode QR pada tiket Anda, atau buka tautan di halaman tiket, untuk menerima pemberitahuan.\n"
        "• /status — melihat posisi antrean Anda\n"
        "• /batal — membatalkan nomor antrean Anda\n"
        "• /bantuan — petunjuk ini\n\n"
        "Kami mengirim pesan saat giliran Anda sudah dekat dan saat nomor Anda dipanggil.")


class TelegramSender(Sender):
    """Sends through the bot; maps python-telegram-bot's errors to retry, give up or unsubscribe."""

    channel = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _send(self, address: str, text: str) -> None:
        try:
            await self.bot.send_message(chat_id=int(address), text=text)
        except RetryAfter as exc:
            after = exc.retry_after
            raise Retry("Telegram: terlalu banyak pesan (429)",
                        after.total_seconds() if isinstance(after, timedelta) else float(after)) from None
        except Forbidden as exc:
            raise Permanent(f"Telegram: {exc.message}", unsubscribe=True) from None
        except BadRequest as exc:
            raise Permanent(f"Telegram: {exc.message}") from None
        except (TimedOut, NetworkError) as exc:
            raise Retry(f"Telegram: {exc.message}") from None


class TelegramBot:
    """Runs the bot's Application in the server's event loop."""

    def __init__(self, queue: QueueService, following: Following, token: str, api_url: str, mode: str,
                 secret: str | None) -> None:
        self.queue = queue
        self.following = following
        self.mode = mode
        self.secret = secret
        builder = (Application.builder().token(token).base_url(f"{api_url.rstrip('/')}/bot")
                   .base_file_url(f"{api_url.rstrip('/')}/file/bot"))
        if mode == "webhook":
            builder = builder.updater(None)
        self.app = builder.build()
        self.app.add_handler(CommandHandler("start", self.on_start))
        self.app.add_handler(CommandHandler("status", self.on_status))
        self.app.add_handler(CommandHandler("batal", self.on_cancel))
        self.app.add_handler(CommandHandler(["bantuan", "help"], self.on_help))
        self.app.add_handler(CallbackQueryHandler(self.on_cancel_answer, pattern=r"^batal:"))
        self.app.add_error_handler(self.on_error)
        self.username: str | None = None

    @property
    def config(self) -> HallConfig:
        """The hall as it is now (admins change it at run time)."""
        return self.queue.config

    @property
    def sender(self) -> TelegramSender:
        """A sender for the outbox."""
        return TelegramSender(self.app.bot)

    def deep_link(self, ticket: Ticket) -> str | None:
        """https://t.me/<bot>?start=<token>: opens the chat already following the ticket."""
        return f"https://t.me/{self.username}?start={ticket.token}" if self.username else None

    async def start(self) -> None:
        """getMe, then long polling or the webhook."""
        await self.app.initialize()
        self.username = self.app.bot.username
        await self.app.start()
        if self.mode == "webhook":
            await self.app.bot.set_webhook(f"{self.config.hall.public_url}/telegram/webhook",
                                           secret_token=self.secret, allowed_updates=["message", "callback_query"])
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(timeout=timedelta(seconds=10),
                                                 allowed_updates=["message", "callback_query"])
        log.info("Telegram bot @%s running (%s)", self.username, self.mode)

    async def stop(self) -> None:
        """Stop polling and the Application."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def feed(self, data: dict[str, Any]) -> None:
        """An update that arrived by webhook."""
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))

    # --- handlers --------------------------------------------------------------------------
    async def _status_text(self, ticket: Ticket) -> str:
        view = await self.queue.views.ticket_view(ticket)
        line = f"Nomor {view['number']} ({view['service_name']}): {STATE_LABELS[ticket.state]}."
        if ticket.state == "waiting":
            line += f"\nOrang di depan Anda: {view['ahead']}. Perkiraan waktu tunggu: " \
                    f"{format_wait(view['estimated_wait_s'])}."
        elif view["counter_name"]:
            line += f"\nSilakan menuju {view['counter_name']}."
        return line

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/start <token>` from the ticket's QR code or link: follow that ticket."""
        chat = update.effective_chat
        if chat is None or update.message is None:
            return
        token = context.args[0] if context.args else ""
        if not token:
            await update.message.reply_text(HELP.format(hall=self.config.hall.name))
            return
        try:
            ticket, created = await self.following.subscribe(token, "telegram", str(chat.id))
        except DomainError as exc:
            text = exc.message if exc.code != "unknown_ticket" else \
                "Nomor antrean tidak ditemukan. Pindai lagi kode QR pada tiket Anda, atau tanyakan petugas."
            await update.message.reply_text(text)
            return
        if not created:
            await update.message.reply_text("Pemberitahuan sudah aktif.\n" + await self._status_text(ticket))
        # A new subscription gets its confirmation through the outbox (with number, people ahead, wait).

    async def on_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/status`: the chat's tickets of today."""
        if update.effective_chat is None or update.message is None:
            return
        tickets = await self.following.tickets_of("telegram", str(update.effective_chat.id))
        if not tickets:
            await update.message.reply_text("Belum ada nomor antrean yang Anda ikuti hari ini. Pindai kode QR "
                                            "pada tiket Anda untuk mulai.")
            return
        await update.message.reply_text("\n\n".join([await self._status_text(t) for t in tickets]))

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/batal`: ask to confirm cancelling the chat's waiting ticket."""
        if update.effective_chat is None or update.message is None:
            return
        tickets = [t for t in await self.following.tickets_of("telegram", str(update.effective_chat.id))
                   if t.state == "waiting"]
        if not tickets:
            await update.message.reply_text("Tidak ada nomor antrean menunggu yang bisa dibatalkan.")
            return
        ticket = tickets[0]
        keyboard = InlineKeyboardMarkup([[
            InlineKeyboardButton("Ya, batalkan", callback_data=f"batal:{ticket.token}"),
            InlineKeyboardButton("Tidak", callback_data="batal:-"),
        ]])
        await update.message.reply_text(f"Batalkan nomor antrean {ticket.number}?", reply_markup=keyboard)

    async def on_cancel_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The answer to the confirmation button."""
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        await query.answer()
        token = (query.data or "").split(":", 1)[1]
        if token == "-":
            await query.edit_message_text("Nomor antrean Anda tetap aktif.")
            return
        followed = {t.token for t in await self.following.tickets_of("telegram", str(update.effective_chat.id),
                                                                      today_only=False)}
        if token not in followed:
            await query.edit_message_text("Nomor antrean ini tidak terhubung dengan percakapan ini.")
            return
        try:
            ticket = await self.queue.cancel(token)
        except DomainError as exc:
            await query.edit_message_text(exc.message)
            return
        await query.edit_message_text(f"Nomor antrean {ticket.number} sudah dibatalkan. Terima kasih.")

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/bantuan`."""
        if update.message is not None:
            await update.message.reply_text(HELP.format(hall=self.config.hall.name))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("Telegram handler error: %s", context.error)
