"""The Telegram bot inside our own aiohttp server (python-telegram-bot 22; no run_polling).

Long polling by default (most hall intranets have no public address); webhook mode with the
secret-token header when GILIRAN_TELEGRAM_MODE=webhook. What the bot answers goes through the
outbox like every alert (notifier/replies.py); only the acknowledgement of a pressed button
(answerCallbackQuery, which is not a message) is sent at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")  # time periods as timedelta (python-telegram-bot's future default)

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from kiosk.booking.chat import ambil
from kiosk.booking.service import BookingService
from kiosk.hall.config import HallConfig
from kiosk.queue.models import Ticket
from kiosk.queue.service import QueueService
from notifier.replies import Replies
from notifier.senders import ChannelDown, Outgoing, Permanent, Retry, Sender

log = logging.getLogger(__name__)

TOKEN_REFUSED = "Telegram menolak token bot (401/404): periksa GILIRAN_TELEGRAM_TOKEN"


def telegram_failure(exc: TelegramError) -> Exception:
    """Every python-telegram-bot error as retry, give up, unsubscribe or "channel down"."""
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        return Retry("Telegram: terlalu banyak pesan (429)",
                     after.total_seconds() if isinstance(after, timedelta) else float(after))
    if isinstance(exc, (InvalidToken, EndPointNotFound)):
        return ChannelDown(TOKEN_REFUSED)
    if isinstance(exc, Forbidden):
        return Permanent(f"Telegram: {exc.message}", unsubscribe=True)
    if isinstance(exc, ChatMigrated):
        return Permanent(f"Telegram: percakapan pindah ke {exc.new_chat_id}", unsubscribe=True)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is one
        return Permanent(f"Telegram: {exc.message}")
    if isinstance(exc, (Conflict, NetworkError)):
        return Retry(f"Telegram: {exc.message}")
    return Retry(f"Telegram: {type(exc).__name__}: {exc.message}")


def keyboard(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    """Inline buttons from an outbox message's data ([[text, callback data], ...] per row)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row]
                                 for row in rows])


class TelegramSender(Sender):
    """Sends through the bot; maps every python-telegram-bot error (telegram_failure)."""

    channel = "telegram"
    provider = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _send(self, message: Outgoing) -> str | None:
        try:
            sent = await self.bot.send_message(chat_id=int(message.address), text=message.text,
                                               reply_markup=keyboard(message.data.get("buttons")))
        except TelegramError as exc:
            raise telegram_failure(exc) from None
        return str(sent.message_id)


class TelegramBot:
    """Runs the bot's Application in the server's event loop."""

    def __init__(self, queue: QueueService, replies: Replies, token: str, api_url: str, mode: str,
                 secret: str | None) -> None:
        self.queue = queue
        self.replies = replies
        self.following = replies.following
        self.mode = mode
        self.secret = secret
        builder = (Application.builder().token(token).base_url(f"{api_url.rstrip('/')}/bot")
                   .base_file_url(f"{api_url.rstrip('/')}/file/bot"))
        if mode == "webhook":
            builder = builder.updater(None)
        self.app = builder.build()
        self.app.add_handler(CommandHandler("start", self.on_start))
        self.app.add_handler(CommandHandler("ambil", self.on_ambil))  # the online queue (docs/booking.md)
        self.app.add_handler(MessageHandler(filters.TEXT, self.on_text))
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_error_handler(self.on_error)
        self.username: str | None = None
        self.bookings: BookingService | None = None  # set by setup_notifier when the hall has the online queue
        # Buttons another room answers, by their data's prefix (e.g. the survey's `skm:`).
        self.button_handlers: dict[str, Callable[[str, str, str], Awaitable[None]]] = {}

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
        """getMe, then the webhook (long polling is `poll`, run by one process of the hall)."""
        await self.app.initialize()
        self.username = self.app.bot.username
        await self.app.start()
        if self.mode == "webhook":
            await self.app.bot.set_webhook(f"{self.config.hall.public_url}/telegram/webhook",
                                           secret_token=self.secret, allowed_updates=["message", "callback_query"])
        log.info("Telegram bot @%s running (%s)", self.username, self.mode)

    async def poll(self) -> None:
        """Long polling until cancelled. Telegram allows one getUpdates per bot at a time, so with
        several server processes of a hall only one of them polls (kiosk/storage exclusive work)."""
        assert self.app.updater is not None
        await self.app.updater.start_polling(timeout=timedelta(seconds=10),
                                             allowed_updates=["message", "callback_query"])
        try:
            await asyncio.Event().wait()
        finally:
            if self.app.updater.running:
                await self.app.updater.stop()

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

    # --- handlers: everything is answered through the outbox -------------------------------
    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/start <token>` from the ticket's QR code or link: follow that ticket (`/start`: help)."""
        if update.effective_chat is None or update.message is None:
            return
        token = context.args[0] if context.args else ""
        await self.replies.handle("telegram", str(update.effective_chat.id), f"/start {token}".strip(),
                                  self._id(update))

    async def on_ambil(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/ambil [CODE]`: today's number from the chat, within the online share (answered through the outbox)."""
        if update.effective_chat is None or update.message is None or self.bookings is None:
            return
        chat = update.effective_chat.id
        text = await ambil(self.bookings, chat, list(context.args or []))
        await self.following.queue_message(channel="telegram", address=str(chat), stage="reply", text=text,
                                           key=f"ambil:{self._id(update)}")

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command (/status, /batal, /tunda, /bantuan) or a plain word (STATUS, BATAL A001, TUNDA)."""
        if update.effective_chat is None or update.message is None or update.message.text is None:
            return
        await self.replies.handle("telegram", str(update.effective_chat.id), update.message.text, self._id(update))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed button: acknowledged at once, answered through the outbox."""
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:  # the answer only stops the button's spinner
            log.info("answerCallbackQuery failed: %s", exc)
        handler = self.button_handlers.get((query.data or "").partition(":")[0])
        if handler is not None:
            await handler(str(update.effective_chat.id), query.data or "", f"cb:{query.id}")
            return
        await self.replies.handle_button("telegram", str(update.effective_chat.id), query.data or "",
                                         f"cb:{query.id}")

    @staticmethod
    def _id(update: Update) -> str:
        assert update.message is not None and update.effective_chat is not None
        return f"{update.effective_chat.id}:{update.message.message_id}"

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("Telegram handler error: %s", context.error)
