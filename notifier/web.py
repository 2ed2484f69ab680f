"""Wires the alert policy, the outbox's delivery loops, the Telegram bot, the SMS gateway and
WhatsApp into the app, with the citizen's phone route, staff's views of messages and channel
health, and the providers' webhooks (notifier/webhooks.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from kiosk.hall.config import ConfigError, HallConfig
from kiosk.queue.models import Ticket
from kiosk.settings import webhook_url_problem
from kiosk.support.aio import stop_tasks
from kiosk.support.ratelimit import RateLimiter
from kiosk.web.appkeys import BUS, CLOCK, FOLLOWING, NOTICES, QUEUE, SETTINGS
from kiosk.web.http import field, json_body, ok, staff
from notifier.inbound import GammuInbox, Incoming
from notifier.outbox import OutboxWorker
from notifier.policy import AlertPolicy
from notifier.replies import Replies
from notifier.senders import ChannelDown, LogSender, Outgoing, Retry, Sender
from notifier.sms import sms_sender
from notifier.webhooks import BOT, REPLIES, SECRETS, WebhookSecrets
from notifier.webhooks import routes as webhook_routes
from notifier.whatsapp import whatsapp_sender

if TYPE_CHECKING:
    from notifier.telegram_bot import TelegramBot

log = logging.getLogger(__name__)
OUTBOX = web.AppKey("outbox", OutboxWorker)
PHONE_LIMITS = web.AppKey("phone_limits", tuple)
routes = web.RouteTableDef()
BOT_RETRY_S = 30.0
# Adding a phone: a ticket may change its number a few times, a device may add a few numbers.
PHONES_PER_TICKET = (1.0, 3)  # per minute, burst
PHONES_PER_ADDRESS = (10.0, 10)


@routes.get("/api/tickets/{token}/messages")
async def messages(request: web.Request) -> web.Response:
    """Staff: what was sent to the citizen of this ticket, what is pending, what failed."""
    await staff(request)
    return ok(await request.app[FOLLOWING].messages(request.match_info["token"]))


@routes.post("/api/tickets/{token}/phone")
async def add_phone(request: web.Request) -> web.Response:
    """The citizen adds a phone number for SMS alerts (the ticket's token is the key); one phone
    per ticket (a new one replaces it), a few changes per ticket and device at most."""
    by_ticket, by_address = request.app[PHONE_LIMITS]
    token = request.match_info["token"]
    by_address.take(request.remote or "?", "Terlalu banyak nomor HP dari perangkat ini. Tunggu sebentar.")
    by_ticket.take(token, "Nomor HP tiket ini sudah beberapa kali diganti. Tunggu sebentar.")
    phone = field(await json_body(request), "phone", str, required=True, max_len=40)
    ticket = await request.app[FOLLOWING].add_phone(token, phone)
    return ok(await request.app[QUEUE].views.ticket_view(ticket))


@routes.get("/api/alerts/health")
async def alerts_health(request: web.Request) -> web.Response:
    """Staff: each channel's provider, state (ok, retrying, down), last error, pending and failed."""
    await staff(request)
    return ok(await request.app[OUTBOX].health())


class _BotSender(Sender):
    """Sends through the bot once it is up; until then messages wait in the outbox."""

    channel = "telegram"
    provider = "telegram"

    def __init__(self) -> None:
        self.inner: Sender | None = None

    async def _send(self, message: Outgoing) -> str | None:
        if self.inner is None:
            if self.down_reason:  # Telegram refused the token at start
                raise ChannelDown(self.down_reason)
            raise Retry("bot Telegram belum tersambung")
        return await self.inner._send(message)


def setup_notifier(app: web.Application) -> None:
    """Alerts: the policy runs in every queue transaction; the outbox delivers after the commit."""
    queue, following, settings = app[QUEUE], app[FOLLOWING], app[SETTINGS]
    config = queue.config
    if settings.telegram_token and settings.telegram_mode == "webhook":
        problem = webhook_url_problem(f"{config.hall.public_url}/telegram/webhook")
        if problem:
            raise ConfigError(f"[hall] public_url: {problem} (GILIRAN_TELEGRAM_MODE=webhook)")
    queue.writer.add_hook(AlertPolicy(queue))
    app[REPLIES] = replies = Replies(queue, following)
    app[SECRETS] = WebhookSecrets.from_env()
    app[PHONE_LIMITS] = (RateLimiter(*PHONES_PER_TICKET, app[CLOCK].now),
                         RateLimiter(*PHONES_PER_ADDRESS, app[CLOCK].now))
    app.add_routes(routes)
    app.add_routes(webhook_routes)
    queue.views.extensions.append(lambda ticket, view: _whatsapp_link(queue.config, ticket, view))
    app.setdefault(NOTICES, []).append(lambda: app[OUTBOX].problems() if OUTBOX in app else [])

    async def notifier_ctx(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession()
        telegram: Sender = LogSender("telegram")
        bot = None
        tasks: list[asyncio.Task[None]] = []
        if settings.telegram_token:
            from notifier.telegram_bot import TelegramBot  # only halls with a bot load python-telegram-bot

            bot = TelegramBot(queue, replies, settings.telegram_token, settings.telegram_api_url,
                              settings.telegram_mode, settings.telegram_secret)
            app[BOT] = bot
            from kiosk.web.booking import BOOKINGS
            bot.bookings = app.get(BOOKINGS)  # `/ambil` (docs/booking.md)
            telegram = starter = _BotSender()
            tasks.append(asyncio.create_task(_start_bot(bot, starter), name="telegram-start"))

            def deep_link(ticket: Ticket, view: dict[str, Any]) -> None:
                view["telegram_url"] = bot.deep_link(ticket)
            queue.views.extensions.append(deep_link)
        else:
            log.info("no GILIRAN_TELEGRAM_TOKEN: Telegram messages are logged, not sent")
        senders = {"telegram": telegram, "sms": sms_sender(config.sms, session),
                   "whatsapp": whatsapp_sender(config.whatsapp, session,
                                               lambda address: following.last_inbound_at("whatsapp", address),
                                               app[CLOCK])}
        app[OUTBOX] = worker = OutboxWorker(following, app[CLOCK], app[BUS], senders)
        await worker.start()
        if config.sms.gammu_inbox:
            async def handle(message: Incoming) -> None:
                await replies.handle("sms", message.address, message.text, message.external_id)
            inbox = GammuInbox(config.sms.gammu_inbox, handle)  # one process of the hall reads the folder
            tasks.append(asyncio.create_task(queue.writer.store.exclusive("gammu-inbox", inbox.run),
                                             name="gammu-inbox"))
        yield
        await worker.stop()
        await stop_tasks(tasks)
        if bot is not None:
            try:
                await bot.stop()
            except Exception:  # a bot that never started has nothing to stop
                log.debug("bot stop", exc_info=True)
        await session.close()

    app.cleanup_ctx.append(notifier_ctx)


def _whatsapp_link(config: HallConfig, ticket: Ticket, view: dict[str, Any]) -> None:
    """wa.me/<hall's number>?text=<the ticket's code>: the citizen's first message is the opt-in."""
    wa = config.whatsapp
    if wa.provider != "log" and wa.number:
        view["whatsapp_url"] = f"https://wa.me/{wa.number}?text={quote(f'Ikuti antrean {ticket.token}')}"


async def _start_bot(bot: TelegramBot, sender: _BotSender) -> None:
    """Start the bot; while Telegram cannot be reached, try again every 30 s (the hall keeps
    working). A token Telegram refuses is said loudly once, and shown to admins."""
    from telegram.error import EndPointNotFound, InvalidToken

    from notifier.telegram_bot import TOKEN_REFUSED

    while True:
        try:
            await bot.start()
            sender.inner, sender.down_reason = bot.sender, None
            if bot.mode != "webhook":
                await bot.queue.writer.store.exclusive("telegram-polling", bot.poll)
            return
        except asyncio.CancelledError:
            raise
        except (InvalidToken, EndPointNotFound) as exc:
            if sender.down_reason is None:
                log.error("TELEGRAM BOT CANNOT START: %s (%s). Telegram messages wait in the outbox; other "
                          "channels are not affected.", TOKEN_REFUSED, exc)
            sender.down_reason = TOKEN_REFUSED
        except Exception as exc:
            log.warning("Telegram bot could not start (%s); retrying in %.0f s", exc, BOT_RETRY_S)
        try:
            await bot.app.shutdown()
        except Exception:
            pass
        await asyncio.sleep(BOT_RETRY_S)
